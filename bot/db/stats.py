"""The daily summary's figures, counted by the database: a campaign's history is far too
long to load tip by tip (bench/history.py)."""

from __future__ import annotations

import datetime as dt
import statistics

from bot.db.database import Database, to_db_time
from bot.domain.schedule import TipTally
from bot.domain.tips import Outcome, Supply


class StatsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tally(self, since: dt.datetime | None, until: dt.datetime) -> TipTally:
        """What the summary counts over the tips created in ``[since, until)``: how many,
        by outcome, by supply handed out, and the median minutes to claim and to the scene."""
        where = "created_at < ?"
        params: tuple = (to_db_time(until),)
        if since is not None:
            where = "created_at >= ? AND " + where
            params = (to_db_time(since), *params)
        supplies = ", ".join(
            f"SUM(instr(',' || COALESCE(supplies, '') || ',', ',{s.value},') > 0) AS s_{i}"
            for i, s in enumerate(Supply)
        )
        outcomes = ", ".join(f"SUM(outcome = '{o.value}') AS o_{i}" for i, o in enumerate(Outcome))
        # One pass over the window for every count; the medians sort (two more passes).
        row = await self.db.fetchone(
            f"""SELECT COUNT(*) AS received, COUNT(claimed_at) AS claimed,
                       COUNT(arrived_at) AS arrived, {supplies}, {outcomes}
                FROM tips WHERE {where}""",
            params,
        )
        supplied = {s.value: int(row[f"s_{i}"] or 0) for i, s in enumerate(Supply)}
        closed = {o.value: int(row[f"o_{i}"] or 0) for i, o in enumerate(Outcome)}
        return TipTally(
            received=int(row["received"]),
            outcomes={name: n for name, n in closed.items() if n},
            supplies={name: n for name, n in supplied.items() if n},
            median_claim=await self._median_minutes("claimed_at", where, params, row["claimed"]),
            median_scene=await self._median_minutes("arrived_at", where, params, row["arrived"]),
        )

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
