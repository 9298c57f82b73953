"""Logs (issue 12, "On a server"): at DEBUG over a whole story the log holds no bot token, no
claim secret and no reporter's phone number; lines carry the station's UTC offset, none under
journald (which stamps its own); a log file survives logrotate moving it away.

All ids, names, numbers and tokens are invented.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import sqlite3
from pathlib import Path

import pytest

from bot import logs
from bot.cli import main
from bot.sandbox.emulator import BotApiEmulator
from tests.harness import G1_MEMBER, OFFICER, REPORTER, world
from tests.test_e2e_rewards import close_as, officer_says, secret_of
from tests.test_e2e_story import report_by_pin

PHONE = "+8613800000001"  # invented
PAYMENT_REF = "4200001234202612010001"  # invented


@pytest.fixture
def debug_log(tmp_path: Path):
    """``warmline run``'s logging set up at DEBUG into a file (as ``[logging] level = "DEBUG"``
    and ``file`` do); the root logger restored afterwards."""
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in (*logs.QUIET, *logs.DEBUG_ONLY)}
    path = tmp_path / "log" / "warmline.log"
    path.parent.mkdir()

    def setup(token: str) -> Path:
        logs.configure("DEBUG", str(path), "Asia/Shanghai", token)
        return path

    yield setup
    for handler in [h for h in root.handlers if getattr(h, "_warmline", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


async def test_debug_log_of_a_whole_story_holds_no_secret(tmp_path: Path, debug_log) -> None:
    """A report with a photo, the card worked to a verified outcome, the reporter's phone
    shared and shown to the officer, the reward approved, claimed at the counter with the
    claim secret and paid — python-telegram-bot, aiosqlite, APScheduler and warmline at DEBUG."""
    emu = BotApiEmulator().start()
    path = debug_log(emu.token)  # from the start: getMe, the start-up, the ticker
    try:
        secret = await story(tmp_path, emu)
    finally:
        emu.stop()
    text = path.read_text(encoding="utf-8")
    token = emu.token

    # DEBUG was on, for every library that logs payloads: their lines are there.
    assert re.search(r"DEBUG telegram\.ext\.ExtBot: Calling Bot API endpoint `sendMessage`", text)
    assert "DEBUG telegram.ext.Application: Processing update <Update " in text
    assert "INFO bot.app: warmline ready" in text
    # ...and none of what must never be in a log is.
    assert token not in text
    assert token.split(":")[1] not in text
    assert secret not in text and secret.lower() not in text
    digits = re.sub(r"\D", "", PHONE)
    assert digits[2:] not in re.sub(r"[ -]", "", text)  # 13800000001, however written
    assert PAYMENT_REF not in text
    assert "--- Logging error ---" not in text


async def story(tmp_path: Path, emu: BotApiEmulator) -> str:
    """The story; the reporter's claim secret."""
    async with world(tmp_path, emu=emu, overrides={"tick_seconds": 0.5}) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=True, flags=("elderly",))
        secret = secret_of(w, REPORTER)
        w.mark(REPORTER)
        await close_as(w, code, G1_MEMBER, "带回站内")
        await w.next_bot(REPORTER, "200 元")
        w.emu.send_contact(REPORTER, PHONE, contact_user_id=REPORTER)
        await w.next_bot(REPORTER, "手机号")
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        listing = await officer_says(w, "/rewards", code)
        w.mark(OFFICER)
        await w.press(OFFICER, OFFICER, listing, "查看电话")
        await w.next_bot(OFFICER, PHONE)  # the phone number did travel, to the officer
        ok = await officer_says(w, f"/claim {code} {secret}", "密码正确")
        await w.press(OFFICER, OFFICER, ok, "微信转账")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, PAYMENT_REF)
        ask_amount = await w.next_bot(OFFICER, "多少元")
        await w.press(OFFICER, OFFICER, ask_amount, "200 元")
        await w.next_bot(OFFICER, "已记录")
        await w.idle()
    return secret


def _line(handler: logging.Handler, name: str, message: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.DEBUG, __file__, 1, message, args, None)
    assert handler.filter(record)
    return handler.format(record)


