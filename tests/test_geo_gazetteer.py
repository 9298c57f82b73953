"""bot.geo.gazetteer: the offline place table, search and nearest district."""

from __future__ import annotations

import pytest

from bot.geo import gazetteer
from bot.geo.area import HUANGSHI
from bot.geo.gazetteer import PLACES, Place, get, nearest_district, search

DISTRICT_NAMES = {"黄石港区", "西塞山区", "下陆区", "铁山区", "大冶市", "阳新县"}


def keys(places: list[Place]) -> list[str]:
    return [p.key for p in places]


# --------------------------------------------------------------------------- the table


def test_every_place_is_inside_huangshi() -> None:
    outside = [p.key for p in PLACES if not HUANGSHI.contains(p.lat, p.lon)]
    assert outside == []


def test_keys_unique_and_kinds_valid() -> None:
    assert len({p.key for p in PLACES}) == len(PLACES)
    assert {p.kind for p in PLACES} == {"district", "landmark"}


def test_all_county_level_units_present() -> None:
    districts = {p.name_zh for p in PLACES if p.kind == "district"}
    assert districts >= DISTRICT_NAMES


def test_enough_landmarks() -> None:
    assert sum(p.kind == "landmark" for p in PLACES) >= 25


def test_names_and_aliases_are_clean() -> None:
    for p in PLACES:
        assert p.name_zh and p.name_en, p.key
        for alias in p.aliases:
            assert alias == alias.strip(), (p.key, alias)
            if alias.isascii():
                assert alias == alias.lower(), (p.key, alias)


def test_name_by_language() -> None:
    station = get("huangshi_station")
    assert station.name("zh") == "黄石站"
    assert station.name("zh-CN") == "黄石站"
    assert station.name("en") == "Huangshi Railway Station"
    assert station.name("fr") == "Huangshi Railway Station"


def test_get_unknown_key() -> None:
    with pytest.raises(KeyError):
        get("atlantis")


def test_place_validation() -> None:
    with pytest.raises(ValueError):
        Place("x", "x", "x", 30.0, 115.0, "city")
    with pytest.raises(ValueError):
        Place("x", "x", "x", 91.0, 115.0, "landmark")


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("黄石站门口", "huangshi_station"),
        ("磁湖边上有人", "cihu"),
        ("huangshi railway station", "huangshi_station"),
        ("Huangshi  Railway-Station!!", "huangshi_station"),
        ("在huangshi railway station门口", "huangshi_station"),
        ("大冶", "daye"),
        ("大冶北站出站口", "daye_north_station"),
        ("黄石北站", "huangshi_north_station"),
        ("鄂东长江大桥下面", "edong_bridge"),
        ("长江大桥桥洞", "huangshi_bridge"),
        ("黄石港江滩", "riverfront"),
        ("黄石港区", "huangshigang"),
        ("中心医院急诊门口", "central_hospital"),
        ("救助站", "relief_station"),
        ("团城山", "tuanchengshan_park"),
        ("Cihu", "cihu"),
        ("ＣＩＨＵ", "cihu"),  # full-width
        ("阳新", "yangxin"),
    ],
)
def test_search_best_match(query: str, expected: str) -> None:
    results = search(query)
    assert results, query
    assert results[0].key == expected


@pytest.mark.parametrize("query", ["nowhere-xyz", "", "   ", "!!!", "站", "x", "today every day"])
def test_search_nothing(query: str) -> None:
    assert search(query) == []


def test_search_landmark_before_district_on_equal_match() -> None:
    # "黄石港江滩" contains both the landmark name (5) and the district alias 黄石港 (3).
    assert keys(search("黄石港江滩")) == ["riverfront", "huangshigang"]


def test_search_longest_match_first() -> None:
    assert keys(search("大冶北站"))[:2] == ["daye_north_station", "daye"]


def test_search_query_contained_in_names() -> None:
    results = search("黄石")
    assert len(results) == 5
    assert all("黄石" in p.name_zh or any("黄石" in a for a in p.aliases) for p in results)


def test_search_limit() -> None:
    assert len(search("黄石", limit=2)) == 2
    assert search("黄石", limit=0) == []
    assert len(search("黄石", limit=100)) > 5


def test_search_latin_words_match_whole_words() -> None:
    # "daye" hides inside "today every"; it must not match across word boundaries.
    assert search("saw him today everything fine") == []
    assert keys(search("near daye bus station"))[0] == "daye_bus_station"


def test_normalize() -> None:
    n = gazetteer.normalize("在 Huangshi-Railway  Station门口！")
    assert n.compact == "在huangshirailwaystation门口"
    assert n.words == "在 huangshi railway station 门口"
    assert not n.latin
    assert gazetteer.normalize("Cihu Lake").latin


# --------------------------------------------------------------------------- districts


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (30.2264, 115.0636, "黄石港区"),
        (30.2090, 115.0921, "西塞山区"),
        (30.1736, 114.9611, "下陆区"),
        (30.2152, 114.9083, "铁山区"),  # the mine park
        (30.0961, 114.9804, "大冶市"),
        (29.8303, 115.2152, "阳新县"),
        (29.60, 115.45, "阳新县"),  # rural south-east
        (30.2512, 115.0721, "黄石港区"),  # the bridge
    ],
)
def test_nearest_district(lat: float, lon: float, expected: str) -> None:
    place = nearest_district(lat, lon)
    assert place.kind == "district"
    assert place.name_zh == expected


def test_nearest_district_rejects_invalid() -> None:
    with pytest.raises(ValueError):
        nearest_district(float("nan"), 115.0)
