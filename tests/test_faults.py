"""Faults from the Bot API: the whole scenario under ~10 % injected faults, and each fault
path of the outbox on its own.

The emulator's ``fault`` hook answers a share of requests 500, 429 (retry after 1–2 s) or
slowly (a delay, then the real answer); one reporter blocks the bot (403 from then on).
getUpdates is never faulted (PTB's updater has its own retry loop). The decisions come from
a seeded RNG, per (method, chat, n-th call), so a chat's own sequence of faults repeats from
run to run (``WARMLINE_FAULT_SEED=N`` tries another one).

The bot runs in this process (``tests.harness.world``) on a clock that runs in real time from
the harness's start, so the outbox's retries come due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import os
import random
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.domain.tips import Action, State
from bot.i18n import t
from bot.sandbox.emulator import BotApiEmulator
from tests.drivers import People, buttons, card_code, until_done
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_LEADER,
    G2_MEMBER,
    OFFICER,
    REPORTER,
    WAIT_S,
    FakeClock,
    World,
    plain,
    submit_tip,
    world,
)

SEED = int(os.environ.get("WARMLINE_FAULT_SEED", "20261130"))
FAULT_RATE = 0.10  # of all requests but getUpdates: 4 % 500, 3 % 429, 3 % slow
REPORTERS = 10
TIPS_EACH = 3
REPORTER_BASE = 880_200_000  # invented
MEMBERS = {G1_CHAT: (G1_MEMBER, G1_MEMBER2, G1_LEADER), G2_CHAT: (G2_MEMBER, G2_LEADER)}
NEW_G1 = -1001000000999  # g1's chat after its upgrade to a supergroup (invented)


class RunningClock(FakeClock):
    """The harness's clock (it starts at T0, g1 on duty), but running in real time."""

    def __init__(self) -> None:
        super().__init__()
        self._began = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.now + dt.timedelta(seconds=time.monotonic() - self._began)


class Faults:
    """A fault hook: ~10 % of requests answered 500, 429 with retry_after, or slowly."""

    def __init__(self, seed: int, rate: float = FAULT_RATE) -> None:
        self.seed = seed
        self.rate = rate
        self.enabled = True
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.injected: Counter[str] = Counter()
        self.requests = 0

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        if not self.enabled or method == "getUpdates":
            return None
        key = (method, str(params.get("chat_id", "-")))
        with self.lock:
            n = self.calls[key]
            self.calls[key] += 1
            self.requests += 1
        rng = random.Random(f"{self.seed}:{key[0]}:{key[1]}:{n}")
        roll = rng.random() / self.rate  # < 1 for a fault
        if roll >= 1:
            return None
        if roll < 0.4:
            kind, answer = "500", internal_error()
        elif roll < 0.7:
            kind, answer = "429", too_many(rng.choice((1, 2)))
        else:
            kind, answer = "slow", None
        with self.lock:
            self.injected[kind] += 1
        if answer is None:
            time.sleep(rng.uniform(0.3, 1.5))  # the emulator's handler thread: only this call
        return answer


def internal_error() -> tuple[int, dict]:
    return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def too_many(retry_after: int) -> tuple[int, dict]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def kicked() -> tuple[int, dict]:
    return 403, {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was kicked from the supergroup chat",
    }


def telegram_fault(record: logging.LogRecord) -> bool:
    """Did the record log a Telegram fault that outlasted the transport's retries (a direct
    reply lost: 5xx or 429 three times in a row), rather than a bug of ours?"""
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, RetryAfter | TimedOut) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


def crashes(caplog: pytest.LogCaptureFixture, emu: BotApiEmulator) -> list[str]:
    """Unhandled errors: ERROR log records of the app (but lost replies, see
    :func:`lost_replies`), and crashes inside the emulator."""
    errors = [
        f"{r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and not telegram_fault(r)
    ]
    return errors + [f"emulator: {e['error']}" for e in emu.internal_errors]


