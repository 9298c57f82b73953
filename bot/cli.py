"""The ``warmline`` command: run the bot, check a config file, administer the database."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, load_config, require_token

EXIT_CONFIG = 2
#: Another process holds the database (a second `run`, or `restore` while the bot runs).
EXIT_IN_USE = 3
CONFIG_HELP = "path to config.toml"


def _with_config(sub: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    """A command that reads config.toml (its ``-c/--config``)."""
    command = sub.add_parser(name, help=help)
    command.add_argument("-c", "--config", required=True, help=CONFIG_HELP)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warmline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = _with_config(sub, "run", "run the bot (long polling)")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    _with_config(sub, "check-config", "validate a config file and show what it means")
    export = _with_config(
        sub, "ledger-export", "write the reward ledger for the finance office (.csv or .xlsx)"
    )
    export.add_argument("--out", required=True, help="output file: ledger.csv or ledger.xlsx")
    purge = _with_config(
        sub, "purge", "remove personal data of tips closed before a date (keeps statistics)"
    )
    purge.add_argument("--before", required=True, help="a date, YYYY-MM-DD (station time)")
    _with_config(sub, "reload", "check config.toml, then have the running bot reload it (SIGHUP)")
    backup = _with_config(sub, "backup", "copy the database safely while the bot runs")
    backup.add_argument("--out", required=True, help="the backup file to create")
    _add_export_parser(sub)
    leaflet = _with_config(
        sub, "leaflet", "the printable A5 notice with a QR code of the web report form"
    )
    leaflet.add_argument("--out", required=True, help="output file: leaflet.pdf or leaflet.png")
    restore = _with_config(
        sub, "restore", "replace the database with a backup (the bot must be stopped)"
    )
    restore.add_argument("--from", dest="source", required=True, help="the backup file")
    demo = sub.add_parser(
        "demo",
        help="try warmline without a bot token: the bot against a local Bot API emulator, "
        "in a web chat (reporter, patrol group, duty officer)",
    )
    demo.add_argument("--port", type=int, default=8080, help="web chat port (default 8080)")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    demo.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other machines can reach (there is no login: "
        "anyone who reaches it can act as everyone in the demo)",
    )
    demo.add_argument("--db", metavar="PATH", help="keep the demo's SQLite database here")
    demo.add_argument("--drill", action="store_true", help="replay a scripted cold night")
    demo.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    demo.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def _leader_named(config: Config, group) -> str:
    """How messages name a group's leader before the bot has seen their Telegram name."""
    from bot.i18n import t  # local: keeps `check-config` light

    if group.leader_name:
        return group.leader_name
    return f"no leader_name: messages say “{t(config.station.language, 'role.leader')}”"


def describe(
    config: Config, now: dt.datetime | None = None, database_state: str | None = None
) -> str:
    """What the bot understood from the config: groups, officers, roster, service area."""
    from bot.station import roster_from  # local: keeps `check-config` light

    tz = zoneinfo.ZoneInfo(config.station.timezone)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    state = f" ({database_state})" if database_state else ""
    lines = [
        f"station: {config.station.name} (hotline {config.station.hotline}, "
        f"{config.station.timezone}, language {config.station.language})",
        f"database: {config.station.database}{state}",
        f"bot api: {config.telegram.base_url} "
        f"(token {'set' if config.telegram.token else 'MISSING'})",
        *describe_connection(config),
        "groups:",
    ]
    for g in config.groups:
        lines.append(
            f"  {g.key}: {g.name} — chat {g.chat_id}, "
            f"leader {g.leader} ({_leader_named(config, g)}), "
            f"{len(g.members)} member(s): {', '.join(map(str, g.members)) or '—'}"
        )
    lines.append(f"officers: {', '.join(map(str, config.officers.user_ids)) or '— (none!)'}")
    area = config.service_area
    lines.append(
        f"service area: south {area.south}, west {area.west}, north {area.north}, east {area.east}"
    )
    g = config.geocoder
    where = "offline gazetteer only" if g.provider == "offline" else f"{g.scheme}://{g.domain}"
    lines.append(f"geocoder: {g.provider} ({where})")
    roster = roster_from(config)
    names = {grp.key: grp.name for grp in config.groups}
    lines.append(f"roster (hand-over at {config.roster.handover}), next 48 h:")
    for start, until, key in roster.schedule(now, 48):
        lines.append(
            f"  {start:%a %m-%d %H:%M} → {until:%a %m-%d %H:%M}  {key} ({names.get(key, key)})"
        )
    return "\n".join(lines)