def test_library_payloads_are_reduced_to_what_they_are() -> None:
    """The class: any library record's containers, Telegram objects, bytes and deferred
    calls lose their content, whatever the message says; scalars and text stay."""
    from telegram import Update

    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(logs.LogHygiene("123456:TOKEN-abc"))
    secret = "K7M2QX"
    conn = sqlite3.connect(":memory:")
    try:
        call = functools.partial(conn.execute, "UPDATE rewards SET x = ?", (secret,))
        sql = _line(handler, "aiosqlite", "executing %s", call)
    finally:
        conn.close()
    assert sql == "aiosqlite: executing <execute>"
    params = _line(
        handler,
        "telegram.ext.ExtBot",
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": 5001, "text": f"领奖密码：{secret}"},
    )
    assert params == (
        "telegram.ext.ExtBot: Calling Bot API endpoint `sendMessage` with parameters "
        "`<chat_id, text>`"
    )
    update = Update.de_json({"update_id": 42, "message": None}, None)
    assert _line(handler, "telegram.ext.Application", "Processing update %s", update).endswith(
        "Processing update <Update 42>"
    )
    answer = _line(handler, "x.lib", "got %s and %s", [secret, secret], secret.encode())
    assert answer == "x.lib: got <list of 2> and <6 bytes>"
    # A library's own webhook server logs the body and a wrong secret token as text.
    body = _line(handler, "telegram.ext.Updater", "Webhook received data: %s", f'"{secret}"')
    assert secret not in body and "<redacted>" in body
    # Mapping-style arguments, and a record whose message is an object.
    assert secret not in _line(handler, "x.lib", "%(body)s", {"body": {"text": secret}})
    assert secret not in _line(handler, "x.lib", {"text": secret})  # type: ignore[arg-type]
    # The last net, for every record, ours too: the token and mobile-shaped numbers.
    ours = _line(handler, "bot.x", "token 123456:TOKEN-abc phone 138-0000-0001 / 8613800000001")
    assert ours == "bot.x: token … phone <phone> / <phone>"
    # What is not a phone number stays: a group's chat id, a Unix time in milliseconds.
    assert _line(handler, "bot.x", "%s %s", -1001000000111, 1764590400123).endswith(
        "-1001000000111 1764590400123"
    )


def test_timestamps_carry_the_station_offset() -> None:
    out = io.StringIO()
    handler = logs.make_handler("", "Asia/Shanghai", "", stream=out)
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello", None, None)
    record.created, record.msecs = 1764590400.25, 250.0  # 2025-12-01 12:00:00.250 UTC
    assert handler.format(record) == "2025-12-01 20:00:00,250 +0800 INFO bot.x: hello"
    other = logs.make_handler("", "America/New_York", "", stream=out)
    assert other.format(record).startswith("2025-12-01 07:00:00,250 -0500 ")


def test_under_journald_no_timestamp_and_a_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd's JOURNAL_STREAM names the journal's stream by device and inode: standard error
    is that stream → no timestamp, a syslog priority per line; another stream (a child's
    redirected output, a pipe) → timestamps."""
    with open(tmp_path / "journal", "w", encoding="utf-8") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert logs.under_journald(stream)
        handler = logs.make_handler("", "Asia/Shanghai", "", stream=stream)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.x").addHandler(handler)
            try:
                logging.getLogger("bot.x").warning("disk %s", "full", exc_info=True)
            finally:
                logging.getLogger("bot.x").removeHandler(handler)
        handler.flush()
    lines = (tmp_path / "journal").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "<4>WARNING bot.x: disk full"
    assert len(lines) > 2 and all(line.startswith("<4>") for line in lines)  # the traceback
    with open(tmp_path / "other", "w", encoding="utf-8") as elsewhere:
        assert not logs.under_journald(elsewhere)
        handler = logs.make_handler("", "Asia/Shanghai", "", stream=elsewhere)
        assert isinstance(handler.formatter, logs.StationFormatter)
    monkeypatch.setenv("JOURNAL_STREAM", "not:numbers")
    assert not logs.under_journald(io.StringIO())


def test_log_file_reopened_after_logrotate_moved_it(tmp_path: Path) -> None:
    path = tmp_path / "warmline.log"
    handler = logs.make_handler(str(path), "Asia/Shanghai", "")
    logger = logging.getLogger("bot.rotation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("before")
        path.rename(tmp_path / "warmline.log.1")  # what logrotate does (no copytruncate)
        logger.info("after")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        handler.close()
    assert "before" in (tmp_path / "warmline.log.1").read_text(encoding="utf-8")
    rotated = path.read_text(encoding="utf-8")
    assert "after" in rotated and "before" not in rotated


def test_unwritable_log_file_is_a_config_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from tests.test_startup import config_for

    path = config_for(
        tmp_path / "etc",
        "http://127.0.0.1:9/bot",
        "http://127.0.0.1:9/file/bot",
        "123456:TOKEN-abc",
    )
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    with path.open("a", encoding="utf-8") as f:
        f.write(f'\n[logging]\nfile = "{tmp_path / "not-a-folder" / "warmline.log"}"\n')
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "logging.file: cannot write the log file" in err and "not-a-folder" in err
