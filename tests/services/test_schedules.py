"""The schedules through the services alone, on a clock the test moves (bot/services/
escalation.py, handover.py, schedules.py): each fires once, when due, on what is still due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.domain.outbox import CardPost
from bot.domain.schedule import Level
from bot.domain.tips import Action, Flag, State
from tests.services.kit import G1_CHAT, G1_MEMBER, G2_CHAT, G2_MEMBER, OFFICER, kit


async def levels(k, tip_id: int) -> list[str]:  # the escalations logged for a tip
    return [e["action"] for e in await k.repo.events.of(tip_id) if e["action"] in set(Level)]


async def handovers(k, tip_id: int) -> int:
    return len([e for e in await k.repo.events.of(tip_id) if e["action"] == "handover"])


async def test_an_unclaimed_tip_is_reposted_then_widened_once_each(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        schedules = k.services.schedules
        await schedules.tick()  # the first run of the day: the duty is recorded
        tip = await k.report()
        k.clock.advance(minutes=9)
        await schedules.tick()
        assert await levels(k, tip.id) == []  # not due yet
        k.clock.advance(minutes=2)
        await schedules.tick()
        await schedules.tick()  # twice: still once
        assert await levels(k, tip.id) == [Level.REPOST]
        assert (await k.told(G1_CHAT))[-1] == "escalate.repost"
        copies = [i for i in await k.queued(G1_CHAT) if isinstance(i.message, CardPost)]
        assert [c.message.copy for c in copies] == [False, True]  # type: ignore[union-attr]
        assert (await k.repo.tips.get(tip.id)).widened_at is None  # type: ignore[union-attr]
        k.clock.advance(minutes=10)
        await schedules.tick()
        assert await levels(k, tip.id) == [Level.REPOST, Level.WIDEN]
        widened = await k.repo.tips.get(tip.id)
        assert widened is not None and widened.widened_at == k.clock()
        assert (await k.told(G2_CHAT))[-1] == "escalate.widen_group"
        assert (await k.told(OFFICER))[-1] == "escalate.widen_officer"
        # From then on a member of the other group may take it on.
        assert (await k.services.field.act(tip.id, Action.CLAIM, G2_MEMBER)).ok


async def test_an_urgent_tip_escalates_sooner(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.services.schedules.tick()
        tip = await k.report(flags=frozenset({Flag.ILL}))
        k.clock.advance(minutes=6)
        await k.services.schedules.tick()
        assert await levels(k, tip.id) == [Level.REPOST]


async def test_a_claimed_tip_is_not_escalated_for_claiming(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.services.schedules.tick()
        tip = await k.report()
        assert (await k.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)).ok
        k.clock.advance(minutes=30)
        await k.services.schedules.tick()
        assert await levels(k, tip.id) == []
        k.clock.advance(minutes=20)  # 50 minutes after the claim, not on scene
        await k.services.schedules.tick()
        assert await levels(k, tip.id) == [Level.SCENE]
        assert (await k.told(G1_CHAT))[-1] == "escalate.scene"


async def test_the_handover_moves_unclaimed_tips_to_the_next_group(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        schedules = k.services.schedules
        await schedules.tick()  # g1 on duty: recorded
        waiting = await k.report()
        taken = await k.report(user=502, where=(30.25, 115.10))
        assert (await k.services.field.act(taken.id, Action.CLAIM, G1_MEMBER)).ok
        assert (await k.services.field.act(waiting.id, Action.CLAIM, G1_MEMBER)).ok
        assert (await k.services.field.act(waiting.id, Action.RELEASE, G1_MEMBER)).ok
        # The next hand-over (08:30 Huangshi time the next day).
        k.clock.now = dt.datetime(2026, 12, 2, 0, 31, tzinfo=dt.UTC)
        await schedules.tick()
        moved = await k.repo.tips.get(waiting.id)
        kept = await k.repo.tips.get(taken.id)
        assert moved is not None and moved.group_key == "g2" and moved.state is State.DISPATCHED
        assert moved.dispatched_at == k.clock()
        assert kept is not None and kept.group_key == "g1" and kept.state is State.CLAIMED
        assert "handover.off" in await k.told(G1_CHAT)
        assert "handover.on" in await k.told(G2_CHAT)
        assert "handover.officer" in await k.told(OFFICER)
        assert await handovers(k, waiting.id) == 1
        await schedules.tick()  # again: nothing more
        assert await handovers(k, waiting.id) == 1
