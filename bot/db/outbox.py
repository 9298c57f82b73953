"""The outbox: every message warmline must deliver, written in the transaction of the change
it announces, sent (and retried) by bot/jobs/outbox.py.

A committed transaction that queued a row wakes whoever listens (the sender) by itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.db.database import Database, to_db_time
from bot.db.sql import Tx
from bot.domain.outbox import SECRET, Kind, Message, decode, encode, kind_of

#: The payload once its message is delivered or given up: without the secret.
_SCRUBBED = (
    f"CASE WHEN json_type(payload, '$.{SECRET}') IS NULL THEN payload"
    f" ELSE json_remove(payload, '$.{SECRET}') END"
)


#: A message to a person is held while an earlier one to them is in flight: the receipt is
#: sent at once by the reporter's own handler (``deliver_now``), outside the chat's lane, and
#: what was written after it (a claim at once; the offer to add, when it is not on the
#: receipt) must not overtake it. Groups are not held
#: (their lane is the only sender; a digest claims several of a group's cards at once).
#: The subquery reads the few 'sending' rows (index outbox_due).
_NOT_BEHIND_IN_FLIGHT = """(outbox.chat_id IS NULL OR outbox.chat_id < 0 OR NOT EXISTS (
    SELECT 1 FROM outbox AS earlier WHERE earlier.status = 'sending'
        AND earlier.chat_id = outbox.chat_id AND earlier.id < outbox.id))"""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: Kind
    chat_id: int | None
    tip_id: int | None
    payload: dict[str, Any]  # as stored (see bot/domain/outbox.py)
    attempts: int

    @property
    def message(self) -> Message:
        return decode(self.kind, self.payload)


def _item(r: aiosqlite.Row) -> OutboxItem:
    return OutboxItem(
        r["id"], Kind(r["kind"]), r["chat_id"], r["tip_id"], json.loads(r["payload"]), r["attempts"]
    )


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def listen(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every transaction that queued a message."""
        self._listeners.append(callback)

    def _queued(self) -> None:
        for callback in self._listeners:
            callback()

    async def enqueue(
        self,
        tx: Tx,
        message: Message,
        *,
        chat_id: int | None,
        tip_id: int | None,
        now: dt.datetime,
        coalesce: bool = False,
    ) -> int | None:
        """Record a message to deliver. With ``coalesce``, skip it if an identical pending one
        (same kind, chat and tip) is already waiting — card edits render the latest state anyway."""
        kind = kind_of(message).value
        payload = encode(message)
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
        self.db.after_commit(self._queued)
        return cur.lastrowid

    async def item(self, item_id: int) -> OutboxItem | None:
        row = await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _item(row) if row else None

    async def due(
        self, now: dt.datetime, limit: int = 50, skip: Iterable[int] = ()
    ) -> list[OutboxItem]:
        """Due items, messages to a person (a private chat: positive id) first, then the
        rest; in the order they were written within each lane. A receipt must not wait
        behind a backlog of group cards (a group takes ~20 messages a minute). ``skip``:
        ids the sender already holds."""
        rows = await self.db.fetchall(
            f"""SELECT * FROM outbox WHERE status = 'pending' AND next_at <= ?
                   AND id NOT IN (SELECT value FROM json_each(?)) AND {_NOT_BEHIND_IN_FLIGHT}
               ORDER BY CASE WHEN chat_id > 0 THEN 0 ELSE 1 END, id LIMIT ?""",
            (to_db_time(now), json.dumps(list(skip)), limit),
        )
        return [_item(r) for r in rows]

    async def pending(self, kind: Kind, tip_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM outbox WHERE status = 'pending' AND kind = ? AND tip_id = ? LIMIT 1",
            (kind.value, tip_id),
        )
        return row is not None

    async def done(self, tx: Tx, item_id: int, now: dt.datetime) -> None:
        """Delivered. A claim secret in the row goes with it (it was the one plaintext copy)."""
        await tx.execute(
            f"""UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,
                   payload = {_SCRUBBED} WHERE id = ?""",
            (to_db_time(now), item_id),
        )

    async def claim(self, tx: Tx, item_id: int) -> bool:
        """Mark an item as being sent. From then on nothing coalesces into it: a change that
        comes while it is in flight gets an edit of its own. False if it is not pending, or
        if it is to a person and an earlier message to them is still in flight: their
        messages go in the order they were written, whoever sends them (the receipt sent at
        once by the reporter's handler, what follows it by the sender's lane); it is due
        again once that one is done."""
        cur = await tx.execute(
            f"""UPDATE outbox SET status = 'sending'
                WHERE id = ? AND status = 'pending' AND {_NOT_BEHIND_IN_FLIGHT}""",
            (item_id,),
        )
        return cur.rowcount == 1

    async def requeue_in_flight(self, tx: Tx) -> int:
        """After a crash: whatever was being sent is sent again (cards skip the parts that
        were recorded as sent)."""
        cur = await tx.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
        return cur.rowcount

    async def retry(self, tx: Tx, item_id: int, next_at: dt.datetime, error: str) -> None:
        await tx.execute(
            """UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_at = ?,
                   last_error = ? WHERE id = ?""",
            (to_db_time(next_at), error[:500], item_id),
        )

    async def retry_unreached_now(self, tx: Tx, now: dt.datetime) -> int:
        """Items waiting only because Telegram could not be reached become due now."""
        cur = await tx.execute(
            """UPDATE outbox SET next_at = ?
               WHERE status = 'pending' AND next_at > ? AND last_error LIKE 'NetworkError:%'""",
            (to_db_time(now), to_db_time(now)),
        )
        return cur.rowcount

    async def failed(self, tx: Tx, item_id: int, error: str) -> None:
        """Given up (blocked chat, refused message…): a claim secret is not kept either; the
        reporter can ask for a fresh one (/mytips)."""
        await tx.execute(
            f"""UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,
                   payload = {_SCRUBBED} WHERE id = ?""",
            (error[:500], item_id),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}
