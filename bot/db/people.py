"""People: users the bot has met (names, languages, the phone shared for a payout), the
staff table, and the typed answers the bot waits for from someone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx, marks


class PeopleStore:
    """The ``users`` and ``staff`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        tx: Tx,
        user_id: int,
        first_name: str,
        username: str | None,
        tg_language: str | None,
        now: dt.datetime,
    ) -> None:
        t = to_db_time(now)
        await tx.execute(
            """INSERT INTO users
                   (user_id, first_name, username, tg_language, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(user_id) DO UPDATE SET first_name = excluded.first_name,
                   username = excluded.username, tg_language = excluded.tg_language,
                   updated_at = excluded.updated_at""",
            (user_id, first_name[:64], username, tg_language, t, t),
        )

    async def ensure(self, tx: Tx, user_id: int, now: dt.datetime) -> None:
        """Make sure a row exists (names arrive separately, see ``upsert``)."""
        t = to_db_time(now)
        await tx.execute(
            "INSERT OR IGNORE INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
            (user_id, t, t),
        )

    async def languages(self, user_id: int) -> tuple[str | None, str | None]:
        """(chosen language, Telegram app language) of a user."""
        row = await self.db.fetchone(
            "SELECT language, tg_language FROM users WHERE user_id = ?", (user_id,)
        )
        return (row["language"], row["tg_language"]) if row else (None, None)

    async def set_language(self, tx: Tx, user_id: int, language: str, now: dt.datetime) -> None:
        t = to_db_time(now)
        await tx.execute(
            """INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(user_id) DO UPDATE SET language = excluded.language,
                   updated_at = excluded.updated_at""",
            (user_id, language, t, t),
        )

    async def first_names(self, user_ids: Iterable[int | None]) -> dict[int, str]:
        ids = sorted({i for i in user_ids if i is not None})
        if not ids:
            return {}
        rows = await self.db.fetchall(
            f"SELECT user_id, first_name FROM users WHERE user_id IN ({marks(ids)})", tuple(ids)
        )
        return {row["user_id"]: row["first_name"] for row in rows}

    async def sync_staff(
        self, tx: Tx, entries: list[tuple[int, str, str | None]], now: dt.datetime
    ) -> None:
        """Make the staff table equal to ``entries`` (user id, role, group key)."""
        await tx.execute("DELETE FROM staff")
        await tx.executemany(
            "INSERT INTO staff (user_id, role, group_key, synced_at) VALUES (?, ?, ?, ?)",
            [(uid, str(role), group, to_db_time(now)) for uid, role, group in entries],
        )

    # -- the phone number a reporter shared (payment only) ----------------------------------
    async def set_phone(self, tx: Tx, user_id: int, phone: str | None, now: dt.datetime) -> None:
        await self.ensure(tx, user_id, now)
        await tx.execute(
            "UPDATE users SET phone = ?, updated_at = ? WHERE user_id = ?",
            (phone, to_db_time(now), user_id),
        )

    async def identity_of(self, user_id: int) -> tuple[str | None, str | None, str | None]:
        """A user's first name, username and phone as stored: only ever used to *mask* them
        in words shown where the user must stay anonymous."""
        row = await self.db.fetchone(
            "SELECT first_name, username, phone FROM users WHERE user_id = ?", (user_id,)
        )
        return (row["first_name"], row["username"], row["phone"]) if row else (None, None, None)

    async def reporter_identity(self, tip_id: int) -> tuple[str | None, str | None, str | None]:
        """The tip's reporter's name, username and phone, to mask (see ``identity_of``)."""
        row = await self.db.fetchone(
            """SELECT u.first_name, u.username, u.phone FROM tips t
               JOIN users u ON u.user_id = t.reporter_id WHERE t.id = ?""",
            (tip_id,),
        )
        return (row["first_name"], row["username"], row["phone"]) if row else (None, None, None)

    async def phone(self, user_id: int) -> str | None:
        row = await self.db.fetchone("SELECT phone FROM users WHERE user_id = ?", (user_id,))
        return row["phone"] if row else None


class InputStore:
    """The ``pending_inputs`` table: the typed answer the bot waits for from a person."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set(
        self, tx: Tx, user_id: int, kind: str, data: dict[str, Any], now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT OR REPLACE INTO pending_inputs (user_id, kind, data, created_at)
               VALUES (?, ?, ?, ?)""",
            (user_id, str(kind), json.dumps(data, ensure_ascii=False), to_db_time(now)),
        )

    async def get(self, user_id: int) -> tuple[str, dict[str, Any], dt.datetime] | None:
        row = await self.db.fetchone("SELECT * FROM pending_inputs WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return row["kind"], json.loads(row["data"]), from_db_time(row["created_at"])

    async def clear(self, tx: Tx, user_id: int) -> None:
        await tx.execute("DELETE FROM pending_inputs WHERE user_id = ?", (user_id,))
