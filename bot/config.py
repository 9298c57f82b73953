"""Configuration: pydantic models of ``config.toml`` and a loader with readable errors.

The section and key names are a contract (operators' files and outside tests rely on them).
A bad file never produces a traceback: :func:`load_config` raises :class:`ConfigError` whose
message names the file, the key and the fix; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.configfeatures import DashboardConfig, FieldConfig, WebReportConfig
from bot.configmsg import MISSING_GROUPS, group_label, toml_message, validation_message
from bot.configvalues import (
    _TOKEN,
    _TOKEN_FIX,
    _WEBHOOK_SECRET,
    _WEBHOOK_SECRET_FIX,
    HHMM,
    TIMES,
    TOKEN_ENV,
    WEBHOOK_SECRET_ENV,
    ConfigPath,
    _clean_token,
    _http_url,
    _proxy_url,
    _public_url,
    _quoted,
    _RelativeToConfig,
    _resolve_paths,
    _webhook_secret,
    distinct_sorted,
    is_loopback_host,
)
from bot.configvalues import mask_proxy as mask_proxy  # (bot.config's interface)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramConfig(_Section):
    token: Annotated[str, BeforeValidator(_clean_token)] = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # bot/ratelimit.py (FloodGuard) keeps the bot under Telegram's flood limits. Tests against the
    # emulator switch it off so that they do not wait out per-group minute limits.
    rate_limiter: bool = True
    poll_timeout: Annotated[int, Field(ge=0, le=50)] = 30
    # Updates from different people are handled in parallel (one person's stay in order).
    max_concurrent_updates: Annotated[int, Field(ge=1, le=1024)] = 64
    # Issue 12: every Bot API and file request through this proxy ("": the environment's
    # HTTPS_PROXY / ALL_PROXY, if any); how updates arrive; the webhook's secret token.
    proxy: Annotated[str, BeforeValidator(_proxy_url)] = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: Annotated[str, BeforeValidator(_webhook_secret)] = ""

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _web_address(cls, value: str, info: ValidationInfo) -> str:
        return _http_url(value, str(cls.model_fields[str(info.field_name)].default))


class StationConfig(_Section):
    name: str = "黄石市救助管理站"
    hotline: str = "0714-0000000"
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    # Relative to the config file's folder (see ConfigPath).
    database: ConfigPath = "warmline.sqlite3"
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


def _person(user_id: int) -> int:
    if user_id <= 0:
        raise ValueError(
            f"{user_id} is not a person's user id (those are positive; negative ids are group "
            "chats) → have the person send /whoami to the bot privately and write that number"
        )
    return user_id


class GroupConfig(_Section):
    key: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,16}$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    chat_id: int
    leader: int
    # Optional: how messages name the leader (mentions on escalations, patrol-log warnings)
    # before the bot has seen the leader's Telegram name; else the role word "组长".
    leader_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    members: list[int] = []

    @field_validator("leader")
    @classmethod
    def _leader_is_a_person(cls, value: int) -> int:
        return _person(value)

    @field_validator("members")
    @classmethod
    def _members_besides_leader(cls, value: list[int], info: ValidationInfo) -> list[int]:
        for member in value:
            _person(member)
        # The natural way to write a group lists its leader among the members: the leader
        # *is* a member. Keep each person once, in one role: a leader listed here is simply
        # the leader (and a member listed twice is one member).
        leader = info.data.get("leader")
        return [m for m in dict.fromkeys(value) if m != leader]

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

    @field_validator("user_ids")
    @classmethod
    def _people(cls, value: list[int]) -> list[int]:
        return [_person(user) for user in value]


class GeocoderConfig(_Section):
    provider: Literal["nominatim", "offline"] = "nominatim"
    domain: str = "nominatim.openstreetmap.org"

    @field_validator("domain")
    @classmethod
    def _host_only(cls, value: str) -> str:
        value = value.strip()
        if "://" in value or not re.match(r"^[A-Za-z0-9.\[\]:-]+(/[^\s?#]*)?$", value):
            raise ValueError(
                f"{_quoted(value)} is not a host name → write only the server's name "
                '(and :port or a path if needed), e.g. domain = "nominatim.example.org"; the '
                '"https" goes in scheme'

            )
        return value
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
    # After submitting, the reporter may add words, a photo or flags for this many minutes.
    amend_minutes: Annotated[int, Field(ge=0, le=1440)] = 30


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

    reminder_times: TIMES = ["09:00", "20:00"]
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
        return distinct_sorted(value, "a time is listed twice → list each reminder time once")


class WeatherConfig(_Section):
    """Optional automatic cold mode from an Open-Meteo-compatible forecast endpoint."""

    url: str = ""  # e.g. "https://api.open-meteo.com/v1/forecast"; empty = off

    @field_validator("url")
    @classmethod
    def _off_or_web_address(cls, value: str) -> str:
        example = "https://api.open-meteo.com/v1/forecast"
        return _http_url(value, example) if value.strip() else ""
    cold_threshold_c: Annotated[float, Field(ge=-40, le=15)] = 0.0
    check_times: TIMES = ["07:00", "17:00"]
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


class WebConfig(_Section):
    """The bot's own web server: the Telegram webhook (``POST /telegram``), ``GET /healthz``."""

    listen: str = "127.0.0.1"
    # 0: any free port (tests and the demo).
    port: Annotated[int, Field(ge=0, le=65535)] = 8780
    # The https address nginx (or another proxy) serves this server at; webhook mode needs it.
    public_url: Annotated[str, BeforeValidator(_public_url)] = ""

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        try:
            ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            if value != "localhost":
                raise ValueError(
                    f"{_quoted(value)} is not an address to listen on → write an IP address of "
                    'this machine: "127.0.0.1" (behind nginx on the same machine), or "0.0.0.0" '
                    "(every address)"
                ) from None
        return value.strip("[]")


