"""The reporter's side: drafts, submitting a tip (and dispatching it), /mytips, withdrawing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from bot import replay
from bot.config import ReportingConfig, StationConfig
from bot.db.database import Database
from bot.db.drafts import DraftStore
from bot.db.messages import MediaStore
from bot.db.people import PeopleStore
from bot.db.tips import TipStore
from bot.domain import dedup
from bot.domain.draft import Draft, Source, Step, clip_description
from bot.domain.events import Attempt
from bot.domain.outbox import Keyboard, Lines, Msg, Text
from bot.domain.rewards import TOLD_AT_SUBMISSION, Ineligible
from bot.domain.roster import Roster
from bot.domain.tips import (
    Action,
    Actor,
    Flag,
    People,
    Role,
    Seen,
    Tip,
    changes_for,
    decide,
)
from bot.geo.area import ServiceArea, valid_coordinates
from bot.geo.geocoder import GeocodeLookup, Geocoder
from bot.i18n import keys
from bot.services.audit import Audit
from bot.services.awards import AwardService
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips

#: Sends one committed outbox row now (the receipt the reporter waits for); whatever does
#: not go out stays in the outbox for the sender.
DeliverNow = Callable[[int], Awaitable[None]]


async def _leave_it(item_id: int) -> None:
    """Without a sender (services driven alone): the receipt waits in the outbox."""


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


class ReportService:
    def __init__(
        self,
        db: Database,
        drafts: DraftStore,
        store: TipStore,
        tips: Tips,
        media: MediaStore,
        people: PeopleStore,
        notifier: Notifier,
        awards: AwardService,
        audit: Audit,
        reach: Reach,
        roster: Roster,
        clock: StationClock,
        geocoder: Geocoder,
        area: ServiceArea,
        station: StationConfig,
        reporting: ReportingConfig,
        reward_amount: int,
        deliver_now: DeliverNow = _leave_it,
    ) -> None:
        self.db = db
        self.drafts = drafts
        self.store = store
        self.tips = tips
        self.media = media
        self.people = people
        self.notifier = notifier
        self.awards = awards
        self.audit = audit
        self.reach = reach
        self.roster = roster
        self.clock = clock
        self.geocoder = geocoder
        self.area = area
        self.station = station
        self.reporting = reporting
        self.reward_amount = reward_amount
        self.deliver_now = deliver_now

    # -- drafts -----------------------------------------------------------------------------
    async def draft(self, user_id: int) -> Draft | None:
        return await self.drafts.get(user_id)

    async def save(self, draft: Draft) -> Draft:
        async with self.db.write() as tx:
            await self.drafts.save(tx, draft, self.clock.now())
        return draft

    async def start(self, user_id: int, source: Source = Source.REPORTER) -> Draft:
        return await self.save(Draft(user_id=user_id, source=source))

    async def cancel(self, user_id: int) -> bool:
        existed = await self.draft(user_id) is not None
        async with self.db.write() as tx:
            await self.drafts.delete(tx, user_id)
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
        if replay.applied("flag") is not None:
            return draft
        toggled = draft.toggle_flag(flag)
        async with self.db.write() as tx:
            await self.drafts.save(tx, toggled, self.clock.now())
            await replay.record(tx, "flag")
        return toggled

    async def flags_done(self, draft: Draft) -> Draft:
        return await self.save(replace(draft, step=Draft.after(Step.FLAGS)))

    async def set_description(self, draft: Draft, text: str | None) -> tuple[Draft, bool]:
        cut = False
        if text is not None:
            text, cut = clip_description(text, self.reporting.description_max_chars)
        draft = replace(draft, description=text or None, step=Draft.after(Step.DESCRIPTION))
        return await self.save(draft), cut

    async def set_photo(self, draft: Draft, file_id: str | None, unique_id: str | None) -> Draft:
        return await self.save(
            replace(draft, photo_file_id=file_id, photo_unique_id=unique_id, step=Step.REVIEW)
        )

    # -- submitting -------------------------------------------------------------------------
    async def submit(self, user_id: int) -> Result[Submitted]:
        """Commit the tip and dispatch it to the on-duty group in one transaction.

        Only after this returns is the reporter told the tip was received; the card is in the
        outbox by then, so a crash or a Telegram fault cannot lose it. Applied once: the draft
        is deleted in the same transaction; a replay after a crash finds the tip this update
        committed (the ``submit`` effect) and returns it again with no receipt to send: the
        receipt was written to the outbox with the tip, which delivers it (once).
        """
        committed = replay.applied("submit")
        if committed:
            tip = await self.store.get(int(committed))
            if tip is not None:
                return done(Submitted(tip, [], None))
        draft = await self.draft(user_id)
        if draft is None:
            return refused(Refusal.NO_DRAFT)
        if not draft.ready():
            return refused(Refusal.INCOMPLETE)
        now = self.clock.now()
        directory = self.reach.directory
        reporter_id = user_id if draft.source is Source.REPORTER else None
        if reporter_id is not None and not directory.is_staff(user_id):
            recent = await self.store.count_of_reporter_since(user_id, now - dt.timedelta(hours=1))
            if recent >= self.reporting.max_open_tips_per_hour:
                return refused(Refusal.TOO_MANY)
        assert draft.lat is not None and draft.lon is not None
        radius = self.reporting.duplicate_radius_m
        box = dedup.bounding_box(draft.lat, draft.lon, radius)
        window_start = now - dt.timedelta(hours=self.reporting.duplicate_window_hours)
        team = directory.team(self.roster.on_duty(self.clock.local(now)))
        district = self.geocoder.district(draft.lat, draft.lon, self.station.language)
        # Can this tip ever earn the reward? Only then is it given a claim secret and told.
        prospect = await self.awards.prospect(reporter_id, now)
        actor = Actor(user_id, frozenset({Role.REPORTER if reporter_id else Role.OFFICER}))
        async with self.db.write() as tx:
            candidates = await self.store.open_in_box(box, window_start)
            duplicates = dedup.nearby(draft.lat, draft.lon, candidates, radius)
            if reporter_id is not None:
                await self.people.ensure(tx, reporter_id, now)
            tip_id = await self.tips.create(
                tx,
                draft,
                code_prefix=self.station.code_prefix,
                reporter_id=reporter_id,
                logged_by=user_id if draft.source is Source.HOTLINE else None,
                actor=actor,
                district=district,
                group_key=team.key,
                chat_id=team.chat_id,
                duplicates=duplicates,
                now=now,
            )
            if draft.photo_file_id:
                await self.media.add(
                    tx,
                    tip_id=tip_id,
                    kind="report_photo",
                    file_id=draft.photo_file_id,
                    file_unique_id=draft.photo_unique_id,
                    added_by=None,
                    now=now,
                )
            await self.drafts.delete(tx, user_id)
            secret = await self.awards.issue_secret(tx, tip_id) if prospect is None else None
            tip = await self.store.get(tip_id)  # inside the transaction: the row as written
            assert tip is not None
            # The receipt is an outbox notice written with the tip: a crash between this
            # commit and the reply cannot lose the code nor the claim secret.
            receipt = await self.notifier.tell(
                tx,
                draft.user_id,
                self._receipt(draft, tip, team.name, prospect, secret),
                tip_id=tip_id,
                keyboard=Keyboard.REMOVE,  # no 📍 keyboard outlives the report
                secret=secret,
                now=now,
            )
            await replay.record(tx, "submit", tip_id)
        return done(Submitted(tip, duplicates, secret, receipt))

    async def send_receipt(self, submitted: Submitted) -> None:
        """Deliver the committed receipt now (the reporter is waiting for it); if that fails
        it stays in the outbox, which keeps trying."""
        if submitted.receipt_id is not None:
            await self.deliver_now(submitted.receipt_id)

    def _receipt(
        self,
        draft: Draft,
        tip: Tip,
        group: str,
        prospect: Ineligible | None,
        secret: str | None,
    ) -> Text:
        """ "Received, code HS-0042" (+ the claim secret, or why this tip earns nothing)."""
        if draft.source is Source.HOTLINE:
            return Msg("submit.logged", {"code": tip.code, "group": group})
        key = "submit.received_urgent" if tip.urgent else "submit.received"
        received = Msg(key, {"code": tip.code})
        if secret is not None:
            more = Msg("submit.secret", {"amount": self.reward_amount})
        elif prospect in TOLD_AT_SUBMISSION:
            more = Msg(keys.NO_REWARD_AT_SUBMISSION[prospect])
        else:
            return received
        return Lines((received, more), gap=True)

    # -- after submitting -------------------------------------------------------------------
    async def my_tips(self, user_id: int, limit: int = 10) -> list[Tip]:
        return await self.store.of_reporter(user_id, limit)

    async def withdraw(self, user_id: int, tip_id: int) -> Result[Tip]:
        """Compare-and-set: applied once. A replay after a crash answers as the first time."""
        tip = await self.store.get(tip_id)
        if tip is None or await self.store.reporter_of(tip_id) != user_id:
            await self.audit.refused(
                user_id, Attempt.WITHDRAW, tip_id=tip.id if tip is not None else None
            )
            return refused(Refusal.NOT_YOURS)
        if replay.applied("withdraw") is not None:
            return done(tip)
        actor = Actor(user_id, frozenset({Role.REPORTER}))
        decision = decide(Action.WITHDRAW, tip.state, actor)
        if not decision:
            return refused(Refusal.TOO_LATE, tip)
        assert decision.target is not None
        now = self.clock.now()
        changes = changes_for(Action.WITHDRAW, tip, user_id, now)
        async with self.db.write() as tx:
            after = await self.tips.transition(
                tx, tip, actor, Action.WITHDRAW, decision.target, changes, now
            )
            if after is None:
                return refused(Refusal.TOO_LATE, tip)
            await replay.record(tx, "withdraw", tip_id)
        return done(after)


PLACE_MAX = 200  # characters of a venue title / address kept (a typed address: the same)


def _bounded(text: str | None) -> str | None:
    return " ".join(text.split())[:PLACE_MAX] or None if text else None
