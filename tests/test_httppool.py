"""The Bot API's connection pool kept as small pools (bot/httppool.py): the same limit, the
same reuse of open connections as one pool, the configured proxy kept, the environment's
proxies left to httpx — against a real HTTP server on 127.0.0.1 that holds its answers until
told to answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from bot.app import build_application
from bot.config import parse_config
from bot.httppool import SHARD, ShardedTransport, sharded_client_kwargs
from tests.harness import config_text


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

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"

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
