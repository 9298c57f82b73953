"""The response legs' duration histograms over a window (migration 0016; the buckets and the
quantiles are bot/domain/histogram.py).

A window ``[since, until)`` is read, whichever costs fewer rows, either as its whole station
days (``leg_days``) or as everything there is (``leg_totals``) less the days outside it — so
"campaign to date" reads the totals and today, "yesterday" one day; what is left at the
window's ends is read by whole UTC hour (``leg_hours``) and, for a partial hour, from the tips
themselves (none for a window from one station midnight to another).

The quantiles (:meth:`HistogramStore.spreads`) read the same layers twice: first by block
(migration 0017: the buckets in runs of 16, at most 144 per leg) to find the block holding
each rank wanted, then the buckets of those blocks only — a few hundred rows at most,
however many tips there are, where every bucket in use (:meth:`HistogramStore.legs`) is up
to 2,293 per leg.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.db import rollups
from bot.db.database import Database, to_db_time
from bot.db.sql import Tx
from bot.domain.campaign import Leg, Spread
from bot.domain.histogram import (
    BLOCK,
    block_range,
    plan,
    plan_in_segments,
    segment_bounds,
    spread_in_blocks,
    spread_of,
)

Part = tuple[str, tuple]


def _legs_in(legs: tuple[Leg, ...]) -> tuple[str, tuple]:
    return f"leg IN ({', '.join('?' for _ in legs)})", tuple(leg.value for leg in legs)


class HistogramStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def shift_minutes(self) -> int:
        """The UTC offset (minutes) the station days of ``leg_days``/``ledger_days`` use."""
        row = await self.db.fetchone("SELECT shift_minutes FROM rollup_days WHERE id = 1")
        return int(row["shift_minutes"]) if row else 0

    async def realign(self, tx: Tx, shift_minutes: int) -> None:
        """Key ``leg_days`` and ``ledger_days`` by station days of another UTC offset:
        rebuilt from the tips and the ledger (:meth:`StatsStore.align_days` decides when)."""
        await tx.execute("UPDATE rollup_days SET shift_minutes = ? WHERE id = 1", (shift_minutes,))
        await tx.execute("DELETE FROM leg_days")
        await tx.execute("DELETE FROM leg_day_blocks")  # its triggers left rows of zeros
        await tx.execute(
            "INSERT INTO leg_days (day, leg, bucket, n)"
            " SELECT day, leg, bucket, COUNT(*) FROM tip_leg_buckets GROUP BY 1, 2, 3"
        )
        await tx.execute("DELETE FROM ledger_days")
        sums = ", ".join(
            f"SUM(entry IS '{entry}'), SUM(CASE WHEN entry IS '{entry}' THEN amount ELSE 0 END)"
            for entry in rollups.LEDGER_COLUMNS
        )
        columns = ", ".join(c for pair in rollups.LEDGER_COLUMNS.values() for c in pair)
        await tx.execute(
            f"INSERT INTO ledger_days (day, {columns}) SELECT {rollups.DAY_OF.format('at')},"
            f" {sums} FROM ledger GROUP BY 1"
        )

    async def legs(
        self, since: dt.datetime | None, until: dt.datetime, legs: Iterable[Leg] = tuple(Leg)
    ) -> dict[Leg, dict[int, int]]:
        """``leg → {bucket: tips}`` of the tips received in ``[since, until)``: every bucket
        in use, in one statement (:meth:`spreads` reads far fewer rows)."""
        wanted = tuple(legs)
        if not wanted:
            return {}
        window = await self._window(since, until)
        found = await self._read(window, wanted, _BUCKETS)
        return {leg: found.get(leg.value, {}) for leg in wanted}

    async def spreads(
        self, since: dt.datetime | None, until: dt.datetime, legs: Iterable[Leg] = tuple(Leg)
    ) -> dict[Leg, Spread]:
        """Each leg's median and p90 over the tips received in ``[since, until)`` — exactly
        :func:`spread_of` of :meth:`legs` — from the blocks (0017) and the buckets of the few
        blocks holding the ranks wanted, not from every bucket in use.

        The second read also sums the blocks again, by segment (each chosen block, and the
        blocks between them: :func:`segment_bounds`), in the same statement as those buckets:
        the quantiles come from one state of the counts even if a tip changed between the
        reads (then the blocks are chosen again)."""
        wanted = tuple(legs)
        if not wanted:
            return {}
        for _ in range(3):
            window = await self._window(since, until)
            blocks = await self._read(window, wanted, _BLOCKS)
            chosen = {leg: plan(blocks.get(leg.value, {})).blocks for leg in wanted}
            if not any(chosen.values()):
                return {leg: Spread() for leg in wanted}
            segments, buckets = await self._read_both(window, wanted, chosen)
            plans = {leg: plan_in_segments(segments.get(leg.value, {})) for leg in wanted}
            shown = {
                leg: None if p is None else spread_in_blocks(p, buckets.get(leg.value, {}))
                for leg, p in plans.items()
            }
            if all(s is not None for s in shown.values()):
                return shown  # type: ignore[return-value]
        # Counts changing under every attempt (a burst of writes): the one-statement read.
        return {leg: spread_of(h) for leg, h in (await self.legs(since, until, wanted)).items()}

    async def _window(self, since: dt.datetime | None, until: dt.datetime) -> _Window:
        layers = rollups.layers(since, until, await self.shift_minutes())
        if layers.days is None:
            return _Window(layers, False, (), ())
        row = await self.db.fetchone(
            "SELECT (SELECT MIN(day) FROM leg_days) AS lo, (SELECT MAX(day) FROM leg_days) AS hi"
        )
        if row is None or row["lo"] is None or row["hi"] is None:
            return _Window(layers, False, (), ())
        lo, hi = dt.date.fromisoformat(row["lo"]), dt.date.fromisoformat(row["hi"])
        days = layers.days
        first = max(lo, dt.date.fromisoformat(days.first_day) if days.first_day else lo)
        end = dt.date.fromisoformat(days.end_day)
        after = hi + dt.timedelta(days=1)
        inside = _dates(first, min(end, after))
        outside = _dates(lo, min(first, after)) + _dates(max(end, lo), after)
        # Whichever reads fewer days: the whole days directly, or the totals less the others.
        return _Window(layers, len(outside) < len(inside), tuple(inside), tuple(outside))

    async def _read(
        self, window: _Window, legs: tuple[Leg, ...], level: _Level
    ) -> dict[str, dict[int, int]]:
        """``leg value → {key: count}`` of the window at one level (buckets or blocks)."""
        parts = _parts(window, legs, level)
        rows = await self.db.fetchall(
            f"SELECT leg, k, SUM(n) AS n FROM ({_union(parts)}) GROUP BY leg, k"
            " HAVING SUM(n) != 0",
            tuple(p for _, part_params in parts for p in part_params),
        )
        found: dict[str, dict[int, int]] = {}
        for leg, key, n in rows:  # no per-row lookups by name
            found.setdefault(leg, {})[key] = n
        return found

    async def _read_both(
        self, window: _Window, legs: tuple[Leg, ...], chosen: dict[Leg, set[int]]
    ) -> tuple[dict[str, dict[int, int]], dict[str, dict[int, int]]]:
        """The window's counts by segment of the chosen blocks, and the buckets of the chosen
        blocks, in one statement."""
        ranges = [(leg, *block_range(b)) for leg, blocks in chosen.items() for b in sorted(blocks)]
        case, case_params = _segments(legs, chosen)
        parts = [(f"SELECT 0 AS kind, leg, {case} AS k, n FROM ({sql})", (*case_params, *params))
                 for sql, params in _parts(window, legs, _BLOCKS)]  # fmt: skip
        parts += [(f"SELECT 1 AS kind, * FROM ({sql})", params)
                  for sql, params in _bucket_parts(window, ranges)]  # fmt: skip
        rows = await self.db.fetchall(
            f"SELECT kind, leg, k, SUM(n) AS n FROM ({_union(parts)}) GROUP BY kind, leg, k"
            " HAVING SUM(n) != 0",
            tuple(p for _, part_params in parts for p in part_params),
        )
        found: tuple[dict[str, dict[int, int]], dict[str, dict[int, int]]] = ({}, {})
        for kind, leg, key, n in rows:
            found[kind].setdefault(leg, {})[key] = n
        return found


def _segments(legs: tuple[Leg, ...], chosen: dict[Leg, set[int]]) -> tuple[str, tuple]:
    """The SQL of :func:`segment_of` for the rows (leg, k = block) of each leg."""
    sql, params = "CASE leg", []
    for leg in legs:
        bounds = segment_bounds(chosen.get(leg, set()))
        sql += " WHEN ? THEN CASE" + " WHEN k < ? THEN ?" * len(bounds) + " END"
        params += [leg.value, *(p for bound in bounds for p in bound)]
    return sql + " END", tuple(params)


def _dates(first: dt.date, end: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((end - first).days)]


@dataclass(frozen=True)
class _Window:
    layers: rollups.Layers
    complement: bool  # its whole days as the totals less the days outside them
    # Its whole days that may have counts (from the first to the last day of leg_days), and
    # those days outside it: keys listed for the index lookups of the buckets read.
    inside: tuple[str, ...]
    outside: tuple[str, ...]


@dataclass(frozen=True)
class _Level:
    """Where a level's counts are: the tables by station day and all time, the column they
    are keyed by, and the key of a bucket (for the hours and the tips at a window's ends)."""

    days: str
    totals: str
    column: str
    of_bucket: str


_BUCKETS = _Level("leg_days", "leg_totals", "bucket", "bucket")
_BLOCKS = _Level("leg_day_blocks", "leg_total_blocks", "block", f"bucket / {BLOCK}")


def _union(parts: list[Part]) -> str:
    return " UNION ALL ".join(sql for sql, _ in parts)


def _parts(window: _Window, legs: tuple[Leg, ...], level: _Level) -> list[Part]:
    """The statements whose rows (leg, k, n) add up to the window's counts at ``level``."""
    legs_sql, legs_params = _legs_in(legs)
    parts: list[Part] = []
    layers = window.layers
    if layers.days is not None:
        parts += _days(layers.days, window.complement, level, legs_sql, legs_params)
    parts += _ends(layers, level.of_bucket, legs_sql, legs_params)
    if not parts:  # nothing to read: an empty window
        parts.append(("SELECT NULL AS leg, NULL AS k, 0 AS n WHERE 0", ()))
    return parts


def _ends(layers: rollups.Layers, key: str, where_legs: str, legs_params: tuple) -> list[Part]:
    """The whole hours and the tips of partial hours at a window's ends."""
    parts: list[Part] = []
    for hours in layers.hours:
        where, params = rollups.hours_where(hours)
        parts.append(
            (
                f"SELECT leg, {key} AS k, n FROM leg_hours WHERE {where} AND {where_legs}",
                (*params, *legs_params),
            )
        )
    for a, b in layers.rows:
        where, params = _created(a, b)
        parts.append(
            (
                f"SELECT leg, {key} AS k, 1 AS n FROM tip_leg_buckets WHERE {where}"
                f" AND {where_legs}",
                (*params, *legs_params),
            )
        )
    return parts


def _days(
    days: rollups.DaySplit, complement: bool, level: _Level, legs_sql: str, legs_params: tuple
) -> list[Part]:
    """The whole days: read directly, or as the totals less the days outside."""
    k = f"{level.column} AS k"
    if not complement:
        where, params = rollups.days_where(days)
        return [
            (
                f"SELECT leg, {k}, n FROM {level.days} WHERE {where} AND {legs_sql}",
                (*params, *legs_params),
            )
        ]
    totals = f"SELECT leg, {k}, n FROM {level.totals} WHERE {legs_sql}"
    parts: list[Part] = [(totals, legs_params)]
    if days.first_day is not None:
        parts.append(
            (
                f"SELECT leg, {k}, -n AS n FROM {level.days} WHERE day < ? AND {legs_sql}",
                (days.first_day, *legs_params),
            )
        )
    parts.append(
        (
            f"SELECT leg, {k}, -n AS n FROM {level.days} WHERE day >= ? AND {legs_sql}",
            (days.end_day, *legs_params),
        )
    )
    return parts


def _bucket_parts(window: _Window, ranges: list[tuple[Leg, int, int]]) -> list[Part]:
    """The statements whose rows (leg, bucket, n) are the window's counts of the buckets in
    ``ranges`` (leg, first, end): each range of each day one index lookup, the few rows it
    returns, not every row of the days."""
    parts: list[Part] = []
    layers = window.layers
    for leg, first, end in ranges:
        one = ("leg = ? AND bucket >= ? AND bucket < ?", (leg.value, first, end))
        if layers.days is not None and window.complement:
            parts.append((f"SELECT leg, bucket AS k, n FROM leg_totals WHERE {one[0]}", one[1]))
        days, sign = (window.outside, "-") if window.complement else (window.inside, "")
        if layers.days is not None and days:
            marks = ", ".join("?" for _ in days)
            parts.append(
                (
                    f"SELECT leg, bucket AS k, {sign}n AS n FROM leg_days"
                    f" WHERE day IN ({marks}) AND {one[0]}",
                    (*days, *one[1]),
                )
            )
    if ranges:
        terms = " OR ".join("(leg = ? AND bucket >= ? AND bucket < ?)" for _ in ranges)
        params = tuple(p for leg, first, end in ranges for p in (leg.value, first, end))
        legs_sql, legs_params = _legs_in(tuple(dict.fromkeys(leg for leg, _, _ in ranges)))
        parts += _ends(layers, "bucket", f"{legs_sql} AND ({terms})", (*legs_params, *params))
    if not parts:
        parts.append(("SELECT NULL AS leg, NULL AS k, 0 AS n WHERE 0", ()))
    return parts


def _created(since: dt.datetime | None, until: dt.datetime) -> tuple[str, tuple]:
    if since is None:
        return "created_at < ?", (to_db_time(until),)
    return "created_at >= ? AND created_at < ?", (to_db_time(since), to_db_time(until))
