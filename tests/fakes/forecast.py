"""A fake Open-Meteo forecast endpoint on 127.0.0.1 for the weather rule's tests.

``GET /v1/forecast?...`` answers with :attr:`FakeForecast.data` (set it between checks), shaped
like Open-Meteo's JSON with ``timezone=Asia/Shanghai``: ``hourly.time`` in local time without
an offset, ``hourly.temperature_2m`` and ``daily.temperature_2m_min``. Every request's query
parameters are recorded. After :meth:`stop` nothing listens on the port (connection refused).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

__all__ = ["FakeForecast", "hourly_forecast", "tonight_at"]


def hourly_forecast(day: dt.date, temperature: Callable[[dt.datetime], float]) -> dict[str, Any]:
    """Two days of hourly temperatures from ``day`` 00:00 (local, naive), Open-Meteo style."""
    stamps = [dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=h) for h in range(48)]
    temps = [round(temperature(stamp), 1) for stamp in stamps]
    return {
        "latitude": 30.2,
        "longitude": 115.05,
        "timezone": "Asia/Shanghai",
        "hourly_units": {"time": "iso8601", "temperature_2m": "°C"},
        "hourly": {
            "time": [stamp.strftime("%Y-%m-%dT%H:%M") for stamp in stamps],
            "temperature_2m": temps,
        },
        "daily": {
            "time": [day.isoformat(), (day + dt.timedelta(days=1)).isoformat()],
            "temperature_2m_min": [min(temps[:24]), min(temps[24:])],
        },
    }


def tonight_at(day: dt.date, minimum: float, *, daytime: float = -12.0) -> dict[str, Any]:
    """Tonight (``day`` 18:00 → next day 08:00) bottoms out at ``minimum`` at 03:00; the
    hours outside tonight are ``daytime`` (colder than tonight by default, so a reader that
    took the wrong hours would get the wrong answer)."""
    night_start = dt.datetime.combine(day, dt.time(18))
    night_end = night_start + dt.timedelta(hours=14)
    coldest = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3))

    def temperature(stamp: dt.datetime) -> float:
        if stamp == coldest:
            return minimum
        if night_start <= stamp <= night_end:
            return minimum + 3.0
        return daytime

    return hourly_forecast(day, temperature)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeForecast

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no ~40 ms delayed-ACK stalls on loopback
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with fake._lock:
            fake._requests.append(params)
            data = fake.data
        if split.path != "/v1/forecast":
            status, body = 404, b'{"error": true, "reason": "not found"}'
        else:
            status, body = 200, json.dumps(data, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeForecast:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = data or {}
        self._requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def start(self) -> FakeForecast:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-forecast",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def __enter__(self) -> FakeForecast:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint (still valid after :meth:`stop`: then the connection is refused)."""
        assert self._port is not None, "not started"
        return f"http://127.0.0.1:{self._port}/v1/forecast"

    @property
    def requests(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._requests)
