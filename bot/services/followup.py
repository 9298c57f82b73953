"""The reporter in the field flow: "still there?" when the tip is claimed, and after "not
found" their new pin or words reopen the tip as a new attempt of the same incident (rules:
bot/domain/arrival.py). Every change is a tip transition or note (bot/services/tips.py),
every message goes through the outbox; nothing of the reporter reaches a group but their
masked words."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from enum import Enum, StrEnum

from bot import replay
from bot.config import FieldConfig
from bot.db.database import Database, from_db_time
from bot.db.drafts import DraftStore
from bot.db.events import EventStore
from bot.db.field import FieldStore
from bot.db.messages import MediaStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.arrival import (
    EARLIER_CARD,
    EARLIER_SUFFIX,
    RELEASE_NO_ANSWER,
    WORDS_MINUTES,
    AskKind,
    FieldAct,
    FieldFacts,
    Heard,
    Presence,
    clean_words,
    may_reopen,
    message_url,
    reopen_changes,
)
from bot.domain.outbox import Keyboard, Msg
from bot.domain.roster import Roster
from bot.domain.tips import Action, Actor, Outcome, Role, State, Tip
from bot.geo.area import ServiceArea
from bot.services.audit import Audit
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips

#: How long the "still there?" buttons count (after that the patrol is there or not).
STILL_THERE_HOURS = 2

_REPORTER = frozenset({Role.REPORTER})


class Taken(StrEnum):
    """What a reporter's message did to the field flow."""

    REOPENED = "reopened"  # a new attempt of their "not found" tip
    WORDS = "words"  # added to their answer to "still there?"
    OUTSIDE = "outside"  # a pin outside the service area: nothing changed
    EMPTY = "empty"  # neither a pin nor words (e.g. a sticker): nothing changed
    NONE = "none"  # not ours: the report flow takes it


