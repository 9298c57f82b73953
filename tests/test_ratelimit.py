"""FloodGuard (bot/ratelimit.py): sliding windows that are never overfull, one chat's limit
delays only that chat, order within a chat is kept, a 429 pauses only its chat."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram.error import RetryAfter

from bot.ratelimit import FloodGuard
from tests.harness import WAIT_S


class Api:
    """A fake Bot API: records (chat, text, start, end) of every call; answers after ``delay``."""

    def __init__(self, guard: FloodGuard, delay: float = 0.002) -> None:
        self.guard = guard
        self.delay = delay
        self.calls: list[tuple[object, str, float, float]] = []
        self.refuse: dict[str, int] = {}  # text → how many times to answer 429 first

    async def send(self, chat: object, text: str, endpoint: str = "sendMessage") -> str:
        async def call() -> str:
            start = self.guard.clock()
            await asyncio.sleep(self.delay)
            if self.refuse.get(text):
                self.refuse[text] -= 1
                raise RetryAfter(dt.timedelta(seconds=5))
            self.calls.append((chat, text, start, self.guard.clock()))
            return text

        return await self.guard.process_request(call, (), {}, endpoint, {"chat_id": chat}, None)


def assert_never_overfull(calls, chat, limit: int, span: float) -> None:
    """Telegram's reading: between the first answer and a later request's start, at most
    ``limit`` messages in any ``span`` seconds (measured from a request's start)."""
    mine = [c for c in calls if chat is None or c[0] == chat]
    for i, (_, _, start, _) in enumerate(mine):
        earlier = [c for c in mine[:i] if c[3] > start - span]
        assert len(earlier) < limit, (chat, i, len(earlier))


async def test_a_group_gets_at_most_its_limit_in_any_window_and_in_order() -> None:
    guard = FloodGuard(overall=(100, 1.0), per_group=(3, 0.4), per_private=(5, 1.0))
    api = Api(guard)
    texts = [f"card {i}" for i in range(8)]
    await asyncio.gather(*(api.send(-100, t) for t in texts))
    assert [c[1] for c in api.calls] == texts
    assert_never_overfull(api.calls, -100, 3, 0.4)
    # It really waited: 8 messages at 3 per 0.4 s cannot fit in one window.
    assert api.calls[-1][2] - api.calls[0][2] >= 0.8


async def test_a_private_chat_never_waits_behind_a_group_at_its_limit() -> None:
    guard = FloodGuard(overall=(100, 1.0), per_group=(2, 30.0), per_private=(5, 1.0))
    api = Api(guard)
    group = [asyncio.create_task(api.send(-100, f"card {i}")) for i in range(4)]
    await asyncio.sleep(0.05)
    await asyncio.wait_for(api.send(42, "received"), timeout=WAIT_S)
    sent = [c[1] for c in api.calls]
    assert "received" in sent and "card 2" not in sent  # the group is still waiting
    for task in group:
        task.cancel()
    await asyncio.gather(*group, return_exceptions=True)


async def test_the_overall_limit_holds_across_chats() -> None:
    guard = FloodGuard(overall=(4, 0.3), per_group=(20, 60.0), per_private=(50, 1.0))
    api = Api(guard)
    await asyncio.gather(*(api.send(1000 + i, "hi") for i in range(10)))
    assert len(api.calls) == 10
    assert_never_overfull(api.calls, None, 4, 0.3)


async def test_calls_that_post_nothing_are_never_held() -> None:
    guard = FloodGuard(overall=(1, 30.0), per_group=(1, 30.0), per_private=(1, 30.0))
    api = Api(guard)
    await api.send(7, "first")
    await asyncio.wait_for(api.send(7, "press", endpoint="answerCallbackQuery"), timeout=WAIT_S)
    assert [c[1] for c in api.calls] == ["first", "press"]


async def test_a_429_pauses_only_its_chat_and_is_tried_again() -> None:
    guard = FloodGuard(overall=(100, 1.0), per_group=(20, 60.0), per_private=(5, 1.0))
    api = Api(guard)
    api.refuse["card"] = 1
    card = asyncio.create_task(api.send(-100, "card"))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(api.send(-200, "other group"), timeout=WAIT_S)
    await asyncio.wait_for(api.send(5, "receipt"), timeout=WAIT_S)
    assert [c[1] for c in api.calls] == ["other group", "receipt"]  # the card waits 5 s
    assert await asyncio.wait_for(card, timeout=60) == "card"
    assert [c[1] for c in api.calls][-1] == "card"
