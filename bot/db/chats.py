"""Chats the bot can no longer reach (blocked, removed), and group chats that moved."""

from __future__ import annotations

import datetime as dt

from bot.db.database import Database, to_db_time
from bot.db.sql import Tx

_MIGRATED = "migrated:"  # settings key prefix: old chat id → new chat id


class ChatStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_active(
        self, tx: Tx, chat_id: int, active: bool, note: str | None, now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT INTO chats (chat_id, active, note, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(chat_id) DO UPDATE SET active = excluded.active, note = excluded.note,
                   updated_at = excluded.updated_at""",
            (chat_id, int(active), note, to_db_time(now)),
        )

    async def inactive(self) -> set[int]:
        rows = await self.db.fetchall("SELECT chat_id FROM chats WHERE active = 0")
        return {r["chat_id"] for r in rows}

    async def record_migration(self, tx: Tx, old: int, new: int, now: dt.datetime) -> None:
        """A group chat became a supergroup (Telegram's ChatMigrated): remember where to."""
        await tx.execute(
            """INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
               ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                   updated_at = excluded.updated_at""",
            (f"{_MIGRATED}{old}", str(new), to_db_time(now)),
        )

    async def migrations(self) -> dict[int, int]:
        """Group chat ids that moved (old → new), learnt from Telegram's ChatMigrated."""
        rows = await self.db.fetchall(
            "SELECT key, value FROM settings WHERE key LIKE ?", (f"{_MIGRATED}%",)
        )
        return {int(r["key"].split(":", 1)[1]): int(r["value"]) for r in rows}
