"""Additions to a submitted tip — words, a photo, flags — by its reporter, for a while.

``[reporting] amend_minutes`` after submitting (0: never) the reporter may add to an open tip:
the additions are kept (one ``amendments`` row each), new flags go onto the tip (an urgent
one makes it urgent), a photo goes to the chats that have the card, the card is refreshed to
show "补充", and the event log records it — all in one transaction, every message through the
outbox. The Telegram flow (bot/services/reports.py) and the web form call :meth:`amend`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot import replay
from bot.config import ReportingConfig
from bot.db.amendments import AmendmentStore
from bot.db.database import Database
from bot.db.messages import MediaStore, MessageStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.draft import clip_description
from bot.domain.events import Act
from bot.domain.outbox import MessageKind, Msg
from bot.domain.tips import Actor, Flag, Role, Tip, is_urgent
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips


@dataclass(frozen=True)
class Additions:
    """What a reporter adds. ``words`` are bounded like a description; ``photo_file_id`` is a
    Telegram file id (a clean copy: no metadata); ``flags`` are added, never taken off."""

    words: str | None = None
    photo_file_id: str | None = None
    photo_unique_id: str | None = None
    flags: frozenset[Flag] = frozenset()


@dataclass(frozen=True)
class Amender:
    """Who adds. ``user_id``: a Telegram reporter, checked against the tip's reporter; None: a
    reporter the caller has identified itself (the web form, by its own receipt token)."""

    user_id: int | None


@dataclass(frozen=True)
class Amended:
    tip: Tip  # the tip as it is now
    added_flags: frozenset[Flag]  # flags the tip did not have
    became_urgent: bool  # an added flag made it urgent (the reporter gets the 120/110 advice)


class AmendService:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        tips: Tips,
        amendments: AmendmentStore,
        media: MediaStore,
        messages: MessageStore,
        notifier: Notifier,
        reach: Reach,
        clock: StationClock,
        reporting: ReportingConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.amendments = amendments
        self.media = media
        self.messages = messages
        self.notifier = notifier
        self.reach = reach
        self.clock = clock
        self.reporting = reporting

    @property
    def minutes(self) -> int:
        return self.reporting.amend_minutes

    async def check(self, tip_id: int, actor: Amender) -> Result[Tip]:
        """May ``actor`` add to the tip now? NO_TIP / NOT_YOURS; TOO_LATE: the window is over
        (or amending is off); CLOSED: the tip is no longer open. The tip either way."""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        if actor.user_id is not None and await self.store.reporter_of(tip_id) != actor.user_id:
            return refused(Refusal.NOT_YOURS)
        if self.minutes <= 0 or self.clock.now() > tip.created_at + dt.timedelta(
            minutes=self.minutes
        ):
            return refused(Refusal.TOO_LATE, tip)
        if not tip.is_open:
            return refused(Refusal.CLOSED, tip)
        return done(tip)

    async def amend(self, tip_id: int, actor: Amender, additions: Additions) -> Result[Amended]:
        """Add ``additions`` to the tip (see the module's docstring). Refusals as
        :meth:`check`, and INCOMPLETE: nothing to add. Applied once: a replay after a crash
        answers as the first time did without adding again."""
        if replay.applied("amend") is not None:
            tip = await self.store.get(tip_id)
            if tip is not None:
                return done(Amended(tip, frozenset(), False))
        words = None
        if additions.words:
            words = clip_description(additions.words, self.reporting.description_max_chars)[0]
        if not (words or additions.photo_file_id or additions.flags):
            return refused(Refusal.INCOMPLETE)
        for _ in range(3):  # a patrol's change may come first: read again and retry
            checked = await self.check(tip_id, actor)
            if not checked.ok or checked.value is None:
                return refused(checked.refusal or Refusal.NO_TIP, None)
            tip = checked.value
            amended = await self._write(tip, actor, additions, words)
            if amended is not None:
                return done(amended)
        return refused(Refusal.RACE)

    async def _write(
        self, tip: Tip, actor: Amender, additions: Additions, words: str | None
    ) -> Amended | None:
        now = self.clock.now()
        new_flags = additions.flags - tip.flags
        flags = tip.flags | new_flags
        detail = {
            "words": bool(words),
            "photo": additions.photo_file_id is not None,
            "flags": sorted(f.value for f in new_flags),
        }
        who = Actor(actor.user_id, frozenset({Role.REPORTER}))
        async with self.db.write() as tx:
            after: Tip | None = tip
            if new_flags:
                after = await self.tips.transition(
                    tx, tip, who, Act.AMEND, tip.state, {"flags": flags}, now, detail=detail
                )
                if after is None:
                    return None  # changed meanwhile: nothing written
                await self.store.set_urgent(tx, tip.id, is_urgent(flags))
            else:
                await self.tips.note(
                    tx,
                    tip,
                    actor.user_id,
                    Role.REPORTER,
                    Act.AMEND,
                    now,
                    detail=detail,
                    refresh=True,
                )
            await self.amendments.add(
                tx,
                tip.id,
                words=words,
                photo=additions.photo_file_id is not None,
                flags=new_flags,
                now=now,
            )
            if additions.photo_file_id is not None:
                await self.media.add(
                    tx,
                    tip_id=tip.id,
                    kind="report_photo",
                    file_id=additions.photo_file_id,
                    file_unique_id=additions.photo_unique_id,
                    added_by=None,
                    now=now,
                )
                await self._send_photo(tx, tip, additions.photo_file_id, now)
            await replay.record(tx, "amend", tip.id)
        assert after is not None
        return Amended(after, new_flags, is_urgent(flags) and not tip.urgent)

    async def _send_photo(self, tx: Tx, tip: Tip, file_id: str, now: dt.datetime) -> None:
        """The added photo, as a reply to the card, where the patrol and officers see it."""
        chats = [self.reach.directory.team(tip.group_key).chat_id]
        for sent in await self.messages.of(tip.id, kind=MessageKind.CARD):
            if sent.chat_id not in chats:
                chats.append(sent.chat_id)
        for chat_id in chats:
            await self.notifier.say(
                tx,
                chat_id,
                Msg("amend.photo_caption", {"code": tip.code}),
                tip_id=tip.id,
                reply_to_card=True,
                photo=file_id,
                now=now,
            )
