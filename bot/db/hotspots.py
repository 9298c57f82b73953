"""Where people were found: the closed tips hotspots are made of (bot/domain/hotspots.py)."""

from __future__ import annotations

import datetime as dt

from bot.db.database import Database, from_db_time, to_db_time
from bot.domain.hotspots import Hotspot, Sighting, hotspots
from bot.domain.tips import Outcome

#: Outcomes where the person was found at the place.
FOUND = (Outcome.BROUGHT_IN, Outcome.HOSPITAL, Outcome.SUPPLIES_ONLY, Outcome.FAMILY)


class HotspotStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def sightings(self, since: dt.datetime) -> list[Sighting]:
        """Tips closed since then where the person was found (exact spots: staff only)."""
        rows = await self.db.fetchall(
            f"""SELECT lat, lon, closed_at, place_label FROM tips
                WHERE state = 'closed' AND closed_at >= ?
                AND outcome IN ({",".join("?" for _ in FOUND)})""",
            (to_db_time(since), *(o.value for o in FOUND)),
        )
        return [
            Sighting(
                r["lat"],
                r["lon"],
                from_db_time(r["closed_at"]),  # type: ignore[arg-type]
                r["place_label"],
            )
            for r in rows
        ]

    async def hotspots(self, since: dt.datetime, top: int | None = None) -> list[Hotspot]:
        """The hotspots of the sightings since then, most sightings first."""
        found = await self.sightings(since)
        return hotspots(found) if top is None else hotspots(found, top=top)
