"""Anonymous questions: who asked about which tip and when (no texts here: those stay in the
purgeable outbox)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import OPEN_SQL, Tx
from bot.domain.relay import QState, Question

_SELECT = """SELECT q.*, t.code FROM questions q JOIN tips t ON t.id = q.tip_id"""


def _question(row: aiosqlite.Row) -> Question:
    return Question(
        id=row["id"],
        tip_id=row["tip_id"],
        code=row["code"],
        chat_id=row["chat_id"],
        member_id=row["member_id"],
        state=QState(row["state"]),
        created_at=from_db_time(row["created_at"]),
        asked_at=from_db_time(row["asked_at"]),
        answered_at=from_db_time(row["answered_at"]),
    )


class QuestionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        tx: Tx,
        *,
        tip_id: int,
        chat_id: int,
        member_id: int,
        prompt_id: int | None,
        state: QState,
        now: dt.datetime,
    ) -> int:
        t = to_db_time(now)
        asked = t if state is QState.ASKED else None
        cur = await tx.execute(
            """INSERT INTO questions (tip_id, chat_id, member_id, prompt_id, state, created_at,
                   asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (tip_id, chat_id, member_id, prompt_id, state.value, t, asked),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def get(self, question_id: int) -> Question | None:
        row = await self.db.fetchone(_SELECT + " WHERE q.id = ?", (question_id,))
        return _question(row) if row else None

    async def for_prompt(self, chat_id: int, prompt_id: int) -> Question | None:
        row = await self.db.fetchone(
            _SELECT + " WHERE q.chat_id = ? AND q.prompt_id = ?", (chat_id, prompt_id)
        )
        return _question(row) if row else None

    async def prompted(
        self, member_id: int, chat_id: int, since: dt.datetime, tip_id: int | None = None
    ) -> Question | None:
        """The member's newest prompt in that chat since ``since`` (for that tip)."""
        sql = (
            _SELECT
            + """ WHERE q.member_id = ? AND q.chat_id = ? AND q.state = ?
                 AND q.created_at >= ?"""
        )
        params: list[Any] = [member_id, chat_id, QState.PROMPTED.value, to_db_time(since)]
        if tip_id is not None:
            sql += " AND q.tip_id = ?"
            params.append(tip_id)
        row = await self.db.fetchone(sql + " ORDER BY q.id DESC LIMIT 1", tuple(params))
        return _question(row) if row else None

    async def last_asked(self, tip_id: int) -> Question | None:
        """The tip's newest question that reached the reporter (asked, or closed since)."""
        row = await self.db.fetchone(
            _SELECT + " WHERE q.tip_id = ? AND q.state != ? ORDER BY q.id DESC LIMIT 1",
            (tip_id, QState.PROMPTED.value),
        )
        return _question(row) if row else None

    async def for_reporter(self, reporter_id: int, since: dt.datetime) -> list[Question]:
        """Questions relayed since ``since`` about the reporter's open tips."""
        rows = await self.db.fetchall(
            _SELECT
            + f""" WHERE t.reporter_id = ? AND t.state IN {OPEN_SQL} AND q.state = ?
                   AND q.asked_at >= ? ORDER BY q.asked_at, q.id""",
            (reporter_id, QState.ASKED.value, to_db_time(since)),
        )
        return [_question(r) for r in rows]

    async def to_nudge(
        self, created_from: dt.datetime, created_until: dt.datetime
    ) -> list[Question]:
        """Group prompts made in that window that got no question and were not followed up."""
        rows = await self.db.fetchall(
            _SELECT
            + f""" WHERE q.state = ? AND q.nudged_at IS NULL AND q.chat_id < 0
                   AND q.created_at >= ? AND q.created_at <= ? AND t.state IN {OPEN_SQL}
                   ORDER BY q.id""",
            (QState.PROMPTED.value, to_db_time(created_from), to_db_time(created_until)),
        )
        return [_question(r) for r in rows]

    async def update(self, tx: Tx, question_id: int, **changes: Any) -> None:
        """``state`` (a QState) and ``asked_at`` / ``answered_at`` / ``nudged_at`` (times)."""
        allowed = {"state", "asked_at", "answered_at", "nudged_at"}
        assert changes and set(changes) <= allowed, changes
        values = [
            v.value if isinstance(v, QState) else to_db_time(v) if isinstance(v, dt.datetime) else v
            for v in changes.values()
        ]
        assignments = ", ".join(f"{name} = ?" for name in changes)
        await tx.execute(
            f"UPDATE questions SET {assignments} WHERE id = ?",  # names checked above
            (*values, question_id),
        )
