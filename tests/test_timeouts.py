"""Item 9 of issue 10: a Bot API slower than the client's patience is not a failure.

When Telegram answers after the client stopped waiting (``TimedOut``), the request was often
carried out: the outcome is unknown. Then the bot must neither log an error with a traceback
nor tell the person "抱歉，出了点问题" (what they asked was saved), and the next question
must still come: the transport repeats what is harmless to repeat (bot/transport.py). When
Telegram fails for good, the error handler tells "Telegram did not answer" (one WARNING line,
nothing said to the person) from a bug of ours (an error, and the apology).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from bot.i18n import t
from bot.transport import NOT_DONE, RetryingRequest, direct_replies
from tests.harness import (
    CENTRE,
    REPORTER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by the first test
    pass_spot,
    tr,
    world,
)
from tests.test_cosmetic import report_and_claim
from tests.test_faults import RunningClock

T = 60.0  # generous bound on each wait (busy machines); never a speed check
READ_TIMEOUT = 0.5  # the client's patience here; the transport doubles it on each retry
LATE = 0.9  # seconds: slower than the first attempt's patience, within the second's


class LateFirstAnswers:
    """Every request to the reporter's chat, and every callback answer, is carried out the
    first time it arrives — but answered only after the client has stopped waiting."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: set[tuple[str, str]] = set()
        self.late: Counter[str] = Counter()

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        if method != "answerCallbackQuery" and str(params.get("chat_id")) != str(REPORTER):
            return None
        key = (method, json.dumps(params, sort_keys=True, ensure_ascii=False, default=str))
        with self.lock:
            first = key not in self.seen
            self.seen.add(key)
            if first:
                self.late[method] += 1
        if first:
            time.sleep(LATE)
        return None


@pytest.mark.usefixtures("clean_log")
async def test_fr09_late_answers_are_not_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    late = LateFirstAnswers()
    # The clock runs, so that the outbox's own retries (a late notice) come due.
    clock = RunningClock()
    async with world(tmp_path, clock=clock, overrides={"read_timeout": READ_TIMEOUT}) as w:
        w.emu.fault = late
        code = await report_and_claim(w)  # every next question came (or the helper fails)
        await w.idle(T)
        w.emu.fault = None
        assert await w.tip_by_code(code) is not None
        texts = [m.get("text") or "" for m in w.bot_msgs(REPORTER)]
        assert not any(tr("zh", "error.generic") in text for text in texts), texts
        generic = t("zh", "error.generic")
        assert not [c for c in w.emu.calls("answerCallbackQuery") if c.get("text") == generic]
        # The prompts, the venue, the echoes and the callback answers were all late once.
        for method in ("sendMessage", "sendVenue", "editMessageText", "answerCallbackQuery"):
            assert late.late[method], late.late
        retried = [r for r in caplog.records if "no answer to" in r.getMessage()]
        assert retried and all(r.levelname == "WARNING" and not r.exc_info for r in retried)


