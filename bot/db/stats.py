"""The daily summary's figures, counted by the database: a campaign's history is far too
long to load tip by tip (bench/history.py)."""

from __future__ import annotations

import datetime as dt

from bot.db import rollups
from bot.db.database import Database, to_db_time
from bot.db.histograms import HistogramStore
from bot.domain.campaign import Leg, Spread
from bot.domain.schedule import TipTally

_COLUMNS = (
    "received",
    "claimed",
    "arrived",
    *rollups.OUTCOME_COLUMNS.values(),
    *rollups.SUPPLY_COLUMNS.values(),
)


#: The counts of ``tip_hours``/``tip_days``, counted from the tips themselves.
_COUNTS = ", ".join(
    [
        "COUNT(*) AS received, COUNT(claimed_at) AS claimed, COUNT(arrived_at) AS arrived",
        *(
            f"SUM(instr(',' || COALESCE(supplies, '') || ',', ',{value},') > 0) AS {column}"
            for value, column in rollups.SUPPLY_COLUMNS.items()
        ),
        *(
            f"SUM(outcome IS '{value}') AS {column}"
            for value, column in rollups.OUTCOME_COLUMNS.items()
        ),
    ]
)


def _window(since: dt.datetime | None, until: dt.datetime) -> tuple[str, tuple]:
    """The tips created in ``[since, until)``."""
    if since is None:
        return "created_at < ?", (to_db_time(until),)
    return "created_at >= ? AND created_at < ?", (to_db_time(since), to_db_time(until))


class StatsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.histograms = HistogramStore(db)

    async def tally(self, since: dt.datetime | None, until: dt.datetime) -> TipTally:
        """What the summary counts over the tips created in ``[since, until)``: how many,
        by outcome, by supply handed out, and the median minutes to claim and to the scene.

        The counts come from the running totals (bot/db/rollups.py) — whole station days,
        then whole hours at the window's ends, then the tips of a partial hour; the medians
        from the duration histograms
        (bot/db/histograms.py: exact to the 0.1-minute bucket below an hour)."""
        counts = dict.fromkeys(_COLUMNS, 0)

        def add(found: dict[str, int]) -> None:
            for name in counts:
                counts[name] += found[name]

        window = rollups.layers(since, until, await self.histograms.shift_minutes())
        if window.days is not None:
            add(await self._sums("tip_days", *rollups.days_where(window.days)))
        for hours in window.hours:
            add(await self._sums("tip_hours", *rollups.hours_where(hours)))
        for a, b in window.rows:
            add(await self._row_counts(*_window(a, b)))
        legs = await self.histograms.spreads(
            since, until, (Leg.REPORT_CLAIM, Leg.REPORT_ARRIVAL)
        )
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
            median_claim=legs[Leg.REPORT_CLAIM].median,
            median_scene=legs[Leg.REPORT_ARRIVAL].median,
        )

    async def spreads(self, since: dt.datetime | None, until: dt.datetime) -> dict[Leg, Spread]:
        """Every response leg's median and p90 over the tips received in ``[since, until)``,
        from the duration histograms."""
        return await self.histograms.spreads(since, until)

    async def earlier_attempts(self, since: dt.datetime, until: dt.datetime) -> int:
        """The ended attempts (each "not found") of the reopened tips received in the window:
        driven from ``tip_attempts`` (few rows), never from the window's tips."""
        row = await self.db.fetchone(
            """SELECT COUNT(*) AS n FROM tip_attempts a CROSS JOIN tips ON tips.id = a.tip_id
               WHERE tips.created_at >= ? AND tips.created_at < ?""",
            (to_db_time(since), to_db_time(until)),
        )
        return int(row["n"]) if row else 0

    async def align_days(self, shift_minutes: int) -> bool:
        """Key the day tables (``tip_days``, ``leg_days``, ``ledger_days``) by station days of
        this UTC offset — the station's on the campaign's first day; run when the station
        opens. If they used another (the time zone changed: once), they are rebuilt from the
        rows, in one transaction. True if they were."""
        async with self.db.write() as tx:
            row = await (
                await tx.execute("SELECT shift_minutes FROM rollup_days WHERE id = 1")
            ).fetchone()
            if int(row[0]) == shift_minutes:
                return False
            await self.histograms.realign(tx, shift_minutes)
            await tx.execute("DELETE FROM tip_days")
            await tx.execute(
                f"INSERT INTO tip_days (day, {', '.join(_COLUMNS)})"
                f" SELECT {rollups.DAY_OF.format('created_at')} AS d, {_COUNTS}"
                " FROM tips GROUP BY d"
            )
            return True

    async def _sums(self, table: str, where: str, params: tuple) -> dict[str, int]:
        """The counts of the whole hours (``tip_hours``) or days (``tip_days``) selected."""
        sums = ", ".join(f"COALESCE(SUM({c}), 0) AS {c}" for c in _COLUMNS)
        row = await self.db.fetchone(f"SELECT {sums} FROM {table} WHERE {where}", params)
        return {c: int(row[c]) for c in _COLUMNS}

    async def _row_counts(self, where: str, params: tuple) -> dict[str, int]:
        """The same counts as ``tip_hours`` holds, counted from the tips (a partial hour)."""
        row = await self.db.fetchone(f"SELECT {_COUNTS} FROM tips WHERE {where}", params)
        return {c: int(row[c] or 0) for c in _COLUMNS}
