"""Adding to a submitted tip: more words or a photo, for ``[reporting] amend_minutes``.

MINIMAL VERSION written by h15 (issue 15) for the web status page, while h13a writes the
Telegram reporter's amend service (issue 13 #2) at the same time. The web page calls exactly
one function, :meth:`AmendService.amend`; when the two meet, keep h13a's service and give it
this signature (or adapt the one call in bot/services/webreport.py). What this one does:

* only the tip's own reporter, only while the tip is open and younger than amend_minutes;
* words are appended to the description (" ＋ " between), bounded like a description;
* a photo is taken only if the tip has none yet: its media row, then the card's chats get the
  photo (the outbox sends the card's missing parts: here just the photo);
* one ``amend`` event in the log (a transition to the same state); the card is refreshed.
"""

from __future__ import annotations

import datetime as dt

from bot.config import ReportingConfig
from bot.db.database import Database
from bot.db.messages import MediaStore, MessageStore
from bot.db.tips import TipStore
from bot.domain.draft import clip_description
from bot.domain.events import Act
from bot.domain.outbox import MessageKind
from bot.domain.tips import Actor, Role, Tip
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips

SEPARATOR = " ＋ "


def amendable(tip: Tip, now: dt.datetime, minutes: int) -> bool:
    return tip.is_open and now - tip.created_at <= dt.timedelta(minutes=minutes)


class AmendService:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        tips: Tips,
        media: MediaStore,
        messages: MessageStore,
        notifier: Notifier,
        clock: StationClock,
        reporting: ReportingConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.media = media
        self.messages = messages
        self.notifier = notifier
        self.clock = clock
        self.reporting = reporting

    def open_for(self, tip: Tip) -> bool:
        return amendable(tip, self.clock.now(), self.reporting.amend_minutes)

    async def amend(
        self,
        reporter_id: int,
        tip_id: int,
        *,
        words: str | None = None,
        photo_file_id: str | None = None,
        photo_unique_id: str | None = None,
    ) -> Result[Tip]:
        tip = await self.store.get(tip_id)
        if tip is None or await self.store.reporter_of(tip_id) != reporter_id:
            return refused(Refusal.NOT_YOURS)
        now = self.clock.now()
        if not amendable(tip, now, self.reporting.amend_minutes):
            return refused(Refusal.TOO_LATE, tip)
        limit = self.reporting.description_max_chars
        added, _ = clip_description(words or "", limit)
        description = tip.description
        if added:
            description = (description + SEPARATOR + added) if description else added
            description, _ = clip_description(description, limit)
        has_photo = any(m["kind"] == "report_photo" for m in await self.media.of(tip.id))
        take_photo = photo_file_id is not None and not has_photo
        if not added and not take_photo:
            return refused(Refusal.INCOMPLETE, tip)
        actor = Actor(reporter_id, frozenset({Role.REPORTER}))
        changes = {"description": description} if added else {}
        detail = {"words": bool(added), "photo": take_photo}
        async with self.db.write() as tx:
            after = await self.tips.transition(
                tx, tip, actor, Act.AMEND, tip.state, changes, now, detail=detail
            )
            if after is None:
                return refused(Refusal.RACE, tip)
            if take_photo:
                assert photo_file_id is not None
                await self.media.add(
                    tx,
                    tip_id=tip.id,
                    kind="report_photo",
                    file_id=photo_file_id,
                    file_unique_id=photo_unique_id,
                    added_by=None,
                    now=now,
                )
                # The card's chats get the photo (the outbox sends a card's missing parts).
                for card in await self.messages.of(tip.id, kind=MessageKind.CARD):
                    await self.notifier.post_card(tx, card.chat_id, tip.id, now=now)
        return done(after)
