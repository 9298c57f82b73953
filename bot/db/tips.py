"""The ``tips`` table: a tip's row, the lists of tips, the claim secret's hash, incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import OPEN_SQL, Tx, compare_and_set, csv, marks, uncsv
from bot.domain.dedup import BBox, Candidate
from bot.domain.draft import Draft
from bot.domain.spots import Spot
from bot.domain.tips import (
    Flag,
    Outcome,
    People,
    Seen,
    State,
    Supply,
    Tip,
    is_urgent,
    tip_code,
)


def tip_of(row: aiosqlite.Row) -> Tip:
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
        flags=frozenset(Flag(f) for f in uncsv(row["flags"])),
        description=row["description"],
        state=State(row["state"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        duplicate_of=row["duplicate_of"],
        supplies=frozenset(Supply(s) for s in uncsv(row["supplies"])),
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
        widened_at=from_db_time(row["widened_at"]),
        first_claimed_at=from_db_time(row["first_claimed_at"]),
        eta_at=from_db_time(row["eta_at"]),
        eta_asked_at=from_db_time(row["eta_asked_at"]),
        attempt=row["attempt"],
        spot=Spot(row["spot"]) if row["spot"] else None,
        spot_text=row["spot_text"],
    )


class TipStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        tx: Tx,
        *,
        code_prefix: str,
        draft: Draft,
        reporter_id: int | None,
        logged_by: int | None,
        district: str | None,
        group_key: str,
        state: State,
        now: dt.datetime,
    ) -> int:
        """Write a new tip's row once, complete: its code (from the id it gets) and, as it is
        created dispatched, when it was dispatched."""
        row = await (
            await tx.execute(
                """SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tips'), 0),
                              COALESCE((SELECT MAX(id) FROM tips), 0)) + 1 AS next"""
            )
        ).fetchone()
        tip_id = int(row["next"])
        t = to_db_time(now)
        await tx.execute(
            """INSERT INTO tips (id, code, source, reporter_id, logged_by, lat, lon, address,
                   place_label, district, seen, people, flags, urgent, description, state,
                   group_key, created_at, updated_at, dispatched_at, spot, spot_text)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tip_id,
                tip_code(code_prefix, tip_id),
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
                csv(f.value for f in draft.flags),
                int(is_urgent(draft.flags)),
                draft.description,
                state.value,
                group_key,
                t,
                t,
                t if state is State.DISPATCHED else None,
                draft.spot.value if draft.spot else None,
                draft.spot_text,
            ),
        )
        return tip_id

    async def get(self, tip_id: int) -> Tip | None:
        row = await self.db.fetchone("SELECT * FROM tips WHERE id = ?", (tip_id,))
        return tip_of(row) if row else None

    async def reporter_of(self, tip_id: int) -> int | None:
        """The reporter's user id — for private notifications only, never for rendering."""
        row = await self.db.fetchone("SELECT reporter_id FROM tips WHERE id = ?", (tip_id,))
        return row["reporter_id"] if row else None

    async def update(self, tx: Tx, tip: Tip, changes: dict[str, Any]) -> bool:
        """Compare-and-set: apply ``changes`` only if the tip's row is still as ``tip`` was
        read (its state and version)."""
        return await compare_and_set(tx, "tips", tip.id, tip.state, tip.version, changes)

    async def open(self, group_key: str | None = None) -> list[Tip]:
        sql = f"SELECT * FROM tips WHERE state IN {OPEN_SQL}"
        params: tuple = ()
        if group_key is not None:
            sql += " AND group_key = ?"
            params = (group_key,)
        sql += " ORDER BY urgent DESC, created_at"
        return [tip_of(r) for r in await self.db.fetchall(sql, params)]

    async def of_reporter(self, reporter_id: int, limit: int = 10) -> list[Tip]:
        rows = await self.db.fetchall(
            "SELECT * FROM tips WHERE reporter_id = ? ORDER BY id DESC LIMIT ?",
            (reporter_id, limit),
        )
        return [tip_of(r) for r in rows]

    async def count_of_reporter_since(self, reporter_id: int, since: dt.datetime) -> int:
        row = await self.db.fetchone(
            """SELECT COUNT(*) AS n FROM tips
               WHERE reporter_id = ? AND created_at >= ? AND state != ?""",
            (reporter_id, to_db_time(since), State.WITHDRAWN.value),
        )
        return int(row["n"]) if row else 0

    async def open_in_box(self, box: BBox, since: dt.datetime) -> list[Candidate]:
        rows = await self.db.fetchall(
            f"""SELECT id, lat, lon FROM tips
                WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?
                  AND created_at >= ? AND state IN {OPEN_SQL}""",
            (box.south, box.north, box.west, box.east, to_db_time(since)),
        )
        return [Candidate(r["id"], r["lat"], r["lon"]) for r in rows]

    async def codes(self, tip_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(tip_ids))
        if not ids:
            return {}
        rows = await self.db.fetchall(
            f"SELECT id, code FROM tips WHERE id IN ({marks(ids)})", tuple(ids)
        )
        return {r["id"]: r["code"] for r in rows}

    async def set_urgent(self, tx: Tx, tip_id: int, urgent: bool) -> None:
        """The ``urgent`` column after the flags changed (a reporter's added flag)."""
        await tx.execute("UPDATE tips SET urgent = ? WHERE id = ?", (int(urgent), tip_id))

    async def widen(self, tx: Tx, tip_id: int, now: dt.datetime) -> None:
        """Every group was alerted: from now on any member may take the tip on. Not a change
        of the tip's state (its version stays: a claim pressed meanwhile still counts)."""
        await tx.execute(
            "UPDATE tips SET widened_at = ? WHERE id = ? AND widened_at IS NULL",
            (to_db_time(now), tip_id),
        )

    # -- the anonymous claim's secret (only its salted hash) --------------------------------
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
