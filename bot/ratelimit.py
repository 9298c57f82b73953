"""Keeping under Telegram's flood limits without ever drawing a 429 or freezing the bot.

Telegram allows about 30 messages a second overall, 20 a minute in one group, and about one a
second in a private chat (short bursts tolerated); beyond them it answers ``429 Too Many
Requests`` with a ``retry_after`` of up to a minute. PTB's ``AIORateLimiter`` lets bursts
through (a leaky bucket: 20 group messages at once, then one every 3 s — more than "20 in any
minute" allows) and, on a 429, stops *every* request of the bot for that minute: the receipts
of reporters wait behind a patrol group's limit (bench/flood.py, issue 16).

:class:`FloodGuard` paces instead, by sliding windows: a message goes only when it fits in
every window it belongs to (overall; its group or its private chat), counting messages still
in flight as sent now and sent ones at the moment their answer came back — so the windows
Telegram sees (between the moment a request leaves and the moment it is answered) are never
fuller. Each chat waits in its own first-come-first-served queue: a group at its ceiling
delays only that group, and messages to one chat keep their order. A 429 all the same (another
bot instance, a limit lower than documented) pauses only the chat it was about, then the
request is tried again (``max_retries`` times). Calls that post or change nothing
(``answerCallbackQuery``, ``getChat``…) are never held.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

#: Bot API methods that post or edit a message (what the flood limits are about).
WRITE_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue",
        "sendContact", "sendPoll", "sendDice", "sendSticker", "copyMessage", "copyMessages",
        "forwardMessage", "forwardMessages", "editMessageText", "editMessageCaption",
        "editMessageMedia", "editMessageReplyMarkup", "editMessageLiveLocation",
        "stopMessageLiveLocation",
    }
)  # fmt: skip

OVERALL = (30, 1.0)  # messages, seconds
PER_GROUP = (20, 60.0)
PER_PRIVATE = (5, 5.0)  # one a second on average, a burst of a few (a step's edit + question)


class Window:
    """At most ``limit`` messages in any ``span`` seconds."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.sent: deque[float] = deque()  # when each answer came back
        self.in_flight = 0

    def wait(self, now: float) -> float | None:
        """Seconds until one more message fits (0: now); None: once one in flight returns."""
        while self.sent and self.sent[0] <= now - self.span:
            self.sent.popleft()
        excess = len(self.sent) + self.in_flight - self.limit
        if excess < 0:
            return 0.0
        if excess < len(self.sent):
            return self.sent[excess] + self.span - now
        return None

    @property
    def idle(self) -> bool:
        return not self.in_flight and not self.sent


class FloodGuard(BaseRateLimiter[int]):
    """A PTB rate limiter (``ApplicationBuilder().rate_limiter(FloodGuard())``)."""

    def __init__(
        self,
        *,
        overall: tuple[int, float] = OVERALL,
        per_group: tuple[int, float] = PER_GROUP,
        per_private: tuple[int, float] = PER_PRIVATE,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = Window(*overall)
        self.per_group = per_group
        self.per_private = per_private
        self.max_retries = max_retries
        self.clock = clock
        self._chats: dict[object, tuple[asyncio.Lock, Window]] = {}
        self._paused: dict[object, float] = {}  # chat → until (after a 429)
        self.poll_s = 0.02  # when only an answer still in flight can make room

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        self._chats.clear()

    def _chat(self, chat: object) -> tuple[asyncio.Lock, Window]:
        found = self._chats.get(chat)
        if found is None:
            group = not (isinstance(chat, int) and chat > 0)  # groups, channels, @names
            found = (asyncio.Lock(), Window(*(self.per_group if group else self.per_private)))
            if len(self._chats) > 10_000:  # forget chats with nothing in their window
                for key in [
                    k for k, (lock, w) in self._chats.items() if w.idle and not lock.locked()
                ]:
                    del self._chats[key]
            self._chats[chat] = found
        return found

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint not in WRITE_METHODS:
            return await callback(*args, **kwargs)
        chat = data.get("chat_id")
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            chat = int(chat)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            lock, window = self._chat(chat)
            async with lock:  # first come, first served within a chat
                await self._room(chat, window)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                self._paused[chat] = self.clock() + _seconds(exc) + 0.1
            finally:
                now = self.clock()
                for each in (self.overall, window):
                    each.in_flight -= 1
                    each.sent.append(now)

    async def _room(self, chat: object, window: Window) -> None:
        """Wait until the message fits in its chat's window and the overall one; reserve it."""
        while True:
            now = self.clock()
            paused = self._paused.get(chat, 0.0) - now
            waits = [window.wait(now), self.overall.wait(now)]
            if paused <= 0 and all(w == 0.0 for w in waits):
                self._paused.pop(chat, None)
                window.in_flight += 1
                self.overall.in_flight += 1
                return
            known = [w for w in waits if w is not None and w > 0]
            delay = max([paused, *known]) if known or paused > 0 else self.poll_s
            await asyncio.sleep(max(delay, 0.001))


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 is moving this from int to timedelta
        warnings.simplefilter("ignore")
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)
