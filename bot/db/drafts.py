"""Reports in progress: one draft per person, kept in the database so a restart loses none."""

from __future__ import annotations

import datetime as dt
import json

from bot.db.database import Database, from_db_time, to_db_time
from bot.db.sql import Tx
from bot.domain.draft import Draft, Source, Step
from bot.domain.spots import Spot
from bot.domain.tips import Flag, People, Seen


class DraftStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Draft | None:
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
            spot=Spot(data["spot"]) if data.get("spot") else None,
            spot_text=data.get("spot_text"),
            amend_of=data.get("amend_of"),
            keyboard_left=bool(data.get("keyboard_left")),
        )

    async def save(self, tx: Tx, draft: Draft, now: dt.datetime) -> None:
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
            "spot": draft.spot.value if draft.spot else None,
            "spot_text": draft.spot_text,
            "amend_of": draft.amend_of,
        }
        if draft.keyboard_left:
            data["keyboard_left"] = True
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

    async def delete(self, tx: Tx, user_id: int) -> None:
        await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    async def updated_at(self, user_id: int) -> dt.datetime | None:
        row = await self.db.fetchone("SELECT updated_at FROM drafts WHERE user_id = ?", (user_id,))
        return from_db_time(row["updated_at"]) if row else None
