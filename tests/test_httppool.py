"""The Bot API's connection pool kept as small pools (bot/httppool.py): the same limit, the
same reuse of open connections as one pool, the configured proxy kept, the environment's
proxies left to httpx — against a real HTTP server on 127.0.0.1 that holds its answers until
told to answer."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path
from types import SimpleNamespace

import httpcore
import httpx
import pytest
import trustme

from bot.app import build_application
from bot.config import parse_config
from bot.httppool import SHARD, ShardedTransport, on_backend, sharded_client_kwargs
from bot.netbackend import AsyncioBackend, AsyncioStream
from tests.harness import WAIT_S, config_text
from tests.proxies import ConnectProxy, Socks5Proxy


class HeldServer:
    """HTTP/1.1 with keep-alive; every answer waits for ``gate``. Counts the connections
    made and the most open at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}/"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                self.requests += 1
                await self.gate.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open -= 1
            writer.close()


async def until(condition, what: str, limit_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


@pytest.fixture
async def server():
    held = HeldServer()
    url = await held.start()
    yield held, url
    held.gate.set()
    await held.stop()


async def test_requests_fill_the_first_pool_first_and_reuse_its_connections(server) -> None:
    held, url = server
    transport = ShardedTransport(20, shard=8)
    assert transport.pools == 3  # 7 + 7 + 6 connections: 20, as one pool of 20
    async with httpx.AsyncClient(transport=transport) as client:
        calls = [asyncio.create_task(client.get(url)) for _ in range(10)]
        await until(lambda: held.requests == 10, "10 requests at the server")
        assert transport.in_flight() == [7, 3, 0]
        held.gate.set()
        answers = await asyncio.gather(*calls)
        assert [a.text for a in answers] == ["ok"] * 10
        assert transport.in_flight() == [0, 0, 0]  # each released when its body was read
        assert held.connections == 10
        # Fewer at once than before: the connections already open carry them, none new.
        again = await asyncio.gather(*(client.get(url) for _ in range(7)))
        assert [a.status_code for a in again] == [200] * 7
        assert held.connections == 10
        assert transport.in_flight() == [0, 0, 0]
    # PTB builds a new client on the same transport after a shutdown (HTTPXRequest.initialize).
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(url)).text == "ok"
    assert transport.in_flight() == [0, 0, 0]


async def test_never_more_connections_than_the_limit(server) -> None:
    held, url = server
    transport = ShardedTransport(4, shard=2)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30.0)) as client:
        calls = [asyncio.create_task(client.get(url)) for _ in range(9)]
        await until(lambda: held.requests == 4, "4 requests at the server")
        await asyncio.sleep(0.2)  # the other 5 wait for a connection, as in one pool of 4
        assert held.requests == 4 and held.open == 4
        assert sum(transport.in_flight()) == 9
        held.gate.set()
        answers = await asyncio.gather(*calls)
        assert [a.status_code for a in answers] == [200] * 9
    assert held.most_open == 4
    assert transport.in_flight() == [0, 0]


async def test_a_failed_request_gives_its_place_back(server) -> None:
    held, url = server
    transport = ShardedTransport(16, shard=8)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, timeout=httpx.Timeout(5.0, read=0.2))
        assert transport.in_flight() == [0, 0]
        held.gate.set()
        # Held until its body is closed (the connection is busy until then).
        stream = await client.send(client.build_request("GET", url), stream=True)
        assert transport.in_flight() == [1, 0]
        await stream.aread()
        await stream.aclose()
        assert transport.in_flight() == [0, 0]


def test_small_pools_only_where_they_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert sharded_client_kwargs(SHARD) == {}  # one small pool already
    made = sharded_client_kwargs(72)
    assert isinstance(made["transport"], ShardedTransport) and made["proxy"] is None
    assert made["transport"].pools == 9
    # The configured proxy carries every pool's requests.
    proxied = sharded_client_kwargs(72, "http://127.0.0.1:3128")["transport"]
    assert all(type(p._pool).__name__ == "AsyncHTTPProxy" for p in proxied._pools)
    # A proxy from the environment (with NO_PROXY) stays httpx's to resolve: one pool.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert sharded_client_kwargs(72) == {}
    configured = sharded_client_kwargs(72, "socks5://127.0.0.1:1080")["transport"]
    assert all(type(p._pool).__name__ == "AsyncSOCKSProxy" for p in configured._pools)


