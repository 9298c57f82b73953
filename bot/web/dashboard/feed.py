"""Something changed: the dashboard's live stream wakes when a commit queued a message (every
change of a tip refreshes its card through the outbox, so no change is missed)."""

from __future__ import annotations

import asyncio
import contextlib


class ChangeFeed:
    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()
        self._watched: set[int] = set()

    def watch(self, outbox: object) -> None:
        """Listen to a station's outbox store (once per store: a reload opens a new one)."""
        if id(outbox) in self._watched:
            return
        self._watched.add(id(outbox))
        outbox.listen(self.changed)  # type: ignore[attr-defined]

    def changed(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, since: int, timeout: float) -> int:  # noqa: ASYNC109
        """The version once it is past ``since``, or after ``timeout`` seconds."""
        if self.version == since:
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        return self.version
