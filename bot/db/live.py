"""The ``live_positions`` table: the last position of each live location followed.

Staff positions are staff-only data: they are read by the patrol side's cards and /open
(and the dashboard, :meth:`LiveStore.positions`), never logged, and deleted once their live
period is over (:meth:`LiveStore.expire`).
"""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx
from bot.domain.live import LivePosition, LiveRole


def _position(row: aiosqlite.Row) -> LivePosition:
    return LivePosition(
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        user_id=row["user_id"],
        role=LiveRole(row["role"]),
        tip_id=row["tip_id"],
        group_key=row["group_key"],
        lat=row["lat"],
        lon=row["lon"],
        started_at=from_db_time(row["started_at"]),  # type: ignore[arg-type]
        updated_at=from_db_time(row["updated_at"]),  # type: ignore[arg-type]
        expires_at=from_db_time(row["expires_at"]),  # type: ignore[arg-type]
        shown_at=from_db_time(row["shown_at"]),
    )


class LiveStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(
        self,
        tx: Tx,
        *,
        chat_id: int,
        message_id: int,
        user_id: int,
        role: LiveRole,
        tip_id: int | None,
        group_key: str | None,
        lat: float,
        lon: float,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> bool:
        """Follow a live location from its first message; False if it was followed already."""
        cur = await tx.execute(
            """INSERT OR IGNORE INTO live_positions (chat_id, message_id, user_id, role, tip_id,
                   group_key, lat, lon, started_at, updated_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                chat_id,
                message_id,
                user_id,
                role.value,
                tip_id,
                group_key,
                lat,
                lon,
                to_db_time(now),
                to_db_time(now),
                to_db_time(expires_at),
            ),
        )
        return cur.rowcount == 1

    async def get(self, chat_id: int, message_id: int) -> LivePosition | None:
        row = await self.db.fetchone(
            "SELECT * FROM live_positions WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return _position(row) if row else None

    async def move(
        self, tx: Tx, chat_id: int, message_id: int, lat: float, lon: float, now: dt.datetime
    ) -> bool:
        """A followed live location moved (until its live period is over)."""
        cur = await tx.execute(
            """UPDATE live_positions SET lat = ?, lon = ?, updated_at = ?
               WHERE chat_id = ? AND message_id = ? AND expires_at > ?""",
            (lat, lon, to_db_time(now), chat_id, message_id, to_db_time(now)),
        )
        return cur.rowcount == 1

    async def bind(self, tx: Tx, chat_id: int, message_id: int, tip_id: int) -> None:
        await tx.execute(
            """UPDATE live_positions SET tip_id = ?
               WHERE chat_id = ? AND message_id = ? AND tip_id IS NULL""",
            (tip_id, chat_id, message_id),
        )

    async def shown(self, tx: Tx, chat_id: int, message_id: int, now: dt.datetime) -> None:
        """A card edit was queued for this position."""
        await tx.execute(
            "UPDATE live_positions SET shown_at = ? WHERE chat_id = ? AND message_id = ?",
            (to_db_time(now), chat_id, message_id),
        )

    async def first_tip_since(self, reporter_id: int, since: dt.datetime) -> int | None:
        """The first tip this reporter submitted at or after ``since`` (their live pin's)."""
        row = await self.db.fetchone(
            """SELECT id FROM tips WHERE reporter_id = ? AND created_at >= ?
               ORDER BY created_at, id LIMIT 1""",
            (reporter_id, to_db_time(since)),
        )
        return row["id"] if row else None

    async def of_tip(self, tip_id: int) -> list[LivePosition]:
        rows = await self.db.fetchall(
            "SELECT * FROM live_positions WHERE tip_id = ? ORDER BY updated_at DESC", (tip_id,)
        )
        return [_position(r) for r in rows]

    async def of_tips(self, tip_ids: list[int], now: dt.datetime) -> list[LivePosition]:
        """Staff positions still live, shared in reply to these tips' cards."""
        if not tip_ids:
            return []
        rows = await self.db.fetchall(
            f"""SELECT * FROM live_positions WHERE role = 'staff' AND expires_at > ?
                AND tip_id IN ({",".join("?" for _ in tip_ids)}) ORDER BY updated_at DESC""",
            (to_db_time(now), *tip_ids),
        )
        return [_position(r) for r in rows]

    async def positions(self, now: dt.datetime, group_key: str | None = None) -> list[LivePosition]:
        """Staff members' live positions now (of one group, or all): staff-only data."""
        sql = "SELECT * FROM live_positions WHERE role = 'staff' AND expires_at > ?"
        params: list[object] = [to_db_time(now)]
        if group_key is not None:
            sql += " AND group_key = ?"
            params.append(group_key)
        rows = await self.db.fetchall(sql + " ORDER BY updated_at DESC", tuple(params))
        return [_position(r) for r in rows]

    async def unshown(self) -> list[LivePosition]:
        """Positions of a tip whose latest move no card shows yet."""
        rows = await self.db.fetchall(
            """SELECT * FROM live_positions WHERE tip_id IS NOT NULL
               AND (shown_at IS NULL OR updated_at > shown_at)"""
        )
        return [_position(r) for r in rows]

    async def ended(self, now: dt.datetime) -> list[LivePosition]:
        """What :meth:`expire` would delete now."""
        rows = await self.db.fetchall(
            """SELECT * FROM live_positions WHERE expires_at <= ?
               AND (role = 'staff' OR tip_id IS NULL)""",
            (to_db_time(now),),
        )
        return [_position(r) for r in rows]

    async def unbound(self, now: dt.datetime) -> list[LivePosition]:
        """Reporters' live pins still live that no tip has taken yet."""
        rows = await self.db.fetchall(
            """SELECT * FROM live_positions WHERE role = 'reporter' AND tip_id IS NULL
               AND expires_at > ?""",
            (to_db_time(now),),
        )
        return [_position(r) for r in rows]

    async def expire(self, tx: Tx, now: dt.datetime) -> int:
        """Delete staff positions whose live period is over, and reporters' pins that no tip
        took (a tip's last position stays with it)."""
        cur = await tx.execute(
            """DELETE FROM live_positions WHERE expires_at <= ?
               AND (role = 'staff' OR tip_id IS NULL)""",
            (to_db_time(now),),
        )
        return cur.rowcount
