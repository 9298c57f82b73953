"""Issue 10 ("field-ready"), the reporter's items: each test is named after its item
(``test_fr05_…`` is item 5) and failed on the code before the fix.

End to end through the Bot API emulator, expected texts from the catalogs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import sqlite3
import zoneinfo
from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain.draft import Draft, Source, Step
from bot.domain.outbox import Html, Msg
from bot.domain.relay import QState, Question, answer_target
from bot.domain.rewards import (
    Campaign,
    Claimant,
    Ineligible,
    eligibility,
    first_reporter,
    prospect,
    secret_matches,
)
from bot.domain.tips import Outcome, People, Seen
from bot.geo import gazetteer
from bot.geo.area import HUANGSHI
from bot.sandbox.emulator import BotApiEmulator, parse_html
from bot.views.cards import render_digest
from tests.drivers import FLOW, poll
from tests.drivers import People as Drivers
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    FakeClock,
    World,
    asked,
    cast,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    config_text,
    pass_spot,
    plain,
    review_head,
    send_review,
    submit_tip,
    tr,
    world,
)
from tests.test_crash import BotProcess, Tap
from tests.test_e2e_rewards import close_as, officer_says
from tests.test_e2e_story import report_by_pin
from tests.test_fuzz import _pinned_tip

pytestmark = [pytest.mark.usefixtures("clean_log")]

STATION_PIN = (30.1565, 114.9355)  # 黄石站 in the offline gazetteer
NEAR_STATION = (30.1595, 114.9355)  # ~334 m north of it
FAR_PIN = (29.95, 115.10)  # inside the service area, ~16 km from any landmark


def seen_prompt(lang: str) -> str:
    return tr(lang, "ask.seen")


async def settle_and_reach_seen(w: World, user: int, lang: str = "zh") -> dict:
    """Wait for the "when did you see them" question (the place is settled; no spot)."""
    await pass_spot(w, user, lang=lang)
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
            draft = await w.repo.drafts.get(REPORTER)
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


async def _answered(w: World, user: int, prompt: dict, record: list[str], question: str) -> None:
    """The pressed prompt became the next question: the record of the answers given on it
    (this one last), then ``question`` with its buttons."""
    expected = asked(record, question)

    def done() -> bool:
        message = w.message(user, prompt["message_id"])
        return message["text"] == expected and bool(w.buttons(message))

    try:
        await w.until(done)
    except TimeoutError:
        raise AssertionError((expected, w.message(user, prompt["message_id"]))) from None


async def _walk_with_echoes(
    w: World, user: int, lang: str, flags: tuple[str, ...], flags_echo: str
) -> None:
    w.mark(user)
    w.emu.send_location(user, *STATION_PIN)
    hub = await pass_spot(w, user, lang=lang)
    record = ["✓ " + tr(lang, "spot.skipped")]
    ask = await w.next_bot(user, tr(lang, "ask.seen"))
    assert ask["message_id"] == hub["message_id"]  # the pressed message, edited
    await w.press(user, user, ask, tr(lang, "seen.now"))
    record.append("✓ " + tr(lang, "seen.now"))
    await _answered(w, user, ask, record, tr(lang, "ask.people"))
    ask = await w.next_bot(user, tr(lang, "ask.people"))
    await w.press(user, user, ask, tr(lang, "people.1"))
    record.append("✓ " + tr(lang, "people.1"))
    await _answered(w, user, ask, record, tr(lang, "ask.flags"))

    ask = await w.next_bot(user, tr(lang, "ask.flags"))
    # A question, not a dangling "choose several, then tap Done:".
    question = plain(ask["text"]).split("\n\n")[-1].strip()
    assert not question.endswith((":", "：")), question
    assert ("？" if lang == "zh" else "?") in question, question
    for flag in flags:
        await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, f"flag.{flag}"))
    await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, "btn.flags_done"))
    record.append(flags_echo)
    await _answered(w, user, ask, record, tr(lang, "ask.description"))

    ask = await w.next_bot(user, tr(lang, "ask.description"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    record.append("✓ " + tr(lang, "description.skipped"))
    await _answered(w, user, ask, record, tr(lang, "ask.photo"))
    ask = await w.next_bot(user, tr(lang, "ask.photo"))
    await w.press(user, user, ask, tr(lang, "btn.skip"))
    # The review shows every answer itself (the record gives way to it).
    review = await w.next_bot(user, review_head(lang))
    assert review["message_id"] == hub["message_id"]
    assert not review["text"].startswith("✓"), review["text"]
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


def test_fr12_digest_line_names_a_bare_pin() -> None:
    tip = replace(
        _pinned_tip(), lat=STATION_PIN[0], lon=STATION_PIN[1], address=None, place_label=None
    )
    text, _ = parse_html(render_digest([tip], "zh", SHANGHAI))
    assert "📍 黄石站（0 m） · 下陆区" in text, text
    # A typed place keeps its words.
    typed = replace(tip, address="黄石站门口", place_label="黄石站", district="下陆区")
    text, _ = parse_html(render_digest([typed], "zh", SHANGHAI))
    assert "📍 下陆区 · 黄石站" in text and "（0 m）" not in text, text


async def _review_and_card(w: World, user: int, where: tuple[float, float], lang: str):
    w.mark(user)
    w.emu.send_location(user, *where)
    await pass_spot(w, user, lang=lang)
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


# -- item 14: a reward is promised (and a claim secret issued) only if the rules can pay it --

CAMPAIGN = Campaign(dt.date(2026, 11, 21), dt.date(2027, 3, 15))
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


# The campaign window, station time: (moment, inside?)
WINDOW = {
    "the evening before it starts": (_local(2026, 11, 20, 23, 30), False),
    "its first half hour": (_local(2026, 11, 21, 0, 30), True),
    "mid-campaign": (_local(2026, 12, 1, 21, 0), True),
    "its last evening": (_local(2027, 3, 15, 23, 30), True),
    "just after it ended": (_local(2027, 3, 16, 0, 30), False),
}
KINDS = ("public", "member", "leader", "officer", "hotline")


def _expected(kind: str, inside: bool, capped: bool) -> Ineligible | None:
    if kind == "hotline":
        return Ineligible.NO_REPORTER
    if kind != "public":
        return Ineligible.STAFF
    if not inside:
        return Ineligible.OUTSIDE_CAMPAIGN
    return Ineligible.MONTHLY_CAP if capped else None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("when", sorted(WINDOW))
@pytest.mark.parametrize("capped", (False, True), ids=("below-cap", "cap-reached"))
def test_fr14_prospect_table(kind: str, when: str, capped: bool) -> None:
    moment, inside = WINDOW[when]
    got = prospect(
        reporter_id=None if kind == "hotline" else 42,
        reporter_is_staff=kind in ("member", "leader", "officer"),
        local_day=moment.astimezone(SHANGHAI).date(),
        campaign=CAMPAIGN,
        rewards_this_month=3 if capped else 2,
        monthly_cap=3,
    )
    assert got is _expected(kind, inside, capped)
    # What is promised at submission agrees with what is decided when the tip is verified.
    if kind != "hotline":
        claimant = Claimant(1, 42, moment, kind != "public")
        later = eligibility(
            outcome=Outcome.BROUGHT_IN,
            claimant=claimant,
            first=first_reporter([claimant]),
            rewards_this_month=3 if capped else 2,
            monthly_cap=3,
            local_day=moment.astimezone(SHANGHAI).date(),
            campaign=CAMPAIGN,
        )
        assert later is got


async def _submit_now(w: World, user: int, source: Source = Source.REPORTER):
    draft = replace(
        Draft(user_id=user, source=source).with_location(*CENTRE, None, None),
        step=Step.REVIEW,
        seen=Seen.NOW,
        people=People.ONE,
    )
    await w.services.reports.save(draft)
    result = await w.services.reports.submit(user)
    assert result.value is not None, result.refusal
    return result.value


async def test_fr14_only_what_the_rules_can_give_is_promised(tmp_path: Path) -> None:
    """Reporter kinds × the campaign window × the monthly cap, through the real submission:
    the receipt (and /start) speak of the reward, and a claim secret exists, exactly when
    the tip can earn; staff and a capped reporter are told why not."""
    sections = "[reward]\nmonthly_cap = 1\n"
    users = {
        "public": REPORTER,
        "member": G1_MEMBER,
        "leader": G1_LEADER,
        "officer": OFFICER,
        "hotline": OFFICER,
    }
    async with world(tmp_path, max_per_hour="100", sections=sections) as w:
        for user in set(users.values()):
            w.emu.send_text(user, "/start")
        await w.idle()
        promise = tr("zh", "submit.secret", secret="", amount=200).split("\n")[0]
        for when, (moment, inside) in sorted(WINDOW.items()):
            w.clock.now = moment
            for capped in (False, True):
                if capped:
                    # One reward already this month (cap 1): a tip of REPORTER's, verified.
                    first = await _submit_now(w, REPORTER)
                    async with w.station.db.write() as tx:
                        await w.repo.rewards.create(
                            tx,
                            tip_id=first.tip.id,
                            reporter_id=REPORTER,
                            amount=200,
                            currency="CNY",
                            verified_by=G1_MEMBER,
                            now=moment,
                        )
                for kind, user in users.items():
                    case = (when, kind, "capped" if capped else "below cap")
                    expected = _expected(kind, inside, capped)
                    w.mark(user)
                    source = Source.HOTLINE if kind == "hotline" else Source.REPORTER
                    submitted = await _submit_now(w, user, source)
                    receipt = await w.next_bot(user, submitted.tip.code)
                    _salt, digest = await w.repo.tips.claim_secret(submitted.tip.id)
                    if expected is None:
                        assert submitted.secret and digest, case
                        assert promise in receipt["text"], case
                        assert submitted.secret in receipt["text"], case
                    else:
                        assert submitted.secret is None and digest is None, case
                        assert "🔑" not in receipt["text"] and "200" not in receipt["text"], case
                    for reason in (Ineligible.STAFF, Ineligible.MONTHLY_CAP):
                        told = tr("zh", f"submit.no_reward.{reason}") in receipt["text"]
                        assert told is (expected is reason and kind != "hotline"), case
                    if kind == "hotline":
                        logged = tr("zh", "submit.logged", code=submitted.tip.code, group="")
                        assert receipt["text"].startswith(logged.split("，")[0]), case
                        continue
                    # The welcome speaks of a reward only to someone who can earn one now.
                    w.mark(user)
                    w.emu.send_text(user, "/start")
                    welcome = await w.next_bot(user, "120 / 110")
                    said = tr("zh", "start.reward") in welcome["text"]
                    assert said is (expected is None), case
                if capped:
                    async with w.station.db.write() as tx:
                        await tx.execute("UPDATE rewards SET state = 'rejected'")
        assert w.api_faults() == []


async def test_fr14_a_patrol_members_own_report_is_not_promised_a_reward(tmp_path: Path) -> None:
    """The example of the issue, through the buttons: a member's /report gets no claim secret
    and no "verified reports earn 200 yuan", so the later refusal contradicts nothing."""
    async with world(tmp_path) as w:
        # Staff report as citizens on purpose, with /report (stray text gets a pointer: #18).
        w.emu.send_text(G1_MEMBER, "/report")
        await w.next_bot(G1_MEMBER, "位置")
        code = await report_by_pin(w, G1_MEMBER, "zh", photo=False, flags=())
        receipt = next(m for m in w.bot_msgs(G1_MEMBER) if code in (m["text"] or ""))
        assert "🔑" not in receipt["text"] and "200" not in receipt["text"], receipt["text"]
        assert tr("zh", "submit.no_reward.staff") in receipt["text"]
        tip = await w.tip_by_code(code)
        assert await w.repo.tips.claim_secret(tip.id) == (None, None)
        w.mark(G1_MEMBER)
        await close_as(w, code, G1_MEMBER2, "带回站内")
        await w.next_bot(G1_MEMBER, tr("zh", "reward.none.staff", code=code))
        assert await w.repo.rewards.for_tip(tip.id) is None
        said = " ".join(m["text"] or "" for m in w.bot_msgs(G1_MEMBER))
        assert "元奖励" not in said and "可获" not in said, said
        # Nor does the welcome speak of rewards to staff.
        w.mark(G1_MEMBER)
        w.emu.send_text(G1_MEMBER, "/start")
        welcome = await w.next_bot(G1_MEMBER, "120 / 110")
        assert tr("zh", "start.reward") not in welcome["text"]


# -- item 6: the receipt and the claim secret cannot be lost ----------------------------------

SECRET_IN = re.compile(r"<code>([A-Z2-9]{6})</code>")


def _secret(message: dict) -> str:
    found = SECRET_IN.search(message.get("raw_text") or "")
    assert found, message
    return found.group(1)


async def _everywhere(w: World, needle: str) -> list[str]:
    """Every table.column whose stored text contains ``needle``."""
    db = w.station.db
    hits = []
    tables = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    for table in (r["name"] for r in tables):
        for row in await db.fetchall(f"SELECT * FROM {table}"):
            for column in row.keys():
                value = row[column]
                if isinstance(value, str) and needle in value:
                    hits.append(f"{table}.{column}")
    return hits


async def test_fr06_secret_lives_only_until_its_receipt_is_delivered(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for user in (REPORTER, REPORTER_EN, OFFICER):
            w.emu.send_text(user, "/start")
        await w.idle()
        sender = w.app.bot_data["outbox"]
        await sender.stop()  # hold delivery: the receipt waits in the outbox
        submitted = await _submit_now(w, REPORTER)
        secret = submitted.secret
        assert secret and await _everywhere(w, secret) == ["outbox.payload"]
        sender.start()
        w.mark(REPORTER)
        receipt = await w.next_bot(REPORTER, submitted.tip.code)
        assert _secret(receipt) == secret
        assert tr("zh", "submit.received", code=submitted.tip.code) in receipt["text"]
        assert receipt["text"].endswith(tr("zh", "amend.offer", minutes=30))  # its offer
        await w.idle()
        # Delivered: the plaintext is gone; only the salted hash remains, and it matches.
        assert await _everywhere(w, secret) == []
        salt, digest = await w.repo.tips.claim_secret(submitted.tip.id)
        assert secret_matches(secret, salt, digest)
        # Given up (the reporter blocked the bot): the plaintext does not stay either.
        w.emu.block(REPORTER_EN)
        other = await _submit_now(w, REPORTER_EN)
        await w.idle()
        assert await _everywhere(w, other.secret) == []
        rows = await w.station.db.fetchall(
            "SELECT status FROM outbox WHERE chat_id = ?", (REPORTER_EN,)
        )
        assert [r["status"] for r in rows] == ["failed"]  # the receipt (the offer on it)


async def test_fr06_receipt_survives_failed_sends_and_a_restart_exactly_once(
    tmp_path: Path,
) -> None:
    """Telegram refuses the receipt (a 502) until the bot is stopped; after the restart it is
    delivered once, with a secret that works."""
    emu = BotApiEmulator().start()
    refused: list[str] = []

    def refuse_receipts(method: str, params: dict) -> tuple[int, dict] | None:
        text = str(params.get("text") or "")
        if method == "sendMessage" and str(params.get("chat_id")) == str(REPORTER):
            if "已收到，编号" in text:
                refused.append(text)
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    clock = FakeClock()
    db_path = tmp_path / "warmline.sqlite3"
    try:
        async with world(tmp_path, emu=emu, clock=clock, db_path=db_path) as w:
            emu.fault = refuse_receipts
            code = await _flow_to_review_and_send(w, REPORTER)
            await w.until(lambda: refused)

            async def retrying() -> bool:
                rows = await w.station.db.fetchall(
                    "SELECT status, attempts FROM outbox WHERE chat_id = ?", (REPORTER,)
                )
                return any(r["status"] == "pending" and r["attempts"] for r in rows)

            await w.until(retrying)  # refused, and waiting to be tried again
            assert not [m for m in w.bot_msgs(REPORTER) if "已收到，编号" in (m.get("text") or "")]
        emu.fault = None
        clock.advance(minutes=10)  # past the outbox's backoff
        async with world(tmp_path, emu=emu, clock=clock, db_path=db_path) as w:
            await w.idle()
            receipts = [m for m in w.bot_msgs(REPORTER) if code in (m.get("text") or "")]
            assert len(receipts) == 1 and "已收到" in receipts[0]["text"]
            tip = await w.tip_by_code(code)
            salt, digest = await w.repo.tips.claim_secret(tip.id)
            assert secret_matches(_secret(receipts[0]), salt, digest)
            assert await _everywhere(w, _secret(receipts[0])) == []
    finally:
        emu.stop()


async def _flow_to_review_and_send(w: World, user: int) -> str:
    """The whole flow by buttons; returns the code (read from the database: the receipt may
    not come)."""
    w.mark(user)
    w.emu.send_location(user, *STATION_PIN)
    await pass_spot(w, user)
    ask = await w.next_bot(user, tr("zh", "ask.seen"))
    await w.press(user, user, ask, tr("zh", "seen.now"))
    ask = await w.next_bot(user, tr("zh", "ask.people"))
    await w.press(user, user, ask, tr("zh", "people.1"))
    ask = await w.next_bot(user, tr("zh", "ask.flags"))
    await w.press(user, user, ask, tr("zh", "btn.flags_done"))
    ask = await w.next_bot(user, tr("zh", "ask.description"))
    await w.press(user, user, ask, tr("zh", "btn.skip"))
    ask = await w.next_bot(user, tr("zh", "ask.photo"))
    await w.press(user, user, ask, tr("zh", "btn.skip"))
    review = await w.next_bot(user, review_head("zh"))
    w.emu.press(user, user, review["message_id"], text=tr("zh", "btn.submit"))

    async def stored() -> list:
        return await w.repo.tips.of_reporter(user)

    return (await w.until(stored))[0].code


async def test_fr06_claim_secret_reissued_from_mytips(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        first = _secret(next(m for m in w.bot_msgs(REPORTER) if code in (m.get("text") or "")))
        # No reward yet: nothing to claim, no button.
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/mytips")
        mine = await w.next_bot(REPORTER, code)
        assert tr("zh", "btn.new_secret", code=code) not in w.buttons(mine)

        await close_as(w, code, G1_MEMBER, "带回站内")
        await w.idle()
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/mytips")
        mine = await w.next_bot(REPORTER, code)
        assert tr("zh", "mytips.secret_hint") in mine["text"]
        w.mark(REPORTER)
        answer = await w.press(REPORTER, REPORTER, mine, tr("zh", "btn.new_secret", code=code))
        assert answer["text"] == tr("zh", "secret.sent")
        fresh = await w.next_bot(REPORTER, tr("zh", "secret.reissued", code=code, secret="")[:12])
        second = _secret(fresh)
        await w.idle()
        assert await _everywhere(w, second) == []  # delivered: the plaintext is gone again
        tip = await w.tip_by_code(code)
        assert "claim_secret_reissued" in [e["action"] for e in await w.repo.events.of(tip.id)]
        # The old secret no longer works; the new one does (the reward rules are unchanged).
        assert first != second
        # Only an approved reward can be claimed (issue 10 #16).
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        await officer_says(w, f"/claim {code} {first}", tr("zh", "claim.wrong", left=4))
        ok = tr("zh", "claim.ok", code=code, amount=200)
        await officer_says(w, f"/claim {code} {second}", ok)
        # Someone else's tip: refused.
        w.mark(REPORTER_EN)
        w.emu.send_text(REPORTER_EN, "/mytips")
        theirs = await w.next_bot(REPORTER_EN)
        other = await w.answer_text(
            REPORTER_EN, REPORTER_EN, theirs["message_id"], f"r:key:{tip.id}"
        )
        assert other == tr("en", "secret.not_available")
        assert w.api_faults() == []


def _sends(emu: BotApiEmulator) -> list[tuple[int, str]]:
    """(chat id, text) of every sendMessage the bot made, in the order they arrived."""
    with emu._lock:
        calls = list(emu.requests)
    return [
        (int(p.get("chat_id") or 0), str(p.get("text") or ""))
        for _, method, p in calls
        if method == "sendMessage"
    ]


async def test_fr06_messages_to_people_do_not_wait_behind_a_group_backlog(
    tmp_path: Path,
) -> None:
    backlog = 600
    async with world(tmp_path) as w:
        w.emu.send_text(REPORTER, "/start")
        await w.idle()
        notifier = w.notifier
        sender = w.app.bot_data["outbox"]

        # 1. Hundreds of group messages queued before a tip: its receipt goes first.
        await sender.stop()
        async with w.station.db.write() as tx:
            for i in range(backlog):
                await notifier.say(tx, G2_CHAT, Html(f"backlog {i}"))
        first = await _submit_now(w, REPORTER)
        sender.start()
        w.mark(REPORTER)
        await w.next_bot(REPORTER, first.tip.code, timeout=60)
        await w.idle(timeout=120)
        sends = _sends(w.emu)
        receipt = next(i for i, (c, text) in enumerate(sends) if first.tip.code in text)
        assert not [c for c, _ in sends[:receipt] if c < 0], "group messages went first"

        # 2. The sender is working through a backlog when a receipt and a notice are queued:
        #    they overtake what is left of it.
        async with w.station.db.write() as tx:  # the commit wakes the sender
            for i in range(backlog):
                await notifier.say(tx, G2_CHAT, Html(f"second backlog {i}"))
        await w.until(lambda: any("second backlog 5" in t for _, t in _sends(w.emu)), 60)
        second = await _submit_now(w, REPORTER)
        async with w.station.db.write() as tx:
            await notifier.tell(tx, REPORTER, Msg("notice.claimed", {"code": second.tip.code}))
        queued_at = len(_sends(w.emu))
        claimed = tr("zh", "notice.claimed", code=second.tip.code)
        await w.next_bot(REPORTER, claimed, timeout=60)
        await w.idle(timeout=120)
        sends = _sends(w.emu)
        for text in (tr("zh", "submit.received", code=second.tip.code), claimed):
            at = next(i for i, (c, t) in enumerate(sends) if c == REPORTER and text in plain(t))
            # At most the message in flight (and its neighbour) before it …
            assert len([c for c, _ in sends[queued_at:at] if c < 0]) <= 5, text
            # … while most of the backlog was still waiting.
            assert len([c for c, _ in sends[at:] if c == G2_CHAT]) > backlog // 4, text


class KillAtReceipt(Tap):
    """The emulator's fault hook: SIGKILLs the bot the moment it sends ``user`` the receipt
    (after the tip's commit, before the reporter has seen anything), once."""

    def __init__(self, user: int) -> None:
        super().__init__()
        self.user = user
        self.bot: BotProcess | None = None
        self.killed = False

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        super().__call__(method, params)
        text = str(params.get("text") or "")
        to_user = str(params.get("chat_id")) == str(self.user)
        if method == "sendMessage" and to_user and "已收到，编号" in text and not self.killed:
            assert self.bot is not None and self.bot.proc is not None
            self.killed = True
            os.kill(self.bot.proc.pid, signal.SIGKILL)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None


async def test_fr06_receipt_survives_a_sigkill_between_commit_and_reply(tmp_path: Path) -> None:
    """``warmline run`` as a process, killed exactly when the receipt is on its way: after the
    restart the reporter gets it — once — with a claim secret that matches the stored hash."""
    emu = BotApiEmulator().start()
    tap = KillAtReceipt(REPORTER)
    emu.fault = tap
    cast(emu)
    # The process runs on the real clock: a campaign around today, so the tip can earn.
    today = dt.date.today()
    start, end = today - dt.timedelta(days=2), today + dt.timedelta(days=2)
    campaign = f"[campaign]\nstart = {start}\nend = {end}\n"
    db_path = tmp_path / "warmline.sqlite3"
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text(emu, db_path, sections=campaign), encoding="utf-8")
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = BotProcess(config_path, env, logs, tap)
    tap.bot = bot
    people = Drivers(emu, {}, step_timeout=30.0)
    try:
        await bot.start()
        mark = people.last_id(REPORTER)
        emu.send_location(REPORTER, *STATION_PIN)
        prompt = await poll(lambda: people.prompt_after(REPORTER, mark, FLOW[0][0]), 30.0)
        assert prompt is not None, bot.log_tail()
        for data, following in FLOW:
            prompt = await people.press_step(REPORTER, prompt, data, following)
            assert prompt is not None, (data, bot.log_tail())
        emu.press_button(REPORTER, REPORTER, prompt["message_id"], "r:submit")
        assert await poll(lambda: tap.killed, 30.0), bot.log_tail()
        await bot.proc.wait()
        store = sqlite3.connect(db_path)
        try:
            (code,) = store.execute("SELECT code FROM tips").fetchone()
        finally:
            store.close()
        assert not people.told(REPORTER)  # killed before the reporter saw a thing

        await bot.start()
        told = await poll(lambda: people.told(REPORTER), 60.0)
        assert told == {code}, bot.log_tail()
        await asyncio.sleep(1.0)  # time for a second copy, if there were one
        receipts = [m for m in emu.bot_messages(REPORTER) if code in (m.get("text") or "")]
        assert len(receipts) == 1, receipts
        secret = _secret(receipts[0])
        store = sqlite3.connect(db_path)
        try:
            salt, digest = store.execute("SELECT claim_salt, claim_hash FROM tips").fetchone()
            payloads = [p for (p,) in store.execute("SELECT payload FROM outbox")]
        finally:
            store.close()
        assert secret_matches(secret, salt, digest)
        assert all(secret not in p for p in payloads)
        assert await bot.stop() == 0
        assert not bot.errors(), bot.errors()
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            bot.proc.kill()
            await bot.proc.wait()
        emu.stop()


