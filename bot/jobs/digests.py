"""Digests: a group with a backlog of new cards gets one message with a line and a claim
button per tip instead (bot/jobs/outbox.py decides when; bot/views/cards.py draws them)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.db.database import Database
from bot.db.messages import MessageStore
from bot.db.outbox import OutboxItem, OutboxStore
from bot.db.tips import TipStore
from bot.domain.outbox import Kind, MessageKind
from bot.domain.tips import Tip
from bot.jobs.edits import edit_text
from bot.services.clock import StationClock
from bot.views.cards import DIGEST_MAX, digest_keyboard, render_digest

log = logging.getLogger(__name__)


class Digests:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        outbox: OutboxStore,
        tips: TipStore,
        messages: MessageStore,
        clock: StationClock,
        card_language: Callable[[int], Awaitable[str]],
        threshold: int,
    ) -> None:
        self.bot = bot
        self.db = db
        self.outbox = outbox
        self.tips = tips
        self.messages = messages
        self.clock = clock
        self.card_language = card_language
        self.threshold = threshold

    async def send(self, items: list[OutboxItem]) -> set[int]:
        """A group with a backlog of new cards gets them as digests; returns the items done.

        Telegram lets a bot post about 20 messages a minute to one group, and a card is up to
        three messages. In a burst, one digest line (with its own claim button) per tip reaches
        the patrol far sooner. Urgent tips are never digested: they get their card at once.
        """
        threshold = self.threshold
        if not threshold:
            return set()
        waiting: dict[int, list[OutboxItem]] = {}
        for item in items:
            if (
                item.kind is Kind.CARD
                and item.chat_id is not None
                and item.chat_id < 0
                and not item.message.copy  # type: ignore[union-attr]
            ):
                waiting.setdefault(item.chat_id, []).append(item)
        done: set[int] = set()
        for chat, queued in waiting.items():
            if len(queued) < threshold:
                continue
            batch: list[tuple[OutboxItem, Tip]] = []
            for item in queued:
                tip = await self.tips.get(item.tip_id) if item.tip_id else None
                if tip is None or tip.urgent:
                    continue
                if await self.messages.of(tip.id, chat_id=chat):
                    continue  # partly sent as a card already: finish that instead
                batch.append((item, tip))
            if len(batch) < threshold:
                continue
            for start in range(0, len(batch), DIGEST_MAX):
                done |= await self._send_one(chat, batch[start : start + DIGEST_MAX])
        return done

    async def _send_one(self, chat: int, batch: list[tuple[OutboxItem, Tip]]) -> set[int]:
        claimed = []
        async with self.db.write() as tx:
            for item, tip in batch:
                if await self.outbox.claim(tx, item.id):
                    claimed.append((item, tip))
        if not claimed:
            return set()
        tips = [tip for _, tip in claimed]
        lang = await self.card_language(chat)
        try:
            message = await self.bot.send_message(
                chat,
                render_digest(tips, lang, self.clock.tz),
                reply_markup=digest_keyboard(tips, lang),
            )
        except TelegramError as exc:
            # Let each card go its own way (with the usual fault handling) on the next pass.
            log.warning("digest to %s failed (%s); sending the cards one by one", chat, exc)
            async with self.db.write() as tx:
                for item, _tip in claimed:
                    await self.outbox.retry(tx, item.id, self.clock.now(), f"digest: {exc}")
            return set()
        now = self.clock.now()
        async with self.db.write() as tx:
            for item, tip in claimed:
                await self.messages.add(
                    tx, chat, message.message_id, tip.id, MessageKind.DIGEST, now
                )
                await self.outbox.done(tx, item.id, now)
        return {item.id for item, _ in claimed}

    async def edit(self, chat: int, message_id: int) -> None:
        tips = [
            tip
            for tip_id in await self.messages.tips_in(chat, message_id)
            if (tip := await self.tips.get(tip_id)) is not None
        ]
        lang = await self.card_language(chat)
        text, keyboard = render_digest(tips, lang, self.clock.tz), digest_keyboard(tips, lang)
        try:
            await edit_text(self.bot, chat, message_id, text, keyboard)
        except BadRequest as exc:
            log.warning("digest %s/%s could not be edited: %s", chat, message_id, exc)
