"""The quantiles read through the histogram blocks (migration 0017, bot/domain/histogram.py
``plan`` / ``spread_in_blocks``, bot/db/histograms.py ``spreads``) are exactly those of the
whole histogram: on random histograms (pure), when the counts change between the two reads,
and with a bounded number of rows read however many buckets are in use. That the blocks
equal a recount after random operations, crashes, purges, deletes and re-aligning is
tests/test_histograms.py (its ``kept`` / ``recount`` include them)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import pytest

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.repo import Repo
from bot.domain.campaign import Leg, Spread
from bot.domain.histogram import (
    BLOCK,
    BLOCKS,
    BUCKETS,
    block_of,
    block_range,
    day_shift_minutes,
    plan,
    plan_in_segments,
    segment_bounds,
    segment_of,
    spread_in_blocks,
    spread_of,
)

T0 = dt.datetime(2026, 12, 1, 3, 17, tzinfo=dt.UTC)


def _blocks(histogram: dict[int, int]) -> Counter:
    found: Counter = Counter()
    for bucket, n in histogram.items():
        found[block_of(bucket)] += n
    return found


def _random_histogram(rng: random.Random) -> dict[int, int]:
    shape = rng.random()
    if shape < 0.2:  # a few tips
        buckets = [rng.randrange(BUCKETS) for _ in range(rng.randint(0, 5))]
    elif shape < 0.5:  # many ties in few buckets
        few = [rng.randrange(BUCKETS) for _ in range(3)]
        buckets = [rng.choice(few) for _ in range(rng.randint(1, 200))]
    else:  # spread over the ladder, denser below an hour
        buckets = [
            min(BUCKETS - 1, int(rng.expovariate(1 / rng.choice([30, 300, 900]))))
            for _ in range(rng.randint(1, 800))
        ]
    return dict(Counter(buckets))


def test_the_blocks_cover_every_bucket_once() -> None:
    seen = [b for block in range(BLOCKS) for b in range(*block_range(block))]
    assert seen == list(range(BUCKETS))
    assert all(block_of(b) == block for block in range(BLOCKS) for b in range(*block_range(block)))
    assert BLOCK == 16  # the "bucket / 16" of migration 0017


def test_quantiles_from_the_blocks_are_those_of_the_whole_histogram() -> None:
    rng = random.Random(170)
    for _ in range(3000):
        histogram = _random_histogram(rng)
        chosen = plan(_blocks(histogram))
        assert chosen.count == sum(histogram.values())
        # At most two ranks per quantile, so at most four blocks are read.
        assert len(chosen.blocks) <= 4
        # Only the chosen blocks' buckets are needed; others given too are ignored.
        only = {b: n for b, n in histogram.items() if block_of(b) in chosen.blocks}
        assert spread_in_blocks(chosen, only) == spread_of(histogram)
        assert spread_in_blocks(chosen, histogram) == spread_of(histogram)
    assert spread_in_blocks(plan({}), {}) == Spread()


def test_buckets_from_another_state_of_the_counts_are_refused() -> None:
    rng = random.Random(171)
    refused = 0
    for _ in range(500):
        histogram = _random_histogram(rng)
        chosen = plan(_blocks(histogram))
        if not chosen.blocks:
            continue
        block = rng.choice(sorted(chosen.blocks))
        changed = dict(histogram)
        bucket = rng.randrange(*block_range(block))
        step = rng.choice([-1, 1, 2]) if changed.get(bucket) else rng.choice([1, 2])
        changed[bucket] = changed.get(bucket, 0) + step
        if sum(n for b, n in changed.items() if block_of(b) == block) == chosen.sizes[block]:
            continue  # a move within the block that kept its count
        assert spread_in_blocks(chosen, changed) is None
        refused += 1
    assert refused > 400
    with pytest.raises(ValueError):
        plan({3: -1})


def test_segments_keep_the_chosen_blocks_and_count_the_others_between_them() -> None:
    rng = random.Random(174)
    for _ in range(1000):
        histogram = _random_histogram(rng)
        blocks = _blocks(histogram)
        chosen = plan(blocks)
        bounds = segment_bounds(chosen.blocks)
        keys = [segment_of(b, bounds) for b in range(BLOCKS)]
        assert keys == sorted(keys)  # in the blocks' order
        assert all(keys[c] == 2 * c + 1 and keys.count(keys[c]) == 1 for c in chosen.blocks)
        segments: Counter = Counter()
        for block, n in blocks.items():
            segments[segment_of(block, bounds)] += n
        assert plan_in_segments(segments) == chosen
        # The counts changed so that a rank wanted is outside the chosen blocks: refused.
        if chosen.blocks:
            later = dict(histogram)
            outside = [b for b in range(BUCKETS) if block_of(b) not in chosen.blocks]
            later[outside[-1]] = later.get(outside[-1], 0) + 2 * chosen.count + 2
            moved: Counter = Counter()
            for block, n in _blocks(later).items():
                moved[segment_of(block, bounds)] += n
            assert plan_in_segments(moved) is None


# -- through the store ------------------------------------------------------------------------


async def _tips(db: Database, rng: random.Random, n: int, minutes: tuple[float, float]) -> None:
    """``n`` tips on T0's station day, claimed and on scene after durations in ``minutes``."""
    async with db.write() as tx:
        first = (await (await tx.execute("SELECT COUNT(*) FROM tips")).fetchone())[0]
        for i in range(first + 1, first + n + 1):
            created = T0 + dt.timedelta(seconds=rng.uniform(0, 3 * 3600))
            claimed = created + dt.timedelta(minutes=rng.uniform(*minutes))
            arrived = claimed + dt.timedelta(minutes=rng.uniform(*minutes))
            await tx.execute(
                """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people, state,
                       group_key, created_at, updated_at, claimed_at, arrived_at)
                   VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', 'on_scene', 'g1', ?, ?,
                       ?, ?)""",
                (f"HS-{i:05d}", to_db_time(created), to_db_time(created), to_db_time(claimed),
                 to_db_time(arrived)),
            )  # fmt: skip


