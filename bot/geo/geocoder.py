"""Forward geocoding: Nominatim (rate-limited, cached) with the offline gazetteer behind it.

* geopy's synchronous :class:`~geopy.geocoders.Nominatim` (its default urllib adapter, which
  honours the usual ``*_proxy`` / ``no_proxy`` environment variables) runs in a worker
  thread via :func:`asyncio.to_thread`, so the event loop never blocks on the network.
  geopy is imported and its client made at the first lookup that asks Nominatim (in that
  thread), not when the bot starts (issue 16: the cold start).
* At most one request per ``min_interval`` seconds (default 1 s, Nominatim's usage policy)
  across every caller of one :class:`Geocoder`: an :class:`asyncio.Lock` plus a monotonic
  clock. Requests are also never concurrent. Keep one instance per process.
* Answers are cached in memory (LRU with a TTL) per (normalised query, language).
* Provider ``"offline"`` never touches the network. With ``"nominatim"``, any failure
  (HTTP error, timeout, refused connection, unparsable reply) is logged and the gazetteer
  answers instead, with ``fell_back=True`` so the caller can say so. Network trouble never
  raises out of :meth:`Geocoder.geocode`.
* After a failure Nominatim is left alone for ``failure_cooldown`` seconds (default 60):
  lookups go straight to the gazetteer (still ``fell_back=True``) instead of queueing
  behind one timeout after another while the server is down.

Nothing here produces user-facing text beyond place names/addresses; callers render.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.geo import gazetteer
from bot.geo.area import ServiceArea

__all__ = [
    "MAX_QUERY_LENGTH",
    "PROVIDERS",
    "GeocodeLookup",
    "GeocodeResult",
    "Geocoder",
]

if TYPE_CHECKING:
    from geopy.geocoders import Nominatim

log = logging.getLogger(__name__)

#: Supported values of ``Geocoder(provider=...)``.
PROVIDERS = frozenset({"nominatim", "offline"})
#: Longer queries are rejected without a lookup (they are messages, not places).
MAX_QUERY_LENGTH = 200
#: Results requested from Nominatim and returned to the caller.
RESULT_LIMIT = 5
#: Comma-separated parts of Nominatim's ``display_name`` kept in a label.
LABEL_PARTS = 3


@dataclass(frozen=True)
class GeocodeResult:
    """One candidate point (WGS-84) with a display label."""

    lat: float
    lon: float
    label: str
    source: str  # "nominatim" | "offline"


@dataclass(frozen=True)
class GeocodeLookup:
    """The answer to one query.

    ``fell_back`` is True when Nominatim was configured but failed or was unreachable and
    the offline gazetteer answered instead. (When Nominatim answers but finds nothing in
    the service area, the gazetteer is still consulted; those results carry
    ``source="offline"`` but ``fell_back`` stays False.)
    """

    results: list[GeocodeResult]
    fell_back: bool


def _accept_language(language: str) -> str:
    """Map the bot's language code to Nominatim's ``accept-language``."""
    return "zh-CN,zh" if language.lower().startswith("zh") else "en"


def _ui_language(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def _shorten(address: str) -> str:
    """First :data:`LABEL_PARTS` comma-separated parts of a Nominatim ``display_name``."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    return ", ".join(parts[:LABEL_PARTS]) if parts else address.strip()


def _cache_key(query: str, language: str) -> tuple[str, str]:
    return " ".join(query.casefold().split()), _ui_language(language)


