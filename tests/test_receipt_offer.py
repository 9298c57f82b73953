"""The receipt carries the offer to add (issue 16, target 4: "send" costs three Bot API calls).

The 📍 reply keyboard cannot share a message with an inline button, so the receipt could
carry the offer only once no path to "send" leaves that keyboard to it: it goes when the place
is settled or shown back. Every way there is played here, from a chat where the keyboard is
shown, and each ends with the receipt (the code, then the offer and its button) and no
keyboard (the emulator keeps each chat's reply keyboard as Telegram would). Where its removal
could not be sent (Telegram failing at that moment), the draft remembers it and the receipt
removes it, the offer then its own message; a pin replayed after a crash takes it off again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.db.journal import JournalStore
from bot.domain.draft import Step
from bot.domain.tips import Action, Outcome
from bot.i18n import t
from bot.sandbox.emulator import BotApiEmulator
from bot.transport import MAX_TRIES
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    FakeClock,
    World,
    answer_questions,
    send_review,
    spot_head,
    tr,
    world,
)
from tests.test_e2e_spots import NEAR_STATION, press_send_now
from tests.test_inbound import lose_done_marks
from tests.test_reporter_calls import ANSWER, EDIT, SEND, Counter, assert_receipt_offers

pytestmark = pytest.mark.asyncio

STATION_PIN = (30.1570, 114.9360)  # 黄石站 in the offline gazetteer


async def keyboard_shown(w: World, user: int, lang: str = "zh") -> None:
    """A new report: the first question, with the 📍 keyboard."""
    w.mark(user)
    w.emu.send_text(user, "/report")
    await w.next_bot(user, tr(lang, "ask.location").split("\n")[0])
    assert w.emu.reply_keyboard(user) is not None


async def typed(w: World, user: int, text: str) -> dict:
    """A typed address, shown back; the "is this the place?" question."""
    w.emu.send_text(user, text)
    return await w.next_bot(user, tr("zh", "ask.confirm_place"))


async def send_now_from_hub(w: World, user: int, lang: str = "zh") -> str:
    hub = await w.next_bot(user, spot_head(lang))
    code, _ = await press_send_now(w, user, hub, lang)
    return code


async def test_every_way_to_send_ends_with_the_receipt_offering_and_no_location_keyboard(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, max_per_hour="50") as w:

        async def pin() -> str:
            w.emu.send_location(REPORTER, *CENTRE)
            return await send_now_from_hub(w, REPORTER)

        async def venue() -> str:
            w.emu.send_venue(REPORTER, *STATION_PIN, "黄石站", "颐阳路")
            return await send_now_from_hub(w, REPORTER)

        async def typed_that_is_the_place() -> str:
            confirm = await typed(w, REPORTER, "黄石站门口")
            await w.press(REPORTER, REPORTER, confirm, tr("zh", "btn.place_yes", label="黄石站"))
            return await send_now_from_hub(w, REPORTER)

        async def typed_another_match_full_path() -> str:
            confirm = await typed(w, REPORTER, "大冶")
            another = tr("zh", "btn.place_other", label="")
            other = [b for b in w.buttons(confirm) if b.startswith(another)]
            await w.press(REPORTER, REPORTER, confirm, other[0])
            review = await answer_questions(w, REPORTER)
            return await send_review(w, REPORTER, review)

        async def typed_then_a_pin() -> str:
            await typed(w, REPORTER, "黄石站门口")
            w.emu.send_location(REPORTER, *STATION_PIN)  # instead of a button
            return await send_now_from_hub(w, REPORTER)

        async def none_of_these_then_a_pin() -> str:
            confirm = await typed(w, REPORTER, "黄石站门口")
            await w.press(REPORTER, REPORTER, confirm, tr("zh", "btn.place_none"))
            await w.next_bot(REPORTER, tr("zh", "ask.location").split("\n")[0])
            assert w.emu.reply_keyboard(REPORTER) is not None  # offered again
            w.emu.send_location(REPORTER, *CENTRE)
            return await send_now_from_hub(w, REPORTER)

        async def not_found_then_a_pin() -> str:
            w.emu.send_text(REPORTER, "火星基地七号")
            await w.next_bot(REPORTER, tr("zh", "address.not_found", hotline="0714-0000000"))
            assert w.emu.reply_keyboard(REPORTER) is not None
            w.emu.send_location(REPORTER, *CENTRE)
            return await send_now_from_hub(w, REPORTER)

        async def spot_typed() -> str:
            w.emu.send_location(REPORTER, *NEAR_STATION)
            hub = await w.next_bot(REPORTER, spot_head("zh"))
            await w.press(REPORTER, REPORTER, hub, tr("zh", "spot.other"))
            w.emu.send_text(REPORTER, "东侧出站口")
            return await send_now_from_hub(w, REPORTER)

        async def photo_then_send() -> str:
            w.emu.send_location(REPORTER, *CENTRE)
            review = await answer_questions(w, REPORTER, description="裹着被子", photo=True)
            return await send_review(w, REPORTER, review)

        async def photo_skipped_then_send() -> str:
            w.emu.send_location(REPORTER, *CENTRE)
            review = await answer_questions(w, REPORTER, spot="park_bench")
            return await send_review(w, REPORTER, review)

        async def urgent_send_now() -> str:
            w.emu.send_location(REPORTER, *CENTRE)
            hub = await w.next_bot(REPORTER, spot_head("zh"))
            await w.press(REPORTER, REPORTER, hub, "▫️ " + tr("zh", "flag.child"))
            await w.next_bot(REPORTER, tr("zh", "urgent.advice"))
            code, _ = await press_send_now(w, REPORTER, hub, "zh")
            return code

        ways: dict[str, Callable[[], Awaitable[str]]] = {
            "pin": pin,
            "venue": venue,
            "typed address, that is the place": typed_that_is_the_place,
            "typed address, another match, full path": typed_another_match_full_path,
            "typed address, then a pin": typed_then_a_pin,
            "none of these, then a pin": none_of_these_then_a_pin,
            "address not found, then a pin": not_found_then_a_pin,
            "the spot typed": spot_typed,
            "a photo, then send": photo_then_send,
            "no photo, then send": photo_skipped_then_send,
            "urgent, send now": urgent_send_now,
        }
        codes = []
        for name, way in ways.items():
            await keyboard_shown(w, REPORTER)
            code = await way()
            receipt = assert_receipt_offers(w, REPORTER)
            assert code in receipt["text"], name
            codes.append(code)
        # A pin sent while adding to the last tip: a new report, sent the same way.
        await w.press(REPORTER, REPORTER, receipt, tr("zh", "btn.amend"))
        await w.next_bot(REPORTER, tr("zh", "amend.ask_code", code=codes[-1]).split("\n")[0])
        w.mark(REPORTER)
        codes.append(await pin())
        assert_receipt_offers(w, REPORTER)
        assert len(set(codes)) == len(ways) + 1
        for code in codes:
            await w.wait_card(G1_CHAT, code)
        assert w.api_faults() == []


async def test_the_english_receipt_offers_too_and_a_hotline_tip_has_no_offer(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        await keyboard_shown(w, REPORTER_EN, "en")
        w.emu.send_location(REPORTER_EN, *CENTRE)
        await send_now_from_hub(w, REPORTER_EN, "en")
        assert_receipt_offers(w, REPORTER_EN, "en")

        # An officer's hotline tip: no offer (not the caller's chat), no keyboard left — the
        # receipt still takes one off (its /report's, here).
        w.emu.send_text(OFFICER, "/start")
        await w.idle()
        w.emu.send_text(OFFICER, "/report")
        await w.idle()
        assert w.emu.reply_keyboard(OFFICER) is not None
        w.emu.send_text(OFFICER, "/newtip")
        w.mark(OFFICER)
        w.emu.send_location(OFFICER, *CENTRE)
        review = await answer_questions(w, OFFICER)
        code = await send_review(w, OFFICER, review)
        logged = w.bot_msgs(OFFICER)[-1]
        assert code in logged["text"] and tr("zh", "amend.offer", minutes=30) not in logged["text"]
        assert w.buttons(logged) == []
        assert w.emu.reply_keyboard(OFFICER) is None


async def test_a_digest_mode_station_gives_the_same_receipt(tmp_path: Path) -> None:
    async with world(tmp_path, digest="1") as w:
        await keyboard_shown(w, REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await send_now_from_hub(w, REPORTER)
        assert_receipt_offers(w, REPORTER)


async def test_with_additions_off_the_receipt_offers_nothing(tmp_path: Path) -> None:
    async with world(tmp_path, sections="amend_minutes = 0\n") as w:
        c = Counter(w, REPORTER)
        await keyboard_shown(w, REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        assert await c.press(hub, tr("zh", "btn.send_now")) in (
            [ANSWER, SEND, EDIT],
            [ANSWER, EDIT, SEND],
        )
        receipt = w.bot_msgs(REPORTER)[-1]
        assert "HS-" in receipt["text"] and w.buttons(receipt) == []
        assert tr("zh", "amend.offer", minutes=0) not in receipt["text"]
        assert w.emu.reply_keyboard(REPORTER) is None


def failing(text: str) -> Callable[[str, dict], tuple[int, dict] | None]:
    """A fault hook: every sendMessage carrying ``text`` fails (Telegram's 500)."""

    def fault(method: str, params: dict) -> tuple[int, dict] | None:
        if method == "sendMessage" and text in str(params.get("text") or ""):
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        return None

    return fault


async def test_a_removal_that_could_not_be_sent_is_made_by_the_receipt(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await keyboard_shown(w, REPORTER)
        await pin_whose_answer_fails(w)
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.step is Step.SPOT and draft.keyboard_left
        # The reporter goes on (typed words say where) and sends it: the receipt takes the
        # keyboard off, and the offer comes as its own message (one call more, this once).
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "东侧出站口")
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        c = Counter(w, REPORTER)
        sent = await c.press(hub, tr("zh", "btn.send_now"))
        assert sorted(sent) == sorted([ANSWER, SEND, EDIT, SEND])
        assert w.emu.reply_keyboard(REPORTER) is None
        offer = w.bot_msgs(REPORTER)[-1]
        receipt = w.bot_msgs(REPORTER)[-2]
        assert "HS-" in receipt["text"] and w.buttons(receipt) == []
        assert offer["text"] == tr("zh", "amend.offer", minutes=30)
        assert w.buttons(offer) == [tr("zh", "btn.amend")]


async def pin_whose_answer_fails(w: World) -> None:
    """The reporter sends the pin and Telegram fails every try of its answer, which carries
    the 📍 keyboard's removal: the keyboard still shows."""
    w.emu.fault = failing(tr("zh", "location.ok"))
    w.emu.send_location(REPORTER, *CENTRE)
    await w.until(lambda: _failed(w), timeout=30)
    await w.idle()
    w.emu.fault = None
    assert w.emu.reply_keyboard(REPORTER) is not None


def _failed(w: World) -> bool:
    """The pin's answer was tried and failed (the transport's tries are over)."""
    text = tr("zh", "location.ok")
    tried = [c for c in w.emu.calls("sendMessage") if text in str(c.get("text") or "")]
    return len(tried) >= MAX_TRIES


async def test_a_pin_replayed_after_a_crash_takes_the_keyboard_off(tmp_path: Path) -> None:
    db_path = tmp_path / "warmline.sqlite3"
    emu = BotApiEmulator().start()
    try:
        async with world(tmp_path, emu=emu, db_path=db_path) as w:
            await keyboard_shown(w, REPORTER)
            store = JournalStore(w.station.db)

            async def journal_done() -> bool:  # "/report" is not replayed
                return (await store.counts()).get("pending", 0) == 0

            await w.emu.until(journal_done, timeout=30)
            # The pin is taken (the draft saved), then the bot "dies" before its answer went:
            # its done mark is lost and Telegram fails the answer.
            lose_done_marks(w)
            w.emu.fault = failing(tr("zh", "location.ok"))
            w.emu.send_location(REPORTER, *CENTRE)
            await w.until(lambda: _failed(w), timeout=30)
            await w.idle()
            assert (await w.repo.drafts.get(REPORTER)).step is Step.SPOT
            assert w.emu.reply_keyboard(REPORTER) is not None
        emu.fault = None
        async with world(tmp_path, emu=emu, db_path=db_path) as w:
            await w.idle(30)
            # Replayed: the pin of the draft's place is the one that settled it — answered as
            # the first time, the keyboard with it; the report is where it was.
            assert w.emu.reply_keyboard(REPORTER) is None
            shown = [m.get("text") or "" for m in w.bot_msgs(REPORTER)]
            assert tr("zh", "location.ok") in shown[-2] and spot_head("zh") in shown[-1]
            assert sum(tr("zh", "ask.location").split("\n")[0] in text for text in shown) == 1
            assert (await w.repo.drafts.get(REPORTER)).step is Step.SPOT
    finally:
        emu.stop()


async def test_a_pin_once_the_place_is_settled_takes_the_keyboard_off(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await keyboard_shown(w, REPORTER)
        await pin_whose_answer_fails(w)
        # The reporter sends the pin again (the keyboard invites it): "already have it", and
        # the keyboard goes with that answer.
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await w.next_bot(REPORTER, tr("zh", "location.already"))
        assert w.emu.reply_keyboard(REPORTER) is None
        assert (await w.repo.drafts.get(REPORTER)).step is Step.SPOT


async def test_the_offer_on_the_receipt_after_a_restart_when_closed_and_while_busy(
    tmp_path: Path,
) -> None:
    emu = BotApiEmulator().start()
    db_path = tmp_path / "warmline.sqlite3"
    clock = FakeClock()
    try:
        async with world(tmp_path, emu=emu, db_path=db_path, clock=clock) as w:
            await keyboard_shown(w, REPORTER)
            w.emu.send_location(REPORTER, *CENTRE)
            first = await send_now_from_hub(w, REPORTER)
            receipt = assert_receipt_offers(w, REPORTER)
            w.emu.send_location(REPORTER, 30.21, 115.05)
            second = await send_now_from_hub(w, REPORTER)
            later = assert_receipt_offers(w, REPORTER)
            await w.idle()
        async with world(tmp_path, emu=emu, db_path=db_path, clock=clock) as w:
            # After a restart the receipt's button still opens the additions to its tip.
            w.mark(REPORTER)
            await w.press(REPORTER, REPORTER, receipt, tr("zh", "btn.amend"))
            await w.next_bot(REPORTER, tr("zh", "amend.ask_code", code=first).split("\n")[0])
            # While a report is in progress, the button says so and asks its question again;
            # the receipt keeps its words and its button.
            await w.press(REPORTER, REPORTER, w.bot_msgs(REPORTER)[-1], tr("zh", "btn.amend_done"))
            await w.next_bot(REPORTER, tr("zh", "amend.done"))
            w.emu.send_location(REPORTER, 30.22, 115.06)
            await w.next_bot(REPORTER, spot_head("zh"))
            answer = await w.press(REPORTER, REPORTER, later, tr("zh", "btn.amend"))
            assert answer is not None and answer.get("text") == t("zh", "amend.busy")
            await w.next_bot(REPORTER, spot_head("zh"))
            assert w.message(REPORTER, later["message_id"])["text"] == later["text"]
            assert w.buttons(w.message(REPORTER, later["message_id"])) == [tr("zh", "btn.amend")]
            w.emu.send_text(REPORTER, "/cancel")
            await w.idle()
            # A stale offer (its tip closed since): "closed to additions", the button goes,
            # the receipt (its code) stays as it was.
            tip = await w.tip_by_code(second)
            assert tip is not None
            for action, extra in ((Action.CLAIM, {}), (Action.ARRIVE, {})):
                assert (await w.services.field.act(tip.id, action, G1_MEMBER, **extra)).ok
            closed = await w.services.field.act(
                tip.id, Action.CLOSE, G1_MEMBER, outcome=Outcome.BROUGHT_IN
            )
            assert closed.ok
            w.mark(REPORTER)
            await w.press(REPORTER, REPORTER, later, tr("zh", "btn.amend"))
            await w.next_bot(REPORTER, tr("zh", "amend.closed", hotline="0714-0000000"))
            shown = w.message(REPORTER, later["message_id"])
            assert shown["text"] == later["text"] and second in shown["text"]
            assert w.buttons(shown) == []
    finally:
        emu.stop()