# -- item 5: typed questions and answers reach the other side ---------------------------------


async def _prompt(w: World, member: int, card: dict, chat: int = G1_CHAT) -> dict:
    """The member presses "ask the reporter" on the card; the prompt the bot posts."""
    w.mark(chat)
    await w.press(member, chat, w.message(chat, card["message_id"]), tr("zh", "btn.ask_reporter"))
    prompt = await w.next_bot(chat, "回复这条消息")
    await w.idle()
    return prompt


async def _question_reaches_reporter(w: World, text: str) -> dict:
    question = await w.next_bot(REPORTER, text)
    await w.idle()  # on screen and recorded (a person is never faster)
    return question


async def _pin_tip(w: World) -> tuple[str, dict]:
    code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
    return code, await w.wait_card(G1_CHAT, code)


NOW = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)


def _q(qid: int, asked_min_ago: float | None, answered_min_ago: float | None = None) -> Question:
    minutes = dt.timedelta(minutes=1)
    return Question(
        id=qid,
        tip_id=qid,
        code=f"HS-{qid:04d}",
        chat_id=-1,
        member_id=7,
        state=QState.ASKED if asked_min_ago is not None else QState.PROMPTED,
        created_at=NOW - (asked_min_ago or 0) * minutes,
        asked_at=None if asked_min_ago is None else NOW - asked_min_ago * minutes,
        answered_at=None if answered_min_ago is None else NOW - answered_min_ago * minutes,
    )


