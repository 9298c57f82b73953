"""The running totals of migration 0015 (``tip_hours``, ``ledger_hours``) always equal a full
recount of the tips and ledger entries: after a random mix of inserts, claims, arrivals,
outcomes, supply changes, purges and reversals, after a transaction rolled back half-way,
and when the migration fills them in from rows that were there before it."""

from __future__ import annotations

import datetime as dt
import random
from importlib import resources
from pathlib import Path

import pytest

from bot.db import rollups
from bot.db.database import Database, _split_sql, to_db_time
from bot.db.repo import Repo
from bot.domain.rewards import LedgerEntry, movements_from_sums
from bot.domain.tips import Outcome, Supply
from tests.oracles import movements, tally, tips_created_between

T0 = dt.datetime(2026, 12, 1, 3, 17, tzinfo=dt.UTC)
SUPPLIES = [None, "coat", "coat,quilt", "drink,food,hotline_card", "quilt", "hotline_card"]
TIP_COLUMNS = ("received", "claimed", "arrived", *rollups.OUTCOME_COLUMNS.values(),
               *rollups.SUPPLY_COLUMNS.values())  # fmt: skip


def _contrib_sql() -> str:
    """A recount of ``tip_hours`` from the tips, written independently of the triggers."""
    parts = ["COUNT(*)", "COUNT(claimed_at)", "COUNT(arrived_at)"]
    parts += [f"SUM(outcome IS '{o.value}')" for o in Outcome]
    parts += [
        f"SUM(instr(',' || COALESCE(supplies, '') || ',', ',{s.value},') > 0)" for s in Supply
    ]
    return ", ".join(parts)


async def recount(db: Database) -> tuple[dict, dict]:
    tips = {
        r[0]: tuple(int(v) for v in tuple(r)[1:])
        for r in await db.fetchall(
            f"SELECT substr(created_at, 1, 13), {_contrib_sql()} FROM tips GROUP BY 1"
        )
    }
    ledger: dict[str, list[int]] = {}
    for r in await db.fetchall(
        "SELECT substr(at, 1, 13) AS h, entry, COUNT(*) AS n, SUM(amount) AS y FROM ledger"
        " GROUP BY 1, 2"
    ):
        row = ledger.setdefault(r["h"], [0] * (2 * len(LedgerEntry)))
        i = list(rollups.LEDGER_COLUMNS).index(r["entry"])
        row[2 * i], row[2 * i + 1] = int(r["n"]), int(r["y"])
    return tips, {h: tuple(v) for h, v in ledger.items()}


async def kept(db: Database) -> tuple[dict, dict]:
    """The running totals, without the hours that came back to zero."""
    tips = {
        r[0]: tuple(int(v) for v in tuple(r)[1:])
        for r in await db.fetchall(f"SELECT hour, {', '.join(TIP_COLUMNS)} FROM tip_hours")
    }
    cols = [c for pair in rollups.LEDGER_COLUMNS.values() for c in pair]
    ledger = {
        r[0]: tuple(int(v) for v in tuple(r)[1:])
        for r in await db.fetchall(f"SELECT hour, {', '.join(cols)} FROM ledger_hours")
    }
    return (
        {h: v for h, v in tips.items() if any(v)},
        {h: v for h, v in ledger.items() if any(v)},
    )


async def assert_equal_to_recount(db: Database, repo: Repo, rng: random.Random) -> None:
    assert await kept(db) == await recount(db)
    # And through the stores, over windows with partial hours at either end.
    for _ in range(3):
        since = T0 + dt.timedelta(seconds=rng.uniform(-3600, 3 * 86400))
        until = since + dt.timedelta(seconds=rng.uniform(0, 2 * 86400))
        for a, b in ((since, until), (None, until)):
            assert await repo.stats.tally(a, b) == tally(
                await tips_created_between(db, a, b), bucketed=True
            )
            entries = await repo.ledger.entries(a, b)
            expected = movements([(e["entry"], int(e["amount"])) for e in entries])
            assert movements_from_sums(await repo.ledger.sums(a, b)) == expected


class Boom(Exception):
    pass


async def add_tip(tx, rng: random.Random, i: int) -> None:
    created = T0 + dt.timedelta(seconds=rng.uniform(0, 3 * 86400))
    await tx.execute(
        """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people, state,
               group_key, created_at, updated_at)
           VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', 'dispatched', 'g1', ?, ?)""",
        (f"HS-{i:05d}", to_db_time(created), to_db_time(created)),
    )


async def change_tip(tx, rng: random.Random, tip_id: int) -> None:
    row = await (await tx.execute("SELECT created_at FROM tips WHERE id = ?", (tip_id,))).fetchone()
    created = dt.datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    later = to_db_time(created + dt.timedelta(seconds=rng.uniform(1, 7200)))
    what = rng.randrange(5)
    if what == 0:
        await tx.execute("UPDATE tips SET claimed_at = ?, state = 'claimed' WHERE id = ?",
                         (later, tip_id))  # fmt: skip
    elif what == 1:
        await tx.execute("UPDATE tips SET arrived_at = ? WHERE id = ?", (later, tip_id))
    elif what == 2:
        outcome = rng.choice([None, *[o.value for o in Outcome]])
        await tx.execute(
            "UPDATE tips SET outcome = ?, state = ? WHERE id = ?",
            (outcome, "closed" if outcome else "dispatched", tip_id),
        )
    elif what == 3:
        await tx.execute(
            "UPDATE tips SET supplies = ? WHERE id = ?", (rng.choice(SUPPLIES), tip_id)
        )
    else:  # released: the claim undone
        await tx.execute("UPDATE tips SET claimed_at = NULL, arrived_at = NULL WHERE id = ?",
                         (tip_id,))  # fmt: skip


