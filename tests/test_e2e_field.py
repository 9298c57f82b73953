"""End to end, the field flow of issue 13 over the emulator, on the harness's hand-moved
clock: the claimer's arrival time and what happens when it passes, the reporter's "still
there?", and "not found" reopened by the reporter's new pin as a second attempt of the same
incident (one reward). The ticker is off: tests move the clock and call ``tick``.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.domain.tips import Outcome, State
from bot.sandbox.emulator import BotApiEmulator
from bot.services.maintenance import purge
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    T0,
    FakeClock,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    dispatched,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def zh(key: str, **params: object) -> str:
    return tr("zh", key, **params)


def hm(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).strftime("%H:%M")


def texts(w: World, chat: int, contains: str) -> list[str]:
    """The bot's messages in a chat with ``contains``, cards left out."""
    return [
        text
        for m in w.bot_msgs(chat)
        if contains in (text := m.get("text") or "") and not text.startswith(("🔴", "🟠"))
    ]


async def tick(w: World, when: dt.datetime) -> None:
    w.clock.now = when
    await w.services.schedules.tick()
    await w.settle()


async def card_now(w: World, code: str, contains: str | None = None) -> dict:
    """The newest copy of the tip's card in G1 (waiting until it shows ``contains``)."""

    def ready() -> dict | None:
        found = [
            m
            for m in w.bot_msgs(G1_CHAT)
            if (m.get("text") or "").startswith(("🔴", "🟠")) and code in m["text"]
        ]
        if found and (contains is None or contains in found[-1]["text"]):
            return found[-1]
        return None

    try:
        return await w.until(ready)
    except TimeoutError:
        raise AssertionError(f"no card {code} with {contains!r}") from None


async def claim_with_eta(w: World, code: str, minutes: int, member: int = G1_MEMBER) -> dict:
    card = await card_now(w, code)
    assert (await w.press(member, G1_CHAT, card, zh("btn.claim")))["text"] == zh(
        "done.claim", code=code
    )
    card = await card_now(w, code, zh("eta.card_ask"))
    # "多久能到？": one tap on the card, the configured choices.
    assert [b for b in w.buttons(card) if b.startswith("⏱")] == [
        zh("eta.btn", minutes=m) for m in (10, 20, 30, 60)
    ]
    eta = w.clock.now + dt.timedelta(minutes=minutes)
    answer = await w.press(member, G1_CHAT, card, zh("eta.btn", minutes=minutes))
    assert answer["text"] == zh("eta.done", code=code, at=hm(eta))
    return await card_now(w, code, zh("eta.card", at=hm(eta)))


async def actions(w: World, tip_id: int) -> list[str]:
    return [e["action"] for e in await w.repo.events.of(tip_id)]


# -- arrival time ---------------------------------------------------------------------------


