"""Live locations: a reporter's moving pin and staff members' positions. Pure.

Telegram sends a live location as a message with ``live_period`` and then edits of it as it
moves. A card shows the latest position, but is edited at most once per
:data:`CARD_EDIT_EVERY` for it (a moving pin must not flood the group: Telegram allows about
20 messages a minute per group); the schedule step brings a card up to date later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.geo.coords import haversine_m

#: A card is edited for a moving position at most this often.
CARD_EDIT_EVERY = dt.timedelta(seconds=60)
#: Telegram's live periods: 60 s … 24 h, or "until stopped" (0x7FFFFFFF).
FOREVER = 0x7FFFFFFF
LONGEST = dt.timedelta(hours=24)


class LiveRole(StrEnum):
    REPORTER = "reporter"
    STAFF = "staff"


@dataclass(frozen=True)
class LivePosition:
    chat_id: int
    message_id: int
    user_id: int
    role: LiveRole
    tip_id: int | None
    group_key: str | None
    lat: float
    lon: float
    started_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    shown_at: dt.datetime | None

    def live(self, now: dt.datetime) -> bool:
        return now < self.expires_at

    def age_minutes(self, now: dt.datetime) -> int:
        return max(0, int((now - self.updated_at).total_seconds() // 60))


def expires(started_at: dt.datetime, live_period: int) -> dt.datetime:
    """When a live location shared at ``started_at`` for ``live_period`` seconds ends
    ("until stopped" is taken as Telegram's longest fixed period, 24 h)."""
    if live_period >= FOREVER or live_period <= 0:
        return started_at + LONGEST
    return started_at + dt.timedelta(seconds=min(live_period, int(LONGEST.total_seconds())))


def card_edit_due(position: LivePosition, now: dt.datetime) -> bool:
    """Whether a card should be edited now to show this position."""
    if position.shown_at is None:
        return True
    return position.updated_at > position.shown_at and now - position.shown_at >= CARD_EDIT_EVERY


def nearest(
    positions: Iterable[LivePosition], lat: float, lon: float, now: dt.datetime
) -> tuple[LivePosition, int] | None:
    """The live position nearest to a point, and how far (metres); None if none is live."""
    best: tuple[LivePosition, int] | None = None
    for position in positions:
        if not position.live(now):
            continue
        metres = round(haversine_m(lat, lon, position.lat, position.lon))
        if best is None or (metres, position.user_id) < (best[1], best[0].user_id):
            best = (position, metres)
    return best
