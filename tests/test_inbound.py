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
import datetime as dt
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from telegram import Bot, Update

from bot.db.database import Database
from bot.db.journal import JournalStore
from bot.domain.tips import Action, Outcome
from bot.i18n import t
from bot.inbound import MAX_STARTS, SKIP, InboundJournal
from bot.sandbox.emulator import BotApiEmulator
from bot.views.callbacks import ReporterButton, ROp, TipButton, TipOp
from tests.drivers import poll
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    G2_CHAT,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    World,
    answer_questions,
    cast,
    dispatched,
    pass_spot,
    plain,
    spot_head,
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
        self.edits_seen: dict[int, int] = {}  # message id → its edits when last returned

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.emu.bot_messages(self.user)]

    async def next(self, contains: str, timeout: float = 60.0) -> dict:  # noqa: ASYNC109
        """The first bot message after the mark containing ``contains`` (moves the mark);
        else one returned before and edited since into a question that does (a press makes
        the pressed message the next question)."""
        start = self.mark

        def found() -> dict | None:
            messages = self.emu.bot_messages(self.user)
            for i, message in enumerate(messages[start:], start):
                if contains in (message.get("text") or ""):
                    self.mark = i + 1
                    self.edits_seen[message["message_id"]] = len(message["edits"])
                    return message
            for message in messages[:start]:
                edited = len(message["edits"]) > self.edits_seen.get(message["message_id"], 0)
                if edited and message.get("reply_markup") and contains in (message["text"] or ""):
                    self.edits_seen[message["message_id"]] = len(message["edits"])
                    return message
            return None

        message = await poll(found, timeout)
        assert message is not None, (contains, self.texts()[start:])
        return message


def draft_row(db_path: Path) -> dict:
    db = sqlite3.connect(db_path, timeout=60)
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM drafts WHERE user_id = ?", (REPORTER,)).fetchone()
        return {"step": row["step"], **json.loads(row["data"])} if row else {}
    finally:
        db.close()


def count(db_path: Path, sql: str) -> int:
    db = sqlite3.connect(db_path, timeout=60)
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
        # The outbox works beside the handler: let it finish, so that the kill cannot land
        # between a card's delivery and its record (a duplicate card: at-least-once delivery,
        # see test_crash.py) — not what this test is about.
        idle = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
        assert await poll(lambda: count(db_path, idle) == 0, 60)
        await bot.kill()
        stall.release.set()
        await bot.start()

    try:
        await bot.start()
        emu.send_location(REPORTER, *CENTRE)
        hub = await chat.next(spot_head("zh"))
        emu.press(REPORTER, REPORTER, hub["message_id"], text=tr("zh", "btn.spot_skip"))
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

        # 3. Killed after a press was handled but before Telegram heard it was (the getUpdates
        # that would confirm it is held): Telegram sends it again after the restart, and it
        # must not be handled twice (a second toggle would switch the flag off again).
        with emu._lock:
            press_id = emu._next_update_id  # the id the next update gets
        stall.arm(
            lambda method, params: (
                method == "getUpdates" and int(params.get("offset") or 0) > press_id
            )
        )
        emu.press(REPORTER, REPORTER, flags["message_id"], text=tr("zh", "flag.elderly"))
        assert await poll(
            lambda: count(
                db_path,
                f"SELECT COUNT(*) FROM inbound WHERE update_id = {press_id} AND status = 'done'",
            ),
            60,
        )
        await kill_when_held()
        assert await poll(lambda: emu.pending_updates() == 0, 60)  # sent again and taken
        emu.send_text(REPORTER, "/whoami")  # handled after the copy (one person, in order)
        await chat.next(str(REPORTER))
        assert draft_row(db_path)["flags"] == ["child", "elderly"]

        emu.press(REPORTER, REPORTER, flags["message_id"], text=tr("zh", "btn.flags_done"))
        await chat.next(tr("zh", "ask.description"))

        # 4. Killed after a typed description was saved (the handler waits on the next
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

        # 5. Killed after the tip was committed (the handler waits on the receipt): the
        # reporter gets the code, and there is one tip with one card.
        stall.arm(to_reporter("sendMessage", "HS-"))
        emu.press(REPORTER, REPORTER, review["message_id"], text=tr("zh", "btn.submit"))
        await kill_when_held()
        receipt = await chat.next("HS-")
        assert count(db_path, "SELECT COUNT(*) FROM tips") == 1
        code = receipt["text"].split("HS-")[1][:4]
        # This bot runs on the real clock, so the card goes to the group the roster has on duty
        # today (g1 and g2 take turns at 08:30): it is looked for in every group, once in all.
        cards = await poll(
            lambda: [
                m
                for group in (G1_CHAT, G2_CHAT)
                for m in emu.bot_messages(group)
                if f"HS-{code}" in (m.get("text") or "")
            ],
            60,
        )
        assert cards and len(cards) == 1, cards
        assert not any(tr("zh", "button.stale") in text for text in chat.texts())
        assert not any(tr("zh", "error.generic") in text for text in chat.texts())

        # Each restart after a kill mid-handler replayed the one update it had cut short, from
        # the journal; the restart after a kill between handling and confirming replayed
        # nothing and skipped Telegram's second copy.
        runs = [path.read_text(errors="replace") for path in sorted(logs.glob("bot-*.log"))]
        replayed = [i for i, text in enumerate(runs) if "did not finish" in text]
        # Kill 5 lands while the receipt is being sent. The receipt is an outbox row committed
        # with the tip: whether the handler (deliver_now) or the outbox task was sending it,
        # the outbox delivers it after the restart; the update itself is replayed only if
        # its handler had not finished.
        assert replayed in ([1, 2, 4], [1, 2, 4, 5]), replayed
        assert "not handled twice" in runs[3]
        # Once handled, nothing is left to replay, nor any update's content.
        pending = "SELECT COUNT(*) FROM inbound WHERE status = 'pending' OR body IS NOT NULL"
        assert await poll(lambda: count(db_path, pending) == 0, 60)
        assert not bot.errors(), bot.errors()
        assert await bot.stop() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
        emu.stop()