async def test_eta_passes_claimer_asked_then_released_once_across_restarts(
    tmp_path: Path,
) -> None:
    emu = BotApiEmulator().start()
    clock = FakeClock(T0)  # 21:00 station time
    db_path = tmp_path / "station.sqlite3"

    def run() -> AbstractAsyncContextManager[World]:
        return world(tmp_path, emu=emu, clock=clock, db_path=db_path)

    # The words of the check between its time and its minutes ("到，还没有到达现场。…").
    check = zh("eta.check", claimer="\x00", code="\x00", eta="\x00", minutes="\x00").split("\x00")[
        3
    ]
    released = "↩️ "
    try:
        async with run() as w:
            tip, _ = await dispatched(w)
            card = await claim_with_eta(w, tip.code, 10)  # expected 21:10
            tip = await w.repo.tips.get(tip.id)
            assert tip.state is State.EN_ROUTE  # the time is also "on my way"
            assert tip.eta_at == T0 + dt.timedelta(minutes=10)
            assert zh("btn.arrive") in w.buttons(card)
            # Until 21:10 + 10 min grace nobody is asked.
            await tick(w, T0 + dt.timedelta(minutes=19, seconds=59))
            assert texts(w, G1_CHAT, check) == []
            await tick(w, T0 + dt.timedelta(minutes=20))
            [asked] = texts(w, G1_CHAT, check)
            assert NAMES[G1_MEMBER][0] in asked and tip.code in asked and "21:10" in asked
            card = await card_now(w, tip.code, zh("eta.card_late", at="21:10"))
            # The answers are on the card: a new time ("still on the way"), on scene, release.
            assert zh("eta.btn_more", minutes=10) in w.buttons(card)
            assert zh("btn.arrive") in w.buttons(card)
            await tick(w, T0 + dt.timedelta(minutes=25))
            assert len(texts(w, G1_CHAT, check)) == 1
        # Restarted before the answer's grace is up: not asked again, not released yet.
        async with run() as w:
            await tick(w, T0 + dt.timedelta(minutes=29))
            assert len(texts(w, G1_CHAT, check)) == 1
            assert (await w.repo.tips.get(tip.id)).state is State.EN_ROUTE
            # No answer by 21:30: back with the group, the leader told, the card says so.
            await tick(w, T0 + dt.timedelta(minutes=30))
            tip = await w.repo.tips.get(tip.id)
            assert tip.state is State.DISPATCHED and tip.claimed_by is None
            assert tip.eta_at is None and tip.eta_asked_at is None
            [told] = [
                m
                for m in w.bot_msgs(G1_CHAT)
                if (m.get("text") or "").startswith(released) and tip.code in m["text"]
            ]
            assert NAMES[G1_MEMBER][0] in told["text"]
            # The leader is mentioned (notified by Telegram).
            assert f"tg://user?id={G1_LEADER}" in json.dumps(told, ensure_ascii=False)
            card = await card_now(w, tip.code, zh("eta.card_released", at="21:30"))
            assert zh("btn.claim") in w.buttons(card)
        # And again after another restart: nothing more.
        async with run() as w:
            for minutes in (31, 45, 90):
                await tick(w, T0 + dt.timedelta(minutes=minutes))
            assert len(texts(w, G1_CHAT, check)) == 1
            assert len([t for t in texts(w, G1_CHAT, released) if tip.code in t]) == 1
            log = await w.repo.events.of(tip.id)
            assert [e["action"] for e in log].count("eta_ask") == 1
            releases = [e for e in log if e["action"] == "release"]
            assert len(releases) == 1 and releases[0]["actor_role"] == "system"
            assert json.loads(releases[0]["detail"])["reason"] == "eta_no_answer"
            # The scene escalation did not ask about the same wait as well.
            assert "escalate_scene" not in [e["action"] for e in log]
    finally:
        emu.stop()