@pytest.mark.parametrize(
    ("questions", "draft_min_ago", "expected"),
    [
        ([], None, None),  # nothing asked
        ([_q(1, None)], None, None),  # only prompted, not relayed yet
        ([_q(1, 10)], None, 1),  # open, no report in progress
        ([_q(1, 119)], None, 1),  # just inside the 2 hours
        ([_q(1, 121)], None, None),  # too old
        ([_q(1, 10)], 20, 1),  # a report left before the question came
        ([_q(1, 10)], 5, None),  # busy with a report since the question came
        ([_q(1, 30, 10)], None, 1),  # answered 10 min ago: more lines still count
        ([_q(1, 30, 16)], None, None),  # answered 16 min ago: no longer
        ([_q(1, 30, 10)], 40, None),  # answered, and a report in progress: it is the report's
        ([_q(1, 30), _q(2, 10)], None, 2),  # two tips: the newest question
        ([_q(1, 10), _q(2, 30)], None, 1),
    ],
)
def test_fr05_when_plain_text_is_an_answer(questions, draft_min_ago, expected) -> None:
    touched = None if draft_min_ago is None else NOW - dt.timedelta(minutes=draft_min_ago)
    found = answer_target(questions, touched, NOW)
    assert (found.id if found else None) == expected


async def test_fr05_plain_text_answers_the_open_question(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code, card = await _pin_tip(w)
        prompt = await _prompt(w, G1_MEMBER, card)
        w.mark(REPORTER)
        w.emu.send_text(
            G1_MEMBER, "他在桥洞哪一侧？", chat_id=G1_CHAT, reply_to=prompt["message_id"]
        )
        await _question_reaches_reporter(w, "他在桥洞哪一侧")

        # The reporter just types (no Telegram "reply"): it is the answer.
        w.mark(REPORTER)
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "靠江边那一侧")
        relayed = await w.next_bot(G1_CHAT, "靠江边那一侧")
        assert relayed["reply_to_message_id"] == card["message_id"]
        told = await w.next_bot(REPORTER, tr("zh", "ask.answered", code=code))
        assert w.buttons(told) == [tr("zh", "btn.not_answer_new")]
        assert await w.repo.drafts.get(REPORTER) is None  # no new report was started
        said = [m["text"] for m in await w.quiet(REPORTER)]
        assert not any(tr("zh", "address.not_found", hotline="")[:5] in s for s in said)

        # People type in bursts: a second line a few minutes later is still the answer.
        w.clock.advance(minutes=5)
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "穿蓝色外套")
        await w.next_bot(G1_CHAT, "穿蓝色外套")
        await w.idle()

        # Long after the last answer, plain text is a report again.
        w.clock.advance(minutes=20)
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站门口")
        await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert (await w.repo.drafts.get(REPORTER)).step.value == "confirm_place"
        # A Telegram reply to the question still answers it.
        w.mark(G1_CHAT)
        question = next(m for m in w.bot_msgs(REPORTER) if "他在桥洞哪一侧" in (m["text"] or ""))
        w.emu.send_text(REPORTER, "旁边有个报刊亭", reply_to=question["message_id"])
        await w.next_bot(G1_CHAT, "旁边有个报刊亭")
        tip = await w.tip_by_code(code)
        actions = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert actions.count("reporter_answer") == 3
        assert all("报刊亭" not in (e["detail"] or "") for e in await w.repo.events.of(tip.id))
        assert w.api_faults() == []