async def _open(tmp_path: Path) -> tuple[Database, Repo]:
    db = await Database(tmp_path / "b.sqlite3").open()
    async with db.write() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
            (to_db_time(T0), to_db_time(T0)),
        )
    return db, Repo.on(db)


def _day() -> tuple[dt.datetime, dt.datetime]:
    """T0's station day (Asia/Shanghai, the default offset): whole days only."""
    since = dt.datetime.combine(T0.date(), dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return since, since + dt.timedelta(days=1)


class Writes:
    """Before chosen reads of the store, moves every tip's claim and arrival — to minutes
    after its arrival, then to half a day, and back: the quantiles move to other blocks each
    time, as when another task commits between the two reads of ``spreads``."""

    def __init__(self, db: Database, before: set[int]) -> None:
        self.db, self.before = db, before
        self.calls = self.writes = 0
        self.read = db.fetchall

    async def fetchall(self, sql: str, params: tuple | dict = ()):
        self.calls += 1
        if self.calls in self.before:
            self.writes += 1
            minutes = 700 if self.writes % 2 else 2
            async with self.db.write() as tx:
                rows = await (await tx.execute("SELECT id, created_at FROM tips")).fetchall()
                for tip_id, created in rows:
                    claimed = from_db_time(created) + dt.timedelta(minutes=minutes + tip_id % 7)
                    arrived = claimed + dt.timedelta(minutes=minutes)
                    await tx.execute(
                        "UPDATE tips SET claimed_at = ?, arrived_at = ? WHERE id = ?",
                        (to_db_time(claimed), to_db_time(arrived), tip_id),
                    )
        return await self.read(sql, params)


@pytest.mark.parametrize("before", [{2}, {2, 3, 4, 5, 6, 7}])
async def test_a_change_between_the_reads_gives_the_quantiles_of_one_state(
    tmp_path: Path, before: set[int]
) -> None:
    """{2}: tips committed between the blocks read and the buckets read — the second read's
    segments show it, and the blocks are read and chosen again. Before every read: after
    three tries, the one statement of every bucket."""
    db, repo = await _open(tmp_path)
    rng = random.Random(172)
    try:
        await _tips(db, rng, 60, (0.5, 40))
        since, until = _day()
        store = repo.stats.histograms
        writes = Writes(db, before)
        db.fetchall = writes.fetchall  # type: ignore[method-assign]
        try:
            shown = await store.spreads(since, until)
        finally:
            db.fetchall = writes.read  # type: ignore[method-assign]
        # {2}: blocks, both; blocks, both. Else three times blocks and both, then the whole.
        assert writes.calls == (4 if before == {2} else 7)
        now = {leg: spread_of(h) for leg, h in (await store.legs(since, until)).items()}
        assert shown == now
        assert writes.writes == len(before) and shown[Leg.REPORT_CLAIM].count == 60
        # The state the last write left: claims 2 or 700 minutes (+ 0–6) after the report.
        median = shown[Leg.REPORT_CLAIM].median
        assert median is not None and 2 <= median % 698 <= 8
    finally:
        await db.close()


async def test_a_quantile_reads_a_bounded_number_of_rows(tmp_path: Path) -> None:
    """However many buckets a day has in use, the quantiles read the day's blocks twice and
    at most four blocks' buckets per leg; every bucket is what the one-statement read gets."""
    db, repo = await _open(tmp_path)
    rng = random.Random(173)
    try:
        await _tips(db, rng, 1500, (0, 59))  # 0.1-minute buckets: ~590 in use per leg
        since, until = _day()
        store = repo.stats.histograms
        read = db.fetchall
        rows: list[int] = []

        async def counting(sql: str, params: tuple | dict = ()):
            found = await read(sql, params)
            rows.append(len(found))
            return found

        db.fetchall = counting  # type: ignore[method-assign]
        try:
            shown = await store.spreads(since, until)
            blocks_read = sum(rows)
            rows.clear()
            whole = await store.legs(since, until)
        finally:
            db.fetchall = read  # type: ignore[method-assign]
        assert shown == {leg: spread_of(h) for leg, h in whole.items()}
        in_use = sum(len(h) for h in whole.values())
        blocks = sum(len(_blocks(h)) for h in whole.values())
        # The blocks in use twice, and at most four blocks' buckets per leg.
        assert blocks_read <= 2 * blocks + len(Leg) * 4 * BLOCK
        assert sum(rows) == in_use > 1200 and blocks_read < in_use / 3, (blocks_read, in_use)
    finally:
        await db.close()


@pytest.mark.parametrize(("zone", "seed"), [("Asia/Shanghai", 175), ("America/New_York", 176)])
async def test_on_random_windows_the_blocks_take_two_reads(
    tmp_path: Path, zone: str, seed: int
) -> None:
    """Nothing changing: the blocks, then the segments and buckets — two statements, never
    the fallback — and the whole histogram's quantiles, on windows with partial hours and
    days, whole days read directly and as the totals less the others, and in a zone whose
    summer days are read by the hour."""
    import zoneinfo

    from tests.test_histograms import add_tip, change_tip, windows

    tz = zoneinfo.ZoneInfo(zone)
    db, repo = await _open(tmp_path)
    rng = random.Random(seed)
    try:
        await repo.stats.align_days(day_shift_minutes(tz, T0.date()))
        async with db.write() as tx:
            for i in range(1, 400):
                await add_tip(tx, rng, i)
                if rng.random() < 0.5:
                    await change_tip(tx, rng, rng.randint(1, i))
        store = repo.stats.histograms
        read = db.fetchall
        calls = 0

        async def counting(sql: str, params: tuple | dict = ()):
            nonlocal calls
            calls += 1
            return await read(sql, params)

        checked = 0
        for a, b in windows(rng, tz) * 2:
            whole = await store.legs(a, b)
            calls = 0
            db.fetchall = counting  # type: ignore[method-assign]
            try:
                shown = await store.spreads(a, b)
            finally:
                db.fetchall = read  # type: ignore[method-assign]
            assert shown == {leg: spread_of(h) for leg, h in whole.items()}, (a, b)
            if any(whole.values()):
                assert calls == 2, (a, b)
                checked += 1
        assert checked > 20
    finally:
        await db.close()
