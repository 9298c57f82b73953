"""The webhook's secret token: ``[telegram] webhook_secret`` (or ``WARMLINE_WEBHOOK_SECRET``),
else one generated on the first start in webhook mode and kept in the database, so that it
stays the same across restarts (Telegram sends it with every update)."""

from __future__ import annotations

import datetime as dt
import secrets

from bot.db.ops import WEBHOOK_SECRET, OpsStore


async def webhook_secret(configured: str | None, store: OpsStore, now: dt.datetime) -> str:
    if configured:
        return configured
    return await store.put_if_absent(WEBHOOK_SECRET, secrets.token_urlsafe(32), now)
