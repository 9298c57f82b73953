"""Issue 10 ("Field-ready"), items 20–23: patrols and schedules, end to end.

20 people named by name (or role), never by a bare user id; 21 cold mode and late reminders
only after a real outage; 22 /help generated from the one command table; 23 no summary of a
day the bot was not running. On the controllable clock of tests/test_schedules.py (the
harness's ticker is off; tests move the clock and tick).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.domain.tips import Action, State
from bot.sandbox.emulator import BotApiEmulator
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_LEADER,
    G2_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    STRANGER,
    FakeClock,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    world,
)
from tests.test_schedules import (
    at,
    latest_card,
    officer_opens_chat,
    prefix,
    reminders,
    report,
    sent_reminders,
    texts,
    tick,
    tick_every,
    zh,
)

pytestmark = [pytest.mark.usefixtures("clean_log")]
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

STAFF = (G1_LEADER, G1_MEMBER, G1_MEMBER2, G2_LEADER, G2_MEMBER, OFFICER)
CHATS = (G1_CHAT, G2_CHAT, OFFICER, REPORTER, STRANGER)


def bare_ids(text: str) -> list[int]:
    """Staff user ids written out as numbers in a message's visible text."""
    return [uid for uid in STAFF if re.search(rf"(?<![\d.]){uid}(?!\d)", text)]


def every_text(w: World) -> list[tuple[int, str]]:
    """(chat, visible text) of every bot message and every earlier version of it (edits),
    in every chat, and of every answer to a button press (toasts and alerts)."""
    seen: list[tuple[int, str]] = []
    for chat in CHATS:
        for message in w.emu.transcript(chat, include_deleted=True):
            if not message.get("from_bot"):
                continue
            for version in (message, *message.get("edits", [])):
                seen.append((chat, version.get("text") or version.get("caption") or ""))
    with w.emu._lock:  # the emulator's own record of callback answers
        answers = list(w.emu._callbacks.values())
    seen += [(0, answer.get("text") or "") for answer in answers]
    return seen


def mentions(message: dict) -> list[tuple[str, str]]:
    """(visible text, url) of each tg://user mention in a message."""
    text = message.get("text") or ""
    found = []
    for entity in message.get("entities") or []:
        url = entity.get("url") or ""
        if url.startswith("tg://user?id="):
            utf16 = text.encode("utf-16-le")
            start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
            found.append((utf16[start:end].decode("utf-16-le"), url))
    return found


def with_text(w: World, chat: int, contains: str) -> list[dict]:
    return [m for m in w.bot_msgs(chat) if contains in (m.get("text") or "")]


# -- 20: a person is named by a name or a role word, never by a bare user id ----------------


async def test_fr20_no_message_names_a_person_by_a_bare_id(tmp_path: Path) -> None:
    """Campaign start: no leader or member has written to the bot yet, so the bot knows no
    staff member's Telegram name. Escalations (all three levels), the patrol-log warning,
    the hand-over, cards' "claimed by" and timeline, the officer's open list, a refusal
    naming the claimer and the summary all name people by role, never by a number."""
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        await tick(w)  # 12-01 21:00, g1 on duty
        waiting = await report(w, REPORTER, 0)  # nobody claims it: repost, widen, hand-over
        taken = await report(w, STRANGER, 1)
        # A member claims `taken` (recorded by the service: the bot never sees their name).
        tip = await w.tip_by_code(taken)
        assert (await w.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)).ok
        await w.settle()
        claimed = await latest_card(w, G1_CHAT, taken, zh("state.claimed"))
        assert zh("card.claimed_by", name=zh("role.member")) in claimed["text"]

        # Repost (10 min), widen (20 min), the claimer asked to update (45 min), the 08:30
        # hand-over, the 08:00 summary, the 09:00 reminder with no patrol logged (10:30).
        await tick_every(w, at(1, 21, 5), at(2, 10, 30))
        # Another member presses a button on the claimed tip: refused, naming the claimer.
        card = await latest_card(w, G1_CHAT, taken)
        answer = await w.press(G1_MEMBER2, G1_CHAT, card, zh("btn.go"))
        assert answer["text"] == zh("refused.not_claimer", name=zh("role.member"))
        # The officer's open list names the claimer.
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/open")
        listing = await w.next_bot(OFFICER, zh("open.head", count=2))
        assert f"{zh('role.member')}" in listing["text"]
        await w.settle()
        assert (await w.tip_by_code(waiting)).group_key == "g2"  # handed over

        # Every kind of message that names someone was sent…
        repost = with_text(w, G1_CHAT, "无人认领！")
        widen = with_text(w, G2_CHAT, "无人认领。")
        scene = with_text(w, G1_CHAT, "仍未到达现场")
        missing = with_text(w, G2_CHAT, "没有登记巡查")
        assert repost and widen and scene and missing
        assert texts(w, G1_CHAT, "🔁") and texts(w, OFFICER, "📊")
        # …each mention is a tg://user link whose text is the role word…
        leader, member = zh("role.leader"), zh("role.member")
        assert mentions(repost[0]) == [(leader, f"tg://user?id={G1_LEADER}")]
        assert mentions(widen[0]) == [(leader, f"tg://user?id={G2_LEADER}")]
        assert mentions(scene[0]) == [
            (member, f"tg://user?id={G1_MEMBER}"),
            (leader, f"tg://user?id={G1_LEADER}"),
        ]
        assert mentions(missing[0]) == [(leader, f"tg://user?id={G2_LEADER}")]
        # …and no message, in any chat, in any version, shows a user id as a number.
        shown = [(chat, text, ids) for chat, text in every_text(w) if (ids := bare_ids(text))]
        assert shown == []


