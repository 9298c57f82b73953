"""Reaching Telegram through a proxy (issue 12): ``[telegram] proxy`` carries every Bot API and
file request, through a real HTTP CONNECT proxy and a real SOCKS5 proxy (tests/proxies.py) on
127.0.0.1; the proxy going away for 30 s and coming back loses nothing and does not restart
the bot.

The CONNECT case needs an ``https://`` Bot API (httpx tunnels with CONNECT only for https
targets; for http it would forward plainly): the emulator serves TLS with a certificate from a
test authority (``trustme``), trusted by the bot's HTTP client through ``SSL_CERT_FILE`` (which
httpx reads when it builds its TLS context) — nothing in the bot's code is weakened for it.

The tests run with ``NO_PROXY=127.0.0.1,localhost``: an explicit proxy must not be bypassed by
it. Proved twice: the proxy counts the tunnels it opened, and while it is stopped the bot
cannot reach the API at all (a bypass would not notice the proxy was gone).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from pathlib import Path

import pytest
import trustme

from bot.sandbox.emulator import BotApiEmulator
from tests.drivers import poll
from tests.harness import CENTRE, G1_CHAT, REPORTER, WAIT_S, cast, pass_spot, world
from tests.proxies import ConnectProxy, Socks5Proxy
from tests.test_e2e_story import report_by_pin

#: How long the proxy stays away (the issue's figure).
OUTAGE_S = 30.0

CASES = {
    # (proxy class, URL scheme, the emulator over TLS, with user:password)
    "http-connect": (ConnectProxy, "http", True, True),
    "socks5": (Socks5Proxy, "socks5", False, False),
    "socks5h-tls": (Socks5Proxy, "socks5h", True, True),
}


@pytest.fixture
def tls_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An emulator factory: over TLS with a test authority the bot's client trusts."""
    made: list[BotApiEmulator] = []

    def make(tls: bool) -> BotApiEmulator:
        context = None
        if tls:
            authority = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            bundle = tmp_path / "test-ca.pem"
            authority.cert_pem.write_to_path(str(bundle))
            monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        emu = BotApiEmulator(ssl_context=context).start()
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


@pytest.mark.parametrize("case", list(CASES))
async def test_a_whole_report_through_the_proxy_survives_its_outage(
    tmp_path: Path, tls_emulator, case: str
) -> None:
    kind, scheme, tls, auth = CASES[case]
    assert "127.0.0.1" in os.environ.get("NO_PROXY", "127.0.0.1")  # run as COMMON.md says
    emu = tls_emulator(tls)
    assert emu.base_url.startswith("https://" if tls else "http://")
    cast(emu)
    proxy = kind(**({"username": "warm", "password": "p@ss:word"} if auth else {}))
    proxy.start()
    # user:password in a URL: @ and : inside them written as %40 %3A (config.example.toml).
    url = proxy.url(scheme).replace("p@ss:word", "p%40ss%3Aword")
    try:
        async with world(tmp_path, emu=emu, proxy=url) as w:
            status = w.app.bot_data["api_status"]
            first = await report_by_pin(w, REPORTER, "zh")
            await w.wait_card(G1_CHAT, first)
            assert proxy.tunnels > 0 and proxy.refused == 0
            # Every tunnel led to the Bot API (its requests and its file downloads).
            assert set(proxy.targets) == {("127.0.0.1", emu.port)}
            started = len(emu.calls("getMe"))

            # The proxy goes away; people go on writing to "Telegram" meanwhile.
            proxy.stop()
            await w.until(lambda: status.reachable is False, timeout=WAIT_S)
            before = proxy.tunnels
            w.mark(REPORTER)
            emu.send_location(REPORTER, *CENTRE)
            await asyncio.sleep(OUTAGE_S)  # the outage's length, not a wait on the bot
            assert w.bot_msgs(REPORTER)[w.marks[REPORTER] :] == []  # nothing got through
            assert proxy.tunnels == before

            proxy.start()  # the same port again
            await w.until(lambda: status.reachable is True, timeout=WAIT_S * 4)
            # What was sent during the outage is handled: the report goes on from there.
            await w.next_bot(REPORTER, "位置已收到", timeout=WAIT_S * 2)
            second = await _finish_report(w)
            await w.wait_card(G1_CHAT, second)
            assert {first, second} == {"HS-0001", "HS-0002"}
            assert proxy.tunnels > before
            # The bot did not restart: connected once (getMe), served all along.
            assert len(emu.calls("getMe")) == started
            assert w.app.running
            assert w.api_faults() == []
    finally:
        proxy.stop()


async def _finish_report(w) -> str:
    """The rest of the reporter's flow after the location was received (tests/test_e2e_story
    plays it from the location on)."""
    user = REPORTER
    await pass_spot(w, user)
    seen = await w.next_bot(user, "什么时候看到")
    await w.press(user, user, seen, "刚刚看到")
    people = await w.next_bot(user, "有几个人")
    await w.press(user, user, people, "1 人")
    flags = await w.next_bot(user, "可多选")
    await w.press(user, user, flags, "完成")
    await w.next_bot(user, "简单描述")
    w.emu.send_text(user, "穿着单薄，坐在路边")
    await w.next_bot(user, "照片")
    w.emu.send_photo(user)
    await w.next_bot(user, "照片已收到")
    review = await w.next_bot(user, "请确认")
    await w.press(user, user, review, "提交报告")
    done = await w.next_bot(user, "已收到")
    return "HS-" + done["text"].split("HS-")[1][:4]


async def test_a_start_while_the_proxy_is_down_waits_for_it(
    tmp_path: Path, tls_emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The proxy is not up yet when the bot starts: one log line per attempt (no traceback),
    and it serves as soon as the proxy is there — no crash, no restart loop."""
    caplog.set_level(logging.INFO, logger="bot.lifecycle")
    emu = tls_emulator(False)
    cast(emu)
    proxy = Socks5Proxy().start()
    proxy.stop()  # its port is known; nothing listens there yet
    entered, done = asyncio.Event(), asyncio.Event()
    worlds: list = []

    async def run() -> None:
        async with world(tmp_path, emu=emu, proxy=proxy.url("socks5")) as w:
            worlds.append(w)
            entered.set()
            await done.wait()

    def retries() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "cannot reach the Bot API" in r.getMessage()]

    task = asyncio.create_task(run())
    try:
        assert await poll(lambda: len(retries()) >= 2, WAIT_S * 2)
        assert not entered.is_set() and emu.calls("getMe") == []
        assert all(r.exc_info is None and "retrying in" in r.getMessage() for r in retries())
        proxy.start()
        await asyncio.wait_for(entered.wait(), WAIT_S * 4)
        w = worlds[0]
        await w.roundtrip(REPORTER)  # it serves, through the proxy
        assert proxy.tunnels > 0 and len(emu.calls("getMe")) == 1
    finally:
        done.set()
        await asyncio.wait_for(task, WAIT_S * 2)
        proxy.stop()
