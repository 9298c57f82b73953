"""A fake Nominatim server on 127.0.0.1 for geocoder tests.

It speaks just enough of the Nominatim search API for geopy: ``GET /search?q=...&format=json``
returns a JSON list of places. Canned answers are chosen by query substring. Every request
is recorded (path, query parameters, headers, monotonic time) so tests can check what the
client sent. ``status`` makes it fail, ``body`` replaces the reply (e.g. with broken JSON),
``delay`` holds each reply back (to provoke client timeouts). All three can be changed
while the server runs.

Usage::

    canned = {"黄石站": [fake_place(30.1565, 114.9355, "黄石站, 大冶市, 黄石市")]}
    with FakeNominatim(canned) as fake:
        Geocoder(provider="nominatim", domain=fake.domain, scheme="http", ...)
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Never route loopback traffic through a proxy from the environment.
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

__all__ = ["FakeNominatim", "RecordedRequest", "fake_place"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    params: dict[str, str]  # first value of each query parameter
    headers: dict[str, str]  # header names as sent
    time: float  # time.monotonic() when the request line was parsed

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


def fake_place(
    lat: float,
    lon: float,
    display_name: str,
    *,
    place_id: int = 1,
    cls: str = "place",
    type_: str = "locality",
) -> dict[str, Any]:
    """A result object shaped like Nominatim's ``format=json`` output."""
    return {
        "place_id": place_id,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
        "osm_type": "node",
        "osm_id": place_id,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "class": cls,
        "type": type_,
        "place_rank": 30,
        "importance": 0.3,
        "addresstype": type_,
        "name": display_name.split(",")[0].strip(),
        "display_name": display_name,
        "boundingbox": [
            f"{lat - 0.001:.7f}",
            f"{lat + 0.001:.7f}",
            f"{lon - 0.001:.7f}",
            f"{lon + 0.001:.7f}",
        ],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    fake: FakeNominatim

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up makes the delayed write fail; that is the
        # point of the test, not an error worth printing.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # no ~40 ms delayed-ACK stalls on loopback
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        params = {
            key: values[0] for key, values in parse_qs(split.query, keep_blank_values=True).items()
        }
        fake._record(
            RecordedRequest(
                method="GET",
                path=split.path,
                params=params,
                headers=dict(self.headers.items()),
                time=time.monotonic(),
            )
        )
        if fake.delay > 0:
            time.sleep(fake.delay)

        status = fake.status if fake.status is not None else 200
        if fake.body is not None:
            body = fake.body
        elif status != 200:
            body = json.dumps({"error": {"code": status, "message": "fake failure"}}).encode()
        elif split.path.rstrip("/") in ("/search", "/search.php"):
            body = json.dumps(fake.answer(params), ensure_ascii=False).encode("utf-8")
        else:
            status = 404
            body = b"[]"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # client already gone (e.g. it timed out)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeNominatim:
    """A threaded loopback HTTP server imitating Nominatim's ``/search``."""

    def __init__(
        self,
        results: dict[str, list[dict[str, Any]]] | None = None,
        *,
        status: int | None = None,
        delay: float = 0.0,
        body: bytes | None = None,
    ) -> None:
        self.results: dict[str, list[dict[str, Any]]] = dict(results or {})
        self.status = status
        self.delay = delay
        self.body = body
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeNominatim:
        if self._server is not None:
            raise RuntimeError("FakeNominatim already started")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-nominatim",
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

    def __enter__(self) -> FakeNominatim:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- inspection

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeNominatim not started")
        return self._port

    @property
    def domain(self) -> str:
        """``"127.0.0.1:PORT"`` — pass as ``Geocoder(domain=..., scheme="http")``.

        Still valid after :meth:`stop` (then nothing listens there: connection refused).
        """
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def searches(self) -> list[RecordedRequest]:
        """Recorded requests to ``/search``."""
        return [r for r in self.requests if r.path.rstrip("/") in ("/search", "/search.php")]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # ---------------------------------------------------------------- answers

    def answer(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Results for every canned key contained in ``q`` (case-insensitive), de-duplicated."""
        query = params.get("q", "").casefold()
        out: list[dict[str, Any]] = []
        seen: set[int] = set()
        for key, places in self.results.items():
            if key.casefold() in query:
                for place in places:
                    marker = id(place)
                    if marker not in seen:
                        seen.add(marker)
                        out.append(place)
        try:
            limit = int(params.get("limit", "10"))
        except ValueError:
            limit = 10
        return out[: max(limit, 0)]
