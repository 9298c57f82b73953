"""The dashboard's one-time sign-in links and sessions (issue 14), kept as hashes only."""

from __future__ import annotations

import datetime as dt

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx


class DashboardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_link(
        self, tx: Tx, token_hash: str, user_id: int, now: dt.datetime, expires: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT INTO dashboard_links (token_hash, user_id, created_at, expires_at)
               VALUES (?, ?, ?, ?)""",
            (token_hash, user_id, to_db_time(now), to_db_time(expires)),
        )

    async def use_link(self, tx: Tx, token_hash: str, now: dt.datetime) -> int | None:
        """Spend a link that is unused and unexpired: its user, or None (exactly one caller
        ever gets the user of a link, however many open it at once)."""
        cur = await tx.execute(
            """UPDATE dashboard_links SET used_at = ?
               WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
               RETURNING user_id""",
            (to_db_time(now), token_hash, to_db_time(now)),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else None

    async def link_state(self, token_hash: str) -> str | None:
        """``"used"``, ``"unused"`` or None (no such link): why a link was refused."""
        row = await self.db.fetchone(
            "SELECT used_at FROM dashboard_links WHERE token_hash = ?", (token_hash,)
        )
        if row is None:
            return None
        return "used" if row["used_at"] else "unused"

    async def add_session(
        self, tx: Tx, token_hash: str, user_id: int, now: dt.datetime, expires: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT INTO dashboard_sessions (token_hash, user_id, created_at, expires_at)
               VALUES (?, ?, ?, ?)""",
            (token_hash, user_id, to_db_time(now), to_db_time(expires)),
        )

    async def session(self, token_hash: str, now: dt.datetime) -> tuple[int, dt.datetime] | None:
        """(user, expiry) of a live session."""
        row = await self.db.fetchone(
            """SELECT user_id, expires_at FROM dashboard_sessions
               WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ?""",
            (token_hash, to_db_time(now)),
        )
        if row is None:
            return None
        expires = from_db_time(row["expires_at"])
        assert expires is not None
        return int(row["user_id"]), expires

    async def end_session(self, tx: Tx, token_hash: str, now: dt.datetime) -> bool:
        cur = await tx.execute(
            """UPDATE dashboard_sessions SET ended_at = ?
               WHERE token_hash = ? AND ended_at IS NULL""",
            (to_db_time(now), token_hash),
        )
        return cur.rowcount == 1

    async def end_all(self, tx: Tx, now: dt.datetime) -> int:
        """End every live session and spend every unused link; how many sessions ended."""
        cur = await tx.execute(
            """UPDATE dashboard_sessions SET ended_at = ?
               WHERE ended_at IS NULL AND expires_at > ?""",
            (to_db_time(now), to_db_time(now)),
        )
        await tx.execute(
            "UPDATE dashboard_links SET used_at = ? WHERE used_at IS NULL", (to_db_time(now),)
        )
        return cur.rowcount
