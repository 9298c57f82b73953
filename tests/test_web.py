"""The bot's web server (issue 12): the webhook endpoint, /healthz, the server's lifecycle.

The real Application against the Bot API emulator, its web server on a free loopback port;
requests from here with httpx. Everything is invented.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from telegram import Update

from bot.app import Overrides, build_application
from bot.config import parse_config
from bot.db.ops import WEBHOOK_SECRET, OpsStore
from bot.lifecycle import serving
from bot.sandbox.emulator import BotApiEmulator
from bot.web.app import create_web_app
from bot.web.health import routes as health_routes
from bot.web.middleware import SECURITY_HEADERS
from bot.web.server import WebServer
from tests.drivers import poll
from tests.harness import OFFICER, REPORTER, WAIT_S, World, cast, config_text, world
from tests.netcut import Relay
from tests.startproc import free_port

BOUND_S = WAIT_S  # a bound on waiting on a busy machine, never a speed requirement


def whoami_update(update_id: int, user: int = REPORTER) -> dict:
    """A private /whoami, as Telegram would POST it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + update_id,
            "from": {"id": user, "is_bot": False, "first_name": "小梅"},
            "chat": {"id": user, "type": "private", "first_name": "小梅"},
            "date": int(time.time()),
            "text": "/whoami",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }


async def post(w: World, body: object, secret: str | None) -> httpx.Response:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.post(f"{w.web_url}/telegram", json=body, headers=headers)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.get(url)


async def journaled(w: World) -> int:
    row = await w.station.db.fetchone("SELECT COUNT(*) FROM inbound")
    return int(row[0])


async def started_chat(w: World, user: int = REPORTER) -> None:
    """The user writes first (as in Telegram), through the emulator's webhook delivery."""
    w.mark(user)
    w.emu.send_text(user, "/start")
    await w.next_bot(user, timeout=BOUND_S)
    await w.idle(BOUND_S)


# -- the webhook -------------------------------------------------------------------------------


