"""The dashboard's event stream (bot/web/dashboard/feed.py): a change goes out at once after
a quiet spell and at most once per gap in a burst, carrying everything changed meanwhile."""

from __future__ import annotations

import asyncio
import json

from bot.web.dashboard.feed import ChangeFeed, change_events


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.during_sleep: list[ChangeFeed] = []  # feeds to change while "asleep"

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        for feed in self.during_sleep:
            feed.changed()
        self.during_sleep.clear()


def version(event: str) -> int:
    assert event.startswith("event: change\ndata: "), event
    return json.loads(event.split("data: ", 1)[1])["v"]


def stream(feed: ChangeFeed, clock: Clock, signed_in=None, keepalive: float = 60.0):
    async def yes() -> bool:
        return True

    return change_events(
        feed, signed_in or yes, keepalive, gap=0.2, clock=clock, sleep=clock.sleep
    )


async def next_of(events) -> str:
    return await asyncio.wait_for(anext(events), 60)  # a stream that never yields fails


async def test_the_first_change_after_a_quiet_spell_goes_out_at_once() -> None:
    feed, clock = ChangeFeed(), Clock()
    events = stream(feed, clock)
    assert version(await next_of(events)) == 0  # the current state, at once
    clock.now += 5  # quiet
    waiting = asyncio.ensure_future(next_of(events))
    await asyncio.sleep(0)
    feed.changed()
    assert version(await waiting) == 1
    assert clock.slept == []  # nothing held it back
    await events.aclose()


async def test_a_burst_brings_one_change_per_gap_with_all_it_changed() -> None:
    feed, clock = ChangeFeed(), Clock()
    events = stream(feed, clock)
    await next_of(events)
    feed.changed()
    assert version(await next_of(events)) == 1
    assert clock.slept == []
    clock.now += 0.05  # the next commit 50 ms later: held until 0.2 s after the last event
    feed.changed()
    clock.during_sleep.append(feed)  # and one more commit while it waits
    assert version(await next_of(events)) == 3  # both ride on one event
    assert len(clock.slept) == 1 and abs(clock.slept[0] - 0.15) < 1e-9
    clock.now += 0.5  # quiet again: at once
    feed.changed()
    assert version(await next_of(events)) == 4
    assert len(clock.slept) == 1
    await events.aclose()


async def test_no_change_gives_a_keep_alive_and_signing_out_ends_the_stream() -> None:
    feed, clock = ChangeFeed(), Clock()
    signed = [True]

    async def signed_in() -> bool:
        return signed[0]

    events = stream(feed, clock, signed_in, keepalive=0.01)
    await next_of(events)
    assert await next_of(events) == ": keep-alive\n\n"
    signed[0] = False
    feed.changed()
    assert await next_of(events) == "event: signed_out\ndata: {}\n\n"
    try:
        await next_of(events)
    except StopAsyncIteration:
        pass
    else:
        raise AssertionError("the stream goes on after signing out")