async def test_still_on_the_way_is_a_new_time_and_arrival_ends_the_watch(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, _ = await dispatched(w)
        await claim_with_eta(w, tip.code, 20)  # expected 21:20
        await tick(w, T0 + dt.timedelta(minutes=30))  # asked
        card = await card_now(w, tip.code, zh("eta.card_late", at="21:20"))
        # "Still on the way, 10 more minutes": a new time, the check starts over.
        answer = await w.press(G1_MEMBER, G1_CHAT, card, zh("eta.btn_more", minutes=10))
        assert answer["text"] == zh("eta.done", code=tip.code, at="21:40")
        await card_now(w, tip.code, zh("eta.card", at="21:40"))
        await tick(w, T0 + dt.timedelta(minutes=45))  # past the first check's grace
        assert (await w.repo.tips.get(tip.id)).state is State.EN_ROUTE  # not released
        # A stale press of an old time button on a tip that moved on is refused politely.
        card = await card_now(w, tip.code)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.arrive"))
        await card_now(w, tip.code, zh("state.on_scene"))
        data = f"tip:eta:{tip.id}:n:10"
        answer = await w.press_data(G1_MEMBER, G1_CHAT, card["message_id"], data)
        assert answer["show_alert"] is True and tip.code in answer["text"]
        # Forged: a time nobody offered.
        answer = await w.press_data(G1_MEMBER, G1_CHAT, card["message_id"], f"tip:eta:{tip.id}:n:7")
        assert answer["text"] == zh("button.invalid")
        for minutes in (50, 60, 120):
            await tick(w, T0 + dt.timedelta(minutes=minutes))
        assert (await w.repo.tips.get(tip.id)).state is State.ON_SCENE
        log = await actions(w, tip.id)
        assert log.count("eta_ask") == 1 and "release" not in log
        assert log[:5] == ["submit", "dispatch", "claim", "go", "eta_ask"]


async def test_scene_escalation_still_asks_a_claim_without_a_time(tmp_path: Path) -> None:
    """How the two rules combine: a claim with an arrival time is watched by the arrival
    rule only; one without keeps [escalation] scene_minutes (45)."""
    async with world(tmp_path) as w:
        timed, _ = await dispatched(w)
        await claim_with_eta(w, timed.code, 60)
        untimed, _ = await dispatched(w, where=(30.2100, 115.0500))
        card = await card_now(w, untimed.code)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        await card_now(w, untimed.code, zh("eta.card_ask"))
        await tick(w, T0 + dt.timedelta(minutes=46))
        assert "escalate_scene" in await actions(w, untimed.id)
        assert "escalate_scene" not in await actions(w, timed.id)
        assert "eta_ask" not in await actions(w, timed.id)
        await tick(w, T0 + dt.timedelta(minutes=70))
        assert "eta_ask" in await actions(w, timed.id)
        assert (await actions(w, timed.id)).count("escalate_scene") == 0


# -- "still there?" ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_reporter_asked_still_there_answer_on_card_anonymously(
    tmp_path: Path, lang: str
) -> None:
    reporter = REPORTER if lang == "zh" else REPORTER_EN
    async with world(tmp_path) as w:
        tip, card = await dispatched(w, reporter=reporter, lang=lang)
        w.mark(reporter)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        ask = await w.next_bot(reporter, tr(lang, "still.ask", code=tip.code).split("\n")[0])
        assert w.buttons(ask) == [tr(lang, k) for k in ("still.here", "still.left", "still.away")]
        # A stranger cannot answer for the reporter (a forged press of their button).
        data = f"st:{tip.id}:left"
        await w.roundtrip(STRANGER)  # their private chat with the bot
        answer = await w.press_data(STRANGER, STRANGER, ask["message_id"], data)
        assert answer["text"] == zh("still.invalid") and answer["show_alert"] is True
        refused = await w.events_named("refused:")
        assert [(e["action"], e["actor_id"]) for e in refused] == [
            ("refused:still_there", STRANGER)
        ]
        for forged in (f"st:{tip.id}:flying", "st:999999:left", "st:x:left"):
            answer = await w.press_data(reporter, reporter, ask["message_id"], forged)
            assert answer["text"] == tr(lang, "still.invalid")
        w.clock.now = T0 + dt.timedelta(minutes=2)
        await w.press(reporter, reporter, ask, tr(lang, "still.left"))
        said = zh("still.left")  # the card is in the station's language
        await card_now(w, tip.code, zh("still.card", at="21:02", said=said))
        # Their message records the answer, its buttons gone.
        echoed = tr(lang, "still.echo", code=tip.code, said=tr(lang, "still.left"))
        await w.until(lambda: w.message(reporter, ask["message_id"])["text"] == echoed)
        assert w.buttons(w.message(reporter, ask["message_id"])) == []
        # Words they add go to the card too — masked: no name, username or phone of theirs.
        name, username, _ = NAMES[reporter]
        w.mark(reporter)
        w.emu.send_text(reporter, f"往磁湖方向 我是{name} {username} 13912345678")
        await w.next_bot(reporter, tr(lang, "still.words_sent", code=tip.code))
        card = await card_now(w, tip.code, "往磁湖方向")
        line = next(x for x in card["text"].split("\n") if "往磁湖方向" in x)
        assert line.startswith(zh("still.card", at="21:02", said=zh("still.left") + "，往磁湖方向"))
        for own in (name, username, "13912345678"):
            assert own not in card["text"]
        # Pressed again: already answered, nothing changes.
        answer = await w.press_data(reporter, reporter, ask["message_id"], data)
        assert answer["text"] == tr(lang, "still.already")
        log = [e for e in await w.repo.events.of(tip.id) if e["action"].startswith("still")]
        assert [(e["action"], e["actor_role"]) for e in log] == [
            ("still_there", "reporter"),
            ("still_there_words", "reporter"),
        ]
        assert json.loads(log[0]["detail"]) == {"answer": "left"}
        # Asked once: a release and a new claim do not ask again.
        card = await card_now(w, tip.code)
        before = len(w.bot_msgs(reporter))
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.release"))
        card = await card_now(w, tip.code, zh("state.dispatched"))
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        await card_now(w, tip.code, zh("eta.card_ask"))
        await w.idle()
        assert [m for m in w.bot_msgs(reporter)[before:] if m["text"].startswith("👀")] == []
        # The card still shows the answer (this attempt's).
        assert "往磁湖方向" in (await card_now(w, tip.code))["text"]
    # (world() checked that no group ever saw the reporter's name, username, id or phone)


