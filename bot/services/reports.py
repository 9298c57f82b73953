"""The reporter's side: drafts, submitting a tip (and dispatching it), /mytips, withdrawing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.db import journal
from bot.db.repo import Tx
from bot.domain import dedup
from bot.domain.draft import Draft, Source, Step, clip_description
from bot.domain.rewards import TOLD_AT_SUBMISSION, Ineligible
from bot.domain.tips import (
    SYSTEM,
    Action,
    Actor,
    Flag,
    People,
    Role,
    Seen,
    State,
    Tip,
    decide,
    is_urgent,
)
from bot.geo.area import ServiceArea, valid_coordinates
from bot.geo.geocoder import GeocodeLookup, Geocoder
from bot.services import notify
from bot.services.base import Deps
from bot.services.rewards import RewardService


class LocationVerdict(StrEnum):
    OK = "ok"
    OUTSIDE = "outside"  # outside the service area: nothing stored
    INVALID = "invalid"  # not a real coordinate


@dataclass(frozen=True)
class Submitted:
    tip: Tip
    duplicates: list[tuple[int, float]]  # (tip id, metres) of open tips nearby
    secret: str | None  # the claim secret (None: this tip cannot earn); sent by the outbox
    receipt_id: int | None = None  # the receipt's outbox row


class SubmitRefusal(StrEnum):
    NO_DRAFT = "no_draft"
    INCOMPLETE = "incomplete"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class SubmitResult:
    submitted: Submitted | None = None
    refusal: SubmitRefusal | None = None


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

    # -- drafts -----------------------------------------------------------------------------
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

    def check_location(self, lat: float, lon: float) -> LocationVerdict:
        if not valid_coordinates(lat, lon):
            return LocationVerdict.INVALID
        if not self.area.contains(lat, lon):
            return LocationVerdict.OUTSIDE
        return LocationVerdict.OK

    async def set_location(
        self, draft: Draft, lat: float, lon: float, label: str | None, address: str | None
    ) -> tuple[LocationVerdict, Draft]:
        """Put a pin on the draft; a pin outside the area is not stored at all."""
        verdict = self.check_location(lat, lon)
        if verdict is not LocationVerdict.OK:
            return verdict, draft
        # A venue's title and address come as the sender's client made them: bound them like a
        # typed address, or the card could exceed Telegram's limit and never reach the patrol.
        label, address = _bounded(label), _bounded(address)
        return verdict, await self.save(draft.with_location(lat, lon, label, address))

    async def lookup_address(
        self, draft: Draft, text: str, language: str
    ) -> tuple[GeocodeLookup, Draft]:
        """Geocode a typed address; keep the candidates inside the area for the reporter to pick."""
        lookup = await self.geocoder.geocode(text, language)
        inside = [r for r in lookup.results if self.area.contains(r.lat, r.lon)]
        lookup = GeocodeLookup(results=inside, fell_back=lookup.fell_back)
        if inside:
            draft = replace(
                draft,
                step=Step.CONFIRM_PLACE,
                address=text.strip()[:200],
                candidates=tuple((r.lat, r.lon, r.label) for r in inside[:3]),
            )
            await self.save(draft)
        return lookup, draft

    async def choose_candidate(self, draft: Draft, index: int) -> Draft | None:
        if draft.step is not Step.CONFIRM_PLACE or not 0 <= index < len(draft.candidates):
            return None
        lat, lon, label = draft.candidates[index]
        return await self.save(draft.with_location(lat, lon, label, draft.address))

    async def reject_candidates(self, draft: Draft) -> Draft:
        return await self.save(replace(draft, step=Step.LOCATION, candidates=()))

    async def set_seen(self, draft: Draft, seen: Seen) -> Draft:
        return await self.save(replace(draft, seen=seen, step=Draft.after(Step.SEEN)))

    async def set_people(self, draft: Draft, people: People) -> Draft:
        return await self.save(replace(draft, people=people, step=Draft.after(Step.PEOPLE)))

    async def toggle_flag(self, draft: Draft, flag: Flag) -> Draft:
        """Not idempotent: a replay of a toggle that was saved must not undo it."""
        if journal.applied("flag") is not None:
            return draft
        toggled = draft.toggle_flag(flag)
        async with self.d.db.write() as tx:
            await self.d.repo.save_draft(tx, toggled, self.d.now())
            await journal.record(tx, "flag")
        return toggled

    async def flags_done(self, draft: Draft) -> Draft:
        return await self.save(replace(draft, step=Draft.after(Step.FLAGS)))

    async def set_description(self, draft: Draft, text: str | None) -> tuple[Draft, bool]:
        cut = False
        if text is not None:
            text, cut = clip_description(text, self.d.config.reporting.description_max_chars)
        draft = replace(draft, description=text or None, step=Draft.after(Step.DESCRIPTION))
        return await self.save(draft), cut

    async def set_photo(self, draft: Draft, file_id: str | None, unique_id: str | None) -> Draft:
        return await self.save(
            replace(draft, photo_file_id=file_id, photo_unique_id=unique_id, step=Step.REVIEW)
        )

    # -- submitting -------------------------------------------------------------------------
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


PLACE_MAX = 200  # characters of a venue title / address kept (a typed address: the same)


def _bounded(text: str | None) -> str | None:
    return " ".join(text.split())[:PLACE_MAX] or None if text else None
