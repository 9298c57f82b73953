"""The duration histograms (and their blocks, migration 0017), station-day ledger totals and
reward counts of migration 0016 always equal a full recount from the rows (each tip's
durations bucketed by bot/domain/histogram.py, in Python): after a random mix of new tips,
claims, releases, arrivals, purges, ledger entries with reversals and deletes, with
transactions rolled back half-way; through the stores on random windows with partial hours
and days, for the default station offset and for others; when the migrations fill them in;
and when the day tables are re-aligned to another offset. The quantiles read through the
blocks are those of the whole histogram on the same random windows (more:
tests/test_histogram_blocks.py)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from bot.db import rollups
from bot.db.database import Database, _split_sql, from_db_time, to_db_time
from bot.db.repo import Repo
from bot.domain.campaign import Leg, Spread, ranks_needed, spread
from bot.domain.histogram import (
    BUCKETS,
    FINE_LIMIT_MICROS,
    block_of,
    bucket_micros,
    bucket_of,
    day_shift_minutes,
    spread_of,
)
from bot.domain.rewards import LedgerEntry, RewardState, movements_from_sums
from tests.oracles import bucketed_micros, movements, tally, tips_created_between

T0 = dt.datetime(2026, 12, 1, 3, 17, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)
#: Durations at and around every edge of the bucket ladder (seconds).
EDGES_S = [0, 2.999999, 3, 8.999999, 9, 3596.999999, 3597, 3629.999999, 3630, 86369.999999,
           86370, 1207799.999999, 1207800, 2_000_000]  # fmt: skip
LEG_ENDS = {
    Leg.REPORT_CLAIM: ("created_at", "claimed_at"),
    Leg.CLAIM_ARRIVAL: ("claimed_at", "arrived_at"),
    Leg.REPORT_ARRIVAL: ("created_at", "arrived_at"),
}


class Boom(Exception):
    pass


def _at(value: str | None) -> dt.datetime | None:
    return None if value is None else from_db_time(value)


def _duration(rng: random.Random) -> dt.timedelta:
    roll = rng.random()
    if roll < 0.15:
        return dt.timedelta(seconds=rng.choice(EDGES_S))
    if roll < 0.6:
        return dt.timedelta(microseconds=rng.randrange(0, 3_600_000_000))
    if roll < 0.9:
        return dt.timedelta(microseconds=rng.randrange(0, 86_400_000_000))
    return dt.timedelta(microseconds=rng.randrange(0, 30 * 86_400_000_000))


async def add_tip(tx, rng: random.Random, i: int) -> None:
    created = T0 + dt.timedelta(microseconds=rng.randrange(0, 5 * 86_400_000_000))
    claimed = arrived = None
    if rng.random() < 0.5:
        claimed = created + _duration(rng)
        if rng.random() < 0.6:
            arrived = claimed + _duration(rng)
    await tx.execute(
        """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people, state,
               group_key, created_at, updated_at, claimed_at, arrived_at)
           VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', 'dispatched', 'g1', ?, ?, ?, ?)""",
        (
            f"HS-{i:05d}",
            to_db_time(created),
            to_db_time(created),
            claimed and to_db_time(claimed),
            arrived and to_db_time(arrived),
        ),
    )


async def change_tip(tx, rng: random.Random, tip_id: int) -> None:
    row = await (
        await tx.execute("SELECT created_at, claimed_at FROM tips WHERE id = ?", (tip_id,))
    ).fetchone()
    if row is None:
        return
    created, claimed = _at(row[0]), _at(row[1])
    what = rng.randrange(5)
    if what == 0:  # claimed (again)
        await tx.execute(
            "UPDATE tips SET claimed_at = ?, state = 'claimed' WHERE id = ?",
            (to_db_time(created + _duration(rng)), tip_id),
        )
    elif what == 1:  # someone on scene
        await tx.execute(
            "UPDATE tips SET arrived_at = ? WHERE id = ?",
            (to_db_time((claimed or created) + _duration(rng)), tip_id),
        )
    elif what == 2:  # released: the claim undone
        await tx.execute(
            "UPDATE tips SET claimed_at = NULL, arrived_at = NULL WHERE id = ?", (tip_id,)
        )
    elif what == 3:  # a change that moves no moment (though it writes them again)
        await tx.execute(
            """UPDATE tips SET outcome = 'brought_in', state = 'closed', claimed_at = claimed_at,
                   arrived_at = arrived_at WHERE id = ?""",
            (tip_id,),
        )
    else:  # a moment and the arrival time moved at once
        await tx.execute(
            "UPDATE tips SET created_at = ?, arrived_at = NULL WHERE id = ?",
            (to_db_time(T0 + dt.timedelta(seconds=rng.uniform(0, 5 * 86400))), tip_id),
        )


