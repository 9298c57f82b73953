"""End to end, the reporter's side: every step of the private flow, its wrong turns, and what
happens after submitting (/mytips, withdrawing, limits, language). The real PTB Application
talks to the Bot API emulator; expected texts come from the catalogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.draft import Source, Step
from bot.domain.spots import Spot
from bot.domain.tips import People, Seen, State
from bot.geo.area import HUANGSHI
from bot.geo.geocoder import Geocoder
from bot.sandbox.emulator import TINY_JPEG
from bot.views.commands import render_help
from tests.fakes.nominatim import FakeNominatim, fake_place
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    G2_CHAT,
    NAMES,
    OUTSIDE,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    answer_questions,
    asked,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    pass_spot,
    plain,
    review_head,
    send_review,
    spot_head,
    submit_tip,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

HOTLINE = "0714-0000000"
STATION = "黄石市救助管理站"
STATION_PIN = (30.1565, 114.9355)  # 黄石站 in the offline gazetteer
CIHU = (30.2030, 115.0480)  # 磁湖 in the offline gazetteer


async def pick_place(w: World, user: int, confirm: dict, label: str) -> None:
    """Press "yes, here" on the place question and wait for the next question: the pressed
    message itself, the choice recorded on it above the exact-spot question and its buttons."""
    answer = await w.press(user, user, confirm, tr("zh", "btn.place_yes", label=label))
    assert answer["text"] is None  # answered silently: the chat shows the result
    chosen = "✓ " + tr("zh", "place.chosen") + f" {label}"
    expected = asked([chosen], tr("zh", "ask.spot"))
    echo = await w.until(lambda: w.message(user, confirm["message_id"])["text"] == expected)
    buttons = w.buttons(w.message(user, confirm["message_id"]))
    assert buttons[0] == tr("zh", "btn.send_now") and echo


# -- typed addresses ------------------------------------------------------------------------


async def test_typed_address_offline_gazetteer_pin_confirm_and_continue(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站门口")  # no /start: a typed place starts a report
        pin = await w.next_of_kind(REPORTER, "venue")
        confirm = await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert pin["message_id"] < confirm["message_id"]  # the pin first, then the question
        assert (pin["venue"]["location"]["latitude"], pin["venue"]["location"]["longitude"]) == (
            STATION_PIN
        )
        assert pin["venue"]["title"] == "黄石站" and pin["venue"]["address"] == "黄石站门口"
        assert w.buttons(confirm) == [
            tr("zh", "btn.place_yes", label="黄石站"),
            tr("zh", "btn.place_none"),
        ]
        # With the offline provider nothing "fell back": no apology for the map service.
        assert not any(
            tr("zh", "address.offline") in (m["text"] or "") for m in w.bot_msgs(REPORTER)
        )
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.step is Step.CONFIRM_PLACE and draft.lat is None
        assert draft.candidates == ((*STATION_PIN, "黄石站"),)

        await pick_place(w, REPORTER, confirm, "黄石站")
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.step is Step.SPOT
        assert (draft.lat, draft.lon) == STATION_PIN
        assert draft.place_label == "黄石站" and draft.address == "黄石站门口"
        assert draft.candidates == ()

        review = await answer_questions(w, REPORTER)
        assert "黄石站" in review["text"]
        code = await send_review(w, REPORTER, review)
        tip = await w.tip_by_code(code)
        assert (tip.lat, tip.lon) == STATION_PIN
        assert tip.place_label == "黄石站" and tip.address == "黄石站门口"
        card = await w.wait_card(G1_CHAT, code)
        assert "黄石站门口" in card["text"]
        venue = await w.until(lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] == "venue"])
        assert venue[0]["venue"]["title"] == "黄石站"
        assert venue[0]["reply_to_message_id"] == card["message_id"]
        # The location keyboard of the first question is gone once the report is in.
        assert w.emu.reply_keyboard(REPORTER) is None
        assert w.api_faults() == []


async def test_typed_address_via_nominatim(tmp_path: Path) -> None:
    canned = {"黄石站": [fake_place(30.1570, 114.9360, "黄石站, 颐阳路, 下陆区, 黄石市, 湖北省")]}
    with FakeNominatim(canned) as fake:
        geocoder = Geocoder(
            provider="nominatim",
            area=HUANGSHI,
            domain=fake.domain,
            scheme="http",
            min_interval=0,
        )
        async with world(tmp_path, geocoder=geocoder) as w:
            w.mark(REPORTER)
            w.emu.send_text(REPORTER, "/report")
            await w.next_bot(REPORTER, tr("zh", "ask.location").split("\n")[0])
            w.emu.send_text(REPORTER, "黄石站门口")
            pin = await w.next_of_kind(REPORTER, "venue")
            confirm = await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
            label = "黄石站, 颐阳路, 下陆区"
            assert pin["venue"]["title"] == label
            assert pin["venue"]["location"] == {"latitude": 30.157, "longitude": 114.936}
            searches = fake.searches()
            assert len(searches) == 1
            assert searches[0].params["q"] == "黄石站门口"
            assert searches[0].params["accept-language"].startswith("zh")
            assert not any(
                tr("zh", "address.offline") in (m["text"] or "") for m in w.bot_msgs(REPORTER)
            )
            await pick_place(w, REPORTER, confirm, label)
            draft = await w.repo.drafts.get(REPORTER)
            assert (draft.lat, draft.lon) == (30.157, 114.936)
            assert draft.place_label == label and draft.step is Step.SPOT
            await w.next_bot(REPORTER, spot_head("zh"))


async def test_typed_address_with_nominatim_down_falls_back_and_says_so(tmp_path: Path) -> None:
    fake = FakeNominatim().start()
    domain = fake.domain
    fake.stop()  # nothing listens there any more: connection refused
    geocoder = Geocoder(
        provider="nominatim", area=HUANGSHI, domain=domain, scheme="http", min_interval=0
    )
    async with world(tmp_path, geocoder=geocoder) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "磁湖边上有人")
        sorry = await w.next_bot(REPORTER, tr("zh", "address.offline"))
        pin = await w.next_of_kind(REPORTER, "venue")
        confirm = await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert sorry["message_id"] < pin["message_id"] < confirm["message_id"]
        assert pin["venue"]["title"] == "磁湖"
        assert (pin["venue"]["location"]["latitude"], pin["venue"]["location"]["longitude"]) == (
            CIHU
        )
        await pick_place(w, REPORTER, confirm, "磁湖")
        draft = await w.repo.drafts.get(REPORTER)
        assert (draft.lat, draft.lon) == CIHU and draft.step is Step.SPOT


async def test_address_that_matches_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "火星基地七号")
        reply = await w.next_bot(REPORTER, tr("zh", "address.not_found", hotline=HOTLINE))
        assert HOTLINE in reply["text"]
        keyboard = w.emu.reply_keyboard(REPORTER)
        assert keyboard["keyboard"][0][0]["request_location"] is True
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.step is Step.LOCATION and draft.lat is None and draft.candidates == ()
        assert not [m for m in w.bot_msgs(REPORTER) if m["kind"] == "venue"]

        # One character is not an address: asked again, nothing looked up.
        w.emu.send_text(REPORTER, "桥")
        await w.next_bot(REPORTER, tr("zh", "address.bad"))
        assert await w.repo.drafts.get(REPORTER) == draft

        # The flow goes on with a real place.
        w.emu.send_location(REPORTER, *CENTRE)
        await w.next_bot(REPORTER, tr("zh", "location.ok"))
        await w.next_bot(REPORTER, spot_head("zh"))


async def test_location_outside_the_service_area_stores_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *OUTSIDE)
        reply = await w.next_bot(
            REPORTER, tr("zh", "location.outside", hotline=HOTLINE, station=STATION)
        )
        assert HOTLINE in reply["text"]
        assert await w.quiet(REPORTER) == []  # no question follows
        draft = await w.repo.drafts.get(REPORTER)
        assert draft is None or (draft.lat is None and draft.step is Step.LOCATION)
        assert await w.repo.tips.get(1) is None
        assert await w.repo.tips.open() == []
        assert await w.repo.tips.of_reporter(REPORTER) == []
        assert w.bot_msgs(G1_CHAT) == [] and w.bot_msgs(G2_CHAT) == []

        # Also in the middle of a report: the pin is refused, the draft keeps no location.
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/report")
        await w.next_bot(REPORTER, tr("zh", "ask.location").split("\n")[0])
        w.emu.send_venue(REPORTER, *OUTSIDE, "外滩", "上海市黄浦区")
        await w.next_bot(REPORTER, tr("zh", "location.outside", hotline=HOTLINE, station=STATION))
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.lat is None and draft.lon is None and draft.place_label is None
        assert draft.step is Step.LOCATION
        assert await w.repo.tips.get(1) is None


# -- wrong turns --------------------------------------------------------------------------------


async def test_wrong_message_types_at_each_step(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        u = REPORTER

        async def wrong(send, expected_key: str, prompt: str | None) -> None:
            before = await w.repo.drafts.get(u)
            w.mark(u)
            send()
            await w.next_bot(u, tr("zh", expected_key))
            if prompt is not None:  # the step's question is asked again, with its buttons
                again = await w.next_bot(u, prompt)
                assert w.buttons(again) or again["text"].startswith("📍")
            assert await w.repo.drafts.get(u) == before

        w.mark(u)
        w.emu.send_text(u, "/report")
        await w.next_bot(u, tr("zh", "ask.location").split("\n")[0])
        await wrong(lambda: w.emu.send_sticker(u), "wrong.location", tr("zh", "ask.location")[:8])

        w.emu.send_location(u, *CENTRE)
        await pass_spot(w, u)
        seen = await w.next_bot(u, tr("zh", "ask.seen"))
        await wrong(lambda: w.emu.send_text(u, "刚才"), "wrong.seen", tr("zh", "ask.seen"))
        await wrong(lambda: w.emu.send_location(u, 30.21, 115.05), "location.already", None)
        assert (await w.repo.drafts.get(u)).lat == CENTRE[0]

        await w.press(u, u, seen, tr("zh", "seen.now"))
        people = await w.next_bot(u, tr("zh", "ask.people"))
        await wrong(lambda: w.emu.send_photo(u), "wrong.people", tr("zh", "ask.people"))

        await w.press(u, u, people, tr("zh", "people.1"))
        flags = await w.next_bot(u, tr("zh", "ask.flags"))
        await wrong(lambda: w.emu.send_text(u, "老人"), "wrong.flags", tr("zh", "ask.flags"))

        await w.press(u, u, flags, tr("zh", "btn.flags_done"))
        description = await w.next_bot(u, tr("zh", "ask.description"))
        await wrong(
            lambda: w.emu.send_voice(u), "wrong.description", tr("zh", "ask.description")[:6]
        )

        await w.press(u, u, description, tr("zh", "btn.skip"))
        await w.next_bot(u, tr("zh", "ask.photo"))
        await wrong(lambda: w.emu.send_text(u, "没拍到"), "wrong.photo", tr("zh", "ask.photo"))
        await wrong(
            lambda: w.emu.send_document(u, b"%PDF-1.4 notes", "notes.pdf", "application/pdf"),
            "wrong.photo",
            tr("zh", "ask.photo"),
        )
        await wrong(  # says it is a JPEG, but is not an image at all
            lambda: w.emu.send_document(u, b"not a jpeg", "IMG_0002.jpg", "image/jpeg"),
            "photo.not_image",
            None,
        )
        draft = await w.repo.drafts.get(u)
        assert draft.step is Step.PHOTO and draft.photo_file_id is None

        # A real photo sent as a file (with its metadata) is taken as a cleaned copy, which the
        # reporter is shown; the draft keeps only that copy.
        w.mark(u)
        w.emu.send_document(u, TINY_JPEG, "IMG_0001.jpg", "image/jpeg")
        clean = await w.next_of_kind(u, "photo")
        assert clean["caption"] == tr("zh", "photo.cleaned")
        review = await w.next_bot(u, review_head("zh"))
        draft = await w.repo.drafts.get(u)
        assert draft.step is Step.REVIEW
        assert draft.photo_file_id == clean["photo"][-1]["file_id"]
        await wrong(lambda: w.emu.send_voice(u), "wrong.review", review_head("zh"))
        await wrong(lambda: w.emu.send_sticker(u), "wrong.review", review_head("zh"))

        # After all that the report is still whole and goes in.
        code = await send_review(w, u, review)
        tip = await w.tip_by_code(code)
        assert tip.seen is Seen.NOW and tip.people is People.ONE and tip.flags == frozenset()
        media = await w.repo.media.of(tip.id)
        assert [(m["kind"], m["file_id"]) for m in media] == [
            ("report_photo", clean["photo"][-1]["file_id"])
        ]
        assert w.api_faults() == []


async def test_location_without_start_starts_a_report(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        # Something a report cannot start from: a hint, and no draft.
        w.emu.send_sticker(REPORTER)
        await w.next_bot(REPORTER, tr("zh", "hint.start"))
        assert await w.repo.drafts.get(REPORTER) is None

        w.emu.send_location(REPORTER, *CENTRE)
        await w.next_bot(REPORTER, tr("zh", "location.ok"))
        hub = await w.next_bot(REPORTER, spot_head("zh"))
        assert w.buttons(hub) == [
            tr("zh", "btn.send_now"),
            *(tr("zh", f"spot.{s.value}") for s in Spot),
            "▫️ " + tr("zh", "flag.child"),
            "▫️ " + tr("zh", "flag.ill"),
            tr("zh", "btn.spot_skip"),
        ]
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.source is Source.REPORTER and draft.step is Step.SPOT
        assert (draft.lat, draft.lon) == CENTRE
        assert w.emu.reply_keyboard(REPORTER) is None


async def test_start_shows_welcome_with_emergency_note_and_report_button(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for user, lang in ((REPORTER, "zh"), (REPORTER_EN, "en")):
            w.mark(user)
            w.emu.send_text(user, "/start")
            welcome = await w.next_bot(
                user,
                tr(
                    lang,
                    "start.welcome",
                    station=STATION,
                    hotline=HOTLINE,
                    reward=tr(lang, "start.reward"),
                ),
            )
            assert "120 / 110" in welcome["text"] and HOTLINE in welcome["text"]
            assert w.buttons(welcome) == [tr(lang, "btn.report")]
            assert await w.repo.drafts.get(user) is None

            await w.press(user, user, welcome, tr(lang, "btn.report"))
            await w.next_bot(user, tr(lang, "ask.location").split("\n")[0])
            keyboard = w.emu.reply_keyboard(user)["keyboard"][0][0]
            assert keyboard == {"text": tr(lang, "btn.send_location"), "request_location": True}
            draft = await w.repo.drafts.get(user)
            assert draft.step is Step.LOCATION and draft.source is Source.REPORTER


async def test_cancel_in_the_middle_deletes_the_draft(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        seen = await w.next_bot(REPORTER, tr("zh", "ask.seen"))
        await w.press(REPORTER, REPORTER, seen, tr("zh", "seen.hour"))
        people = await w.next_bot(REPORTER, tr("zh", "ask.people"))
        assert (await w.repo.drafts.get(REPORTER)).seen is Seen.HOUR

        w.emu.send_text(REPORTER, "/cancel")
        await w.next_bot(REPORTER, tr("zh", "cancel.done"))
        assert await w.repo.drafts.get(REPORTER) is None

        # The old question's buttons are dead now and start nothing.
        answer = await w.press(REPORTER, REPORTER, people, tr("zh", "people.2"))
        assert answer["text"] == tr("zh", "button.stale")
        assert await w.quiet(REPORTER) == []
        assert await w.repo.drafts.get(REPORTER) is None

        w.emu.send_text(REPORTER, "/cancel")
        await w.next_bot(REPORTER, tr("zh", "cancel.nothing"))
        assert await w.repo.tips.get(1) is None


async def test_stale_reporter_button_changes_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        seen = await w.next_bot(REPORTER, tr("zh", "ask.seen"))
        buttons = seen["reply_markup"]["inline_keyboard"]
        await w.press(REPORTER, REPORTER, seen, tr("zh", "seen.now"))
        answered = await w.next_bot(REPORTER, tr("zh", "ask.people"))
        assert answered["message_id"] == seen["message_id"]  # the pressed message, edited
        record = ["✓ " + tr("zh", "spot.skipped"), "✓ " + tr("zh", "seen.now")]
        assert answered["text"] == asked(record, tr("zh", "ask.people"))
        assert w.buttons(answered) == [tr("zh", f"people.{p.value}") for p in People]
        before = await w.repo.drafts.get(REPORTER)

        # The "seen" buttons pressed again (an old client, a double tap): stale, nothing changes.
        for row in buttons:
            answer = await w.press_data(
                REPORTER, REPORTER, seen["message_id"], row[0]["callback_data"]
            )
            assert answer["text"] == tr("zh", "button.stale")
            await w.next_bot(REPORTER, tr("zh", "ask.people"))  # pointed at the live question
            assert await w.repo.drafts.get(REPORTER) == before
        assert before.seen is Seen.NOW and before.step is Step.PEOPLE


# -- after submitting ---------------------------------------------------------------------------


async def test_mytips_and_withdraw_before_claim(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code = await submit_tip(w, REPORTER)
        card = await w.wait_card(G1_CHAT, code)
        assert tr("zh", "btn.claim") in w.buttons(card)

        w.emu.send_text(REPORTER, "/mytips")
        mine = await w.next_bot(REPORTER, code)
        assert mine["text"].startswith(tr("zh", "mytips.head"))
        assert f"{code} · 12-01 21:00 · {tr('zh', 'reporter_state.dispatched')}" in mine["text"]
        assert w.buttons(mine) == [tr("zh", "btn.withdraw", code=code)]

        answer = await w.press(REPORTER, REPORTER, mine, tr("zh", "btn.withdraw", code=code))
        assert answer["text"] == tr("zh", "withdraw.done")
        withdrawn = tr("zh", "reporter_state.withdrawn")
        mine = await w.until(
            lambda: (m := w.message(REPORTER, mine["message_id"]))["edit_date"] and m
        )
        assert withdrawn in mine["text"] and w.buttons(mine) == []

        tip = await w.tip_by_code(code)
        assert tip.state is State.WITHDRAWN and tip.closed_at is not None
        card = await w.wait_card(G1_CHAT, code, tr("zh", "state.withdrawn"))
        assert w.buttons(card) == []
        assert tr("zh", "timeline.withdraw") in card["text"]
        events = [(e["action"], e["actor_id"]) for e in await w.repo.events.of(tip.id)]
        assert events[-1] == ("withdraw", REPORTER)

        # Nobody can claim a withdrawn tip, even with the old button.
        answer = await w.press_data(G1_MEMBER, G1_CHAT, card["message_id"], f"tip:claim:{tip.id}")
        assert answer["text"] == tr(
            "zh", "refused.stale", code=code, state=tr("zh", "state.withdrawn")
        )
        assert (await w.tip_by_code(code)).state is State.WITHDRAWN
        # Nothing in the group identifies the reporter.
        first, username, _ = NAMES[REPORTER]
        for message in w.emu.transcript(G1_CHAT):
            text = (message.get("raw_text") or "") + (message.get("text") or "")
            assert first not in text and username not in text and str(REPORTER) not in text


async def test_withdraw_refused_after_claim(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code = await submit_tip(w, REPORTER)
        card = await w.wait_card(G1_CHAT, code)
        w.emu.send_text(REPORTER, "/mytips")
        mine = await w.next_bot(REPORTER, code)

        await w.press(G1_MEMBER, G1_CHAT, card, tr("zh", "btn.claim"))
        await w.wait_card(G1_CHAT, code, NAMES[G1_MEMBER][0])
        answer = await w.press(REPORTER, REPORTER, mine, tr("zh", "btn.withdraw", code=code))
        assert answer["text"] == tr("zh", "withdraw.too_late") and answer["show_alert"]
        tip = await w.tip_by_code(code)
        assert tip.state is State.CLAIMED and tip.claimed_by == G1_MEMBER

        # Someone else's tip cannot be withdrawn with a forged button.
        w.mark(STRANGER)
        w.emu.send_text(STRANGER, "/mytips")
        nothing = await w.next_bot(STRANGER, tr("zh", "mytips.none"))
        answer = await w.press_data(STRANGER, STRANGER, nothing["message_id"], f"r:wd:{tip.id}")
        assert answer["text"] == tr("zh", "button.invalid")
        denied = await w.events_named("refused:withdraw")
        assert [(e["actor_id"], e["tip_id"]) for e in denied] == [(STRANGER, tip.id)]
        assert (await w.tip_by_code(code)).state is State.CLAIMED


async def test_per_hour_limit_refuses_the_fourth_tip(tmp_path: Path) -> None:
    async with world(tmp_path, max_per_hour="3") as w:
        codes = []
        for _ in range(3):
            codes.append(await submit_tip(w, REPORTER))
            w.clock.advance(minutes=1)
        assert codes == ["HS-0001", "HS-0002", "HS-0003"]

        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        review = await answer_questions(w, REPORTER)
        await w.press(REPORTER, REPORTER, review, tr("zh", "btn.submit"))
        refusal = await w.next_bot(REPORTER, tr("zh", "submit.too_many", limit=3, hotline=HOTLINE))
        assert HOTLINE in refusal["text"]
        assert await w.repo.tips.get(4) is None
        assert len(await w.repo.tips.of_reporter(REPORTER)) == 3
        await w.outbox_idle()
        cards = [m for m in w.bot_msgs(G1_CHAT) if m["text"] and m["text"].startswith("🟠")]
        assert len(cards) == 3
        assert (await w.repo.drafts.get(REPORTER)).step is Step.REVIEW  # kept, not lost

        # An hour after the first one, the same review goes in.
        w.clock.advance(minutes=59)
        await w.press(REPORTER, REPORTER, review, tr("zh", "btn.submit"))
        await w.next_bot(REPORTER, tr("zh", "submit.received", code="HS-0004")[:12])
        assert (await w.repo.tips.get(4)).code == "HS-0004"


async def test_venue_attachment_is_accepted_as_the_location(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_venue(REPORTER, *CIHU, "磁湖", "磁湖路 12 号")
        await w.next_bot(REPORTER, tr("zh", "location.ok"))
        draft = await w.repo.drafts.get(REPORTER)
        assert (draft.lat, draft.lon) == CIHU
        assert draft.place_label == "磁湖" and draft.address == "磁湖路 12 号"
        review = await answer_questions(w, REPORTER)
        assert "磁湖" in review["text"]
        code = await send_review(w, REPORTER, review)
        card = await w.wait_card(G1_CHAT, code)
        assert "磁湖路 12 号" in card["text"]
        pin = await w.until(lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] == "venue"])
        assert pin[0]["venue"]["title"] == "磁湖"


async def test_language_switch_to_english_applies_to_later_notices(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/language")
        choose = await w.next_bot(REPORTER, tr("zh", "language.choose"))
        assert w.buttons(choose) == [tr("zh", "lang.name"), tr("en", "lang.name")]
        await w.press(REPORTER, REPORTER, choose, tr("en", "lang.name"))
        await w.next_bot(REPORTER, tr("en", "language.set"))
        assert (await w.repo.people.languages(REPORTER))[0] == "en"

        code = await submit_tip(w, REPORTER, lang="en")  # every question now in English
        card = await w.wait_card(G1_CHAT, code)
        assert tr("zh", "state.dispatched") in card["text"]  # the group keeps the station's
        await w.press(G1_MEMBER, G1_CHAT, card, tr("zh", "btn.claim"))
        await w.next_bot(REPORTER, tr("en", "notice.claimed", code=code))
        # … and "still there?" (issue 13), in English too.
        await w.next_bot(REPORTER, tr("en", "still.ask", code=code).split("\n")[0])

        w.emu.send_text(REPORTER, "/mytips")
        mine = await w.next_bot(REPORTER, code)
        assert mine["text"].startswith(tr("en", "mytips.head"))
        assert tr("en", "reporter_state.claimed") in mine["text"]

        # And back.
        w.emu.send_text(REPORTER, "/language")
        choose = await w.next_bot(REPORTER, tr("en", "language.choose"))
        await w.press(REPORTER, REPORTER, choose, tr("zh", "lang.name"))
        await w.next_bot(REPORTER, tr("zh", "language.set"))


async def test_long_description_is_cut_and_the_reporter_told(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        limit = w.config.reporting.description_max_chars
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        seen = await w.next_bot(REPORTER, tr("zh", "ask.seen"))
        await w.press(REPORTER, REPORTER, seen, tr("zh", "seen.now"))
        people = await w.next_bot(REPORTER, tr("zh", "ask.people"))
        await w.press(REPORTER, REPORTER, people, tr("zh", "people.2"))
        flags = await w.next_bot(REPORTER, tr("zh", "ask.flags"))
        await w.press(REPORTER, REPORTER, flags, tr("zh", "btn.flags_done"))
        await w.next_bot(REPORTER, tr("zh", "ask.description"))
        w.emu.send_text(REPORTER, "桥下很冷" * 200)  # 800 characters
        await w.next_bot(REPORTER, tr("zh", "description.cut", limit=limit))
        await w.next_bot(REPORTER, tr("zh", "ask.photo"))
        draft = await w.repo.drafts.get(REPORTER)
        assert len(draft.description) == limit and draft.description.endswith("…")
        assert draft.description.startswith("桥下很冷桥下很冷")


# -- commands for everyone, in a private chat ---------------------------------------------------


async def test_whoami_and_help_in_private(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/whoami")
        expected = tr(
            "zh",
            "whoami",
            user_id=REPORTER,
            chat_id=REPORTER,
            chat_type="private",
            role=tr("zh", "role.reporter"),
        )
        assert (await w.next_bot(REPORTER, str(REPORTER)))["text"] == expected

        w.emu.send_text(REPORTER, "/help")
        help_text = (await w.next_bot(REPORTER, tr("zh", "help.reporter", hotline=HOTLINE)))["text"]
        # The reporter's page of /help (bot/views/commands.py): nothing for staff.
        assert help_text == plain(render_help("reporter", "zh", hotline=HOTLINE))

        w.mark(G1_MEMBER)
        w.emu.send_text(G1_MEMBER, "/help")
        help_text = (await w.next_bot(G1_MEMBER, tr("zh", "help.reporter", hotline=HOTLINE)))[
            "text"
        ]
        assert tr("zh", "help.patrol") in help_text and tr("zh", "help.officer") not in help_text

        w.emu.send_text(REPORTER_EN, "/whoami")
        answer = await w.until(lambda: w.bot_msgs(REPORTER_EN))
        assert answer[0]["text"].endswith(tr("en", "role.reporter"))

        w.emu.send_text(REPORTER, "/nonsense")
        await w.next_bot(REPORTER, tr("zh", "unknown_command"))


async def test_flood_guard_drops_excess_with_one_polite_reply(tmp_path: Path) -> None:
    async with world(tmp_path, flood_max="5") as w:
        for _ in range(9):
            w.emu.send_text(REPORTER, "/help")
        await w.idle()
        texts = [m["text"] for m in w.bot_msgs(REPORTER)]
        helps = [x for x in texts if x == plain(render_help("reporter", "zh", hotline=HOTLINE))]
        floods = [x for x in texts if x == tr("zh", "flood")]
        assert len(helps) == 5 and len(floods) == 1 and len(texts) == 6
        assert texts.index(floods[0]) == 5  # the first update over the limit got the reply
