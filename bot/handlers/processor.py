"""Update processing: different people in parallel, one person's updates in order.

PTB processes updates one at a time by default, so one slow step (a geocoder lookup that
waits out Nominatim's one-request-per-second rule, a Telegram retry) would hold up every
other reporter and patrol. With ``concurrent_updates=True`` nothing keeps one person's two
quick presses in order. This processor runs updates concurrently but serialises those of the
same user (or, for updates without a user, the same chat). Tip state changes from different
users are still safe: the database compare-and-set decides who wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _key(update: object) -> object:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("other", None)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        # key → [lock, number of updates holding or waiting for it]
        self._locks: dict[object, list[Any]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                await coroutine
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
