"""bot.geo.coords: datum transforms against published vectors, distances, map links."""

from __future__ import annotations

import math
from urllib.parse import quote

import pytest

from bot.geo.coords import (
    EARTH_RADIUS_M,
    MapLink,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    map_links,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# --------------------------------------------------------------------------- vectors
#
# Reference vectors of the public implementations of these formulas. The (lng, lat) =
# (116.404, 39.915) round numbers near Tiananmen are the test vectors of
# wandergis/coordTransform, reproduced by e.g. the coordtransform_rs test suite
# (tests: wgs84_to_gcj02, gcj02_to_bd09, bd09_to_gcj02) and hutool's CoordinateUtilTest:
#   wgs84_to_gcj02(116.404, 39.915) = (116.41024449916938, 39.91640428150164)
#   gcj02_to_bd09 (116.404, 39.915) = (116.41036949371029, 39.92133699351021)
#   bd09_to_gcj02 (116.404, 39.915) = (116.39762729119315, 39.90865673957631)
# Note the arguments there are (lng, lat); ours are (lat, lon).


def test_wgs84_to_gcj02_huangshi_vector() -> None:
    lat, lon = wgs84_to_gcj02(30.20, 115.04)
    assert lat == pytest.approx(30.197581, abs=1e-5)
    assert lon == pytest.approx(115.045392, abs=1e-5)


def test_wgs84_to_gcj02_published_vector() -> None:
    lat, lon = wgs84_to_gcj02(39.915, 116.404)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)


def test_gcj02_to_bd09_published_vector() -> None:
    lat, lon = gcj02_to_bd09(39.915, 116.404)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)


def test_bd09_to_gcj02_published_vector() -> None:
    # The standard Tiananmen vector: BD-09 (39.915, 116.404) <-> GCJ-02 (39.908657, 116.397627).
    lat, lon = bd09_to_gcj02(39.915, 116.404)
    assert lat == pytest.approx(39.90865673957631, abs=1e-9)
    assert lon == pytest.approx(116.39762729119315, abs=1e-9)


def test_gcj02_to_bd09_tiananmen() -> None:
    # GCJ-02 (39.90865, 116.39748) is a commonly quoted (rounded) Tiananmen point; Baidu's
    # formula z = sqrt(x²+y²) + 2e-5·sin(y·x_pi), θ = atan2(y, x) + 3e-6·cos(x·x_pi),
    # bd = (z·sinθ + 0.006, z·cosθ + 0.0065) gives exactly (39.914993, 116.403853).
    lat, lon = gcj02_to_bd09(39.90865, 116.39748)
    assert lat == pytest.approx(39.914993, abs=1e-6)
    assert lon == pytest.approx(116.403853, abs=1e-6)
    # ...which is within 2e-4 of the often-quoted rounded (39.91499, 116.40398).
    assert lat == pytest.approx(39.91499, abs=2e-4)
    assert lon == pytest.approx(116.40398, abs=2e-4)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(48.85, 2.35), (51.5, -0.12), (-33.87, 151.21), (40.71, -74.0), (0.0, 0.0)],
)
def test_outside_china_unchanged(lat: float, lon: float) -> None:
    assert out_of_china(lat, lon)
    assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert gcj02_to_wgs84(lat, lon) == (lat, lon)


@pytest.mark.parametrize(("lat", "lon"), [(30.20, 115.04), (39.9, 116.4), (22.3, 114.1)])
def test_inside_china_rectangle(lat: float, lon: float) -> None:
    assert not out_of_china(lat, lon)


# --------------------------------------------------------------------------- sanity


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(30.20, 115.04), (30.1565, 114.9355), (30.2512, 115.0721), (29.8303, 115.2152)],
)
def test_gcj_offset_in_huangshi_is_half_a_kilometre(lat: float, lon: float) -> None:
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert 500 <= haversine_m(lat, lon, glat, glon) <= 700
    blat, blon = wgs84_to_bd09(lat, lon)
    assert 1000 <= haversine_m(lat, lon, blat, blon) <= 1400


