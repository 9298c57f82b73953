"""The composition root: builds the Application, registers every handler in one ordered place,
creates the services in ``post_init`` and closes them in ``post_stop`` / ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from dataclasses import dataclass

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Config
from bot.db.ops import OpsStore
from bot.geo.geocoder import Geocoder
from bot.handlers import common, dashboard, field_extras, guards, officer, patrol, reporter, rewards
from bot.handlers import followup as followup_handlers
from bot.handlers.processor import PerUserUpdateProcessor
from bot.httppool import sharded_client_kwargs
from bot.i18n import LANGUAGES
from bot.inbound import InboundJournal, InboundRequest
from bot.jobs import ticker
from bot.jobs.outages import OutageWatch
from bot.jobs.outbox import OutboxSender
from bot.ratelimit import FloodGuard
from bot.services.clock import Clock, StationClock, utc_now
from bot.services.health import HealthService
from bot.services.registry import Services
from bot.services.schedules import ForecastFetcher
from bot.services.weather import OpenMeteo
from bot.services.webreport import WebReportService
from bot.station import (
    Station,
    directory_from,
    geocoder_from,
    open_station,
    service_area,
)
from bot.station import station_for as station_for  # (used by bot/cli.py)
from bot.transport import ApiStatus, RetryingRequest, display_url
from bot.views.commands import COMMANDS, Menu, menu, menu_entries
from bot.web.app import create_web_app
from bot.web.dashboard import create_dashboard
from bot.web.dashboard.layers import feature_layers
from bot.web.health import routes as health_routes
from bot.web.report.app import ReportWeb
from bot.web.report.app import mounts as report_mounts
from bot.web.server import WebServer
from bot.web.telegram import WebhookEndpoint
from bot.wiring import build_services as build_services  # (bot.app's interface)

log = logging.getLogger(__name__)


@dataclass
class Overrides:
    """Seams for tests and the sandbox; production uses the defaults."""

    clock: Clock = utc_now
    geocoder: Geocoder | None = None
    # Seconds between schedule ticks; None = no ticker (tests call ScheduleService.tick).
    tick_seconds: float | None = 15.0
    fetch_forecast: ForecastFetcher | None = None
    # Seconds to wait for a Bot API answer (None: python-telegram-bot's default, 5 s).
    read_timeout: float | None = None


def build_application(config: Config, overrides: Overrides | None = None) -> Application:
    overrides = overrides or Overrides()
    tz = zoneinfo.ZoneInfo(config.station.timezone)
    timeouts = {} if overrides.read_timeout is None else {"read_timeout": overrides.read_timeout}
    # Every update is journaled before Telegram can forget it (see bot/inbound.py).
    journal = InboundJournal()
    # What every request learns about the Bot API's reachability (read by bot/lifecycle.py).
    status = ApiStatus(display_url(config.telegram.base_url), config.telegram.token)
    pool = config.telegram.max_concurrent_updates + 8
    # [telegram] proxy for every Bot API and file request; empty: httpx reads the
    # environment's HTTPS_PROXY / ALL_PROXY / NO_PROXY itself.
    proxy = {"proxy": config.telegram.proxy} if config.telegram.proxy else {}
    # One TLS context for both clients (each would load the CA bundle itself, ~40 ms of CPU
    # at start); httpx's own default: certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR.
    tls = httpx.create_ssl_context()
    http = {**proxy, "httpx_kwargs": {"verify": tls}}
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .request(
            RetryingRequest(
                connection_pool_size=pool,
                status=status,
                **proxy,
                **timeouts,
                # The pool kept as small ones: httpcore's walk per request (bot/httppool.py).
                httpx_kwargs={
                    "verify": tls,
                    **sharded_client_kwargs(pool, config.telegram.proxy or None, tls),
                },
            )
        )
        .get_updates_request(InboundRequest(journal, connection_pool_size=1, status=status, **http))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(PerUserUpdateProcessor(config.telegram.max_concurrent_updates, journal))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if config.telegram.rate_limiter:
        builder = builder.rate_limiter(FloodGuard(max_retries=3))
    app = builder.build()
    app.bot_data["config"] = config
    app.bot_data["overrides"] = overrides
    app.bot_data["journal"] = journal
    app.bot_data["api_status"] = status
    build_web(app, config, journal, status)
    register_handlers(app, config)
    return app


def build_web(app: Application, config: Config, journal: InboundJournal, status: ApiStatus) -> None:
    """The bot's web server (issue 12): the webhook and /healthz; bot/lifecycle.py starts it
    before the Bot API is reached (so /healthz can say it is not) and stops it."""

    def opened() -> tuple[OpsStore, StationClock] | None:
        station: Station | None = app.bot_data.get("station")
        return (station.repo.ops, station.clock) if station is not None else None

    webhook = WebhookEndpoint(journal)
    health = HealthService(config, status, opened)
    dashboard_app = create_dashboard(  # issue 14: the officers' dashboard at /dashboard
        lambda: app.bot_data.get("services"),
        lambda: station.repo.outbox if (station := app.bot_data.get("station")) else None,
        lambda: app.bot,
        config,
    )
    dashboard_app.state.layers = feature_layers  # positions and hotspots (issue 13)

    def web_report() -> WebReportService | None:
        services: Services | None = app.bot_data.get("services")
        return services.web_report if services is not None else None

    report_web = ReportWeb(web_report, config)  # /report, /t/CODE (issue 15)
    report_apps, report_bodies = report_mounts(report_web)
    web_app = create_web_app(
        [webhook.routes(), health_routes(health), report_web.routes()],
        {"dashboard": dashboard_app, **report_apps},
        larger_bodies=report_bodies,
    )
    app.bot_data["dashboard"] = dashboard_app
    app.bot_data["webhook"] = webhook
    app.bot_data["report_web"] = report_web
    app.bot_data["web"] = WebServer(web_app, config.web.listen, config.web.port)


def register_handlers(app: Application, config: Config) -> None:
    """Every handler, in the order they are tried. Guards first (groups -4 … -1).

    PTB runs at most one handler per group, groups in ascending order; a guard that raises
    ApplicationHandlerStop ends the update's processing.
    """
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    flood = guards.FloodGuard(
        config.reporting.flood_max_updates,
        config.reporting.flood_window_seconds,
        is_staff=directory_from(config).is_staff,  # staff: a much higher limit (see FloodGuard)
    )
    officers = filters.User(config.officers.user_ids or [0])

    # A live location's moves arrive as edits (issue 13): the only edits read.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, field_extras.on_live_moved
        ),
        group=-5,
    )
    app.add_handler(TypeHandler(Update, guards.ignore_edits), group=-4)
    app.add_handler(TypeHandler(Update, flood), group=-3)
    app.add_handler(TypeHandler(Update, guards.unknown_group), group=-2)
    # Remember names and app languages (staff names appear on cards; cached, rarely writes).
    app.add_handler(TypeHandler(Update, common.touch_user), group=-1)

    app.add_handlers(
        [
            # Commands: one handler per row of the command table (views/commands.py).
            *command_handlers(),
            # The bot removed from / added back to a patrol group.
            ChatMemberHandler(guards.group_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            # Buttons.
            CallbackQueryHandler(reporter.on_button, pattern=r"^r:"),
            CallbackQueryHandler(patrol.on_button, pattern=r"^tip:"),
            CallbackQueryHandler(followup_handlers.on_still_there, pattern=r"^st:"),
            CallbackQueryHandler(rewards.on_button, pattern=r"^rw:"),
            CallbackQueryHandler(field_extras.on_revisit_button, pattern=r"^rv:"),
            CallbackQueryHandler(common.stale_button),
            # Evidence: media sent as a reply to a tip's message (group or officer's chat).
            MessageHandler(
                filters.REPLY
                & (
                    filters.PHOTO
                    | filters.VIDEO
                    | filters.VOICE
                    | filters.VIDEO_NOTE
                    | filters.AUDIO
                    | filters.Document.ALL
                )
                & (groups | officers),
                patrol.on_evidence,
            ),
            # Anonymous questions: a member's question (group) and the reporter's answer.
            MessageHandler(groups & filters.TEXT & ~filters.COMMAND, patrol.on_group_reply),
            # An officer's text: their typed answer to the bot's last question if it waits for
            # one (the pending input in the database) — typed, or as a "reply" to that
            # question (before the private replies below, which would take it for a stray
            # text) —, else part of their report.
            MessageHandler(
                private & officers & filters.TEXT & ~filters.COMMAND, rewards.on_officer_text
            ),
            MessageHandler(
                private & filters.REPLY & filters.TEXT & ~filters.COMMAND, reporter.on_private_reply
            ),
            # Unknown commands in private chats get a pointer to /help.
            MessageHandler(private & filters.COMMAND, common.unknown_command),
            # A reporter sharing their phone number for a reward transfer.
            MessageHandler(private & filters.CONTACT, rewards.on_contact),
            # Everything else a person sends privately belongs to their report.
            MessageHandler(
                private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, reporter.on_message
            ),
        ]
    )
    # A live location's first message, beside whatever handled it above (the reporter's
    # report takes the pin; a staff member's position is followed).
    app.add_handler(
        MessageHandler(
            filters.LOCATION & filters.UpdateType.MESSAGE, field_extras.on_live_location
        ),
        group=1,
    )
    app.add_error_handler(common.on_error)


#: The handler of each command of the table (bot/views/commands.py COMMANDS).
COMMAND_CALLBACKS = {
    # For everyone.
    "start": common.start,
    "help": common.help_command,
    "whoami": common.whoami,
    "language": common.language_command,
    "cancel": common.cancel,
    # The reporter.
    "report": reporter.report_command,
    "mytips": reporter.mytips,
    # The duty officer.
    "newtip": officer.newtip,
    "open": officer.open_tips,
    "rewards": rewards.rewards_command,
    "ledger": rewards.ledger_command,
    "claim": rewards.claim_command,
    "reverse": rewards.reverse_command,
    "coldmode": officer.coldmode,
    "stats": dashboard.stats,  # issue 14
    "dashboard": dashboard.dashboard,
    # The patrol log (in a patrol group).
    "patrol_start": patrol.patrol_start,
    "patrol_end": patrol.patrol_end,
    # Staff only (issue 13).
    "hotspots": field_extras.hotspots,
}


def command_handlers() -> list[CommandHandler]:
    """A handler for every command of the table, and no command outside it."""
    names = [c.name for c in COMMANDS]
    if set(names) != set(COMMAND_CALLBACKS):
        raise RuntimeError(
            "the command table and the handlers disagree: "
            f"{sorted(set(names) ^ set(COMMAND_CALLBACKS))}"
        )
    return [CommandHandler(name, COMMAND_CALLBACKS[name]) for name in names]


def _forecast(config: Config, overrides: Overrides) -> ForecastFetcher | None:
    if overrides.fetch_forecast is not None or not config.weather.url:
        return overrides.fetch_forecast
    lat, lon = service_area(config).center()
    return OpenMeteo(
        config.weather.url,
        lat,
        lon,
        config.station.timezone,
        config.weather.timeout,
        clock=overrides.clock,  # "tonight" by the bot's clock, like everything else
    )


async def _post_init(app: Application) -> None:
    config: Config = app.bot_data["config"]
    overrides: Overrides = app.bot_data["overrides"]
    station = await open_station(config, overrides.clock)
    services, sender = build_services(
        station,
        app.bot,
        geocoder=overrides.geocoder or geocoder_from(config),
        fetch_forecast=_forecast(config, overrides),
    )
    app.bot_data["api_status"].on_back(sender.api_back)
    app.bot_data["station"] = station
    app.bot_data["services"] = services
    app.bot_data["outbox"] = sender
    await services.users.sync_staff()
    await set_command_menus(app, config)
    await sender.recover()
    sender.start()  # also resumes whatever was pending before a restart
    if overrides.tick_seconds:
        also = (services.relay.nudge,)
        ticker.install(app, services.schedules, overrides.tick_seconds, also=also)
    # Issue 12: the officers told of the bot's own outages and undeliverable messages.
    watch = OutageWatch(
        station.db,
        station.repo.ops,
        station.notifier,
        station.clock,
        config.health,
        app.bot_data["api_status"],
        app.bot_data["journal"],
        polling=config.telegram.mode == "polling",
        queue_size=app.update_queue.qsize,
    )
    app.bot_data["outage_watch"] = watch
    await watch.start()
    # Last: what a crash left unfinished is handled first, before the updater polls again.
    journal: InboundJournal = app.bot_data["journal"]
    journal.attach(station.db)
    await journal.replay(app)
    log.info("warmline ready: %s, database %s", config.station.name, config.station.database)


async def _post_stop(app: Application) -> None:
    watch: OutageWatch | None = app.bot_data.get("outage_watch")
    if watch is not None:
        await watch.stop()
    sender: OutboxSender | None = app.bot_data.get("outbox")
    if sender is not None:
        await sender.stop()


async def _post_shutdown(app: Application) -> None:
    app.bot_data["journal"].detach()
    station: Station | None = app.bot_data.get("station")
    if station is not None:
        await station.db.close()


# The three menus, from the command table.
REPORTER_COMMANDS = menu(Menu.PRIVATE)
GROUP_COMMANDS = menu(Menu.GROUP)
OFFICER_COMMANDS = menu(Menu.OFFICER)


def _commands(names: tuple[str, ...], lang: str) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in menu_entries(names, lang)]


async def set_command_menus(app: Application, config: Config) -> None:
    """Each person sees only their own commands (per scope, in zh and en). The first menu is
    set alone — if the API went away since getMe that is one line, not one per menu — and the
    others at once: one round trip instead of seven more before the bot polls (issue 16,
    the cold start; Telegram is a few hundred ms away from a station behind a proxy)."""
    menus: list[tuple[tuple[str, ...], object]] = [
        (REPORTER_COMMANDS, BotCommandScopeAllPrivateChats()),
        *[(GROUP_COMMANDS, BotCommandScopeChat(g.chat_id)) for g in config.groups],
        *[(OFFICER_COMMANDS, BotCommandScopeChat(o)) for o in config.officers.user_ids],
    ]
    # The station's language is the default menu; the other one by language code.
    calls = [
        (names, scope, lang, None if lang == config.station.language else lang)
        for names, scope in menus
        for lang in LANGUAGES
    ]
    gone = await _set_menu(app, *calls[0])
    if gone is None:
        outcomes = await asyncio.gather(*(_set_menu(app, *call) for call in calls[1:]))
        gone = next((exc for exc in outcomes if exc is not None), None)
    if gone is not None:  # the API went away: one line, not one per menu
        log.warning("could not set the command menus (%s); they stay as they were", gone)


async def _set_menu(
    app: Application, names: tuple[str, ...], scope: object, lang: str, code: str | None
) -> NetworkError | None:
    """One menu; the error if the API could not be reached (the caller says it once)."""
    try:
        await app.bot.set_my_commands(_commands(names, lang), scope=scope, language_code=code)
    except TelegramError as exc:
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            return exc  # no answer
        # Answered but refused (e.g. an officer who has not opened a chat with the bot yet;
        # PTB's BadRequest is a NetworkError): a convenience, never blocks start-up.
        log.warning("could not set the command menu for %s: %s", scope, exc)
    return None
