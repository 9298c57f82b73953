"""The map's JSON: the open tips as markers, the service area, district names and landmarks
from the gazetteer, and the optional layers (staff live positions, hotspots) that other
parts provide. With Amap/Tencent tiles (GCJ-02) every point is shifted to match them, with
the conversion the card's map links use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.domain.dashboard import Marker
from bot.domain.tips import Tip
from bot.geo.area import ServiceArea
from bot.geo.coords import wgs84_to_gcj02
from bot.geo.gazetteer import PLACES

#: Tile hosts that serve GCJ-02 ("Mars") coordinates.
GCJ02_HOSTS = ("amap.com", "autonavi.com", "gtimg.com", "qq.com", "tencent.com")


def tiles_in_gcj02(template: str) -> bool:
    host = template.split("//", 1)[-1].split("/", 1)[0].lower()
    return any(host == h or host.endswith("." + h) for h in GCJ02_HOSTS)


@dataclass(frozen=True)
class Position:
    """A staff member's shared live position (from the live-location feature)."""

    name: str
    lat: float
    lon: float
    at: dt.datetime


@dataclass(frozen=True)
class Hotspot:
    """Where people were found often (from the hotspots feature)."""

    label: str
    lat: float
    lon: float
    count: int


@dataclass(frozen=True)
class MapLayers:
    """What other features add to the map, each optional: arrival times the claimers gave
    (tip id → when), staff members' shared live positions, hotspots."""

    etas: dict[int, dt.datetime] = field(default_factory=dict)
    positions: Sequence[Position] = ()
    hotspots: Sequence[Hotspot] = ()


class Projection:
    def __init__(self, gcj02: bool) -> None:
        self.gcj02 = gcj02

    def __call__(self, lat: float, lon: float) -> list[float]:
        if self.gcj02:
            lat, lon = wgs84_to_gcj02(lat, lon)
        return [round(lat, 6), round(lon, 6)]


def marker_json(
    tip: Tip, mark: Marker, group: str, claimer: str | None, at: Projection, tz: dt.tzinfo
) -> dict:
    return {
        "id": tip.id,
        "code": tip.code,
        "at": at(tip.lat, tip.lon),
        "state": mark.state.value,
        "late": mark.late,
        "age": mark.age.value,
        "age_minutes": mark.age_minutes,
        "urgent": tip.urgent,
        "group": group,
        "claimer": claimer,
        "place": tip.place_label or tip.address or tip.district or "",
        "eta": mark.eta.astimezone(tz).strftime("%H:%M") if mark.eta else None,
    }


def map_json(
    markers: Iterable[dict],
    area: ServiceArea,
    lang: str,
    tiles: str,
    *,
    positions: Sequence[Position] = (),
    hotspots: Sequence[Hotspot] = (),
    tz: dt.tzinfo = dt.UTC,
) -> dict:
    at = Projection(tiles_in_gcj02(tiles))
    outline = [
        at(area.south, area.west),
        at(area.north, area.west),
        at(area.north, area.east),
        at(area.south, area.east),
    ]
    places = [
        {"name": p.name(lang), "kind": p.kind, "at": at(p.lat, p.lon)}
        for p in PLACES
        if area.contains(p.lat, p.lon)
    ]
    return {
        "tips": list(markers),
        "area": outline,
        "places": places,
        "tiles": tiles,
        "positions": [
            {"name": p.name, "at": at(p.lat, p.lon), "time": p.at.astimezone(tz).strftime("%H:%M")}
            for p in positions
        ],
        "hotspots": [
            {"label": h.label, "at": at(h.lat, h.lon), "count": h.count} for h in hotspots
        ],
    }
