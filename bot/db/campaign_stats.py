"""The campaign's figures, counted by the database (the rules are in bot/domain/campaign.py).

Everything is grouped and sorted by SQLite over the tips received in a period (the
``tips_created`` index): the Python side gets a few rows per group, never the tips
themselves, so a long campaign costs the bot a few sorts, not memory.

Station days and hours come from the stored UTC times shifted by the station's UTC offset,
span by span (:func:`bot.domain.campaign.offset_spans`), so a zone with daylight saving time
is grouped by its own clock too.

Every read here is per tip (seconds on a long campaign), so each is ``heavy=True``: on the
database's analytics connection, never in the way of the bot's other reads.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.db.database import Database, to_db_time
from bot.domain.campaign import (
    Cell,
    Grouping,
    Leg,
    Ranked,
    Span,
    Tallies,
    ranks_wanted,
)

#: The two moments each leg runs between (columns of ``tips``).
_LEGS: dict[Leg, tuple[str, str]] = {
    Leg.REPORT_CLAIM: ("created_at", "claimed_at"),
    Leg.CLAIM_ARRIVAL: ("claimed_at", "arrived_at"),
    Leg.REPORT_ARRIVAL: ("created_at", "arrived_at"),
}


def _micros(start: str, end: str) -> str:
    """``end − start`` in microseconds, exactly (times are stored as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``): whole seconds by SQLite's date functions (given whole
    seconds only: they keep milliseconds and would round .9999995 up), then the digits."""
    return (
        f"((CAST(strftime('%s', substr({end}, 1, 19)) AS INTEGER)"
        f" - CAST(strftime('%s', substr({start}, 1, 19)) AS INTEGER))"
        f" * 1000000 + CAST(substr({end}, 21, 6) AS INTEGER)"
        f" - CAST(substr({start}, 21, 6) AS INTEGER))"
    )


def _shift(spans: list[Span]) -> tuple[str, list[Any]]:
    """An SQL expression giving the ``strftime`` modifier that turns ``created_at`` into
    station time, and its parameters."""
    if len(spans) == 1:
        return "?", [f"{spans[0].offset_seconds:+d} seconds"]
    sql, params = "CASE", []
    for span in spans[:-1]:
        sql += " WHEN created_at < ? THEN ?"
        params += [to_db_time(span.end), f"{span.offset_seconds:+d} seconds"]
    sql += " ELSE ? END"
    params.append(f"{spans[-1].offset_seconds:+d} seconds")
    return sql, params


def _key(grouping: Grouping, spans: list[Span]) -> tuple[str, list[Any]]:
    if grouping is Grouping.ALL:
        return "''", []
    if grouping is Grouping.DISTRICT:
        return "COALESCE(district, '')", []
    shift, params = _shift(spans)
    fmt = "%Y-%m-%d" if grouping is Grouping.DAY else "%H"
    # Whole seconds only: SQLite's date functions keep milliseconds, and would round
    # 23:59:59.9999995 up into the next day.
    return f"strftime('{fmt}', substr(created_at, 1, 19), {shift})", params


class CampaignStatsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tallies(
        self,
        since: dt.datetime,
        until: dt.datetime,
        spans: list[Span],
        groupings: tuple[Grouping, ...] = tuple(Grouping),
        with_legs: tuple[Grouping, ...] | None = None,
    ) -> Tallies:
        """Everything :func:`bot.domain.campaign.period_figures` needs for the tips received
        in ``[since, until)`` — or only the ``groupings`` given, and the response legs (the
        per-tip sorts) only of those in ``with_legs`` (default: all of them)."""
        window = [to_db_time(since), to_db_time(until)]
        cells: dict[Grouping, list[Cell]] = {}
        leg_counts: dict[Grouping, dict[tuple[str, Leg], int]] = {}
        ranked: dict[Grouping, list[Ranked]] = {}
        earlier: dict[Grouping, dict[str, int]] = {}
        for grouping in groupings:
            key, key_params = _key(grouping, spans)
            cells[grouping] = await self._cells(key, key_params, window)
            earlier[grouping] = await self._earlier_attempts(key, key_params, window)
            if with_legs is not None and grouping not in with_legs:
                continue
            leg_counts[grouping] = await self._leg_counts(key, key_params, window)
            ranked[grouping] = await self._ranked(key, key_params, window, leg_counts[grouping])
        return Tallies(
            cells=cells,
            leg_counts=leg_counts,
            ranked=ranked,
            patrols_done=await self._patrols(window),
            reward_sums=await self._reward_sums(window),
            earlier_attempts=earlier,
        )

    async def _cells(self, key: str, key_params: list[Any], window: list[str]) -> list[Cell]:
        rows = await self.db.fetchall(
            f"""SELECT {key} AS k, state, outcome, urgent, COUNT(*) AS n FROM tips
                WHERE created_at >= ? AND created_at < ?
                GROUP BY k, state, outcome, urgent""",
            (*key_params, *window),
            heavy=True,
        )
        return [Cell(r["k"], r["state"], r["outcome"], bool(r["urgent"]), r["n"]) for r in rows]

    async def _earlier_attempts(
        self, key: str, key_params: list[Any], window: list[str]
    ) -> dict[str, int]:
        """Per group, the ended attempts of reopened tips (``tip_attempts``; few rows)."""
        rows = await self.db.fetchall(
            f"""SELECT {key} AS k, COUNT(*) AS n FROM tips
                JOIN tip_attempts a ON a.tip_id = tips.id
                WHERE tips.created_at >= ? AND tips.created_at < ? GROUP BY k""",
            (*key_params, *window),
            heavy=True,
        )
        return {r["k"]: int(r["n"]) for r in rows}

    async def _leg_counts(
        self, key: str, key_params: list[Any], window: list[str]
    ) -> dict[tuple[str, Leg], int]:
        present = ", ".join(
            f"SUM({a} IS NOT NULL AND {b} IS NOT NULL) AS {leg.value}"
            for leg, (a, b) in _LEGS.items()
        )
        rows = await self.db.fetchall(
            f"""SELECT {key} AS k, {present} FROM tips
                WHERE created_at >= ? AND created_at < ? GROUP BY k""",
            (*key_params, *window),
            heavy=True,
        )
        return {(r["k"], leg): int(r[leg.value]) for r in rows for leg in Leg if r[leg.value]}

    async def _ranked(
        self,
        key: str,
        key_params: list[Any],
        window: list[str],
        leg_counts: dict[tuple[str, Leg], int],
    ) -> list[Ranked]:
        """The sorted values each group's quantiles need: the database sorts each group's
        durations and hands back only the rows at the wanted ranks."""
        found: list[Ranked] = []
        wanted = ranks_wanted(leg_counts)
        for leg, (start, end) in _LEGS.items():
            pairs = [[k, rank] for k, each, rank in wanted if each is leg]
            if not pairs:
                continue
            micros = _micros(start, end)
            rows = await self.db.fetchall(
                # Both sides materialized once, then joined on (k, r): SQLite indexes the
                # materialized ``sorted`` for the join (else it re-runs the window sort for
                # every wanted rank: seconds per call at 10k tips).
                f"""WITH sorted AS MATERIALIZED (
                        SELECT {key} AS k, {micros} AS us,
                               ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {micros}) - 1 AS r
                        FROM tips
                        WHERE created_at >= ? AND created_at < ?
                          AND {start} IS NOT NULL AND {end} IS NOT NULL
                    ),
                    want AS MATERIALIZED (
                        SELECT value ->> 0 AS k, value ->> 1 AS r FROM json_each(?)
                    )
                    SELECT sorted.k, sorted.r, sorted.us FROM want
                    JOIN sorted ON sorted.k = want.k AND sorted.r = want.r""",
                (*key_params, *key_params, *window, json.dumps(pairs, ensure_ascii=False)),
                heavy=True,
            )
            found += [Ranked(r["k"], leg, r["r"], int(r["us"])) for r in rows]
        return found

    async def _patrols(self, window: list[str]) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM patrols WHERE started_at >= ? AND started_at < ?",
            tuple(window),
            heavy=True,
        )
        return int(row["n"]) if row else 0

    async def _reward_sums(self, window: list[str]) -> dict[str, tuple[int, int]]:
        """``state → (count, yuan)`` of the rewards of the tips received in the window, as
        they stand now (a paid reward counts the yuan actually paid, as /ledger does)."""
        rows = await self.db.fetchall(
            """SELECT rewards.state AS state, COUNT(*) AS n,
                      SUM(CASE WHEN rewards.state = 'paid'
                               THEN COALESCE(rewards.paid_amount, rewards.amount)
                               ELSE rewards.amount END) AS total
               FROM rewards JOIN tips ON tips.id = rewards.tip_id
               WHERE tips.created_at >= ? AND tips.created_at < ?
               GROUP BY rewards.state""",
            tuple(window),
            heavy=True,
        )
        return {r["state"]: (int(r["n"]), int(r["total"] or 0)) for r in rows}