async def add_entry(tx, rng: random.Random, tip_id: int) -> None:
    at = T0 + dt.timedelta(microseconds=rng.randrange(0, 5 * 86_400_000_000))
    state = rng.choice(list(RewardState)).value
    await tx.execute(
        """INSERT INTO rewards (id, tip_id, reporter_id, amount, currency, state,
               created_at, updated_at) VALUES (?, ?, 1, 200, 'CNY', ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET state = excluded.state""",
        (tip_id, tip_id, state, to_db_time(at), to_db_time(at)),
    )
    entry = rng.choice(list(LedgerEntry))
    amount = -200 if entry is LedgerEntry.REVERSAL else rng.choice([200, 150])
    await tx.execute(
        """INSERT INTO ledger (reward_id, tip_id, entry, amount, currency, at)
           VALUES (?, ?, ?, ?, 'CNY', ?)""",
        (tip_id, tip_id, entry.value, amount, to_db_time(at)),
    )


# -- the recount (plain Python over the rows) ---------------------------------------------------


async def _tip_rows(db: Database) -> list[dict]:
    return [dict(r) for r in await db.fetchall("SELECT * FROM tips")]


def _legs_of(tip: dict) -> dict[Leg, int]:
    """Each leg of a tip that has both its moments, as its bucket."""
    found = {}
    for leg, (a, b) in LEG_ENDS.items():
        if tip[a] is not None and tip[b] is not None:
            found[leg] = bucket_of((from_db_time(tip[b]) - from_db_time(tip[a])) // US)
    return found


def _day(moment: str, shift_minutes: int) -> str:
    return (from_db_time(moment) + dt.timedelta(minutes=shift_minutes)).date().isoformat()


async def recount(db: Database, shift_minutes: int) -> dict[str, Counter]:
    hours, days, totals = Counter(), Counter(), Counter()
    for tip in await _tip_rows(db):
        for leg, bucket in _legs_of(tip).items():
            hours[(tip["created_at"][:13], leg.value, bucket)] += 1
            days[(_day(tip["created_at"], shift_minutes), leg.value, bucket)] += 1
            totals[(leg.value, bucket)] += 1
    ledger = Counter()
    for e in await db.fetchall("SELECT entry, amount, at FROM ledger"):
        n, y = rollups.LEDGER_COLUMNS[e["entry"]]
        ledger[(_day(e["at"], shift_minutes), n)] += 1
        ledger[(_day(e["at"], shift_minutes), y)] += int(e["amount"])
    states = Counter(r["state"] for r in await db.fetchall("SELECT state FROM rewards"))
    counts = Counter()
    for tip in await _tip_rows(db):
        day = _day(tip["created_at"], shift_minutes)
        counts[(day, "received")] += 1
        counts[(day, "claimed")] += tip["claimed_at"] is not None
        counts[(day, "arrived")] += tip["arrived_at"] is not None
        if tip["outcome"]:
            counts[(day, rollups.OUTCOME_COLUMNS[tip["outcome"]])] += 1
        for item in filter(None, (tip["supplies"] or "").split(",")):
            counts[(day, rollups.SUPPLY_COLUMNS[item])] += 1
    day_blocks, total_blocks = Counter(), Counter()
    for (day, leg, bucket), n in days.items():
        day_blocks[(day, leg, block_of(bucket))] += n
    for (leg, bucket), n in totals.items():
        total_blocks[(leg, block_of(bucket))] += n
    return {"hours": hours, "days": days, "totals": totals, "ledger": ledger, "states": states,
            "counts": +counts, "day_blocks": day_blocks, "total_blocks": total_blocks}  # fmt: skip


async def kept(db: Database) -> dict[str, Counter]:
    def nonzero(pairs) -> Counter:
        return Counter({k: v for k, v in pairs if v})

    count_columns = ["received", "claimed", "arrived", *rollups.OUTCOME_COLUMNS.values(),
                     *rollups.SUPPLY_COLUMNS.values()]  # fmt: skip
    counts = []
    for r in await db.fetchall(f"SELECT day, {', '.join(count_columns)} FROM tip_days"):
        counts += [((r["day"], c), int(r[c])) for c in count_columns]
    ledger_columns = [c for pair in rollups.LEDGER_COLUMNS.values() for c in pair]
    ledger = []
    for r in await db.fetchall(f"SELECT day, {', '.join(ledger_columns)} FROM ledger_days"):
        ledger += [((r["day"], c), int(r[c])) for c in ledger_columns]
    return {
        "hours": nonzero(
            ((r[0], r[1], r[2]), r[3])
            for r in await db.fetchall("SELECT hour, leg, bucket, n FROM leg_hours")
        ),
        "days": nonzero(
            ((r[0], r[1], r[2]), r[3])
            for r in await db.fetchall("SELECT day, leg, bucket, n FROM leg_days")
        ),
        "totals": nonzero(
            ((r[0], r[1]), r[2])
            for r in await db.fetchall("SELECT leg, bucket, n FROM leg_totals")
        ),
        "ledger": nonzero(ledger),
        "states": nonzero((r[0], r[1]) for r in await db.fetchall("SELECT * FROM reward_states")),
        "counts": nonzero(counts),
        "day_blocks": nonzero(
            ((r[0], r[1], r[2]), r[3])
            for r in await db.fetchall("SELECT day, leg, block, n FROM leg_day_blocks")
        ),
        "total_blocks": nonzero(
            ((r[0], r[1]), r[2])
            for r in await db.fetchall("SELECT leg, block, n FROM leg_total_blocks")
        ),
    }


def _exact_spread(durations: list[int]) -> Spread:
    """The quantiles of the bucketed durations, from the sorted list itself."""
    values = sorted(bucket_micros(bucket_of(d)) for d in durations)
    return spread(len(values), {r: values[r] for r in ranks_needed(len(values))})


async def expected_spreads(db: Database, since, until) -> dict[Leg, Spread]:
    tips = [
        t
        for t in await _tip_rows(db)
        if (since is None or t["created_at"] >= to_db_time(since))
        and t["created_at"] < to_db_time(until)
    ]
    found = {}
    for leg, (a, b) in LEG_ENDS.items():
        durations = [
            (from_db_time(t[b]) - from_db_time(t[a])) // US
            for t in tips
            if t[a] is not None and t[b] is not None
        ]
        found[leg] = _exact_spread(durations)
    return found


def windows(rng: random.Random, tz: dt.tzinfo) -> list[tuple[dt.datetime | None, dt.datetime]]:
    """Random windows: any instants; station midnights (whole days, and the summary's
    "yesterday" / "to date"); long ones; from the beginning."""
    found: list[tuple[dt.datetime | None, dt.datetime]] = []
    for _ in range(3):
        since = T0 + dt.timedelta(seconds=rng.uniform(-7200, 5 * 86400))
        found.append((since, since + dt.timedelta(seconds=rng.uniform(0, 3 * 86400))))
        found.append((None, since))
    first = dt.datetime.combine((T0 - dt.timedelta(days=1)).date(), dt.time(), tzinfo=tz)
    for _ in range(3):
        start = first + dt.timedelta(days=rng.randint(0, 5))
        found.append((start, start + dt.timedelta(days=rng.randint(1, 6))))
        found.append((start, start + dt.timedelta(days=1, hours=rng.randint(1, 30))))
    found.append((first, first + dt.timedelta(days=30)))
    return found


async def assert_equal_to_recount(db: Database, repo: Repo, rng: random.Random, tz) -> None:
    shift = await repo.stats.histograms.shift_minutes()
    assert await kept(db) == await recount(db, shift)
    for a, b in windows(rng, tz):
        shown = await repo.stats.spreads(a, b)
        assert shown == await expected_spreads(db, a, b), (a, b)
        # Through the blocks, exactly what the whole histogram gives.
        whole = await repo.stats.histograms.legs(a, b)
        assert shown == {leg: spread_of(h) for leg, h in whole.items()}, (a, b)
        assert await repo.stats.tally(a, b) == tally(
            await tips_created_between(db, a, b), bucketed=True
        )
        entries = await repo.ledger.entries(a, b)
        expected = movements([(e["entry"], int(e["amount"])) for e in entries])
        assert movements_from_sums(await repo.ledger.sums(a, b)) == expected, (a, b)
    for state in RewardState:
        row = await db.fetchone("SELECT COUNT(*) AS n FROM rewards WHERE state = ?", (state.value,))
        assert await repo.rewards.count(state) == row["n"]


async def _user(db: Database) -> None:
    async with db.write() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
            (to_db_time(T0), to_db_time(T0)),
        )


