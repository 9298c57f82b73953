"""What every store shares: the transaction type, value conversions, compare-and-set.

Read methods of a store run on their own; write methods take ``tx``, the connection handed
out by :meth:`Database.write`, so a service can put several writes into one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import Enum
from typing import Any

import aiosqlite

from bot.db.database import to_db_time
from bot.domain.tips import OPEN_STATES

Tx = aiosqlite.Connection

#: The open states as an SQL list, from the domain's one definition.
OPEN_SQL = "(" + ",".join(f"'{s.value}'" for s in sorted(OPEN_STATES)) + ")"


def csv(values: Iterable[str]) -> str:
    return ",".join(sorted(values))


def uncsv(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def marks(values: Iterable[object]) -> str:
    """``?,?,?`` for an ``IN (…)`` list of these values."""
    return ",".join("?" for _ in values)


def db_value(value: Any) -> Any:
    """A domain value as stored: UTC text times, enum values, sets as sorted CSV."""
    if isinstance(value, dt.datetime):
        return to_db_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return csv(getattr(v, "value", v) for v in value)
    return value


async def compare_and_set(
    tx: Tx,
    table: str,
    row_id: int,
    expect_state: Enum,
    expect_version: int,
    changes: dict[str, Any],
) -> bool:
    """``UPDATE`` a row only if its state and version are still what the caller read."""
    sets = ", ".join(f"{column} = ?" for column in changes)
    values = [db_value(v) for v in changes.values()]
    cur = await tx.execute(
        f"""UPDATE {table} SET {sets}, version = version + 1
            WHERE id = ? AND state = ? AND version = ?""",
        (*values, row_id, expect_state.value, expect_version),
    )
    return cur.rowcount == 1