async def add_entry(tx, rng: random.Random, tip_id: int) -> None:
    at = T0 + dt.timedelta(seconds=rng.uniform(0, 3 * 86400))
    await tx.execute(
        """INSERT OR IGNORE INTO rewards (id, tip_id, reporter_id, amount, currency, state,
               created_at, updated_at) VALUES (?, ?, 1, 200, 'CNY', 'pending', ?, ?)""",
        (tip_id, tip_id, to_db_time(at), to_db_time(at)),
    )
    entry = rng.choice(list(LedgerEntry))
    amount = -200 if entry is LedgerEntry.REVERSAL else rng.choice([200, 150])
    await tx.execute(
        """INSERT INTO ledger (reward_id, tip_id, entry, amount, currency, at)
           VALUES (?, ?, ?, ?, 'CNY', ?)""",
        (tip_id, tip_id, entry.value, amount, to_db_time(at)),
    )


async def test_running_totals_equal_a_recount_after_a_random_mix(tmp_path: Path) -> None:
    db = await Database(tmp_path / "r.sqlite3").open()
    repo = Repo.on(db)
    rng = random.Random(16)
    try:
        async with db.write() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
                (to_db_time(T0), to_db_time(T0)),
            )
        n = 0
        for step in range(400):
            roll = rng.random()
            crash = rng.random() < 0.1
            try:
                async with db.write() as tx:
                    if roll < 0.35 or n == 0:
                        n += 1
                        await add_tip(tx, rng, n)
                    elif roll < 0.75:
                        for _ in range(rng.randint(1, 3)):
                            await change_tip(tx, rng, rng.randint(1, n))
                    elif roll < 0.9:
                        await add_entry(tx, rng, rng.randint(1, n))
                    else:
                        await repo.maintenance.purge_tip(tx, rng.randint(1, n), T0)
                    if crash:  # a crash mid-way: everything of this transaction rolls back
                        raise Boom
            except Boom:
                if roll < 0.35 or (n == 1 and step == 0):
                    n -= 1
            if step % 50 == 49:
                await assert_equal_to_recount(db, repo, rng)
        assert n > 50
        # Rows deleted outright (not something the bot does to a tip today, but the totals
        # follow): the tips without rewards.
        async with db.write() as tx:
            await tx.execute(
                "DELETE FROM tips WHERE id % 7 = 0 AND id NOT IN (SELECT tip_id FROM rewards)"
            )
        await assert_equal_to_recount(db, repo, rng)
        tips, ledger = await kept(db)
        assert tips and ledger  # the comparison compared something
        assert any(v[-1] for v in ledger.values())  # reversals among them
    finally:
        await db.close()


async def test_a_rolled_back_transaction_leaves_the_totals_unchanged(tmp_path: Path) -> None:
    db = await Database(tmp_path / "c.sqlite3").open()
    rng = random.Random(3)
    try:
        async with db.write() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
                (to_db_time(T0), to_db_time(T0)),
            )
            await add_tip(tx, rng, 1)
        before = await kept(db)
        with pytest.raises(Boom):
            async with db.write() as tx:
                await add_tip(tx, rng, 2)
                await tx.execute("UPDATE tips SET outcome = 'brought_in' WHERE id = 1")
                await add_entry(tx, rng, 1)
                raise Boom
        assert await kept(db) == before
        assert sum(v[0] for v in before[0].values()) == 1
    finally:
        await db.close()


def test_every_outcome_supply_and_ledger_entry_has_its_column() -> None:
    sql = resources.files("bot.db").joinpath("migrations/0015_rollups.sql").read_text("utf-8")
    for column in TIP_COLUMNS:
        assert f"    {column} INTEGER NOT NULL DEFAULT 0" in sql, column
        assert f"{column} = {column} + " in sql and f"{column} = {column} - " in sql, column
    for n, y in rollups.LEDGER_COLUMNS.values():
        assert f"{n} = {n} + " in sql and f"{y} = {y} + " in sql, (n, y)


async def test_the_migration_fills_the_totals_in_from_the_rows_there_are(tmp_path: Path) -> None:
    db = await Database(tmp_path / "m.sqlite3").open()
    rng = random.Random(5)
    try:
        async with db.write() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
                (to_db_time(T0), to_db_time(T0)),
            )
            for i in range(1, 120):
                await add_tip(tx, rng, i)
                await change_tip(tx, rng, i)
                await change_tip(tx, rng, i)
                if i % 3 == 0:
                    await add_entry(tx, rng, i)
        expected = await recount(db)
        assert expected[0] and expected[1]
        sql = resources.files("bot.db").joinpath("migrations/0015_rollups.sql").read_text("utf-8")
        fills = [s for s in _split_sql(sql) if s.lstrip().startswith("INSERT INTO")]
        assert len(fills) == 2
        async with db.write() as tx:
            await tx.execute("DELETE FROM tip_hours")
            await tx.execute("DELETE FROM ledger_hours")
            for statement in fills:
                await tx.execute(statement)
        assert await kept(db) == expected
    finally:
        await db.close()
