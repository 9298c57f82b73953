"""Schedules end to end over the Bot API emulator, on a controllable clock.

Reminders, cold mode, the weather rule, escalation, hand-over, the patrol log, the daily
summary, restarts and the ticker itself. The harness's ticker is off: tests move the fake
clock and call ``ScheduleService.tick`` themselves (the last test switches the ticker on).
Everything is in station time (Asia/Shanghai); the roster has g1 on duty on the duty day
2026-12-01 (08:30 → 08:30), g2 on 12-02, g1 on 12-03 and so on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import zoneinfo
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.domain.rewards import PayMethod, RewardState
from bot.domain.tips import Outcome, State, Supply
from bot.jobs import ticker
from bot.sandbox.emulator import BotApiEmulator
from bot.services.weather import OpenMeteo
from tests.fakes.forecast import FakeForecast, tonight_at
from tests.harness import (
    CENTRE,
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
    WAIT_S,
    FakeClock,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    submit_tip,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
G1_NAME, G2_NAME = "第一小组", "第二小组"
# Places in central Huangshi, ~1.4 km apart (no two are duplicates of each other).
PLACES = [CENTRE, (30.2100, 115.0500), (30.1900, 115.0300), (30.2200, 115.0600)]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """December 2026, station time → the UTC instant the clock holds."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def zh(key: str, **params: object) -> str:
    return tr("zh", key, **params)


def prefix(key: str) -> str:
    """The text of a catalog message before its ``{group}``."""
    return zh(key, group="\x00").split("\x00")[0]


REMINDER = prefix("reminder.head")  # "🚐 巡查提醒 · "
COLD_REMINDER = prefix("reminder.cold")  # "🥶 极寒巡查提醒 · "


def is_reminder(text: str) -> bool:
    return any(line.startswith((REMINDER, COLD_REMINDER)) for line in text.split("\n"))


def texts(w: World, chat: int, contains: str = "") -> list[str]:
    return [m.get("text") or "" for m in w.bot_msgs(chat) if contains in (m.get("text") or "")]


def reminders(w: World, chat: int) -> list[str]:
    return [text for text in texts(w, chat) if is_reminder(text)]


def cards(w: World, chat: int, code: str) -> list[dict]:
    """Every copy of a tip's card in a chat, oldest first."""
    return [
        m
        for m in w.bot_msgs(chat)
        if (m.get("text") or "").startswith(("🔴", "🟠")) and code in m["text"]
    ]


async def latest_card(w: World, chat: int, code: str, contains: str | None = None) -> dict:
    def ready() -> dict | None:
        found = cards(w, chat, code)
        if found and (contains is None or contains in found[-1]["text"]):
            return found[-1]
        return None

    return await w.until(ready)


async def tick(w: World, when: dt.datetime | None = None) -> None:
    """One tick at ``when`` (or now), then wait until everything it queued was delivered."""
    if when is not None:
        w.clock.now = when
    await w.services.schedules.tick()
    await w.settle()


Sent = list[tuple[str, int, str]]  # (local "MM-DD HH:MM", chat, text)


async def tick_every(
    w: World,
    start: dt.datetime,
    end: dt.datetime,
    *,
    minutes: int = 5,
    chats: tuple[int, ...] = (G1_CHAT, G2_CHAT, OFFICER),
) -> Sent:
    """Tick every ``minutes`` from ``start`` to ``end`` (inclusive); what each tick sent.
    The clock is left at the last tick."""
    seen = {chat: len(w.bot_msgs(chat)) for chat in chats}
    sent: Sent = []
    now = start
    while now <= end:
        await tick(w, now)
        stamp = now.astimezone(TZ).strftime("%m-%d %H:%M")
        for chat in chats:
            messages = w.bot_msgs(chat)
            sent += [(stamp, chat, m.get("text") or "") for m in messages[seen[chat] :]]
            seen[chat] = len(messages)
        now += dt.timedelta(minutes=minutes)
    return sent


def sent_reminders(sent: Sent) -> list[tuple[str, int]]:
    return [(stamp, chat) for stamp, chat, text in sent if is_reminder(text)]


async def officer_opens_chat(w: World) -> None:
    """The officer presses Start, so that the bot may write to them."""
    w.mark(OFFICER)
    w.emu.send_text(OFFICER, "/start")
    await w.next_bot(OFFICER)


async def say(
    w: World, user: int, text: str, chat: int | None = None, expect: str | None = None
) -> str:
    """``user`` sends ``text`` (privately or in ``chat``); the bot's answer there — the first
    one, or the one containing ``expect`` (an announcement queued by the same command may
    arrive before the command's own answer)."""
    where = chat if chat is not None else user
    w.mark(where)
    w.emu.send_text(user, text, chat_id=chat)
    answer = await w.next_bot(where, expect)
    return answer["text"]


async def report(w: World, user: int, place: int, **kwargs: object) -> str:
    code = await submit_tip(w, user, where=PLACES[place], **kwargs)
    await w.settle()
    return code


async def press(w: World, user: int, chat: int, code: str, button: str) -> dict:
    card = await latest_card(w, chat, code)
    return await w.press(user, chat, card, button)


async def tip_state(w: World, code: str) -> State:
    tip = await w.tip_by_code(code)
    assert tip is not None
    return tip.state


