"""Item 7 of issue 10: an update Telegram delivered is not lost when the bot dies mid-handler.

``warmline run`` runs as a subprocess; the emulator's fault hook holds one chosen Bot API
call of a handler until the test has SIGKILLed the bot, so the kill lands deterministically
while that handler runs — before its change is saved, or after it. PTB has confirmed the
update to Telegram by then (the next getUpdates offset), so only the inbound journal can
bring it back. After the restart the reporter must get the prompt of the step they are at,
and the press or message must have been applied exactly once.

The in-process tests cover the replay of every kind of handler after *everything* was
applied (the worst case for idempotency: only the journal's done mark was lost), Telegram
sending an update again, and the journal's bookkeeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from telegram import Update

from bot.db.database import Database
from bot.db.journal import JournalStore
from bot.domain.tips import Action
from bot.i18n import t
from bot.inbound import MAX_STARTS, SKIP, InboundJournal
from bot.sandbox.emulator import BotApiEmulator
from tests.drivers import poll
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    answer_questions,
    cast,
    dispatched,
    plain,
    submit_tip,
    tr,
    world,
)
from tests.test_crash import BotProcess, write_config

Match = Callable[[str, dict], bool]


class Stall:
    """A fault hook that holds the first call matching ``arm``'s predicate until released
    (the handler that made it is stuck there), and counts getUpdates (``BotProcess.start``
    waits for the first poll of each run)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.get_updates = 0
        self.match: Match | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()

    def arm(self, match: Match) -> None:
        with self.lock:
            self.match = match
            self.arrived.clear()
            self.release.clear()

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        with self.lock:
            if method == "getUpdates":
                self.get_updates += 1
                return None
            held = self.match is not None and self.match(method, params)
            if held:
                self.match = None
        if not held:
            return None
        self.arrived.set()
        self.release.wait(60)
        return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def to_reporter(method: str, contains: str | None = None) -> Match:
    def match(name: str, params: dict) -> bool:
        if name != method or str(params.get("chat_id")) != str(REPORTER):
            return False
        return contains is None or contains in str(params.get("text") or "")

    return match


class Chat:
    """The reporter's side of the private chat, read from the emulator."""

    def __init__(self, emu: BotApiEmulator, user: int) -> None:
        self.emu = emu
        self.user = user
        self.mark = 0

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.emu.bot_messages(self.user)]

    async def next(self, contains: str, timeout: float = 60.0) -> dict:  # noqa: ASYNC109
        """The first bot message after the mark containing ``contains`` (moves the mark)."""
        start = self.mark

        def found() -> dict | None:
            messages = self.emu.bot_messages(self.user)
            for i, message in enumerate(messages[start:], start):
                if contains in (message.get("text") or ""):
                    self.mark = i + 1
                    return message
            return None

        message = await poll(found, timeout)
        assert message is not None, (contains, self.texts()[start:])
        return message


def draft_row(db_path: Path) -> dict:
    db = sqlite3.connect(db_path, timeout=10)
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM drafts WHERE user_id = ?", (REPORTER,)).fetchone()
        return {"step": row["step"], **json.loads(row["data"])} if row else {}
    finally:
        db.close()


def count(db_path: Path, sql: str) -> int:
    db = sqlite3.connect(db_path, timeout=10)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


async def test_fr07_sigkill_mid_handler_replays_the_update_once(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    stall = Stall()
    emu.fault = stall
    cast(emu)
    config_path, db_path = write_config(emu, tmp_path)
    env = {
        **os.environ,
        "WARMLINE_TOKEN": emu.token,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = BotProcess(config_path, env, logs, stall)  # type: ignore[arg-type]
    chat = Chat(emu, REPORTER)

    async def kill_when_held() -> None:
        assert await poll(stall.arrived.is_set, 60), "the handler never made the held call"
        await bot.kill()
        stall.release.set()
        await bot.start()

    try:
        await bot.start()
        emu.send_location(REPORTER, *CENTRE)
        ask = await chat.next(tr("zh", "ask.seen"))

        # 1. Killed before the step is saved (the handler waits on answering the press).
        stall.arm(lambda method, params: method == "answerCallbackQuery")
        emu.press(REPORTER, REPORTER, ask["message_id"], text=tr("zh", "seen.now"))
        await kill_when_held()
        ask = await chat.next(tr("zh", "ask.people"))
        assert draft_row(db_path)["seen"] == "now"

        emu.press(REPORTER, REPORTER, ask["message_id"], text=tr("zh", "people.1"))
        flags = await chat.next(tr("zh", "ask.flags"))

        # 2. Killed after a toggle was saved (the handler waits on re-drawing the buttons):
        # the replay must not toggle it back.
        stall.arm(lambda method, params: method == "editMessageReplyMarkup")
        emu.press(REPORTER, REPORTER, flags["message_id"], text=tr("zh", "flag.child"))
        await kill_when_held()
        await chat.next(tr("zh", "urgent.advice"))
        assert draft_row(db_path)["flags"] == ["child"]
        shown = emu.message(REPORTER, flags["message_id"])
        assert "✅" in str(shown["reply_markup"]), shown["reply_markup"]  # the toggle is drawn

        emu.press(REPORTER, REPORTER, flags["message_id"], text=tr("zh", "btn.flags_done"))
        await chat.next(tr("zh", "ask.description"))

        # 3. Killed after a typed description was saved (the handler waits on the next
        # question): the reporter gets that question, not "wrong kind of message".
        words = "穿灰色棉衣，躺在公交站的长椅上"
        stall.arm(to_reporter("sendMessage", t("zh", "ask.photo")))
        emu.send_text(REPORTER, words)
        await kill_when_held()
        ask = await chat.next(tr("zh", "ask.photo"))
        assert draft_row(db_path)["description"] == words
        assert not any(tr("zh", "wrong.photo") in text for text in chat.texts())

        emu.press(REPORTER, REPORTER, ask["message_id"], text=tr("zh", "btn.skip"))
        review = await chat.next(words)

        # 4. Killed after the tip was committed (the handler waits on the receipt): the
        # reporter gets the code, and there is one tip with one card.
        stall.arm(to_reporter("sendMessage", "HS-"))
        emu.press(REPORTER, REPORTER, review["message_id"], text=tr("zh", "btn.submit"))
        await kill_when_held()
        receipt = await chat.next("HS-")
        assert count(db_path, "SELECT COUNT(*) FROM tips") == 1
        code = receipt["text"].split("HS-")[1][:4]
        cards = await poll(
            lambda: [
                m for m in emu.bot_messages(G1_CHAT) if f"HS-{code}" in (m.get("text") or "")
            ],
            60,
        )
        assert cards and len(cards) == 1, cards
        assert not any(tr("zh", "button.stale") in text for text in chat.texts())
        assert not any(tr("zh", "error.generic") in text for text in chat.texts())

        # Each restart replayed the one update the kill had cut short, from the journal.
        replays = [
            path.name
            for path in sorted(logs.glob("bot-*.log"))
            if "did not finish" in path.read_text(errors="replace")
        ]
        assert len(replays) == 4, replays
        assert count(db_path, "SELECT COUNT(*) FROM inbound WHERE status = 'pending'") == 0
        assert count(db_path, "SELECT COUNT(*) FROM inbound WHERE body IS NOT NULL") == 0
        assert not bot.errors(), bot.errors()
        assert await bot.stop() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
        emu.stop()
