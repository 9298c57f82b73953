"""The bot's own operation state and the health probes' SQL (issue 12).

Kept in the ``settings`` table (key → value, no migration needed): the heartbeat (the bot
was running until then), the start of an outage not yet told to the officers, the webhook's
generated secret, and how far undeliverable outbox items were reported. The probes read the
outbox and the inbound journal; each is one small indexed statement (``/healthz`` is polled
every minute).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.database import Database, from_db_time, to_db_time

HEARTBEAT = "ops:heartbeat"
OUTAGE_SINCE = "ops:outage_since"
WEBHOOK_SECRET = "ops:webhook_secret"
UNDELIVERABLE_REPORTED = "ops:undeliverable_reported"
PROBE = "ops:health_probe"
#: The catalog key of the officers' notice about undeliverable messages.
UNDELIVERABLE_KEY = "ops.undeliverable"

#: Errors the outbox sender handles by telling the officers itself (a group lost, a person
#: who blocked the bot, a group that became a supergroup): not "undeliverable" here.
_TOLD_ALREADY = ("Forbidden:%", "ChatMigrated%")


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending_at: dt.datetime | None


@dataclass(frozen=True)
class Undeliverable:
    """Outbox items not delivered for a while (or given up), not yet reported."""

    count: int
    max_id: int
    oldest_at: dt.datetime | None
    to_groups: int
    to_people: int
    last_error: str | None


class OpsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- settings -----------------------------------------------------------------------
    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return row[0] if row else None

    async def get_time(self, key: str) -> dt.datetime | None:
        return from_db_time(await self.get(key))

    async def put(self, key: str, value: str, now: dt.datetime) -> None:
        await self.db.write_one(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (key, value, to_db_time(now)),
        )

    async def put_time(self, key: str, moment: dt.datetime, now: dt.datetime) -> None:
        await self.put(key, to_db_time(moment), now)

    async def put_if_absent(self, key: str, value: str, now: dt.datetime) -> str:
        """Store ``value`` unless the key has one; returns the value now stored."""
        await self.db.write_one(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (key, value, to_db_time(now)),
        )
        stored = await self.get(key)
        assert stored is not None
        return stored

    async def delete(self, tx, key: str) -> None:
        """Within the caller's transaction (the notice that tells of it is written there)."""
        await tx.execute("DELETE FROM settings WHERE key = ?", (key,))

    async def put_in(self, tx, key: str, value: str, now: dt.datetime) -> None:
        await tx.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (key, value, to_db_time(now)),
        )

    # -- probes -------------------------------------------------------------------------
    async def probe_write(self, now: dt.datetime) -> None:
        """A real (tiny) write: raises if the database cannot take one."""
        await self.put(PROBE, to_db_time(now), now)

    async def outbox_health(self) -> OutboxHealth:
        row = await self.db.fetchone(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status IN ('pending', 'sending')"
        )
        return OutboxHealth(int(row[0]), from_db_time(row[1]))

    async def last_update_at(self) -> dt.datetime | None:
        row = await self.db.fetchone(
            "SELECT received_at FROM inbound ORDER BY update_id DESC LIMIT 1"
        )
        return from_db_time(row[0]) if row else None

    async def undeliverable(self, older_than: dt.datetime, after_id: int) -> Undeliverable:
        """Items with an id above ``after_id`` that were tried and are still not delivered
        though created before ``older_than``, or that were given up (except those the sender
        reports itself)."""
        where = (
            "id > ? AND ((status IN ('pending', 'sending') AND attempts > 0 AND created_at <= ?)"
            " OR (status = 'failed' AND last_error NOT LIKE ? AND last_error NOT LIKE ?))"
            # (not the report itself: an officer's chat that fails would repeat it for ever)
            # (a typed notice's key, bot/domain/outbox.py; or a row written before them)
            " AND coalesce(json_extract(payload, '$.notice.key'), json_extract(payload, '$.key'),"
            " '') != ?"
        )
        params = (after_id, to_db_time(older_than), *_TOLD_ALREADY, UNDELIVERABLE_KEY)
        row = await self.db.fetchone(
            f"SELECT COUNT(*), MAX(id), MIN(created_at), "
            f"SUM(CASE WHEN chat_id < 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN chat_id > 0 THEN 1 ELSE 0 END) FROM outbox WHERE {where}",
            params,
        )
        last = await self.db.fetchone(
            f"SELECT last_error FROM outbox WHERE {where} ORDER BY id DESC LIMIT 1", params
        )
        return Undeliverable(
            count=int(row[0]),
            max_id=int(row[1] or 0),
            oldest_at=from_db_time(row[2]),
            to_groups=int(row[3] or 0),
            to_people=int(row[4] or 0),
            last_error=last[0] if last else None,
        )

    async def tips_since(self, since: dt.datetime) -> tuple[int, int]:
        """(tips received since ``since``, of which their card still waits in the outbox)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.tip_id = t.id"
            " AND o.kind = 'card' AND o.status IN ('pending', 'sending')) THEN 1 ELSE 0 END)"
            " FROM tips t WHERE t.created_at >= ?",
            (to_db_time(since),),
        )
        return int(row[0]), int(row[1] or 0)
