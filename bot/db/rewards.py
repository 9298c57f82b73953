"""Rewards and their append-only ledger (database triggers refuse updates and deletes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.histograms import HistogramStore
from bot.db.ledger_totals import ledger_sums
from bot.db.sql import Tx, compare_and_set, marks
from bot.domain.rewards import PayMethod, Reward, RewardState


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


#: An upper bound past every entry (a whole hour: no partial hour to count).
_NO_END = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _between(column: str, since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, list]:
    """`` AND column >= ? AND column < ?`` for the bounds given, and their values."""
    sql, params = "", []
    if since is not None:
        sql += f" AND {column} >= ?"
        params.append(to_db_time(since))
    if until is not None:
        sql += f" AND {column} < ?"
        params.append(to_db_time(until))
    return sql, params


class RewardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_since(self, reporter_id: int, since: dt.datetime, until: dt.datetime) -> int:
        """The reporter's rewards (not rejected) for tips that came in within ``[since, until)``."""
        row = await self.db.fetchone(
            """SELECT COUNT(*) AS n FROM rewards JOIN tips ON tips.id = rewards.tip_id
               WHERE rewards.reporter_id = ? AND rewards.state != 'rejected'
                 AND tips.created_at >= ? AND tips.created_at < ?""",
            (reporter_id, to_db_time(since), to_db_time(until)),
        )
        return int(row["n"]) if row else 0

    async def create(
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

    async def get(self, reward_id: int) -> Reward | None:
        row = await self.db.fetchone("SELECT * FROM rewards WHERE id = ?", (reward_id,))
        return _reward(row) if row else None

    async def for_tip(self, tip_id: int) -> Reward | None:
        row = await self.db.fetchone("SELECT * FROM rewards WHERE tip_id = ?", (tip_id,))
        return _reward(row) if row else None

    async def in_states(self, states: Iterable[RewardState], limit: int = 100) -> list[Reward]:
        wanted = [s.value for s in states]
        rows = await self.db.fetchall(
            f"""SELECT * FROM rewards WHERE state IN ({marks(wanted)})
                ORDER BY created_at, id LIMIT ?""",
            (*wanted, limit),
        )
        return [_reward(r) for r in rows]

    async def count(self, state: RewardState) -> int:
        # A running count (migration 0016), kept by triggers on rewards.
        row = await self.db.fetchone(
            "SELECT n FROM reward_states WHERE state = ?", (state.value,)
        )
        return int(row["n"]) if row else 0

    async def state_sums(self) -> dict[str, tuple[int, int]]:
        """``state → (count, yuan)`` over every reward as it stands now; a paid reward counts
        the amount actually paid."""
        rows = await self.db.fetchall(
            """SELECT state, COUNT(*) AS n,
                      SUM(CASE WHEN state = 'paid' THEN COALESCE(paid_amount, amount)
                               ELSE amount END) AS total
               FROM rewards GROUP BY state"""
        )
        return {r["state"]: (int(r["n"]), int(r["total"] or 0)) for r in rows}

    async def of_reporter(self, reporter_id: int) -> list[Reward]:
        rows = await self.db.fetchall(
            "SELECT * FROM rewards WHERE reporter_id = ? ORDER BY id", (reporter_id,)
        )
        return [_reward(r) for r in rows]

    async def update(self, tx: Tx, reward: Reward, changes: dict[str, Any]) -> bool:
        """Compare-and-set, like :meth:`TipStore.update` (from ``reward`` as it was read):
        two officers never both win."""
        return await compare_and_set(
            tx, "rewards", reward.id, reward.state, reward.version, changes
        )


class LedgerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
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
                str(entry),
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

    async def entries(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Ledger entries in ``[since, until)`` with their tip codes, oldest first."""
        where, params = _between("ledger.at", since, until)
        rows = await self.db.fetchall(
            """SELECT ledger.*, tips.code AS code FROM ledger JOIN tips ON tips.id = ledger.tip_id
               WHERE 1 = 1"""
            + where
            + " ORDER BY ledger.id",
            tuple(params),
        )
        return [dict(r) for r in rows]

    async def sums(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> dict[str, tuple[int, int]]:
        """``entry → (count, sum of amounts)`` of the ledger entries in ``[since, until)``,
        summed by the database (the same entries :meth:`entries` lists).

        Read from the running totals by station day and hour (bot/db/ledger_totals.py)."""
        return await ledger_sums(self.db, since, until or _NO_END, await self.shift_minutes())

    async def shift_minutes(self) -> int:
        return await HistogramStore(self.db).shift_minutes()

    async def last(self, reward_id: int, entry: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT * FROM ledger WHERE reward_id = ? AND entry = ? ORDER BY id DESC LIMIT 1",
            (reward_id, str(entry)),
        )
        return dict(row) if row else None
