"""Update processing: different people in parallel, one person's updates in order, each
update journaled as handled.

PTB processes updates one at a time by default, so one slow step (a geocoder lookup that
waits out Nominatim's one-request-per-second rule, a Telegram retry) would hold up every
other reporter and patrol. With ``concurrent_updates=True`` nothing keeps one person's two
quick presses in order. This processor runs updates concurrently but serialises those of the
same user (or, for updates without a user, the same chat). Tip state changes from different
users are still safe: the database compare-and-set decides who wins.

Around the handlers it opens the update's handling context (``bot/replay.py``: which
update, and whether this is a replay after a crash), marks the sends made meanwhile as direct
replies (``bot/transport.py`` may repeat those on a timeout) and, once the handlers have
finished, marks the update done in the inbound journal (``bot/inbound.py``) — before the same
person's next update starts, so a replay after a crash never runs behind a later update.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import replay as handling_context
from bot.inbound import SKIP, InboundJournal
from bot.transport import direct_replies


def _key(update: object) -> object:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("other", None)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self, max_concurrent_updates: int = 64, journal: InboundJournal | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.journal = journal
        # key → [lock, number of updates holding or waiting for it]
        self._locks: dict[object, list[Any]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        handling = self.journal.begin(update) if self.journal is not None else None
        if handling is SKIP:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to clean up
            return
        key = _key(update)
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                await self._handle(handling, coroutine)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    async def _handle(
        self, handling: handling_context.Handling | None, coroutine: Awaitable[Any]
    ) -> None:
        token = handling_context.enter(handling)
        finished = False
        try:
            with direct_replies():
                await coroutine
            finished = True
        except Exception:
            # PTB's process_update hands handler errors to the error handler itself; anything
            # escaping here would fail the same way again: do not replay it.
            finished = True
            raise
        finally:
            handling_context.leave(token)
            # Cancelled (the bot is being killed or stopped mid-handler): left unfinished, so
            # the next start handles it again.
            if finished and handling is not None and self.journal is not None:
                await self.journal.done(handling)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
