"""Tonight's minimum temperature from an Open-Meteo-compatible forecast endpoint."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import httpx

#: "Tonight": from this hour today until MORNING_HOUR tomorrow (station time).
EVENING_HOUR = 18
MORNING_HOUR = 8


class ForecastError(Exception):
    pass


def tonight_minimum(data: dict, today: dt.date) -> float:
    """Minimum of the hourly temperatures tonight; else of the daily minima of today/tomorrow."""
    hourly = data.get("hourly") or {}
    times, temps = hourly.get("time"), hourly.get("temperature_2m")
    if isinstance(times, list) and isinstance(temps, list) and len(times) == len(temps):
        start = dt.datetime.combine(today, dt.time(EVENING_HOUR))
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(MORNING_HOUR))
        tonight = [
            float(temp)
            for stamp, temp in zip(times, temps, strict=True)
            if temp is not None and start <= dt.datetime.fromisoformat(stamp) <= end
        ]
        if tonight:
            return min(tonight)
    daily = data.get("daily") or {}
    minima = [float(v) for v in (daily.get("temperature_2m_min") or [])[:2] if v is not None]
    if minima:
        return min(minima)
    raise ForecastError("the forecast has no temperatures for tonight")


class OpenMeteo:
    def __init__(
        self,
        url: str,
        latitude: float,
        longitude: float,
        timezone: str,
        timeout: float,
        clock=lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.url = url
        self.latitude = latitude
        self.longitude = longitude
        self.timezone = timezone
        self.timeout = timeout
        self.clock = clock

    async def __call__(self) -> float:
        params = {
            "latitude": f"{self.latitude:.4f}",
            "longitude": f"{self.longitude:.4f}",
            "hourly": "temperature_2m",
            "daily": "temperature_2m_min",
            "timezone": self.timezone,
            "forecast_days": "2",
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(self.url, params=params)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ForecastError(f"{type(exc).__name__}: {exc}") from exc
        today = self.clock().astimezone(zoneinfo.ZoneInfo(self.timezone)).date()
        return tonight_minimum(data, today)
