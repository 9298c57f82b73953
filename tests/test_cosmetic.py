"""Item 8 of issue 10: a cosmetic call that fails never keeps the next prompt from a person.

Cosmetic calls are the ones that only decorate what a handler has already done: answering a
pressed button's callback query (the spinner, a toast), a chat action ("finding the place…"),
and editing the pressed message (taking the buttons off, redrawing the flag buttons). The edit
that makes the pressed message the next question is not cosmetic: when it fails, the question
comes as a new message — which is what these runs wait for. The emulator fails every one of
them — 5xx, a long flood wait, "query is too old", or no answer in time — while a reporter
goes through a whole report (typed address, every step, a toggle, submit) and a patrol member
claims the card. Every step must still be saved and followed by its next question, with no
error logged and no "something went wrong".
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.i18n import t
from bot.views.callbacks import TipButton, TipOp
from tests.harness import (
    G1_CHAT,
    G1_MEMBER,
    REPORTER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    review_head,
    spot_head,
    tr,
    world,
)

pytestmark = pytest.mark.usefixtures("clean_log")  # no ERROR record in any of these

T = 60.0  # generous bound on each wait (busy machines); never a speed check
READ_TIMEOUT = 0.25  # the client's patience in the timeout case (the transport doubles it)
SLOWER = 1.8  # seconds: slower than all three attempts' patience (0.25 + 0.5 + 1.0)

COSMETIC = ("answerCallbackQuery", "sendChatAction", "editMessageText", "editMessageReplyMarkup")


class CosmeticFaults:
    """Fails every cosmetic call (callback answers and chat actions anywhere, edits of the
    reporter's messages — the cards' edits are the outbox's, not cosmetic) in one way."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        if method.startswith("editMessage"):
            if str(params.get("chat_id")) != str(REPORTER):
                return None
        elif method not in ("answerCallbackQuery", "sendChatAction"):
            return None
        if self.kind == "too_old" and method != "answerCallbackQuery":
            return None
        with self.lock:
            self.hits[method] += 1
        if self.kind == "503":
            return 503, {"ok": False, "error_code": 503, "description": "Service Unavailable"}
        if self.kind == "flood":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 40",
                "parameters": {"retry_after": 40},
            }
        if self.kind == "too_old":
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: query is too old and response timeout expired "
                "or query ID is invalid",
            }
        time.sleep(SLOWER)  # "timeout": carried out, but after the client gave up
        return None


async def step(w: World, user: int, message: dict, label: str, expect: str) -> dict:
    """Press ``label`` on ``message`` (without waiting for the callback answer, which may
    never come) and return the bot's next message containing ``expect``."""
    w.emu.press(user, user, message["message_id"], text=label)
    return await w.next_bot(user, expect, timeout=T)


async def report_and_claim(w: World) -> str:
    """A whole report from a typed address, then a claim of its card; the tip's code."""
    user = REPORTER
    w.mark(user)
    w.emu.send_text(user, "黄石站门口")
    confirm = await w.next_bot(user, tr("zh", "ask.confirm_place"), timeout=T)
    hub = await step(w, user, confirm, tr("zh", "btn.place_yes", label="黄石站"), spot_head("zh"))
    ask = await step(w, user, hub, tr("zh", "btn.spot_skip"), tr("zh", "ask.seen"))
    ask = await step(w, user, ask, tr("zh", "seen.now"), tr("zh", "ask.people"))
    flags = await step(w, user, ask, tr("zh", "people.1"), tr("zh", "ask.flags"))
    w.emu.press(user, user, flags["message_id"], text=tr("zh", "flag.elderly"))

    async def toggled() -> bool:
        draft = await w.repo.drafts.get(user)
        return draft is not None and {f.value for f in draft.flags} == {"elderly"}

    await w.until(toggled, timeout=T)
    flags = w.message(user, flags["message_id"])
    ask = await step(w, user, flags, tr("zh", "btn.flags_done"), tr("zh", "ask.description"))
    ask = await step(w, user, ask, tr("zh", "btn.skip"), tr("zh", "ask.photo"))
    review = await step(w, user, ask, tr("zh", "btn.skip"), review_head("zh"))
    receipt = await step(w, user, review, tr("zh", "btn.submit"), "HS-")
    code = "HS-" + receipt["text"].split("HS-")[1][:4]
    tip = await w.tip_by_code(code)
    assert tip is not None and {f.value for f in tip.flags} == {"elderly"}

    card = await w.until(lambda: w.card(G1_CHAT, code), timeout=T)
    w.emu.press_button(
        G1_MEMBER, G1_CHAT, card["message_id"], TipButton(TipOp.CLAIM, tip.id).data()
    )
    claimed = tr("zh", "state.claimed")
    await w.until(lambda: claimed in (w.card(G1_CHAT, code) or {}).get("text", ""), timeout=T)
    return code


@pytest.mark.parametrize("kind", ["503", "flood", "too_old", "timeout"])
async def test_fr08_failing_cosmetic_calls_never_block_the_next_prompt(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    faults = CosmeticFaults(kind)
    overrides = {"read_timeout": READ_TIMEOUT} if kind == "timeout" else {}
    async with world(tmp_path, overrides=overrides) as w:
        w.emu.fault = faults
        code = await report_and_claim(w)
        await w.idle(T)
        w.emu.fault = None
        texts = [m.get("text") or "" for m in w.bot_msgs(REPORTER)]
        assert not any(tr("zh", "error.generic") in text for text in texts), texts
        generic = t("zh", "error.generic")
        assert not [c for c in w.emu.calls("answerCallbackQuery") if c.get("text") == generic]
        assert (await w.tip_by_code(code)).claimed_by == G1_MEMBER
        # Every kind of cosmetic call was failed (the class, not one example).
        wanted = ("answerCallbackQuery",) if kind == "too_old" else COSMETIC
        assert all(faults.hits[method] for method in wanted), faults.hits
        # Each failure is one WARNING line, without a traceback.
        warned = [
            r
            for r in caplog.records
            if r.levelname == "WARNING" and ("not done" in r.msg or "could not edit" in r.msg)
        ]
        assert warned and not any(r.exc_info for r in warned)
