"""What services put in the outbox — the one way messages leave warmline.

Everything here is written inside the caller's transaction, so a message exists exactly when
the change it announces does; bot/jobs/outbox.py sends it (and retries) afterwards, and the
commit wakes it. Messages are data (bot/domain/outbox.py), rendered when they are sent: what
a person is told (:meth:`Notifier.tell`) in their language, what the patrol side is told
(:meth:`Notifier.say`) in the station's.
"""

from __future__ import annotations

import datetime as dt

from bot.db.outbox import OutboxStore
from bot.db.sql import Tx
from bot.db.webreports import WebReportStore
from bot.domain.outbox import (
    CardEdit,
    CardPost,
    Keyboard,
    MessageKind,
    Notice,
    Photo,
    Text,
    encode,
)
from bot.domain.webreport import is_web_reporter
from bot.services.clock import StationClock
from bot.services.reach import Reach


class Notifier:
    def __init__(
        self, outbox: OutboxStore, reach: Reach, clock: StationClock, station_language: str
    ) -> None:
        self.outbox = outbox
        self.reach = reach
        self.clock = clock
        self.station_language = station_language
        # A web reporter has no chat: their notices are kept for their status page.
        self.web = WebReportStore(outbox.db)

    async def refresh_card(self, tx: Tx, tip_id: int, now: dt.datetime | None = None) -> None:
        """Every copy of the tip's card will show its current state (pending edits coalesce)."""
        await self.outbox.enqueue(
            tx, CardEdit(), chat_id=None, tip_id=tip_id, now=now or self.clock.now(), coalesce=True
        )

    async def post_card(
        self,
        tx: Tx,
        chat_id: int,
        tip_id: int,
        *,
        copy: bool = False,
        now: dt.datetime | None = None,
    ) -> None:
        """Post the tip's card in a chat (``copy``: another one, even if the chat has it)."""
        await self.outbox.enqueue(
            tx, CardPost(copy), chat_id=chat_id, tip_id=tip_id, now=now or self.clock.now()
        )

    async def tell(
        self,
        tx: Tx,
        user_id: int,
        text: Text,
        *,
        tip_id: int | None = None,
        keyboard: Keyboard | None = None,
        record: MessageKind | None = None,
        secret: str | None = None,
        amend_button: bool = False,
        now: dt.datetime | None = None,
    ) -> int | None:
        """A message for one person, in their language; returns the outbox row's id.

        ``secret`` (a claim secret) is offered to the text as ``{secret}``: the one plaintext
        copy, removed from the row once the message is delivered (or given up).

        A web reporter (:func:`bot.domain.webreport.is_web_reporter`) is shown it on their
        status page instead (returns None): no keyboard (the page offers its own forms), and
        never the secret, which the page showed once at submission."""
        if is_web_reporter(user_id):
            payload = encode(Notice(text, record=record))
            await self.web.add_notice(tx, user_id, tip_id, payload, now or self.clock.now())
            return None
        notice = Notice(
            text, keyboard=keyboard, record=record, secret=secret, amend_button=amend_button
        )
        return await self.outbox.enqueue(
            tx, notice, chat_id=user_id, tip_id=tip_id, now=now or self.clock.now()
        )

    async def say(
        self,
        tx: Tx,
        chat_id: int,
        text: Text,
        *,
        tip_id: int | None = None,
        reply_to_card: bool = False,
        record: MessageKind | None = None,
        photo: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """A message where the patrol works (a group; an officer's copy of a card; the daily
        summary), in the station's language."""
        notice = Notice(
            text,
            record=record,
            reply_to_card=reply_to_card,
            lang=self.station_language,
            photo=photo,
        )
        await self.outbox.enqueue(
            tx, notice, chat_id=chat_id, tip_id=tip_id, now=now or self.clock.now()
        )

    async def picture(
        self,
        tx: Tx,
        chat_id: int,
        png: bytes,
        *,
        caption: Text | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """An image (the summary chart) where the patrol works, captioned in the station's
        language; sent after whatever this chat was queued before it."""
        photo = Photo(png, caption, lang=self.station_language)
        await self.outbox.enqueue(
            tx, photo, chat_id=chat_id, tip_id=None, now=now or self.clock.now()
        )

    async def tell_officers(
        self, tx: Tx, text: Text, *, tip_id: int | None = None, now: dt.datetime | None = None
    ) -> None:
        """The same message for every duty officer the bot can still reach."""
        for officer in self.reach.officers():
            await self.tell(tx, officer, text, tip_id=tip_id, now=now)
