"""Live positions on a tip's card and in /open (issue 13): the reporter's moving pin with its
age, staff members' distance to the tip, the on-duty member nearest to a new tip."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from html import escape

from bot.geo.coords import map_links
from bot.i18n import keys, t
from bot.services.live import LiveFacts, StaffNear
from bot.views.people import label
from bot.views.places import distance_text


def _staff(near: StaffNear, facts_now: dt.datetime, lang: str, tz: zoneinfo.ZoneInfo) -> str:
    return t(
        lang,
        "live.staff",
        name=escape(label(near.person, lang)),
        distance=distance_text(near.metres),
        at=near.updated_at.astimezone(tz).strftime("%H:%M"),
        age=max(0, int((facts_now - near.updated_at).total_seconds() // 60)),
    )


def card_lines(facts: LiveFacts | None, code: str, lang: str, tz: zoneinfo.ZoneInfo) -> list[str]:
    """The card's lines about live positions (none: nothing)."""
    if facts is None:
        return []
    lines: list[str] = []
    pin = facts.pin
    if pin is not None:
        links = " · ".join(
            f'<a href="{escape(link.url)}">{t(lang, keys.MAP[link.key])}</a>'
            for link in map_links(pin.lat, pin.lon, code)
        )
        lines.append(
            t(
                lang,
                "live.pin",
                at=pin.updated_at.astimezone(tz).strftime("%H:%M"),
                age=pin.age_minutes(facts.now),
                moved=distance_text(facts.pin_moved_m),
                links=links,
            )
        )
    lines.extend(_staff(near, facts.now, lang, tz) for near in facts.staff)
    if facts.nearest is not None:
        lines.append(
            t(
                lang,
                "live.nearest",
                name=escape(label(facts.nearest.person, lang)),
                distance=distance_text(facts.nearest.metres),
            )
        )
    return lines


def open_lines(
    near: list[StaffNear] | None, now: dt.datetime, lang: str, tz: zoneinfo.ZoneInfo
) -> list[str]:
    """/open: under a tip's line, who shares a live location towards it, how far, how fresh."""
    return [_staff(n, now, lang, tz) for n in near or []]