class FollowUp:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        field: FieldStore,
        drafts: DraftStore,
        events: EventStore,
        tips: Tips,
        notifier: Notifier,
        reach: Reach,
        roster: Roster,
        clock: StationClock,
        config: FieldConfig,
        area: ServiceArea,
        district_of: Callable[[float, float], str | None],
        audit: Audit,
        media: MediaStore | None = None,
    ) -> None:
        self.media = media  # a photo sent after "not found" goes with the new attempt
        self.audit = audit
        self.db = db
        self.store = store
        self.field = field
        self.drafts = drafts
        self.events = events
        self.tips = tips
        self.notifier = notifier
        self.reach = reach
        self.roster = roster
        self.clock = clock
        self.config = config
        self.area = area
        self.district_of = district_of

    # -- hooks of the patrol's transitions (FieldService.act, in its transaction) --------------
    async def after_act(
        self, tx: Tx, after: Tip, action: Enum, outcome: Outcome | None, now: dt.datetime
    ) -> None:
        reporter = await self.store.reporter_of(after.id)
        if reporter is None:
            return  # a hotline tip: nobody to ask
        if action is Action.CLAIM and self.config.ask_still_there:
            until = now + dt.timedelta(hours=STILL_THERE_HOURS)
            if await self.field.add_ask(tx, after, AskKind.STILL_THERE, now, until):
                await self.notifier.tell(
                    tx,
                    reporter,
                    Msg("still.ask", {"code": after.code}),
                    tip_id=after.id,
                    keyboard=Keyboard.STILL_THERE,
                    now=now,
                )
        elif action is Action.CLOSE and outcome is Outcome.NOT_FOUND and self.config.reopen_hours:
            until = now + dt.timedelta(hours=self.config.reopen_hours)
            if await self.field.add_ask(tx, after, AskKind.NOT_FOUND, now, until):
                text = Msg(
                    "reopen.ask",
                    {"code": after.code, "hours": self.config.reopen_hours},
                )
                await self.notifier.tell(tx, reporter, text, tip_id=after.id, now=now)

    # -- "still there?" --------------------------------------------------------------------
    async def still_there(self, tip_id: int, user_id: int, answer: str) -> Result[Tip]:
        """The reporter's button. Forged (not their tip, no such question): NOT_YOURS;
        answered already: ALREADY; the search is over: CLOSED."""
        try:
            presence = Presence(answer)
        except ValueError:
            return refused(Refusal.NOT_YOURS)
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NOT_YOURS)
        if await self.store.reporter_of(tip_id) != user_id:
            # Someone else's question: refused, and written to the event log.
            await self.audit.refused(user_id, FieldAct.STILL_THERE, tip_id=tip.id)
            return refused(Refusal.NOT_YOURS)
        ask = await self.field.ask(tip.id, AskKind.STILL_THERE, tip.attempt)
        if ask is None:
            return refused(Refusal.NOT_YOURS, tip)
        if replay.applied("still_there") is not None:
            return done(tip)  # a replay after the commit: the same answer again
        if ask.answer is not None:
            return refused(Refusal.ALREADY, tip)
        now = self.clock.now()
        if not tip.is_open or now >= ask.open_until:
            return refused(Refusal.CLOSED, tip)
        async with self.db.write() as tx:
            if not await self.field.answer(tx, ask.id, presence.value, now):
                return refused(Refusal.ALREADY, tip)
            current = await self.store.get(tip.id) or tip
            await self.tips.note(
                tx,
                current,
                user_id,
                Role.REPORTER,
                FieldAct.STILL_THERE,
                now,
                detail={"answer": presence.value},
                refresh=True,
            )
            await replay.record(tx, "still_there", tip.id)
        return done(tip)

    async def open_on(self, tip: Tip, user_id: int) -> tuple[bool, bool]:
        """For a page of one tip (the web status page): is "still there?" waiting for the
        reporter's answer; would their words be taken now (:meth:`take` with ``tip_id``)?"""
        now = self.clock.now()
        ask = await self.field.ask(tip.id, AskKind.STILL_THERE, tip.attempt)
        still = ask is not None and ask.answer is None and tip.is_open and now < ask.open_until
        more = any(
            a.tip_id == tip.id and may_reopen(tip, now, self.config.reopen_hours)
            for a in await self.field.open_asks_of(user_id, AskKind.NOT_FOUND, now)
        )
        return still, more or await self._words_wanted(user_id, now, tip.id) is not None

    # -- the reporter's messages with no report in progress ---------------------------------
    async def wants(self, user_id: int) -> bool:
        """Is there anything of ours a message from this reporter may answer now?"""
        if await self.drafts.get(user_id) is not None:
            return False  # a report in progress owns their messages
        now = self.clock.now()
        if await self.field.open_asks_of(user_id, AskKind.NOT_FOUND, now):
            return True
        return bool(await self._words_wanted(user_id, now))

    async def _words_wanted(self, user_id: int, now: dt.datetime, tip_id: int | None = None):
        since = now - dt.timedelta(minutes=WORDS_MINUTES)
        for ask in await self.field.answered_since(user_id, AskKind.STILL_THERE, since):
            if tip_id is not None and ask.tip_id != tip_id:
                continue
            tip = await self.store.get(ask.tip_id)
            if ask.words is None and tip is not None and tip.is_open and tip.attempt == ask.attempt:
                return ask, tip
        return None

    async def take(
        self,
        user_id: int,
        *,
        text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        tip_id: int | None = None,
        photo: tuple[str, str | None] | None = None,
    ) -> tuple[Taken, Tip | None]:
        """A reporter's pin, words or photo (``(file id, unique id)``): reopen their "not
        found" tip (newest first), else add the words to their answer to "still there?".
        ``tip_id``: only about that tip (the web status page is one tip's)."""
        now = self.clock.now()
        words = clean_words(text)
        # A replay after a crash that came after the commit: the same answer, nothing again.
        for effect, taken in (("reopen", Taken.REOPENED), ("still_words", Taken.WORDS)):
            if (ref := replay.applied(effect)) is not None:
                return taken, await self.store.get(int(ref))
        for ask in await self.field.open_asks_of(user_id, AskKind.NOT_FOUND, now):
            if tip_id is not None and ask.tip_id != tip_id:
                continue
            tip = await self.store.get(ask.tip_id)
            if tip is None or not may_reopen(tip, now, self.config.reopen_hours):
                continue
            if lat is not None and lon is not None and not self.area.contains(lat, lon):
                return Taken.OUTSIDE, tip
            if words is None and lat is None and photo is None:
                return Taken.EMPTY, tip
            after = await self._reopen(tip, ask.id, user_id, words, lat, lon, now, photo)
            return (Taken.REOPENED, after) if after else (Taken.NONE, None)
        wanted = await self._words_wanted(user_id, now, tip_id)
        if wanted is None or words is None:
            return Taken.NONE, None
        ask, tip = wanted
        async with self.db.write() as tx:
            await self.field.add_words(tx, ask.id, words)
            await self.tips.note(
                tx, tip, user_id, Role.REPORTER, FieldAct.STILL_THERE_WORDS, now, refresh=True
            )
            await replay.record(tx, "still_words", tip.id)
        return Taken.WORDS, tip

    async def _reopen(
        self,
        tip: Tip,
        ask_id: int,
        user_id: int,
        words: str | None,
        lat: float | None,
        lon: float | None,
        now: dt.datetime,
        photo: tuple[str, str | None] | None = None,
    ) -> Tip | None:
        changes = reopen_changes(tip, now)
        if lat is not None and lon is not None:
            # A new pin: the old place's name and typed address no longer describe it.
            changes |= {
                "lat": lat,
                "lon": lon,
                "place_label": None,
                "address": None,
                "district": self.district_of(lat, lon),
            }
        team = self.reach.directory.team(self.roster.on_duty(self.clock.local(now)))
        changes["group_key"] = team.key
        actor = Actor(user_id, _REPORTER)
        async with self.db.write() as tx:
            await self.field.end_attempt(tx, tip, now)
            await self.field.answer(tx, ask_id, "reopened", now)
            if words is not None:
                await self.field.add_words(tx, ask_id, words)
            if photo is not None and self.media is not None:
                # The newest report photo is the one the new attempt's card carries.
                await self.media.add(
                    tx,
                    tip_id=tip.id,
                    kind="report_photo",
                    file_id=photo[0],
                    file_unique_id=photo[1],
                    added_by=user_id,
                    now=now,
                )
            await self.field.freeze_cards(tx, tip.id, EARLIER_SUFFIX)
            after = await self.tips.transition(
                tx,
                tip,
                actor,
                FieldAct.REOPEN,
                State.DISPATCHED,
                changes,
                now,
                detail={
                    "attempt": tip.attempt + 1,
                    "pin": lat is not None,
                    "words": words is not None,
                    "photo": photo is not None,
                    "group": team.key,
                },
            )
            if after is None:
                return None
            await self.notifier.post_card(tx, team.chat_id, tip.id, now=now)
            await self.notifier.tell(
                tx,
                user_id,
                Msg("reopen.done", {"code": tip.code, "attempt": after.attempt}),
                tip_id=tip.id,
                now=now,
            )
            await replay.record(tx, "reopen", tip.id)
        return after

    # -- what the card shows -----------------------------------------------------------------
    async def facts(self, tip: Tip) -> FieldFacts:
        presence = None
        ask = await self.field.ask(tip.id, AskKind.STILL_THERE, tip.attempt)
        if ask is not None and ask.answered_at is not None:
            presence = Heard(ask.answered_at, ask.answer, ask.words)
        added = None
        earlier: tuple = ()
        first_url = None
        if tip.attempt > 1:
            reopened = await self.field.ask(tip.id, AskKind.NOT_FOUND, tip.attempt - 1)
            if reopened is not None and reopened.answered_at is not None:
                added = Heard(reopened.answered_at, None, reopened.words)
            earlier = tuple(
                (a.attempt, a.outcome, a.closed_at) for a in await self.field.attempts(tip.id)
            )
            first = await self.field.first_card(tip.id, EARLIER_CARD)
            first_url = message_url(*first) if first else None
        released_at = None
        if tip.state is State.DISPATCHED:
            for event in reversed(await self.events.of(tip.id)):
                if event["action"] in (Action.RELEASE.value, FieldAct.REOPEN.value):
                    detail = json.loads(event["detail"]) if event["detail"] else {}
                    if detail.get("reason") == RELEASE_NO_ANSWER:
                        released_at = from_db_time(event["at"])
                    break
        return FieldFacts(
            eta_choices=tuple(self.config.eta_choices),
            presence=presence,
            added=added,
            earlier=earlier,
            first_card_url=first_url,
            released_at=released_at,
        )