@pytest.mark.parametrize(("lat", "lon"), [(30.20, 115.04), (39.915, 116.404), (22.54, 114.06)])
def test_round_trips(lat: float, lon: float) -> None:
    wlat, wlon = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert haversine_m(lat, lon, wlat, wlon) < 0.01
    glat, glon = bd09_to_gcj02(*gcj02_to_bd09(lat, lon))
    assert haversine_m(lat, lon, glat, glon) < 5  # Baidu's inverse is metre-level


def test_wgs84_to_bd09_composes() -> None:
    assert wgs84_to_bd09(30.2, 115.04) == gcj02_to_bd09(*wgs84_to_gcj02(30.2, 115.04))


# --------------------------------------------------------------------------- haversine


def test_haversine_zero_and_symmetry() -> None:
    assert haversine_m(30.2, 115.04, 30.2, 115.04) == 0.0
    a = haversine_m(30.2, 115.04, 30.1565, 114.9355)
    b = haversine_m(30.1565, 114.9355, 30.2, 115.04)
    assert a == pytest.approx(b)


def test_haversine_one_degree_of_latitude() -> None:
    expected = EARTH_RADIUS_M * math.pi / 180.0  # 111 195.08 m
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(expected, rel=1e-12)
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111195.08, abs=0.01)


def test_haversine_antipodes_and_antimeridian() -> None:
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    # Across the antimeridian the short way round is used.
    assert haversine_m(0.0, 179.5, 0.0, -179.5) == pytest.approx(haversine_m(0.0, 0.0, 0.0, 1.0))


def test_haversine_known_distance_in_huangshi() -> None:
    # 黄石站 → 黄石长江大桥: 0.0947° of latitude and 0.1366° of longitude, ~16.83 km.
    d = haversine_m(30.1565, 114.9355, 30.2512, 115.0721)
    assert d == pytest.approx(16_829, abs=5)


# --------------------------------------------------------------------------- map links


def _by_key(links: list[MapLink]) -> dict[str, str]:
    return {link.key: link.url for link in links}


def test_map_links_keys_and_order() -> None:
    links = map_links(30.20, 115.04, "黄石站")
    assert [link.key for link in links] == ["amap", "tencent", "baidu", "osm"]
    assert all(isinstance(link, MapLink) for link in links)


def test_map_links_use_the_right_datum() -> None:
    label = "黄石站 北出口"
    urls = _by_key(map_links(30.20, 115.04, label))
    q = quote(label, safe="")
    assert "%E9%BB%84%E7%9F%B3%E7%AB%99%20%E5%8C%97%E5%87%BA%E5%8F%A3" == q

    glat, glon = wgs84_to_gcj02(30.20, 115.04)
    blat, blon = wgs84_to_bd09(30.20, 115.04)
    assert urls["amap"] == (
        f"https://uri.amap.com/marker?position={glon:.6f},{glat:.6f}&name={q}"
        "&coordinate=gaode&callnative=1"
    )
    assert "position=115.045392,30.197581" in urls["amap"]
    assert urls["tencent"] == (
        f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{glat:.6f},{glon:.6f};title:{q}"
        "&referer=warmline"
    )
    assert "coord:30.197581,115.045392" in urls["tencent"]
    assert urls["baidu"] == (
        f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}&title={q}&content={q}"
        "&output=html&coord_type=bd09ll&src=warmline"
    )
    assert f"location={blat:.6f},{blon:.6f}" in urls["baidu"]
    assert urls["osm"] == (
        "https://www.openstreetmap.org/?mlat=30.200000&mlon=115.040000#map=17/30.200000/115.040000"
    )


def test_map_links_escape_reserved_characters() -> None:
    label = "A&B;C/D?E=F#G"
    for url in (link.url for link in map_links(30.2, 115.04, label)):
        assert label not in url
    urls = _by_key(map_links(30.2, 115.04, label))
    assert "name=A%26B%3BC%2FD%3FE%3DF%23G&" in urls["amap"]
    assert "title:A%26B%3BC%2FD%3FE%3DF%23G&" in urls["tencent"]


def test_map_links_round_to_six_decimals() -> None:
    urls = _by_key(map_links(30.123456789, 115.987654321, "x"))
    assert "mlat=30.123457&mlon=115.987654" in urls["osm"]
    for url in urls.values():
        assert "e-" not in url and "e+" not in url