def lost_replies(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Direct replies Telegram refused even after the transport's retries (users resend):
    the error handler's one WARNING line for a Telegram fault (bot/handlers/common.py), or
    an ERROR record of one."""
    return [
        r.getMessage() if not r.exc_info else repr(r.exc_info[1])
        for r in caplog.records
        if (r.levelno >= logging.ERROR and telegram_fault(r))
        or (r.name == "bot.handlers.common" and r.getMessage().startswith("Telegram failed"))
    ]


def started_emulator() -> BotApiEmulator:
    """An emulator in which the duty officer has opened a chat with the bot."""
    emu = BotApiEmulator().start()
    emu.add_user(OFFICER, "吴值班", started=True)
    return emu


def officer_texts(w: World) -> list[str]:
    return [m.get("text") or "" for m in w.bot_msgs(OFFICER)]


def cards_in(w: World, chat: int, code: str) -> list[dict]:
    return [m for m in w.bot_msgs(chat) if card_code(m) == code]


async def officer_copy(w: World, code: str) -> dict:
    """The officer asks for a live copy of a card: /open, then "show" on the tip."""
    w.mark(OFFICER)
    w.emu.send_text(OFFICER, "/open")
    listing = await w.next_bot(OFFICER, code)
    await w.press(OFFICER, OFFICER, listing, t("zh", "btn.show", code=code))
    return await w.until(lambda: (cards_in(w, OFFICER, code) or [None])[-1])


async def outbox_quiet(w: World) -> None:
    """Wait until the outbox has nothing waiting or in flight (a card and its location)."""

    async def quiet() -> bool:
        counts = await w.outbox_counts()
        return not counts.get("pending") and not counts.get("sending")

    await w.until(quiet)


def delete_message(emu: BotApiEmulator, chat_id: int, message_id: int) -> None:
    """Someone deletes the card (over the Bot API, as an admin's client would)."""
    body = json.dumps({"chat_id": chat_id, "message_id": message_id}).encode()
    request = urllib.request.Request(
        f"{emu.base_url}{emu.token}/deleteMessage",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    with opener.open(request, timeout=60) as answer:
        assert json.load(answer)["ok"]


# -- the whole scenario under faults ------------------------------------------------------------


async def test_scenario_under_faults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, record_property: pytest.RecordProperty
) -> None:
    caplog.set_level(logging.WARNING)
    emu = started_emulator()
    reporters = [REPORTER_BASE + i for i in range(REPORTERS)]
    for i, user in enumerate(reporters):
        emu.add_user(user, f"Rider{i:02d}", username=f"rider_{i:02d}_x", language_code="zh-hans")
    blocker = reporters[0]  # blocks the bot once their reports are in
    faults = Faults(SEED)
    began = time.monotonic()
    try:
        async with world(
            tmp_path, emu=emu, clock=RunningClock(), max_per_hour="100", flood_max="1000"
        ) as w:
            people = People(emu, MEMBERS, step_timeout=10.0, budget=120.0)
            emu.fault = faults
            patrol = asyncio.create_task(people.patrol())

            def place(user: int, attempt: int) -> tuple[float, float]:
                i = user - REPORTER_BASE
                return 30.17 + 0.004 * i, 114.98 + 0.02 * attempt

            async def report(user: int) -> None:
                await people.reporter(user, TIPS_EACH, place)
                if user == blocker:
                    emu.block(user)

            async def settled() -> bool:
                open_tips = await w.repo.tips.open()
                counts = await w.outbox_counts()
                pending = counts.get("pending", 0) + counts.get("sending", 0)
                working = any(not task.done() for task in people.patrols)
                return not open_tips and not pending and not working

            try:
                # Bounds on being stuck, not on being slow (a busy machine is slow).
                def progress() -> tuple[int, int, int]:
                    told = sum(len(people.told(user)) for user in reporters)
                    return told, len(people.presses), len(emu.calls("sendMessage"))

                reports = asyncio.gather(*(report(u) for u in reporters))
                await until_done(reports, progress, stall_s=120, cap_s=1800)
                assert await w.until(settled, timeout=300), "the bot did not settle"
            finally:
                await people.stop(patrol)
                faults.enabled = False
            elapsed = time.monotonic() - began

            told = {code: user for user in reporters for code in people.told(user)}
            tips = {code: await w.tip_by_code(code) for code in told}
            home = {"g1": G1_CHAT, "g2": G2_CHAT}
            delivered = {
                code
                for code, tip in tips.items()
                if tip is not None and cards_in(w, home[tip.group_key], code)
            }
            cards = people.cards(list(MEMBERS))
            duplicates = sum(len(chats) - 1 for chats in cards.values())
            lost = sorted(set(told) - delivered)
            crashed = crashes(caplog, emu)
            unanswered = lost_replies(caplog)
            blocked = [
                e
                for e in emu.api_errors
                if e["status"] == 403 and str(e["params"].get("chat_id")) == str(blocker)
            ]
            closed = [tip for tip in tips.values() if tip is not None and tip.state is State.CLOSED]
            figures = (
                f"fault test: seed={SEED}, requests={faults.requests}, "
                f"faults injected={sum(faults.injected.values())} ({dict(faults.injected)}), "
                f"403 (blocked reporter)={len(blocked)}, tips={len(told)}, "
                f"cards delivered={len(delivered)}, lost={len(lost)}, crashes={len(crashed)}, "
                f"direct replies lost to faults={len(unanswered)}, "
                f"duplicate cards={duplicates}, closed={len(closed)}, "
                f"report attempts={people.attempts}, restarts by /cancel={people.cancels}, "
                f"re-pressed steps={people.represses}, elapsed={elapsed:.0f}s"
            )
            print(figures)
            record_property("figures", figures)

            assert len(told) >= REPORTERS * TIPS_EACH, figures
            assert not lost, (figures, lost)
            assert not crashed, (figures, crashed[:5])
            assert duplicates == 0, figures
            assert len(closed) == len(tips), figures
            assert sum(faults.injected.values()) >= 0.05 * faults.requests, figures
            # The blocked reporter's chat is marked inactive and the officer is told.
            assert blocked, "the blocked reporter was never written to"
            assert not await w.chat_active(blocker)
            note = plain(t("zh", "chat.user_blocked", code="{}")).split("{}")[0]
            assert any(text.startswith(note) for text in officer_texts(w)), officer_texts(w)
    finally:
        emu.stop()


# -- each outbox fault path ---------------------------------------------------------------------


async def test_retry_after_is_honoured(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Three 429s in a row for the card: the transport waits out the first two, the outbox the
    third; the card arrives only after each retry_after has passed."""
    caplog.set_level(logging.WARNING)
    seen: list[tuple[float, str]] = []

    def fault(method: str, params: dict) -> tuple[int, dict] | None:
        if method == "sendMessage" and str(params.get("chat_id")) == str(G1_CHAT):
            refused = sum(1 for _, what in seen if what == "429")
            seen.append((time.monotonic(), "429" if refused < 3 else "ok"))
            return too_many(1) if refused < 3 else None
        return None

    async with world(tmp_path, clock=RunningClock()) as w:
        w.emu.fault = fault
        code = await submit_tip(w, REPORTER)  # the reporter is told before the card is out
        card = await w.until(lambda: (cards_in(w, G1_CHAT, code) or [None])[0], timeout=WAIT_S)
        assert card is not None
        await w.idle()
        await outbox_quiet(w)
        times = [at for at, _ in seen]
        assert [what for _, what in seen] == ["429", "429", "429", "ok"]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= 0.95 for gap in gaps), gaps  # retry_after = 1 s, every time
        tip = await w.tip_by_code(code)

        async def card_rows() -> list[Any]:
            rows = await w.station.db.fetchall(
                "SELECT status, attempts, last_error FROM outbox "
                "WHERE tip_id = ? AND kind = 'card'",
                (tip.id,),
            )
            return rows if all(r["status"] == "sent" for r in rows) else []

        rows = await w.until(card_rows)
        assert [r["attempts"] for r in rows] == [2]  # the RetryAfter, then the delivery
        assert "RetryAfter" in rows[0]["last_error"]
        assert not crashes(caplog, w.emu) and not lost_replies(caplog)


async def test_forbidden_group(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The bot is thrown out of g1: the chat is marked inactive, the officer is told once, new
    cards go to the officer, and the officer's copies stay live."""
    caplog.set_level(logging.WARNING)
    emu = started_emulator()
    try:
        async with world(tmp_path, emu=emu, clock=RunningClock()) as w:
            before = await submit_tip(w, REPORTER)  # its card reaches g1 before the kick
            await w.wait_card(G1_CHAT, before)
            w.emu.fault = lambda method, params: (
                kicked() if str(params.get("chat_id")) == str(G1_CHAT) else None
            )
            after = await submit_tip(w, REPORTER, where=(30.21, 115.05))
            copy = await w.until(lambda: (cards_in(w, OFFICER, after) or [None])[0], timeout=WAIT_S)
            lost_note = plain(t("zh", "chat.group_lost", group="第一小组"))
            await w.until(lambda: lost_note in officer_texts(w))
            assert G1_CHAT in await w.repo.chats.inactive()
            assert not await w.chat_active(G1_CHAT)
            assert cards_in(w, G1_CHAT, after) == []

            # A third tip: its card also goes to the officer; the officer is not told again.
            third = await submit_tip(w, REPORTER, where=(30.22, 115.06))
            await w.until(lambda: cards_in(w, OFFICER, third), timeout=WAIT_S)
            await w.idle()
            await outbox_quiet(w)
            assert officer_texts(w).count(lost_note) == 1

            # The officer works the copy: it is edited like any card.
            answer = await w.press(OFFICER, OFFICER, copy, t("zh", "btn.claim"))
            assert answer["text"] == t("zh", "done.claim", code=after)
            await w.until(
                lambda: "tip:claim" not in str(buttons(w.message(OFFICER, copy["message_id"])))
            )
            # The tip whose card is stuck in g1: a live copy for the officer, who claims it;
            # the g1 card cannot be edited any more, the officer's copy still is.
            old = await officer_copy(w, before)
            answer = await w.press(OFFICER, OFFICER, old, t("zh", "btn.claim"))
            assert answer["text"] == t("zh", "done.claim", code=before)
            await w.idle()
            await outbox_quiet(w)
            shown = w.message(OFFICER, old["message_id"])
            assert "tip:arrive:" in str(buttons(shown)), shown["text"]
            assert not crashes(caplog, w.emu) and not lost_replies(caplog)
    finally:
        emu.stop()


async def test_chat_migrated(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """g1 is upgraded to a supergroup: its next card reaches the new chat id, the officer is
    told, later cards go straight there, and the card left in the old chat is posted again
    in the new one when it changes."""
    caplog.set_level(logging.WARNING)
    emu = started_emulator()
    try:
        async with world(tmp_path, emu=emu, clock=RunningClock()) as w:
            before = await submit_tip(w, REPORTER)
            await w.wait_card(G1_CHAT, before)
            w.emu.migrate_group(G1_CHAT, NEW_G1)
            after = await submit_tip(w, REPORTER, where=(30.21, 115.05))
            card = await w.wait_card(NEW_G1, after)
            note = plain(t("zh", "chat.migrated", group="第一小组", old=G1_CHAT, new=NEW_G1))
            await w.until(lambda: note in officer_texts(w))
            later = await submit_tip(w, REPORTER, where=(30.22, 115.06))
            await w.wait_card(NEW_G1, later)

            # Members work the card in the new chat.
            answer = await w.press(G1_MEMBER, NEW_G1, card, t("zh", "btn.claim"))
            assert answer["text"] == t("zh", "done.claim", code=after)
            await w.wait_card(NEW_G1, after, "赵队员")

            # The card of the first tip is in the old chat, which cannot be written to.
            tip = await w.tip_by_code(before)
            result = await w.services.field.act(tip.id, Action.CLAIM, G1_MEMBER2)
            assert result.ok
            reposted = await w.wait_card(NEW_G1, before, t("zh", "state.claimed"))
            assert "tip:arrive:" in str(buttons(reposted))
            await w.idle()
            await outbox_quiet(w)
            calls = len(w.emu.calls("editMessageText"))
            await asyncio.sleep(1.5)  # nothing keeps retrying in the background
            assert len(w.emu.calls("editMessageText")) == calls
            counts = await w.outbox_counts()
            assert counts.get("pending", 0) == 0, counts
            assert officer_texts(w).count(note) == 1  # told once, however it was learnt
            assert not crashes(caplog, w.emu) and not lost_replies(caplog)
    finally:
        emu.stop()


async def test_deleted_card_is_posted_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with world(tmp_path, clock=RunningClock()) as w:
        code = await submit_tip(w, REPORTER)
        card = await w.wait_card(G1_CHAT, code)
        await outbox_quiet(w)  # the card's location too: it replies to the card
        await asyncio.to_thread(delete_message, w.emu, G1_CHAT, card["message_id"])
        tip = await w.tip_by_code(code)
        assert (await w.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)).ok

        def reposted() -> dict | None:
            fresh = [m for m in cards_in(w, G1_CHAT, code) if m["message_id"] != card["message_id"]]
            return fresh[0] if fresh and t("zh", "state.claimed") in fresh[0]["text"] else None

        new = await w.until(reposted, timeout=WAIT_S)
        await w.idle()
        await outbox_quiet(w)
        assert w.message(G1_CHAT, card["message_id"])["deleted"]
        assert [m.message_id for m in await w.repo.messages.of(tip.id, kind="card")] == [
            new["message_id"]
        ]
        # The new card is the live one: pressing it works and it is edited.
        answer = await w.press(G1_MEMBER, G1_CHAT, new, t("zh", "btn.go"))
        assert answer["text"] == t("zh", "done.go", code=code)
        await w.wait_card(G1_CHAT, code, t("zh", "state.en_route"))
        assert not crashes(caplog, w.emu) and not lost_replies(caplog)
