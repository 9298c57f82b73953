"""Run an Application inside an already running event loop (tests, benchmarks, the demo).

``Application.run_polling`` owns the event loop and calls ``post_init``/``post_stop``/
``post_shutdown`` itself; code that shares a loop with the bot (an async test) goes through
the same lifecycle here, in the same order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application


@asynccontextmanager
async def serving(app: Application, *, poll_timeout: int = 1) -> AsyncIterator[Application]:
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
