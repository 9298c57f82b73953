"""Run an Application inside an already running event loop (tests, benchmarks, the demo).

``warmline run`` owns its event loop; code that shares a loop with the bot (an async test)
goes through the very same stages — connect (retrying while the Bot API cannot be reached),
``post_init``, start, polling, and the stop — from ``bot.lifecycle.serving``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application

from bot.lifecycle import serving as _serving


@asynccontextmanager
async def serving(
    app: Application, *, poll_timeout: int = 1, allowed_updates: list[str] | None = None
) -> AsyncIterator[Application]:
    async with _serving(app, poll_timeout=poll_timeout, allowed_updates=allowed_updates):
        yield app
