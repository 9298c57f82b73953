"""A bare pin in words: the nearest known place, how far, and the district (no raw numbers
unless nothing known is near). Shown on the reporter's review, the card and the digest."""

from __future__ import annotations

from html import escape

from bot.geo import gazetteer
from bot.i18n import t


def distance_text(metres: int) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres} m"


def pin_place(lat: float, lon: float, lang: str) -> str:
    """ "黄石站（0 m）· 下陆区", "距黄石站约 350 m · 下陆区", or "下陆区 · 30.15650, 114.93550"
    when no landmark is within :data:`bot.geo.gazetteer.NEAR_MAX_M` (HTML-escaped)."""
    near = gazetteer.describe(lat, lon)
    district = escape(near.district.name(lang))
    if near.landmark is None:
        return f"{district} · {lat:.5f}, {lon:.5f}"
    place = escape(near.landmark.name(lang))
    if near.at:  # within 100 m: always metres
        where = t(lang, "pin.at", place=place, metres=near.rounded_m)
    else:
        where = t(lang, "pin.near", place=place, distance=distance_text(near.rounded_m))
    return f"{where} · {district}"
