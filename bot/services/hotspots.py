"""Hotspots (issue 13): where people were found in the last ``[field] hotspot_days`` days.

Listed in every patrol reminder (patrol groups are staff) and by ``/hotspots`` to staff
only: they are exact spots where vulnerable people sleep.
"""

from __future__ import annotations

import datetime as dt

from bot.db.hotspots import HotspotStore
from bot.domain.hotspots import Hotspot
from bot.domain.outbox import Lines, Msg, Text
from bot.geo import gazetteer
from bot.services.clock import StationClock
from bot.services.reach import Reach


class HotspotService:
    def __init__(
        self, store: HotspotStore, reach: Reach, clock: StationClock, days: int, language: str
    ) -> None:
        self.store = store
        self.reach = reach
        self.clock = clock
        self.days = days
        self.language = language  # the station's: reminders are in it

    def may_see(self, user_id: int) -> bool:
        """Exact spots are for staff only (officers, leaders, members)."""
        return self.reach.directory.is_staff(user_id)

    async def hotspots(self, days: int | None = None) -> list[Hotspot]:
        """The hotspots of the last ``days`` days (default ``[field] hotspot_days``; 0: off)."""
        days = self.days if days is None else days
        if days <= 0:
            return []
        since = self.clock.now() - dt.timedelta(days=days)
        return await self.store.hotspots(since)

    async def reminder_lines(self, group_key: str, now: dt.datetime) -> list[Text]:
        """The reminder's lines: the hotspots, most sightings first (none: nothing said)."""
        found = await self.hotspots()
        if not found:
            return []
        head = Msg("hotspot.reminder", {"days": self.days})
        return [Lines((head, *(self.line(n, h) for n, h in enumerate(found, 1))))]

    def line(self, number: int, hotspot: Hotspot) -> Msg:
        local = self.clock.local(hotspot.last_at)
        return Msg(
            "hotspot.line",
            {
                "n": number,
                "place": hotspot.label or self._near(hotspot),
                "count": hotspot.count,
                "last": local.strftime("%m-%d %H:%M"),
            },
        )

    def _near(self, hotspot: Hotspot) -> str | Msg:
        """A spot with no place name: the nearest known place (or the coordinates)."""
        near = gazetteer.describe(hotspot.lat, hotspot.lon)
        if near.landmark is None:
            return f"{hotspot.lat:.5f}, {hotspot.lon:.5f}"
        name = near.landmark.name(self.language)
        if near.at:
            return Msg("pin.at", {"place": name, "metres": near.rounded_m})
        metres = near.rounded_m
        distance = f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres} m"
        return Msg("pin.near", {"place": name, "distance": distance})