@pytest.mark.parametrize(
    ("zone", "seed"), [("Asia/Shanghai", 16), ("America/New_York", 17), ("Asia/Kolkata", 18)]
)
async def test_histograms_equal_a_recount_after_a_random_mix(
    tmp_path: Path, zone: str, seed: int
) -> None:
    import zoneinfo

    tz = zoneinfo.ZoneInfo(zone)
    db = await Database(tmp_path / "h.sqlite3").open()
    repo = Repo.on(db)
    rng = random.Random(seed)
    try:
        await _user(db)
        # The day tables follow the station's offset (Shanghai: the default, nothing to do).
        rebuilt = await repo.stats.align_days(day_shift_minutes(tz, T0.date()))
        assert rebuilt is (zone != "Asia/Shanghai")
        n = crashes = 0
        for step in range(300):
            roll = rng.random()
            crash = rng.random() < 0.1
            added = 0
            try:
                async with db.write() as tx:
                    if roll < 0.35 or n == 0:
                        added = 1
                        await add_tip(tx, rng, n + 1)
                    elif roll < 0.75:
                        for _ in range(rng.randint(1, 3)):
                            await change_tip(tx, rng, rng.randint(1, n))
                    elif roll < 0.9:
                        await add_entry(tx, rng, rng.randint(1, n))
                    else:
                        await repo.maintenance.purge_tip(tx, rng.randint(1, n), T0)
                    if crash:  # a crash mid-way: everything of this transaction rolls back
                        raise Boom
                n += added
            except Boom:
                crashes += 1
            if step % 75 == 74:
                await assert_equal_to_recount(db, repo, rng, tz)
        assert n > 50 and crashes > 10
        async with db.write() as tx:  # rows deleted outright: the tips without rewards
            await tx.execute(
                "DELETE FROM tips WHERE id % 7 = 0 AND id NOT IN (SELECT tip_id FROM rewards)"
            )
            await tx.execute("DELETE FROM rewards WHERE id % 5 = 0 AND id NOT IN"
                             " (SELECT reward_id FROM ledger)")  # fmt: skip
        await assert_equal_to_recount(db, repo, rng, tz)
        counted = await kept(db)
        assert counted["hours"] and counted["ledger"] and counted["states"]
        assert any(k[0] == "report_arrival" for k in counted["totals"])
        assert any(k[1] == "y_reversal" for k in counted["ledger"])  # reversals among them
        assert max(b for _, b in counted["totals"]) >= 1980  # the coarse buckets were used
        assert len(counted["total_blocks"]) < len(counted["totals"])  # blocks of many buckets
    finally:
        await db.close()


