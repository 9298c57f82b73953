"""bot.geo.geocoder against a loopback FakeNominatim (no internet needed)."""

from __future__ import annotations

import os

# Loopback requests must never go through a proxy configured in the environment.
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio
from collections.abc import Iterator

import pytest

from bot.geo.area import HUANGSHI, ServiceArea
from bot.geo.geocoder import GeocodeLookup, Geocoder, GeocodeResult

try:  # `python -m pytest` from the repo root, or tests/ as a package
    from tests.fakes.nominatim import FakeNominatim, fake_place
except ModuleNotFoundError:  # plain `pytest`: rootdir-relative import puts tests/ on sys.path
    from fakes.nominatim import FakeNominatim, fake_place  # type: ignore[no-redef]

STATION = fake_place(
    30.1565,
    114.9355,
    "黄石站, 罗桥街道, 大冶市, 黄石市, 湖北省, 435100, 中国",
    place_id=11,
    cls="railway",
    type_="station",
)
BRIDGE = fake_place(
    30.2512,
    115.0721,
    "黄石长江大桥, 黄石港区, 黄石市, 湖北省, 中国",
    place_id=12,
    cls="man_made",
    type_="bridge",
)
WUHAN = fake_place(30.5931, 114.3054, "武汉站, 洪山区, 武汉市, 湖北省, 中国", place_id=13)
CANNED = {
    "黄石站": [STATION],
    "大桥": [BRIDGE, WUHAN],  # one inside, one outside the service area
    "武汉": [WUHAN],
    "huangshi railway station": [
        fake_place(
            30.1565, 114.9355, "Huangshi Railway Station, Luoqiao, Daye, Huangshi", place_id=21
        )
    ],
}


