"""The Bot API's connections: one pool of N, kept as small pools of at most :data:`SHARD`.

httpcore's connection pool walks *all* its connections at least twice per request (on queuing
it and again on releasing its connection): a keep-alive check of each idle connection — two system
calls (``getpeername``, ``poll``) and a fresh attribute table — and, for each idle one, a
count over the whole list again. With warmline's pool of ``max_concurrent_updates + 8``
connections, kept open after a busy minute, that walk cost more CPU per update than
warmline's own handling of a ``/help`` (bench/README.md, issue 16 target 4). The work per
request grows with the connections of the pool it is sent through; it is the same whatever
the pool's limit when a pool holds at most :data:`SHARD` of them.

So :class:`ShardedTransport` holds ``ceil(N / SHARD)`` httpx transports of at most
:data:`SHARD` connections each (N in all, as before) and sends each request through the first
one with a free connection (the fewest requests in flight when none has): below 8 requests
in flight everything goes through the first one, as through one pool; a burst opens new
connections only when every connection it has is busy, as one pool does. Same limits, same
timeouts (a pool timeout is a wait for a connection of a full transport, when all are full),
same proxy, same TLS settings: one SSL context for all.

Every pool makes its connections on :class:`bot.netbackend.AsyncioBackend` (plain asyncio
instead of httpcore's anyio backend: less CPU per Bot API call) through :func:`on_backend`.

Where the environment names a proxy (``HTTPS_PROXY``, ``ALL_PROXY``…) httpx resolves it per
address (with ``NO_PROXY``) only for its own transports: :func:`sharded_client_kwargs` then
leaves the client as PTB builds it (one pool), so that rule stays httpx's.
"""

from __future__ import annotations

import math
import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpcore
import httpx

from bot.netbackend import AsyncioBackend

#: Connections per small pool: the walk per request stays ~8 connections long.
SHARD = 8


class _Released(httpx.AsyncByteStream):
    """A response's body; once closed, its connection is back in its pool (and counted so)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._done()

    def _done(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """``size`` connections as ``ceil(size / SHARD)`` pools (see the module docstring)."""

    def __init__(
        self,
        size: int,
        *,
        proxy: Any = None,
        shard: int = SHARD,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        count = max(1, math.ceil(size / shard))
        per = [size // count + (1 if i < size % count else 0) for i in range(count)]
        if ssl_context is None:
            ssl_context = httpx.create_ssl_context()  # honours SSL_CERT_FILE / SSL_CERT_DIR
        self.backend = AsyncioBackend()
        self._pools = [
            on_backend(
                httpx.AsyncHTTPTransport(
                    verify=ssl_context, limits=httpx.Limits(max_connections=n), proxy=proxy
                ),
                self.backend,
            )
            for n in per
        ]
        self._capacity = per
        self._busy = [0] * count  # requests in flight (until their body is closed), per pool

    @property
    def pools(self) -> int:
        return len(self._pools)

    def in_flight(self) -> list[int]:
        return list(self._busy)

    def _choose(self) -> int:
        busy, capacity = self._busy, self._capacity
        for i, n in enumerate(busy):
            if n < capacity[i]:
                return i
        return busy.index(min(busy))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        i = self._choose()
        self._busy[i] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._busy[i] -= 1

        try:
            response = await self._pools[i].handle_async_request(request)
        except BaseException:
            release()
            raise
        response.stream = _Released(response.stream, release)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def on_backend(
    transport: httpx.AsyncHTTPTransport, backend: httpcore.AsyncNetworkBackend
) -> httpx.AsyncHTTPTransport:
    """``transport`` with its connections made by ``backend`` (bot/netbackend.py).

    httpx 0.28 has no public way to give its transport a network backend; httpcore's pools
    take one (``network_backend=``), and every connection a pool opens — direct, through an
    HTTP proxy, or a SOCKS one — is made by the pool's ``_network_backend``. So this sets that
    attribute of the pool httpx built (its ``_pool``), keeping every other setting of
    httpx's as it is. Both names are private: tests/test_httppool.py checks that
    connections really are made by ``backend`` (and fails here, not in production, if an
    upgrade renames them)."""
    pool = transport._pool
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpcore's pool has no _network_backend: see bot/httppool.py")
    pool._network_backend = backend
    return transport


def environment_proxies() -> bool:
    """Does the environment name a proxy httpx would use (``http``, ``https``, ``all``)?"""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def sharded_client_kwargs(
    size: int, proxy: Any = None, ssl_context: ssl.SSLContext | None = None
) -> dict[str, Any]:
    """``httpx_kwargs`` for PTB's HTTPXRequest: the client's connections through a
    :class:`ShardedTransport` of ``size`` (``proxy``: the configured one, else none;
    ``ssl_context``: the TLS context its pools share, else a new one of httpx's); empty
    (PTB's own client, one pool) for a pool of at most :data:`SHARD` or where the
    environment names a proxy."""
    if size <= SHARD or (proxy is None and environment_proxies()):
        return {}
    # A transport of the client's own: httpx then reads no proxy from the environment, as
    # it does not when one is configured; the configured one is the transport's.
    transport = ShardedTransport(size, proxy=proxy, ssl_context=ssl_context)
    return {"transport": transport, "proxy": None}
