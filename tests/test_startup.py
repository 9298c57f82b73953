"""Start-up (issue 10, items 1–3): whatever ``check-config`` accepts, ``warmline run`` starts
with; an unreachable Bot API is waited for (one log line per retry, no traceback) and an outage
while running loses nothing; relative paths in the config follow the config file.

The bot runs as a real ``python -m bot run -c FILE`` subprocess, started from an unrelated
working directory as a service manager would, against the Bot API emulator in this process.
All ids, names and tokens are invented.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import re
import sqlite3
import time
import tomllib
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.app import directory_from
from bot.cli import main
from bot.config import TOKEN_ENV, ConfigError, parse_config
from bot.db.database import Database
from bot.db.repo import Repo
from bot.sandbox.emulator import BotApiEmulator
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.users import UserService
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_LEADER,
    G2_MEMBER,
    OFFICER,
    REPORTER,
    cast,
)
from tests.netcut import Relay
from tests.startproc import ROOT, WarmlineProcess, base_env, toml, wait_until

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
G3_CHAT, G3_LEADER, G3_MEMBER, G3_MEMBER2 = -1001000000333, 7301, 7302, 7303
CHATS = (G1_CHAT, G2_CHAT, G3_CHAT)
LEADERS = (G1_LEADER, G2_LEADER, G3_LEADER)
MEMBERS = ((G1_MEMBER, G1_MEMBER2), (G2_MEMBER, 7203), (G3_MEMBER, G3_MEMBER2))
BOUND_S = 90.0  # a bound on waiting for a busy machine, never a speed requirement


def world() -> BotApiEmulator:
    emu = BotApiEmulator().start()
    cast(emu)
    emu.add_group(G3_CHAT, "第三小组 巡查")
    for user, name in ((G3_LEADER, "冯组长"), (G3_MEMBER, "陈队员"), (G3_MEMBER2, "褚队员")):
        emu.add_user(user, name)
    emu.add_user(7203, "卫队员")
    emu.add_user(REPORTER, "小梅", started=True)
    return emu


# -- config shapes -----------------------------------------------------------------------------

# Each dimension is one way a station's admin may write the same kind of thing; every value is
# one the checker accepts. The shapes below cover every pair of values of any two dimensions.
DIMENSIONS: dict[str, tuple[Any, ...]] = {
    "groups": (1, 2, 3),
    # "leader_listed": the leader is also in members (and a member is listed twice).
    "members": ("distinct", "empty", "leader_listed"),
    # Officers besides the groups, none at all, an officer who is a member, one who leads.
    "officers": ("separate", "none", "member", "leader"),
    "token": ("file", "env"),
    # Alternating days; an override naming today's group; a group taking two days in a row.
    "roster": ("alternate", "override_today", "repeat"),
    # "H:MM": times written without the leading zero, reminder_times as one string.
    "times": ("HH:MM", "H:MM"),
}


def pairwise(dimensions: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """A small set of rows in which every pair of values (of two dimensions) occurs."""
    names = list(dimensions)
    uncovered = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in dimensions[a]
        for vb in dimensions[b]
    }
    candidates = [
        dict(zip(names, row, strict=True)) for row in itertools.product(*dimensions.values())
    ]
    rows = []
    while uncovered:

        def gain(row: dict[str, Any]) -> int:
            return sum(
                ((a, row[a]), (b, row[b])) in uncovered for a, b in itertools.combinations(names, 2)
            )

        best = max(candidates, key=gain)
        rows.append(best)
        for a, b in itertools.combinations(names, 2):
            uncovered.discard(((a, best[a]), (b, best[b])))
    return rows


def duty_day(now: dt.datetime, handover: dt.time) -> dt.date:
    local = now.astimezone(TZ)
    return local.date() - dt.timedelta(days=1) if local.time() < handover else local.date()


def shape_config(row: dict[str, Any], emu: BotApiEmulator) -> tuple[dict[str, Any], dict]:
    """The config (as a dict) for one row of :data:`DIMENSIONS`, and the env it needs."""
    n = row["groups"]
    groups = []
    for i in range(n):
        group: dict[str, Any] = {
            "key": f"g{i + 1}",
            "name": f"第{'一二三'[i]}小组",
            "chat_id": CHATS[i],
            "leader": LEADERS[i],
        }
        if row["members"] == "distinct":
            group["members"] = list(MEMBERS[i])
        elif row["members"] == "leader_listed":
            group["members"] = [LEADERS[i], MEMBERS[i][0], MEMBERS[i][0], MEMBERS[i][1]]
        elif i:  # "empty": no members key in the first group, an empty list in the others
            group["members"] = []
        groups.append(group)
    keys = [g["key"] for g in groups]
    officers = {
        "separate": [OFFICER],
        "none": [],
        "member": [OFFICER, MEMBERS[0][0]],
        "leader": [OFFICER, LEADERS[0]],
    }[row["officers"]]
    hhmm = row["times"] == "HH:MM"
    roster: dict[str, Any] = {
        "anchor": dt.date(2026, 11, 21),
        "handover": "08:30" if hhmm else "8:30",
        "order": keys if row["roster"] != "repeat" else [keys[0], *keys],
    }
    if row["roster"] == "override_today":
        today = duty_day(dt.datetime.now(dt.UTC), dt.time(8, 30))
        roster["overrides"] = {today.isoformat(): keys[-1]}
    telegram: dict[str, Any] = {
        "base_url": emu.base_url,
        "base_file_url": emu.base_file_url,
        "rate_limiter": False,
        "poll_timeout": 1,
    }
    env = {}
    if row["token"] == "file":
        telegram = {"token": emu.token, **telegram}
    else:
        env[TOKEN_ENV] = emu.token
    config = {
        "telegram": telegram,
        # Relative: next to the config file, whatever the working directory.
        "station": {"database": "data/warmline.sqlite3"},
        # The bot's web server on any free port (tests may run beside a real warmline).
        "web": {"port": 0},
        "groups": groups,
        "roster": roster,
        "geocoder": {"provider": "offline"},
        "patrol": {"reminder_times": ["09:00", "20:00"] if hhmm else "9:00"},
        "summary": {"time": "08:00" if hhmm else "8:00"},
    }
    if officers or row["officers"] != "none":
        config["officers"] = {"user_ids": officers}
    return config, env


def minimal_config(emu: BotApiEmulator) -> tuple[dict[str, Any], dict]:
    """The least a file can say: every default (rate limiter on, 30 s polls, the database
    "warmline.sqlite3" beside the file), one group without members, no officers."""
    return {
        "telegram": {
            "token": emu.token,
            "base_url": emu.base_url,
            "base_file_url": emu.base_file_url,
        },
        "groups": [{"key": "solo", "name": "独立小组", "chat_id": G1_CHAT, "leader": G1_LEADER}],
        "roster": {"order": ["solo"]},
        "web": {"port": 0},  # (any free port: tests may run beside a real warmline)
    }, {}


def example_config(emu: BotApiEmulator) -> tuple[str, dict]:
    """config.example.toml as shipped, pointed at the emulator, the token in the environment."""
    for chat in (-1001000000001, -1001000000002):  # the example's (invented) people
        emu.add_group(chat, f"example group {chat}")
    for user in (100001, 100002, 100003, 100004, 200001, 200002, 200003, 200004, 900001):
        emu.add_user(user, f"example {user}")
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('"https://api.telegram.org/bot"', f'"{emu.base_url}"')
    text = text.replace('"https://api.telegram.org/file/bot"', f'"{emu.base_file_url}"')
    text = text.replace("port = 8780", "port = 0")  # tests may run beside a real warmline
    return text, {TOKEN_ENV: emu.token}


def everything_config(emu: BotApiEmulator) -> tuple[dict[str, Any], dict]:
    """Every section, with values far from the defaults (still accepted)."""
    today = dt.datetime.now(TZ).date()
    config, env = shape_config(
        {
            "groups": 2,
            "members": "leader_listed",
            "officers": "member",
            "token": "file",
            "roster": "override_today",
            "times": "H:MM",
        },
        emu,
    )
    config["telegram"].update(rate_limiter=True, poll_timeout=0, max_concurrent_updates=1)
    config["station"].update(
        name="Test Relief Station",
        hotline="0000-2222222",
        timezone="Asia/Urumqi",
        language="en",
        code_prefix="TS",
        database="../everything.sqlite3",
    )
    config["service_area"] = {"south": 30.0, "west": 114.8, "north": 30.3, "east": 115.2}
    config["geocoder"] = {
        "provider": "nominatim",
        "domain": "127.0.0.1:9",
        "scheme": "http",
        "user_agent": "warmline-test/1.0",
        "timeout": 0.5,
    }
    config["reporting"] = {
        "max_open_tips_per_hour": 100,
        "description_max_chars": 20,
        "duplicate_radius_m": 10,
        "duplicate_window_hours": 72,
        "digest_threshold": 1,
        "flood_max_updates": 3,
        "flood_window_seconds": 600,
    }
    config["campaign"] = {
        "start": today - dt.timedelta(days=1),
        "end": today + dt.timedelta(days=1),
    }
    config["reward"] = {
        "amount": 1,
        "currency": "EUR",
        "monthly_cap": 0,
        "allow_self_approval": True,
    }
    config["patrol"] = {
        "reminder_times": [],
        "areas": [],
        "log_grace_minutes": 5,
        "cold_interval_minutes": 15,
        "misfire_grace_minutes": 0,
    }
    config["weather"] = {
        "url": "http://127.0.0.1:9/v1/forecast",
        "cold_threshold_c": -40.0,
        "check_times": "7:00, 17:00",
        "timeout": 0.5,
    }
    config["escalation"] = {
        "claim_minutes": 1,
        "urgent_claim_minutes": 1,
        "second_minutes": 2,
        "scene_minutes": 5,
    }
    config["summary"] = {"time": "0:00", "chat_ids": [OFFICER, G1_CHAT]}
    config["telegram"].update(mode="polling", webhook_secret="everything-secret_42")
    config["web"] = {"listen": "::1", "port": 0, "public_url": "https://warmline.example.org/"}
    config["health"] = {"outage_notice_minutes": 1, "undeliverable_minutes": 1440}
    return config, env


SHAPES: list[tuple[str, Callable[[BotApiEmulator], tuple[Any, dict]]]] = [
    ("-".join(f"{k}={v}" for k, v in row.items()), lambda emu, row=row: shape_config(row, emu))
    for row in pairwise(DIMENSIONS)
] + [
    ("minimal-file", minimal_config),
    ("config.example.toml", example_config),
    ("every-section", everything_config),
]


def expected_staff(data: dict[str, Any]) -> dict[int, tuple[str, str | None]]:
    """Who the staff table should list, worked out from the file as written: each person
    once; a leader listed among the members is the leader; an officer in a group keeps the
    group role."""
    staff: dict[int, tuple[str, str | None]] = {}
    for group in data["groups"]:
        staff[group["leader"]] = ("leader", group["key"])
    for group in data["groups"]:
        for member in group.get("members", []):
            staff.setdefault(member, ("member", group["key"]))
    for officer in data.get("officers", {}).get("user_ids", []):
        staff.setdefault(officer, ("officer", None))
    return staff


def staff_table(database: Path) -> dict[int, tuple[str, str | None]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT user_id, role, group_key FROM staff").fetchall()
    return {uid: (role, group) for uid, role, group in rows}


def tick_ran(database: Path) -> bool:
    """The schedule ticker's pass got through its steps: the reminder step, after the
    running-day, hand-over, escalation and weather steps, records when it last checked. (A
    step that failed logs an ERROR line, which ``problems()`` finds.)"""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            row = conn.execute(
                "SELECT value FROM settings WHERE key = 'reminders_checked_at'"
            ).fetchone()
    except sqlite3.Error:  # not created yet, or busy
        return False
    return row is not None


@pytest.mark.parametrize("make", [make for _, make in SHAPES], ids=[name for name, _ in SHAPES])
def test_fr01_every_accepted_shape_runs(
    tmp_path: Path, make, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    emu = world()
    try:
        config, env = make(emu)
        text = config if isinstance(config, str) else toml(config)
        folder = tmp_path / "etc"
        folder.mkdir()
        path = folder / "config.toml"
        path.write_text(text, encoding="utf-8")
        # The checker accepts it: the same code as `warmline check-config`, this environment.
        monkeypatch.delenv(TOKEN_ENV, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert main(["check-config", "-c", str(path)]) == 0, capsys.readouterr().err
        database = Path(parse_config(text, path).station.database)

        bot = WarmlineProcess(path, tmp_path / "bot.log", env=base_env(**env)).start()
        try:
            polled = wait_until(lambda: emu.calls("getUpdates") or not bot.alive(), BOUND_S)
            assert polled and bot.alive(), f"never polled:\n{bot.tail()}"
            emu.send_text(REPORTER, "/start")
            assert wait_until(lambda: emu.bot_messages(REPORTER), BOUND_S), bot.tail()
            # The schedule ticker's first pass (1 s after start) ran with this config too.
            assert wait_until(lambda: tick_ran(database), BOUND_S), bot.tail()
        finally:
            status = bot.stop()
        assert status == 0, bot.tail()
        assert bot.problems() == [], bot.tail()
        # APScheduler's two INFO lines per tick (every 15 s) stay out of the log.
        assert "warmline-tick" not in bot.text(), bot.tail()
        assert emu.token not in bot.text()
        # The database is where the file says, relative to the file, not to the working
        # directory (item 3), which is left as it was.
        assert database.is_file() and database.is_relative_to(folder.parent), database
        assert bot.cwd is not None and list(bot.cwd.iterdir()) == []
        assert staff_table(database) == expected_staff(tomllib.loads(text))
    finally:
        emu.stop()


# Random staff layouts from a small pool of ids (so that people collide often): whatever the
# checker accepts, the staff sync that crashed start-up stores each person once, in one role.
POOL = st.integers(min_value=1, max_value=8)


@st.composite
def staff_layouts(draw) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=3))
    groups = [
        {
            "key": f"g{i + 1}",
            "name": f"Group {i + 1}",
            "chat_id": -1009000000000 - i,
            "leader": draw(POOL),
            "members": draw(st.lists(POOL, max_size=5)),
        }
        for i in range(n)
    ]
    return {
        "groups": groups,
        "roster": {"order": [g["key"] for g in groups]},
        "officers": {"user_ids": draw(st.lists(POOL, max_size=3))},
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(staff_layouts())
def test_fr01_any_accepted_staff_layout_syncs(data: dict[str, Any]) -> None:
    try:
        config = parse_config(toml(data), "/srv/warmline/config.toml", env={})
    except ConfigError:
        assume(False)  # the checker refuses it: `run` need not start
        return

    async def sync() -> dict[int, tuple[str, str | None]]:
        db = await Database(":memory:").open()
        try:
            repo = Repo.on(db)
            reach = Reach(directory_from(config), repo.chats, db)
            clock = StationClock(config.station.timezone)
            notifier = Notifier(repo.outbox, reach, clock, config.station.language)
            users = UserService(db, repo.people, reach, notifier, clock, config.station.language)
            await users.sync_staff()
            rows = await db.fetchall("SELECT user_id, role, group_key FROM staff")
            return {r["user_id"]: (r["role"], r["group_key"]) for r in rows}
        finally:
            await db.close()

    staff = asyncio.run(sync())
    assert staff == expected_staff(data)
    directory = directory_from(config)
    for user, (role, group) in staff.items():
        assert directory.is_leader(user) == (role == "leader")
        team = directory.team_of(user)
        assert (team.key if team else None) == group


# -- item 2: the Bot API unreachable at start, or going away while running ---------------------


def config_for(folder: Path, base_url: str, base_file_url: str, token: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    config, _ = shape_config(
        {
            "groups": 2,
            "members": "distinct",
            "officers": "separate",
            "token": "file",
            "roster": "alternate",
            "times": "HH:MM",
        },
        FakeEndpoint(base_url, base_file_url, token),
    )
    path.write_text(toml(config), encoding="utf-8")
    path.chmod(0o600)  # it holds the token: readable by its owner only (else `run` warns)
    return path


class FakeEndpoint:
    """What shape_config reads from an emulator, for an address nothing serves yet."""

    def __init__(self, base_url: str, base_file_url: str, token: str) -> None:
        self.base_url, self.base_file_url, self.token = base_url, base_file_url, token


def free_port() -> int:
    from tests.startproc import free_port as pick

    return pick()


def test_fr02_start_waits_for_the_bot_api(tmp_path: Path) -> None:
    """`run` against a closed port: one line per retry with a growing wait, no traceback, no
    token; the emulator comes up on that port later and the same process serves."""
    port = free_port()
    emu = BotApiEmulator(port=port)
    base = f"http://127.0.0.1:{port}"
    path = config_for(tmp_path / "etc", f"{base}/bot", f"{base}/file/bot", emu.token)
    bot = WarmlineProcess(path, tmp_path / "bot.log").start()
    try:
        # Three attempts (waits of 1, 2 and 5 s follow them), then the API comes up.
        assert wait_until(lambda: len(bot.retries()) >= 3 or not bot.alive(), BOUND_S), bot.tail()
        assert bot.alive(), bot.tail()
        emu.start()
        cast(emu)
        emu.add_user(REPORTER, "小梅", started=True)
        pid = bot.pid
        assert wait_until(lambda: emu.calls("getUpdates"), BOUND_S), bot.tail()
        emu.send_text(REPORTER, "/start")
        assert wait_until(lambda: emu.bot_messages(REPORTER), BOUND_S), bot.tail()
        assert bot.alive() and bot.pid == pid  # the same process: no restart needed
    finally:
        status = bot.stop()
        emu.stop()
    assert status == 0
    retries = bot.retries()
    waits = [wait for _, _, wait in retries]
    # The waits grow from 1 s and are capped (a later attempt may already have gone through).
    assert waits[:3] == [1.0, 2.0, 5.0], retries
    assert waits == [min(60.0, [1, 2, 5, 10, 30, 60][min(i, 5)]) for i in range(len(waits))]
    # Each line names the API with the token masked, and why.
    assert {address for address, _, _ in retries} == {f"{base}/bot…"}
    assert all("ConnectError" in reason or "connect" in reason.lower() for _, reason, _ in retries)
    text = bot.text()
    assert emu.token not in text
    assert bot.problems() == [], text
    # One line per attempt: nothing else was logged while it waited (but where the web
    # server listens, said once before the first attempt).
    lines = [line for line in text.splitlines() if "web server listening on" not in line]
    back = next(i for i, line in enumerate(lines) if "answers again" in line)
    assert len(lines[:back]) == len(retries), lines[:back]
    assert f"the Bot API at {base}/bot… answers again" in text
    assert "serving as @warmline_test_bot" in text


def test_fr02_stop_while_waiting_for_the_bot_api(tmp_path: Path) -> None:
    """SIGTERM while the API is still unreachable: a clean stop (status 0), no traceback."""
    base = f"http://127.0.0.1:{free_port()}"
    path = config_for(tmp_path / "etc", f"{base}/bot", f"{base}/file/bot", "123456:TEST-TOKEN")
    bot = WarmlineProcess(path, tmp_path / "bot.log").start()
    try:
        assert wait_until(lambda: bot.retries() or not bot.alive(), BOUND_S), bot.tail()
    finally:
        status = bot.stop()
    assert status == 0
    assert "stopped before the Bot API answered" in bot.text()
    assert bot.problems() == [], bot.tail()


@pytest.mark.parametrize(
    ("token", "base_path", "fragments"),
    [
        pytest.param("999:NOT-THIS-BOT", "/bot", ["refused the token (Unauthorized)"], id="401"),
        pytest.param(
            None,
            "/api",
            ["refused the token (Not Found)", "telegram.base_url"],
            id="wrong-path-404",
        ),
    ],
)
def test_fr02_refused_token_is_one_line_and_exit_2(
    tmp_path: Path, token: str | None, base_path: str, fragments: list[str]
) -> None:
    """A token the API refuses is not retried for ever: one clear line, exit status 2."""
    emu = world()
    try:
        base = f"http://127.0.0.1:{emu.port}"
        token = token or emu.token
        path = config_for(tmp_path / "etc", f"{base}{base_path}", f"{base}/file/bot", token)
        bot = WarmlineProcess(path, tmp_path / "bot.log").start()
        try:
            status = bot.wait(BOUND_S)
        finally:
            bot.kill()
    finally:
        emu.stop()
    text = bot.text()
    assert status == 2, text
    assert not re.search(r"^Traceback", text, re.M), text
    assert token not in text
    errors = [line for line in text.splitlines() if " ERROR " in line]
    assert len(errors) == 1, text
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert "@BotFather" in errors[0]


def test_fr02_token_revoked_while_running_stops(tmp_path: Path) -> None:
    """The API starts refusing the token while the bot runs: it says so and stops (status 2)
    instead of staying up deaf."""
    emu = world()
    try:
        path = config_for(tmp_path / "etc", emu.base_url, emu.base_file_url, emu.token)
        bot = WarmlineProcess(path, tmp_path / "bot.log").start()
        try:
            assert wait_until(lambda: emu.calls("getUpdates"), BOUND_S), bot.tail()
            emu.fault = lambda method, params: (
                (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                if method == "getUpdates"
                else None
            )
            status = bot.wait(BOUND_S)
        finally:
            bot.kill()
    finally:
        emu.stop()
    text = bot.text()
    assert status == 2, text
    assert not re.search(r"^Traceback", text, re.M), text
    assert "refuses the token now" in text
    assert emu.token not in text


def prompt_with(emu: BotApiEmulator, chat: int, data: str, after: int = 0) -> dict | None:
    """The bot's latest message in ``chat`` (after message ``after``) with a ``data`` button."""
    found = [m for m in emu.bot_messages(chat) if m["message_id"] > after and data in buttons_of(m)]
    return found[-1] if found else None


