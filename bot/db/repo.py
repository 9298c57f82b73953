"""Repositories: every SQL statement of warmline lives here.

Read methods run on their own; write methods take ``tx``, the connection handed out by
:meth:`Database.write`, so a service can put several writes into one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.domain.dedup import BBox, Candidate
from bot.domain.draft import Draft, Source, Step
from bot.domain.relay import QState, Question
from bot.domain.rewards import PayMethod, Reward, RewardState
from bot.domain.schedule import TipTally
from bot.domain.tips import (
    Flag,
    Outcome,
    People,
    Seen,
    State,
    Supply,
    Tip,
)

Tx = aiosqlite.Connection

#: The outbox payload key of a claim secret in plaintext (see bot/services/notify.tell).
SECRET = "secret"
#: The payload once its message is delivered or given up: without the secret.
_SCRUBBED = (
    f"CASE WHEN json_type(payload, '$.{SECRET}') IS NULL THEN payload"
    f" ELSE json_remove(payload, '$.{SECRET}') END"
)


def _outbox_item(r: aiosqlite.Row) -> OutboxItem:
    return OutboxItem(
        r["id"], r["kind"], r["chat_id"], r["tip_id"], json.loads(r["payload"]), r["attempts"]
    )


def _csv(values: Iterable[str]) -> str:
    return ",".join(sorted(values))


def _uncsv(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def _tip(row: aiosqlite.Row) -> Tip:
    return Tip(
        id=row["id"],
        code=row["code"],
        source=row["source"],
        lat=row["lat"],
        lon=row["lon"],
        address=row["address"],
        place_label=row["place_label"],
        district=row["district"],
        seen=Seen(row["seen"]),
        people=People(row["people"]),
        flags=frozenset(Flag(f) for f in _uncsv(row["flags"])),
        urgent=bool(row["urgent"]),
        description=row["description"],
        state=State(row["state"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        duplicate_of=row["duplicate_of"],
        supplies=frozenset(Supply(s) for s in _uncsv(row["supplies"])),
        group_key=row["group_key"],
        claimed_by=row["claimed_by"],
        closed_by=row["closed_by"],
        created_at=from_db_time(row["created_at"]),
        dispatched_at=from_db_time(row["dispatched_at"]),
        claimed_at=from_db_time(row["claimed_at"]),
        arrived_at=from_db_time(row["arrived_at"]),
        closed_at=from_db_time(row["closed_at"]),
        version=row["version"],
        has_reporter=row["reporter_id"] is not None,
    )


def _db_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return to_db_time(value)
    if isinstance(value, State | Outcome):
        return value.value
    if isinstance(value, frozenset | set):
        return _csv(getattr(v, "value", v) for v in value)
    return value


def _reward(row: aiosqlite.Row) -> Reward:
    return Reward(
        id=row["id"],
        tip_id=row["tip_id"],
        reporter_id=row["reporter_id"],
        amount=row["amount"],
        currency=row["currency"],
        state=RewardState(row["state"]),
        verified_by=row["verified_by"],
        approved_by=row["approved_by"],
        rejected_by=row["rejected_by"],
        reject_reason=row["reject_reason"],
        paid_by=row["paid_by"],
        paid_at=from_db_time(row["paid_at"]),
        paid_amount=row["paid_amount"],
        method=PayMethod(row["method"]) if row["method"] else None,
        reference=row["reference"],
        claim_tries=row["claim_tries"],
        claim_locked=bool(row["claim_locked"]),
        claim_verified_by=row["claim_verified_by"],
        created_at=from_db_time(row["created_at"]),
        version=row["version"],
    )


async def _compare_and_set(
    tx: Tx,
    table: str,
    row_id: int,
    expect_state: State | RewardState,
    expect_version: int,
    changes: dict[str, Any],
) -> bool:
    """``UPDATE`` a row only if its state and version are still what the caller read."""
    sets = ", ".join(f"{column} = ?" for column in changes)
    values = [_db_value(v) for v in changes.values()]
    cur = await tx.execute(
        f"""UPDATE {table} SET {sets}, version = version + 1
            WHERE id = ? AND state = ? AND version = ?""",
        (*values, row_id, expect_state.value, expect_version),
    )
    return cur.rowcount == 1


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    chat_id: int | None
    tip_id: int | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    message_id: int
    tip_id: int
    kind: str


_OPEN = tuple(
    s.value for s in (State.NEW, State.DISPATCHED, State.CLAIMED, State.EN_ROUTE, State.ON_SCENE)
)
_OPEN_SQL = "(" + ",".join(f"'{s}'" for s in _OPEN) + ")"


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- users ------------------------------------------------------------------------------
    async def upsert_user(
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

    async def ensure_user(self, tx: Tx, user_id: int, now: dt.datetime) -> None:
        """Make sure a row exists (names arrive separately, see ``upsert_user``)."""
        t = to_db_time(now)
        await tx.execute(
            "INSERT OR IGNORE INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
            (user_id, t, t),
        )

    async def user_languages(self, user_id: int) -> tuple[str | None, str | None]:
        """(chosen language, Telegram app language) of a user."""
        row = await self.db.fetchone(
            "SELECT language, tg_language FROM users WHERE user_id = ?", (user_id,)
        )
        return (row["language"], row["tg_language"]) if row else (None, None)

    async def set_user_language(
        self, tx: Tx, user_id: int, language: str, now: dt.datetime
    ) -> None:
        t = to_db_time(now)
        await tx.execute(
            """INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(user_id) DO UPDATE SET language = excluded.language,
                   updated_at = excluded.updated_at""",
            (user_id, language, t, t),
        )

    async def first_names(self, user_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted({i for i in user_ids if i is not None})
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT user_id, first_name FROM users WHERE user_id IN ({marks})", tuple(ids)
        )
        return {row["user_id"]: row["first_name"] for row in rows}

    # -- staff ------------------------------------------------------------------------------
    async def sync_staff(
        self, tx: Tx, entries: list[tuple[int, str, str | None]], now: dt.datetime
    ) -> None:
        """Make the staff table equal to ``entries`` (user id, role, group key)."""
        await tx.execute("DELETE FROM staff")
        await tx.executemany(
            "INSERT INTO staff (user_id, role, group_key, synced_at) VALUES (?, ?, ?, ?)",
            [(uid, role, group, to_db_time(now)) for uid, role, group in entries],
        )

    # -- drafts -----------------------------------------------------------------------------
    async def get_draft(self, user_id: int) -> Draft | None:
        row = await self.db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        data = json.loads(row["data"])
        return Draft(
            user_id=user_id,
            source=Source(row["source"]),
            step=Step(row["step"]),
            lat=data.get("lat"),
            lon=data.get("lon"),
            address=data.get("address"),
            place_label=data.get("place_label"),
            candidates=tuple(tuple(c) for c in data.get("candidates", ())),
            seen=Seen(data["seen"]) if data.get("seen") else None,
            people=People(data["people"]) if data.get("people") else None,
            flags=frozenset(Flag(f) for f in data.get("flags", ())),
            description=data.get("description"),
            photo_file_id=data.get("photo_file_id"),
            photo_unique_id=data.get("photo_unique_id"),
        )

    async def save_draft(self, tx: Tx, draft: Draft, now: dt.datetime) -> None:
        data = {
            "lat": draft.lat,
            "lon": draft.lon,
            "address": draft.address,
            "place_label": draft.place_label,
            "candidates": [list(c) for c in draft.candidates],
            "seen": draft.seen.value if draft.seen else None,
            "people": draft.people.value if draft.people else None,
            "flags": sorted(f.value for f in draft.flags),
            "description": draft.description,
            "photo_file_id": draft.photo_file_id,
            "photo_unique_id": draft.photo_unique_id,
        }
        await tx.execute(
            """INSERT INTO drafts (user_id, source, step, data, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(user_id) DO UPDATE SET source = excluded.source, step = excluded.step,
                   data = excluded.data, updated_at = excluded.updated_at""",
            (
                draft.user_id,
                draft.source.value,
                draft.step.value,
                json.dumps(data),
                to_db_time(now),
            ),
        )

    async def delete_draft(self, tx: Tx, user_id: int) -> None:
        await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    # -- tips -------------------------------------------------------------------------------
    async def insert_tip(
        self,
        tx: Tx,
        *,
        code_prefix: str,
        draft: Draft,
        reporter_id: int | None,
        logged_by: int | None,
        district: str | None,
        description: str | None,
        urgent: bool,
        group_key: str,
        state: State,
        now: dt.datetime,
    ) -> int:
        t = to_db_time(now)
        cur = await tx.execute(
            """INSERT INTO tips (code, source, reporter_id, logged_by, lat, lon, address,
                   place_label,
                   district, seen, people, flags, urgent, description, state, group_key,
                   created_at, updated_at)
               VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                draft.source.value,
                reporter_id,
                logged_by,
                draft.lat,
                draft.lon,
                draft.address,
                draft.place_label,
                district,
                draft.seen.value if draft.seen else None,
                draft.people.value if draft.people else None,
                _csv(f.value for f in draft.flags),
                int(urgent),
                description,
                state.value,
                group_key,
                t,
                t,
            ),
        )
        tip_id = cur.lastrowid
        assert tip_id is not None
        await tx.execute(
            "UPDATE tips SET code = ? WHERE id = ?", (f"{code_prefix}-{tip_id:04d}", tip_id)
        )
        return tip_id

    async def get_tip(self, tip_id: int) -> Tip | None:
        row = await self.db.fetchone("SELECT * FROM tips WHERE id = ?", (tip_id,))
        return _tip(row) if row else None

    async def tip_by_code(self, code: str) -> Tip | None:
        row = await self.db.fetchone("SELECT * FROM tips WHERE code = ?", (code,))
        return _tip(row) if row else None

    async def reporter_of(self, tip_id: int) -> int | None:
        """The reporter's user id — for private notifications only, never for rendering."""
        row = await self.db.fetchone("SELECT reporter_id FROM tips WHERE id = ?", (tip_id,))
        return row["reporter_id"] if row else None

    async def update_tip(
        self,
        tx: Tx,
        tip_id: int,
        *,
        expect_state: State,
        expect_version: int,
        changes: dict[str, Any],
    ) -> bool:
        """Compare-and-set: apply ``changes`` only if the tip is still as the caller saw it."""
        return await _compare_and_set(tx, "tips", tip_id, expect_state, expect_version, changes)

    async def open_tips(self, group_key: str | None = None) -> list[Tip]:
        sql = f"SELECT * FROM tips WHERE state IN {_OPEN_SQL}"
        params: tuple = ()
        if group_key is not None:
            sql += " AND group_key = ?"
            params = (group_key,)
        sql += " ORDER BY urgent DESC, created_at"
        return [_tip(r) for r in await self.db.fetchall(sql, params)]

    async def tips_of_reporter(self, reporter_id: int, limit: int = 10) -> list[Tip]:
        rows = await self.db.fetchall(
            "SELECT * FROM tips WHERE reporter_id = ? ORDER BY id DESC LIMIT ?",
            (reporter_id, limit),
        )
        return [_tip(r) for r in rows]

    async def count_reporter_tips_since(self, reporter_id: int, since: dt.datetime) -> int:
        row = await self.db.fetchone(
            """SELECT COUNT(*) AS n FROM tips
               WHERE reporter_id = ? AND created_at >= ? AND state != 'withdrawn'""",
            (reporter_id, to_db_time(since)),
        )
        return int(row["n"]) if row else 0

    async def open_tips_in_box(self, box: BBox, since: dt.datetime) -> list[Candidate]:
        rows = await self.db.fetchall(
            f"""SELECT id, lat, lon FROM tips
                WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?
                  AND created_at >= ? AND state IN {_OPEN_SQL}""",
            (box.south, box.north, box.west, box.east, to_db_time(since)),
        )
        return [Candidate(r["id"], r["lat"], r["lon"]) for r in rows]

    async def codes(self, tip_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(tip_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT id, code FROM tips WHERE id IN ({marks})", tuple(ids)
        )
        return {r["id"]: r["code"] for r in rows}

    # -- events -----------------------------------------------------------------------------
    async def add_event(
        self,
        tx: Tx,
        *,
        tip_id: int | None,
        actor_id: int | None,
        actor_role: str | None,
        action: str,
        from_state: str | None,
        to_state: str | None,
        now: dt.datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await tx.execute(
            """INSERT INTO events (tip_id, actor_id, actor_role, action, from_state, to_state,
                   detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tip_id,
                actor_id,
                actor_role,
                action,
                from_state,
                to_state,
                json.dumps(detail, ensure_ascii=False) if detail else None,
                to_db_time(now),
            ),
        )

    async def events(self, tip_id: int | None = None) -> list[dict[str, Any]]:
        if tip_id is None:
            rows = await self.db.fetchall("SELECT * FROM events ORDER BY id")
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM events WHERE tip_id = ? ORDER BY id", (tip_id,)
            )
        return [dict(r) for r in rows]

    async def actions_fired(self, tip_ids: list[int], actions: list[str]) -> dict[int, set[str]]:
        """Which of ``actions`` each tip's event log already has (one query for many tips)."""
        if not tip_ids or not actions:
            return {}
        id_marks = ",".join("?" * len(tip_ids))
        action_marks = ",".join("?" * len(actions))
        rows = await self.db.fetchall(
            f"""SELECT DISTINCT tip_id, action FROM events
                WHERE tip_id IN ({id_marks}) AND action IN ({action_marks})""",
            (*tip_ids, *actions),
        )
        fired: dict[int, set[str]] = {}
        for row in rows:
            fired.setdefault(row["tip_id"], set()).add(row["action"])
        return fired

    async def count_events(self, tip_id: int, action: str) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM events WHERE tip_id = ? AND action = ?", (tip_id, action)
        )
        return int(row["n"]) if row else 0

    # -- media ------------------------------------------------------------------------------
    async def add_media(
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

    async def media_of(self, tip_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT * FROM media WHERE tip_id = ? ORDER BY id", (tip_id,))
        return [dict(r) for r in rows]

    async def evidence_count(self, tip_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM media WHERE tip_id = ? AND kind != 'report_photo'", (tip_id,)
        )
        return int(row["n"]) if row else 0

    # -- sent messages ----------------------------------------------------------------------
    async def add_message(
        self, tx: Tx, chat_id: int, message_id: int, tip_id: int, kind: str, now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT OR REPLACE INTO messages (chat_id, message_id, tip_id, kind, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (chat_id, message_id, tip_id, kind, to_db_time(now)),
        )

    async def tip_for_message(self, chat_id: int, message_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT tip_id FROM messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return row["tip_id"] if row else None

    async def message_kind(self, chat_id: int, message_id: int) -> tuple[int, str] | None:
        """(tip id, kind) of a message the bot sent, if it is one we keep track of."""
        row = await self.db.fetchone(
            "SELECT tip_id, kind FROM messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return (row["tip_id"], row["kind"]) if row else None

    async def messages_of(
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

    async def tips_in_message(self, chat_id: int, message_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT tip_id FROM messages WHERE chat_id = ? AND message_id = ? ORDER BY tip_id",
            (chat_id, message_id),
        )
        return [r["tip_id"] for r in rows]

    async def forget_message(self, tx: Tx, chat_id: int, message_id: int) -> None:
        await tx.execute(
            "DELETE FROM messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        )

    async def draft_updated_at(self, user_id: int) -> dt.datetime | None:
        row = await self.db.fetchone("SELECT updated_at FROM drafts WHERE user_id = ?", (user_id,))
        return from_db_time(row["updated_at"]) if row else None

    # -- anonymous questions (no texts here: they stay in the purgeable outbox) ---------------
    _QUESTION = """SELECT q.*, t.code FROM questions q JOIN tips t ON t.id = q.tip_id"""

    @staticmethod
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

    async def add_question(
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

    async def question(self, question_id: int) -> Question | None:
        row = await self.db.fetchone(self._QUESTION + " WHERE q.id = ?", (question_id,))
        return self._question(row) if row else None

    async def question_for_prompt(self, chat_id: int, prompt_id: int) -> Question | None:
        row = await self.db.fetchone(
            self._QUESTION + " WHERE q.chat_id = ? AND q.prompt_id = ?", (chat_id, prompt_id)
        )
        return self._question(row) if row else None

    async def prompted_question(
        self, member_id: int, chat_id: int, since: dt.datetime, tip_id: int | None = None
    ) -> Question | None:
        """The member's newest prompt in that chat since ``since`` (for that tip)."""
        sql = self._QUESTION + """ WHERE q.member_id = ? AND q.chat_id = ? AND q.state = ?
                 AND q.created_at >= ?"""
        params: list[Any] = [member_id, chat_id, QState.PROMPTED.value, to_db_time(since)]
        if tip_id is not None:
            sql += " AND q.tip_id = ?"
            params.append(tip_id)
        row = await self.db.fetchone(sql + " ORDER BY q.id DESC LIMIT 1", tuple(params))
        return self._question(row) if row else None

    async def last_asked_question(self, tip_id: int) -> Question | None:
        """The tip's newest question that reached the reporter (asked, or closed since)."""
        row = await self.db.fetchone(
            self._QUESTION + " WHERE q.tip_id = ? AND q.state != ? ORDER BY q.id DESC LIMIT 1",
            (tip_id, QState.PROMPTED.value),
        )
        return self._question(row) if row else None

    async def questions_for_reporter(self, reporter_id: int, since: dt.datetime) -> list[Question]:
        """Questions relayed since ``since`` about the reporter's open tips."""
        rows = await self.db.fetchall(
            self._QUESTION
            + f""" WHERE t.reporter_id = ? AND t.state IN {_OPEN_SQL} AND q.state = ?
                   AND q.asked_at >= ? ORDER BY q.asked_at, q.id""",
            (reporter_id, QState.ASKED.value, to_db_time(since)),
        )
        return [self._question(r) for r in rows]

    async def prompts_to_nudge(
        self, created_from: dt.datetime, created_until: dt.datetime
    ) -> list[Question]:
        """Group prompts made in that window that got no question and were not followed up."""
        rows = await self.db.fetchall(
            self._QUESTION
            + f""" WHERE q.state = ? AND q.nudged_at IS NULL AND q.chat_id < 0
                   AND q.created_at >= ? AND q.created_at <= ? AND t.state IN {_OPEN_SQL}
                   ORDER BY q.id""",
            (QState.PROMPTED.value, to_db_time(created_from), to_db_time(created_until)),
        )
        return [self._question(r) for r in rows]

    async def update_question(self, tx: Tx, question_id: int, **changes: Any) -> None:
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

    # -- outbox -----------------------------------------------------------------------------
    async def enqueue(
        self,
        tx: Tx,
        *,
        kind: str,
        chat_id: int | None,
        tip_id: int | None,
        payload: dict[str, Any],
        now: dt.datetime,
        coalesce: bool = False,
    ) -> int | None:
        """Record a message to deliver. With ``coalesce``, skip it if an identical pending one
        (same kind, chat and tip) is already waiting — card edits render the latest state anyway."""
        if coalesce:
            row = await (
                await tx.execute(
                    """SELECT id FROM outbox WHERE status = 'pending' AND kind = ?
                       AND chat_id IS ? AND tip_id IS ?""",
                    (kind, chat_id, tip_id),
                )
            ).fetchone()
            if row is not None:
                return None
        t = to_db_time(now)
        cur = await tx.execute(
            """INSERT INTO outbox (kind, chat_id, tip_id, payload, next_at, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (kind, chat_id, tip_id, json.dumps(payload, ensure_ascii=False), t, t),
        )
        return cur.lastrowid

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _outbox_item(row) if row else None

    async def due_outbox(self, now: dt.datetime, limit: int = 50) -> list[OutboxItem]:
        """Due items, messages to a person (a private chat: positive id) first, then the
        rest; in the order they were written within each lane. A receipt must not wait
        behind a backlog of group cards (a group takes ~20 messages a minute)."""
        rows = await self.db.fetchall(
            """SELECT * FROM outbox WHERE status = 'pending' AND next_at <= ?
               ORDER BY CASE WHEN chat_id > 0 THEN 0 ELSE 1 END, id LIMIT ?""",
            (to_db_time(now), limit),
        )
        return [_outbox_item(r) for r in rows]

    async def private_outbox_due(self, now: dt.datetime) -> bool:
        """Is a message to a person waiting (see :meth:`due_outbox`)?"""
        row = await self.db.fetchone(
            """SELECT 1 FROM outbox WHERE status = 'pending' AND next_at <= ? AND chat_id > 0
               LIMIT 1""",
            (to_db_time(now),),
        )
        return row is not None

    async def next_outbox_time(self) -> dt.datetime | None:
        row = await self.db.fetchone(
            "SELECT MIN(next_at) AS t FROM outbox WHERE status = 'pending'"
        )
        return from_db_time(row["t"]) if row and row["t"] else None

    async def pending_outbox(self, kind: str, tip_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM outbox WHERE status = 'pending' AND kind = ? AND tip_id = ? LIMIT 1",
            (kind, tip_id),
        )
        return row is not None

    async def outbox_done(self, tx: Tx, item_id: int, now: dt.datetime) -> None:
        """Delivered. A claim secret in the row goes with it (it was the one plaintext copy)."""
        await tx.execute(
            f"""UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,
                   payload = {_SCRUBBED} WHERE id = ?""",
            (to_db_time(now), item_id),
        )

    async def outbox_claim(self, tx: Tx, item_id: int) -> bool:
        """Mark an item as being sent. From then on nothing coalesces into it: a change that
        comes while it is in flight gets an edit of its own."""
        cur = await tx.execute(
            "UPDATE outbox SET status = 'sending' WHERE id = ? AND status = 'pending'", (item_id,)
        )
        return cur.rowcount == 1

    async def requeue_in_flight(self, tx: Tx) -> int:
        """After a crash: whatever was being sent is sent again (cards skip the parts that
        were recorded as sent)."""
        cur = await tx.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
        return cur.rowcount

    async def outbox_retry(self, tx: Tx, item_id: int, next_at: dt.datetime, error: str) -> None:
        await tx.execute(
            """UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_at = ?,
                   last_error = ? WHERE id = ?""",
            (to_db_time(next_at), error[:500], item_id),
        )

    async def outbox_retry_unreached_now(self, tx: Tx, now: dt.datetime) -> int:
        """Items waiting only because Telegram could not be reached become due now."""
        cur = await tx.execute(
            """UPDATE outbox SET next_at = ?
               WHERE status = 'pending' AND next_at > ? AND last_error LIKE 'NetworkError:%'""",
            (to_db_time(now), to_db_time(now)),
        )
        return cur.rowcount

    async def outbox_failed(self, tx: Tx, item_id: int, error: str) -> None:
        """Given up (blocked chat, refused message…): a claim secret is not kept either; the
        reporter can ask for a fresh one (/mytips)."""
        await tx.execute(
            f"""UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,
                   payload = {_SCRUBBED} WHERE id = ?""",
            (error[:500], item_id),
        )

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    # -- chats ------------------------------------------------------------------------------
    async def set_chat_active(
        self, tx: Tx, chat_id: int, active: bool, note: str | None, now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT INTO chats (chat_id, active, note, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(chat_id) DO UPDATE SET active = excluded.active, note = excluded.note,
                   updated_at = excluded.updated_at""",
            (chat_id, int(active), note, to_db_time(now)),
        )

    async def inactive_chats(self) -> set[int]:
        rows = await self.db.fetchall("SELECT chat_id FROM chats WHERE active = 0")
        return {r["chat_id"] for r in rows}

    async def migrations_seen(self) -> dict[int, int]:
        """Group chat ids that moved (old → new), learnt from Telegram's ChatMigrated."""
        rows = await self.db.fetchall("SELECT key, value FROM settings WHERE key LIKE 'migrated:%'")
        return {int(r["key"].split(":", 1)[1]): int(r["value"]) for r in rows}

    async def chat_active(self, chat_id: int) -> bool:
        row = await self.db.fetchone("SELECT active FROM chats WHERE chat_id = ?", (chat_id,))
        return bool(row["active"]) if row else True

    # -- rewards ----------------------------------------------------------------------------
    async def set_claim_secret(self, tx: Tx, tip_id: int, salt: str, digest: str) -> None:
        await tx.execute(
            "UPDATE tips SET claim_salt = ?, claim_hash = ? WHERE id = ?", (salt, digest, tip_id)
        )

    async def claim_secret(self, tip_id: int) -> tuple[str | None, str | None]:
        row = await self.db.fetchone(
            "SELECT claim_salt, claim_hash FROM tips WHERE id = ?", (tip_id,)
        )
        return (row["claim_salt"], row["claim_hash"]) if row else (None, None)

    async def incident(self, tip_id: int) -> list[tuple[int, int | None, dt.datetime]]:
        """(id, reporter id, created) of a tip and every tip merged into it as a duplicate."""
        rows = await self.db.fetchall(
            """WITH RECURSIVE inc(id) AS (
                   SELECT ?
                   UNION SELECT t.id FROM tips t JOIN inc ON t.duplicate_of = inc.id
               )
               SELECT t.id, t.reporter_id, t.created_at FROM tips t JOIN inc USING (id)
               ORDER BY t.created_at, t.id""",
            (tip_id,),
        )
        return [(r["id"], r["reporter_id"], from_db_time(r["created_at"])) for r in rows]

    async def count_rewards_since(
        self, reporter_id: int, since: dt.datetime, until: dt.datetime
    ) -> int:
        row = await self.db.fetchone(
            """SELECT COUNT(*) AS n FROM rewards JOIN tips ON tips.id = rewards.tip_id
               WHERE rewards.reporter_id = ? AND rewards.state != 'rejected'
                 AND tips.created_at >= ? AND tips.created_at < ?""",
            (reporter_id, to_db_time(since), to_db_time(until)),
        )
        return int(row["n"]) if row else 0

    async def insert_reward(
        self,
        tx: Tx,
        *,
        tip_id: int,
        reporter_id: int,
        amount: int,
        currency: str,
        verified_by: int | None,
        now: dt.datetime,
    ) -> int | None:
        """A pending reward; ``None`` if the tip already has one (idempotent)."""
        t = to_db_time(now)
        cur = await tx.execute(
            """INSERT OR IGNORE INTO rewards
                   (tip_id, reporter_id, amount, currency, state, verified_by,
                    created_at, updated_at)
               VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)""",
            (tip_id, reporter_id, amount, currency, verified_by, t, t),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    async def get_reward(self, reward_id: int) -> Reward | None:
        row = await self.db.fetchone("SELECT * FROM rewards WHERE id = ?", (reward_id,))
        return _reward(row) if row else None

    async def reward_for_tip(self, tip_id: int) -> Reward | None:
        row = await self.db.fetchone("SELECT * FROM rewards WHERE tip_id = ?", (tip_id,))
        return _reward(row) if row else None

    async def rewards_in(self, states: Iterable[RewardState], limit: int = 100) -> list[Reward]:
        wanted = [s.value for s in states]
        marks = ",".join("?" * len(wanted))
        rows = await self.db.fetchall(
            f"SELECT * FROM rewards WHERE state IN ({marks}) ORDER BY created_at, id LIMIT ?",
            (*wanted, limit),
        )
        return [_reward(r) for r in rows]

    async def count_rewards(self, state: RewardState) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM rewards WHERE state = ?", (state.value,)
        )
        return int(row["n"]) if row else 0

    async def reward_state_sums(self) -> dict[str, tuple[int, int]]:
        """``state → (count, yuan)`` over every reward as it stands now; a paid reward counts
        the amount actually paid."""
        rows = await self.db.fetchall(
            """SELECT state, COUNT(*) AS n,
                      SUM(CASE WHEN state = 'paid' THEN COALESCE(paid_amount, amount)
                               ELSE amount END) AS total
               FROM rewards GROUP BY state"""
        )
        return {r["state"]: (int(r["n"]), int(r["total"] or 0)) for r in rows}

    async def rewards_of_reporter(self, reporter_id: int) -> list[Reward]:
        rows = await self.db.fetchall(
            "SELECT * FROM rewards WHERE reporter_id = ? ORDER BY id", (reporter_id,)
        )
        return [_reward(r) for r in rows]

    async def update_reward(
        self,
        tx: Tx,
        reward_id: int,
        *,
        expect_state: RewardState,
        expect_version: int,
        changes: dict[str, Any],
    ) -> bool:
        """Compare-and-set, like :meth:`update_tip`: two officers never both win."""
        return await _compare_and_set(
            tx, "rewards", reward_id, expect_state, expect_version, changes
        )

    async def add_ledger(
        self,
        tx: Tx,
        *,
        reward: Reward,
        entry: str,
        amount: int,
        actor_id: int | None,
        now: dt.datetime,
        method: str | None = None,
        reference: str | None = None,
        reason: str | None = None,
        reverses: int | None = None,
    ) -> int:
        cur = await tx.execute(
            """INSERT INTO ledger (reward_id, tip_id, entry, amount, currency, method, reference,
                   actor_id, reason, reverses, at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                reward.id,
                reward.tip_id,
                entry,
                amount,
                reward.currency,
                method,
                reference,
                actor_id,
                reason,
                reverses,
                to_db_time(now),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def ledger(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Ledger entries in ``[since, until)`` with their tip codes, oldest first."""
        sql = """SELECT ledger.*, tips.code AS code FROM ledger JOIN tips ON tips.id = ledger.tip_id
                 WHERE 1 = 1"""
        params: list[Any] = []
        if since is not None:
            sql += " AND ledger.at >= ?"
            params.append(to_db_time(since))
        if until is not None:
            sql += " AND ledger.at < ?"
            params.append(to_db_time(until))
        rows = await self.db.fetchall(sql + " ORDER BY ledger.id", tuple(params))
        return [dict(r) for r in rows]

    async def ledger_sums(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> dict[str, tuple[int, int]]:
        """``entry → (count, sum of amounts)`` of the ledger entries in ``[since, until)``,
        summed by the database (the same entries :meth:`ledger` lists)."""
        sql = "SELECT entry, COUNT(*) AS n, SUM(amount) AS total FROM ledger WHERE 1 = 1"
        params: list[Any] = []
        if since is not None:
            sql += " AND at >= ?"
            params.append(to_db_time(since))
        if until is not None:
            sql += " AND at < ?"
            params.append(to_db_time(until))
        rows = await self.db.fetchall(sql + " GROUP BY entry", tuple(params))
        return {r["entry"]: (int(r["n"]), int(r["total"])) for r in rows}

    async def last_ledger_entry(self, reward_id: int, entry: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT * FROM ledger WHERE reward_id = ? AND entry = ? ORDER BY id DESC LIMIT 1",
            (reward_id, entry),
        )
        return dict(row) if row else None

    # -- phone numbers (payment only) -------------------------------------------------------
    async def set_phone(self, tx: Tx, user_id: int, phone: str | None, now: dt.datetime) -> None:
        await self.ensure_user(tx, user_id, now)
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

    async def phone_of(self, user_id: int) -> str | None:
        row = await self.db.fetchone("SELECT phone FROM users WHERE user_id = ?", (user_id,))
        return row["phone"] if row else None

    # -- answers the bot waits for ----------------------------------------------------------
    async def set_pending_input(
        self, tx: Tx, user_id: int, kind: str, data: dict[str, Any], now: dt.datetime
    ) -> None:
        await tx.execute(
            """INSERT OR REPLACE INTO pending_inputs (user_id, kind, data, created_at)
               VALUES (?, ?, ?, ?)""",
            (user_id, kind, json.dumps(data, ensure_ascii=False), to_db_time(now)),
        )

    async def pending_input(self, user_id: int) -> tuple[str, dict[str, Any], dt.datetime] | None:
        row = await self.db.fetchone("SELECT * FROM pending_inputs WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return row["kind"], json.loads(row["data"]), from_db_time(row["created_at"])

    async def users_with_pending_input(self) -> list[int]:
        rows = await self.db.fetchall("SELECT user_id FROM pending_inputs ORDER BY user_id")
        return [r["user_id"] for r in rows]

    async def clear_pending_input(self, tx: Tx, user_id: int) -> None:
        await tx.execute("DELETE FROM pending_inputs WHERE user_id = ?", (user_id,))

    # -- schedules --------------------------------------------------------------------------
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

    async def schedule_detail(self, kind: str, slot: str) -> str | None:
        """The detail recorded for a slot (e.g. a reminder's timing); None if not done."""
        row = await self.db.fetchone(
            "SELECT detail FROM schedule_log WHERE kind = ? AND slot = ?", (kind, slot)
        )
        return row["detail"] if row else None

    async def schedule_done_between(self, since: dt.datetime, until: dt.datetime) -> bool:
        """Whether the schedules recorded anything in ``[since, until)`` (the bot was running)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM schedule_log WHERE done_at >= ? AND done_at < ? LIMIT 1",
            (to_db_time(since), to_db_time(until)),
        )
        return row is not None

    async def last_schedule_done(self, before: dt.datetime) -> dt.datetime | None:
        """When the schedules last recorded anything before ``before`` (None: never)."""
        row = await self.db.fetchone(
            "SELECT MAX(done_at) AS at FROM schedule_log WHERE done_at < ?", (to_db_time(before),)
        )
        return from_db_time(row["at"]) if row else None

    async def schedule_log(self, kind: str | None = None) -> list[dict[str, Any]]:
        if kind is None:
            rows = await self.db.fetchall("SELECT * FROM schedule_log ORDER BY done_at, slot")
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM schedule_log WHERE kind = ? ORDER BY done_at, slot", (kind,)
            )
        return [dict(r) for r in rows]

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

    async def start_patrol(
        self, tx: Tx, group_key: str, chat_id: int, user_id: int, area: str | None, now: dt.datetime
    ) -> int:
        cur = await tx.execute(
            """INSERT INTO patrols (group_key, chat_id, started_by, area, started_at)
               VALUES (?, ?, ?, ?, ?)""",
            (group_key, chat_id, user_id, area, to_db_time(now)),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def open_patrol(self, group_key: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            """SELECT * FROM patrols WHERE group_key = ? AND ended_at IS NULL
               ORDER BY id DESC LIMIT 1""",
            (group_key,),
        )
        return dict(row) if row else None

    async def end_patrol(
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

    async def set_patrol_area(self, tx: Tx, patrol_id: int, area: str) -> bool:
        """Record the area of a patrol under way that has none yet; False if it had one."""
        cur = await tx.execute(
            "UPDATE patrols SET area = ? WHERE id = ? AND area IS NULL AND ended_at IS NULL",
            (area, patrol_id),
        )
        return cur.rowcount == 1

    async def patrols_between(
        self, since: dt.datetime, until: dt.datetime, group_key: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM patrols WHERE started_at >= ? AND started_at < ?"
        params: list[Any] = [to_db_time(since), to_db_time(until)]
        if group_key is not None:
            sql += " AND group_key = ?"
            params.append(group_key)
        rows = await self.db.fetchall(sql + " ORDER BY id", tuple(params))
        return [dict(r) for r in rows]

    async def tips_created_between(
        self, since: dt.datetime | None, until: dt.datetime
    ) -> list[Tip]:
        if since is None:
            rows = await self.db.fetchall(
                "SELECT * FROM tips WHERE created_at < ? ORDER BY id", (to_db_time(until),)
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM tips WHERE created_at >= ? AND created_at < ? ORDER BY id",
                (to_db_time(since), to_db_time(until)),
            )
        return [_tip(r) for r in rows]

    async def tip_tally(self, since: dt.datetime | None, until: dt.datetime) -> TipTally:
        """The summary's figures over the tips created in ``[since, until)``, counted by the
        database: the same numbers :func:`bot.domain.schedule.tally` gets from
        :meth:`tips_created_between`, without loading every tip."""
        where = "created_at < ?"
        params: tuple = (to_db_time(until),)
        if since is not None:
            where = "created_at >= ? AND " + where
            params = (to_db_time(since), *params)
        supplies = ", ".join(
            f"SUM(instr(',' || COALESCE(supplies, '') || ',', ',{s.value},') > 0) AS s_{i}"
            for i, s in enumerate(Supply)
        )
        outcomes = ", ".join(f"SUM(outcome = '{o.value}') AS o_{i}" for i, o in enumerate(Outcome))
        # One pass over the window for every count; the medians sort (two more passes).
        row = await self.db.fetchone(
            f"""SELECT COUNT(*) AS received, COUNT(claimed_at) AS claimed,
                       COUNT(arrived_at) AS arrived, {supplies}, {outcomes}
                FROM tips WHERE {where}""",
            params,
        )
        supplied = {s.value: int(row[f"s_{i}"] or 0) for i, s in enumerate(Supply)}
        closed = {o.value: int(row[f"o_{i}"] or 0) for i, o in enumerate(Outcome)}
        return TipTally(
            received=int(row["received"]),
            outcomes={name: n for name, n in closed.items() if n},
            supplies={name: n for name, n in supplied.items() if n},
            median_claim=await self._median_minutes("claimed_at", where, params, row["claimed"]),
            median_scene=await self._median_minutes("arrived_at", where, params, row["arrived"]),
        )

    async def _median_minutes(
        self, column: str, where: str, params: tuple, count: int
    ) -> float | None:
        """Median of ``column − created_at`` in minutes over ``count`` rows: the database
        sorts, only the middle one or two values come back. Times are stored as
        ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: the difference is computed exactly, in microseconds."""
        if not count:
            return None
        micros = (
            f"(CAST(strftime('%s', {column}) AS INTEGER)"
            " - CAST(strftime('%s', created_at) AS INTEGER)) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER)"
            " - CAST(substr(created_at, 21, 6) AS INTEGER)"
        )
        rows = await self.db.fetchall(
            f"""SELECT {micros} AS us FROM tips WHERE {where} AND {column} IS NOT NULL
                ORDER BY us LIMIT ? OFFSET ?""",
            (*params, 2 - count % 2, (count - 1) // 2),
        )
        return statistics.median(int(r["us"]) / 1_000_000 / 60 for r in rows)

    async def move_tip(self, tx: Tx, tip: Tip, group_key: str, now: dt.datetime) -> bool:
        """Hand an unclaimed tip to another group (compare-and-set on its state)."""
        return await self.update_tip(
            tx,
            tip.id,
            expect_state=tip.state,
            expect_version=tip.version,
            changes={"group_key": group_key, "dispatched_at": now, "updated_at": now},
        )

    # -- privacy: purge ---------------------------------------------------------------------
    async def purge_candidates(self, before: dt.datetime) -> list[dict[str, Any]]:
        """Closed or withdrawn tips, finished before ``before``, not purged yet."""
        rows = await self.db.fetchall(
            """SELECT tips.id, tips.code, tips.reporter_id, rewards.state AS reward_state
               FROM tips LEFT JOIN rewards ON rewards.tip_id = tips.id
               WHERE tips.state IN ('closed', 'withdrawn') AND tips.closed_at < ?
                 AND tips.purged_at IS NULL
               ORDER BY tips.id""",
            (to_db_time(before),),
        )
        return [dict(r) for r in rows]

    async def purge_tip(self, tx: Tx, tip_id: int, now: dt.datetime) -> None:
        """Drop a tip's personal data; keep what anonymous statistics need.

        The position is rounded to about a kilometre (0.01°) and the district kept; free text,
        the typed address and every photo/voice/video reference go.
        """
        await tx.execute(
            """UPDATE tips SET description = NULL, address = NULL, place_label = NULL,
                   lat = ROUND(lat, 2), lon = ROUND(lon, 2), claim_salt = NULL, claim_hash = NULL,
                   purged_at = ?
               WHERE id = ?""",
            (to_db_time(now), tip_id),
        )
        await tx.execute("DELETE FROM media WHERE tip_id = ?", (tip_id,))

    async def forget_reporter_if_done(self, tx: Tx, user_id: int) -> bool:
        """Clear a reporter's name, username and phone once none of their tips needs them."""
        row = await (
            await tx.execute(
                """SELECT COUNT(*) AS n FROM tips
                   WHERE reporter_id = ? AND purged_at IS NULL""",
                (user_id,),
            )
        ).fetchone()
        if row["n"]:
            return False
        if user_id in await self._staff_ids(tx):
            return False
        await tx.execute(
            """UPDATE users SET first_name = '', username = NULL, phone = NULL
               WHERE user_id = ?""",
            (user_id,),
        )
        return True

    async def _staff_ids(self, tx: Tx) -> set[int]:
        rows = await (await tx.execute("SELECT user_id FROM staff")).fetchall()
        return {r["user_id"] for r in rows}
