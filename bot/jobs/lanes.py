"""The outbox sender's lanes: one per chat, so that a chat's messages go in the order they
were written while different chats are served at the same time (bot/jobs/outbox.py)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from bot.db.outbox import OutboxItem


@dataclass
class Lane:
    key: object  # a chat id, or ("tip", id) for an item for no one chat
    queue: deque[OutboxItem] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class Pass:
    """The lanes of one :meth:`OutboxSender.flush` and the items they hold (queued or being
    sent), so that the next read of due items skips them."""

    def __init__(self) -> None:
        self.lanes: dict[object, Lane] = {}
        # item id → its tip, for the items held in a chat's lane (else None)
        self.unfinished: dict[int, int | None] = {}
        self.handled = 0
        self.error: Exception | None = None
        self._changed = asyncio.Condition()

    def add(self, item: OutboxItem, work) -> None:
        if item.id in self.unfinished:
            return
        self.unfinished[item.id] = item.tip_id if item.chat_id is not None else None
        key = item.chat_id if item.chat_id is not None else ("tip", item.tip_id)
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane(key)
        lane.queue.append(item)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(work(self, lane), name=f"warmline-outbox-{key}")

    def running(self) -> list[asyncio.Task[None]]:
        return [lane.task for lane in self.lanes.values() if lane.task and not lane.task.done()]

    async def finished(self, ids: set[int]) -> None:
        for item_id in ids:
            if item_id in self.unfinished:
                del self.unfinished[item_id]
                self.handled += 1
        async with self._changed:
            self._changed.notify_all()

    async def after_earlier_of_tip(self, item: OutboxItem) -> None:
        """Wait until no item written before ``item`` about its tip is still unfinished in a
        chat's lane. (The items for no one chat of a tip are one lane: in order already, and
        one written earlier may come due later, behind this one.)"""

        def clear() -> bool:
            return not any(
                other < item.id and tip is not None and tip == item.tip_id
                for other, tip in self.unfinished.items()
            )

        async with self._changed:
            await self._changed.wait_for(clear)