class HealthConfig(_Section):
    """When the duty officers are told that the bot itself was in trouble."""

    # The Bot API unreachable (or the bot not running) longer than this: told once it is back.
    outage_notice_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    # A message the outbox could not deliver for this long: told (once per message).
    undeliverable_minutes: Annotated[int, Field(ge=1, le=1440)] = 10


class LoggingConfig(_Section):
    """Where ``warmline run`` logs and how much (bot/logs.py)."""

    level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    ] = "INFO"
    # Empty: standard error (the journal under systemd). Else a file, relative to the config
    # file's folder; rotate it with logrotate (deploy/logrotate.conf).
    file: Annotated[str, _RelativeToConfig()] = ""


class BackupConfig(_Section):
    """The daily online backup of the database (bot/services/backups.py)."""

    # Relative to the config file's folder (see ConfigPath).
    dir: ConfigPath = "backups"
    time: HHMM = "04:00"
    # Backups warmline made in ``dir`` older than this many days are deleted.
    keep_days: Annotated[int, Field(ge=1, le=3660)] = 14


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
    field: FieldConfig = FieldConfig()
    dashboard: DashboardConfig = DashboardConfig()
    web_report: WebReportConfig = WebReportConfig()
    summary: SummaryConfig = SummaryConfig()
    web: WebConfig = WebConfig()
    health: HealthConfig = HealthConfig()
    logging: LoggingConfig = LoggingConfig()
    backup: BackupConfig = BackupConfig()

    @field_validator("groups")
    @classmethod
    def _consistent(cls, groups: list[GroupConfig]) -> list[GroupConfig]:
        # A field validator (not a model validator) so that the error is reported under
        # ``groups`` and alongside problems in other sections.
        if not groups:
            raise ValueError(f"no patrol group is configured → {MISSING_GROUPS}")
        first_with_key: dict[str, int] = {}
        first_with_chat: dict[int, int] = {}
        seen: dict[int, tuple[str, str]] = {}  # user id → (group key, where it was seen)
        for index, group in enumerate(groups):
            label = group_label(index, group.key)
            if group.key in first_with_key:
                other = group_label(first_with_key[group.key], group.key)
                raise ValueError(
                    f"{other} and {label} use the same key → give each group its own key"
                )
            first_with_key[group.key] = index
            if group.chat_id in first_with_chat:
                other_index = first_with_chat[group.chat_id]
                other = group_label(other_index, groups[other_index].key)
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


