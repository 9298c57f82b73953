"""The append-only event log: every transition, refusal and notable act (triggers refuse
updates and deletes)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from enum import Enum
from typing import Any

from bot.db.database import Database, to_db_time
from bot.db.sql import Tx, marks


def _value(value: Enum | str | None) -> str | None:
    return value.value if isinstance(value, Enum) else value


class EventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        tx: Tx,
        *,
        tip_id: int | None,
        actor_id: int | None,
        actor_role: Enum | str | None,
        action: Enum | str,
        from_state: Enum | str | None,
        to_state: Enum | str | None,
        now: dt.datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await tx.execute(
            """INSERT INTO events (tip_id, actor_id, actor_role, action, from_state, to_state,
                   detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tip_id,
                actor_id,
                _value(actor_role),
                _value(action),
                _value(from_state),
                _value(to_state),
                json.dumps(detail, ensure_ascii=False) if detail else None,
                to_db_time(now),
            ),
        )

    async def note(
        self,
        tx: Tx,
        tip_id: int | None,
        actor_id: int | None,
        role: Enum,
        action: Enum | str,
        now: dt.datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """An event that moves no state (a relayed answer, a refused reward, a patrol…)."""
        await self.add(
            tx,
            tip_id=tip_id,
            actor_id=actor_id,
            actor_role=role,
            action=action,
            from_state=None,
            to_state=None,
            now=now,
            detail=detail,
        )

    async def of(self, tip_id: int | None = None) -> list[dict[str, Any]]:
        """The log of one tip (every event if ``None``), oldest first."""
        if tip_id is None:
            rows = await self.db.fetchall("SELECT * FROM events ORDER BY id")
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM events WHERE tip_id = ? ORDER BY id", (tip_id,)
            )
        return [dict(r) for r in rows]

    async def fired(
        self, tip_ids: list[int], actions: Iterable[str], since: str | None = None
    ) -> dict[int, set[str]]:
        """Which of ``actions`` each tip's event log already has (one query for many tips);
        ``since``: only after the tip's last event of that action (e.g. a reopen)."""
        wanted = [str(a) for a in actions]
        if not tip_ids or not wanted:
            return {}
        rows = await self.db.fetchall(
            f"""SELECT DISTINCT tip_id, action FROM events e
                WHERE tip_id IN ({marks(tip_ids)}) AND action IN ({marks(wanted)})
                  AND e.id > COALESCE((SELECT MAX(r.id) FROM events r
                                       WHERE r.tip_id = e.tip_id AND r.action = ?), 0)""",
            (*tip_ids, *wanted, since or ""),
        )
        found: dict[int, set[str]] = {}
        for row in rows:
            found.setdefault(row["tip_id"], set()).add(row["action"])
        return found

    async def has(self, tip_id: int, action: str, since: str | None = None) -> bool:
        row = await self.db.fetchone(
            """SELECT 1 FROM events e WHERE tip_id = ? AND action = ?
                 AND e.id > COALESCE((SELECT MAX(r.id) FROM events r
                                      WHERE r.tip_id = e.tip_id AND r.action = ?), 0)
               LIMIT 1""",
            (tip_id, str(action), since or ""),
        )
        return row is not None
