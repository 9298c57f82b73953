"""The database-side aggregates (daily summary, ledger totals) give exactly what the Python
versions give over the same rows: counts, outcomes, supplies, and the medians of the
durations as the histograms bucket them (bot/domain/histogram.py)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from bot.db.database import Database, to_db_time
from bot.db.repo import Repo
from bot.domain.rewards import RewardState, movements_from_sums
from bot.domain.schedule import figures
from tests.oracles import movements, tally, tips_created_between

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
OUTCOMES = [None, "brought_in", "hospital", "supplies_only", "family", "not_found", "gone",
            "duplicate", "invalid"]  # fmt: skip
SUPPLIES = ["", "coat", "coat,quilt", "drink,food,hotline_card", "quilt"]


async def seeded(tmp_path: Path, n: int, seed: int) -> tuple[Database, Repo]:
    db = await Database(tmp_path / f"t{seed}.sqlite3").open()
    rng = random.Random(seed)
    async with db.write() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
            (to_db_time(T0), to_db_time(T0)),
        )
        for i in range(1, n + 1):
            created = T0 + dt.timedelta(seconds=rng.uniform(0, 5 * 86400))
            claimed = arrived = None
            if rng.random() < 0.7:
                claimed = created + dt.timedelta(microseconds=rng.randrange(1, 40 * 60 * 10**6))
                if rng.random() < 0.8:
                    arrived = claimed + dt.timedelta(microseconds=rng.randrange(0, 10**9))
            if rng.random() < 0.1:  # equal durations: ties in the sort
                claimed = created + dt.timedelta(minutes=5)
            outcome = rng.choice(OUTCOMES)
            await tx.execute(
                """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people, state,
                       outcome, supplies, group_key, created_at, updated_at, claimed_at,
                       arrived_at)
                   VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', ?, ?, ?, 'g1', ?, ?, ?, ?)""",
                (
                    f"HS-{i:04d}",
                    "closed" if outcome else "dispatched",
                    outcome,
                    rng.choice(SUPPLIES) or None,
                    to_db_time(created),
                    to_db_time(created),
                    to_db_time(claimed) if claimed else None,
                    to_db_time(arrived) if arrived else None,
                ),
            )
            if outcome and rng.random() < 0.5:
                await tx.execute(
                    """INSERT INTO rewards (id, tip_id, reporter_id, amount, currency, state,
                           created_at, updated_at) VALUES (?, ?, 1, 200, 'CNY', ?, ?, ?)""",
                    (i, i, rng.choice(["pending", "paid"]), to_db_time(T0), to_db_time(T0)),
                )
                for entry in rng.sample(["pending", "approved", "paid", "reversal"], 2):
                    amount = -200 if entry == "reversal" else 200
                    await tx.execute(
                        """INSERT INTO ledger (reward_id, tip_id, entry, amount, currency, at)
                           VALUES (?, ?, ?, ?, 'CNY', ?)""",
                        (i, i, entry, amount, to_db_time(created)),
                    )
    return db, Repo.on(db)


async def test_tip_tally_matches_the_tips(tmp_path: Path) -> None:
    for seed, n in ((1, 0), (2, 1), (3, 2), (4, 151), (5, 300)):
        db, repo = await seeded(tmp_path, n, seed)
        try:
            windows = [
                (None, T0 + dt.timedelta(days=9)),
                (T0, T0 + dt.timedelta(days=1)),
                (T0 + dt.timedelta(hours=30), T0 + dt.timedelta(hours=31)),
                (T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=4, hours=7)),
            ]
            for since, until in windows:
                tips = await tips_created_between(db, since, until)
                counted = await repo.stats.tally(since, until)
                assert counted == tally(tips, bucketed=True), (seed, since, until)
                args = ([], 1, 2, 3, 4)
                assert figures(counted, *args) == figures(tally(tips, bucketed=True), *args)
        finally:
            await db.close()


async def test_ledger_sums_match_the_entries(tmp_path: Path) -> None:
    db, repo = await seeded(tmp_path, 200, 9)
    try:
        for since, until in (
            (None, None),
            (T0, T0 + dt.timedelta(days=1)),
            (T0 + dt.timedelta(days=2), None),
        ):
            entries = await repo.ledger.entries(since, until)
            expected = movements([(e["entry"], int(e["amount"])) for e in entries])
            assert movements_from_sums(await repo.ledger.sums(since, until)) == expected
        pending = await repo.rewards.in_states((RewardState.PENDING,), limit=100_000)
        assert await repo.rewards.count(RewardState.PENDING) == len(pending)
    finally:
        await db.close()


async def test_fr15_reward_state_sums_count_each_reward_once(tmp_path: Path) -> None:
    """/ledger's "state now": every reward once, in its current state (not its entries)."""
    db, repo = await seeded(tmp_path, 200, 11)
    try:
        rewards = await repo.rewards.in_states(tuple(RewardState), limit=100_000)
        assert rewards
        expected: dict[str, tuple[int, int]] = {}
        for reward in rewards:
            count, total = expected.get(reward.state.value, (0, 0))
            paid = reward.paid_amount if reward.state is RewardState.PAID else None
            expected[reward.state.value] = (count + 1, total + (paid or reward.amount))
        assert await repo.rewards.state_sums() == expected
    finally:
        await db.close()
