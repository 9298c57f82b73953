"""The reporter's side: drafts, submitting a tip (and dispatching it), /mytips, withdrawing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.db import journal
from bot.db.repo import Tx
from bot.domain import dedup
from bot.domain.draft import (
    Address,
    Draft,
    Event,
    ImageFile,
    Limits,
    Pin,
    Refusal,
    Source,
    Step,
    Submit,
    ToggleFlag,
    Typed,
    Where,
    open_report,
    read,
    was_cut,
)
from bot.domain.rewards import TOLD_AT_SUBMISSION, Ineligible
from bot.domain.tips import (
    SYSTEM,
    Action,
    Actor,
    Role,
    State,
    Tip,
    decide,
    is_urgent,
)
from bot.geo.area import ServiceArea, valid_coordinates
from bot.geo.geocoder import Geocoder
from bot.services import notify
from bot.services.base import Deps
from bot.services.rewards import RewardService


@dataclass(frozen=True)
class Taken:
    """What one event did to a report in progress."""

    before: Draft | None  # the draft it met (None: no report was in progress)
    draft: Draft | None  # the draft now (as before, when refused)
    event: Event  # as the step read it (typed text: an address or words)
    refusal: Refusal | None = None
    cut: bool = False  # typed words were cut to the length limit
    fell_back: bool = False  # an address: looked up in the offline gazetteer
    replayed: bool = False  # handled again after a crash

    @property
    def pending(self) -> Address | ImageFile | None:
        """Taken, with the I/O it needs still to do (the lookup, the clean copy)."""
        if self.refusal is not None:
            return None
        if isinstance(self.event, Address) and self.event.found is None:
            return self.event
        return self.event if isinstance(self.event, ImageFile) else None


@dataclass(frozen=True)
class Submitted:
    tip: Tip
    duplicates: list[tuple[int, float]]  # (tip id, metres) of open tips nearby
    secret: str | None  # the claim secret (None: this tip cannot earn); sent by the outbox
    receipt_id: int | None = None  # the receipt's outbox row


class SubmitRefusal(StrEnum):
    NO_DRAFT = "no_draft"
    STALE = "stale"  # the review's button, pressed while the report is at another step
    INCOMPLETE = "incomplete"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class SubmitResult:
    submitted: Submitted | None = None
    refusal: SubmitRefusal | None = None
    draft: Draft | None = None  # STALE: the report in progress
    replayed: bool = False  # handled again after a crash


class WithdrawResult(StrEnum):
    OK = "ok"
    NOT_YOURS = "not_yours"
    TOO_LATE = "too_late"


class ReportService:
    def __init__(
        self, deps: Deps, geocoder: Geocoder, area: ServiceArea, rewards: RewardService
    ) -> None:
        self.d = deps
        self.rewards = rewards
        self.geocoder = geocoder
        self.area = area

    # -- drafts: load → apply → save (bot/domain/draft.py has the rules) -------------------
    async def draft(self, user_id: int) -> Draft | None:
        return await self.d.repo.get_draft(user_id)

    async def save(self, draft: Draft) -> Draft:
        async with self.d.db.write() as tx:
            await self.d.repo.save_draft(tx, draft, self.d.now())
        return draft

    async def start(self, user_id: int, source: Source = Source.REPORTER) -> Draft:
        return await self.save(Draft(user_id=user_id, source=source))

    async def cancel(self, user_id: int) -> bool:
        existed = await self.draft(user_id) is not None
        async with self.d.db.write() as tx:
            await self.d.repo.delete_draft(tx, user_id)
        return existed

    @property
    def limits(self) -> Limits:
        return Limits(description_max=self.d.config.reporting.description_max_chars)

    def where(self, lat: float, lon: float) -> Where:
        if not valid_coordinates(lat, lon):
            return Where.INVALID
        return Where.INSIDE if self.area.contains(lat, lon) else Where.OUTSIDE

    async def take(self, user_id: int, event: Event | Typed) -> Taken:
        """One message or press for the user's report: load the draft (or start one, if the
        event may start a report), apply the event, save what changed.

        Taken but not applied yet: an address (look it up with :meth:`look_up`) and an image
        file (apply its clean copy's :class:`Photo`) — see :attr:`Taken.pending`.
        """
        replayed = journal.replaying()
        draft = await self.draft(user_id)
        if draft is None:
            opened = open_report(user_id, event, staff=self.d.directory.is_staff(user_id))
            if isinstance(opened, Refusal):
                return Taken(None, None, read(Step.LOCATION, event), opened, replayed=replayed)
            draft = await self.save(opened)
        event = draft.read(event)
        if isinstance(event, Pin):
            event = replace(event, where=self.where(event.lat, event.lon))
        if isinstance(event, ToggleFlag) and draft.admit(event) is None:
            return await self._toggle(draft, event, replayed)
        after = draft.apply(event, self.limits)
        if isinstance(after, Refusal):
            return Taken(draft, draft, event, after, replayed=replayed)
        if after is not draft:
            await self.save(after)
        return Taken(draft, after, event, cut=was_cut(event, self.limits), replayed=replayed)

    async def look_up(self, user_id: int, address: Address, language: str) -> Taken:
        """Geocode a typed address the step took; the places found inside the area are the
        reporter's to choose from."""
        lookup = await self.geocoder.geocode(address.text, language)
        inside = tuple(
            (r.lat, r.lon, r.label) for r in lookup.results if self.area.contains(r.lat, r.lon)
        )
        taken = await self.take(user_id, replace(address, found=inside))
        return replace(taken, fell_back=lookup.fell_back)

    async def _toggle(self, draft: Draft, event: ToggleFlag, replayed: bool) -> Taken:
        """Not idempotent: a replay of a toggle that was saved must not undo it (and is told
        apart, so that the urgent advice is not lost to the crash)."""
        if journal.applied("flag") is not None:
            return Taken(draft.toggle_flag(event.flag), draft, event, replayed=replayed)
        toggled = draft.apply(event)
        assert isinstance(toggled, Draft)
        async with self.d.db.write() as tx:
            await self.d.repo.save_draft(tx, toggled, self.d.now())
            await journal.record(tx, "flag")
        return Taken(draft, toggled, event, replayed=replayed)

    # -- submitting -------------------------------------------------------------------------
    async def submit_review(self, user_id: int) -> SubmitResult:
        """The review's "submit" button: the report goes in if the reporter is at its review
        (a replay after the tip was committed answers as the first time did)."""
        if journal.applied("submit") is None:
            taken = await self.take(user_id, Submit())
            if taken.refusal is Refusal.STALE:
                return SubmitResult(
                    refusal=SubmitRefusal.STALE, draft=taken.draft, replayed=taken.replayed
                )
        return await self.submit(user_id)

    async def submit(self, user_id: int) -> SubmitResult:
        """Commit the tip and dispatch it to the on-duty group in one transaction.

        Only after this returns is the reporter told the tip was received; the card is in the
        outbox by then, so a crash or a Telegram fault cannot lose it. Applied once: the draft
        is deleted in the same transaction; a replay after a crash finds the tip this update
        committed (the ``submit`` effect) and returns it again with no receipt to send: the
        receipt was written to the outbox with the tip, which delivers it (once).
        """
        committed = journal.applied("submit")
        if committed:
            tip = await self.d.repo.get_tip(int(committed))
            if tip is not None:
                return SubmitResult(submitted=Submitted(tip, [], None))
        draft = await self.draft(user_id)
        if draft is None:
            return SubmitResult(refusal=SubmitRefusal.NO_DRAFT)
        if not draft.ready():
            return SubmitResult(refusal=SubmitRefusal.INCOMPLETE)
        now = self.d.now()
        reporting = self.d.config.reporting
        reporter_id = user_id if draft.source is Source.REPORTER else None
        if reporter_id is not None and not self.d.directory.is_staff(user_id):
            recent = await self.d.repo.count_reporter_tips_since(
                user_id, now - dt.timedelta(hours=1)
            )
            if recent >= reporting.max_open_tips_per_hour:
                return SubmitResult(refusal=SubmitRefusal.TOO_MANY)
        assert draft.lat is not None and draft.lon is not None
        radius = reporting.duplicate_radius_m
        box = dedup.bounding_box(draft.lat, draft.lon, radius)
        window_start = now - dt.timedelta(hours=reporting.duplicate_window_hours)
        group_key = self.d.on_duty(now)
        team = self.d.directory.team(group_key)
        district = self.geocoder.district(draft.lat, draft.lon, self.d.config.station.language)
        urgent = is_urgent(draft.flags)
        # Can this tip ever earn the reward? Only then is it given a claim secret and told.
        prospect = await self.rewards.prospect(reporter_id, now)
        async with self.d.db.write() as tx:
            candidates = await self.d.repo.open_tips_in_box(box, window_start)
            duplicates = dedup.nearby(draft.lat, draft.lon, candidates, radius)
            if reporter_id is not None:
                await self.d.repo.ensure_user(tx, reporter_id, now)
            tip_id = await self.d.repo.insert_tip(
                tx,
                code_prefix=self.d.config.station.code_prefix,
                draft=draft,
                reporter_id=reporter_id,
                logged_by=user_id if draft.source is Source.HOTLINE else None,
                district=district,
                description=draft.description,
                urgent=urgent,
                group_key=group_key,
                state=State.DISPATCHED,
                now=now,
            )
            await self.d.repo.update_tip(
                tx,
                tip_id,
                expect_state=State.DISPATCHED,
                expect_version=0,
                changes={"dispatched_at": now},
            )
            role = Role.REPORTER.value if reporter_id else Role.OFFICER.value
            await self.d.repo.add_event(
                tx,
                tip_id=tip_id,
                actor_id=user_id,
                actor_role=role,
                action="submit",
                from_state=None,
                to_state=State.NEW.value,
                now=now,
                detail={"source": draft.source.value, "urgent": urgent},
            )
            assert decide(Action.DISPATCH, State.NEW, SYSTEM)
            await self.d.repo.add_event(
                tx,
                tip_id=tip_id,
                actor_id=None,
                actor_role=Role.SYSTEM.value,
                action=Action.DISPATCH.value,
                from_state=State.NEW.value,
                to_state=State.DISPATCHED.value,
                now=now,
                detail={
                    "group": group_key,
                    "duplicates": [[other, round(metres)] for other, metres in duplicates],
                },
            )
            if draft.photo_file_id:
                await self.d.repo.add_media(
                    tx,
                    tip_id=tip_id,
                    kind="report_photo",
                    file_id=draft.photo_file_id,
                    file_unique_id=draft.photo_unique_id,
                    added_by=None,
                    now=now,
                )
            await notify.post_card(self.d, tx, team.chat_id, tip_id, now=now)
            await self.d.repo.delete_draft(tx, user_id)
            secret = await self.rewards.issue_secret(tx, tip_id) if prospect is None else None
            # The receipt is an outbox notice written with the tip: a crash between this
            # commit and the reply cannot lose the code nor the claim secret.
            receipt = await self._receipt(
                tx, draft, tip_id, team.name, urgent, prospect, secret, now
            )
            await journal.record(tx, "submit", tip_id)
        self.d.wake()
        tip = await self.d.repo.get_tip(tip_id)
        assert tip is not None
        return SubmitResult(submitted=Submitted(tip, duplicates, secret, receipt))

    async def send_receipt(self, submitted: Submitted) -> None:
        """Deliver the committed receipt now (the reporter is waiting for it); if that fails
        it stays in the outbox, which keeps trying."""
        if submitted.receipt_id is not None:
            await self.d.deliver_now(submitted.receipt_id)

    async def _receipt(
        self,
        tx: Tx,
        draft: Draft,
        tip_id: int,
        group: str,
        urgent: bool,
        prospect: Ineligible | None,
        secret: str | None,
        now: dt.datetime,
    ) -> int | None:
        """"Received, code HS-0042" (+ the claim secret, or why this tip earns nothing); the
        outbox row's id."""
        code = (await self.d.repo.codes([tip_id]))[tip_id]
        more: list[tuple[str, dict[str, Any]]] = []
        if draft.source is Source.HOTLINE:
            key, params = "submit.logged", {"code": code, "group": group}
        else:
            key = "submit.received_urgent" if urgent else "submit.received"
            params = {"code": code}
            if secret is not None:
                more.append(("submit.secret", {"amount": self.d.config.reward.amount}))
            elif prospect in TOLD_AT_SUBMISSION:
                more.append((f"submit.no_reward.{prospect}", {}))
        return await notify.tell(
            self.d,
            tx,
            draft.user_id,
            key,
            params,
            tip_id=tip_id,
            keyboard="remove",  # no 📍 keyboard outlives the report
            more=more,
            secret=secret,
            now=now,
        )

    # -- after submitting -------------------------------------------------------------------
    async def my_tips(self, user_id: int, limit: int = 10) -> list[Tip]:
        return await self.d.repo.tips_of_reporter(user_id, limit)

    async def withdraw(self, user_id: int, tip_id: int) -> WithdrawResult:
        """Compare-and-set: applied once. A replay after a crash answers as the first time."""
        tip = await self.d.repo.get_tip(tip_id)
        if tip is None or await self.d.repo.reporter_of(tip_id) != user_id:
            return WithdrawResult.NOT_YOURS
        if journal.applied("withdraw") is not None:
            return WithdrawResult.OK
        actor = Actor(user_id, frozenset({Role.REPORTER}))
        decision = decide(Action.WITHDRAW, tip.state, actor)
        if not decision:
            return WithdrawResult.TOO_LATE
        now = self.d.now()
        async with self.d.db.write() as tx:
            changed = await self.d.repo.update_tip(
                tx,
                tip_id,
                expect_state=tip.state,
                expect_version=tip.version,
                changes={"state": decision.target, "closed_at": now, "updated_at": now},
            )
            if not changed:
                return WithdrawResult.TOO_LATE
            await self.d.repo.add_event(
                tx,
                tip_id=tip_id,
                actor_id=user_id,
                actor_role=Role.REPORTER.value,
                action=Action.WITHDRAW.value,
                from_state=tip.state.value,
                to_state=decision.target.value if decision.target else None,
                now=now,
            )
            await notify.refresh_card(self.d, tx, tip_id, now=now)
            await journal.record(tx, "withdraw", tip_id)
        self.d.wake()
        return WithdrawResult.OK