async def test_a_rolled_back_transaction_leaves_the_histograms_unchanged(tmp_path: Path) -> None:
    db = await Database(tmp_path / "c.sqlite3").open()
    rng = random.Random(3)
    try:
        await _user(db)
        async with db.write() as tx:
            for i in range(1, 6):
                await add_tip(tx, rng, i)
            await tx.execute("UPDATE tips SET claimed_at = created_at, arrived_at = created_at")
        before = await kept(db)
        assert before["totals"]
        with pytest.raises(Boom):
            async with db.write() as tx:
                await add_tip(tx, rng, 9)
                await tx.execute("UPDATE tips SET claimed_at = NULL WHERE id = 1")
                await tx.execute("DELETE FROM tips WHERE id = 2")
                await add_entry(tx, rng, 3)
                raise Boom
        assert await kept(db) == before
    finally:
        await db.close()


def _migration(name: str = "0016_histograms") -> str:
    return resources.files("bot.db").joinpath(f"migrations/{name}.sql").read_text("utf-8")


def _fills(name: str) -> list[str]:
    return [s for s in _split_sql(_migration(name)) if s.lstrip().startswith("INSERT INTO")]


async def test_the_migration_fills_them_in_from_the_rows_there_are(tmp_path: Path) -> None:
    db = await Database(tmp_path / "m.sqlite3").open()
    rng = random.Random(5)
    try:
        await _user(db)
        async with db.write() as tx:
            for i in range(1, 150):
                await add_tip(tx, rng, i)
                await change_tip(tx, rng, i)
                if i % 3 == 0:
                    await add_entry(tx, rng, i)
        expected = await recount(db, 480)
        assert expected["totals"] and expected["ledger"] and expected["states"]
        assert expected["counts"] and expected["day_blocks"] and expected["total_blocks"]
        # The shift, three levels of legs, the tips' and the ledger's days, the states.
        assert len(_fills("0016_histograms")) == 7
        async with db.write() as tx:
            for table in ("rollup_days", "leg_hours", "leg_days", "leg_totals", "tip_days",
                          "ledger_days", "reward_states", "leg_day_blocks",
                          "leg_total_blocks"):  # fmt: skip
                await tx.execute(f"DELETE FROM {table}")
            for statement in _fills("0016_histograms"):  # 0017's triggers make the blocks
                await tx.execute(statement)
        assert await kept(db) == expected
        # 0017 fills the blocks in from the buckets 0016 counted.
        assert len(_fills("0017_histogram_blocks")) == 2
        async with db.write() as tx:
            await tx.execute("DELETE FROM leg_day_blocks")
            await tx.execute("DELETE FROM leg_total_blocks")
            for statement in _fills("0017_histogram_blocks"):
                await tx.execute(statement)
        assert await kept(db) == expected
    finally:
        await db.close()