def describe_connection(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """Issue 12: how the bot reaches Telegram (the proxy, passwords masked), how updates
    arrive, and where the web server listens."""
    import urllib.request
    from urllib.parse import urlsplit

    from bot.config import WEBHOOK_SECRET_ENV, mask_proxy

    telegram, web = config.telegram, config.web
    if telegram.proxy:
        proxy = f"proxy: {mask_proxy(telegram.proxy)}"
    else:
        environ = os.environ if env is None else env
        scheme = telegram.base_url.split("://", 1)[0].lower()
        found = {
            k.lower(): v for k, v in environ.items() if k.lower().endswith("_proxy") and v.strip()
        }
        chosen = next(
            ((name, found[name]) for name in (f"{scheme}_proxy", "all_proxy") if name in found),
            None,
        )
        if chosen is None:
            proxy = "proxy: none (direct connection)"
        elif urllib.request.proxy_bypass_environment(
            urlsplit(telegram.base_url).hostname or "",
            {"no": found.get("no_proxy", "")},
        ):
            proxy = "proxy: none (the host is in NO_PROXY)"
        else:
            proxy = f"proxy: {mask_proxy(chosen[1])} (from the environment, {chosen[0].upper()})"
    if telegram.mode == "webhook":
        if os.environ.get(WEBHOOK_SECRET_ENV) and env is None:
            secret = WEBHOOK_SECRET_ENV
        elif telegram.webhook_secret:
            secret = "telegram.webhook_secret"
        else:
            secret = "generated on first start, kept in the database"
        updates = f"updates: webhook at {web.public_url}/telegram (secret: {secret})"
    else:
        updates = "updates: polling (getUpdates)"
    port = "any free port" if web.port == 0 else str(web.port)
    listen = f"web server: {web.listen}, port {port} (/telegram, /healthz)"
    return [proxy, updates, listen]


def _purge(config: Config, before_text: str) -> int:
    import asyncio

    from bot.app import station_for
    from bot.services.maintenance import PurgeReport, purge

    try:
        before = dt.date.fromisoformat(before_text)
    except ValueError:
        print(
            f"warmline: --before {before_text!r}: write a date such as 2027-04-01", file=sys.stderr
        )
        return EXIT_CONFIG

    async def run() -> PurgeReport:
        async with station_for(config) as station:
            store = station.repo.maintenance
            return await purge(station.db, store, station.audit, station.clock, before)

    report = asyncio.run(run())
    print(
        f"purged personal data of {len(report.purged)} tip(s) closed before {before}: "
        f"{', '.join(report.purged) or '—'}"
    )
    print(
        f"reporters whose names, usernames and phone numbers were removed: "
        f"{report.reporters_forgotten}"
    )
    if report.refused_unpaid:
        print(f"refused (reward not paid yet): {', '.join(report.refused_unpaid)}")
    return 0


def _backup(config: Config, out: Path) -> int:
    import sqlite3

    from bot.db.backups import BackupError
    from bot.services.maintenance import backup

    try:
        tips = backup(config.station.database, out)
    except (OSError, BackupError, sqlite3.Error) as exc:
        print(f"warmline: backup: {exc}", file=sys.stderr)
        return 1
    print(f"{out}: backup complete ({tips} tips); integrity check ok")
    return 0


def _leaflet(config: Config, out: Path) -> int:
    from bot.leaflet import LeafletError, form_url, write

    try:
        write(config, out)
    except LeafletError as exc:
        print(f"warmline: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"warmline: --out {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{out}: A5 leaflet, QR code → {form_url(config)}")
    return 0


def _ledger_export(config: Config, out: Path) -> int:
    import asyncio

    from bot.app import station_for
    from bot.domain.rewards import Campaign
    from bot.services.exports import LedgerExport, ledger_export, write_csv, write_xlsx

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        print(f"warmline: --out {out}: use a .csv or .xlsx file name", file=sys.stderr)
        return EXIT_CONFIG

    async def collect() -> LedgerExport:
        async with station_for(config) as station:
            return await ledger_export(
                station.repo.ledger,
                station.repo.rewards,
                station.clock.tz,
                Campaign(config.campaign.start, config.campaign.end),
            )

    export = asyncio.run(collect())
    (write_csv if suffix == ".csv" else write_xlsx)(out, export)
    state = export.report.state
    print(
        f"{out}: {len(export.rows)} ledger entries; now: pending {state.pending[0]}, "
        f"approved not yet paid {state.approved[0]}, paid {state.paid[0]} / {state.paid[1]} "
        f"yuan, rejected {state.rejected[0]}"
    )
    return 0


# -- `warmline export tips | events` (issue 14) -------------------------------------------------


def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export",
        help="write the tips received, or the event log, of a period for a city office or an "
        "inspection (.csv, .xlsx or .geojson)",
    )
    export.add_argument(
        "what", choices=["tips", "events"], help="tips: one row per tip; events: the audit log"
    )
    export.add_argument("-c", "--config", required=True, help=CONFIG_HELP)
    export.add_argument(
        "--from", dest="first", required=True, metavar="DATE", help="first day, YYYY-MM-DD"
    )
    export.add_argument(
        "--to", dest="last", required=True, metavar="DATE", help="last day (included)"
    )
    export.add_argument(
        "--out", required=True, help="output file: FILE.csv, FILE.xlsx or FILE.geojson"
    )
    export.add_argument(
        "--coarse",
        action="store_true",
        help="positions rounded to about 1 km and no free text (description, address): for "
        "anyone beyond the station's staff",
    )


def _export_arguments(args: argparse.Namespace) -> tuple[dt.date, dt.date, Path] | str:
    """The period and the file, or what is wrong with them, in plain words."""
    from bot.services.tip_exports import FORMATS

    days = []
    for option, value in (("--from", args.first), ("--to", args.last)):
        try:
            days.append(dt.date.fromisoformat(value))
        except ValueError:
            return f"{option} {value!r}: write a date such as 2026-12-01 (station time)"
    first, last = days
    if first > last:
        return f"--from {first} is after --to {last}: swap them"
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        return f"--out {out}: use a file name ending in {', '.join(FORMATS)}"
    if not out.parent.is_dir():
        return f"--out {out}: there is no folder {out.parent}; create it first"
    return first, last, out


def _export(config: Config, args: argparse.Namespace) -> int:
    import asyncio

    from bot.app import station_for
    from bot.i18n import t
    from bot.services.tip_exports import Export, TipExports, write

    checked = _export_arguments(args)
    if isinstance(checked, str):
        print(f"warmline: export: {checked}", file=sys.stderr)
        return EXIT_CONFIG
    first, last, out = checked
    tz = zoneinfo.ZoneInfo(config.station.timezone)

    async def collect() -> Export:
        async with station_for(config) as station:
            exports = TipExports(
                station.repo.exports,
                tz=station.clock.tz,
                directory=station.reach.directory,
                service_name=t(config.station.language, "export.service_name"),
                clock=station.clock.now,
            )
            kind = exports.tips if args.what == "tips" else exports.events
            return await kind(first, last, coarse=args.coarse)

    export = asyncio.run(collect())
    try:
        write(export, out)
    except OSError as exc:
        print(f"warmline: export: --out {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{out}: {len(export.rows)} {args.what} of {first} … {last} (station days, {tz.key})")
    print(
        "positions rounded to about 1 km, no free text"
        if args.coarse
        else "exact positions and reporters' words: for the station's staff only "
        "(--coarse for anyone else)"
    )
    return 0


def _reload(config: Config, config_path: str) -> int:
    """``warmline reload``: the file was checked (a wrong one never reaches the bot); now
    SIGHUP to the ``warmline run`` holding the database, which reloads the file it was
    started with (bot/reload.py)."""
    import os
    import signal

    from bot.db.lock import holder_of

    holder = holder_of(config.station.database)
    if holder is None or holder.pid is None or holder.command != "run":
        print(
            f"warmline: no `warmline run` is using {config.station.database} → start the bot "
            "(systemctl start warmline); it reads the configuration as it starts",
            file=sys.stderr,
        )
        return 1
    try:
        os.kill(holder.pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"warmline: pid {holder.pid} is gone → start the bot again", file=sys.stderr)
        return 1
    except PermissionError:
        print(
            f"warmline: not allowed to signal pid {holder.pid} → run this as the bot's user "
            "(runuser -u warmline -- warmline reload …) or use systemctl reload warmline",
            file=sys.stderr,
        )
        return 1
    print(
        f"{config_path}: checked; asked the bot (pid {holder.pid}) to reload its configuration."
        " It tells the duty officers what changed, and its log says so too."
    )
    return 0


def check_database(config: Config, config_path: str, *, must_exist: bool = False) -> str:
    """What is at ``station.database`` (see ``inspect_path``); a :class:`ConfigError` naming
    the file, the key and the fix when the bot could not open it."""
    from bot.db.database import DatabasePathError, inspect_path

    try:
        return inspect_path(config.station.database, must_exist=must_exist)
    except DatabasePathError as exc:
        raise ConfigError(f"{config_path}: station.database: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from bot.sandbox.demo import run_demo  # local: only the demo needs it

        return run_demo(
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            database=args.db,
            drill=args.drill,
            open_browser=not args.no_browser,
            verbose=args.verbose,
        )
    try:
        config = load_config(args.config)
        if args.command in ("purge", "backup", "ledger-export", "export"):
            # These read the station's data: a missing file is a wrong path, not a new start.
            check_database(config, args.config, must_exist=True)
        if args.command == "purge":
            return _purge(config, args.before)
        if args.command == "backup":
            return _backup(config, Path(args.out))
        if args.command == "ledger-export":
            return _ledger_export(config, Path(args.out))
        if args.command == "export":
            return _export(config, args)
        if args.command == "leaflet":
            return _leaflet(config, Path(args.out))
        if args.command == "restore":
            return _restore(config, args.source)
        if args.command == "reload":
            return _reload(config, args.config)
        database_state = check_database(config, args.config)
        if args.command == "check-config":
            from bot.db.lock import holder_of

            holder = holder_of(config.station.database)
            if holder is not None:
                database_state += f"; in use by {holder.describe()}"
            print(describe(config, database_state=database_state))
            if not config.telegram.token:
                print("note: telegram.token is empty; set it or WARMLINE_TOKEN before `run`.")
            _warn_exposed_token(args.config)
            return 0
        require_token(config, args.config)
    except ConfigError as exc:
        print(f"warmline: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return _run(config, verbose=args.verbose, config_path=args.config)


def _warn_exposed_token(config_path: str) -> str | None:
    from bot.upkeep import exposed_token

    warning = exposed_token(config_path)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return warning


def _restore(config: Config, source: str) -> int:
    from bot.db.lock import DatabaseInUse
    from bot.upkeep import NotReady, in_use_fix, restore

    try:
        lines = restore(config.station.database, source, config.station.timezone)
    except NotReady as exc:
        print(f"warmline: restore: {exc}", file=sys.stderr)
        return 1
    except DatabaseInUse as exc:
        print(f"warmline: restore: {exc} → {in_use_fix('restore')}", file=sys.stderr)
        return EXIT_IN_USE
    except OSError as exc:
        print(f"warmline: restore: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _run(config: Config, *, verbose: bool, config_path: str) -> int:
    import logging

    from bot import lifecycle, logs
    from bot.app import build_application
    from bot.db.lock import DatabaseInUse, InstanceLock
    from bot.reload import Reloader
    from bot.upkeep import NotReady, in_use_fix, prepare_database

    try:
        logs.configure(
            "DEBUG" if verbose else config.logging.level,
            config.logging.file,
            config.station.timezone,
            config.telegram.token,
        )
    except logs.LogFileError as exc:
        print(f"warmline: logging.file: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    log = logging.getLogger("bot.cli")

    def refuse(message: str, status: int) -> int:
        print(f"warmline: {message}", file=sys.stderr)
        if config.logging.file:  # and where the operator reads the log
            log.error("%s", message)
        return status

    warning = _warn_exposed_token(config_path)
    if warning and config.logging.file:
        log.warning("%s", warning)
    try:
        lock = InstanceLock(config.station.database).acquire("run", config.station.timezone)
    except DatabaseInUse as exc:
        return refuse(f"{exc} → {in_use_fix('start this one')}", EXIT_IN_USE)
    except OSError as exc:
        return refuse(f"cannot lock the database ({exc})", EXIT_CONFIG)
    with lock:
        try:
            prepare_database(config.station.database)
        except NotReady as exc:
            return refuse(str(exc), EXIT_CONFIG)
        reloader = Reloader(config_path, config, build_application)
        return lifecycle.run(reloader=reloader, poll_timeout=config.telegram.poll_timeout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