# -- reminders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (None, [("12-02 09:00", G2_CHAT), ("12-02 20:00", G2_CHAT)]),
        # A slot before the 08:30 hand-over belongs to the previous duty day's group.
        (
            '["06:00", "09:00", "20:00"]',
            [("12-02 06:00", G1_CHAT), ("12-02 09:00", G2_CHAT), ("12-02 20:00", G2_CHAT)],
        ),
    ],
    ids=["default", "with_06:00"],
)
async def test_reminders_across_a_campaign_day(
    tmp_path: Path, times: str | None, expected: list[tuple[str, int]]
) -> None:
    sections = f"[patrol]\nreminder_times = {times}\n" if times else ""
    async with world(tmp_path, sections=sections) as w:
        await officer_opens_chat(w)
        sent = await tick_every(w, at(2, 0), at(2, 8, 30))
        # Two tips for g2 (on duty since 08:30), 5 minutes apart.
        w.clock.now = at(2, 8, 35)
        first = await report(w, REPORTER, 0)
        w.clock.now = at(2, 8, 40)
        second = await report(w, STRANGER, 1)
        sent += await tick_every(w, at(2, 8, 35), at(3, 0, 0))

        assert sent_reminders(sent) == expected
        areas = "、".join(w.config.patrol.areas)
        morning, evening = reminders(w, G2_CHAT)
        for text, age in ((morning, 25), (evening, 685)):
            assert text.startswith(REMINDER + G2_NAME)
            assert zh("reminder.open", count=2) in text
            assert zh("reminder.oldest", code=first, minutes=age) in text
            assert second not in text
            assert zh("reminder.areas", areas=areas) in text
            assert zh("reminder.late", slot="09:00").split("09:00")[0] not in text
        if times:  # the 06:00 reminder went to g1, which had nothing open
            [early] = reminders(w, G1_CHAT)
            assert early.startswith(REMINDER + G1_NAME)
            assert zh("reminder.open", count=0) in early and "HS-" not in early
        else:
            assert reminders(w, G1_CHAT) == []
        # The schedule log: yesterday's 20:00 was recorded as missed (first start, 4 h late),
        # each of today's slots once, on time.
        log = [(r["slot"], r["detail"]) for r in await w.schedule_log("reminder")]
        assert log[0] == ("2026-12-01T12:00Z", "missed")
        assert [detail for _, detail in log[1:]] == ["on_time"] * len(expected)


@pytest.mark.parametrize("case", ["before_start", "after_end"])
async def test_nothing_outside_the_campaign_window(tmp_path: Path, case: str) -> None:
    campaign = {
        "before_start": "[campaign]\nstart = 2026-12-03\nend = 2027-03-15\n",
        "after_end": "[campaign]\nstart = 2026-11-21\nend = 2026-12-01\n",
    }[case]
    async with world(tmp_path, sections=campaign) as w:
        await officer_opens_chat(w)
        last = at(2, 23, 55) if case == "before_start" else at(3, 23, 55)
        # Running on the campaign's last day (12-01), for its summary the morning after.
        first = at(2, 0) if case == "before_start" else at(1, 23, 0)
        sent = await tick_every(w, first, last)
        assert sent_reminders(sent) == []
        assert [s for s in sent if "巡查提醒后" in s[2]] == []  # no patrol-log checks either
        assert not [r for r in await w.schedule_log("reminder") if r["detail"] != "missed"]
        assert await w.schedule_log("patrol_check") == []
        summaries = [(stamp, text) for stamp, chat, text in sent if text.startswith("📊")]
        if case == "before_start":
            assert summaries == []
        else:  # one last summary, the morning after the campaign's last day
            [(stamp, text)] = summaries
            assert stamp == "12-02 08:00"
            assert zh("summary.head", day="2026-12-01") in text


async def test_first_and_last_day_of_the_campaign(tmp_path: Path) -> None:
    sections = (
        "[campaign]\nstart = 2026-12-02\nend = 2026-12-02\n"
        '[patrol]\nreminder_times = ["09:00", "23:50"]\n'
    )
    async with world(tmp_path, sections=sections) as w:
        await officer_opens_chat(w)
        # The eve of the campaign: down from 23:45 to 00:05. The 23:50 slot was not a
        # campaign slot, so nothing is sent late on the first morning.
        sent = await tick_every(w, at(1, 23, 40), at(1, 23, 45))
        sent += await tick_every(w, at(2, 0, 5), at(2, 23, 45))
        assert sent_reminders(sent) == [("12-02 09:00", G2_CHAT)]
        # The last day: down from 23:45 to 00:05. Its 23:50 reminder is sent once, late,
        # just after midnight, and says so; nothing after that.
        sent = await tick_every(w, at(3, 0, 5), at(3, 23, 55))
        assert sent_reminders(sent) == [("12-03 00:05", G2_CHAT)]
        late = reminders(w, G2_CHAT)[-1]
        assert late.startswith(zh("reminder.late", slot="23:50"))
        # The last slot's patrol-log check still runs after midnight (23:50 + 90 min).
        missing = [(s, c) for s, c, text in sent if text.startswith("⚠️") and "23:50" in text]
        assert missing == [("12-03 01:20", G2_CHAT), ("12-03 01:20", OFFICER)]
        # Summaries: the first day's morning and the morning after the last day.
        summaries = [stamp for stamp, chat, text in sent if text.startswith("📊")]
        assert summaries == ["12-03 08:00"]
        assert len(texts(w, OFFICER, "📊")) == 2


# -- cold mode --------------------------------------------------------------------------------


