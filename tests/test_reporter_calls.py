"""Bot API calls per reporter button press, counted at the emulator (issue 16, target 4).

A press costs at most two calls: the answer to the press (the client's spinner) and one edit
that makes the pressed message the next question, the answer kept on it. The exceptions, each
said in README's reporter flow: "send" (and "send now") — three: the receipt is its own
message (from the outbox row written with the tip, delivered once) and carries the offer to
add (its words and button: the 📍 keyboard went with the place, so there is no removal for
it to carry), and the pressed one keeps a record; "none of these" — three: the place is
asked again with the 📍 reply keyboard, which an edit cannot carry; the one flag press that
makes the report urgent — three: the 120/110 advice is its own message, on purpose, so that
it stays in the chat.

A count, not a timing: each press is handled to the end (``World.idle``) before the calls it
made are read from the emulator's request log.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from bot.domain.draft import Draft, NoneOfThese, SetSeen, SkipPhoto, SpotBack, Step
from bot.domain.tips import Seen
from bot.i18n import t
from bot.views import reporter as rv
from tests.harness import (
    CENTRE,
    G1_CHAT,
    REPORTER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    review_head,
    spot_head,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

ANSWER, EDIT, MARKUP, SEND = (
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendMessage",
)


def _for_reporter(params: dict, user: int) -> bool:
    """A call the reporter's press made: in their chat, or the answer to a press."""
    return str(params.get("chat_id")) == str(user) or "callback_query_id" in params


class Counter:
    """Presses a button by its text and says which Bot API calls the press made."""

    def __init__(self, w: World, user: int) -> None:
        self.w, self.user = w, user
        self.costs: list[tuple[str, list[str]]] = []

    async def press(self, message: dict, text: str) -> list[str]:
        current = self.w.message(self.user, message["message_id"])
        calls = await self.calls_of(self.w.press(self.user, self.user, current, text))
        self.costs.append((text, calls))
        return calls

    async def calls_of(self, pressed: Awaitable[object]) -> list[str]:
        """The calls made for the reporter from ``pressed`` until everything is handled."""
        await self.w.idle()
        start = len(self.w.emu.requests)
        await pressed
        await self.w.idle()
        return [
            method
            for _, method, params in list(self.w.emu.requests)[start:]
            if method != "getUpdates" and _for_reporter(params, self.user)
        ]


def assert_receipt_offers(w: World, user: int, lang: str = "zh", minutes: int = 30) -> dict:
    """The reporter's last message is the receipt, with the offer to add under it (its words
    and its one button), and no 📍 keyboard is left in the chat."""
    receipt = w.bot_msgs(user)[-1]
    text = receipt["text"] or ""
    assert "HS-" in text and text.endswith(tr(lang, "amend.offer", minutes=minutes)), text
    assert w.buttons(receipt) == [tr(lang, "btn.amend")]
    assert w.emu.reply_keyboard(user) is None
    return receipt


