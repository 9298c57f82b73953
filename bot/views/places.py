"""A place in words: a bare pin as the nearest known place, how far, and the district (no raw
numbers unless nothing known is near), and the exact spot first (:func:`place_line`). Shown
on the reporter's review, the card, /mytips, /open and the digest."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from bot.domain.spots import Spot
from bot.domain.tips import Tip
from bot.geo import gazetteer
from bot.i18n import keys, t


def distance_text(metres: int) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres} m"


def _near_words(near: gazetteer.Nearby, lat: float, lon: float, lang: str) -> str:
    """ "黄石站（0 m）", "距黄石站约 350 m", or the coordinates when no landmark is near."""
    if near.landmark is None:
        return f"{lat:.5f}, {lon:.5f}"
    place = escape(near.landmark.name(lang))
    if near.at:  # within 100 m: always metres
        return t(lang, "pin.at", place=place, metres=near.rounded_m)
    return t(lang, "pin.near", place=place, distance=distance_text(near.rounded_m))


def pin_place(lat: float, lon: float, lang: str) -> str:
    """ "黄石站（0 m）· 下陆区", "距黄石站约 350 m · 下陆区", or "下陆区 · 30.15650, 114.93550"
    when no landmark is within :data:`bot.geo.gazetteer.NEAR_MAX_M` (HTML-escaped)."""
    near = gazetteer.describe(lat, lon)
    district = escape(near.district.name(lang))
    if near.landmark is None:
        return f"{district} · {lat:.5f}, {lon:.5f}"
    return f"{_near_words(near, lat, lon, lang)} · {district}"


def spot_words(
    spot: Spot | None, spot_text: str | None, lang: str, shown: Callable[[str], str] = escape
) -> str | None:
    """The exact spot: "东侧出站口 · 公园长椅" (typed words, then the choice), either alone;
    None: no spot given. ``shown``: how the reporter's typed words are shown (escaped, and on
    a group's card with phone numbers masked)."""
    parts = [shown(spot_text)] if spot_text else []
    if spot is not None and spot is not Spot.OTHER:
        parts.append(escape(t(lang, keys.SPOT[spot])))
    return " · ".join(parts) or None


def place_line(
    lat: float,
    lon: float,
    label: str | None,
    address: str | None,
    district: str | None,
    spot: Spot | None,
    spot_text: str | None,
    lang: str,
    shown: Callable[[str], str] = escape,
) -> str:
    """The place with the exact spot first, then the district: "黄石站（0 m） 东侧出站口 ·
    公园长椅（下陆区）" — for a bare pin the nearest landmark and its distance, else the
    venue's or geocoder's name and the typed address. Without a spot: as before a spot was
    asked (``pin_place``, or "district · name · address"). ``district``: the tip's, for a
    named place (None, and for a bare pin: the gazetteer's nearest, in ``lang``)."""
    where = spot_words(spot, spot_text, lang, shown)
    if where is None:
        if not label and not address:
            return pin_place(lat, lon, lang)
        return " · ".join(shown(part) for part in (district, label, address) if part)
    near = gazetteer.describe(lat, lon)
    area = escape(near.district.name(lang))  # a bare pin: in the reader's language
    if label or address:
        name = " · ".join(shown(part) for part in (label, address) if part)
        area = shown(district) if district else area
    else:
        name = _near_words(near, lat, lon, lang)
    return t(lang, "place.spot_district", place=f"{name} {where}", district=area)


def tip_place(tip: Tip, lang: str, shown: Callable[[str], str] = escape) -> str:
    """A tip's place as :func:`place_line` words it (the card, /open, /mytips, digests)."""
    return place_line(
        tip.lat,
        tip.lon,
        tip.place_label,
        tip.address,
        tip.district,
        tip.spot,
        tip.spot_text,
        lang,
        shown,
    )