async def test_cold_mode_on_and_off(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        await tick(w)  # 12-01 21:00: the first tick (the 20:00 reminder is an hour old)

        # Not an officer: refused, privately or in a group; nothing changes.
        assert await say(w, G1_LEADER, "/coldmode on") == zh("refused.officer_only")
        assert await say(w, G1_MEMBER, "/coldmode on", G1_CHAT) == zh("refused.officer_only")
        assert not (await w.services.patrols.cold_state()).on

        w.clock.now = at(1, 21, 0)
        on = zh("coldmode.changed", state=zh("coldmode.on"))
        assert await say(w, OFFICER, "/coldmode on", expect=on) == on
        await w.settle()
        announced = zh("cold.on", interval=60)
        for chat in (G1_CHAT, G2_CHAT, OFFICER):
            assert texts(w, chat, announced) == [announced]
        assert (await w.services.patrols.cold_state()).source == "manual"
        # One reminder at once, to the group on duty, right after the announcement…
        g1 = [m["text"] for m in w.bot_msgs(G1_CHAT)]
        assert g1[-2] == announced and g1[-1].startswith(COLD_REMINDER + G1_NAME)

        # …then every hour from there, day and night, to the group on duty.
        sent = await tick_every(w, at(1, 21, 0), at(2, 20, 55))
        hourly = sent_reminders(sent)
        night = [stamp for stamp, chat in hourly if chat == G1_CHAT]
        day = [stamp for stamp, chat in hourly if chat == G2_CHAT]
        assert night == [f"12-01 {h}:00" for h in (22, 23)] + [
            f"12-02 {h:02d}:00" for h in range(0, 9)
        ]
        assert day == [f"12-02 {h:02d}:00" for h in range(9, 21)]
        assert all(text.startswith(COLD_REMINDER) for text in reminders(w, G1_CHAT))

        w.clock.now = at(2, 21, 0)
        off = zh("coldmode.changed", state=zh("coldmode.off"))
        assert await say(w, OFFICER, "/coldmode off", expect=off) == off
        await w.settle()
        for chat in (G1_CHAT, G2_CHAT, OFFICER):
            assert texts(w, chat, zh("cold.off")) == [zh("cold.off")]
        # Again off: said so, nobody else told twice.
        unchanged = zh("coldmode.unchanged", state=zh("coldmode.off"))
        assert await say(w, OFFICER, "/coldmode off") == unchanged

        # Back to two a day (12-03 is g1's duty day).
        sent = await tick_every(w, at(2, 21, 0), at(3, 21, 0))
        assert sent_reminders(sent) == [("12-03 09:00", G1_CHAT), ("12-03 20:00", G1_CHAT)]
        assert all(text.startswith(REMINDER) for text in reminders(w, G1_CHAT)[-2:])
        actions = [e["action"] for e in await w.repo.events.of() if e["action"].startswith("cold")]
        assert actions == ["cold_on", "cold_off"]


# -- the weather rule ---------------------------------------------------------------------------


def weather_sections(url: str) -> str:
    return f'[weather]\nurl = "{url}"\ncold_threshold_c = 0\ncheck_times = ["07:00", "17:00"]\n'


async def test_weather_rule_switches_cold_mode(tmp_path: Path) -> None:
    clock = FakeClock(at(2, 16, 0))
    with FakeForecast(tonight_at(dt.date(2026, 12, 2), 4.0)) as fake:
        fetch = OpenMeteo(fake.url, 30.2, 115.04, "Asia/Shanghai", 2.0, clock=clock)
        async with world(
            tmp_path,
            clock=clock,
            overrides={"fetch_forecast": fetch},
            sections=weather_sections(fake.url),
        ) as w:
            await officer_opens_chat(w)
            announced = zh("cold.on", interval=60)

            async def check(when: dt.datetime, day: int, minimum: float) -> None:
                fake.data = tonight_at(dt.date(2026, 12, day), minimum)
                await tick(w, when)

            # 16:00, the first tick: this morning's 07:00 check runs now; tonight is mild.
            await check(at(2, 16, 0), 2, 4.0)
            assert len(fake.requests) == 1
            params = fake.requests[0]
            assert params["hourly"] == "temperature_2m" and params["timezone"] == "Asia/Shanghai"
            assert params["latitude"] == "30.2000" and params["longitude"] == "115.0400"
            assert not (await w.services.patrols.cold_state()).on
            # Colder now, but the next check is at 17:00.
            await check(at(2, 16, 30), 2, -6.5)
            assert len(fake.requests) == 1 and texts(w, G1_CHAT, announced) == []

            # 17:00: tonight's minimum is -6.5 °C → on by itself, and says why.
            await check(at(2, 17, 0), 2, -6.5)
            why = zh("weather.reason", minimum="-6.5", threshold="0")
            assert "-6.5°C" in why
            for chat in (G1_CHAT, G2_CHAT, OFFICER):
                assert texts(w, chat, announced) == [f"{announced}\n{why}"]
            state = await w.services.patrols.cold_state()
            assert state.on and state.source == "auto"
            await check(at(2, 17, 5), 2, -6.5)  # no second announcement
            assert len(texts(w, G1_CHAT, announced)) == 1 and len(fake.requests) == 2

            # 12-03 07:00: mild tonight → off (it was the rule that switched it on).
            await check(at(3, 7, 0), 3, 3.0)
            why_off = zh("weather.reason_off", minimum="3.0", threshold="0")
            for chat in (G1_CHAT, G2_CHAT, OFFICER):
                assert texts(w, chat, zh("cold.off")) == [f"{zh('cold.off')}\n{why_off}"]

            # 17:00 cold again → on; the officer switches it off: that holds for the duty day
            # (until 12-04 08:30) whatever the forecast says.
            await check(at(3, 17, 0), 3, -3.0)
            assert (await w.services.patrols.cold_state()).on
            w.clock.now = at(3, 17, 30)
            off = zh("coldmode.changed", state=zh("coldmode.off"))
            assert await say(w, OFFICER, "/coldmode off", expect=off) == off
            await check(at(4, 7, 0), 4, -8.0)
            assert not (await w.services.patrols.cold_state()).on
            assert len(texts(w, G1_CHAT, announced)) == 2
            # The next duty day the rule decides again.
            await check(at(4, 17, 0), 4, -8.0)
            state = await w.services.patrols.cold_state()
            assert state.on and state.source == "auto"
            assert len(texts(w, G1_CHAT, announced)) == 3
            assert zh("weather.reason", minimum="-8.0", threshold="0") in texts(w, G1_CHAT)[-1]

            # Switched on by an officer: a mild forecast never switches it off (auto only).
            w.clock.now = at(4, 20, 0)
            await say(w, OFFICER, "/coldmode off")
            await say(w, OFFICER, "/coldmode on")
            await check(at(5, 17, 0), 5, 5.0)  # the officer's duty day is over by now
            state = await w.services.patrols.cold_state()
            assert state.on and state.source == "manual"
            # Off three times: the rule 12-03 07:00, the officer 12-03 17:30 and 12-04 20:00.
            assert len(texts(w, G1_CHAT, zh("cold.off"))) == 3
            assert len(fake.requests) == 7
            assert texts(w, OFFICER, zh("weather.unreachable")) == []


async def test_weather_endpoint_unreachable(tmp_path: Path) -> None:
    fake = FakeForecast().start()
    try:
        # No fetch_forecast override: the bot builds its own OpenMeteo client from [weather].
        async with world(
            tmp_path, clock=FakeClock(at(2, 7, 0)), sections=weather_sections(fake.url)
        ) as w:
            await officer_opens_chat(w)
            # Tonight (by the bot's clock) is mild although the day is bitter: nothing.
            fake.data = tonight_at(dt.date(2026, 12, 2), 3.0, daytime=-12.0)
            await tick(w, at(2, 7, 0))
            assert len(fake.requests) == 1
            assert not (await w.services.patrols.cold_state()).on
            fake.data = tonight_at(dt.date(2026, 12, 2), -5.0)
            await tick(w, at(2, 17, 0))
            assert (await w.services.patrols.cold_state()).on
            before = {chat: len(w.bot_msgs(chat)) for chat in (G1_CHAT, G2_CHAT)}

            fake.stop()  # the endpoint goes away: connection refused
            for when in (at(2, 17, 5), at(3, 7, 0), at(3, 7, 5), at(3, 17, 0), at(4, 7, 0)):
                await tick(w, when)
            # Nothing changed: still on, nobody told it is off; the officer told once.
            state = await w.services.patrols.cold_state()
            assert state.on and state.source == "auto"
            assert texts(w, OFFICER, zh("weather.unreachable")) == [zh("weather.unreachable")]
            for chat in (G1_CHAT, G2_CHAT):
                new = [m["text"] for m in w.bot_msgs(chat)[before[chat] :]]
                assert not [t for t in new if "极寒模式" in t or "天气" in t], new
            checks = [r["slot"] for r in await w.schedule_log("weather")]
            assert len(checks) == 5  # 12-02 07:00, 17:00; 12-03 07:00, 17:00; 12-04 07:00
            assert len(fake.requests) == 2
    finally:
        fake.stop()


# -- escalation -------------------------------------------------------------------------------


async def test_each_escalation_level_exactly_once(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        await tick(w)  # 21:00, first tick
        late = await report(w, REPORTER, 0)  # nobody claims it for a while
        urgent = await report(w, STRANGER, 1, flags=("ill",))
        quick = await report(w, REPORTER, 2)  # claimed at once, on scene in time
        dropped = await report(w, STRANGER, 3)  # closed as invalid straight away
        assert (await w.tip_by_code(urgent)).urgent
        w.clock.now = at(1, 21, 3)
        await press(w, G1_MEMBER2, G1_CHAT, quick, zh("btn.claim"))
        await press(w, G1_MEMBER2, G1_CHAT, dropped, zh("btn.invalid"))
        confirm = w.message(G1_CHAT, cards(w, G1_CHAT, dropped)[-1]["message_id"])
        await w.press(G1_MEMBER2, G1_CHAT, confirm, "确认")
        await w.settle()
        assert await tip_state(w, dropped) is State.CLOSED

        def counts() -> dict[str, int]:
            return {
                "g1_late": len(cards(w, G1_CHAT, late)),
                "g1_urgent": len(cards(w, G1_CHAT, urgent)),
                "g2_late": len(cards(w, G2_CHAT, late)),
                "g2_urgent": len(cards(w, G2_CHAT, urgent)),
                "officer_cards": len(cards(w, OFFICER, late) + cards(w, OFFICER, urgent)),
                "repost": len(texts(w, G1_CHAT, "无人认领！")),
                "widen_g2": len(texts(w, G2_CHAT, "无人认领。")),
                "widen_officer": len(texts(w, OFFICER, "无人认领，请协调处置")),
                "scene": len(texts(w, G1_CHAT, "仍未到达现场")),
            }

        base = counts()
        assert base == {
            **dict.fromkeys(base, 0),
            "g1_late": 1,
            "g1_urgent": 1,
        }

        # 5 minutes: the urgent tip's card is posted again, the leader mentioned.
        await tick(w, at(1, 21, 5))
        await tick(w, at(1, 21, 9))
        assert counts() == {**base, "g1_urgent": 2, "repost": 1}
        repost = texts(w, G1_CHAT, "无人认领！")[0]
        assert repost.startswith(f"⏰ {urgent} 已 5 分钟无人认领！")
        raw = w.bot_msgs(G1_CHAT)[-1]  # the notice follows the card copy
        assert f"tg://user?id={G1_LEADER}" in json.dumps(raw, ensure_ascii=False)

        # 10 minutes: the ordinary one; ticking again changes nothing.
        await tick(w, at(1, 21, 10))
        await tick(w, at(1, 21, 10))
        await tick(w, at(1, 21, 15))
        step = {**base, "g1_urgent": 2, "g1_late": 2, "repost": 2}
        assert counts() == step

        # 20 minutes: the other group and the officer get the cards.
        await tick(w, at(1, 21, 20))
        await tick(w, at(1, 21, 20))
        await tick(w, at(1, 21, 24))
        step = {
            **step,
            "g2_late": 1,
            "g2_urgent": 1,
            "officer_cards": 2,
            "widen_g2": 2,
            "widen_officer": 2,
        }
        assert counts() == step
        assert zh("escalate.widen_officer", code=late, minutes=20, group=G1_NAME) in texts(
            w, OFFICER
        )

        # A member of the other group takes the ordinary one from the copy in their chat.
        answer = await press(w, G2_MEMBER, G2_CHAT, late, zh("btn.claim"))
        assert answer["text"] == zh("done.claim", code=late)
        tip = await w.tip_by_code(late)
        assert tip.state is State.CLAIMED and tip.claimed_by == G2_MEMBER
        claimed = zh("card.claimed_by", name=NAMES[G2_MEMBER][0])
        for chat in (G1_CHAT, G2_CHAT, OFFICER):  # every copy shows the truth
            await latest_card(w, chat, late, claimed)
        # The urgent one is claimed in its own group and set off, but nobody arrives.
        w.clock.now = at(1, 21, 30)
        await press(w, G1_MEMBER, G1_CHAT, urgent, zh("btn.claim"))
        await latest_card(w, G1_CHAT, urgent, zh("state.claimed"))
        await press(w, G1_MEMBER, G1_CHAT, urgent, zh("btn.go"))
        await latest_card(w, G1_CHAT, urgent, zh("state.en_route"))
        # The quick one arrives in time.
        w.clock.now = at(1, 21, 40)
        await press(w, G1_MEMBER2, G1_CHAT, quick, zh("btn.arrive"))
        await latest_card(w, G1_CHAT, quick, zh("state.on_scene"))
        await w.settle()

        # 45 minutes after each claim: the claimer and the leader are asked.
        await tick(w, at(1, 22, 8))
        assert counts()["scene"] == 0
        await tick(w, at(1, 22, 9))  # the ordinary one (claimed at 21:24 by g2's member)
        await tick(w, at(1, 22, 9))
        [scene] = texts(w, G1_CHAT, "仍未到达现场")
        assert scene.startswith(f"⏰ {late} 认领 45 分钟后仍未到达现场")
        assert NAMES[G2_MEMBER][0] in scene
        # The claimer is in the other group: asked there too.
        assert texts(w, G2_CHAT, "仍未到达现场") == [scene]
        await tick(w, at(1, 22, 14))
        assert len(texts(w, G1_CHAT, "仍未到达现场")) == 1
        await tick(w, at(1, 22, 15))  # the urgent one (claimed at 21:30)
        await tick(w, at(1, 23, 30))
        await tick(w, at(2, 3, 0))
        assert len(texts(w, G1_CHAT, "仍未到达现场")) == 2
        assert texts(w, G1_CHAT, "仍未到达现场")[1].startswith(f"⏰ {urgent} 认领 45 分钟后")

        # The event log: each level once per tip; nothing for the tips that moved on.
        levels = ("escalate_1", "escalate_2", "escalate_scene")
        for code, expected in ((late, levels), (urgent, levels), (quick, ()), (dropped, ())):
            tip = await w.tip_by_code(code)
            actions = [e["action"] for e in await w.repo.events.of(tip.id)]
            assert tuple(a for a in actions if a.startswith("escalate")) == expected, code
        assert counts() == {**step, "scene": 2}


# -- hand-over --------------------------------------------------------------------------------


async def test_handover_moves_only_unclaimed_tips(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        await tick(w)  # 12-01 21:00: g1 on duty, remembered
        assert await w.repo.schedule.get_setting("duty") == "2026-12-01|g1"
        waiting = await report(w, REPORTER, 0)
        taken = await report(w, STRANGER, 1)
        also_waiting = await report(w, REPORTER, 2)
        await press(w, G1_MEMBER, G1_CHAT, taken, zh("btn.claim"))
        await latest_card(w, G1_CHAT, taken, zh("state.claimed"))
        await w.settle()

        # 08:29: still g1's duty day.
        await tick(w, at(2, 8, 29))
        assert await w.events_named("handover") == []
        # 08:30: the hand-over, once however often we tick.
        for minute in (30, 30, 31, 45):
            await tick(w, at(2, 8, minute))
        await tick(w, at(2, 20, 0))

        moved = sorted([waiting, also_waiting])
        for code in moved:
            tip = await w.tip_by_code(code)
            assert tip.group_key == "g2" and tip.state is State.DISPATCHED
            assert tip.dispatched_at == at(2, 8, 30)  # the escalation clock restarts
            assert len(cards(w, G2_CHAT, code)) >= 1
        kept = await w.tip_by_code(taken)
        assert kept.group_key == "g1" and kept.state is State.CLAIMED
        assert cards(w, G2_CHAT, taken) == []
        events = await w.events_named("handover")
        assert (
            sorted([(await w.repo.tips.codes([e["tip_id"]]))[e["tip_id"]] for e in events]) == moved
        )
        assert all(json.loads(e["detail"]) == {"from": "g1", "to": "g2"} for e in events)

        [off] = texts(w, G1_CHAT, "🔁")
        [on] = texts(w, G2_CHAT, "🔁")
        [officer] = texts(w, OFFICER, "🔁")
        codes = ", ".join(tip.code for tip in await w.repo.tips.open("g2"))
        assert off == zh(
            "handover.off", group=G2_NAME, moved=2, moved_codes=codes, kept=1, kept_codes=taken
        )
        assert on == zh("handover.on", group=G1_NAME, moved=2, moved_codes=codes, own=0)
        assert officer == zh("handover.officer", off=G1_NAME, on=G2_NAME, moved=2, kept=1)
        log = await w.schedule_log("handover")
        assert [r["slot"] for r in log] == ["2026-12-02"]

        # g2 now owns them: its member claims one from the new card.
        answer = await press(w, G2_MEMBER, G2_CHAT, waiting, zh("btn.claim"))
        assert answer["text"] == zh("done.claim", code=waiting)


async def test_first_start_hands_nothing_over(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        code = await report(w, REPORTER, 0)  # 12-01 21:00, g1 on duty; no tick yet
        await tick(w, at(2, 9, 0))  # the very first tick, on g2's duty day
        assert await w.repo.schedule.get_setting("duty") == "2026-12-02|g2"
        assert await w.events_named("handover") == []
        assert (await w.tip_by_code(code)).group_key == "g1"
        for chat in (G1_CHAT, G2_CHAT, OFFICER):
            assert texts(w, chat, "🔁") == []
        await tick(w, at(2, 12, 0))
        assert await w.events_named("handover") == []


# -- the patrol log ---------------------------------------------------------------------------


async def test_patrol_log_and_missing_patrols(tmp_path: Path) -> None:
    async with world(tmp_path, clock=FakeClock(at(2, 8, 50))) as w:
        await officer_opens_chat(w)
        await w.roundtrip(G2_LEADER, G2_CHAT)  # the bot learns the leader's name
        await tick(w)  # 12-02 08:50, g2 on duty

        answer = await say(w, G2_MEMBER, "/patrol_start 桥梁涵洞", G2_CHAT)
        assert answer == zh("patrol.started", group=G2_NAME, area="桥梁涵洞")
        [patrol] = await w.repo.patrols.between(at(2, 0), at(3, 0))
        assert patrol["group_key"] == "g2" and patrol["area"] == "桥梁涵洞"
        assert patrol["started_by"] == G2_MEMBER and patrol["ended_at"] is None

        sent = await tick_every(w, at(2, 8, 55), at(2, 10, 0))
        w.clock.now = at(2, 10, 5)
        answer = await say(w, G2_MEMBER, "/patrol_end 3 2 1 3", G2_CHAT)
        given = "棉衣 ×2、棉被 ×1、食物 ×3"
        assert answer == zh("patrol.ended", minutes=75, people=3, supplies=given)
        [patrol] = await w.repo.patrols.between(at(2, 0), at(3, 0))
        assert patrol["people_met"] == 3 and patrol["ended_by"] == G2_MEMBER
        assert json.loads(patrol["supplies"]) == {"coat": 2, "quilt": 1, "food": 3}
        assert [e["action"] for e in await w.events_named("patrol_")] == [
            "patrol_start",
            "patrol_end",
        ]

        # The 09:00 slot had a patrol; the 20:00 one has none: told at 21:30, once.
        sent += await tick_every(w, at(2, 10, 5), at(3, 8, 0))
        warnings = [(stamp, chat, text) for stamp, chat, text in sent if text.startswith("⚠️")]
        leader = NAMES[G2_LEADER][0]
        assert warnings == [
            (
                "12-02 21:30",
                G2_CHAT,
                zh("patrol.missing", slot="20:00", minutes=90, leader=leader),
            ),
            (
                "12-02 21:30",
                OFFICER,
                zh("patrol.missing_officer", group=G2_NAME, slot="12-02 20:00"),
            ),
        ]
        notice = next(m for m in w.bot_msgs(G2_CHAT) if (m.get("text") or "").startswith("⚠️"))
        assert f"tg://user?id={G2_LEADER}" in json.dumps(notice, ensure_ascii=False)
        checks = {r["slot"]: r["detail"] for r in await w.schedule_log("patrol_check")}
        assert checks == {"2026-12-02T01:00Z": "ok", "2026-12-02T12:00Z": "missing"}
        assert len(await w.events_named("patrol_missing")) == 1
        # Not a patrol group / not a member: refused.
        assert await say(w, G2_MEMBER, "/patrol_start 公园") == zh("patrol.group_only")
        assert await say(w, G1_MEMBER, "/patrol_start 公园", G2_CHAT) == zh(
            "patrol.not_member", group=G2_NAME
        )


# -- the daily summary ------------------------------------------------------------------------


WRITES = {zh("btn.claim"), zh("btn.go"), zh("btn.arrive"), zh("btn.supplies_done")}


async def walk(w: World, user: int, code: str, *steps: tuple[dt.datetime, str]) -> None:
    """Press buttons on the tip's card in G1 at the given times, each once the card shows
    the state the previous one led to."""
    for when, button in steps:
        w.clock.now = when
        before = (await w.tip_by_code(code)).version
        await press(w, user, G1_CHAT, code, button)

        async def moved(before: int = before) -> bool:
            return (await w.tip_by_code(code)).version != before

        if button in WRITES or button.startswith("确认"):  # pickers and questions don't write
            await w.until(moved)
        await w.settle()


async def test_daily_summary_figures(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await officer_opens_chat(w)
        # "Yesterday", 12-01: four tips, one patrol, one reward paid. No tick all evening.
        brought = await report(w, REPORTER, 0)  # 21:00
        await walk(
            w,
            G1_MEMBER,
            brought,
            (at(1, 21, 4), zh("btn.claim")),
            (at(1, 21, 20), zh("btn.arrive")),
            (at(1, 21, 21), zh("outcome.brought_in")),
            (at(1, 21, 21), zh("btn.confirm_outcome", outcome=zh("outcome.brought_in"))),
        )
        w.clock.now = at(1, 21, 30)
        helped = await report(w, STRANGER, 1)
        await walk(
            w,
            G1_MEMBER2,
            helped,
            (at(1, 21, 36), zh("btn.claim")),
            (at(1, 21, 50), zh("btn.arrive")),
            (at(1, 21, 51), zh("outcome.supplies_only")),
            (at(1, 21, 51), "▫️ " + zh("supply.coat")),
            (at(1, 21, 51), "▫️ " + zh("supply.food")),
            (at(1, 21, 52), zh("btn.supplies_done")),
        )
        w.clock.now = at(1, 22, 0)
        missed = await report(w, REPORTER, 2)
        await walk(
            w,
            G1_LEADER,
            missed,
            (at(1, 22, 10), zh("btn.claim")),
            (at(1, 22, 40), zh("btn.arrive")),
            (at(1, 22, 41), zh("outcome.not_found")),
            (at(1, 22, 41), zh("btn.confirm_outcome", outcome=zh("outcome.not_found"))),
        )
        w.clock.now = at(1, 22, 30)
        bogus = await report(w, STRANGER, 3)
        await walk(
            w,
            G1_MEMBER,
            bogus,
            (at(1, 22, 45), zh("btn.invalid")),
            (at(1, 22, 45), zh("btn.confirm_outcome", outcome=zh("outcome.invalid"))),
        )
        w.clock.now = at(1, 22, 50)
        await say(w, G1_MEMBER, "/patrol_start 公园", G1_CHAT)
        w.clock.now = at(1, 23, 30)
        await say(w, G1_MEMBER, "/patrol_end 2 1 2 0", G1_CHAT)
        # One reward approved and paid at the station, the other still pending.
        w.clock.now = at(1, 23, 45)
        rewards = w.services.rewards
        paid = await w.repo.rewards.for_tip((await w.tip_by_code(brought)).id)
        assert (await rewards.approve(paid.id, OFFICER)).refusal is None
        result = await rewards.pay(paid.id, OFFICER, PayMethod.CASH, "站内现金 001", 200)
        assert result.refusal is None
        pending = await w.repo.rewards.for_tip((await w.tip_by_code(helped)).id)
        assert pending.state is RewardState.PENDING
        tips = [await w.tip_by_code(c) for c in (brought, helped, missed, bogus)]
        assert [t.outcome for t in tips] == [
            Outcome.BROUGHT_IN,
            Outcome.SUPPLIES_ONLY,
            Outcome.NOT_FOUND,
            Outcome.INVALID,
        ]
        assert tips[1].supplies == frozenset({Supply.COAT, Supply.FOOD})
        await w.settle()

        # 07:55: not yet. 08:00: to the officers (no [summary] chat_ids configured).
        w.mark(OFFICER)
        await tick(w, at(2, 7, 55))
        assert texts(w, OFFICER, "📊") == []
        await tick(w, at(2, 8, 0))
        [summary] = texts(w, OFFICER, "📊")
        outcomes = "、".join(
            f"{zh('outcome.' + key)} 1"
            for key in sorted(["brought_in", "supplies_only", "not_found", "invalid"])
        )
        supplies = f"{zh('supply.coat')} 2、{zh('supply.food')} 1、{zh('supply.quilt')} 2"

        def block(title: str, required: int) -> str:
            return zh(
                "summary.block",
                title=title,
                received=4,
                verified=2,
                outcomes=outcomes,
                not_found="33%",  # went out to 3, found nobody at 1 (invalid does not count)
                claim=6.0,  # 4, 6 and 10 minutes
                scene=20.0,  # 20, 20 and 40 minutes
                brought_in=1,
                supplies=supplies,  # the tip's coat and food + the patrol's coat and 2 quilts
                patrols=1,
                required=required,
                paid=1,  # in the period
                paid_yuan=200,
            )

        # Under each block, the response legs from the campaign's figures: median / p90
        # (count), and located / not found per attempt and per incident (issue 13).
        legs = "、".join(
            zh("summary.field_leg", leg=zh(f"chart.leg.{leg}"), median=m, p90=p, count=3)
            for leg, m, p in (
                ("report_claim", "6.0", "9.2"),  # 4, 6, 10 minutes
                ("claim_arrival", "16.0", "27.2"),  # 16, 14, 30
                ("report_arrival", "20.0", "36.0"),  # 20, 20, 40
            )
        )
        found = zh("summary.field_found", a_located=2, a_missed=1, i_located=2, i_missed=1)
        legs = "\n" + zh("summary.field_legs", legs=legs) + "\n" + found
        assert summary == "\n".join(
            [
                zh("summary.head", day="2026-12-01"),
                block(zh("summary.yesterday"), 2) + legs,
                "",
                block(zh("summary.campaign"), 22) + legs,  # 11 days since 11-21, 2 patrols a day
                # The state now, once, apart from the periods' movements (issue 10 #15).
                zh("summary.rewards_now", pending=1, approved=0),
                # Revisits (issue 13): supplies only and not found each made one, waiting
                # for cold mode.
                zh(
                    "revisit.summary",
                    posted=0,
                    brought_in=0,
                    supplies=0,
                    not_there=0,
                    refused=0,
                    waiting=2,
                ),
            ]
        )
        assert "未找到比例：33%" in summary and "认领用时中位数：6.0 分钟" in summary

        # Once a day.
        for when in (at(2, 8, 0), at(2, 8, 5), at(2, 12, 0), at(2, 23, 59)):
            await tick(w, when)
        assert len(texts(w, OFFICER, "📊")) == 1
        await tick(w, at(3, 8, 0))
        second = texts(w, OFFICER, "📊")[1]
        assert zh("summary.head", day="2026-12-02") in second
        assert "收到报告 0 条" in second.split(zh("summary.campaign"))[0]
        assert "收到报告 4 条" in second.split(zh("summary.campaign"))[1]
        assert [r["slot"] for r in await w.schedule_log("summary")] == [
            "2026-12-02",
            "2026-12-03",
        ]


# -- restarts ---------------------------------------------------------------------------------


async def test_restart_in_the_middle_of_a_day(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    clock = FakeClock(at(2, 8, 55))
    db_path = tmp_path / "station.sqlite3"

    def run() -> AbstractAsyncContextManager[World]:
        """The bot (re)started on the same emulator, database and clock."""
        return world(tmp_path, emu=emu, clock=clock, db_path=db_path)

    try:
        async with run() as w:
            await officer_opens_chat(w)
            sent = await tick_every(w, at(2, 8, 55), at(2, 9, 0))
            assert sent_reminders(sent) == [("12-02 09:00", G2_CHAT)]
        # A new process on the same database: 09:00 is not sent again.
        async with run() as w:
            sent = await tick_every(w, at(2, 9, 5), at(2, 19, 50))
            assert sent_reminders(sent) == []
        # Down from 19:50 to 20:20 (within misfire_grace_minutes = 30): sent once, late.
        async with run() as w:
            sent = await tick_every(w, at(2, 20, 20), at(3, 8, 50))
            assert sent_reminders(sent) == [("12-02 20:20", G2_CHAT)]
            late = reminders(w, G2_CHAT)[-1]
            assert late.startswith(zh("reminder.late", slot="20:00") + "\n" + REMINDER)
        # Down from 08:50 to 09:35 (past the grace): 09:00 is dropped, recorded as missed.
        async with run() as w:
            sent = await tick_every(w, at(3, 9, 35), at(3, 12, 0))
            assert sent_reminders(sent) == []
            log = {r["slot"]: r["detail"] for r in await w.schedule_log("reminder")}
            assert log["2026-12-02T01:00Z"] == "on_time"
            assert log["2026-12-02T12:00Z"] == "late"
            assert log["2026-12-03T01:00Z"] == "missed"
            # No reminder went out at 09:00, so there is no patrol check to follow it up.
            checks = {r["slot"] for r in await w.schedule_log("patrol_check")}
            assert "2026-12-03T01:00Z" not in checks and "2026-12-02T12:00Z" in checks
            assert len(reminders(w, G2_CHAT)) == 2 and len(reminders(w, G1_CHAT)) == 0
            # The hand-over at 08:30 happened while the bot was down: done on restart, once.
            assert [r["slot"] for r in await w.schedule_log("handover")] == ["2026-12-03"]
    finally:
        emu.stop()


# -- the ticker -------------------------------------------------------------------------------


async def test_ticker_runs_tick_by_itself(tmp_path: Path) -> None:
    async with world(tmp_path, overrides={"tick_seconds": 0.05}) as w:
        jobs = w.app.job_queue.get_jobs_by_name(ticker.JOB_NAME)
        assert len(jobs) == 1 and ticker.JOB_NAME == "warmline-tick"
        await officer_opens_chat(w)

        async def duty() -> str | None:
            return await w.repo.schedule.get_setting("duty")

        assert await w.until(duty, timeout=WAIT_S) == "2026-12-01|g1"
        # The clock reaches 12-02 09:00: the reminder goes out without anyone calling tick.
        w.clock.now = at(2, 9, 0)
        await w.until(lambda: reminders(w, G2_CHAT), timeout=WAIT_S)
        await asyncio.sleep(0.3)  # several more ticks
        await w.settle()
        assert len(reminders(w, G2_CHAT)) == 1
        assert await duty() == "2026-12-02|g2"
        assert len(texts(w, OFFICER, "🔁")) == 1  # the hand-over, once