class _TTLCache:
    """A small LRU cache whose entries also expire ``ttl`` seconds after insertion."""

    def __init__(self, maxsize: int, ttl: float, clock: Callable[[], float]) -> None:
        self._maxsize = maxsize
        self._ttl = ttl
        self._clock = clock
        self._data: OrderedDict[tuple[str, str], tuple[float, list[GeocodeResult]]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> list[GeocodeResult] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self._clock() >= expires_at:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return list(value)

    def put(self, key: tuple[str, str], value: list[GeocodeResult]) -> None:
        if self._maxsize <= 0 or self._ttl <= 0:
            return
        self._data[key] = (self._clock() + self._ttl, list(value))
        self._data.move_to_end(key)
        while len(self._data) > self._maxsize:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class Geocoder:
    """Turns a free-text place into candidate points inside the service area."""

    def __init__(
        self,
        *,
        provider: str,
        area: ServiceArea,
        domain: str = "nominatim.openstreetmap.org",
        scheme: str = "https",
        user_agent: str = "warmline",
        timeout: float = 5.0,
        min_interval: float = 1.0,
        cache_size: int = 512,
        cache_ttl: float = 86400.0,
        failure_cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(
                f"unknown geocoder provider {provider!r}; use one of {sorted(PROVIDERS)}"
            )
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError("timeout must be a positive number of seconds")
        if not (math.isfinite(min_interval) and min_interval >= 0):
            raise ValueError("min_interval must be >= 0 seconds")
        if cache_size < 0 or cache_ttl < 0:
            raise ValueError("cache_size and cache_ttl must be >= 0")
        if not (math.isfinite(failure_cooldown) and failure_cooldown >= 0):
            raise ValueError("failure_cooldown must be >= 0 seconds")
        self.provider = provider
        self.area = area
        self.min_interval = min_interval
        self.failure_cooldown = failure_cooldown
        self._clock = clock
        self._sleep = sleep
        self._cache = _TTLCache(cache_size, cache_ttl, clock)
        self._lock = asyncio.Lock()
        self._last_request: float | None = None
        self._down_until: float | None = None
        # Nominatim's client, made at the first lookup that needs it (see _client).
        self._nominatim: Nominatim | None = None
        self._nominatim_options: dict[str, Any] | None = None
        if provider == "nominatim":
            self._nominatim_options = {
                "domain": domain,
                "scheme": scheme,
                "user_agent": user_agent,
                "timeout": timeout,
            }

    # ------------------------------------------------------------------ public API

    async def geocode(self, query: str, language: str = "zh") -> GeocodeLookup:
        """Candidates for ``query`` inside the service area, best first (at most 5).

        An empty query, or one longer than :data:`MAX_QUERY_LENGTH` characters, yields an
        empty lookup without any work. Never raises for network trouble.
        """
        query = query.strip()
        if not query or len(query) > MAX_QUERY_LENGTH:
            return GeocodeLookup(results=[], fell_back=False)
        if self._nominatim_options is None:
            return GeocodeLookup(results=self._offline(query, language), fell_back=False)

        key = _cache_key(query, language)
        cached = self._cache.get(key)
        if cached is None:
            if self._cooling_down():
                return self._fall_back(query, language)
            async with self._lock:
                # Another caller may have fetched the same query, or seen the server
                # fail, while we waited for the lock.
                cached = self._cache.get(key)
                if cached is None:
                    if self._cooling_down():
                        return self._fall_back(query, language)
                    fetched = await self._fetch(query, language)
                    if fetched is None:
                        return self._fall_back(query, language)
                    self._cache.put(key, fetched)
                    cached = fetched
        if cached:
            return GeocodeLookup(results=cached, fell_back=False)
        # Nominatim knew nothing here (or only places outside the area): the gazetteer
        # understands chat phrasing such as "黄石站门口" that Nominatim does not.
        return GeocodeLookup(results=self._offline(query, language), fell_back=False)

    def district(self, lat: float, lon: float, language: str = "zh") -> str:
        """Name of the nearest district/county (offline approximation, see gazetteer).

        Raises ``ValueError`` for invalid coordinates (NaN, out of range).
        """
        return gazetteer.nearest_district(lat, lon).name(language)

    # ------------------------------------------------------------------ internals

    def _cooling_down(self) -> bool:
        return self._down_until is not None and self._clock() < self._down_until

    def _fall_back(self, query: str, language: str) -> GeocodeLookup:
        return GeocodeLookup(results=self._offline(query, language), fell_back=True)

    def _offline(self, query: str, language: str) -> list[GeocodeResult]:
        places = gazetteer.search(query, limit=len(gazetteer.PLACES))
        results = [
            GeocodeResult(lat=p.lat, lon=p.lon, label=p.name(language), source="offline")
            for p in places
            if self.area.contains(p.lat, p.lon)
        ]
        return results[:RESULT_LIMIT]

    async def _wait_for_slot(self) -> None:
        """Sleep until ``min_interval`` has passed since the previous request started.

        Called with ``self._lock`` held, so requests are serialised and spaced. The slot
        is taken whether or not the request then succeeds.
        """
        if self._last_request is not None:
            wait = self._last_request + self.min_interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
        self._last_request = self._clock()

    async def _fetch(self, query: str, language: str) -> list[GeocodeResult] | None:
        """Ask Nominatim; the in-area results, or None when the request failed."""
        await self._wait_for_slot()
        try:
            locations = await asyncio.to_thread(
                self._lookup,
                query,
                exactly_one=False,
                limit=RESULT_LIMIT,
                language=_accept_language(language),
                country_codes="cn",
                viewbox=self.area.viewbox(),
                bounded=True,
            )
            return self._parse(locations)
        except Exception as exc:  # GeopyError, OSError, bad JSON/values: all mean "fall back"
            self._down_until = self._clock() + self.failure_cooldown
            log.warning(
                "Nominatim lookup failed (%s: %s); answering from the offline gazetteer",
                type(exc).__name__,
                exc,
            )
            return None

    def _lookup(self, query: str, **params: Any) -> object:
        """geopy's (blocking) geocode, in a worker thread; one at a time (``self._lock``)."""
        return self._client().geocode(query, **params)

    def _client(self) -> Nominatim:
        if self._nominatim is None:
            from geopy.geocoders import Nominatim  # local: only a lookup online needs geopy

            assert self._nominatim_options is not None
            self._nominatim = Nominatim(**self._nominatim_options)
        return self._nominatim

    def _parse(self, locations: object) -> list[GeocodeResult]:
        if not locations:
            return []
        if not isinstance(locations, list):
            locations = [locations]
        results: list[GeocodeResult] = []
        for location in locations:
            lat = float(location.latitude)
            lon = float(location.longitude)
            if not self.area.contains(lat, lon):
                continue
            address = str(location.address or "")
            results.append(
                GeocodeResult(lat=lat, lon=lon, label=_shorten(address), source="nominatim")
            )
        return results[:RESULT_LIMIT]
