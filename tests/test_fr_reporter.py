"""Issue 10 ("field-ready"), the reporter's items: each test is named after its item
(``test_fr05_…`` is item 5) and failed on the code before the fix.

End to end through the Bot API emulator, expected texts from the catalogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.geo import gazetteer
from bot.geo.area import HUANGSHI
from tests.harness import (
    G1_CHAT,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    plain,
    review_head,
    send_review,
    tr,
    world,
)

pytestmark = [pytest.mark.usefixtures("clean_log")]

STATION_PIN = (30.1565, 114.9355)  # 黄石站 in the offline gazetteer
NEAR_STATION = (30.1595, 114.9355)  # ~334 m north of it
FAR_PIN = (29.95, 115.10)  # inside the service area, ~16 km from any landmark


def seen_prompt(lang: str) -> str:
    return tr(lang, "ask.seen")


async def settle_and_reach_seen(w: World, user: int, lang: str = "zh") -> dict:
    """Wait for the "when did you see them" question (the place is settled)."""
    return await w.next_bot(user, seen_prompt(lang))


# -- item 10: the 📍 keyboard goes as soon as the place is settled, whichever way -------------


async def _start_report(w: World, user: int, command: str) -> None:
    w.mark(user)
    w.emu.send_text(user, command)
    key = "ask.location_hotline" if command == "/newtip" else "ask.location"
    await w.next_bot(user, tr("zh", key).split("\n")[0])


async def _typed_and_confirmed(w: World, user: int, text: str, button: str) -> None:
    w.emu.send_text(user, text)
    confirm = await w.next_bot(user, tr("zh", "ask.confirm_place"))
    labels = [b for b in w.buttons(confirm) if b.startswith(button)]
    assert labels, w.buttons(confirm)
    await w.press(user, user, confirm, labels[0])


async def test_fr10_every_way_of_settling_the_place_removes_the_location_keyboard(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        await w.idle()

        async def pin(user: int) -> None:
            w.emu.send_location(user, *STATION_PIN)

        async def venue(user: int) -> None:
            w.emu.send_venue(user, *STATION_PIN, "黄石站", "颐阳路")

        async def typed_first(user: int) -> None:
            await _typed_and_confirmed(w, user, "黄石站门口", tr("zh", "btn.place_yes", label=""))

        async def typed_other(user: int) -> None:
            other = tr("zh", "btn.place_other", label="")
            await _typed_and_confirmed(w, user, "大冶", other)

        async def typed_rejected_then_pin(user: int) -> None:
            w.emu.send_text(user, "黄石站门口")
            confirm = await w.next_bot(user, tr("zh", "ask.confirm_place"))
            await w.press(user, user, confirm, tr("zh", "btn.place_none"))
            await w.next_bot(user, tr("zh", "ask.location").split("\n")[0])
            # Still looking for the place: the 📍 button is offered again.
            assert w.emu.reply_keyboard(user) is not None
            w.emu.send_location(user, *STATION_PIN)

        ways = {
            "pin": pin,
            "venue": venue,
            "typed address, first match": typed_first,
            "typed address, another match": typed_other,
            "typed address rejected, then a pin": typed_rejected_then_pin,
        }
        for name, settle in ways.items():
            await _start_report(w, REPORTER, "/report")
            # The reporter is offered the 📍 button while the place is open …
            assert w.emu.reply_keyboard(REPORTER) is not None, name
            await settle(REPORTER)
            await settle_and_reach_seen(w, REPORTER)
            await w.idle()
            # … and it is gone once the place is settled.
            assert w.emu.reply_keyboard(REPORTER) is None, name
            draft = await w.repo.get_draft(REPORTER)
            assert draft.lat is not None, name
            w.emu.send_text(REPORTER, "/cancel")
            await w.idle()

        # The hotline: the officer's own position is not the caller's place, so /newtip
        # never offers the 📍 button, and no keyboard is left whichever way the place comes.
        for name, settle in (("hotline, typed", typed_first), ("hotline, pin", pin)):
            w.emu.send_text(OFFICER, "/report")  # leaves the 📍 keyboard in the officer's chat
            await w.idle()
            assert w.emu.reply_keyboard(OFFICER) is not None
            await _start_report(w, OFFICER, "/newtip")
            await w.idle()
            assert w.emu.reply_keyboard(OFFICER) is None, name
            await settle(OFFICER)
            await settle_and_reach_seen(w, OFFICER)
            await w.idle()
            assert w.emu.reply_keyboard(OFFICER) is None, name
            w.emu.send_text(OFFICER, "/cancel")
            await w.idle()
        assert w.api_faults() == []


# -- item 11: the flags step asks a question and every answered step echoes it ---------------


async def _answered(w: World, user: int, prompt: dict, expected: str) -> None:
    """The prompt was replaced by the record of the answer, without buttons."""

    def done() -> bool:
        message = w.message(user, prompt["message_id"])
        return message["text"] == expected and not w.buttons(message)

    try:
        await w.until(done)
    except TimeoutError:
        raise AssertionError((expected, w.message(user, prompt["message_id"]))) from None


async def _walk_with_echoes(
    w: World, user: int, lang: str, flags: tuple[str, ...], flags_echo: str
) -> None:
    w.mark(user)
    w.emu.send_location(user, *STATION_PIN)
    ask = await w.next_bot(user, tr(lang, "ask.seen"))
    await w.press(user, user, ask, tr(lang, "seen.now"))
    await _answered(w, user, ask, "✓ " + tr(lang, "seen.now"))
    ask = await w.next_bot(user, tr(lang, "ask.people"))
    await w.press(user, user, ask, tr(lang, "people.1"))
    await _answered(w, user, ask, "✓ " + tr(lang, "people.1"))

    ask = await w.next_bot(user, tr(lang, "ask.flags"))
    # A question, not a dangling "choose several, then tap Done:".
    question = plain(ask["text"]).strip()
    assert not question.endswith((":", "：")), question
    assert ("？" if lang == "zh" else "?") in question, question
    for flag in flags:
        await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, f"flag.{flag}"))
    await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, "btn.flags_done"))
    await _answered(w, user, ask, flags_echo)

    ask = await w.next_bot(user, tr(lang, "ask.description"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    await _answered(w, user, ask, "✓ " + tr(lang, "description.skipped"))
    ask = await w.next_bot(user, tr(lang, "ask.photo"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    await _answered(w, user, ask, "✓ " + tr(lang, "photo.skipped"))
    review = await w.next_bot(user, review_head(lang))
    await send_review(w, user, review, lang=lang)


async def test_fr11_flags_step_asks_and_every_answered_step_echoes(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        chosen = "✓ " + "、".join((tr("zh", "flag.elderly"), tr("zh", "flag.underdressed")))
        assert chosen == "✓ 老人、衣着单薄"
        await _walk_with_echoes(w, REPORTER, "zh", ("elderly", "underdressed"), chosen)
        await _walk_with_echoes(w, REPORTER, "zh", (), "✓ " + tr("zh", "flags.none"))
        en = "✓ " + ", ".join((tr("en", "flag.elderly"), tr("en", "flag.underdressed")))
        await _walk_with_echoes(w, REPORTER_EN, "en", ("elderly", "underdressed"), en)
        await _walk_with_echoes(w, REPORTER_EN, "en", (), "✓ " + tr("en", "flags.none"))


# -- item 12: a bare pin is shown as the nearest known place, with distance and district -----


def test_fr12_nearest_place_and_its_limit() -> None:
    at = gazetteer.describe(*STATION_PIN)
    assert at.landmark.key == "huangshi_station" and at.at and at.rounded_m == 0
    assert at.district.key == "xialu"
    near = gazetteer.describe(*NEAR_STATION)
    assert near.landmark.key == "huangshi_station" and not near.at
    assert near.rounded_m == 350
    far = gazetteer.describe(*FAR_PIN)
    assert HUANGSHI.contains(*FAR_PIN)
    assert far.landmark is None and far.district.key == "yangxin"
    # The limit: a landmark just inside it is named, just beyond it is not.
    lat, lon = STATION_PIN
    step = 0.0001
    inside = next(
        (lat + k * step, lon)
        for k in range(1000)
        if gazetteer.nearest_landmark(lat + (k + 1) * step, lon)[1] > gazetteer.NEAR_MAX_M
    )
    assert gazetteer.describe(*inside).landmark is not None
    assert gazetteer.nearest_landmark(inside[0] + step, lon)[1] > gazetteer.NEAR_MAX_M
    # The placeholder point of the relief station never names a pin.
    station = gazetteer.get("relief_station")
    assert gazetteer.describe(station.lat, station.lon).landmark.key != "relief_station"


async def _review_and_card(w: World, user: int, where: tuple[float, float], lang: str):
    w.mark(user)
    w.emu.send_location(user, *where)
    ask = await w.next_bot(user, tr(lang, "ask.seen"))
    await w.press(user, user, ask, tr(lang, "seen.now"))
    ask = await w.next_bot(user, tr(lang, "ask.people"))
    await w.press(user, user, ask, tr(lang, "people.1"))
    ask = await w.next_bot(user, tr(lang, "ask.flags"))
    await w.press(user, user, ask, tr(lang, "btn.flags_done"))
    ask = await w.next_bot(user, tr(lang, "ask.description"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    ask = await w.next_bot(user, tr(lang, "ask.photo"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    review = await w.next_bot(user, review_head(lang))
    code = await send_review(w, user, review, lang=lang)
    card = await w.wait_card(G1_CHAT, code)
    return review["text"], card


async def test_fr12_pin_shown_as_nearest_place_on_review_and_card(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        cases = (
            (REPORTER, "zh", STATION_PIN, "黄石站（0 m） · 下陆区"),
            (REPORTER, "zh", NEAR_STATION, "距黄石站约 350 m · 下陆区"),
            (REPORTER_EN, "en", STATION_PIN, "Huangshi Railway Station (0 m) · Xialu District"),
            (REPORTER, "zh", FAR_PIN, "阳新县 · 29.95000, 115.10000"),
        )
        for user, lang, where, expected in cases:
            review, card = await _review_and_card(w, user, where, lang)
            assert expected in review, review
            # The card is in the station's language (zh) whoever reported.
            zh = expected if lang == "zh" else "黄石站（0 m） · 下陆区"
            assert f"📍 {zh}" in card["text"], card["text"]
            # Raw numbers only where nothing known is near …
            if where != FAR_PIN:
                assert f"{where[0]:.5f}" not in review and f"{where[0]:.5f}" not in card["text"]
            # … and the map links (in the right coordinate systems) stay as they were.
            assert card["raw_text"].count("<a href=") == 4, card["raw_text"]
        assert w.api_faults() == []
