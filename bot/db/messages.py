"""What the bot sent about a tip (to edit its cards and recognise replies to them), and the
tip's media (the reporter's photo, the patrol's evidence)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.db.database import Database, to_db_time
from bot.db.sql import Tx


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    message_id: int
    tip_id: int
    kind: str


class MessageStore:
    """The ``messages`` table: one row per (chat, message, tip) the bot keeps track of."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, tx: Tx, chat_id: int, message_id: int, tip_id: int, kind: str, now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT OR REPLACE INTO messages (chat_id, message_id, tip_id, kind, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (chat_id, message_id, tip_id, kind, to_db_time(now)),
        )

    async def tip_of(self, chat_id: int, message_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT tip_id FROM messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return row["tip_id"] if row else None

    async def kind(self, chat_id: int, message_id: int) -> tuple[int, str] | None:
        """(tip id, kind) of a message the bot sent, if it is one we keep track of."""
        row = await self.db.fetchone(
            "SELECT tip_id, kind FROM messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return (row["tip_id"], row["kind"]) if row else None

    async def of(
        self, tip_id: int, kind: str | None = None, chat_id: int | None = None
    ) -> list[SentMessage]:
        sql = "SELECT * FROM messages WHERE tip_id = ?"
        params: list[Any] = [tip_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if chat_id is not None:
            sql += " AND chat_id = ?"
            params.append(chat_id)
        rows = await self.db.fetchall(sql + " ORDER BY created_at, message_id", tuple(params))
        return [SentMessage(r["chat_id"], r["message_id"], r["tip_id"], r["kind"]) for r in rows]

    async def tips_in(self, chat_id: int, message_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT tip_id FROM messages WHERE chat_id = ? AND message_id = ? ORDER BY tip_id",
            (chat_id, message_id),
        )
        return [r["tip_id"] for r in rows]

    async def forget(self, tx: Tx, chat_id: int, message_id: int) -> None:
        await tx.execute(
            "DELETE FROM messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        )


class MediaStore:
    """The ``media`` table: each file once per tip (by its unique id)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        tx: Tx,
        *,
        tip_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str | None,
        added_by: int | None,
        now: dt.datetime,
    ) -> bool:
        cur = await tx.execute(
            """INSERT OR IGNORE INTO media
                   (tip_id, kind, file_id, file_unique_id, added_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (tip_id, kind, file_id, file_unique_id, added_by, to_db_time(now)),
        )
        return cur.rowcount == 1

    async def of(self, tip_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT * FROM media WHERE tip_id = ? ORDER BY id", (tip_id,))
        return [dict(r) for r in rows]

    async def evidence_count(self, tip_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM media WHERE tip_id = ? AND kind != 'report_photo'", (tip_id,)
        )
        return int(row["n"]) if row else 0