def test_the_bots_requests_go_through_small_pools(tmp_path: Path, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    api = SimpleNamespace(
        token="123456:TEST-TOKEN",
        base_url="http://127.0.0.1:9/bot",
        base_file_url="http://127.0.0.1:9/file/bot",
    )
    text = config_text(api, tmp_path / "w.sqlite3")  # type: ignore[arg-type]
    app = build_application(parse_config(text, tmp_path / "config.toml", env={}))
    transport = app.bot.request._client._transport
    assert isinstance(transport, ShardedTransport)
    pool = app.bot_data["config"].telegram.max_concurrent_updates + 8
    assert sum(transport._capacity) == pool  # the same limit as the one pool before
    # getUpdates keeps its one connection, as before.
    assert not isinstance(app.bot._request[0]._client._transport, ShardedTransport)
    # Every pool makes its connections on warmline's asyncio backend (bot/netbackend.py).
    assert isinstance(transport.backend, AsyncioBackend)
    assert all(p._pool._network_backend is transport.backend for p in transport._pools)


# -- the asyncio network backend under the pools (bot/netbackend.py) --------------------------


@pytest.fixture
def tls_pair():
    """A TLS server context with a certificate from a test authority, and the client context
    (the pools' shared one) that trusts it."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


async def test_the_backend_makes_the_connections_and_reuses_them(server) -> None:
    held, url = server
    held.gate.set()
    transport = ShardedTransport(16)
    async with httpx.AsyncClient(transport=transport, timeout=WAIT_S) as client:
        for _ in range(5):
            assert (await client.get(url)).text == "ok"
    assert held.connections == 1 and held.requests == 5  # one keep-alive connection
    assert transport.backend.connects == 1  # made by warmline's backend, not anyio's


class ClosingServer(HeldServer):
    """Answers one request per connection with keep-alive, then closes it while idle."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()
            self.open += 1  # counts the connections closed by the server, here
            await writer.wait_closed()


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    held = ClosingServer()
    url = await held.start()
    try:
        transport = ShardedTransport(16)
        async with httpx.AsyncClient(transport=transport, timeout=WAIT_S) as client:
            for n in range(1, 4):
                assert (await client.get(url)).text == "ok"
                await until(lambda n=n: held.open == n, "the server closed its connection")
            # Each next request went on a new connection: none failed on the closed one.
            assert held.connections == 3 and transport.backend.connects == 3
    finally:
        await held.stop()


async def test_a_close_the_loop_has_not_read_yet_is_still_seen() -> None:
    """The keep-alive check asks the socket when the protocol has seen nothing (as httpcore's
    own check does): a FIN in the kernel that the event loop has not read yet counts."""
    held = ClosingServer()
    url = await held.start()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    try:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=WAIT_S)
        assert isinstance(stream, AsyncioStream)
        assert stream.get_extra_info("is_readable") is False  # open, nothing sent
        stream._transport.pause_reading()  # the loop reads nothing more from it
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=WAIT_S)
        await until(lambda: held.open == 1, "the server closed its connection")
        assert not stream._connection.buffer and not stream._connection.eof
        assert stream.get_extra_info("is_readable") is True  # the kernel has the answer, EOF
        stream._transport.resume_reading()
        data = b""
        while chunk := await stream.read(65536, timeout=WAIT_S):
            data += chunk
        assert data.endswith(b"ok")
        assert stream.get_extra_info("is_readable") is True  # ended: the next read is b""
        peer = stream.get_extra_info("server_addr")
        assert peer == ("127.0.0.1", port) and stream.get_extra_info("server_addr") is peer
        await stream.aclose()
        with pytest.raises(httpcore.ReadError):
            await stream.read(10, timeout=WAIT_S)
    finally:
        await held.stop()


