"""The test side, watching: what the bot did (transcripts, calls, callback answers, files,
command menus) and waiting for it (``wait_for`` from a thread, ``until`` from the bot's event
loop; ``version``/``wait_change`` for a watcher such as the demo's web chat)."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.emulator.world import World, scope_key


class Watch(World):
    def callback_answer(self, query_id: str) -> dict | None:
        """What ``answerCallbackQuery`` said for this query (None if not answered yet)."""
        with self._lock:
            return copy.deepcopy(self._callbacks.get(query_id))

    def transcript(self, chat_id: int, *, include_deleted: bool = False) -> list[dict]:
        """All messages of a chat in order, user's and bot's, in their current state."""
        with self._lock:
            return [
                self._view(rec)
                for rec in self._messages.get(chat_id, [])
                if include_deleted or not rec.deleted
            ]

    def bot_messages(self, chat_id: int) -> list[dict]:
        return [m for m in self.transcript(chat_id) if m["from_bot"]]

    def last_bot_message(self, chat_id: int) -> dict | None:
        msgs = self.bot_messages(chat_id)
        return msgs[-1] if msgs else None

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """The transcript view of one message (also if deleted), or None."""
        with self._lock:
            rec = self._index.get((chat_id, message_id))
            return self._view(rec) if rec else None

    def reply_keyboard(self, chat_id: int) -> dict | None:
        """The reply keyboard the bot currently shows in a chat (None if removed/never)."""
        with self._lock:
            return copy.deepcopy(self._reply_keyboards.get(chat_id))

    def pinned(self, chat_id: int) -> list[int]:
        with self._lock:
            return list(self._pinned.get(chat_id, []))

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id]["data"]

    def my_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get((scope_key(scope), language_code or ""), []))

    def left_chats(self) -> list[int]:
        with self._lock:
            return list(self._left)

    def calls(self, method: str) -> list[dict]:
        """Params of every call of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        with self._lock:
            return [p for _, m, p in self.requests if m.lower() == wanted]

    @property
    def version(self) -> int:
        """Grows with every visible change (see :meth:`wait_change`)."""
        with self._lock:
            return self._version

    def chat_versions(self) -> dict[int, int]:
        """``{chat_id: version of its last change}`` for every chat that has changed."""
        with self._lock:
            return dict(self._chat_versions)

    def wait_change(self, since: int, timeout: float) -> int:
        """Block until :attr:`version` differs from ``since`` (or ``timeout`` seconds pass,
        or the emulator stops); returns the current version. Thread-safe."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != since or self._stopping, timeout)
            return self._version

    def wait_until(
        self,
        found: Callable[[], Any],
        timeout: float,
        *,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Any:
        """``found()`` as soon as it is truthy, tried again at each visible change; its last
        (falsy) value after ``timeout`` seconds, once ``cancelled()``, or when the emulator
        stops. For watchers in other threads (the demo's web chat and drill)."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.version
            value = found()
            if value or cancelled() or self._stopping:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return value
            self.wait_change(version, timeout=min(remaining, 0.25))

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by the bot (``getUpdates`` offset)."""
        with self._lock:
            return len(self._updates)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.005
    ) -> Any:
        """Poll ``predicate()`` until truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(predicate, timeout, value))
            time.sleep(interval)

    async def until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 30.0,  # noqa: ASYNC109 - mirrors wait_for()
        interval: float = 0.005,
    ) -> Any:
        """Async :meth:`wait_for` for tests sharing the bot's event loop. The default bound is
        generous: it is a bound on being stuck, not a speed check (a busy machine is slow).

        ``predicate`` may also return an awaitable, which is awaited.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if isinstance(value, Awaitable):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(predicate, timeout, value))
            await asyncio.sleep(interval)

    def _timeout_message(self, predicate: Callable[[], Any], timeout: float, value: Any) -> str:
        name = getattr(predicate, "__qualname__", repr(predicate))
        with self._lock:
            recent = [m for _, m, _ in list(self.requests)[-8:]]
            pending = len(self._updates)
            errors = [f"{e['method']}: {e['description']}" for e in self.api_errors[-3:]]
            internal = [e["error"] for e in self.internal_errors[-3:]]
        return (
            f"{name} still {value!r} after {timeout}s; pending updates: {pending}; "
            f"recent calls: {recent}; recent API errors: {errors}; internal errors: {internal}"
        )