async def test_fr20_leader_named_from_config_before_the_bot_has_seen_them(
    tmp_path: Path,
) -> None:
    """``[[groups]] leader_name`` (optional) names the leader in mentions; it wins over the
    Telegram name once seen; without it, the Telegram name once the leader has written."""
    async with world(tmp_path, g1='leader_name = "王建国"') as w:
        assert w.config.groups[0].leader_name == "王建国"
        assert w.config.groups[1].leader_name is None
        await officer_opens_chat(w)
        await w.roundtrip(G2_LEADER, G2_CHAT)  # the bot has seen g2's leader's name
        await tick(w)  # 12-01 21:00
        code = await report(w, REPORTER, 0)
        await tick_every(w, at(1, 21, 5), at(1, 21, 20))
        [repost] = with_text(w, G1_CHAT, "无人认领！")
        assert mentions(repost) == [("王建国", f"tg://user?id={G1_LEADER}")]
        assert repost["text"].startswith(f"⏰ {code} 已 10 分钟无人认领！王建国 请安排队员认领")
        [widen] = with_text(w, G2_CHAT, "无人认领。")
        assert mentions(widen) == [(NAMES[G2_LEADER][0], f"tg://user?id={G2_LEADER}")]
        # The leader writes (Telegram name 王组长): the configured name still wins.
        await w.roundtrip(G1_LEADER, G1_CHAT)
        tip = await w.tip_by_code(code)
        assert (await w.services.field.act(tip.id, Action.CLAIM, G2_MEMBER)).ok
        await tick_every(w, at(1, 22, 5), at(1, 22, 10))
        [scene] = with_text(w, G1_CHAT, "仍未到达现场")
        assert mentions(scene) == [
            (zh("role.member"), f"tg://user?id={G2_MEMBER}"),
            ("王建国", f"tg://user?id={G1_LEADER}"),
        ]
        assert (await w.tip_by_code(code)).state is State.CLAIMED


# -- 22: /help lists every command of the asker's menu, from the one command table ----------


