"""Editing a message the bot sent, from the outbox's jobs (cards, digests, revisit cards)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest


def unchanged(exc: BadRequest) -> bool:
    """Telegram's "message is not modified": the message already shows this text and these
    buttons (two edits coalesced, or a retry after a lost answer) — the edit is done."""
    return "not modified" in str(exc).lower()


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str, keyboard: object) -> None:
    """Make a message show ``text`` and ``keyboard``; any other refusal is raised."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=keyboard,  # type: ignore[arg-type]
        )
    except BadRequest as exc:
        if not unchanged(exc):
            raise
