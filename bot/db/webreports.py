"""The web report form's tables: web reporters, the status page's tries, the notices a web
reporter is shown instead of sent, and photos waiting to be uploaded to Telegram."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx
from bot.domain.webreport import WEB_REPORTER_BASE, web_reporter_id


@dataclass(frozen=True)
class WebNotice:
    id: int
    tip_id: int | None
    payload: dict[str, Any]
    created_at: dt.datetime


class WebReportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reporters --------------------------------------------------------------------------
    async def reporter(self, tx: Tx, phone_key: str | None, language: str, now: dt.datetime) -> int:
        """The reporter id for a phone (the same one each time), or a fresh one (no phone)."""
        if phone_key is not None:
            row = await (
                await tx.execute("SELECT id FROM web_reporters WHERE phone_key = ?", (phone_key,))
            ).fetchone()
            if row is not None:
                await tx.execute(
                    "UPDATE web_reporters SET language = ? WHERE id = ?", (language, row["id"])
                )
                return web_reporter_id(int(row["id"]))
        cur = await tx.execute(
            "INSERT INTO web_reporters (phone_key, language, created_at) VALUES (?, ?, ?)",
            (phone_key, language, to_db_time(now)),
        )
        assert cur.lastrowid is not None
        return web_reporter_id(int(cur.lastrowid))

    async def language(self, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT language FROM web_reporters WHERE id = ?", (user_id - WEB_REPORTER_BASE,)
        )
        return row["language"] if row else None

    # -- the status page's tries -----------------------------------------------------------
    async def wrong_tries(self, tip_id: int) -> int:
        row = await self.db.fetchone("SELECT wrong_tries FROM web_tips WHERE tip_id = ?", (tip_id,))
        return int(row["wrong_tries"]) if row else 0

    async def count_wrong(self, tx: Tx, tip_id: int, now: dt.datetime) -> int:
        await tx.execute(
            """INSERT INTO web_tips (tip_id, wrong_tries, created_at) VALUES (?, 1, ?)
               ON CONFLICT (tip_id) DO UPDATE SET wrong_tries = wrong_tries + 1""",
            (tip_id, to_db_time(now)),
        )
        row = await (
            await tx.execute("SELECT wrong_tries FROM web_tips WHERE tip_id = ?", (tip_id,))
        ).fetchone()
        return int(row["wrong_tries"])

    # -- notices (the reporter's "chat") ---------------------------------------------------
    async def add_notice(
        self, tx: Tx, user_id: int, tip_id: int | None, payload: dict[str, Any], now: dt.datetime
    ) -> int:
        cur = await tx.execute(
            """INSERT INTO web_notices (tip_id, user_id, payload, created_at)
               VALUES (?, ?, ?, ?)""",
            (tip_id, user_id, json.dumps(payload, ensure_ascii=False), to_db_time(now)),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    async def notices(self, tip_id: int) -> list[WebNotice]:
        rows = await self.db.fetchall(
            "SELECT * FROM web_notices WHERE tip_id = ? ORDER BY id", (tip_id,)
        )
        return [
            WebNotice(r["id"], r["tip_id"], json.loads(r["payload"]), from_db_time(r["created_at"]))
            for r in rows
        ]

    # -- photos waiting for their upload ---------------------------------------------------
    async def add_photo(self, tx: Tx, ref: str, data: bytes, now: dt.datetime) -> None:
        await tx.execute(
            "INSERT INTO web_photos (ref, data, created_at) VALUES (?, ?, ?)",
            (ref, data, to_db_time(now)),
        )

    async def photo(self, ref: str) -> bytes | None:
        row = await self.db.fetchone("SELECT data FROM web_photos WHERE ref = ?", (ref,))
        return bytes(row["data"]) if row else None

    async def uploaded(
        self, tx: Tx, ref: str, file_id: str, file_unique_id: str | None, now: dt.datetime
    ) -> None:
        """Telegram has the photo now: the media row points to its copy, ours goes."""
        await tx.execute(
            "UPDATE media SET file_id = ?, file_unique_id = COALESCE(?, file_unique_id) "
            "WHERE file_id = ?",
            (file_id, file_unique_id, f"web:{ref}"),
        )
        await tx.execute("DELETE FROM web_photos WHERE ref = ?", (ref,))
        # What it became, for the messages still to send that name it (an added photo goes
        # to every chat with the card: the first upload serves the others).
        await tx.execute(
            "INSERT OR REPLACE INTO web_uploads (ref, file_id, created_at) VALUES (?, ?, ?)",
            (ref, file_id, to_db_time(now)),
        )

    async def uploaded_as(self, ref: str) -> str | None:
        """Telegram's file id of a web photo already uploaded (None: not yet, or purged)."""
        row = await self.db.fetchone("SELECT file_id FROM web_uploads WHERE ref = ?", (ref,))
        return row["file_id"] if row else None

    async def drop_photo(self, tx: Tx, ref: str) -> None:
        """The photo of a form that did not become a tip (refused by the pipeline)."""
        await tx.execute("DELETE FROM web_photos WHERE ref = ?", (ref,))