def registered_commands(w: World) -> set[str]:
    from telegram.ext import CommandHandler

    return {
        command
        for handlers in w.app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def commands_in(message: dict) -> set[str]:
    """The /commands a message shows (as Telegram finds them in a text), without the slash."""
    return set(re.findall(r"(?<![\w/])/([A-Za-z0-9_]+)", message.get("text") or ""))


@pytest.mark.parametrize("station", ["zh", "en"])
async def test_fr22_help_lists_every_command_of_the_menu_for_every_role(
    tmp_path: Path, station: str
) -> None:
    """For each role (reporter, member, leader, officer; a patrol group's chat) and each
    language: every command of the menu that person sees is in their /help, with its
    description in that language, and every command /help names has a handler."""
    from bot.views.commands import BY_NAME, help_line

    private = {"type": "all_private_chats"}
    cases = [
        (REPORTER, private),
        (G1_MEMBER, private),
        (G1_LEADER, private),
        (OFFICER, {"type": "chat", "chat_id": OFFICER}),
    ]
    async with world(tmp_path, language=station) as w:
        registered = registered_commands(w)
        checked = 0
        for lang in ("zh", "en"):
            code = "" if lang == station else lang
            for user, scope in cases:
                await w.services.users.set_language(user, lang)
                w.mark(user)
                w.emu.send_text(user, "/help")
                answer = await w.next_bot(user)
                shown = commands_in(answer)
                menu = [c["command"] for c in w.emu.my_commands(scope, code)]
                assert menu, (user, lang)
                assert set(menu) <= shown, (user, lang, set(menu) - shown)
                assert shown <= registered, (user, lang, shown - registered)
                for name in menu:
                    line = help_line(BY_NAME[name], lang)
                    assert tr_plain(line) in answer["text"], (user, lang, name)
                checked += 1
        # The group: help in the station's language, the group's menu in it.
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER, "/help", chat_id=G1_CHAT)
        answer = await w.next_bot(G1_CHAT)
        menu = [c["command"] for c in w.emu.my_commands({"type": "chat", "chat_id": G1_CHAT})]
        assert {"patrol_start", "patrol_end"} <= set(menu) <= commands_in(answer)
        assert commands_in(answer) <= registered
        for name in menu:
            assert tr_plain(help_line(BY_NAME[name], station)) in answer["text"]
        assert checked == 8


def tr_plain(html: str) -> str:
    from tests.harness import plain

    return plain(html)


async def test_fr22_patrol_start_without_an_area(tmp_path: Path) -> None:
    """/patrol_start alone says the patrol started and how to give the area; the next
    /patrol_start AREA records the area of the patrol under way."""
    async with world(tmp_path) as w:
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER, "/patrol_start", chat_id=G1_CHAT)
        answer = (await w.next_bot(G1_CHAT))["text"]
        assert "—" not in answer and "/patrol_start" in answer  # was "开始巡查：—。"
        example = w.config.patrol.areas[0]
        assert answer == zh("patrol.started_no_area", group="第一小组", example=example)
        [patrol] = await w.repo.patrols.between(at(1, 0), at(2, 0))
        assert patrol["area"] is None and patrol["ended_at"] is None

        w.emu.send_text(G1_MEMBER2, "/patrol_start  桥梁涵洞 ", chat_id=G1_CHAT)
        assert (await w.next_bot(G1_CHAT))["text"] == zh("patrol.area_set", area="桥梁涵洞")
        [patrol] = await w.repo.patrols.between(at(1, 0), at(2, 0))
        assert patrol["area"] == "桥梁涵洞" and patrol["started_by"] == G1_MEMBER
        # The area is set once; one patrol at a time.
        w.emu.send_text(G1_MEMBER, "/patrol_start 公园", chat_id=G1_CHAT)
        assert (await w.next_bot(G1_CHAT))["text"] == zh("patrol.already")
        assert len(await w.repo.patrols.between(at(1, 0), at(2, 0))) == 1
        assert [e["action"] for e in await w.events_named("patrol_")] == [
            "patrol_start",
            "patrol_area",
        ]


# -- 21: cold mode on = one reminder now; "late" only after a real outage --------------------

LATE = zh("reminder.late", slot="\x00").split("\x00")[0]  # "⏰ （本应在 "
COLD = prefix("reminder.cold")  # "🥶 极寒巡查提醒 · "


def late_notices(w: World) -> list[str]:
    return [text for chat in CHATS for text in texts(w, chat) if LATE in text]