async def test_every_press_of_the_full_path_costs_at_most_two_calls(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        c = Counter(w, REPORTER)
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        # The message after the place: a choice, "other" and back, an urgent flag on and off.
        assert await c.press(hub, tr("zh", "spot.park_bench")) == [ANSWER, EDIT]
        assert await c.press(hub, tr("zh", "spot.other")) == [ANSWER, EDIT]
        assert await c.press(hub, tr("zh", "btn.spot_back")) == [ANSWER, EDIT]
        assert await c.press(hub, "▫️ " + tr("zh", "flag.child")) == [ANSWER, EDIT, SEND]
        assert await c.press(hub, "✅ " + tr("zh", "flag.child")) == [ANSWER, EDIT]
        assert await c.press(hub, tr("zh", "btn.spot_more")) == [ANSWER, EDIT]
        # The rest of the full path: every question is the pressed message, edited.
        assert await c.press(hub, tr("zh", "seen.hour")) == [ANSWER, EDIT]
        assert await c.press(hub, tr("zh", "people.2")) == [ANSWER, EDIT]
        assert await c.press(hub, "▫️ " + tr("zh", "flag.elderly")) == [ANSWER, MARKUP]
        assert await c.press(hub, "▫️ " + tr("zh", "flag.ill")) == [ANSWER, MARKUP, SEND]
        assert await c.press(hub, tr("zh", "btn.flags_done")) == [ANSWER, EDIT]
        assert await c.press(hub, tr("zh", "btn.skip")) == [ANSWER, EDIT]  # no words
        assert await c.press(hub, tr("zh", "btn.skip")) == [ANSWER, EDIT]  # no photo
        assert review_head("zh") in w.message(REPORTER, hub["message_id"])["text"]
        # "Send": the receipt is its own message and carries the offer to add; the review's
        # buttons go.
        sent = await c.press(hub, tr("zh", "btn.submit"))
        assert sorted(sent) == sorted([ANSWER, SEND, MARKUP])
        await w.wait_card(G1_CHAT, "HS-")
        assert_receipt_offers(w, REPORTER)

        # The urgent flags made the report urgent (the advice), on the message after the
        # place and at the flags question; every other press: two calls at most.
        exceptions = {tr("zh", "btn.submit"), "▫️ " + tr("zh", "flag.child")}
        exceptions.add("▫️ " + tr("zh", "flag.ill"))
        over = [(text, calls) for text, calls in c.costs if len(calls) > 2]
        assert {text for text, _ in over} == exceptions, over
        assert len(c.costs) == 14


async def test_the_place_buttons_and_send_now(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        c = Counter(w, REPORTER)
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站门口")
        confirm = await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        # "None of these": the place is asked again with the 📍 reply keyboard (an edit
        # cannot carry one), so the question is a new message.
        assert await c.press(confirm, tr("zh", "btn.place_none")) == [ANSWER, EDIT, SEND]
        assert w.emu.reply_keyboard(REPORTER) is not None
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站门口")
        confirm = await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert w.emu.reply_keyboard(REPORTER) is None  # gone with the pin shown back
        # "That is the place": the pressed message is the exact-spot question.
        assert await c.press(confirm, tr("zh", "btn.place_yes", label="黄石站")) == [ANSWER, EDIT]
        assert spot_head("zh") in w.message(REPORTER, confirm["message_id"])["text"]
        # "Send now": the receipt with the offer to add, and the pressed message as a record
        # (the place and the spot).
        sent = await c.press(confirm, tr("zh", "btn.send_now"))
        assert sorted(sent) == sorted([ANSWER, SEND, EDIT])
        assert_receipt_offers(w, REPORTER)
        chosen = "✓ " + tr("zh", "place.chosen") + " 黄石站"
        recorded = "\n".join((chosen, "✓ " + tr("zh", "spot.skipped")))
        assert w.message(REPORTER, confirm["message_id"])["text"] == recorded
        await w.wait_card(G1_CHAT, "HS-")


async def test_a_stale_press_costs_two_calls(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        c = Counter(w, REPORTER)
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        data = [b["callback_data"] for row in hub["reply_markup"]["inline_keyboard"] for b in row]
        await c.press(hub, tr("zh", "btn.spot_skip"))
        # The spot's "more details" again (a double tap, an old copy): the question the
        # reporter is at, as a new message, and a word on the press.
        again = w.press_data(REPORTER, REPORTER, hub["message_id"], data[-1])
        assert await c.calls_of(again) == [ANSWER, SEND]
        assert tr("zh", "ask.seen") in w.bot_msgs(REPORTER)[-1]["text"]


async def test_the_record_kept_on_a_pressed_message() -> None:
    """View level: the answers a message shows are kept (as HTML), "back" takes back the
    "✓ other" it undoes, the review replaces the record, the 📍 question cannot ride on an
    edit, and a loop of presses cannot grow the message without bound."""
    draft = Draft(user_id=REPORTER, step=Step.SEEN, lat=30.2, lon=115.04, place_label="A<B")
    placed = "✓ " + t("zh", "place.chosen") + " A&lt;B"
    people = replace(draft, step=Step.PEOPLE)
    text, markup = rv.next_question(placed, SetSeen(Seen.NOW), people, "zh")
    assert text == placed + "\n✓ " + t("zh", "seen.now") + "\n\n" + t("zh", "ask.people")
    assert isinstance(markup, InlineKeyboardMarkup)
    other = "✓ " + t("zh", "spot.other")
    spot = replace(draft, step=Step.SPOT)
    text, _ = rv.next_question(placed + "\n" + other + "\n\nx", SpotBack(), spot, "zh")
    assert rv.record(text) == [placed]
    review, _ = rv.next_question(placed, SkipPhoto(), replace(draft, step=Step.REVIEW), "zh")
    assert rv.record(review) == [] and review == rv.review(replace(draft, step=Step.REVIEW), "zh")
    assert rv.next_question(placed, NoneOfThese(), replace(draft, step=Step.LOCATION), "zh") is None
    none = placed + "\n✓ " + t("zh", "place.none")
    assert rv.answered(placed, NoneOfThese(), draft, "zh") == none
    shown = "\n".join([other] * 20) + "\n\nx"
    text, _ = rv.next_question(shown, SetSeen(Seen.NOW), people, "zh")
    assert len(rv.record(text)) == 8