async def test_connect_and_read_timeouts_and_errors_are_httpx_ones(tls_pair) -> None:
    # A TCP server that never answers the TLS handshake: the connect timeout (httpx's
    # covers the handshake).
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    transport = ShardedTransport(16, ssl_context=tls_pair[1])
    try:
        async with httpx.AsyncClient(transport=transport, timeout=WAIT_S) as client:
            with pytest.raises(httpx.ConnectTimeout):
                await client.get(f"https://127.0.0.1:{port}/", timeout=httpx.Timeout(0.3))
            # A plain connection that gets no answer: the read timeout.
            with pytest.raises(httpx.ReadTimeout):
                plain = f"http://127.0.0.1:{port}/"
                await client.get(plain, timeout=httpx.Timeout(WAIT_S, read=0.3))
            # Nobody listening: a connect error.
            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))
            free = closed.getsockname()[1]
            closed.close()
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{free}/", timeout=httpx.Timeout(WAIT_S))
        assert transport.in_flight() == [0, 0]
        assert transport.backend.connects == 2  # the two that reached the silent server
    finally:
        silent.close()


async def test_tls_with_the_shared_context_and_keep_alive(tls_pair) -> None:
    server_tls, client_tls = tls_pair
    held = HeldServer()
    url = await held.start(server_tls)
    held.gate.set()
    transport = ShardedTransport(16, ssl_context=client_tls)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=WAIT_S) as client:
            for _ in range(3):
                assert (await client.get(url)).text == "ok"
            # Not trusted by a context without the test authority: a connect error.
            other = ShardedTransport(16, ssl_context=ssl.create_default_context())
            async with httpx.AsyncClient(transport=other, timeout=WAIT_S) as untrusting:
                with pytest.raises(httpx.ConnectError):
                    await untrusting.get(url)
        # 3 on one TLS connection (the refused handshake never reached the server's handler).
        assert held.connections == 1 and held.requests == 3
        assert transport.backend.connects == 1
    finally:
        await held.stop()


async def test_through_an_http_connect_proxy_and_a_socks5_proxy(tls_pair) -> None:
    server_tls, client_tls = tls_pair
    plain, secure = HeldServer(), HeldServer()
    plain_url, secure_url = await plain.start(), await secure.start(server_tls)
    plain.gate.set()
    secure.gate.set()
    connect, socks = ConnectProxy().start(), Socks5Proxy().start()
    try:
        # HTTP CONNECT (httpx tunnels only https targets): TLS over the tunnel.
        tunnelled = ShardedTransport(16, proxy=connect.url("http"), ssl_context=client_tls)
        async with httpx.AsyncClient(transport=tunnelled, timeout=WAIT_S) as client:
            for _ in range(2):
                assert (await client.get(secure_url)).text == "ok"
        assert connect.tunnels == 1 and secure.connections == 1
        assert tunnelled.backend.connects == 1
        # SOCKS5, to a plain and a TLS target.
        socksed = ShardedTransport(16, proxy=socks.url("socks5"), ssl_context=client_tls)
        async with httpx.AsyncClient(transport=socksed, timeout=WAIT_S) as client:
            for _ in range(2):
                assert (await client.get(plain_url)).text == "ok"
            assert (await client.get(secure_url)).text == "ok"
        assert socks.tunnels == 2 and plain.connections == 1 and secure.connections == 2
        assert socksed.backend.connects == 2
    finally:
        connect.stop()
        socks.stop()
        await plain.stop()
        await secure.stop()


def test_on_backend_fails_loudly_if_httpx_hides_the_pool() -> None:
    """Guard of the private path (bot/httppool.py on_backend): a transport without a pool
    that takes a backend is an error at build time, not a silent fall back to anyio's."""
    transport = httpx.AsyncHTTPTransport()
    backend = AsyncioBackend()
    assert on_backend(transport, backend)._pool._network_backend is backend
    transport._pool = object()  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        on_backend(transport, backend)