async def test_fr05_a_text_that_was_not_an_answer(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code, card = await _pin_tip(w)
        prompt = await _prompt(w, G1_MEMBER, card)
        w.mark(REPORTER)
        w.emu.send_text(G1_MEMBER, "还在吗？", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        await _question_reaches_reporter(w, "还在吗")

        # Meant as a new report, taken as an answer: one tap puts it right.
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "磁湖公园门口")
        told = await w.next_bot(REPORTER, tr("zh", "ask.answered", code=code))
        w.mark(G1_CHAT)
        w.mark(REPORTER)
        answer = await w.press(REPORTER, REPORTER, told, tr("zh", "btn.not_answer_new"))
        assert answer["text"] == tr("zh", "ask.dismissed")
        await w.next_bot(G1_CHAT, tr("zh", "ask.not_an_answer", code=code))
        await w.next_bot(REPORTER, tr("zh", "ask.location").split("\n")[0])
        assert not w.buttons(w.message(REPORTER, told["message_id"]))
        # Now plain text is the report.
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "磁湖")
        await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))

        # With a report in progress the way out goes back to it.
        w.mark(G1_CHAT)
        prompt = await _prompt(w, G1_MEMBER, card)
        w.emu.send_text(G1_MEMBER, "有几个人？", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        await _question_reaches_reporter(w, "有几个人")
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "两个人")
        told = await w.next_bot(REPORTER, tr("zh", "ask.answered", code=code))
        assert w.buttons(told) == [tr("zh", "btn.not_answer_continue")]
        w.mark(REPORTER)
        await w.press(REPORTER, REPORTER, told, tr("zh", "btn.not_answer_continue"))
        await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert (await w.repo.drafts.get(REPORTER)).step.value == "confirm_place"
        # Someone else cannot press it.
        w.emu.send_text(REPORTER_EN, "/help")
        await w.idle()
        forged = await w.answer_text(
            REPORTER_EN,
            REPORTER_EN,
            w.bot_msgs(REPORTER_EN)[-1]["message_id"],
            "r:notans:1",
        )
        assert forged == tr("en", "button.invalid")
        assert w.api_faults() == []