async def test_still_there_switched_off_asks_nobody(tmp_path: Path) -> None:
    async with world(tmp_path, sections="[field]\nask_still_there = false\n") as w:
        _, card = await dispatched(w)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        await w.idle()
        assert [m for m in w.bot_msgs(REPORTER) if m["text"].startswith("👀")] == []


# -- "not found" is not the end ---------------------------------------------------------------


async def close_as(w: World, code: str, outcome: Outcome, member: int = G1_MEMBER) -> None:
    card = await card_now(w, code)
    await w.press(member, G1_CHAT, card, zh(f"outcome.{outcome.value}"))
    confirm = zh("btn.confirm_outcome", outcome=zh(f"outcome.{outcome.value}"))
    await w.until(lambda: confirm in w.buttons(w.message(G1_CHAT, card["message_id"])))
    await w.press(member, G1_CHAT, w.message(G1_CHAT, card["message_id"]), confirm)
    await card_now(w, code, zh("card.state_closed", outcome=zh(f"outcome.{outcome.value}")))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_not_found_then_reporter_pin_reopens_second_attempt_one_reward(
    tmp_path: Path, lang: str
) -> None:
    reporter = REPORTER if lang == "zh" else REPORTER_EN
    async with world(tmp_path) as w:
        tip, first = await dispatched(w, reporter=reporter, lang=lang)
        await claim_with_eta(w, tip.code, 10)
        w.mark(reporter)
        w.clock.now = T0 + dt.timedelta(minutes=15)
        await close_as(w, tip.code, Outcome.NOT_FOUND)
        await w.next_bot(reporter, tr(lang, "reopen.ask", code=tip.code, hours=2))
        await w.settle()
        closed_text = w.message(G1_CHAT, first["message_id"])["text"]
        assert zh("outcome.not_found") in closed_text
        # 40 minutes later the reporter sends a better pin: the same tip, a second attempt.
        w.clock.now = T0 + dt.timedelta(minutes=55)
        w.mark(reporter)
        w.emu.send_location(reporter, 30.2100, 115.0500)
        await w.next_bot(reporter, tr(lang, "reopen.done", code=tip.code, attempt=2))
        after = await w.repo.tips.get(tip.id)
        assert after.state is State.DISPATCHED and after.attempt == 2
        assert (after.lat, after.lon) == (30.2100, 115.0500) and after.outcome is None
        assert after.code == tip.code and after.claimed_by is None
        earlier = zh("reopen.card_earlier", attempt=1, at="21:15", outcome=zh("outcome.not_found"))
        card = await card_now(w, tip.code, zh("reopen.card", attempt=2, earlier=earlier))
        assert card["message_id"] != first["message_id"]  # a card of its own, at the bottom
        # … linking the first attempt's card, which stays as it ended.
        url = f"https://t.me/c/1000000111/{first['message_id']}"
        assert url in json.dumps(card, ensure_ascii=False)

        # … and the new pin under it, for the map.
        def pins() -> list[dict]:
            return [m["location"] for m in w.bot_msgs(G1_CHAT) if m.get("location")]

        await w.until(lambda: len(pins()) == 2)
        assert pins()[-1]["latitude"] == 30.2100
        assert zh("btn.claim") in w.buttons(card)
        # The second attempt finds the person.
        await claim_with_eta(w, tip.code, 10)
        card = await card_now(w, tip.code)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.arrive"))
        await card_now(w, tip.code, zh("state.on_scene"))
        await close_as(w, tip.code, Outcome.BROUGHT_IN)
        await w.settle()
        assert w.message(G1_CHAT, first["message_id"])["text"] == closed_text  # not edited
        # One incident, one reward: the tip's, for its reporter.
        rows = await w.station.db.fetchall("SELECT tip_id, reporter_id FROM rewards ORDER BY id")
        assert [(r["tip_id"], r["reporter_id"]) for r in rows] == [(tip.id, reporter)]
        log = await w.repo.events.of(tip.id)
        reopen = [e for e in log if e["action"] == "reopen"]
        assert len(reopen) == 1 and reopen[0]["actor_role"] == "reporter"
        assert json.loads(reopen[0]["detail"])["attempt"] == 2
        assert [e["action"] for e in log].count("close") == 2
        attempts = await w.station.db.fetchall("SELECT * FROM tip_attempts")
        assert [(a["tip_id"], a["attempt"], a["outcome"]) for a in attempts] == [
            (tip.id, 1, "not_found")
        ]


