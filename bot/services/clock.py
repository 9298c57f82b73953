"""The bot's clock: UTC for storing, station time for people and the roster."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StationClock:
    def __init__(self, timezone: str, clock: Clock = utc_now) -> None:
        self.tz = zoneinfo.ZoneInfo(timezone)
        self._clock = clock

    def now(self) -> dt.datetime:
        return self._clock()

    def local(self, moment: dt.datetime | None = None) -> dt.datetime:
        """``moment`` (default: now) in station time."""
        return (moment or self._clock()).astimezone(self.tz)
