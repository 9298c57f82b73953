"""What reporters added to their tips after submitting them (the ``amendments`` table)."""

from __future__ import annotations

import datetime as dt

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx, csv, uncsv
from bot.domain.amendments import Amendment
from bot.domain.tips import FLAG_ORDER, Flag


class AmendmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        tx: Tx,
        tip_id: int,
        *,
        words: str | None,
        photo: bool,
        flags: frozenset[Flag],
        now: dt.datetime,
    ) -> None:
        await tx.execute(
            "INSERT INTO amendments (tip_id, at, words, photo, flags) VALUES (?, ?, ?, ?, ?)",
            (
                tip_id,
                to_db_time(now),
                words,
                int(photo),
                csv(f.value for f in FLAG_ORDER if f in flags),
            ),
        )

    async def of(self, tip_id: int) -> list[Amendment]:
        rows = await self.db.fetchall(
            "SELECT at, words, photo, flags FROM amendments WHERE tip_id = ? ORDER BY id",
            (tip_id,),
        )
        return [
            Amendment(
                at=_time(r["at"]),
                words=r["words"],
                photo=bool(r["photo"]),
                flags=frozenset(Flag(f) for f in uncsv(r["flags"])),
            )
            for r in rows
        ]


def _time(text: str) -> dt.datetime:
    at = from_db_time(text)
    assert at is not None  # the column is NOT NULL
    return at