# -- replays of every kind of handler, in process ---------------------------------------------

R_FLAG, R_WORDS, R_SUBMIT, R_WITHDRAW = 5011, 5012, 5013, 5014  # invented reporters


def lose_done_marks(w: World) -> list[int]:
    """From now on the journal's done marks never make it to the database — as if the bot
    died right after each handler finished (the worst case for a replay: every change and
    every reply was made). Returns the list of update ids whose mark was lost."""
    journal: InboundJournal = w.app.bot_data["journal"]
    lost: list[int] = []

    async def done(handling) -> None:
        lost.append(handling.update_id)

    journal.done = done  # type: ignore[method-assign]
    return lost


def texts(w: World, chat: int) -> list[str]:
    return [m.get("text") or "" for m in w.bot_msgs(chat)]


def answers_with(w: World, text: str) -> list[dict]:
    return [c for c in w.emu.calls("answerCallbackQuery") if c.get("text") == text]


async def test_fr07_replay_of_every_handler_kind_applies_nothing_twice(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    for user, name in ((R_FLAG, "甲"), (R_WORDS, "乙"), (R_SUBMIT, "丙"), (R_WITHDRAW, "丁")):
        emu.add_user(user, f"测试{name}", username=f"fr07_{user}", language_code="zh-hans")
    emu.add_user(OFFICER, "吴值班", started=True)
    db_path = tmp_path / "warmline.sqlite3"
    words = "裹着被子，坐在地下通道口"
    try:
        async with world(tmp_path, emu=emu, db_path=db_path) as w:
            # -- set up, normally: a tip being worked, a reward, drafts at their steps ----------
            tip, card = await dispatched(w, REPORTER)
            asked = await w.press_data(
                G1_MEMBER, G1_CHAT, card["message_id"], TipButton(TipOp.ASK_REPORTER, tip.id).data()
            )
            assert asked is not None
            ask_prompt = plain(t("zh", "ask.prompt", code=tip.code, member="赵队员"))
            prompt = await w.until(
                lambda: [m for m in w.bot_msgs(G1_CHAT) if m.get("text") == ask_prompt]
            )
            paid, _ = await dispatched(w, REPORTER_EN, lang="en", where=(30.21, 115.05))
            for action, outcome in ((Action.CLAIM, None), (Action.ARRIVE, None)):
                assert (await w.services.field.act(paid.id, action, G1_MEMBER, outcome=outcome)).ok
            closed = await w.services.field.act(
                paid.id, Action.CLOSE, G1_MEMBER, outcome=Outcome.BROUGHT_IN
            )
            assert closed.ok
            reward = await w.repo.rewards.for_tip(paid.id)
            assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
            withdrawn, _ = await dispatched(w, R_WITHDRAW, where=(30.22, 115.06))
            w.mark(R_WITHDRAW)
            w.emu.send_text(R_WITHDRAW, "/mytips")
            mine = await w.next_bot(R_WITHDRAW, tr("zh", "mytips.head"))
            for user, where in ((R_FLAG, (30.23, 115.01)), (R_WORDS, (30.24, 115.02))):
                w.mark(user)
                w.emu.send_location(user, *where)
                await w.next_bot(user, tr("zh", "location.ok"))
            await pass_spot(w, R_FLAG)
            ask = await w.next_bot(R_FLAG, tr("zh", "ask.seen"))
            await w.press(R_FLAG, R_FLAG, ask, tr("zh", "seen.now"))
            ask = await w.next_bot(R_FLAG, tr("zh", "ask.people"))
            await w.press(R_FLAG, R_FLAG, ask, tr("zh", "people.1"))
            flags = await w.next_bot(R_FLAG, tr("zh", "ask.flags"))
            await pass_spot(w, R_WORDS)
            ask = await w.next_bot(R_WORDS, tr("zh", "ask.seen"))
            await w.press(R_WORDS, R_WORDS, ask, tr("zh", "seen.now"))
            ask = await w.next_bot(R_WORDS, tr("zh", "ask.people"))
            await w.press(R_WORDS, R_WORDS, ask, tr("zh", "people.1"))
            ask = await w.next_bot(R_WORDS, tr("zh", "ask.flags"))
            await w.press(R_WORDS, R_WORDS, ask, tr("zh", "btn.flags_done"))
            await w.next_bot(R_WORDS, tr("zh", "ask.description"))
            w.mark(R_SUBMIT)
            w.emu.send_location(R_SUBMIT, 30.25, 115.03)
            await w.next_bot(R_SUBMIT, tr("zh", "location.ok"))
            review = await answer_questions(w, R_SUBMIT)
            await w.idle()

            # -- the updates whose done marks are lost: each handler did all it does ------------
            lost = lose_done_marks(w)
            await w.press_data(R_FLAG, R_FLAG, flags["message_id"], "r:flag:child")
            w.emu.send_text(R_WORDS, words)
            await w.press(R_SUBMIT, R_SUBMIT, review, tr("zh", "btn.submit"))
            await w.press_data(
                R_WITHDRAW,
                R_WITHDRAW,
                mine["message_id"],
                ReporterButton(ROp.WITHDRAW, str(withdrawn.id)).data(),
            )
            await w.press_data(
                G1_MEMBER, G1_CHAT, card["message_id"], TipButton(TipOp.CLAIM, tip.id).data()
            )
            w.mark(REPORTER)
            w.emu.send_text(
                G1_MEMBER,
                "他穿什么颜色的衣服？",
                chat_id=G1_CHAT,
                reply_to=prompt[0]["message_id"],
            )
            question = await w.next_bot(REPORTER, "他穿什么颜色的衣服？", timeout=30)
            await w.outbox_idle(30)  # recorded as the question (a person reads, then answers)
            w.emu.send_text(REPORTER, "蓝色外套", reply_to=question["message_id"])
            w.emu.send_photo(G1_MEMBER, chat_id=G1_CHAT, reply_to=card["message_id"])
            w.mark(OFFICER)
            w.emu.send_text(OFFICER, f"/claim {paid.code} WRONG9")
            await w.next_bot(OFFICER, tr("zh", "claim.wrong", left=4), timeout=30)
            await w.idle(30)
            code = only_code(texts(w, R_SUBMIT))
            assert len(lost) == 9, lost
            answer = tr("zh", "ask.answer", code=tip.code, answer="蓝色外套")
            await w.until(lambda: answer in texts(w, G1_CHAT), timeout=30)

        # -- the restart: every lost update is handled again ---------------------------------
        async with world(tmp_path, emu=emu, db_path=db_path) as w:
            await w.idle(30)
            store = JournalStore(w.station.db)
            assert (await store.counts()).get("pending", 0) == 0
            # The flag toggle stays on (a toggle replayed would have switched it off).
            draft = await w.repo.drafts.get(R_FLAG)
            assert {f.value for f in draft.flags} == {"child"}
            # The typed words: saved once, and the photo question asked — not "wrong kind".
            draft = await w.repo.drafts.get(R_WORDS)
            assert draft.step.value == "photo" and draft.description == words
            assert not any(tr("zh", "wrong.photo") in text for text in texts(w, R_WORDS))
            assert sum(tr("zh", "ask.photo") in text for text in texts(w, R_WORDS)) == 2
            # The submit: one tip; the receipt (an outbox row committed with the tip) once —
            # the replay sends nothing more — and never "stale".
            assert len(await w.repo.tips.of_reporter(R_SUBMIT)) == 1
            assert sum(code in text for text in texts(w, R_SUBMIT)) == 1
            assert not any(tr("zh", "button.stale") in text for text in texts(w, R_SUBMIT))
            # The withdrawal and the claim: once each, and never answered "too late"/"stale".
            withdraws = await w.events_named("withdraw")
            assert [e["tip_id"] for e in withdraws] == [withdrawn.id]
            claims = [e for e in await w.repo.events.of(tip.id) if e["action"] == "claim"]
            assert len(claims) == 1
            assert not answers_with(w, t("zh", "withdraw.too_late"))
            stale = t("zh", "refused.stale", code=tip.code, state="").split("：")[0]
            assert not [
                c for c in w.emu.calls("answerCallbackQuery") if stale in str(c.get("text"))
            ]
            # The relayed question and answer reached the other side once each.
            assert sum("他穿什么颜色的衣服？" in text for text in texts(w, REPORTER)) == 1
            assert texts(w, G1_CHAT).count(answer) == 1
            # The evidence photo: stored once (the same file is the same evidence).
            assert await w.repo.media.evidence_count(tip.id) == 1
            # The wrong claim secret counted once.
            reward = await w.repo.rewards.for_tip(paid.id)
            assert reward.claim_tries == 1
    finally:
        emu.stop()


def only_code(chat_texts: list[str]) -> str:
    codes = {m.group(0) for text in chat_texts for m in re.finditer(r"HS-\d{4}", text)}
    assert len(codes) == 1, codes
    return codes.pop()


# -- the journal's bookkeeping ----------------------------------------------------------------


class FakeApp:
    """What ``InboundJournal.replay`` needs of an Application: a bot and the update queue."""

    def __init__(self) -> None:
        self.bot = Bot("123456:TEST-TOKEN")
        self.update_queue: asyncio.Queue = asyncio.Queue()


def raw_text(update_id: int, text: str) -> dict:
    user = {"id": REPORTER, "is_bot": False, "first_name": "小梅"}
    chat = {"id": REPORTER, "type": "private", "first_name": "小梅"}
    message = {"message_id": update_id, "date": 1796000000, "chat": chat, "from": user}
    return {"update_id": update_id, "message": {**message, "text": text}}


async def test_fr07_journal_replays_in_order_skips_copies_and_gives_up_on_poison(
    tmp_path: Path,
) -> None:
    db = await Database(tmp_path / "journal.sqlite3").open()
    try:
        journal = InboundJournal()
        journal.attach(db)
        app = FakeApp()
        assert await journal.receive([raw_text(7, "第一条"), raw_text(8, "第二条")]) == {7, 8}
        first = journal.begin(Update.de_json(raw_text(7, "第一条"), app.bot))
        assert first is not None and first is not SKIP and not first.replay
        await journal.done(first)
        # Telegram sends both again (the bot died before confirming): 7 was handled, 8 is
        # still unfinished; neither copy may be handled now.
        assert await journal.receive([raw_text(7, "第一条"), raw_text(8, "第二条")]) == set()
        for update_id in (7, 8):
            assert journal.begin(Update.de_json(raw_text(update_id, "x"), app.bot)) is SKIP
        store = JournalStore(db)
        bodies = await db.fetchall("SELECT update_id, body IS NULL AS gone FROM inbound")
        assert {row[0]: row[1] for row in bodies} == {7: 1, 8: 0}  # handled: content dropped

        # A start: 8 is queued again (with what it committed) before anything new.
        await journal.receive([raw_text(9, "第三条")])
        async with db.write() as tx:
            await tx.execute('UPDATE inbound SET effects = \'{"flag": ""}\' WHERE update_id = 8')
        restarted = InboundJournal()
        restarted.attach(db)
        assert await restarted.replay(app) == 2
        queued = [app.update_queue.get_nowait() for _ in range(2)]
        assert [u.update_id for u in queued] == [8, 9]
        assert queued[0].message.text == "第二条"
        again = restarted.begin(queued[0])
        assert again.replay and dict(again.effects) == {"flag": ""}
        # The copy Telegram sends now is not the replayed one: skipped.
        await restarted.receive([raw_text(8, "第二条")])
        assert restarted.begin(Update.de_json(raw_text(8, "第二条"), app.bot)) is SKIP

        # 9 is never finished: after MAX_STARTS starts it is given up, and its content dropped.
        for _ in range(MAX_STARTS - 1):
            assert await attached_journal(db).replay(FakeApp()) == 2
        assert await attached_journal(db).replay(FakeApp()) == 0
        counts = await store.counts()
        assert counts == {"done": 1, "abandoned": 2}, counts
        assert not await db.fetchall("SELECT 1 FROM inbound WHERE body IS NOT NULL")
        # Handled entries are forgotten after a day.
        assert await store.prune(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)) == 3
    finally:
        await db.close()


def attached_journal(db: Database) -> InboundJournal:
    journal = InboundJournal()
    journal.attach(db)
    return journal