async def test_fr09_telegram_failing_is_told_apart_from_a_bug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    generic = t("zh", "error.generic")

    def apologies(w: World) -> list[dict]:
        sent = [c for c in w.emu.calls("sendMessage") if c.get("text") == generic]
        return sent + [c for c in w.emu.calls("answerCallbackQuery") if c.get("text") == generic]

    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        ask = await w.next_bot(REPORTER, tr("zh", "ask.seen"), timeout=T)
        # Telegram fails the next question for good (5xx through every retry): the edit that
        # makes the pressed message that question, then the new message sent instead.
        question = t("zh", "ask.people")
        w.emu.fault = lambda method, params: (
            (503, {"ok": False, "error_code": 503, "description": "Service Unavailable"})
            if method in ("editMessageText", "sendMessage") and question in str(params.get("text"))
            else None
        )
        w.emu.press(REPORTER, REPORTER, ask["message_id"], text=tr("zh", "seen.now"))
        await w.idle(T)
        w.emu.fault = None
        told = [r for r in caplog.records if r.name == "bot.handlers.common"]
        assert [r.levelname for r in told] == ["WARNING"] * 2, [r.getMessage() for r in told]
        assert not any(r.exc_info for r in told)
        assert all("NetworkError" in r.getMessage() for r in told)
        assert not apologies(w)  # the press was saved: nothing "went wrong" for the reporter
        assert (await w.repo.drafts.get(REPORTER)).seen is not None
        # Their next message gets the question they are at.
        w.emu.send_text(REPORTER, "你好")
        ask = await w.next_bot(REPORTER, tr("zh", "ask.people"), timeout=T)

        # A bug of ours is an error, with its traceback, and the reporter is told.
        async def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        w.services.reports.take = broken  # type: ignore[method-assign]
        caplog.clear()
        w.emu.press(REPORTER, REPORTER, ask["message_id"], text=tr("zh", "people.1"))
        await w.idle(T)
        errors = [r for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1 and errors[0].exc_info, [r.getMessage() for r in errors]
        assert len(apologies(w)) == 1


# -- the transport's policy, call by call --------------------------------------------------------


class Timeouts:
    """Stands in for HTTPXRequest.do_request: every call times out (``cause`` says how)."""

    def __init__(self, cause: type[Exception] = httpx.ReadTimeout) -> None:
        self.cause = cause
        self.calls: list[tuple[str, object]] = []

    async def __call__(self, request, url, method, request_data=None, **timeouts):
        self.calls.append((url.rsplit("/", 1)[-1], timeouts.get("read_timeout")))
        raise TimedOut() from self.cause("slow")


@pytest.mark.parametrize(
    ("name", "direct", "cause", "tries", "outcome"),
    [
        # A reply to a person may be repeated (a duplicate prompt is harmless)...
        ("sendMessage", True, httpx.ReadTimeout, 3, "TimedOut"),
        ("sendVenue", True, httpx.ReadTimeout, 3, "TimedOut"),
        # ...an outbox send may not (it records what it sent and retries on its own terms)...
        ("sendMessage", False, httpx.ReadTimeout, 1, "TimedOut"),
        # ...unless it never left this machine.
        ("sendMessage", False, httpx.ConnectTimeout, 3, "TimedOut"),
        ("sendMessage", False, httpx.PoolTimeout, 3, "TimedOut"),
        # Setting something twice ends in the same state.
        ("editMessageText", False, httpx.ReadTimeout, 3, "TimedOut"),
        ("deleteMessage", False, httpx.ReadTimeout, 3, "TimedOut"),
        # Cosmetic: repeated, then given up without failing the caller.
        ("answerCallbackQuery", True, httpx.ReadTimeout, 3, "not done"),
        ("sendChatAction", True, httpx.ReadTimeout, 3, "not done"),
        # Long polling is PTB's own business.
        ("getUpdates", True, httpx.ReadTimeout, 1, "TimedOut"),
    ],
)
async def test_fr09_transport_repeats_after_a_timeout_only_what_is_harmless(
    monkeypatch: pytest.MonkeyPatch, name: str, direct: bool, cause, tries: int, outcome: str
) -> None:
    fake = Timeouts(cause)

    async def do_request(self, url, method, request_data=None, **timeouts):
        return await fake(self, url, method, request_data, **timeouts)

    monkeypatch.setattr(HTTPXRequest, "do_request", do_request)
    request = RetryingRequest(read_timeout=1.0)
    url = f"https://api.example/bot1:x/{name}"
    try:
        if direct:
            with direct_replies():
                result: object = await request.do_request(url, "POST")
        else:
            result = await request.do_request(url, "POST")
    except TimedOut:
        result = "TimedOut"
    assert len(fake.calls) == tries, fake.calls
    assert result == ("TimedOut" if outcome == "TimedOut" else NOT_DONE)
    if tries == 3 and name != "getUpdates":
        # Each retry waits twice as long for the answer (a slow API is the usual cause).
        assert [timeout for _, timeout in fake.calls][1:] == [2.0, 4.0], fake.calls
