"""bot.geo.area: the service-area rectangle and coordinate validation."""

from __future__ import annotations

import math

import pytest

from bot.geo.area import HUANGSHI, ServiceArea, valid_coordinates

NAN = math.nan
INF = math.inf
EPS = 1e-9


def test_huangshi_bounds() -> None:
    assert (HUANGSHI.south, HUANGSHI.west, HUANGSHI.north, HUANGSHI.east) == (
        29.50,
        114.50,
        30.35,
        115.60,
    )


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (29.50, 114.50),  # south-west corner
        (29.50, 115.60),  # south-east corner
        (30.35, 114.50),  # north-west corner
        (30.35, 115.60),  # north-east corner
        (29.50, 115.0),  # south edge
        (30.35, 115.0),  # north edge
        (30.0, 114.50),  # west edge
        (30.0, 115.60),  # east edge
        (30.20, 115.04),  # downtown
    ],
)
def test_contains_edges_inclusive(lat: float, lon: float) -> None:
    assert HUANGSHI.contains(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (29.50 - EPS, 115.0),  # just south
        (30.35 + EPS, 115.0),  # just north
        (30.0, 114.50 - EPS),  # just west
        (30.0, 115.60 + EPS),  # just east
        (30.5931, 114.3054),  # Wuhan
        (29.7050, 116.0019),  # Jiujiang
    ],
)
def test_contains_rejects_outside(lat: float, lon: float) -> None:
    assert not HUANGSHI.contains(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(NAN, 115.0), (30.0, NAN), (NAN, NAN), (INF, 115.0), (30.0, -INF), (INF, INF)],
)
def test_contains_rejects_non_finite(lat: float, lon: float) -> None:
    assert not HUANGSHI.contains(lat, lon)


def test_contains_rejects_non_numbers() -> None:
    assert not HUANGSHI.contains("30.2", "115.04")  # type: ignore[arg-type]
    assert not HUANGSHI.contains(None, None)  # type: ignore[arg-type]
    assert not HUANGSHI.contains(True, True)


def test_center_and_viewbox() -> None:
    lat, lon = HUANGSHI.center()
    assert lat == pytest.approx(29.925)
    assert lon == pytest.approx(115.05)
    assert HUANGSHI.contains(lat, lon)
    assert HUANGSHI.viewbox() == ((29.50, 114.50), (30.35, 115.60))


def test_world_area_poles_and_antimeridian() -> None:
    world = ServiceArea(south=-90.0, west=-180.0, north=90.0, east=180.0)
    assert world.contains(90.0, 0.0)
    assert world.contains(-90.0, 0.0)
    assert world.contains(0.0, 180.0)
    assert world.contains(0.0, -180.0)
    assert not world.contains(90.0 + EPS, 0.0)
    assert not world.contains(0.0, 180.0 + EPS)


def test_area_near_antimeridian() -> None:
    fiji = ServiceArea(south=-19.0, west=177.0, north=-16.0, east=180.0)
    assert fiji.contains(-17.5, 180.0)
    assert not fiji.contains(-17.5, -180.0 + 0.5)  # the other side is not included


@pytest.mark.parametrize(
    ("south", "west", "north", "east"),
    [
        (30.35, 114.5, 29.5, 115.6),  # south > north
        (29.5, 115.6, 30.35, 114.5),  # west > east (antimeridian crossing unsupported)
        (30.0, 114.5, 30.0, 115.6),  # empty
        (NAN, 114.5, 30.35, 115.6),
        (-91.0, 114.5, 30.35, 115.6),
        (29.5, 114.5, 30.35, 181.0),
    ],
)
def test_invalid_areas_rejected(south: float, west: float, north: float, east: float) -> None:
    with pytest.raises(ValueError):
        ServiceArea(south=south, west=west, north=north, east=east)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (0.0, 0.0),
        (90.0, 0.0),  # north pole
        (-90.0, 0.0),  # south pole
        (90.0, 180.0),
        (0.0, 180.0),  # antimeridian, both spellings
        (0.0, -180.0),
        (30, 115),  # ints are fine
        (30.20, 115.04),
    ],
)
def test_valid_coordinates(lat: float, lon: float) -> None:
    assert valid_coordinates(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.0 + EPS, 0.0),
        (-90.0 - EPS, 0.0),
        (0.0, 180.0 + EPS),
        (0.0, -180.0 - EPS),
        (NAN, 0.0),
        (0.0, NAN),
        (INF, 0.0),
        (0.0, -INF),
        ("30", "115"),
        (None, 0.0),
        (True, False),
    ],
)
def test_invalid_coordinates(lat: object, lon: object) -> None:
    assert not valid_coordinates(lat, lon)  # type: ignore[arg-type]
