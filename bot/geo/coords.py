"""Coordinate systems, distances and map links (pure, no I/O).

Telegram delivers locations in WGS-84, the datum of GPS and OpenStreetMap. Chinese map
providers use obfuscated systems:

* **GCJ-02** ("Mars coordinates") — Amap/Gaode and Tencent. In Huangshi the offset from
  WGS-84 is roughly 580 m.
* **BD-09** — Baidu, a further transform applied on top of GCJ-02 (~1.2 km from WGS-84 in
  Huangshi).

The WGS-84 → GCJ-02 transform below is the widely published reverse-engineered formula
(Krasovsky 1940 ellipsoid, a = 6378245 m, e² = 0.00669342162296594323), as used by
e.g. googollee/eviltransform and wandergis/coordTransform; GCJ-02 → BD-09 is the formula
Baidu's own SDK documents (x_pi = π·3000/180). They are accurate to a few metres, which is
far better than anyone needs to find a person on a street.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "EARTH_RADIUS_M",
    "MapLink",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "haversine_m",
    "map_links",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Mean earth radius (IUGG), metres.
EARTH_RADIUS_M = 6371008.8

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# Baidu's constant.
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lat: float, lon: float) -> bool:
    """Return True when the point lies outside the coarse China rectangle.

    This is the conventional rectangle used by every public GCJ-02 implementation
    (longitude 72.004–137.8347, latitude 0.8293–55.8271). It is deliberately coarse:
    the exact border does not matter for a service area in Hubei, and matching the
    common implementations keeps our numbers identical to theirs.
    """
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lat: float, lon: float) -> tuple[float, float]:
    """Offset (dlat, dlon) in degrees that GCJ-02 adds to a WGS-84 point."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 as ``(lat, lon)``; the input is returned unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _gcj_delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 (iterative inverse, converges to well under a centimetre)."""
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(10):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        err_lat, err_lon = glat - lat, glon - lon
        wlat -= err_lat
        wlon -= err_lon
        if abs(err_lat) < 1e-10 and abs(err_lon) < 1e-10:
            break
    return wlat, wlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 as ``(lat, lon)`` (Baidu's published formula)."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """BD-09 → GCJ-02 as ``(lat, lon)`` (approximate inverse, metre-level)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 → BD-09 as ``(lat, lon)`` (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on a sphere of radius :data:`EARTH_RADIUS_M`."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2.0) ** 2
    a = min(1.0, max(0.0, a))  # guard against rounding just outside [0, 1]
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class MapLink:
    """A link that opens a point in one map provider.

    ``key`` is one of ``"amap"``, ``"tencent"``, ``"baidu"``, ``"osm"``; the caller maps it
    to a localised button caption.
    """

    key: str
    url: str


def _fmt(value: float) -> str:
    """Six decimals (~0.1 m), no exponent notation."""
    return f"{value:.6f}"


def map_links(lat: float, lon: float, label: str) -> list[MapLink]:
    """Links to Amap, Tencent, Baidu and OpenStreetMap for a WGS-84 point.

    Each provider gets coordinates in its own datum: GCJ-02 for Amap and Tencent,
    BD-09 for Baidu, WGS-84 for OSM. ``label`` is URL-encoded (every reserved character,
    including ``/``, ``;`` and ``&``, is escaped).
    """
    glat, glon = wgs84_to_gcj02(lat, lon)
    blat, blon = gcj02_to_bd09(glat, glon)
    q = quote(label, safe="")
    g_lat, g_lon = _fmt(glat), _fmt(glon)
    b_lat, b_lon = _fmt(blat), _fmt(blon)
    w_lat, w_lon = _fmt(lat), _fmt(lon)
    return [
        MapLink(
            "amap",
            f"https://uri.amap.com/marker?position={g_lon},{g_lat}&name={q}"
            "&coordinate=gaode&callnative=1",
        ),
        MapLink(
            "tencent",
            f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{g_lat},{g_lon};title:{q}"
            "&referer=warmline",
        ),
        MapLink(
            "baidu",
            f"https://api.map.baidu.com/marker?location={b_lat},{b_lon}&title={q}&content={q}"
            "&output=html&coord_type=bd09ll&src=warmline",
        ),
        MapLink(
            "osm",
            f"https://www.openstreetmap.org/?mlat={w_lat}&mlon={w_lon}#map=17/{w_lat}/{w_lon}",
        ),
    ]