async def test_re_aligning_the_days_rebuilds_them_for_the_new_offset(tmp_path: Path) -> None:
    db = await Database(tmp_path / "a.sqlite3").open()
    repo = Repo.on(db)
    rng = random.Random(7)
    try:
        await _user(db)
        async with db.write() as tx:
            for i in range(1, 80):
                await add_tip(tx, rng, i)
                await add_entry(tx, rng, i)
        assert not await repo.stats.align_days(480)  # as it is: nothing to do
        for shift in (-300, 330, 0, 480):
            assert await repo.stats.align_days(shift)
            assert await repo.stats.histograms.shift_minutes() == shift
            assert await kept(db) == await recount(db, shift)
    finally:
        await db.close()


# -- the ladder and the quantiles (pure) --------------------------------------------------------


def test_every_bucket_holds_its_own_value_and_the_ladder_has_no_gap() -> None:
    for bucket in range(BUCKETS):
        assert bucket_of(bucket_micros(bucket)) == bucket
    edges = [round(s * 1_000_000) for s in EDGES_S]
    assert [bucket_of(e) for e in edges] == [0, 0, 1, 1, 2, 599, 600, 600, 601, 1979, 1980,
                                             2291, 2292, 2292]  # fmt: skip
    assert bucket_of(-5_000_000_000) == 0
    # Never a step back and never a bucket skipped (steps finer than the buckets).
    steps = [*range(0, 90_000, 1), *range(90_000, 1_300_000, 60)]
    previous = 0
    for seconds in steps:
        assert bucket_of(seconds * 1_000_000) in (previous, previous + 1), seconds
        previous = bucket_of(seconds * 1_000_000)
    assert previous == BUCKETS - 1
    with pytest.raises(ValueError):
        bucket_micros(BUCKETS)