@pytest.mark.parametrize("minute", [3, 20, 47])
async def test_fr21_cold_mode_on_gives_one_reminder_now_then_every_interval(
    tmp_path: Path, minute: int
) -> None:
    """Whatever the minute, /coldmode on sends one cold reminder at once to the group on
    duty (no claim of an outage: the bot was running), then one every 60 minutes from
    there."""
    async with world(tmp_path, clock=FakeClock(at(2, 13, 0))) as w:
        await officer_opens_chat(w)
        await tick_every(w, at(2, 13, 0), at(2, 13, minute), minutes=1)  # running all along
        before = len(reminders(w, G2_CHAT))
        w.clock.now = at(2, 13, minute) + dt.timedelta(seconds=30)
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/coldmode on")
        await w.next_bot(OFFICER, zh("coldmode.changed", state=zh("coldmode.on")))
        await w.settle()
        g2 = [m["text"] for m in w.bot_msgs(G2_CHAT)]
        assert len(g2) >= 2 and g2[-2] == zh("cold.on", interval=60), g2
        assert g2[-1].startswith(COLD + "第二小组")  # the reminder, right behind it
        assert len(reminders(w, G2_CHAT)) == before + 1
        assert reminders(w, G1_CHAT) == []  # only the group on duty
        # Then one every interval from the moment it was switched on.
        sent = await tick_every(w, at(2, 13, minute + 1), at(2, 15, minute + 1), minutes=1)
        assert sent_reminders(sent) == [
            (f"12-02 14:{minute:02d}", G2_CHAT),
            (f"12-02 15:{minute:02d}", G2_CHAT),
        ]
        assert late_notices(w) == []


async def test_fr21_late_reminder_only_after_a_real_outage(tmp_path: Path) -> None:
    """A first start just after a reminder time, and a restart that added a reminder time
    in the past: the bot was not down at those times, so nothing is sent late and nothing
    says the system was down. A real outage across a slot (in cold mode too): sent once,
    late, and says so."""
    emu = BotApiEmulator().start()
    clock = FakeClock(at(2, 20, 10))
    db_path = tmp_path / "station.sqlite3"

    def run(sections: str = "") -> AbstractAsyncContextManager[World]:
        return world(tmp_path, emu=emu, clock=clock, db_path=db_path, sections=sections)

    try:
        async with run() as w:
            await officer_opens_chat(w)
            # The first start ever, 10 minutes after the 20:00 slot: not an outage.
            sent = await tick_every(w, at(2, 20, 10), at(2, 21, 0))
            assert sent_reminders(sent) == [] and late_notices(w) == []
            log = {r["slot"]: r["detail"] for r in await w.schedule_log("reminder")}
            assert log == {"2026-12-02T12:00Z": "missed"}
            await tick_every(w, at(2, 21, 0), at(3, 13, 35))  # 09:00 on time
        # Restarted at 13:36 with a 13:30 reminder added: it was running at 13:30, when
        # that was not a reminder time. Nothing late.
        times = '[patrol]\nreminder_times = ["09:00", "13:30", "20:00"]\n'
        async with run(times) as w:
            sent = await tick_every(w, at(3, 13, 36), at(3, 14, 0), minutes=1)
            assert sent_reminders(sent) == [] and late_notices(w) == []
            # Cold mode from 14:00 (one reminder at once, then hourly from 14:00).
            w.clock.now = at(3, 14, 0)
            await w.services.schedules.switch_cold(True, OFFICER)
            await w.settle()
            assert reminders(w, G1_CHAT)[-1].startswith(COLD + "第一小组")
            sent = await tick_every(w, at(3, 14, 5), at(3, 15, 50))
            assert sent_reminders(sent) == [("12-03 15:00", G1_CHAT)]
            assert late_notices(w) == []
        # Down from 15:50 to 16:20, across the 16:00 slot: sent once, late, and says so.
        async with run(times) as w:
            sent = await tick_every(w, at(3, 16, 20), at(3, 16, 40))
            assert sent_reminders(sent) == [("12-03 16:20", G1_CHAT)]
            [late] = late_notices(w)
            assert late.startswith(zh("reminder.late", slot="16:00") + "\n" + COLD)
        # Down from 16:40 to 17:35, past the 30-minute grace: 17:00 is dropped.
        async with run(times) as w:
            sent = await tick_every(w, at(3, 17, 35), at(3, 17, 55))
            assert sent_reminders(sent) == []
            log = {r["slot"]: r["detail"] for r in await w.schedule_log("reminder")}
            assert log["2026-12-03T01:00Z"] == "on_time"  # 09:00
            assert log["2026-12-03T05:30Z"] == "missed"  # 13:30, added while running
            assert log["2026-12-03T06:00Z"] == "on_time"  # 14:00, cold mode switched on
            assert log["2026-12-03T08:00Z"] == "late"  # 16:00, down
            assert log["2026-12-03T09:00Z"] == "missed"  # 17:00, down too long
            assert len(late_notices(w)) == 1
    finally:
        emu.stop()