async def test_not_found_words_reopen_late_words_start_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, _ = await dispatched(w)
        await tick(w, T0 + dt.timedelta(minutes=10))  # unclaimed 10 min: the first escalation
        assert (await actions(w, tip.id)).count("escalate_1") == 1
        await claim_with_eta(w, tip.code, 10)
        w.mark(REPORTER)
        await close_as(w, tip.code, Outcome.NOT_FOUND)
        await w.next_bot(REPORTER, zh("reopen.ask", code=tip.code, hours=2))
        # Words within the window reopen it, and the card shows them (masked).
        w.clock.now = T0 + dt.timedelta(minutes=30)
        w.emu.send_text(REPORTER, "他挪到了桥洞另一头，电话 13912345678")
        await w.next_bot(REPORTER, zh("reopen.done", code=tip.code, attempt=2))
        card = await card_now(w, tip.code, "他挪到了桥洞另一头")
        assert "13912345678" not in card["text"]
        # The new attempt is escalated afresh when nobody claims it (each level once again).
        await tick(w, T0 + dt.timedelta(minutes=39))
        assert (await actions(w, tip.id)).count("escalate_1") == 1
        await tick(w, T0 + dt.timedelta(minutes=40))
        await tick(w, T0 + dt.timedelta(minutes=41))
        assert (await actions(w, tip.id)).count("escalate_1") == 2
        await claim_with_eta(w, tip.code, 10)
        await close_as(w, tip.code, Outcome.NOT_FOUND)
        await w.next_bot(REPORTER, zh("reopen.ask", code=tip.code, hours=2))
        # Past reopen_hours: the reporter's pin is a new report as before, the tip stays closed.
        w.clock.now = T0 + dt.timedelta(hours=3)
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, 30.2100, 115.0500)
        await w.next_bot(REPORTER, zh("location.ok").split("\n")[0][:6])
        again = await w.repo.tips.get(tip.id)
        assert again.state is State.CLOSED and again.attempt == 2
        # The purge drops the reporter's words with the rest of the tip's personal data.
        w.emu.send_text(REPORTER, "/cancel")
        await w.idle()
        report = await purge(
            w.station.db,
            w.repo.maintenance,
            w.station.audit,
            w.station.clock,
            (w.clock() + dt.timedelta(days=1)).date(),
        )
        assert tip.code in report.purged
        rows = await w.station.db.fetchall(
            "SELECT words FROM reporter_asks WHERE tip_id = ?", (tip.id,)
        )
        assert rows and all(r["words"] is None for r in rows)


# -- the daily summary ------------------------------------------------------------------------


