"""The webhook's secret token: ``[telegram] webhook_secret`` (or ``WARMLINE_WEBHOOK_SECRET``),
else one generated on the first start in webhook mode and kept in the database, so that it
stays the same across restarts (Telegram sends it with every update)."""

from __future__ import annotations

import secrets

from bot.db.ops import WEBHOOK_SECRET, OpsStore
from bot.services.base import Deps


async def webhook_secret(deps: Deps) -> str:
    configured = deps.config.telegram.webhook_secret
    if configured:
        return configured
    return await OpsStore(deps.db).put_if_absent(
        WEBHOOK_SECRET, secrets.token_urlsafe(32), deps.now()
    )
