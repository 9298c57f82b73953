"""End to end, issue 13 items 1–2: where exactly (the spot after the place), the two-tap report
("send now") with its urgent flags, and adding to a submitted tip (amend) — zh and en, over the
Bot API emulator with the real PTB Application. Expected texts come from the catalogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.draft import Step
from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen
from bot.geo import gazetteer
from bot.views.places import distance_text
from tests.harness import (
    CODE,
    G1_CHAT,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    World,
    answer_questions,
    asked,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    review_head,
    send_review,
    spot_head,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

HOTLINE = "0714-0000000"
NEAR_STATION = (30.1595, 114.9355)  # ~334 m north of 黄石站 (the offline gazetteer)
USERS = {"zh": REPORTER, "en": REPORTER_EN}


def near_station(lang: str) -> tuple[str, str]:
    """How a pin at NEAR_STATION is named in ``lang``: (nearest landmark and distance,
    district), worked out from the gazetteer as the views do."""
    near = gazetteer.describe(*NEAR_STATION)
    assert near.landmark is not None and near.landmark.key == "huangshi_station"
    where = tr(
        lang,
        "pin.near",
        place=near.landmark.name(lang),
        distance=distance_text(near.rounded_m),
    )
    return where, near.district.name(lang)


def spot_line(lang: str, typed: str, spot: Spot) -> str:
    """ "距黄石站约 350 m 东侧出站口 · 公园长椅（下陆区）" in ``lang``."""
    where, district = near_station(lang)
    place = f"{where} {typed} · {tr(lang, f'spot.{spot.value}')}"
    return tr(lang, "place.spot_district", place=place, district=district)


async def the_hub(w: World, user: int, lang: str) -> dict:
    """The message after the place, as it is now."""
    hub = await w.next_bot(user, spot_head(lang))
    return hub


async def send_now(w: World, user: int, hub: dict, lang: str) -> str:
    """Press "send now" on the message after the place; the code the receipt gives."""
    return (await press_send_now(w, user, hub, lang))[0]


async def press_send_now(w: World, user: int, hub: dict, lang: str) -> tuple[str, dict]:
    """Press "send now"; the code and the receipt."""
    await w.press(user, user, w.message(user, hub["message_id"]), tr(lang, "btn.send_now"))
    done = await w.next_bot(user, "HS-")
    match = CODE.search(done["text"])
    assert match, done["text"]
    return match.group(0), done


# -- 1. where exactly -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_pin_next_to_the_station_review_card_mytips_and_open_name_it_with_the_spot(
    tmp_path: Path, lang: str
) -> None:
    user = USERS[lang]
    async with world(tmp_path) as w:
        w.mark(user)
        w.emu.send_location(user, *NEAR_STATION)
        hub = await the_hub(w, user, lang)
        # A quick choice: the same message, the choice ticked, "send now" still on it.
        await w.press(user, user, hub, tr(lang, "spot.park_bench"))
        ticked = await w.until(
            lambda: (m := w.message(user, hub["message_id"]))
            and "✅ " + tr(lang, "spot.park_bench") in w.buttons(m)
            and m
        )
        assert tr(lang, "btn.send_now") in w.buttons(ticked)
        # The words typed say where at that spot.
        w.emu.send_text(user, "  东侧出站口 ")
        chosen = f"东侧出站口 · {tr(lang, 'spot.park_bench')}"
        again = await w.next_bot(user, tr(lang, "spot.chosen", spot=chosen))
        assert spot_head(lang) in again["text"]
        draft = await w.repo.drafts.get(user)
        assert draft.step is Step.SPOT
        assert (draft.spot, draft.spot_text) == (Spot.PARK_BENCH, "东侧出站口")
        await w.press(user, user, again, tr(lang, "btn.spot_more"))  # the full path
        echo = asked(["✓ " + tr(lang, "spot.chosen", spot=chosen)], tr(lang, "ask.seen"))
        await w.until(lambda: w.message(user, again["message_id"])["text"] == echo)

        review = await answer_questions_from_seen(w, user, lang)
        assert spot_line(lang, "东侧出站口", Spot.PARK_BENCH) in review["text"], review["text"]
        code = await send_review(w, user, review, lang=lang)

        tip = await w.tip_by_code(code)
        assert (tip.spot, tip.spot_text) == (Spot.PARK_BENCH, "东侧出站口")
        card = await w.wait_card(G1_CHAT, code)  # in the station's language
        expected = "📍 " + spot_line("zh", "东侧出站口", Spot.PARK_BENCH)
        assert expected in card["text"], card["text"]

        w.mark(user)
        w.emu.send_text(user, "/mytips")
        mine = await w.next_bot(user, code)
        assert spot_line(lang, "东侧出站口", Spot.PARK_BENCH) in mine["text"], mine["text"]

        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/open")
        listing = await w.next_bot(OFFICER, code)
        assert expected in listing["text"], listing["text"]


async def answer_questions_from_seen(w: World, user: int, lang: str) -> dict:
    """From the "when" question (the spot is answered) to the review."""
    ask = await w.next_bot(user, tr(lang, "ask.seen"))
    await w.press(user, user, ask, tr(lang, "seen.hour"))
    ask = await w.next_bot(user, tr(lang, "ask.people"))
    await w.press(user, user, ask, tr(lang, "people.2"))
    ask = await w.next_bot(user, tr(lang, "ask.flags"))
    await w.press(user, user, ask, tr(lang, "btn.flags_done"))
    ask = await w.next_bot(user, tr(lang, "ask.description"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    ask = await w.next_bot(user, tr(lang, "ask.photo"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    return await w.next_bot(user, review_head(lang))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_wrong_input_at_the_spot_steps_gets_their_prompt_again(
    tmp_path: Path, lang: str
) -> None:
    user = USERS[lang]
    async with world(tmp_path) as w:

        async def wrong(send, said: str, prompt: str) -> None:
            before = await w.repo.drafts.get(user)
            w.mark(user)
            send()
            await w.next_bot(user, said)
            again = await w.next_bot(user, prompt)
            assert w.buttons(again)  # the step's question, with its buttons
            assert await w.repo.drafts.get(user) == before

        w.mark(user)
        w.emu.send_location(user, *NEAR_STATION)
        await the_hub(w, user, lang)
        head = spot_head(lang)
        too_long = "长" * (SPOT_MAX_CHARS + 1)
        await wrong(lambda: w.emu.send_sticker(user), tr(lang, "wrong.spot"), head)
        await wrong(lambda: w.emu.send_photo(user), tr(lang, "wrong.spot"), head)
        bad = tr(lang, "spot.bad", limit=SPOT_MAX_CHARS)
        await wrong(lambda: w.emu.send_text(user, too_long), bad, head)
        await wrong(
            lambda: w.emu.send_location(user, 30.21, 115.05), tr(lang, "location.already"), head
        )

        # "Other": type it.
        hub = w.bot_msgs(user)[-1]
        w.mark(user)
        await w.press(user, user, hub, tr(lang, "spot.other"))
        typing = tr(lang, "ask.spot_text", limit=SPOT_MAX_CHARS)
        await w.next_bot(user, typing)
        assert (await w.repo.drafts.get(user)).step is Step.SPOT_TEXT
        await wrong(lambda: w.emu.send_voice(user), tr(lang, "wrong.spot_text"), typing)
        await wrong(
            lambda: w.emu.send_text(user, too_long),
            tr(lang, "spot.bad", limit=SPOT_MAX_CHARS),
            typing,
        )
        w.mark(user)
        w.emu.send_text(user, "银行 ATM 旁")
        hub = await w.next_bot(user, tr(lang, "spot.chosen", spot="银行 ATM 旁"))
        draft = await w.repo.drafts.get(user)
        assert (draft.step, draft.spot, draft.spot_text) == (Step.SPOT, Spot.OTHER, "银行 ATM 旁")
        # Nothing was lost on the way: the report goes on and keeps it.
        code = await send_now(w, user, hub, lang)
        tip = await w.tip_by_code(code)
        assert (tip.spot, tip.spot_text) == (Spot.OTHER, "银行 ATM 旁")


async def test_a_hotline_tip_gets_the_same_spot_step(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/newtip")
        await w.next_bot(OFFICER, tr("zh", "ask.location_hotline").split("\n")[0])
        w.emu.send_text(OFFICER, "黄石站")
        confirm = await w.next_bot(OFFICER, tr("zh", "ask.confirm_place"))
        await w.press(OFFICER, OFFICER, confirm, tr("zh", "btn.place_yes", label="黄石站"))
        hub = await the_hub(w, OFFICER, "zh")
        await w.press(OFFICER, OFFICER, hub, tr("zh", "spot.underpass"))
        underpass = "✅ " + tr("zh", "spot.underpass")
        await w.until(lambda: underpass in w.buttons(w.message(OFFICER, hub["message_id"])))
        code, logged = await press_send_now(w, OFFICER, hub, "zh")
        assert logged["text"].startswith(tr("zh", "submit.logged", code=code, group="")[:4])
        card = await w.wait_card(G1_CHAT, code)
        tip = await w.tip_by_code(code)
        assert tip.spot is Spot.UNDERPASS and tip.source == "hotline" and tip.district
        place = f"{tip.place_label} · {tip.address} {tr('zh', 'spot.underpass')}"
        line = tr("zh", "place.spot_district", place=place, district=tip.district)
        assert "📍 " + line in card["text"], card["text"]


# -- 2. the two-tap report --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_location_and_send_now_give_a_tip_code_in_two_updates(
    tmp_path: Path, lang: str
) -> None:
    user = USERS[lang]
    async with world(tmp_path) as w:
        w.mark(user)
        w.emu.send_location(user, *NEAR_STATION)  # update 1
        hub = await the_hub(w, user, lang)
        assert w.buttons(hub)[0] == tr(lang, "btn.send_now")  # first, where a thumb lands
        code, receipt = await press_send_now(w, user, hub, lang)  # update 2
        assert tr(lang, "submit.received", code=code).split("\n")[0] in receipt["text"]
        assert w.emu.pending_updates() == 0
        tip = await w.tip_by_code(code)
        assert tip.seen is Seen.NOW and tip.people is People.ONE and tip.flags == frozenset()
        assert not tip.urgent and tip.spot is None
        card = await w.wait_card(G1_CHAT, code)
        assert tr("zh", "seen.now") in card["text"] and tr("zh", "people.1") in card["text"]
        # The message after the place now reads as a record.
        echo = "✓ " + tr(lang, "spot.skipped")
        await w.until(lambda: w.message(user, hub["message_id"])["text"] == echo)
        assert await w.repo.drafts.get(user) is None


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_urgent_flag_on_the_two_tap_message_gives_the_120_110_advice(
    tmp_path: Path, lang: str
) -> None:
    user = USERS[lang]
    async with world(tmp_path) as w:
        w.mark(user)
        w.emu.send_location(user, *NEAR_STATION)
        hub = await the_hub(w, user, lang)
        await w.press(user, user, hub, "▫️ " + tr(lang, "flag.child"))
        advice = await w.next_bot(user, tr(lang, "urgent.advice"))
        assert "120 / 110" in advice["text"]
        ticked = await w.until(
            lambda: (m := w.message(user, hub["message_id"]))
            and "✅ " + tr(lang, "flag.child") in w.buttons(m)
            and m
        )
        code, receipt = await press_send_now(w, user, ticked, lang)
        assert tr(lang, "submit.received_urgent", code=code).split("\n")[0] in receipt["text"]
        tip = await w.tip_by_code(code)
        assert tip.flags == frozenset({Flag.CHILD}) and tip.urgent
        card = await w.wait_card(G1_CHAT, code)
        assert card["text"].startswith("🔴")


async def test_the_full_path_still_asks_the_spot(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *NEAR_STATION)
        await w.next_bot(REPORTER, tr("zh", "location.ok"))
        review = await answer_questions(w, REPORTER, spot="under_bridge")
        assert tr("zh", "spot.under_bridge") in review["text"]
        code = await send_review(w, REPORTER, review)
        assert (await w.tip_by_code(code)).spot is Spot.UNDER_BRIDGE


# -- 2. adding to a submitted tip ---------------------------------------------------------------


async def _submitted(w: World, user: int, lang: str) -> tuple[str, dict]:
    """A tip by "send now" and the offer to add to it: the receipt carries it (its words
    under the code, its button)."""
    w.mark(user)
    w.emu.send_location(user, *NEAR_STATION)
    hub = await the_hub(w, user, lang)
    code, offer = await press_send_now(w, user, hub, lang)
    minutes = w.config.reporting.amend_minutes
    assert tr(lang, "amend.offer", minutes=minutes) in offer["text"]
    assert w.buttons(offer) == [tr(lang, "btn.amend")]
    return code, offer


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_adding_to_a_submitted_tip_updates_its_card_then_closes_politely(
    tmp_path: Path, lang: str
) -> None:
    user = USERS[lang]
    async with world(tmp_path) as w:
        code, offer = await _submitted(w, user, lang)
        card = await w.wait_card(G1_CHAT, code)
        assert tr("zh", "card.amended", at="", what="").split(" ")[1] not in card["text"]

        await w.press(user, user, offer, tr(lang, "btn.amend"))
        ask = await w.next_bot(user, tr(lang, "amend.ask_code", code=code).split("\n")[0])
        assert tr(lang, "btn.amend_done") in w.buttons(ask)

        # Words: kept, on the card as "补充" with the time, in the event log.
        w.emu.send_text(user, "往磁湖方向走了")
        await w.next_bot(user, tr(lang, "amend.added", code=code))
        added = tr("zh", "card.amended", at="21:00", what="往磁湖方向走了")
        card = await w.wait_card(G1_CHAT, code, added)
        assert card["text"].startswith("🟠")  # not urgent yet

        # A flag: onto the tip (urgent now), with the advice; the card says what was added.
        w.clock.advance(minutes=5)
        more = w.bot_msgs(user)[-1]
        await w.press(user, user, more, "➕ " + tr(lang, "flag.ill"))
        await w.next_bot(user, tr(lang, "urgent.advice"))
        ill = tr("zh", "card.amended", at="21:05", what=tr("zh", "flag.ill"))
        card = await w.wait_card(G1_CHAT, code, ill)
        assert card["text"].startswith("🔴")
        tip = await w.tip_by_code(code)
        assert tip.flags == frozenset({Flag.ILL}) and tip.urgent

        # A photo: to the group, as a reply to the card.
        w.mark(user)
        w.emu.send_photo(user)
        await w.next_bot(user, tr(lang, "amend.added", code=code))
        photos = await w.until(
            lambda: [
                m
                for m in w.bot_msgs(G1_CHAT)
                if m["kind"] == "photo" and code in (m.get("caption") or "")
            ]
        )
        assert photos[0]["reply_to_message_id"] == card["message_id"]
        photo = tr("zh", "card.amended", at="21:05", what=tr("zh", "card.amended_photo"))
        await w.wait_card(G1_CHAT, code, photo)
        amends = await w.events_named("amend")
        assert [e["actor_role"] for e in amends] == ["reporter"] * 3

        # "Done", and after the window a polite refusal pointing to the hotline.
        await w.press(user, user, w.bot_msgs(user)[-1], tr(lang, "btn.amend_done"))
        await w.next_bot(user, tr(lang, "amend.done"))
        assert await w.repo.drafts.get(user) is None
        w.clock.advance(minutes=w.config.reporting.amend_minutes)
        w.mark(user)
        await w.press(user, user, offer, tr(lang, "btn.amend"))
        closed = tr(lang, "amend.too_late", minutes=30, hotline=HOTLINE)
        await w.next_bot(user, closed)
        assert HOTLINE in closed
        # The offer is over: its button goes; the receipt it rides on keeps its words.
        after = w.message(user, offer["message_id"])
        assert w.buttons(after) == [] and after["text"] == offer["text"]
        assert await w.repo.drafts.get(user) is None
        before = (await w.wait_card(G1_CHAT, code))["text"]
        await w.settle()
        assert (await w.wait_card(G1_CHAT, code))["text"] == before
        assert len(await w.events_named("amend")) == 3


async def test_adding_is_refused_once_the_window_passes_while_adding(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code, offer = await _submitted(w, REPORTER, "zh")
        await w.press(REPORTER, REPORTER, offer, tr("zh", "btn.amend"))
        await w.next_bot(REPORTER, tr("zh", "amend.ask_code", code=code).split("\n")[0])
        w.clock.advance(minutes=31)
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "还在那里")
        await w.next_bot(REPORTER, tr("zh", "amend.too_late", minutes=30, hotline=HOTLINE))
        assert await w.repo.amendments.of((await w.tip_by_code(code)).id) == []
        assert await w.repo.drafts.get(REPORTER) is None  # the next message starts afresh


async def test_the_card_never_shows_the_reporters_identity_in_a_spot_or_an_addition(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *NEAR_STATION)
        await the_hub(w, REPORTER, "zh")
        w.emu.send_text(REPORTER, "小梅 13912345678 门口")  # their own name and a phone
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        code, offer = await press_send_now(w, REPORTER, hub, "zh")  # the receipt offers
        assert tr("zh", "amend.offer", minutes=30) in offer["text"]
        await w.press(REPORTER, REPORTER, offer, tr("zh", "btn.amend"))
        await w.next_bot(REPORTER, tr("zh", "amend.ask_code", code=code).split("\n")[0])
        w.emu.send_text(REPORTER, "我是小梅 li_xiaomei_courier 电话 13912345678")
        await w.next_bot(REPORTER, tr("zh", "amend.added", code=code))
        added = tr("zh", "card.amended", at="21:00", what="").rstrip("：: ")
        card = await w.wait_card(G1_CHAT, code, added)
        assert tr("zh", "privacy.phone_hidden") in card["text"]
        for secret in ("小梅", "li_xiaomei_courier", "13912345678", str(REPORTER)):
            assert secret not in card["text"], (secret, card["text"])
        # (and world() checks every group message ever sent, edits included)