async def test_webhook_refuses_a_wrong_or_missing_secret(tmp_path: Path) -> None:
    async with world(tmp_path, mode="webhook") as w:
        await started_chat(w)
        secret = await OpsStore(w.station.db).get(WEBHOOK_SECRET)
        assert secret and len(secret) >= 32  # generated and kept in the database
        # Telegram was given that secret, the URL and the update types the bot handles.
        call = w.emu.calls("setWebhook")[-1]
        assert call["secret_token"] == secret
        assert call["url"] == f"{w.config.web.public_url}/telegram"
        assert set(call["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}

        before, sent = await journaled(w), len(w.bot_msgs(REPORTER))
        for given in (None, "", "not-the-secret", secret[:-1], secret + "x"):
            answer = await post(w, whoami_update(5000), given)
            assert answer.status_code == 403, (given, answer.text)
            assert answer.json() == {"error": "forbidden"}
        assert w.app.bot_data["webhook"].refused == 5
        await w.idle(BOUND_S)
        # Nothing changed: nothing journaled, nothing handled, nothing said.
        assert await journaled(w) == before
        assert len(w.bot_msgs(REPORTER)) == sent

        # The same update with the right secret: 200, journaled, handled.
        w.mark(REPORTER)
        answer = await post(w, whoami_update(5000), secret)
        assert answer.status_code == 200
        assert await journaled(w) == before + 1
        await w.next_bot(REPORTER, str(REPORTER), timeout=BOUND_S)
        # Sent again by Telegram (it did not get our 200): handled once.
        assert (await post(w, whoami_update(5000), secret)).status_code == 200
        assert (await post(w, {"update_id": "x"}, secret)).status_code == 400
        assert (await post(w, [1, 2], secret)).status_code == 400
        await w.idle(BOUND_S)
        answers = [m for m in w.bot_msgs(REPORTER)[w.marks[REPORTER] - 1 :]]
        assert len(answers) == 1, answers


async def test_webhook_update_is_journaled_before_the_200(tmp_path: Path) -> None:
    """The process dies after answering 200 and before handling: the journal has the update
    and the next start handles it (here in polling mode: the switch deletes the webhook)."""
    emu = BotApiEmulator().start()
    try:
        cast(emu)
        async with world(tmp_path, emu=emu, mode="webhook") as w:
            await started_chat(w)
            secret = await OpsStore(w.station.db).get(WEBHOOK_SECRET)
            dropped: list[object] = []
            put = w.app.update_queue.put

            async def lost(item: object) -> None:  # the process "dies" before handling it
                if isinstance(item, Update):
                    dropped.append(item)
                else:  # PTB's own stop signal still goes through
                    await put(item)

            w.app.update_queue.put = lost  # type: ignore[method-assign]
            w.mark(REPORTER)
            assert (await post(w, whoami_update(7000), secret)).status_code == 200
            assert len(dropped) == 1
            assert w.bot_msgs(REPORTER)[w.marks[REPORTER] :] == []
        assert emu.calls("deleteWebhook") == []  # a stop leaves the webhook as it is
        async with world(tmp_path, emu=emu) as w:  # polling again: replayed first
            found = await w.until(
                lambda: [m for m in w.bot_msgs(REPORTER) if str(REPORTER) in (m["text"] or "")],
                timeout=BOUND_S,
            )
            assert len(found) == 1
            # Back to polling: the webhook is deleted, updates come by getUpdates again.
            assert emu.calls("deleteWebhook")
            with emu._lock:
                assert emu._webhook_url == ""
            w.mark(REPORTER)
            emu.send_text(REPORTER, "/help")
            await w.next_bot(REPORTER, timeout=BOUND_S)
            assert emu.calls("getUpdates")
    finally:
        emu.stop()


async def test_webhook_secret_from_config_or_env_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.logs import LogHygiene

    caplog.set_level(logging.DEBUG)
    hygiene = LogHygiene("123456:TEST-TOKEN")
    caplog.handler.addFilter(hygiene)
    try:
        configured = "station-secret_0123456789"
        # (a second [telegram] table is refused by TOML: the key goes into the harness's)
        emu = BotApiEmulator().start()
        try:
            cast(emu)
            port = free_port()
            text = config_text(
                emu, tmp_path / "w.sqlite3", mode="webhook", web_port=str(port),
                public_url=f"http://127.0.0.1:{port}",
            ).replace('mode = "webhook"', f'mode = "webhook"\nwebhook_secret = "{configured}"')
            config = parse_config(text, tmp_path / "config.toml", env={})
            assert config.telegram.webhook_secret == configured
            env_config = parse_config(
                text, tmp_path / "config.toml", env={"WARMLINE_WEBHOOK_SECRET": "from-env-9876543"}
            )
            assert env_config.telegram.webhook_secret == "from-env-9876543"
            app = build_application(config, Overrides(tick_seconds=None))
            async with serving(app, allowed_updates=["message"]):
                assert emu.calls("setWebhook")[-1]["secret_token"] == configured
                stored = await OpsStore(app.bot_data["station"].db).get(WEBHOOK_SECRET)
                assert stored is None  # nothing generated when one is configured
        finally:
            emu.stop()
    finally:
        caplog.handler.removeFilter(hygiene)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "setWebhook" in text  # PTB logged the call at DEBUG…
    assert configured not in text  # …with the secret masked


# -- /healthz ----------------------------------------------------------------------------------


async def health(w: World) -> httpx.Response:
    return await get(f"{w.web_url}/healthz")


async def test_healthz_healthy_then_api_down_then_healthy(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    relay = Relay(emu.port).start()
    try:
        cast(emu)
        async with world(
            tmp_path, emu=emu, base_url=relay.base_url, base_file_url=relay.base_file_url
        ) as w:
            await started_chat(w)
            answer = await health(w)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["ok"] is True and body["reasons"] == []
            assert set(body) == {
                "ok", "reasons", "version", "mode", "bot_api", "last_update_at", "outbox",
                "database",
            }
            assert body["mode"] == "polling" and body["version"]
            assert body["bot_api"]["reachable"] is True and body["bot_api"]["since"]
            assert body["database"] == {"writable": True}
            assert body["outbox"]["pending"] == 0
            assert body["last_update_at"]  # the /start above
            # No personal data: no user id, no name, no text.
            blob = json.dumps(body, ensure_ascii=False)
            for secret in (str(REPORTER), "小梅", "/start", str(OFFICER)):
                assert secret not in blob
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["x-content-type-options"] == "nosniff"

            relay.cut()
            down = await w.until(
                lambda: _status_is(w, 503), timeout=BOUND_S
            )
            assert "bot_api_unreachable" in down["reasons"], down
            assert down["ok"] is False and down["bot_api"]["reachable"] is False
            assert down["bot_api"]["error"]  # its kind only

            relay.restore()
            back = await w.until(lambda: _status_is(w, 200), timeout=BOUND_S)
            assert back["ok"] is True and back["bot_api"]["reachable"] is True
    finally:
        relay.stop()
        emu.stop()


async def _status_is(w: World, status: int) -> dict | None:
    answer = await health(w)
    return answer.json() if answer.status_code == status else None


async def test_healthz_answers_while_the_api_was_never_reached(tmp_path: Path) -> None:
    """Listening from the very start: monitoring learns the bot is up but cannot reach
    Telegram (and stops cleanly while still waiting)."""
    emu = BotApiEmulator()  # never started: nothing listens on its port
    emu.port = free_port()
    closed = f"http://127.0.0.1:{emu.port}"
    text = config_text(
        type("E", (), {"token": "123456:TEST-TOKEN", "base_url": "", "base_file_url": ""})(),
        tmp_path / "w.sqlite3",
        base_url=f"{closed}/bot",
        base_file_url=f"{closed}/file/bot",
    )
    app = build_application(parse_config(text, tmp_path / "c.toml", env={}), Overrides())
    stop = asyncio.Event()

    async def run() -> None:
        async with serving(app, stop=stop):
            pass

    task = asyncio.create_task(run())
    try:
        web: WebServer = app.bot_data["web"]
        await asyncio.wait_for(web.wait_listening(), BOUND_S)

        async def unreachable() -> dict | None:
            answer = await get(f"{web.url}/healthz")
            body = answer.json()
            return body if answer.status_code == 503 and body["bot_api"]["reachable"] is False \
                else None

        body = await emu.until(unreachable, timeout=BOUND_S)
        assert set(body["reasons"]) == {"bot_api_unreachable", "starting"}
        assert body["database"] == {"writable": None}
    finally:
        stop.set()
        from bot.lifecycle import Stopped

        with pytest.raises(Stopped):
            await asyncio.wait_for(task, BOUND_S)
    assert not app.bot_data["web"].listening


async def test_healthz_database_not_writable(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station
        # Another process holds the write lock longer than the probe waits.
        import sqlite3

        other = sqlite3.connect(w.db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        try:
            from bot.services import health

            health.PROBE_TIMEOUT_S, old = 0.5, health.PROBE_TIMEOUT_S
            try:
                answer = await health_of(w)
            finally:
                health.PROBE_TIMEOUT_S = old
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert answer.status_code == 503
        assert answer.json()["reasons"] == ["database_not_writable"]
        assert answer.json()["database"] == {"writable": False}
        assert (await health_of(w)).status_code == 200
        assert station.db is w.station.db


async def health_of(w: World) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        return await client.get(f"{w.web_url}/healthz")


# -- the server itself -------------------------------------------------------------------------


async def test_routes_answer_in_json_with_the_security_headers(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        async with httpx.AsyncClient(trust_env=False) as client:
            missing = await client.get(f"{w.web_url}/nothing-here")
            assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
            wrong = await client.get(f"{w.web_url}/telegram")
            assert wrong.status_code == 405
            # Polling mode: the webhook is closed (503: Telegram would try again later).
            closed = await client.post(f"{w.web_url}/telegram", json=whoami_update(1))
            assert closed.status_code == 503
            for answer in (missing, wrong, closed):
                for name, value in SECURITY_HEADERS.items():
                    assert answer.headers[name] == value, (name, answer)
                assert "server" not in answer.headers


async def test_request_bodies_are_bounded() -> None:
    """413 for a body over the limit: at once by its Content-Length, and while reading one
    sent in chunks without a length (never read whole). Small sizes: the client's whole
    body fits in the sockets' buffers, so it always reads the answer."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    read: list[int] = []

    async def echo(request: Request) -> JSONResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        read.append(size)
        return JSONResponse({"size": size})

    server = WebServer(create_web_app([[Route("/echo", echo, methods=["POST"])]], max_body=1024),
                       "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=BOUND_S) as client:
            fits = await client.post(f"{server.url}/echo", content=b"x" * 1024)
            assert fits.status_code == 200 and fits.json() == {"size": 1024}
            big = await client.post(f"{server.url}/echo", content=b"x" * 1025)
            assert big.status_code == 413 and big.json() == {"error": "request body too large"}

            async def chunks():
                for _ in range(3):
                    yield b"y" * 600

            streamed = await client.post(f"{server.url}/echo", content=chunks())
            assert streamed.status_code == 413
            for name, value in SECURITY_HEADERS.items():
                assert big.headers[name] == value and streamed.headers[name] == value
        assert read == [1024]  # the route never saw an oversized body whole
    finally:
        await server.stop()


async def test_web_server_leaves_the_signals_to_the_run_loop() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = WebServer(create_web_app([]), "127.0.0.1", 0)
    await server.start()
    try:
        assert server.listening
        assert {sig: signal.getsignal(sig) for sig in before} == before
    finally:
        await server.stop()
    assert {sig: signal.getsignal(sig) for sig in before} == before


async def test_a_busy_port_is_retried_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.web.server")
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    server = WebServer(create_web_app([]), "127.0.0.1", port, delay=lambda attempt: 0.05)
    await server.start()  # returns: the bot goes on meanwhile
    try:
        await asyncio.sleep(0)
        assert not server.listening
        assert await poll(lambda: len(caplog.records) >= 2, WAIT_S)
        holder.close()
        await asyncio.wait_for(server.wait_listening(), BOUND_S)
        assert server.port == port
    finally:
        holder.close()
        await server.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert all(f"cannot listen on 127.0.0.1:{port}" in line for line in lines), lines
    assert all("retrying in" in line and "[web] port" in line for line in lines)


def test_unknown_mount_point_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mount point"):
        create_web_app([], {"admin": create_web_app([])})
    app = create_web_app([health_routes(None)], {"demo": create_web_app([])})  # type: ignore[arg-type]
    assert any(getattr(r, "path", "") == "/demo" for r in app.routes)
