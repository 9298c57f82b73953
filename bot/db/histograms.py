"""The response legs' duration histograms over a window (migration 0016; the buckets and the
quantiles are bot/domain/histogram.py).

A window ``[since, until)`` is read, whichever costs fewer rows, either as its whole station
days (``leg_days``) or as everything there is (``leg_totals``) less the days outside it — so
"campaign to date" reads the totals and today, "yesterday" one day; what is left at the
window's ends is read by whole UTC hour (``leg_hours``) and, for a partial hour, from the tips
themselves (none for a window from one station midnight to another). Each read is one
statement returning one row per (leg, bucket) in use: at most 2,293 per leg, however many
tips there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.db import rollups
from bot.db.database import Database, to_db_time
from bot.db.sql import Tx
from bot.domain.campaign import Leg

Part = tuple[str, tuple]


def _legs_in(legs: tuple[Leg, ...]) -> tuple[str, tuple]:
    return f"leg IN ({', '.join('?' for _ in legs)})", tuple(leg.value for leg in legs)


def _days_between(first: str, end: str) -> int:
    return max(0, (dt.date.fromisoformat(end) - dt.date.fromisoformat(first)).days)


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
        """``leg → {bucket: tips}`` of the tips received in ``[since, until)``."""
        wanted = tuple(legs)
        found: dict[Leg, dict[int, int]] = {leg: {} for leg in wanted}
        if not wanted:
            return found
        parts = await self._parts(since, until, wanted)
        union = " UNION ALL ".join(sql for sql, _ in parts)
        params = tuple(p for _, part_params in parts for p in part_params)
        rows = await self.db.fetchall(
            f"SELECT leg, bucket, SUM(n) AS n FROM ({union}) GROUP BY leg, bucket"
            " HAVING SUM(n) != 0",
            params,
        )
        by_value = {leg.value: found[leg] for leg in wanted}
        for leg, bucket, n in rows:  # up to a few thousand rows: no per-row lookups by name
            by_value[leg][bucket] = n
        return found

    async def _parts(
        self, since: dt.datetime | None, until: dt.datetime, legs: tuple[Leg, ...]
    ) -> list[Part]:
        """The statements whose rows (leg, bucket, n) add up to the window's histograms."""
        legs_sql, legs_params = _legs_in(legs)
        window = rollups.layers(since, until, await self.shift_minutes())
        parts: list[Part] = []
        if window.days is not None:
            parts += await self._days(window.days, legs_sql, legs_params)
        for hours in window.hours:
            where, params = rollups.hours_where(hours)
            parts.append(
                (
                    f"SELECT leg, bucket, n FROM leg_hours WHERE {where} AND {legs_sql}",
                    (*params, *legs_params),
                )
            )
        for a, b in window.rows:
            where, params = _created(a, b)
            parts.append(
                (
                    f"SELECT leg, bucket, 1 AS n FROM tip_leg_buckets WHERE {where} AND {legs_sql}",
                    (*params, *legs_params),
                )
            )
        if not parts:  # nothing to read: an empty window
            parts.append(("SELECT NULL AS leg, NULL AS bucket, 0 AS n WHERE 0", ()))
        return parts

    async def _days(self, days: rollups.DaySplit, legs_sql: str, legs_params: tuple) -> list[Part]:
        """The whole days: read directly, or as the totals less the days outside, whichever
        reads fewer days."""
        row = await self.db.fetchone(
            "SELECT (SELECT MIN(day) FROM leg_days) AS lo, (SELECT MAX(day) FROM leg_days) AS hi"
        )
        lo, hi = (row["lo"], row["hi"]) if row else (None, None)
        where, params = rollups.days_where(days)
        direct: list[Part] = [
            (
                f"SELECT leg, bucket, n FROM leg_days WHERE {where} AND {legs_sql}",
                (*params, *legs_params),
            )
        ]
        if lo is None or hi is None:
            return direct
        end_after = (dt.date.fromisoformat(hi) + dt.timedelta(days=1)).isoformat()
        first = days.first_day or lo
        inside = _days_between(max(first, lo), min(days.end_day, end_after))
        outside = _days_between(lo, max(first, lo)) + _days_between(days.end_day, end_after)
        if outside >= inside:
            return direct
        totals = f"SELECT leg, bucket, n FROM leg_totals WHERE {legs_sql}"
        parts: list[Part] = [(totals, legs_params)]
        if days.first_day is not None:
            parts.append(
                (
                    f"SELECT leg, bucket, -n AS n FROM leg_days WHERE day < ? AND {legs_sql}",
                    (days.first_day, *legs_params),
                )
            )
        parts.append(
            (
                f"SELECT leg, bucket, -n AS n FROM leg_days WHERE day >= ? AND {legs_sql}",
                (days.end_day, *legs_params),
            )
        )
        return parts


def _created(since: dt.datetime | None, until: dt.datetime) -> tuple[str, tuple]:
    if since is None:
        return "created_at < ?", (to_db_time(until),)
    return "created_at >= ? AND created_at < ?", (to_db_time(since), to_db_time(until))