def test_below_an_hour_the_shown_value_is_the_exact_ones() -> None:
    """Where the bucket is the display resolution (0.1 minute), the median and p90 shown
    with one decimal are what the exact durations give — unless the two values a quantile
    lies between fall in different buckets, or the exact value is a tie (x.x5 minutes)."""
    rng = random.Random(11)
    compared = 0
    for _ in range(2000):
        n = rng.choice([1, 11, 21, 31, 101])  # the median and the p90 each on a rank
        durations = [rng.randrange(0, FINE_LIMIT_MICROS) for _ in range(n)]
        hist = Counter(bucket_of(d) for d in durations)
        shown = spread_of(hist)
        exact = sorted(durations)
        for value, rank in ((shown.median, (n - 1) // 2), (shown.p90, (n - 1) * 9 // 10)):
            minutes = exact[rank] / 60_000_000
            if abs((minutes * 10) % 1 - 0.5) < 1e-6:
                continue  # a tie: either rounding is exact
            assert f"{value:.1f}" == f"{minutes:.1f}", (durations, value, minutes)
            compared += 1
    assert compared > 3000


def test_the_histogram_quantiles_are_those_of_the_bucketed_durations() -> None:
    rng = random.Random(12)
    for _ in range(500):
        durations = [rng.randrange(-10**7, 40 * 86_400_000_000) for _ in range(rng.randint(0, 40))]
        hist = Counter(bucket_of(d) for d in durations)
        assert spread_of(hist) == _exact_spread(durations)
        values = [bucketed_micros(dt.timedelta(microseconds=d)) for d in durations]
        if values:
            assert spread_of(hist).median == statistics.median(values) / 60_000_000
    assert spread_of({}) == Spread()
    with pytest.raises(ValueError):
        spread_of({3: -1})


async def test_the_summary_legs_are_those_stats_and_the_dashboard_show(tmp_path: Path) -> None:
    """On durations of whole tenths of a minute under an hour (each its bucket's value) the
    summary's legs and located counts equal the campaign figures' (bot/db/campaign_stats.py,
    exact), with reopened tips' earlier attempts among them."""
    import zoneinfo

    from bot.domain.campaign import Period, PeriodKey, offset_spans, period_figures, resolutions

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    db = await Database(tmp_path / "s.sqlite3").open()
    repo = Repo.on(db)
    rng = random.Random(21)
    outcomes = ["brought_in", "not_found", "gone", "duplicate", "family", None]
    try:
        await _user(db)
        async with db.write() as tx:
            for i in range(1, 200):
                created = T0 + dt.timedelta(seconds=rng.randrange(0, 4 * 86400))
                claimed = created + dt.timedelta(seconds=6 * rng.randrange(0, 250))
                arrived = claimed + dt.timedelta(seconds=6 * rng.randrange(0, 300))
                outcome = rng.choice(outcomes)
                await tx.execute(
                    """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people,
                           state, outcome, group_key, created_at, updated_at, claimed_at,
                           arrived_at)
                       VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', ?, ?, 'g1', ?, ?, ?,
                           ?)""",
                    (f"HS-{i:05d}", "closed" if outcome else "claimed", outcome,
                     to_db_time(created), to_db_time(created), to_db_time(claimed),
                     to_db_time(arrived) if rng.random() < 0.7 else None),
                )  # fmt: skip
                if i % 9 == 0:  # searched before, not found, reopened
                    await tx.execute(
                        """INSERT INTO tip_attempts (tip_id, attempt, outcome, closed_at,
                               reopened_at) VALUES (?, 1, 'not_found', ?, ?)""",
                        (i, to_db_time(created), to_db_time(created)),
                    )
        first = dt.datetime.combine(T0.date(), dt.time(), tzinfo=tz)
        day = dt.timedelta(days=1)
        for since, until in ((first, first + day), (first - day, first + 5 * day),
                             (first + day, first + 2 * day)):  # fmt: skip
            tallies = await repo.campaign.tallies(since, until, offset_spans(since, until, tz))
            f = period_figures(Period(PeriodKey.CAMPAIGN, since, until), tallies, 0)
            assert await repo.stats.spreads(since, until) == f.response
            assert f.response[Leg.REPORT_CLAIM].count > 10
            counted = await repo.stats.tally(since, until)
            earlier = await repo.stats.earlier_attempts(since, until)
            assert resolutions(counted.received, counted.outcomes, earlier) == f.counts.resolution
        assert earlier > 0
    finally:
        await db.close()
