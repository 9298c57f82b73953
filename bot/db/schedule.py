"""What the schedules did (one row per slot, so each happens once) and the bot's settings
(cold mode, the duty on record, when reminders were last checked…); the patrol log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx


class ScheduleStore:
    """The ``schedule_log`` and ``settings`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def mark_done(
        self, tx: Tx, kind: str, slot: str, now: dt.datetime, detail: str | None = None
    ) -> bool:
        """Claim a slot; ``False`` if it was already done (so it happens exactly once)."""
        cur = await tx.execute(
            "INSERT OR IGNORE INTO schedule_log (kind, slot, done_at, detail) VALUES (?, ?, ?, ?)",
            (kind, slot, to_db_time(now), detail),
        )
        return cur.rowcount == 1

    async def is_done(self, kind: str, slot: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM schedule_log WHERE kind = ? AND slot = ?", (kind, slot)
        )
        return row is not None

    async def detail(self, kind: str, slot: str) -> str | None:
        """The detail recorded for a slot (e.g. a reminder's timing); None if not done."""
        row = await self.db.fetchone(
            "SELECT detail FROM schedule_log WHERE kind = ? AND slot = ?", (kind, slot)
        )
        return row["detail"] if row else None

    async def done_between(self, since: dt.datetime, until: dt.datetime) -> bool:
        """Whether the schedules recorded anything in ``[since, until)`` (the bot was running)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM schedule_log WHERE done_at >= ? AND done_at < ? LIMIT 1",
            (to_db_time(since), to_db_time(until)),
        )
        return row is not None

    async def last_done(self, before: dt.datetime) -> dt.datetime | None:
        """When the schedules last recorded anything before ``before`` (None: never)."""
        row = await self.db.fetchone(
            "SELECT MAX(done_at) AS at FROM schedule_log WHERE done_at < ?", (to_db_time(before),)
        )
        return from_db_time(row["at"]) if row else None

    async def get_setting(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set_setting(self, tx: Tx, key: str, value: str, now: dt.datetime) -> None:
        await tx.execute(
            """INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
               ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                   updated_at = excluded.updated_at""",
            (key, value, to_db_time(now)),
        )


class PatrolStore:
    """The ``patrols`` table: /patrol_start … /patrol_end."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(
        self, tx: Tx, group_key: str, chat_id: int, user_id: int, area: str | None, now: dt.datetime
    ) -> int:
        cur = await tx.execute(
            """INSERT INTO patrols (group_key, chat_id, started_by, area, started_at)
               VALUES (?, ?, ?, ?, ?)""",
            (group_key, chat_id, user_id, area, to_db_time(now)),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def open(self, group_key: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            """SELECT * FROM patrols WHERE group_key = ? AND ended_at IS NULL
               ORDER BY id DESC LIMIT 1""",
            (group_key,),
        )
        return dict(row) if row else None

    async def end(
        self,
        tx: Tx,
        patrol_id: int,
        user_id: int,
        people_met: int,
        supplies: dict[str, int],
        now: dt.datetime,
    ) -> None:
        await tx.execute(
            """UPDATE patrols SET ended_by = ?, ended_at = ?, people_met = ?, supplies = ?
               WHERE id = ?""",
            (user_id, to_db_time(now), people_met, json.dumps(supplies), patrol_id),
        )

    async def set_area(self, tx: Tx, patrol_id: int, area: str) -> bool:
        """Record the area of a patrol under way that has none yet; False if it had one."""
        cur = await tx.execute(
            "UPDATE patrols SET area = ? WHERE id = ? AND area IS NULL AND ended_at IS NULL",
            (area, patrol_id),
        )
        return cur.rowcount == 1

    async def between(
        self, since: dt.datetime, until: dt.datetime, group_key: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM patrols WHERE started_at >= ? AND started_at < ?"
        params: list[Any] = [to_db_time(since), to_db_time(until)]
        if group_key is not None:
            sql += " AND group_key = ?"
            params.append(group_key)
        rows = await self.db.fetchall(sql + " ORDER BY id", tuple(params))
        return [dict(r) for r in rows]