def test_fr21_cold_slots_count_from_the_switch_on_and_late_needs_an_outage() -> None:
    """The pure rules (bot/domain/schedule.py) behind the two tests above."""
    from bot.domain.schedule import SlotTiming, latest_slot, reminder_timing

    def local(hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        return at(2, hour, minute).astimezone(TZ) + dt.timedelta(seconds=second)

    times = [dt.time(9), dt.time(20)]
    since = local(13, 20, 37)  # switched on at 13:20:37: its minute is the first slot
    assert latest_slot(local(13, 20, 37), times, 60, since) == local(13, 20)
    assert latest_slot(local(14, 19), times, 60, since) == local(13, 20)
    assert latest_slot(local(14, 20), times, 60, since) == local(14, 20)
    assert latest_slot(local(20, 5), times, 60, since) == local(20, 0)  # the configured time
    assert latest_slot(local(20, 25), times, 60, since) == local(20, 20)
    assert latest_slot(local(13, 19), times, 60, local(13, 20)) == local(9, 0)  # not yet on
    # Without the switch-on time (an old database): every interval from midnight.
    assert latest_slot(local(13, 25), times, 60) == local(13, 0)

    slot, grace = local(15), 30
    assert reminder_timing(slot, local(15, 1), grace, None) is SlotTiming.ON_TIME
    # Never ran before (first start), or running at the slot's time: not made up late.
    assert reminder_timing(slot, local(15, 10), grace, None) is SlotTiming.MISSED
    assert reminder_timing(slot, local(15, 10), grace, local(15, 9, 45)) is SlotTiming.MISSED
    assert reminder_timing(slot, local(15, 10), grace, local(15)) is SlotTiming.MISSED
    # Last ran before the slot: the bot was down at its time.
    assert reminder_timing(slot, local(15, 10), grace, local(14, 59, 50)) is SlotTiming.LATE
    assert reminder_timing(slot, local(15, 31), grace, local(14, 59)) is SlotTiming.MISSED


# -- 23: no summary of a day the bot was not running -----------------------------------------


async def test_fr23_no_summary_of_a_day_the_bot_was_not_running(tmp_path: Path) -> None:
    """The summary at 08:00 covers yesterday; it is sent only if the bot was running at some
    time yesterday or anything (a tip, a patrol) was recorded then. A first start mid-day
    and a restart after a whole day down send none (recorded as "not_running")."""
    emu = BotApiEmulator().start()
    clock = FakeClock(at(2, 13, 0))
    db_path = tmp_path / "station.sqlite3"

    def run() -> AbstractAsyncContextManager[World]:
        return world(tmp_path, emu=emu, clock=clock, db_path=db_path)

    def summaries(w: World) -> list[str]:
        return texts(w, OFFICER, "📊")

    try:
        async with run() as w:
            await officer_opens_chat(w)
            await tick(w, at(2, 13, 0))  # the first start ever, mid-day: 12-01 not summed up
            assert summaries(w) == []
            await tick_every(w, at(2, 13, 30), at(3, 8, 30), minutes=30)
            [first] = summaries(w)  # 12-02: running since 13:00
            assert first.startswith(zh("summary.head", day="2026-12-02"))
        # Down from 12-03 08:30 to 12-05 10:00: all of 12-04 down, nothing recorded.
        async with run() as w:
            await tick_every(w, at(5, 10, 0), at(6, 8, 0), minutes=30)
            [_, second] = summaries(w)  # nothing for 12-04; 12-05 again
            assert second.startswith(zh("summary.head", day="2026-12-05"))
            log = [(r["slot"], r["detail"]) for r in await w.schedule_log("summary")]
            assert log == [
                ("2026-12-02", "not_running"),
                ("2026-12-03", None),
                ("2026-12-05", "not_running"),
                ("2026-12-06", None),
            ]
        # Down from 12-06 08:00 to 12-08 07:00, but a tip was recorded on 12-07 (e.g. by a
        # bot run whose schedule never ticked): the day is summed up.
        async with run() as w:
            w.clock.now = at(7, 21, 0)
            await report(w, REPORTER, 0)
            await tick_every(w, at(8, 7, 0), at(8, 8, 0), minutes=30)
            third = summaries(w)[-1]
            assert third.startswith(zh("summary.head", day="2026-12-07"))
            assert "收到报告 1 条" in third
    finally:
        emu.stop()
