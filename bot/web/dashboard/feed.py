"""Something changed: the dashboard's live stream wakes when a commit queued a message (every
change of a tip refreshes its card through the outbox, so no change is missed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

#: At most one ``change`` event per this many seconds on one stream: a burst of commits (20
#: tips a second) brings one map refresh per gap, not one per commit.
MIN_GAP_S = 0.2


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


async def change_events(
    feed: ChangeFeed,
    still_signed_in: Callable[[], Awaitable[bool]],
    keepalive: float,
    *,
    gap: float = MIN_GAP_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> AsyncIterator[str]:
    """The dashboard's event stream: the current version at once, then a ``change`` as soon
    as something changed — at once after a quiet spell, else ``gap`` after the last one
    (what changed meanwhile rides on it); a keep-alive comment every ``keepalive`` seconds
    without a change; ``signed_out`` (and the end) once the viewer is signed out."""
    seen = feed.version
    yield _change(seen)
    last = -math.inf
    while True:
        now = await feed.wait(seen, keepalive)
        if not await still_signed_in():
            yield "event: signed_out\ndata: {}\n\n"
            return
        if now == seen:
            yield ": keep-alive\n\n"
            continue
        wait = last + gap - clock()
        if wait > 0:
            await sleep(wait)
        seen = feed.version
        last = clock()
        yield _change(seen)


def _change(version: int) -> str:
    return f"event: change\ndata: {json.dumps({'v': version})}\n\n"
