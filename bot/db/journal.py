"""The inbound journal's SQL (the ``inbound`` table).

The mechanism (what is journaled when, replays, pruning) is in ``bot/inbound.py``; the
handling context that services record effects in is ``bot/replay.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.db.database import Database, to_db_time


async def record_effect(tx: aiosqlite.Connection, update_id: int, effect: str, ref: str) -> None:
    """Within a write's transaction: the update ``update_id`` committed ``effect`` (see
    bot/replay.py)."""
    await tx.execute(
        "UPDATE inbound SET effects = json_set(effects, '$.' || ?, ?) WHERE update_id = ?",
        (effect, ref, update_id),
    )


@dataclass(frozen=True)
class Unfinished:
    update_id: int
    body: str
    starts: int
    effects: dict[str, str]


class JournalStore:
    """The ``inbound`` table. Each hot statement is a single autocommit write (one call on
    the database thread), so journaling costs little per update."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(self, entries: Iterable[tuple[int, str]], now: dt.datetime) -> set[int]:
        """Store ``(update_id, json)`` pairs durably; returns the ids that were new."""
        rows = list(entries)
        if not rows:
            return set()
        at = to_db_time(now)
        values = ", ".join("(?, ?, ?)" for _ in rows)
        params = [p for update_id, body in rows for p in (update_id, body, at)]
        inserted = await self.db.write_one(
            f"INSERT INTO inbound (update_id, body, received_at) VALUES {values} "
            "ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            params,
        )
        return {row[0] for row in inserted}

    async def done(self, update_id: int, now: dt.datetime) -> None:
        await self.db.write_one(
            "UPDATE inbound SET status = 'done', done_at = ?, body = NULL "
            "WHERE update_id = ? AND status = 'pending'",
            (to_db_time(now), update_id),
        )

    async def begin_replays(
        self, max_starts: int, now: dt.datetime
    ) -> tuple[list[Unfinished], list[int]]:
        """At start: count this start for every unfinished update; give up on those that
        already survived ``max_starts`` starts. Returns (to replay in order, given up)."""
        async with self.db.write() as tx:
            await tx.execute("UPDATE inbound SET starts = starts + 1 WHERE status = 'pending'")
            rows = await tx.execute_fetchall(
                "SELECT update_id, body, starts, effects FROM inbound "
                "WHERE status = 'pending' ORDER BY update_id"
            )
            replay: list[Unfinished] = []
            dropped: list[int] = []
            for row in rows:
                if row["starts"] > max_starts or row["body"] is None:
                    dropped.append(row["update_id"])
                else:
                    replay.append(
                        Unfinished(
                            row["update_id"], row["body"], row["starts"], json.loads(row["effects"])
                        )
                    )
            if dropped:
                marks = ",".join("?" for _ in dropped)
                await tx.execute(
                    f"UPDATE inbound SET status = 'abandoned', done_at = ?, body = NULL "
                    f"WHERE update_id IN ({marks})",
                    (to_db_time(now), *dropped),
                )
        return replay, dropped

    async def prune(self, before: dt.datetime) -> int:
        """Forget handled entries older than ``before``; returns how many."""
        rows = await self.db.write_one(
            "DELETE FROM inbound WHERE status != 'pending' AND done_at < ? RETURNING update_id",
            (to_db_time(before),),
        )
        return len(rows)

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) FROM inbound GROUP BY status")
        return {row[0]: row[1] for row in rows}
