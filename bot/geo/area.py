"""The service area: a latitude/longitude rectangle in WGS-84 (pure, no I/O).

A rectangle is enough for its two jobs: telling a reporter that a point is outside the
station's patch, and bounding geocoder searches (Nominatim's ``viewbox``). Rectangles that
cross the antimeridian are not supported (and not needed in Hubei).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["HUANGSHI", "ServiceArea", "valid_coordinates"]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def valid_coordinates(lat: float, lon: float) -> bool:
    """True for finite numbers with -90 ≤ lat ≤ 90 and -180 ≤ lon ≤ 180 (both edges valid)."""
    if not (_is_number(lat) and _is_number(lon)):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


@dataclass(frozen=True)
class ServiceArea:
    """An axis-aligned WGS-84 rectangle; all four edges belong to the area."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if not (
            valid_coordinates(self.south, self.west) and valid_coordinates(self.north, self.east)
        ):
            raise ValueError(f"invalid service area corners: {self!r}")
        if self.south >= self.north or self.west >= self.east:
            raise ValueError(f"service area must have south < north and west < east: {self!r}")

    def contains(self, lat: float, lon: float) -> bool:
        """True when the point is inside or on an edge; False for NaN, infinities, non-numbers."""
        if not valid_coordinates(lat, lon):
            return False
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def center(self) -> tuple[float, float]:
        """The rectangle's midpoint as ``(lat, lon)``."""
        return (self.south + self.north) / 2.0, (self.west + self.east) / 2.0

    def viewbox(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((south, west), (north, east))`` — the form geopy's ``viewbox=`` accepts."""
        return (self.south, self.west), (self.north, self.east)


#: Huangshi prefecture-level city (four districts, Daye city, Yangxin county), with a small
#: margin. Default service area.
HUANGSHI = ServiceArea(south=29.50, west=114.50, north=30.35, east=115.60)