class FakeTime:
    """An injectable monotonic clock whose sleep advances time instantly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake() -> Iterator[FakeNominatim]:
    with FakeNominatim(CANNED) as server:
        yield server


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make(fake: FakeNominatim, fake_time: FakeTime | None = None, **overrides: object) -> Geocoder:
    kwargs: dict[str, object] = {
        "provider": "nominatim",
        "area": HUANGSHI,
        "domain": fake.domain,
        "scheme": "http",
        "user_agent": "warmline-tests/1.0 (relief station)",
        "timeout": 2.0,
        "min_interval": 1.0,
    }
    if fake_time is not None:
        kwargs["clock"] = fake_time.clock
        kwargs["sleep"] = fake_time.sleep
    kwargs.update(overrides)
    return Geocoder(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- happy path


async def test_results_parsed(fake: FakeNominatim, fake_time: FakeTime) -> None:
    lookup = await make(fake, fake_time).geocode("黄石站")
    assert lookup == GeocodeLookup(
        results=[
            GeocodeResult(
                lat=30.1565, lon=114.9355, label="黄石站, 罗桥街道, 大冶市", source="nominatim"
            )
        ],
        fell_back=False,
    )


async def test_request_parameters_and_user_agent(fake: FakeNominatim, fake_time: FakeTime) -> None:
    await make(fake, fake_time).geocode("  黄石站  ")
    (request,) = fake.searches()
    assert request.header("User-Agent") == "warmline-tests/1.0 (relief station)"
    assert request.params["q"] == "黄石站"  # stripped
    assert request.params["format"] == "json"
    assert request.params["viewbox"] == "114.5,29.5,115.6,30.35"  # lon1,lat1,lon2,lat2
    assert request.params["bounded"] == "1"
    assert request.params["countrycodes"] == "cn"
    assert request.params["limit"] == "5"
    assert request.params["accept-language"] == "zh-CN,zh"


async def test_english_language(fake: FakeNominatim, fake_time: FakeTime) -> None:
    lookup = await make(fake, fake_time).geocode("huangshi railway station", language="en")
    assert fake.searches()[0].params["accept-language"] == "en"
    assert lookup.results[0].label == "Huangshi Railway Station, Luoqiao, Daye"


async def test_results_outside_area_dropped(fake: FakeNominatim, fake_time: FakeTime) -> None:
    lookup = await make(fake, fake_time).geocode("大桥")
    assert [r.label for r in lookup.results] == ["黄石长江大桥, 黄石港区, 黄石市"]
    assert lookup.fell_back is False


async def test_only_outside_results_consults_gazetteer(
    fake: FakeNominatim, fake_time: FakeTime
) -> None:
    lookup = await make(fake, fake_time).geocode("武汉")
    assert lookup.results == []
    assert lookup.fell_back is False
    assert len(fake.searches()) == 1


async def test_nominatim_empty_then_gazetteer_helps(
    fake: FakeNominatim, fake_time: FakeTime
) -> None:
    # Nominatim has nothing for chat phrasing; the gazetteer does, without "fell back".
    lookup = await make(fake, fake_time).geocode("磁湖边上有人")
    assert len(fake.searches()) == 1
    assert lookup.fell_back is False
    assert lookup.results[0] == GeocodeResult(
        lat=30.2030, lon=115.0480, label="磁湖", source="offline"
    )


async def test_custom_area_filters(fake: FakeNominatim, fake_time: FakeTime) -> None:
    downtown = ServiceArea(south=30.18, west=115.00, north=30.30, east=115.15)
    geocoder = make(fake, fake_time, area=downtown)
    # The station (30.1565, 114.9355) is outside this smaller area: dropped from the
    # Nominatim answer and from the gazetteer answer alike.
    lookup = await geocoder.geocode("黄石站")
    assert lookup.fell_back is False
    assert all(r.source == "offline" and downtown.contains(r.lat, r.lon) for r in lookup.results)
    assert "黄石站" not in [r.label for r in lookup.results]
    assert fake.searches()[0].params["viewbox"] == "115.0,30.18,115.15,30.3"
    fake.status = 500
    lookup = await geocoder.geocode("大桥")  # gazetteer: both bridges are downtown
    assert lookup.fell_back is True
    assert lookup.results and all(downtown.contains(r.lat, r.lon) for r in lookup.results)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "黄" * 201])
async def test_invalid_queries_do_nothing(
    fake: FakeNominatim, fake_time: FakeTime, query: str
) -> None:
    lookup = await make(fake, fake_time).geocode(query)
    assert lookup == GeocodeLookup(results=[], fell_back=False)
    assert fake.requests == []


async def test_query_of_200_chars_is_allowed(fake: FakeNominatim, fake_time: FakeTime) -> None:
    await make(fake, fake_time).geocode("黄石站" + "x" * 197)
    assert len(fake.searches()) == 1


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        Geocoder(provider="google", area=HUANGSHI)
    with pytest.raises(ValueError):
        Geocoder(provider="offline", area=HUANGSHI, timeout=0)
    with pytest.raises(ValueError):
        Geocoder(provider="offline", area=HUANGSHI, min_interval=-1)


# --------------------------------------------------------------------------- cache


async def test_cache_hit_means_no_second_request(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time)
    first = await geocoder.geocode("黄石站")
    second = await geocoder.geocode("  黄石站 ")
    assert first == second
    assert len(fake.searches()) == 1
    # The language is part of the key.
    await geocoder.geocode("黄石站", language="en")
    assert len(fake.searches()) == 2
    assert fake_time.sleeps == [pytest.approx(1.0)]


async def test_cache_ttl_expires(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time, cache_ttl=60.0)
    await geocoder.geocode("黄石站")
    fake_time.now += 59.0
    await geocoder.geocode("黄石站")
    assert len(fake.searches()) == 1
    fake_time.now += 2.0
    await geocoder.geocode("黄石站")
    assert len(fake.searches()) == 2


async def test_cache_is_lru_bounded(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time, cache_size=2)
    for query in ("黄石站", "大桥", "武汉"):
        await geocoder.geocode(query)
    assert len(fake.searches()) == 3
    await geocoder.geocode("武汉")  # still cached
    await geocoder.geocode("大桥")  # still cached
    assert len(fake.searches()) == 3
    await geocoder.geocode("黄石站")  # evicted first
    assert len(fake.searches()) == 4


async def test_failures_are_not_cached(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time)
    fake.status = 503
    assert (await geocoder.geocode("黄石站")).fell_back is True
    fake.status = None
    fake_time.now += 61.0  # past the failure cooldown
    lookup = await geocoder.geocode("黄石站")
    assert lookup.fell_back is False
    assert lookup.results[0].source == "nominatim"
    assert len(fake.searches()) == 2


# --------------------------------------------------------------------------- rate limit


async def test_concurrent_lookups_are_spaced(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time)
    starts: list[float] = []
    original = geocoder._fetch

    async def spy(query: str, language: str) -> object:
        result = await original(query, language)
        starts.append(geocoder._last_request or 0.0)
        return result

    geocoder._fetch = spy  # type: ignore[method-assign]
    a, b = await asyncio.gather(geocoder.geocode("黄石站"), geocoder.geocode("大桥"))
    assert a.results and b.results
    assert len(fake.searches()) == 2
    assert fake_time.sleeps == [pytest.approx(1.0)]
    assert starts[1] - starts[0] >= 1.0
    # After a quiet spell no waiting is needed.
    fake_time.now += 5.0
    await geocoder.geocode("武汉")
    assert fake_time.sleeps == [pytest.approx(1.0)]


async def test_concurrent_same_query_fetched_once(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time)
    results = await asyncio.gather(*(geocoder.geocode("黄石站") for _ in range(3)))
    assert len(fake.searches()) == 1
    assert all(r == results[0] for r in results)
    assert fake_time.sleeps == []


# --------------------------------------------------------------------------- fallback


@pytest.mark.parametrize("status", [500, 503, 429, 403])
async def test_server_error_falls_back(
    fake: FakeNominatim, fake_time: FakeTime, status: int
) -> None:
    fake.status = status
    lookup = await make(fake, fake_time).geocode("黄石站门口")
    assert lookup.fell_back is True
    assert lookup.results[0] == GeocodeResult(
        lat=30.1565, lon=114.9355, label="黄石站", source="offline"
    )
    assert len(fake.searches()) == 1


async def test_bad_json_falls_back(fake: FakeNominatim, fake_time: FakeTime) -> None:
    fake.body = b"<html>not json"
    lookup = await make(fake, fake_time).geocode("磁湖")
    assert lookup.fell_back is True
    assert lookup.results[0].label == "磁湖"


async def test_garbage_coordinates_fall_back(fake: FakeNominatim, fake_time: FakeTime) -> None:
    fake.body = b'[{"lat": "north", "lon": "east", "display_name": "x"}]'
    lookup = await make(fake, fake_time).geocode("磁湖")
    assert lookup.fell_back is True


async def test_connection_refused_falls_back(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time)
    fake.stop()
    lookup = await geocoder.geocode("huangshi railway station", language="en")
    assert lookup.fell_back is True
    assert lookup.results[0] == GeocodeResult(
        lat=30.1565, lon=114.9355, label="Huangshi Railway Station", source="offline"
    )


async def test_timeout_falls_back(fake: FakeNominatim, fake_time: FakeTime) -> None:
    # The server answers only after 120 s: a client without its timeout would get Nominatim's
    # answer (fell_back False) after that long; with it, the offline gazetteer answers.
    fake.delay = 120.0
    geocoder = make(fake, fake_time, timeout=0.2)
    lookup = await geocoder.geocode("大冶")
    assert lookup.fell_back is True
    assert lookup.results[0].label == "大冶市"
    assert len(fake.searches()) == 1


async def test_failure_cooldown(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time, failure_cooldown=30.0)
    fake.status = 500
    assert (await geocoder.geocode("黄石站")).fell_back is True
    fake.status = None
    # While cooling down the server is not asked at all, even for new queries.
    fake_time.now += 29.0
    lookup = await geocoder.geocode("大桥")
    assert lookup.fell_back is True
    assert lookup.results[0].source == "offline"
    assert len(fake.searches()) == 1
    fake_time.now += 2.0
    lookup = await geocoder.geocode("大桥")
    assert lookup.fell_back is False
    assert lookup.results[0].source == "nominatim"
    assert len(fake.searches()) == 2


async def test_waiters_do_not_queue_behind_a_dead_server(fake: FakeNominatim) -> None:
    fake.delay = 120.0  # a dead server: it answers nobody within the test
    geocoder = make(fake, timeout=0.2, min_interval=0.0)
    lookups = await asyncio.gather(
        *(geocoder.geocode(q) for q in ("黄石站", "大桥", "磁湖", "大冶"))
    )
    assert all(lookup.fell_back for lookup in lookups)
    assert len(fake.searches()) == 1  # one timeout, not four: the others did not ask


async def test_cooldown_zero_retries_immediately(fake: FakeNominatim, fake_time: FakeTime) -> None:
    geocoder = make(fake, fake_time, failure_cooldown=0.0)
    fake.status = 500
    assert (await geocoder.geocode("黄石站")).fell_back is True
    assert (await geocoder.geocode("黄石站")).fell_back is True
    assert len(fake.searches()) == 2
    with pytest.raises(ValueError):
        Geocoder(provider="offline", area=HUANGSHI, failure_cooldown=-1.0)


async def test_fallback_with_nothing_known(fake: FakeNominatim, fake_time: FakeTime) -> None:
    fake.status = 500
    lookup = await make(fake, fake_time).geocode("nowhere-xyz")
    assert lookup == GeocodeLookup(results=[], fell_back=True)


# --------------------------------------------------------------------------- offline


async def test_offline_provider_never_hits_the_server(fake: FakeNominatim) -> None:
    geocoder = Geocoder(provider="offline", area=HUANGSHI, domain=fake.domain, scheme="http")
    lookup = await geocoder.geocode("黄石站门口")
    assert lookup.fell_back is False
    assert lookup.results[0] == GeocodeResult(
        lat=30.1565, lon=114.9355, label="黄石站", source="offline"
    )
    en = await geocoder.geocode("磁湖", language="en")
    assert en.results[0].label == "Cihu Lake"
    assert await geocoder.geocode("nowhere-xyz") == GeocodeLookup(results=[], fell_back=False)
    assert fake.requests == []


async def test_offline_results_limited_to_five() -> None:
    geocoder = Geocoder(provider="offline", area=HUANGSHI)
    lookup = await geocoder.geocode("黄石")
    assert len(lookup.results) == 5


def test_district() -> None:
    geocoder = Geocoder(provider="offline", area=HUANGSHI)
    assert geocoder.district(30.2264, 115.0636) == "黄石港区"
    assert geocoder.district(30.0961, 114.9804, language="en") == "Daye City"
