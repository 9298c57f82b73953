"""Ledger totals over a window from the running totals (migrations 0015 and 0016): whole
station days from ``ledger_days`` (a campaign: ~110 rows), what is left at the window's ends
by whole UTC hour from ``ledger_hours``, a partial hour from the entries themselves."""

from __future__ import annotations

import datetime as dt

from bot.db import rollups
from bot.db.database import Database, to_db_time

_SUMS = ", ".join(
    f"COALESCE(SUM({n}), 0) AS {n}, COALESCE(SUM({y}), 0) AS {y}"
    for n, y in rollups.LEDGER_COLUMNS.values()
)


async def ledger_sums(
    db: Database, since: dt.datetime | None, until: dt.datetime, shift_minutes: int
) -> dict[str, tuple[int, int]]:
    """``entry → (count, sum of amounts)`` of the ledger entries in ``[since, until)``
    (entries with none left out); ``shift_minutes``: the day tables' station offset."""
    found = {entry: (0, 0) for entry in rollups.LEDGER_COLUMNS}

    def add(row) -> None:
        for entry, (n, y) in rollups.LEDGER_COLUMNS.items():
            count, total = found[entry]
            found[entry] = (count + int(row[n]), total + int(row[y]))

    window = rollups.layers(since, until, shift_minutes)
    if window.days is not None:
        where, params = rollups.days_where(window.days)
        add(await db.fetchone(f"SELECT {_SUMS} FROM ledger_days WHERE {where}", params))
    for hours in window.hours:
        where, params = rollups.hours_where(hours)
        add(await db.fetchone(f"SELECT {_SUMS} FROM ledger_hours WHERE {where}", params))
    for a, b in window.rows:
        rows = await db.fetchall(
            "SELECT entry, COUNT(*) AS n, SUM(amount) AS total FROM ledger"
            " WHERE at >= ? AND at < ? GROUP BY entry",
            (to_db_time(a) if a else "", to_db_time(b)),
        )
        for r in rows:
            count, total = found.get(r["entry"], (0, 0))
            found[r["entry"]] = (count + int(r["n"]), total + int(r["total"]))
    return {entry: pair for entry, pair in found.items() if pair[0]}
