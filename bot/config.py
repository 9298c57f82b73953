"""Configuration: pydantic models of ``config.toml`` and a loader with readable errors.

The section and key names are a contract (operators' files and outside tests rely on them).
A bad file never produces a traceback: :func:`load_config` raises :class:`ConfigError` whose
message names the file, the key and the fix; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

TOKEN_ENV = "WARMLINE_TOKEN"

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramConfig(_Section):
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # PTB's AIORateLimiter keeps the bot under Telegram's flood limits. Tests against the
    # emulator switch it off so that they do not wait out per-group minute limits.
    rate_limiter: bool = True
    poll_timeout: Annotated[int, Field(ge=0, le=50)] = 30
    # Updates from different people are handled in parallel (one person's stay in order).
    max_concurrent_updates: Annotated[int, Field(ge=1, le=1024)] = 64


class StationConfig(_Section):
    name: str = "黄石市救助管理站"
    hotline: str = "0714-0000000"
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    database: str = "warmline.sqlite3"
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "HS"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} → use an IANA time zone name such as "
                '"Asia/Shanghai" (Region/City)'
            ) from exc
        return value


class ServiceAreaConfig(_Section):
    """Bounding box in WGS-84 degrees. Defaults: Huangshi (prefecture-level city)."""

    south: Annotated[float, Field(ge=-90, le=90)] = 29.50
    west: Annotated[float, Field(ge=-180, le=180)] = 114.50
    north: Annotated[float, Field(ge=-90, le=90)] = 30.35
    east: Annotated[float, Field(ge=-180, le=180)] = 115.60

    @model_validator(mode="after")
    def _ordered(self) -> ServiceAreaConfig:
        if self.south >= self.north:
            raise ValueError(
                f"south = {self.south} must be smaller than north = {self.north} → south is "
                "the lower latitude; swap the two values or correct them"
            )
        if self.west >= self.east:
            raise ValueError(
                f"west = {self.west} must be smaller than east = {self.east} → west is the "
                "lower longitude; swap the two values or correct them"
            )
        return self


class GroupConfig(_Section):
    key: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,16}$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    chat_id: int
    leader: int
    # Optional: how messages name the leader (mentions on escalations, patrol-log warnings)
    # before the bot has seen the leader's Telegram name; else the role word "组长".
    leader_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    members: list[int] = []

    @field_validator("chat_id")
    @classmethod
    def _group_chat(cls, value: int) -> int:
        if value >= 0:
            raise ValueError(
                f"{value} is not a group chat id (group chat ids are negative) → write the "
                "group's id, e.g. -1001234567890; send /whoami in the group to see it"
            )
        return value


class RosterConfig(_Section):
    """Which group is on duty when.

    Groups take turns day by day in ``order``, starting with ``order[0]`` on ``anchor``; a duty
    day runs from ``handover`` to the next day's ``handover`` (station time). ``overrides``
    names the group for particular duty days.
    """

    anchor: dt.date = dt.date(2026, 11, 21)
    handover: HHMM = "08:30"
    order: list[str] = []
    overrides: dict[dt.date, str] = {}


class OfficersConfig(_Section):
    user_ids: list[int] = []


class GeocoderConfig(_Section):
    provider: Literal["nominatim", "offline"] = "nominatim"
    domain: str = "nominatim.openstreetmap.org"
    scheme: Literal["https", "http"] = "https"
    user_agent: Annotated[str, Field(min_length=3)] = "warmline/0.1 (relief station bot)"
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0


class ReportingConfig(_Section):
    max_open_tips_per_hour: Annotated[int, Field(ge=1, le=100)] = 3
    description_max_chars: Annotated[int, Field(ge=20, le=2000)] = 500
    duplicate_radius_m: Annotated[int, Field(ge=10, le=5000)] = 250
    duplicate_window_hours: Annotated[int, Field(ge=1, le=72)] = 6
    # When this many new cards wait for one group, they go out as one digest message (one
    # line and one claim button per tip) instead: Telegram allows ~20 messages/min per group.
    # Urgent tips always get their own card at once. 0 = never digest.
    digest_threshold: Annotated[int, Field(ge=0, le=100)] = 4
    # Flood guard: at most this many updates per user in ``flood_window_seconds``.
    flood_max_updates: Annotated[int, Field(ge=3, le=1000)] = 20
    flood_window_seconds: Annotated[int, Field(ge=1, le=600)] = 10


class CampaignConfig(_Section):
    """The campaign window (inclusive dates, station time): rewards and schedules run inside it."""

    start: dt.date = dt.date(2026, 11, 21)
    end: dt.date = dt.date(2027, 3, 15)

    @model_validator(mode="after")
    def _ordered(self) -> CampaignConfig:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start}) → swap them")
        return self


class RewardConfig(_Section):
    """爱心有奖: the reward for a verified tip."""

    amount: Annotated[int, Field(gt=0, le=100_000)] = 200
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    monthly_cap: Annotated[int, Field(ge=0, le=1000)] = 5
    # Dual control: the person who recorded a tip's outcome may not approve its reward.
    allow_self_approval: bool = False


DEFAULT_AREAS = [
    "交通主次干道",
    "背街小巷",
    "桥梁涵洞",
    "棚改区",
    "公园",
    "城乡结合部",
]


class PatrolConfig(_Section):
    """Street patrols: at least twice a day (the plan), round the clock in extreme cold."""

    reminder_times: list[HHMM] = ["09:00", "20:00"]
    areas: list[Annotated[str, Field(min_length=1, max_length=40)]] = DEFAULT_AREAS
    # A reminder slot with no /patrol_start within this many minutes → leader and officer told.
    log_grace_minutes: Annotated[int, Field(ge=5, le=720)] = 90
    # Cold mode: a reminder every this many minutes, day and night.
    cold_interval_minutes: Annotated[int, Field(ge=15, le=360)] = 60
    # A reminder missed during an outage of up to this many minutes is still sent, late.
    misfire_grace_minutes: Annotated[int, Field(ge=0, le=240)] = 30

    @field_validator("reminder_times")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a time is listed twice → list each reminder time once")
        return sorted(value)


class WeatherConfig(_Section):
    """Optional automatic cold mode from an Open-Meteo-compatible forecast endpoint."""

    url: str = ""  # e.g. "https://api.open-meteo.com/v1/forecast"; empty = off
    cold_threshold_c: Annotated[float, Field(ge=-40, le=15)] = 0.0
    check_times: list[HHMM] = ["07:00", "17:00"]
    timeout: Annotated[float, Field(gt=0, le=60)] = 10.0


class EscalationConfig(_Section):
    claim_minutes: Annotated[int, Field(ge=1, le=240)] = 10
    urgent_claim_minutes: Annotated[int, Field(ge=1, le=240)] = 5
    second_minutes: Annotated[int, Field(ge=2, le=480)] = 20
    scene_minutes: Annotated[int, Field(ge=5, le=480)] = 45

    @model_validator(mode="after")
    def _ordered(self) -> EscalationConfig:
        if self.second_minutes <= max(self.claim_minutes, self.urgent_claim_minutes):
            raise ValueError(
                f"second_minutes ({self.second_minutes}) must be later than claim_minutes "
                f"({self.claim_minutes}) and urgent_claim_minutes ({self.urgent_claim_minutes})"
                " → raise second_minutes"
            )
        return self


class SummaryConfig(_Section):
    time: HHMM = "08:00"
    # Leadership / officers' chats; empty = the officers' private chats.
    chat_ids: list[int] = []


class Config(_Section):
    telegram: TelegramConfig = TelegramConfig()
    station: StationConfig = StationConfig()
    service_area: ServiceAreaConfig = ServiceAreaConfig()
    groups: list[GroupConfig]
    roster: RosterConfig = RosterConfig()
    officers: OfficersConfig = OfficersConfig()
    geocoder: GeocoderConfig = GeocoderConfig()
    reporting: ReportingConfig = ReportingConfig()
    campaign: CampaignConfig = CampaignConfig()
    reward: RewardConfig = RewardConfig()
    patrol: PatrolConfig = PatrolConfig()
    weather: WeatherConfig = WeatherConfig()
    escalation: EscalationConfig = EscalationConfig()
    summary: SummaryConfig = SummaryConfig()

    @field_validator("groups")
    @classmethod
    def _consistent(cls, groups: list[GroupConfig]) -> list[GroupConfig]:
        # A field validator (not a model validator) so that the error is reported under
        # ``groups`` and alongside problems in other sections.
        if not groups:
            raise ValueError(f"no patrol group is configured → {_MISSING_GROUPS}")
        first_with_key: dict[str, int] = {}
        first_with_chat: dict[int, int] = {}
        seen: dict[int, tuple[str, str]] = {}  # user id → (group key, where it was seen)
        for index, group in enumerate(groups):
            label = _group_label(index, group.key)
            if group.key in first_with_key:
                other = _group_label(first_with_key[group.key], group.key)
                raise ValueError(
                    f"{other} and {label} use the same key → give each group its own key"
                )
            first_with_key[group.key] = index
            if group.chat_id in first_with_chat:
                other_index = first_with_chat[group.chat_id]
                other = _group_label(other_index, groups[other_index].key)
                raise ValueError(
                    f"{other}.chat_id and {label}.chat_id are both {group.chat_id} → each "
                    "patrol group needs its own chat; send /whoami in each group for its id"
                )
            first_with_chat[group.chat_id] = index
            for field, users in (("leader", [group.leader]), ("members", group.members)):
                for user in users:
                    if user in seen and seen[user][0] != group.key:
                        raise ValueError(
                            f"user {user} is in two groups: {seen[user][1]} and "
                            f"{label}.{field} → a person belongs to one patrol group; "
                            "remove them from one of the two"
                        )
                    seen.setdefault(user, (group.key, f"{label}.{field}"))
        return groups

    # -- derived views -------------------------------------------------------------------
    def group(self, key: str) -> GroupConfig:
        for group in self.groups:
            if group.key == key:
                return group
        raise KeyError(key)

    def roster_order(self) -> list[str]:
        return list(self.roster.order)


class ConfigError(Exception):
    """A configuration problem, phrased for the operator (file, key, fix)."""


def _group_label(index: int, key: str | None) -> str:
    """How a ``[[groups]]`` table is named in messages: its position and its key."""
    return f"[[groups]] #{index + 1}" + (f" (key = {key!r})" if key else "")


_MISSING_GROUPS = (
    "add at least one [[groups]] table with key, name, chat_id, leader and members "
    "(see config.example.toml)"
)

# Fixes for particular keys, by (key path without list indices, pydantic error type).
_KEY_FIXES: dict[tuple[str, str], str] = {
    ("groups", "missing"): _MISSING_GROUPS,
    ("groups", "list_type"): (
        "write each group as a [[groups]] table (double brackets), see config.example.toml"
    ),
    ("groups.key", "missing"): 'add key = "g1" (a short id that roster.order refers to)',
    ("groups.key", "string_pattern_mismatch"): (
        'use 1–16 lowercase letters, digits or "_", e.g. key = "g1"'
    ),
    ("groups.name", "missing"): 'add name = "…" (the group\'s name as shown to staff)',
    ("groups.chat_id", "missing"): (
        "add chat_id = -100… (the group's chat id; send /whoami in the group to see it)"
    ),
    ("groups.leader", "missing"): (
        "add leader = <the leader's Telegram user id> (send /whoami to the bot to see it)"
    ),
    ("groups.members", "list_type"): "write a list of Telegram user ids, e.g. [100002, 100003]",
    ("station.code_prefix", "string_pattern_mismatch"): (
        'write 1–4 capital letters A–Z, e.g. code_prefix = "HS"'
    ),
    ("roster.handover", "string_pattern_mismatch"): (
        'write a 24-hour time in quotes as "HH:MM", e.g. handover = "08:30"'
    ),
    ("roster.order", "list_type"): 'write a list of group keys, e.g. order = ["g1", "g2"]',
}

_FIXES = {
    "missing": "add it (see config.example.toml for the key and an example value)",
    "model_type": "write it as a table, e.g. [{key}] (see config.example.toml)",
    "model_attributes_type": "write it as a table, e.g. [{key}] (see config.example.toml)",
    "dict_type": "write it as a table, e.g. [{key}] (see config.example.toml)",
    "int_from_float": "write a whole number",
    "string_too_short": "write a longer value",
    "string_too_long": "shorten it",
    "extra_forbidden": "remove it or check its spelling (see config.example.toml)",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "float_type": "write a number",
    "float_parsing": "write a number",
    "string_type": "write a quoted string",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "list_type": "write a list, e.g. [1, 2]",
    "date_type": "write a date such as 2026-11-21",
    "date_from_datetime_parsing": "write a date such as 2026-11-21",
    "date_parsing": "write a date such as 2026-11-21",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "use the format shown in config.example.toml",
}


def _key_path(loc: tuple[Any, ...], data: Any) -> str:
    """Render a pydantic error location the way it is written in TOML.

    ``("groups", 1, "chat_id")`` becomes ``[[groups]] #2 (key = 'g2').chat_id``.
    """
    parts: list[str] = []
    for item in loc:
        if item == "[key]":  # pydantic's marker for a bad dict key: the key itself is named
            continue
        if isinstance(item, int):
            if parts and parts[-1] == "groups":
                # Show the group's key where the file has one: easier to find than an index.
                try:
                    key = data["groups"][item].get("key")
                except (KeyError, IndexError, TypeError, AttributeError):
                    key = None
                parts[-1] = _group_label(item, key if isinstance(key, str) else None)
            else:
                parts[-1] = f"{parts[-1]}[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) if parts else "(top level)"


def _fix_for(loc: tuple[Any, ...], err_type: str) -> str | None:
    names = [str(item) for item in loc if isinstance(item, str) and item != "[key]"]
    fix = _KEY_FIXES.get((".".join(names), err_type)) or _FIXES.get(err_type)
    if fix and names:
        fix = fix.replace("{key}", ".".join(names))
    return fix


def format_validation_error(path: Path, exc: ValidationError, data: Any) -> str:
    lines = [f"{path}: the configuration has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _key_path(loc, data)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "missing":
            msg = "this required key is missing"
        elif err["type"] == "string_pattern_mismatch":
            # The regular expression means little to an operator; the fix shows the format.
            msg = f"{err['input']!r} is not in the expected format"
        fix = _fix_for(loc, err["type"])
        line = f"  - {key}: {msg}"
        if fix and err["type"] != "value_error":
            line += f" → {fix}"
        lines.append(line)
    return "\n".join(lines)


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = f"{path}: not valid TOML: {exc} → fix the syntax at that line"
    match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    if match:
        number = int(match.group(1))
        source = text.splitlines()
        if 1 <= number <= len(source):
            message += f"\n  line {number}: {source[number - 1].strip()}"
    return message


def _check_roster(config: Config, path: Path) -> None:
    keys = {g.key for g in config.groups}
    if not config.roster.order:
        raise ConfigError(
            f"{path}: roster.order: the roster is empty → list the group keys in the order they "
            f'take duty, e.g. order = ["{next(iter(sorted(keys)))}"]'
        )
    for key in config.roster.order:
        if key not in keys:
            raise ConfigError(
                f"{path}: roster.order: unknown group key {key!r} → use one of "
                f"{', '.join(sorted(keys))}"
            )
    for day, key in config.roster.overrides.items():
        if key not in keys:
            raise ConfigError(
                f"{path}: roster.overrides.{day}: unknown group key {key!r} → use one of "
                f"{', '.join(sorted(keys))}"
            )


def parse_config(
    text: str, path: Path | str = "config.toml", *, env: dict[str, str] | None = None
) -> Config:
    """Parse and validate config text; ``env`` (default ``os.environ``) may supply the token."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(path, text, exc)) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc, data)) from None
    _check_roster(config, path)
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV)
    if token:
        config = config.model_copy(
            update={"telegram": config.telegram.model_copy(update={"token": token})}
        )
    return config


def load_config(path: Path | str, *, env: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file → copy config.example.toml to {path} and edit it"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc}) → check the path and permissions"
        ) from None
    return parse_config(text, path, env=env)


def require_token(config: Config, path: Path | str) -> str:
    if not config.telegram.token:
        raise ConfigError(
            f"{path}: telegram.token is empty → set it in the file or in the environment "
            f"variable {TOKEN_ENV} (get a token from @BotFather)"
        )
    return config.telegram.token
