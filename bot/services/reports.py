"""The reporter's side: drafts, submitting a tip (and dispatching it), /mytips, withdrawing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot import replay
from bot.config import ReportingConfig, StationConfig
from bot.db.database import Database
from bot.db.drafts import DraftStore
from bot.db.messages import MediaStore
from bot.db.people import PeopleStore
from bot.db.tips import TipStore
from bot.domain import dedup
from bot.domain.draft import (
    Address,
    AmendDone,
    Candidate,
    Draft,
    Event,
    ImageFile,
    Limits,
    Pin,
    SendNow,
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
from bot.domain.draft import Refusal as DraftRefusal
from bot.domain.events import Attempt
from bot.domain.outbox import Keyboard, Lines, Msg, Text
from bot.domain.rewards import TOLD_AT_SUBMISSION, Ineligible
from bot.domain.roster import Roster
from bot.domain.tips import (
    Action,
    Actor,
    Role,
    Tip,
    changes_for,
    decide,
)
from bot.geo.area import ServiceArea, valid_coordinates
from bot.geo.geocoder import Geocoder
from bot.i18n import keys
from bot.services.amend import Additions, Amended, Amender, AmendService
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


@dataclass(frozen=True)
class Taken:
    """What one event did to a report in progress."""

    before: Draft | None  # the draft it met (None: no report was in progress)
    draft: Draft | None  # the draft now (as before, when refused)
    event: Event  # as the step read it (typed text: an address or words)
    refusal: DraftRefusal | None = None
    cut: bool = False  # typed words were cut to the length limit
    fell_back: bool = False  # an address: looked up in the offline gazetteer
    replayed: bool = False  # handled again after a crash
    #: AMEND: what adding to the submitted tip did (None: nothing was added yet)
    amended: Result[Amended] | None = None

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
    prospect: Ineligible | None = None  # why this tip cannot earn the reward (None: it can)


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
        amender: AmendService | None = None,
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
        self.amender = amender

    # -- drafts: load → apply → save (bot/domain/draft.py has the rules) -------------------
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

    async def keyboard_not_removed(self, user_id: int) -> None:
        """Sending the 📍 keyboard's removal failed: the report's receipt will carry it."""
        draft = await self.draft(user_id)
        if draft is not None and not draft.keyboard_left:
            await self.save(replace(draft, keyboard_left=True))

    @property
    def limits(self) -> Limits:
        return Limits(description_max=self.reporting.description_max_chars)

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
        replayed = replay.replaying()
        draft = await self.draft(user_id)
        if draft is None:
            opened = open_report(user_id, event, staff=self.reach.directory.is_staff(user_id))
            if isinstance(opened, DraftRefusal):
                return Taken(None, None, read(Step.LOCATION, event), opened, replayed=replayed)
            draft = await self.save(opened)
        event = draft.read(event)
        if isinstance(event, Pin):
            event = replace(event, where=self.where(event.lat, event.lon))
        amending = draft.step is Step.AMEND
        if isinstance(event, ToggleFlag) and not amending and draft.admit(event) is None:
            return await self._toggle(draft, event, replayed)
        after = draft.apply(event, self.limits)
        if isinstance(after, DraftRefusal):
            return Taken(draft, draft, event, after, replayed=replayed)
        if amending and after.step is Step.AMEND:
            return await self._amend(draft, after, event, replayed)
        if after is not draft:
            await self.save(after)
        return Taken(draft, after, event, cut=was_cut(event, self.limits), replayed=replayed)

    async def _amend(self, draft: Draft, after: Draft, event: Event, replayed: bool) -> Taken:
        """AMEND: the addition the draft took goes to the tip (bot/services/amend.py); "done"
        ends the additions. A tip closed to additions ends them too (the reporter is told)."""
        if isinstance(event, AmendDone):
            async with self.db.write() as tx:
                await self.drafts.delete(tx, draft.user_id)
            return Taken(draft, None, event, replayed=replayed)
        if not after.pending_addition() or draft.amend_of is None or self.amender is None:
            return Taken(draft, draft, event, replayed=replayed)  # an image file: its copy next
        additions = Additions(
            words=after.description,
            photo_file_id=after.photo_file_id,
            photo_unique_id=after.photo_unique_id,
            flags=after.flags,
        )
        result = await self.amender.amend(draft.amend_of, Amender(draft.user_id), additions)
        now: Draft | None = draft
        if result.refusal in (Refusal.TOO_LATE, Refusal.CLOSED, Refusal.NOT_YOURS, Refusal.NO_TIP):
            async with self.db.write() as tx:
                await self.drafts.delete(tx, draft.user_id)
            now = None
        cut = was_cut(event, self.limits)
        return Taken(draft, now, event, cut=cut, replayed=replayed, amended=result)

    async def begin_amend(self, user_id: int, tip_id: int) -> Result[Tip]:
        """The offer's "add to this tip" button: the reporter's next words, photo or flag go to
        the tip. Refused as :meth:`AmendService.check`, or ALREADY: a report is in progress
        (it is not thrown away; the handler asks its question again)."""
        if self.amender is None:
            return refused(Refusal.TOO_LATE)
        checked = await self.amender.check(tip_id, Amender(user_id))
        if not checked.ok:
            return checked
        current = await self.draft(user_id)
        if current is not None and current.step is not Step.AMEND:
            return refused(Refusal.ALREADY, checked.value)
        await self.save(Draft(user_id=user_id).amending(tip_id))
        return checked

    async def look_up(self, user_id: int, address: Address, language: str) -> Taken:
        """Geocode a typed address the step took; the places found inside the area are the
        reporter's to choose from."""
        inside, fell_back = await self.places(address.text, language)
        taken = await self.take(user_id, replace(address, found=inside))
        return replace(taken, fell_back=fell_back)

    async def places(self, text: str, language: str) -> tuple[tuple[Candidate, ...], bool]:
        """The geocoder's places for ``text`` inside the area, best first; and whether the
        offline gazetteer answered (the web form looks addresses up here too)."""
        lookup = await self.geocoder.geocode(text, language)
        inside = tuple(
            (r.lat, r.lon, r.label) for r in lookup.results if self.area.contains(r.lat, r.lon)
        )
        return inside, lookup.fell_back

    async def _toggle(self, draft: Draft, event: ToggleFlag, replayed: bool) -> Taken:
        """Not idempotent: a replay of a toggle that was saved must not undo it (and is told
        apart, so that the urgent advice is not lost to the crash)."""
        if replay.applied("flag") is not None:
            return Taken(draft.toggle_flag(event.flag), draft, event, replayed=replayed)
        toggled = draft.apply(event)
        assert isinstance(toggled, Draft)
        async with self.db.write() as tx:
            await self.drafts.save(tx, toggled, self.clock.now())
            await replay.record(tx, "flag")
        return Taken(draft, toggled, event, replayed=replayed)

    # -- submitting -------------------------------------------------------------------------
    async def submit_review(self, user_id: int) -> Result[Submitted]:
        """The review's "submit" button: the report goes in if the reporter is at its review
        (a replay after the tip was committed answers as the first time did). STALE: the
        report is at another step (the handler shows that step again)."""
        if replay.applied("submit") is None:
            taken = await self.take(user_id, Submit())
            if taken.refusal is DraftRefusal.STALE:
                return refused(Refusal.STALE)
        return await self.submit(user_id)

    async def submit_now(self, user_id: int) -> Result[Submitted]:
        """ "Send now" on the message after the place: just now, one person (unless already
        answered), the flags as they are — submitted at once. STALE: not at that message."""
        if replay.applied("submit") is None:
            taken = await self.take(user_id, SendNow())
            if taken.refusal is not None or taken.draft is None:
                return refused(Refusal.STALE)
        return await self.submit(user_id)

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
        reporter_id = user_id if draft.source in (Source.REPORTER, Source.WEB) else None
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
            # A web reporter always gets one: it also opens their status page (issue 15).
            issue = prospect is None or draft.source is Source.WEB
            secret = await self.awards.issue_secret(tx, tip_id) if issue else None
            tip = await self.store.get(tip_id)  # inside the transaction: the row as written
            assert tip is not None
            # The receipt is an outbox notice written with the tip: a crash between this
            # commit and the reply cannot lose the code nor the claim secret. In a chat it
            # carries the offer to add (its words and button): the 📍 keyboard went when the
            # place was settled or shown back, so the receipt has no removal to carry —
            # unless that removal may not have reached the chat (``keyboard_left``): then
            # the receipt takes it and the offer follows as its own message.
            minutes = self.reporting.amend_minutes
            can_add = reporter_id is not None and self.amender is not None and minutes > 0
            offer = Msg("amend.offer", {"minutes": minutes}) if can_add else None
            carried = offer is not None and draft.source is Source.REPORTER
            carried = carried and not draft.keyboard_left
            text = self._receipt(draft, tip, team.name, prospect, secret)
            receipt = await self.notifier.tell(
                tx,
                draft.user_id,
                Lines((text, offer), gap=True) if carried and offer else text,
                tip_id=tip_id,
                keyboard=None if carried else Keyboard.REMOVE,  # no 📍 keyboard outlives it
                secret=secret,
                amend_button=carried,
                now=now,
            )
            if offer is not None and not carried:
                # After the receipt: the way to add words, a photo or flags for a while (a
                # web reporter's page has its own form and does not show this one).
                await self.notifier.tell(
                    tx, draft.user_id, offer, tip_id=tip_id, amend_button=True, now=now
                )
            await replay.record(tx, "submit", tip_id)
        return done(Submitted(tip, duplicates, secret, receipt, prospect))

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
        if draft.source is Source.WEB:
            return received  # the form's page shows the secret, once; never kept in a notice
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
