"""Telegram's flood limits for the Bot API emulator, as a ``fault`` hook.

    emu.fault = FloodLimits()            # ~30 messages/s overall, 20/minute per group

Telegram documents its limits only roughly ("about 30 messages per second" overall, "no more
than 20 messages per minute in the same group") and answers ``429 Too Many Requests`` with
``parameters.retry_after`` (whole seconds) beyond them. This hook applies the strict reading:
a sliding window — at most ``per_second`` messages in any 1 s and at most ``per_group_minute``
messages to one group in any 60 s. Only methods that post or change a message count (and only
answered ones: a request refused with 429 is not counted). Everything else passes untouched,
so the emulator's API and its other behaviour stay exactly as they were.

``refused`` counts the 429s sent (by method); ``log`` lists them with their times.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

#: Bot API methods that post or edit a message (what the flood limits are about).
WRITE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
    }
)


class FloodLimits:
    """A ``fault`` hook: ``hook(method, params) -> (429, body) | None``. Thread-safe."""

    def __init__(
        self,
        per_second: int = 30,
        per_group_minute: int = 20,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.per_group_minute = per_group_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._overall: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self.refused: dict[str, int] = {}
        self.log: list[tuple[float, str, Any, int]] = []  # (time, method, chat_id, retry_after)
        self.accepted = 0

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        if method not in WRITE_METHODS:
            return None
        chat = _chat_id(params.get("chat_id"))
        now = self.clock()
        with self._lock:
            wait = _wait(self._overall, now, 1.0, self.per_second)
            group = self._groups.get(chat) if chat is not None and chat < 0 else None
            if chat is not None and chat < 0:
                if group is None:
                    group = self._groups[chat] = deque()
                wait = max(wait, _wait(group, now, 60.0, self.per_group_minute))
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                self.refused[method] = self.refused.get(method, 0) + 1
                self.log.append((now, method, chat, retry_after))
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
            self._overall.append(now)
            if group is not None:
                group.append(now)
            self.accepted += 1
        return None

    @property
    def total_refused(self) -> int:
        with self._lock:
            return sum(self.refused.values())


def _wait(window: deque[float], now: float, span: float, limit: int) -> float:
    """Seconds until one more message fits in ``window`` (0 if it fits now)."""
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return window[len(window) - limit] + span - now


def _chat_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