def _check_webhook(config: Config, path: Path) -> None:
    """Webhook mode needs the https address Telegram will POST to (an http address only on
    this machine's loopback: tests and the sandbox)."""
    if config.telegram.mode != "webhook":
        return
    url = config.web.public_url
    if not url:
        raise ConfigError(
            f'{path}: web.public_url: telegram.mode = "webhook" needs the https address '
            "Telegram sends updates to → set web.public_url to the address nginx (or another "
            'proxy) serves the web server at, e.g. "https://warmline.example.org", or use '
            'mode = "polling"'
        )
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{path}: web.public_url: {_quoted(url)}: Telegram sends webhook updates only to "
            'https addresses → put TLS in front of the web server (see deploy/nginx.conf) '
            'and write its "https://…" address, or use mode = "polling"'
        )


def _webhook_secret_from_env(config: Config, path: Path, env: Any) -> Config:
    secret = (env.get(WEBHOOK_SECRET_ENV) or "").strip()
    if not secret:
        return config
    if not _WEBHOOK_SECRET.match(secret):
        raise ConfigError(
            f"{path}: the environment variable {WEBHOOK_SECRET_ENV} has characters Telegram "
            f"does not allow → {_WEBHOOK_SECRET_FIX}"
        )
    telegram = config.telegram.model_copy(update={"webhook_secret": secret})
    return config.model_copy(update={"telegram": telegram})


def parse_config(
    text: str, path: Path | str = "config.toml", *, env: dict[str, str] | None = None
) -> Config:
    """Parse and validate config text; ``env`` (default ``os.environ``) may supply the token.

    Relative paths in the file (see :data:`ConfigPath`) are made absolute against the folder
    of ``path``.
    """
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(toml_message(path, text, exc)) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(path, exc, data, Config)) from None
    _check_roster(config, path)
    _check_webhook(config, path)
    # The folder as the OS sees it ("../etc" from the working directory), not the file's
    # link target: a config file linked into /etc/warmline keeps its paths there.
    config = _resolve_paths(config, path.absolute().parent.resolve())
    env = os.environ if env is None else env
    config = _webhook_secret_from_env(config, path, env)
    token = (env.get(TOKEN_ENV) or "").strip()
    if token:
        if not _TOKEN.match(token):
            raise ConfigError(
                f"{path}: the environment variable {TOKEN_ENV} does not look like a bot token "
                f"→ {_TOKEN_FIX}"
            )
        config = config.model_copy(
            update={"telegram": config.telegram.model_copy(update={"token": token})}
        )
    return config


def load_config(path: Path | str, *, env: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file → copy config.example.toml to {path} and edit it"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: this is a folder, not a file → check the path (e.g. {path / 'config.toml'})"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror or exc}) → check the path and permissions"
        ) from None
    try:
        text = raw.decode("utf-8-sig")  # "UTF-8 with BOM" (Windows Notepad) is UTF-8 too
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line}: the file is not saved as UTF-8 (perhaps GBK) → save it "
            "again as UTF-8 (in Notepad: File → Save as… → Encoding: UTF-8)"
        ) from None
    return parse_config(text, path, env=env)


def require_token(config: Config, path: Path | str) -> str:
    if not config.telegram.token:
        raise ConfigError(
            f"{path}: telegram.token is empty → set it in the file or in the environment "
            f"variable {TOKEN_ENV} (get a token from @BotFather)"
        )
    return config.telegram.token