async def test_summary_has_legs_median_p90_with_counts_and_attempts(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/start")  # the officer may be written to
        await w.next_bot(OFFICER)
        # A tip not found at 21:15, reopened by the reporter at 21:55, found at 22:05.
        tip, _ = await dispatched(w)
        await claim_with_eta(w, tip.code, 10)
        w.clock.now = T0 + dt.timedelta(minutes=15)
        await close_as(w, tip.code, Outcome.NOT_FOUND)
        w.clock.now = T0 + dt.timedelta(minutes=55)
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, 30.2100, 115.0500)
        await w.next_bot(REPORTER, zh("reopen.done", code=tip.code, attempt=2))
        await card_now(w, tip.code, zh("reopen.card", attempt=2, earlier="\x00").split("\x00")[0])
        await claim_with_eta(w, tip.code, 10)
        w.clock.now = T0 + dt.timedelta(minutes=65)
        await w.press(G1_MEMBER, G1_CHAT, await card_now(w, tip.code), zh("btn.arrive"))
        await card_now(w, tip.code, zh("state.on_scene"))
        await close_as(w, tip.code, Outcome.BROUGHT_IN)
        # A second tip found at once: claimed 21:05, on scene 21:25.
        w.clock.now = T0 + dt.timedelta(minutes=1)
        other, _ = await dispatched(w, reporter=STRANGER, where=(30.1900, 115.0300))
        w.clock.now = T0 + dt.timedelta(minutes=5)
        await claim_with_eta(w, other.code, 20)
        w.clock.now = T0 + dt.timedelta(minutes=25)
        await w.press(G1_MEMBER, G1_CHAT, await card_now(w, other.code), zh("btn.arrive"))
        await card_now(w, other.code, zh("state.on_scene"))
        await close_as(w, other.code, Outcome.HOSPITAL)
        await w.settle()
        w.mark(OFFICER)
        await tick(w, dt.datetime(2026, 12, 2, 8, 0, tzinfo=TZ).astimezone(dt.UTC))
        summary = await w.next_bot(OFFICER, "📊")
        # Received at 21:00 and 21:01; claims in force 21:55 (after the reopen) and 21:05;
        # on scene 22:05 and 21:25. Two values each: median halfway, p90 at 90 %.
        legs = "、".join(
            zh("summary.field_leg", leg=zh(f"chart.leg.{leg}"), median=m, p90=p, count=2)
            for leg, m, p in (
                ("report_claim", "29.5", "49.9"),  # 4 and 55 minutes: 4 + 0.9 × 51
                ("claim_arrival", "15.0", "19.0"),  # 20 and 10: 10 + 0.9 × 10
                ("report_arrival", "44.5", "60.9"),  # 24 and 65: 24 + 0.9 × 41
            )
        )
        yesterday = summary["text"].split(zh("summary.campaign"))[0]
        assert zh("summary.field_legs", legs=legs) in yesterday
        # Per attempt: three searches, two found; per incident: two, both found.
        found = zh("summary.field_found", a_located=2, a_missed=1, i_located=2, i_missed=0)
        assert found in yesterday


async def test_not_found_then_a_photo_reopens_and_the_new_card_carries_it(tmp_path: Path) -> None:
    """The reporter may add a photo after "not found" (issue 13 item 6): it reopens the tip
    like a pin or words, and the new attempt's card carries that photo, not the first one."""
    async with world(tmp_path) as w:
        tip, _ = await dispatched(w)
        await claim_with_eta(w, tip.code, 10)
        w.mark(REPORTER)
        await close_as(w, tip.code, Outcome.NOT_FOUND)
        await w.next_bot(REPORTER, zh("reopen.ask", code=tip.code, hours=2))
        await w.settle()
        photos_before = [m for m in w.bot_msgs(G1_CHAT) if m.get("photo")]
        w.clock.now = T0 + dt.timedelta(minutes=30)
        sent = w.emu.send_photo(REPORTER, caption="在桥洞另一头")
        await w.next_bot(REPORTER, zh("reopen.done", code=tip.code, attempt=2))
        after = await w.repo.tips.get(tip.id)
        assert after.state is State.DISPATCHED and after.attempt == 2
        await card_now(w, tip.code, "在桥洞另一头")  # the caption is the reporter's words
        added = sent["photo"][-1]["file_unique_id"]

        def new_photos() -> list[dict]:
            return [m for m in w.bot_msgs(G1_CHAT) if m.get("photo")][len(photos_before) :]

        await w.until(lambda: len(new_photos()) == 1)
        assert new_photos()[0]["photo"][-1]["file_unique_id"] == added
        media = [m for m in await w.repo.media.of(tip.id) if m["kind"] == "report_photo"]
        assert media[-1]["file_unique_id"] == added and media[-1]["added_by"] == REPORTER