def buttons_of(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def test_fr02_outage_while_running_loses_nothing(tmp_path: Path) -> None:
    """The network goes away while a reporter is half-way through a report; what they do
    meanwhile waits on Telegram's side. One line per getUpdates retry, no traceback; when the
    network is back the same process carries on and nothing is lost."""
    emu = world()
    relay = Relay(emu.port).start()
    try:
        path = config_for(tmp_path / "etc", relay.base_url, relay.base_file_url, emu.token)
        bot = WarmlineProcess(path, tmp_path / "bot.log").start()
        try:
            assert wait_until(lambda: emu.calls("getUpdates"), BOUND_S), bot.tail()
            pid = bot.pid
            # Before the outage: a location, and the first question.
            emu.send_location(REPORTER, 30.2000, 115.0400)
            ask = wait_until(lambda: prompt_with(emu, REPORTER, "r:spotok"), BOUND_S)
            assert ask, bot.tail()

            relay.cut()
            assert wait_until(lambda: len(bot.retries()) >= 3, BOUND_S), bot.tail()
            # During the outage: the reporter answers (Telegram keeps it for the bot).
            emu.press_button(REPORTER, REPORTER, ask["message_id"], "r:spotok")
            assert wait_until(lambda: len(bot.retries()) >= 4, BOUND_S), bot.tail()
            relay.restore()

            # The bot picks the answer up and the report goes on to the end.
            step = ask["message_id"]
            for data, following in (
                ("r:spotok", "r:seen:now"),
                ("r:seen:now", "r:ppl:1"),
                ("r:ppl:1", "r:flagsok"),
                ("r:flagsok", "r:nodesc"),
                ("r:nodesc", "r:nophoto"),
                ("r:nophoto", "r:submit"),
            ):
                if data != "r:spotok":
                    emu.press_button(REPORTER, REPORTER, step, data)
                # The next question: the pressed message itself (edited) or a later one.
                nxt = wait_until(
                    lambda f=following, s=step: prompt_with(emu, REPORTER, f, s - 1), BOUND_S
                )
                assert nxt, (data, bot.tail())
                step = nxt["message_id"]
            emu.press_button(REPORTER, REPORTER, step, "r:submit")
            told = wait_until(
                lambda: [
                    m for m in emu.bot_messages(REPORTER) if "已收到，编号" in (m.get("text") or "")
                ],
                BOUND_S,
            )
            assert told, bot.tail()
            code = re.search(r"HS-\d{4}", told[0]["text"]).group(0)
            cards = wait_until(
                lambda: [
                    m
                    for chat in (G1_CHAT, G2_CHAT)
                    for m in emu.bot_messages(chat)
                    if code in (m.get("text") or "") and "tip:claim" in " ".join(buttons_of(m))
                ],
                BOUND_S,
            )
            assert len(cards) == 1, bot.tail()
            assert bot.alive() and bot.pid == pid  # no restart
        finally:
            status = bot.stop()
    finally:
        relay.stop()
        emu.stop()
    assert status == 0
    database = Path(parse_config(path.read_text(), path, env={}).station.database)
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tips WHERE code = ?", (code,)).fetchone()[0] == 1
    text = bot.text()
    assert bot.problems() == [], text
    assert emu.token not in text
    retries = bot.retries()
    waits = [wait for _, _, wait in retries]
    # PTB's rhythm: 1 s, then 1.5 times longer each time, at most 30 s — one line each.
    assert waits[:4] == [1.0, 1.5, 2.2, 3.4][: len(waits[:4])], retries
    assert all(b >= a for a, b in itertools.pairwise(waits)) and max(waits) <= 30, waits
    assert f"the Bot API at {relay.base_url}… answers again" in text


class Unreachable:
    """The bot's Bot object while the network is down: every send fails before Telegram."""

    def __init__(self, real: Any, error: Exception) -> None:
        self.real = real
        self.error = error
        self.attempts = 0

    async def send_message(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts += 1
        raise self.error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_fr02_outbox_keeps_what_never_reached_telegram(tmp_path: Path) -> None:
    """A message that could not reach Telegram stays in the outbox for as long as the outage
    lasts (not dropped after ~4 hours), and goes at once when the API answers again instead
    of waiting out its backoff. A timed-out one keeps its limit (it may have been sent)."""
    from telegram.error import NetworkError, TimedOut

    from bot.domain.outbox import Html
    from bot.jobs.outbox import MAX_ATTEMPTS, MAX_BACKOFF_S
    from tests.harness import world as in_process_world

    async with in_process_world(tmp_path) as w:
        sender = w.app.bot_data["outbox"]
        real = sender.bot
        cases = {  # the timed-out one first: it is given up before the other starts
            "timed out": (TimedOut("Timed out"), G2_CHAT),
            "unreached": (
                NetworkError("httpx.ConnectError: All connection attempts failed"),
                G1_CHAT,
            ),
        }
        for label, (error, chat) in cases.items():
            sender.bot = down = Unreachable(real, error)
            async with w.station.db.write() as tx:
                await w.notifier.say(tx, chat, Html(f"测试通知（{label}）"))
            while down.attempts < MAX_ATTEMPTS + 10:
                w.clock.advance(seconds=MAX_BACKOFF_S + 1)
                before = down.attempts
                await sender.flush()
                if down.attempts == before:  # given up: nothing left to try
                    break
            sender.bot = real
        counts = await w.outbox_counts()
        rows = await w.station.db.fetchall("SELECT id, status, attempts, last_error FROM outbox")
        assert counts.get("pending") == 1, [dict(r) for r in rows]  # the unreached one
        assert counts.get("failed") == 1, counts  # the timed-out one, after MAX_ATTEMPTS
        # The API answers again: the waiting message goes now, not in up to 5 minutes.
        w.mark(G1_CHAT)
        status = w.app.bot_data["api_status"]
        status.failed("httpx.ConnectError")
        status.answered()
        message = await w.next_bot(G1_CHAT, "测试通知（unreached）", timeout=30)
        assert message["text"] == "测试通知（unreached）"
        assert w.emu.bot_messages(G2_CHAT) == []


async def test_fr02_polling_retry_lines_say_when_ptb_retries(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The "retrying in N s" of each polling line is the wait PTB's updater really takes
    (its retry loop run here with failures, a timeout and successes in between)."""
    import types

    from telegram.error import Conflict, NetworkError, TimedOut
    from telegram.ext._utils import networkloop

    from bot.lifecycle import _polling_error_callback
    from bot.transport import ApiStatus

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(networkloop, "asyncio", types.SimpleNamespace(sleep=sleep))
    status = ApiStatus("http://127.0.0.1:9/bot…", "123456:TEST-TOKEN")
    script = ["down"] * 7 + ["ok", "down", "down", "timeout", "down"] + ["down"] * 12 + ["conflict"]
    steps = iter(script)

    async def action() -> None:
        step = next(steps)
        if step == "ok":
            status.poll_ok()  # what the transport does on a good answer
        elif step == "timeout":
            status.poll_ok()  # ... and on a timed-out poll (PTB retries it at once)
            raise TimedOut("Timed out")
        elif step == "conflict":
            raise Conflict("terminated by other getUpdates request")
        else:
            raise NetworkError("httpx.ConnectError: All connection attempts failed")

    caplog.set_level(logging.WARNING, logger="bot.lifecycle")
    done = iter(range(len(script)))
    await networkloop.network_retry_loop(
        action_cb=action,
        on_err_cb=_polling_error_callback(status),
        description="Polling Updates",
        interval=0.0,
        is_running=lambda: next(done, None) is not None,
        max_retries=-1,
        repeat_on_success=True,
    )
    said = [
        float(re.search(r"retrying in ([\d.]+) s", r.getMessage()).group(1)) for r in caplog.records
    ]
    waited = [seconds for seconds in slept if seconds]  # PTB does not sleep after a timeout
    assert len(said) == len(waited) == script.count("down") + 1
    assert said == pytest.approx(waited, abs=0.5)  # as logged: 0.1 s below 10 s, then 1 s
    assert max(waited) == 30.0  # capped
    assert "another process is getting this bot's updates" in caplog.records[-1].getMessage()
    assert all("123456:TEST-TOKEN" not in r.getMessage() for r in caplog.records)


def test_fr02_log_hygiene_one_line_and_no_token() -> None:
    """PTB's records about a network failure lose their traceback; the token is masked in
    every record, tracebacks included."""
    import io

    from telegram.error import NetworkError

    from bot.logs import LogHygiene

    token = "123456:SECRET-TOKEN-abc"
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(LogHygiene(token))
    logger = logging.getLogger("telegram.ext.Updater")
    ours = logging.getLogger("bot.fr02")
    ours.setLevel(logging.INFO)
    for each in (logger, ours):
        each.addHandler(handler)
        each.propagate = False
    try:
        try:
            raise NetworkError("httpx.ReadError: connection reset")
        except NetworkError:
            logger.exception("Error while calling `get_updates` one more time")
        ours.info("calling https://api.telegram.org/bot%s/getMe", token)
        try:
            raise RuntimeError(f"The token `{token}` was rejected by the server.")
        except RuntimeError:
            ours.exception("start-up failed")
    finally:
        for each in (logger, ours):
            each.removeHandler(handler)
            each.propagate = True
        ours.setLevel(logging.NOTSET)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == (
        "WARNING telegram.ext.Updater: Error while calling `get_updates` one more time "
        "(NetworkError: httpx.ReadError: connection reset)"
    )
    assert lines[1] == "INFO bot.fr02: calling https://api.telegram.org/bot…/getMe"
    assert "Traceback" in text  # our own unexpected errors keep theirs...
    assert token not in text  # ...without the token
    assert text.count("Traceback") == 1


# -- item 3: relative paths follow the config file ---------------------------------------------


def warmline_cli(*args: str | Path, cwd: Path, env: dict[str, str] | None = None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        cwd=cwd,
        env=env or base_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=BOUND_S,
        check=False,
    )


def test_fr03_relative_database_follows_the_config_file(tmp_path: Path) -> None:
    """The same config started by a service manager (in its own folder) and from elsewhere
    opens the same database, next to the config file; check-config shows its absolute path;
    backup and export read that database too."""
    emu = world()
    try:
        folder = tmp_path / "etc" / "warmline"
        config = config_for(folder, emu.base_url, emu.base_file_url, emu.token)
        assert 'database = "data/warmline.sqlite3"' in config.read_text()
        database = folder / "data" / "warmline.sqlite3"
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        check = warmline_cli("check-config", "-c", "etc/warmline/config.toml", cwd=tmp_path)
        assert check.returncode == 0, check.stderr
        assert f"database: {database} (does not exist yet: created on first start)" in check.stdout

        # First start from a service manager's folder, then from another one with a relative
        # config path.
        service = tmp_path / "service-root"
        service.mkdir()
        for cwd, config_arg, user in (
            (service, str(config), REPORTER),
            (elsewhere, "../etc/warmline/config.toml", 5002),
        ):
            emu.add_user(user, f"reporter {user}", started=True)
            bot = WarmlineProcess(Path(config_arg), tmp_path / f"bot-{user}.log", cwd=cwd).start()
            try:
                emu.send_text(user, "/start")
                assert wait_until(lambda u=user: emu.bot_messages(u), BOUND_S), bot.tail()
            finally:
                assert bot.stop() == 0, bot.tail()
            assert bot.problems() == [], bot.tail()
        with sqlite3.connect(database) as conn:
            users = {r[0] for r in conn.execute("SELECT user_id FROM users")}
        assert {REPORTER, 5002} <= users  # one database for both starts
        assert list(elsewhere.iterdir()) == list(service.iterdir()) == []  # nothing in a cwd

        check = warmline_cli("check-config", "-c", "../etc/warmline/config.toml", cwd=elsewhere)
        assert f"database: {database} (exists, schema version " in check.stdout, check.stdout
        backup = warmline_cli(
            "backup", "-c", "../etc/warmline/config.toml", "--out", "copy.sqlite3", cwd=elsewhere
        )
        assert backup.returncode == 0, backup.stderr
        with sqlite3.connect(elsewhere / "copy.sqlite3") as conn:  # --out: relative to the cwd
            assert {REPORTER, 5002} <= {r[0] for r in conn.execute("SELECT user_id FROM users")}
        export = warmline_cli(
            "ledger-export", "-c", "../etc/warmline/config.toml", "--out", "l.csv", cwd=elsewhere
        )
        assert export.returncode == 0, export.stderr
    finally:
        emu.stop()


def test_fr03_paths_in_the_config_resolve_against_its_folder() -> None:
    def database(value: str, path: str = "/srv/warmline/config.toml") -> str:
        text = f'[station]\ndatabase = "{value}"\n' + MINIMAL_GROUP
        return parse_config(text, path, env={}).station.database

    assert database("warmline.sqlite3") == "/srv/warmline/warmline.sqlite3"
    assert database("data/w.sqlite3") == "/srv/warmline/data/w.sqlite3"
    assert database("../state/w.sqlite3") == "/srv/warmline/../state/w.sqlite3"
    assert database("/var/lib/warmline/w.sqlite3") == "/var/lib/warmline/w.sqlite3"
    assert database("~/w.sqlite3") == str(Path.home() / "w.sqlite3")
    assert database(":memory:") == ":memory:"
    # A relative config path: its folder, made absolute from the current directory.
    assert database("w.sqlite3", "conf/config.toml") == str(Path.cwd() / "conf" / "w.sqlite3")
    # No [station] section at all: the default file name, beside the config file.
    assert parse_config(MINIMAL_GROUP, "/etc/warmline/config.toml", env={}).station.database == (
        "/etc/warmline/warmline.sqlite3"
    )


MINIMAL_GROUP = """
[[groups]]
key = "g1"
name = "Alpha"
chat_id = -1009000000001
leader = 510001

[roster]
order = ["g1"]
"""


@pytest.mark.parametrize(
    ("command", "prepare", "fragments"),
    [
        pytest.param("check-config", "folder", ["is a folder", "name a file in it"], id="folder"),
        pytest.param("run", "folder", ["is a folder"], id="run-folder"),
        pytest.param(
            "check-config",
            "not-sqlite",
            ["is not a warmline database", "move this file away"],
            id="not-sqlite",
        ),
        pytest.param(
            "backup", "missing", ["does not exist", "relative to the config"], id="backup-missing"
        ),
        pytest.param("ledger-export", "missing", ["does not exist"], id="export-missing"),
        pytest.param("export", "missing", ["does not exist"], id="tips-export-missing"),
        pytest.param("purge", "missing", ["does not exist"], id="purge-missing"),
    ],
)
def test_fr03_unusable_database_path_is_a_config_error(
    tmp_path: Path, command: str, prepare: str, fragments: list[str]
) -> None:
    """What `run` could not open, check-config refuses (file, key, fix, exit 2); the commands
    that read the station's data refuse a database that is not there instead of creating
    an empty one."""
    folder = tmp_path / "etc"
    config = config_for(folder, "http://127.0.0.1:9/bot", "http://127.0.0.1:9/file/bot", "1:x")
    target = folder / "data" / "warmline.sqlite3"
    if prepare == "folder":
        target.mkdir(parents=True)
    elif prepare == "not-sqlite":
        target.parent.mkdir(parents=True)
        target.write_text("these are not the tips you are looking for\n" * 100)
    extra = {
        "backup": ["--out", "b.sqlite3"],
        "ledger-export": ["--out", "l.csv"],
        "export": ["tips", "--from", "2026-12-01", "--to", "2026-12-02", "--out", "l.csv"],
        "purge": ["--before", "2027-04-01"],
    }.get(command, [])
    result = warmline_cli(command, "-c", config, *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"warmline: {config}: station.database: {target}")
    assert "→" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert not (tmp_path / "b.sqlite3").exists() and not (tmp_path / "l.csv").exists()
    if prepare == "missing":
        assert not target.exists()


class FailGetMe:
    """The emulator's fault hook: the first ``times`` getMe calls answered with ``answer``
    (a proxy's Bad Gateway, Telegram's own trouble, flood control) or held past the client's
    timeout."""

    def __init__(self, times: int, answer: tuple[int, dict] | None) -> None:
        self.left = times
        self.answer = answer

    def __call__(self, method: str, params: dict) -> tuple[int, dict] | None:
        if method != "getMe" or self.left <= 0:
            return None
        self.left -= 1
        if self.answer is None:
            time.sleep(7)  # longer than PTB's 5 s read timeout: "timed out"
            return None
        return self.answer


@pytest.mark.parametrize(
    ("fault", "times", "reason"),
    [
        pytest.param(
            (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
            6,  # the transport tries each request 3 times: two attempts of the run loop
            "Bad Gateway",
            id="502",
        ),
        pytest.param(
            (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
            6,
            "Internal Server Error",
            id="500",
        ),
        pytest.param(
            (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 7",
                    # longer than the transport waits out itself (5 s): the run loop waits
                    "parameters": {"retry_after": 7},
                },
            ),
            1,
            "flood control",
            id="429",
        ),
        pytest.param(None, 1, "timed out", id="timeout"),
    ],
)
def test_fr02_start_waits_while_the_api_fails(
    tmp_path: Path, fault: tuple[int, dict] | None, times: int, reason: str
) -> None:
    """Not only a closed port: whatever keeps getMe from answering at start is waited out
    the same way (one line per attempt, no traceback), then the bot serves."""
    emu = world()
    emu.fault = FailGetMe(times, fault)
    try:
        path = config_for(tmp_path / "etc", emu.base_url, emu.base_file_url, emu.token)
        bot = WarmlineProcess(path, tmp_path / "bot.log").start()
        try:
            assert wait_until(lambda: emu.calls("getUpdates"), BOUND_S), bot.tail()
            emu.send_text(REPORTER, "/start")
            assert wait_until(lambda: emu.bot_messages(REPORTER), BOUND_S), bot.tail()
        finally:
            status = bot.stop()
    finally:
        emu.stop()
    assert status == 0
    text = bot.text()
    assert bot.problems() == [], text
    lines = [line for line in text.splitlines() if "retrying in" in line]
    assert lines and all(reason in line for line in lines), text
    # An API that answered "wait" was reachable all along; the others were not.
    assert ("answers again" in text) == (reason != "flood control"), text


@pytest.mark.parametrize(
    ("before", "failures", "delivered"),
    [
        pytest.param(True, 12, True, id="caught-by-an-outage-waits-for-the-network"),
        pytest.param(False, 3, False, id="known-down-fails-fast"),
        pytest.param(None, 3, False, id="at-start-fails-fast"),
    ],
)
async def test_fr02_reply_in_flight_waits_out_a_short_outage(
    monkeypatch: pytest.MonkeyPatch, before: bool | None, failures: int, delivered: bool
) -> None:
    """A request begun while the API answered, that then cannot connect (Telegram never saw
    it), is retried until the network is back (within a minute): a reply in flight is not lost
    to a short outage. Begun while the API is known to be down, or at start-up, it fails fast
    (the outbox and the run loop retry those)."""
    from telegram.error import NetworkError
    from telegram.request import HTTPXRequest

    from bot import transport
    from bot.transport import ApiStatus, RetryingRequest

    calls: list[str] = []

    async def flaky(self, url, method, request_data=None, **timeouts):
        calls.append(url)
        if len(calls) <= failures:
            raise NetworkError("httpx.ConnectError: All connection attempts failed")
        return 200, b'{"ok": true, "result": true}'

    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(HTTPXRequest, "do_request", flaky)
    monkeypatch.setattr(transport.asyncio, "sleep", no_wait)
    status = ApiStatus("http://127.0.0.1:9/bot…", "1:x")
    if before is not None:
        status.reachable = before
    request = RetryingRequest(status=status)
    url = "http://127.0.0.1:9/bot1:x/sendMessage"
    if delivered:
        assert await request.do_request(url, "POST") == (200, b'{"ok": true, "result": true}')
        assert len(calls) == failures + 1
        assert status.reachable is True
    else:
        with pytest.raises(NetworkError):
            await request.do_request(url, "POST")
        assert len(calls) == transport.MAX_TRIES


async def test_fr02_handler_error_from_an_outage_is_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reply that could not reach Telegram at all: one WARNING line, no traceback, and no
    "something went wrong" sent (it could not reach the user either)."""
    import types

    from telegram.error import NetworkError

    from bot.handlers import common

    caplog.set_level(logging.INFO)
    context = types.SimpleNamespace(
        error=NetworkError("httpx.ConnectError: All connection attempts failed")
    )
    await common.on_error(object(), context)
    records = [r for r in caplog.records if r.name == "bot.handlers.common"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert "not reported to the user" in records[0].getMessage()
    # A failure after the request may have reached Telegram (a proxy's Bad Gateway) is a
    # Telegram fault too, not a bug of ours (issue 10 #9): one WARNING line, no traceback.
    caplog.clear()
    await common.on_error(object(), types.SimpleNamespace(error=NetworkError("Bad Gateway")))
    records = [r for r in caplog.records if r.name == "bot.handlers.common"]
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.WARNING, None)]
    # A bug of ours still is an ERROR with its traceback.
    caplog.clear()
    try:
        raise KeyError("a bug")
    except KeyError as exc:
        await common.on_error(object(), types.SimpleNamespace(error=exc))
    records = [r for r in caplog.records if r.name == "bot.handlers.common"]
    assert [r.levelno for r in records] == [logging.ERROR] and records[0].exc_info


async def test_fr02_command_menus_give_up_quietly_when_the_api_goes_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The network drops between getMe and the command menus: one line, not one per menu
    (and start-up goes on)."""
    import types

    from telegram.error import NetworkError

    from bot.app import set_command_menus

    calls = []

    async def set_my_commands(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)
        raise NetworkError("httpx.ConnectError: All connection attempts failed")

    config = parse_config(MINIMAL_GROUP, PATH_FOR_UNITS, env={})
    app = types.SimpleNamespace(bot=types.SimpleNamespace(set_my_commands=set_my_commands))
    caplog.set_level(logging.WARNING, logger="bot.app")
    await set_command_menus(app, config)
    assert len(calls) == 1
    assert [r.getMessage() for r in caplog.records if r.name == "bot.app"] == [
        "could not set the command menus (httpx.ConnectError: All connection attempts failed);"
        " they stay as they were"
    ]


MENUS_CONFIG = MINIMAL_GROUP + """
[officers]
user_ids = [520001, 520002]
"""


async def test_command_menus_after_the_first_are_set_at_once() -> None:
    """Issue 16 (cold start): one round trip for the menus after the first, not one each
    before the bot polls. Each fake call waits until all the others are under way too, so
    menus set one after another never finish (the bound is a deadlock's, not a speed's)."""
    import types

    from bot.app import set_command_menus

    config = parse_config(MENUS_CONFIG, PATH_FOR_UNITS, env={})
    total = 2 * (1 + len(config.groups) + len(config.officers.user_ids))  # zh and en each
    calls: list[tuple[object, str | None]] = []
    all_under_way = asyncio.Event()

    async def set_my_commands(commands: Any, *, scope: Any, language_code: str | None) -> None:
        calls.append((scope, language_code))
        if len(calls) == total:
            all_under_way.set()
        if len(calls) > 1:  # the first menu is set alone
            await all_under_way.wait()

    app = types.SimpleNamespace(bot=types.SimpleNamespace(set_my_commands=set_my_commands))
    await asyncio.wait_for(set_command_menus(app, config), BOUND_S)
    assert len(calls) == total == len(set(calls))


async def test_a_menu_telegram_refuses_is_one_line_and_the_others_are_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An officer who never opened a chat with the bot: Telegram answers "chat not found"
    (PTB's BadRequest, a NetworkError subclass) — that menu's line, not "the API went away",
    and every other menu is still set."""
    import types

    from telegram import BotCommandScopeChat
    from telegram.error import BadRequest

    from bot.app import set_command_menus

    config = parse_config(MENUS_CONFIG, PATH_FOR_UNITS, env={})
    set_ok: list[tuple[object, str | None]] = []

    async def set_my_commands(commands: Any, *, scope: Any, language_code: str | None) -> None:
        if isinstance(scope, BotCommandScopeChat) and scope.chat_id == 520001:
            raise BadRequest("Chat not found")
        set_ok.append((scope, language_code))

    app = types.SimpleNamespace(bot=types.SimpleNamespace(set_my_commands=set_my_commands))
    caplog.set_level(logging.WARNING, logger="bot.app")
    await set_command_menus(app, config)
    assert len(set_ok) == 2 * 3  # private chats, the group, the other officer; zh and en
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert len(lines) == 2 and all(
        line.startswith("could not set the command menu for") and "Chat not found" in line
        for line in lines
    ), lines


PATH_FOR_UNITS = "/srv/warmline/config.toml"
