"""The field flow's tables: what the reporter was asked and answered (``reporter_asks``) and
the attempts of a reopened tip that ended without finding the person (``tip_attempts``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx
from bot.domain.tips import Tip


@dataclass(frozen=True)
class Ask:
    id: int
    tip_id: int
    kind: str
    attempt: int
    asked_at: dt.datetime
    open_until: dt.datetime
    answer: str | None
    answered_at: dt.datetime | None
    words: str | None


@dataclass(frozen=True)
class EndedAttempt:
    attempt: int
    outcome: str
    closed_at: dt.datetime
    closed_by: int | None


def _ask(row) -> Ask:
    return Ask(
        id=row["id"],
        tip_id=row["tip_id"],
        kind=row["kind"],
        attempt=row["attempt"],
        asked_at=from_db_time(row["asked_at"]),
        open_until=from_db_time(row["open_until"]),
        answer=row["answer"],
        answered_at=from_db_time(row["answered_at"]),
        words=row["words"],
    )


class FieldStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- what the reporter was asked ---------------------------------------------------------
    async def add_ask(
        self, tx: Tx, tip: Tip, kind: str, now: dt.datetime, open_until: dt.datetime
    ) -> bool:
        """Record a question to the reporter; False if this attempt was asked already."""
        cur = await tx.execute(
            """INSERT OR IGNORE INTO reporter_asks (tip_id, kind, attempt, asked_at, open_until)
               VALUES (?, ?, ?, ?, ?)""",
            (tip.id, kind, tip.attempt, to_db_time(now), to_db_time(open_until)),
        )
        return cur.rowcount == 1

    async def ask(self, tip_id: int, kind: str, attempt: int | None = None) -> Ask | None:
        """The newest question of that kind about the tip (of one attempt, if given)."""
        sql = "SELECT * FROM reporter_asks WHERE tip_id = ? AND kind = ?"
        params: tuple = (tip_id, kind)
        if attempt is not None:
            sql += " AND attempt = ?"
            params = (*params, attempt)
        row = await self.db.fetchone(sql + " ORDER BY attempt DESC LIMIT 1", params)
        return _ask(row) if row else None

    async def answer(self, tx: Tx, ask_id: int, answer: str, now: dt.datetime) -> bool:
        """The first answer counts; False if it was answered already."""
        cur = await tx.execute(
            """UPDATE reporter_asks SET answer = ?, answered_at = ?
               WHERE id = ? AND answer IS NULL""",
            (answer, to_db_time(now), ask_id),
        )
        return cur.rowcount == 1

    async def add_words(self, tx: Tx, ask_id: int, words: str) -> None:
        await tx.execute("UPDATE reporter_asks SET words = ? WHERE id = ?", (words, ask_id))

    async def open_asks_of(self, reporter_id: int, kind: str, now: dt.datetime) -> list[Ask]:
        """The reporter's questions of that kind still open at ``now``, newest first."""
        rows = await self.db.fetchall(
            """SELECT a.* FROM reporter_asks a JOIN tips t ON t.id = a.tip_id
               WHERE t.reporter_id = ? AND a.kind = ? AND a.open_until > ? AND a.attempt = t.attempt
               ORDER BY a.asked_at DESC, a.id DESC""",
            (reporter_id, kind, to_db_time(now)),
        )
        return [_ask(r) for r in rows]

    async def answered_since(self, reporter_id: int, kind: str, since: dt.datetime) -> list[Ask]:
        """The reporter's answers of that kind given since ``since``, newest first."""
        rows = await self.db.fetchall(
            """SELECT a.* FROM reporter_asks a JOIN tips t ON t.id = a.tip_id
               WHERE t.reporter_id = ? AND a.kind = ? AND a.answered_at >= ?
               ORDER BY a.answered_at DESC, a.id DESC""",
            (reporter_id, kind, to_db_time(since)),
        )
        return [_ask(r) for r in rows]

    # -- attempts ------------------------------------------------------------------------------
    async def end_attempt(self, tx: Tx, tip: Tip, now: dt.datetime) -> None:
        """Keep the attempt that ended (the tip's row is about to hold the next one)."""
        assert tip.outcome is not None and tip.closed_at is not None
        await tx.execute(
            """INSERT INTO tip_attempts (tip_id, attempt, outcome, claimed_at, arrived_at,
                   closed_at, closed_by, reopened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tip.id,
                tip.attempt,
                tip.outcome.value,
                to_db_time(tip.claimed_at) if tip.claimed_at else None,
                to_db_time(tip.arrived_at) if tip.arrived_at else None,
                to_db_time(tip.closed_at),
                tip.closed_by,
                to_db_time(now),
            ),
        )

    async def attempts(self, tip_id: int) -> list[EndedAttempt]:
        rows = await self.db.fetchall(
            "SELECT * FROM tip_attempts WHERE tip_id = ? ORDER BY attempt", (tip_id,)
        )
        return [
            EndedAttempt(r["attempt"], r["outcome"], from_db_time(r["closed_at"]), r["closed_by"])
            for r in rows
        ]

    async def freeze_cards(self, tx: Tx, tip_id: int, suffix: str) -> None:
        """The cards of the attempt that ended, with their pins and photos, stay as they are
        (no longer edited, kinds ``card`` → ``card`` + ``suffix``…): the new attempt gets
        its own, with its pin."""
        await tx.execute(
            """UPDATE messages SET kind = kind || ?
               WHERE tip_id = ? AND kind IN ('card', 'location', 'photo')""",
            (suffix, tip_id),
        )

    async def first_card(self, tip_id: int, kind: str) -> tuple[int, int] | None:
        """(chat, message) of the first card of the tip's first attempt, if kept."""
        row = await self.db.fetchone(
            """SELECT chat_id, message_id FROM messages WHERE tip_id = ? AND kind = ?
               ORDER BY created_at, message_id LIMIT 1""",
            (tip_id, kind),
        )
        return (row["chat_id"], row["message_id"]) if row else None
