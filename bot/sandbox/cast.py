"""Who is in the demo, and the bot's configuration for it.

Everyone here is invented: names, user ids, chat ids, phone numbers. Two patrol groups take
turns on duty; one duty officer; one reporter (the drill brings more).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.sandbox.emulator import BotApiEmulator

TOKEN = "123456:WARMLINE-DEMO"
BOT_USERNAME = "warmline_demo_bot"
BOT_NAME = "暖线 warmline"
HANDOVER = "08:30"


@dataclass(frozen=True)
class Person:
    """Someone the page can act as. ``phone`` is what "share my phone number" sends."""

    user_id: int
    name: str
    role: str  # "reporter" | "leader" | "member" | "officer"
    phone: str
    note: str = ""  # shown beside the name, e.g. "快递员 courier"
    group: str | None = None  # the patrol group key of staff
    username: str | None = None
    language_code: str = "zh-hans"


@dataclass(frozen=True)
class GroupChat:
    key: str
    name: str
    chat_id: int
    title: str  # the Telegram group's title


REPORTER_ID = 5001
OFFICER_ID = 7901

GROUPS: tuple[GroupChat, ...] = (
    GroupChat("g1", "第一小组", -1001000000001, "第一小组 巡查群"),
    GroupChat("g2", "第二小组", -1001000000002, "第二小组 巡查群"),
)

# Phone numbers are obviously fake: +86 138 0000 00NN.
CAST: tuple[Person, ...] = (
    Person(REPORTER_ID, "小梅", "reporter", "+86 138 0000 0001", "快递员 courier", None, "xiaomei"),
    Person(7101, "王组长", "leader", "+86 138 0000 0011", "第一小组组长 leader", "g1"),
    Person(7102, "赵队员", "member", "+86 138 0000 0012", "队员 member", "g1"),
    Person(7103, "钱队员", "member", "+86 138 0000 0013", "队员 member", "g1"),
    Person(7201, "孙组长", "leader", "+86 138 0000 0021", "第二小组组长 leader", "g2"),
    Person(7202, "周队员", "member", "+86 138 0000 0022", "队员 member", "g2"),
    Person(OFFICER_ID, "吴值班", "officer", "+86 138 0000 0091", "值班人员 duty officer"),
)


def duty_anchor(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The duty day running at ``now``, so that the first group is on duty when the demo
    starts (the roster then alternates at each hand-over, as configured)."""
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in HANDOVER.split(":"))
    day = local.date()
    if local.time() < dt.time(hour, minute):
        day -= dt.timedelta(days=1)
    return day


def demo_config(emu: BotApiEmulator, database: Path, *, now: dt.datetime | None = None) -> Config:
    """The demo's configuration, built in code: two patrol groups, one duty officer, the
    offline gazetteer as geocoder, the emulator as Bot API."""
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = now or dt.datetime.now(dt.UTC)
    staff = {g.key: [p for p in CAST if p.group == g.key] for g in GROUPS}
    data: dict[str, Any] = {
        "telegram": {
            "token": emu.token,
            "base_url": emu.base_url,
            "base_file_url": emu.base_file_url,
            "rate_limiter": False,
        },
        "station": {"database": str(database), "timezone": str(tz)},
        # Beside the demo's database, never in the folder the demo was started from.
        "backup": {"dir": str(Path(database).parent / "backups")},
        "groups": [
            {
                "key": g.key,
                "name": g.name,
                "chat_id": g.chat_id,
                "leader": (leader := next(p for p in staff[g.key] if p.role == "leader")).user_id,
                "leader_name": leader.name,  # named in escalations before they have written
                "members": [p.user_id for p in staff[g.key] if p.role == "member"],
            }
            for g in GROUPS
        ],
        "roster": {
            "anchor": duty_anchor(now, tz),
            "handover": HANDOVER,
            "order": [g.key for g in GROUPS],
        },
        "officers": {"user_ids": [p.user_id for p in CAST if p.role == "officer"]},
        "geocoder": {"provider": "offline"},
        # A demo is for trying things: room for more than the production limit of three
        # tips an hour from one reporter.
        "reporting": {"max_open_tips_per_hour": 10},
        # The bot's own web server (/healthz) on any free loopback port: never in the way of
        # a warmline running on this machine.
        "web": {"listen": "127.0.0.1", "port": 0},
    }
    return Config.model_validate(data)
