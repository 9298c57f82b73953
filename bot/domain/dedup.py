"""Possible duplicates: open tips near the same place within a recent window. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from bot.geo.coords import EARTH_RADIUS_M, haversine_m

# Distances come from the pure coordinate module (no I/O there either).
_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0


@dataclass(frozen=True)
class BBox:
    south: float
    west: float
    north: float
    east: float


def bounding_box(lat: float, lon: float, radius_m: float) -> BBox:
    """A box that surely contains every point within ``radius_m`` (a cheap SQL prefilter)."""
    dlat = radius_m / _M_PER_DEG_LAT
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, radius_m / (_M_PER_DEG_LAT * coslat))
    return BBox(lat - dlat, lon - dlon, lat + dlat, lon + dlon)


@dataclass(frozen=True)
class Candidate:
    tip_id: int
    lat: float
    lon: float


def nearby(
    lat: float,
    lon: float,
    candidates: Iterable[Candidate],
    radius_m: float,
    exclude: int | None = None,
) -> list[tuple[int, float]]:
    """(tip id, distance m) of candidates within the radius, nearest first."""
    found = []
    for cand in candidates:
        if cand.tip_id == exclude:
            continue
        dist = haversine_m(lat, lon, cand.lat, cand.lon)
        if dist <= radius_m:
            found.append((cand.tip_id, dist))
    found.sort(key=lambda pair: (pair[1], pair[0]))
    return found
