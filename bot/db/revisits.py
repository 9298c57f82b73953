"""The ``revisits`` table: light tasks to check again on someone who refused help or had gone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx, compare_and_set, csv, uncsv
from bot.domain.events import Act
from bot.domain.revisits import Revisit, RevisitOutcome, RevisitState
from bot.domain.tips import Supply


def _revisit(row: aiosqlite.Row) -> Revisit:
    return Revisit(
        id=row["id"],
        tip_id=row["tip_id"],
        previous_id=row["previous_id"],
        reason=row["reason"],
        supplies=frozenset(Supply(s) for s in uncsv(row["supplies"])),
        reason_at=from_db_time(row["reason_at"]),  # type: ignore[arg-type]
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
        due_at=from_db_time(row["due_at"]),
        state=RevisitState(row["state"]),
        group_key=row["group_key"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        posted_at=from_db_time(row["posted_at"]),
        claimed_by=row["claimed_by"],
        claimed_at=from_db_time(row["claimed_at"]),
        outcome=RevisitOutcome(row["outcome"]) if row["outcome"] else None,
        closed_by=row["closed_by"],
        closed_at=from_db_time(row["closed_at"]),
        version=row["version"],
    )


class RevisitStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        tx: Tx,
        *,
        tip_id: int,
        previous_id: int | None,
        reason: str,
        supplies: frozenset[Supply],
        reason_at: dt.datetime,
        due_at: dt.datetime | None,
        now: dt.datetime,
    ) -> int | None:
        """A new waiting revisit; None if this outcome made one already (exactly once)."""
        cur = await tx.execute(
            """INSERT OR IGNORE INTO revisits (tip_id, previous_id, reason, supplies, reason_at,
                   created_at, due_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tip_id,
                previous_id,
                reason,
                csv(s.value for s in supplies),
                to_db_time(reason_at),
                to_db_time(now),
                to_db_time(due_at) if due_at else None,
                RevisitState.WAITING.value,
            ),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    async def get(self, revisit_id: int) -> Revisit | None:
        row = await self.db.fetchone("SELECT * FROM revisits WHERE id = ?", (revisit_id,))
        return _revisit(row) if row else None

    async def of_tip(self, tip_id: int) -> list[Revisit]:
        rows = await self.db.fetchall(
            "SELECT * FROM revisits WHERE tip_id = ? ORDER BY id", (tip_id,)
        )
        return [_revisit(r) for r in rows]

    async def waiting(self) -> list[tuple[Revisit, dt.datetime | None]]:
        """Waiting revisits, each with the first time cold mode was switched on after it was
        made (None: not since) — from the event log, so a cold spell that began and ended
        while the bot was down still counts."""
        rows = await self.db.fetchall(
            """SELECT r.*, (SELECT MIN(e.at) FROM events e
                            WHERE e.action = ? AND e.at > r.created_at) AS cold_started
               FROM revisits r WHERE r.state = ? ORDER BY r.id""",
            (Act.COLD_ON.value, RevisitState.WAITING.value),
        )
        return [(_revisit(r), from_db_time(r["cold_started"])) for r in rows]

    async def open(self, group_key: str | None = None) -> list[Revisit]:
        """Posted and claimed revisits (of one group, or all), oldest first."""
        sql = "SELECT * FROM revisits WHERE state IN (?, ?)"
        params: list[Any] = [RevisitState.POSTED.value, RevisitState.CLAIMED.value]
        if group_key is not None:
            sql += " AND group_key = ?"
            params.append(group_key)
        rows = await self.db.fetchall(sql + " ORDER BY id", tuple(params))
        return [_revisit(r) for r in rows]

    async def count_waiting(self) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM revisits WHERE state = ?", (RevisitState.WAITING.value,)
        )
        return int(row["n"]) if row else 0

    async def change(
        self, tx: Tx, revisit: Revisit, state: RevisitState, changes: dict[str, Any]
    ) -> bool:
        """Compare-and-set on the revisit's state and version: applied once."""
        return await compare_and_set(
            tx, "revisits", revisit.id, revisit.state, revisit.version, {"state": state, **changes}
        )

    async def set_card(self, tx: Tx, revisit_id: int, chat_id: int, message_id: int) -> None:
        await tx.execute(
            "UPDATE revisits SET chat_id = ?, message_id = ? WHERE id = ?",
            (chat_id, message_id, revisit_id),
        )

    async def tally(self, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
        """Revisits posted and closed (by outcome) in ``[since, until)``."""
        posted = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM revisits WHERE posted_at >= ? AND posted_at < ?",
            (to_db_time(since), to_db_time(until)),
        )
        rows = await self.db.fetchall(
            """SELECT outcome, COUNT(*) AS n FROM revisits
               WHERE closed_at >= ? AND closed_at < ? GROUP BY outcome""",
            (to_db_time(since), to_db_time(until)),
        )
        counts = {r["outcome"]: int(r["n"]) for r in rows}
        counts["posted"] = int(posted["n"]) if posted else 0
        return counts
