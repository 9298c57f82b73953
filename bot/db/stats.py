"""The daily summary's figures, counted by the database: a campaign's history is far too
long to load tip by tip (bench/history.py)."""

from __future__ import annotations

import datetime as dt
import statistics

from bot.db import rollups
from bot.db.database import Database, to_db_time
from bot.domain.schedule import TipTally

_COLUMNS = (
    "received",
    "claimed",
    "arrived",
    *rollups.OUTCOME_COLUMNS.values(),
    *rollups.SUPPLY_COLUMNS.values(),
)


def _window(since: dt.datetime | None, until: dt.datetime) -> tuple[str, tuple]:
    """The tips created in ``[since, until)``."""
    if since is None:
        return "created_at < ?", (to_db_time(until),)
    return "created_at >= ? AND created_at < ?", (to_db_time(since), to_db_time(until))


class StatsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tally(self, since: dt.datetime | None, until: dt.datetime) -> TipTally:
        """What the summary counts over the tips created in ``[since, until)``: how many,
        by outcome, by supply handed out, and the median minutes to claim and to the scene.

        The counts come from the hourly running totals (bot/db/rollups.py) plus the tips of
        any partial hour at the window's ends; the medians from the tips themselves."""
        piece = rollups.split(since, until)
        counts = await self._hour_counts(piece)
        for start, end in piece.edges:
            edge = await self._row_counts(*_window(start, end))
            counts = {name: counts[name] + edge[name] for name in counts}
        where, params = _window(since, until)
        outcomes = {
            value: counts[column]
            for value, column in rollups.OUTCOME_COLUMNS.items()
            if counts[column]
        }
        supplies = {
            value: counts[column]
            for value, column in rollups.SUPPLY_COLUMNS.items()
            if counts[column]
        }
        return TipTally(
            received=counts["received"],
            outcomes=outcomes,
            supplies=supplies,
            median_claim=await self._median_minutes("claimed_at", where, params, counts["claimed"]),
            median_scene=await self._median_minutes("arrived_at", where, params, counts["arrived"]),
        )

    async def _hour_counts(self, piece: rollups.Split) -> dict[str, int]:
        where, params = rollups.hours_where(piece)
        sums = ", ".join(f"COALESCE(SUM({c}), 0) AS {c}" for c in _COLUMNS)
        row = await self.db.fetchone(f"SELECT {sums} FROM tip_hours WHERE {where}", params)
        return {c: int(row[c]) for c in _COLUMNS}

    async def _row_counts(self, where: str, params: tuple) -> dict[str, int]:
        """The same counts as ``tip_hours`` holds, counted from the tips (a partial hour)."""
        supplies = ", ".join(
            f"SUM(instr(',' || COALESCE(supplies, '') || ',', ',{value},') > 0) AS {column}"
            for value, column in rollups.SUPPLY_COLUMNS.items()
        )
        outcomes = ", ".join(
            f"SUM(outcome = '{value}') AS {column}"
            for value, column in rollups.OUTCOME_COLUMNS.items()
        )
        row = await self.db.fetchone(
            f"""SELECT COUNT(*) AS received, COUNT(claimed_at) AS claimed,
                       COUNT(arrived_at) AS arrived, {supplies}, {outcomes}
                FROM tips WHERE {where}""",
            params,
        )
        return {c: int(row[c] or 0) for c in _COLUMNS}

    async def _median_minutes(
        self, column: str, where: str, params: tuple, count: int
    ) -> float | None:
        """Median of ``column − created_at`` in minutes over ``count`` rows: the database
        sorts, only the middle one or two values come back. Times are stored as
        ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: the difference is computed exactly, in microseconds."""
        if not count:
            return None
        micros = (
            f"(CAST(strftime('%s', {column}) AS INTEGER)"
            " - CAST(strftime('%s', created_at) AS INTEGER)) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER)"
            " - CAST(substr(created_at, 21, 6) AS INTEGER)"
        )
        rows = await self.db.fetchall(
            f"""SELECT {micros} AS us FROM tips WHERE {where} AND {column} IS NOT NULL
                ORDER BY us LIMIT ? OFFSET ?""",
            (*params, 2 - count % 2, (count - 1) // 2),
        )
        return statistics.median(int(r["us"]) / 1_000_000 / 60 for r in rows)