async def test_fr05_report_in_progress_and_expiry_keep_their_text(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        _, card = await _pin_tip(w)
        prompt = await _prompt(w, G1_MEMBER, card)
        w.mark(REPORTER)
        w.emu.send_text(G1_MEMBER, "现在还在吗？", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        await _question_reaches_reporter(w, "现在还在吗")
        # The reporter goes on with a new report after the question came: its text stays in
        # the report (a reply to the question would still answer it).
        w.clock.advance(minutes=1)
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *NEAR_STATION)
        await pass_spot(w, REPORTER)
        ask = await w.next_bot(REPORTER, tr("zh", "ask.seen"))
        await w.press(REPORTER, REPORTER, ask, tr("zh", "seen.now"))
        ask = await w.next_bot(REPORTER, tr("zh", "ask.people"))
        await w.press(REPORTER, REPORTER, ask, tr("zh", "people.1"))
        ask = await w.next_bot(REPORTER, tr("zh", "ask.flags"))
        await w.press(REPORTER, REPORTER, ask, tr("zh", "btn.flags_done"))
        await w.next_bot(REPORTER, tr("zh", "ask.description"))
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "坐在台阶上")
        await w.next_bot(REPORTER, tr("zh", "ask.photo"))
        assert (await w.repo.drafts.get(REPORTER)).description == "坐在台阶上"
        assert [m for m in await w.quiet(G1_CHAT) if "坐在台阶上" in (m["text"] or "")] == []
        w.emu.send_text(REPORTER, "/cancel")
        await w.idle()

        # An old question is not open any more: plain text is a report.
        prompt = await _prompt(w, G1_MEMBER, card)
        w.emu.send_text(G1_MEMBER, "在哪个出口？", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        await _question_reaches_reporter(w, "在哪个出口")
        w.clock.advance(hours=3)
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站门口")
        await w.next_bot(REPORTER, tr("zh", "ask.confirm_place"))
        assert [m for m in await w.quiet(G1_CHAT) if "黄石站门口" in (m["text"] or "")] == []
        assert w.api_faults() == []


async def test_fr05_two_open_questions_the_newest_gets_it_and_says_which(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        _, first_card = await _pin_tip(w)
        w.clock.advance(minutes=1)
        second = await submit_tip(w, REPORTER, where=NEAR_STATION)
        second_card = await w.wait_card(G1_CHAT, second)
        prompt = await _prompt(w, G1_MEMBER, first_card)
        w.emu.send_text(G1_MEMBER, "第一个问题", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        older = await _question_reaches_reporter(w, "第一个问题")
        w.clock.advance(minutes=1)
        prompt = await _prompt(w, G1_MEMBER2, second_card)
        w.emu.send_text(G1_MEMBER2, "第二个问题", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        await _question_reaches_reporter(w, "第二个问题")

        w.mark(REPORTER)
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "在路灯下面")
        relayed = await w.next_bot(G1_CHAT, "在路灯下面")
        assert relayed["reply_to_message_id"] == second_card["message_id"]
        assert second in relayed["text"]
        told = await w.next_bot(REPORTER, tr("zh", "ask.answered", code=second))
        assert tr("zh", "ask.answered_which", code=second, count=2) in told["text"]
        # A reply to the older question goes to its own tip.
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "是个老人", reply_to=older["message_id"])
        relayed = await w.next_bot(G1_CHAT, "是个老人")
        assert relayed["reply_to_message_id"] == first_card["message_id"]
        assert w.api_faults() == []


async def test_fr05_a_members_question_typed_without_reply_is_not_lost(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code, card = await _pin_tip(w)
        # Prompted, the member types in the group without replying: it is the question.
        prompt = await _prompt(w, G1_MEMBER, card)
        assert f"tg://user?id={G1_MEMBER}" in prompt["raw_text"]  # named: their app replies
        assert prompt["reply_markup"].get("selective") is True
        w.mark(REPORTER)
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER, "他穿什么颜色的衣服？", chat_id=G1_CHAT)
        await w.next_bot(G1_CHAT, tr("zh", "ask.sent", code=code))
        await _question_reaches_reporter(w, "他穿什么颜色的衣服")

        # The group's own conversation is left alone.
        w.mark(REPORTER)
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER2, "我五分钟后到", chat_id=G1_CHAT)
        w.emu.send_text(G1_MEMBER, "好的", chat_id=G1_CHAT)  # its prompt was used
        w.emu.send_text(G1_MEMBER2, "收到", chat_id=G1_CHAT, reply_to=card["message_id"])
        assert await w.quiet(G1_CHAT) == [] and await w.quiet(REPORTER) == []

        # Prompted, the member replies to the card instead of the prompt: still the question.
        await _prompt(w, G1_MEMBER2, card)
        w.mark(REPORTER)
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER2, "旁边有人吗？", chat_id=G1_CHAT, reply_to=card["message_id"])
        await w.next_bot(G1_CHAT, tr("zh", "ask.sent", code=code))
        question = await _question_reaches_reporter(w, "旁边有人吗")

        # A reply to the reporter's relayed answer is a follow-up question.
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "没有人", reply_to=question["message_id"])
        answer = await w.next_bot(G1_CHAT, "没有人")
        await w.idle()  # the relayed answer is recorded once sent
        w.mark(REPORTER)
        w.emu.send_text(G1_MEMBER, "他醒着吗？", chat_id=G1_CHAT, reply_to=answer["message_id"])
        await _question_reaches_reporter(w, "他醒着吗")

        # Prompted, and nothing reached the bot (in a real group the bot does not see plain
        # messages): after a few minutes the member is told, once, what to do.
        await _prompt(w, G1_MEMBER, card)
        w.mark(G1_CHAT)
        w.clock.advance(minutes=2)
        assert await w.services.relay.nudge() == 0
        w.clock.advance(minutes=2)
        assert await w.services.relay.nudge() == 1
        nudge = await w.next_bot(G1_CHAT, tr("zh", "ask.nudge", member="赵队员", code=code))
        assert f"tg://user?id={G1_MEMBER}" in nudge["raw_text"]
        assert await w.services.relay.nudge() == 0

        # From an officer's own copy of the card: a plain question in their chat is relayed.
        w.emu.send_text(OFFICER, "/start")
        await w.idle()
        await w.services.field.show_card((await w.tip_by_code(code)).id, OFFICER, OFFICER)
        copy = await w.until(lambda: w.card(OFFICER, code))
        w.mark(OFFICER)
        await w.press(OFFICER, OFFICER, copy, tr("zh", "btn.ask_reporter"))
        await w.next_bot(OFFICER, "回复这条消息")
        await w.idle()
        w.mark(REPORTER)
        w.emu.send_text(OFFICER, "需要送医吗？")
        await w.next_bot(OFFICER, tr("zh", "ask.sent", code=code))
        await _question_reaches_reporter(w, "需要送医吗")
        assert await w.repo.drafts.get(OFFICER) is None  # not taken as an officer's report
        w.mark(OFFICER)
        w.emu.send_text(REPORTER, "不需要")
        await w.next_bot(OFFICER, "不需要")
        assert w.api_faults() == []


async def test_fr06_a_delivered_secret_leaves_no_copy_in_the_files(tmp_path: Path) -> None:
    """Not only no row holds the plaintext once the receipt is delivered: no byte of the
    database file or its write-ahead log does (zeroed free space, the WAL truncated)."""
    async with world(tmp_path) as w:
        w.emu.send_text(REPORTER, "/start")
        await w.idle()
        submitted = await _submit_now(w, REPORTER)
        secret = submitted.secret
        assert secret
        w.mark(REPORTER)
        await w.next_bot(REPORTER, submitted.tip.code)
        await w.idle()
        assert await _everywhere(w, secret) == []
        needle = secret.encode()

        def files_clean() -> bool:
            paths = [w.db_path, w.db_path.with_name(w.db_path.name + "-wal")]
            return not any(p.exists() and needle in p.read_bytes() for p in paths)

        assert await w.until(files_clean, timeout=30)
