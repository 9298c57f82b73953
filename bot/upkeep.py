"""What ``warmline run`` checks and prepares before it starts, and ``warmline restore``.

* **The token on disk** (:func:`exposed_token`): a config file that holds the bot token and
  that other users may read is named, with the fix; ``check-config`` and ``run`` say so.
* **The database** (:func:`prepare_database`): its schema brought up to this warmline's
  (bot/db/database.py: one transaction, after a checked copy), or refused — newer than this
  warmline, or the upgrade failed — with the reason and the fix, before anything starts.
* **Restore** (:func:`restore`): a backup checked (whole, a warmline database, not newer than
  this warmline), the bot's lock taken (so the bot is not running, and cannot start halfway),
  the old database kept aside, the copy put in its place.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import stat
import tomllib
import zoneinfo
from pathlib import Path
from urllib.parse import quote

from bot.db import backups
from bot.db.database import (
    Database,
    SchemaTooNew,
    UpgradeFailed,
    latest_version,
    recorded_version,
    too_new,
)
from bot.db.lock import InstanceLock


def exposed_token(config_path: str | Path) -> str | None:
    """A warning if the file holds a bot token and its group or other permission bits are
    set; None otherwise (a token from WARMLINE_TOKEN only is not on this file)."""
    path = Path(config_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # load_config has said what is wrong with it
    telegram = data.get("telegram")
    token = telegram.get("token") if isinstance(telegram, dict) else None
    if not (isinstance(token, str) and token.strip()) or not mode & 0o077:
        return None
    return (
        f"{path} holds the bot token and other users of this machine can read it (mode "
        f"{stat.filemode(mode)}) → chmod 600 {path} (owned by the bot's user), or put the "
        "token in the environment variable WARMLINE_TOKEN instead"
    )


class NotReady(Exception):
    """The database cannot be used by this warmline; the message says why and what to do."""


def prepare_database(database: str) -> None:
    """Open the database once (migrating it, see :meth:`Database.migrate`) and close it."""

    async def open_and_close() -> None:
        db = await Database(database).open()
        await db.close()

    try:
        asyncio.run(open_and_close())
    except (SchemaTooNew, UpgradeFailed) as exc:
        raise NotReady(str(exc)) from None


def in_use_fix(command: str) -> str:
    return (
        f"stop it first (under systemd: systemctl stop warmline), then {command}; or point "
        "station.database at another file"
    )


def restore(database: str, source: str | Path, timezone: str) -> list[str]:
    """``warmline restore``: the lines to print. Raises :class:`NotReady` (refused, nothing
    changed) or :class:`DatabaseInUse`."""
    try:
        info = backups.check(source)
    except backups.BackupError as exc:
        raise NotReady(f"{exc} → name a backup file warmline made (nothing was changed)") from None
    if info.schema_version > latest_version():
        reason, fix = too_new(info.schema_version, _written_by(source))
        raise NotReady(f"{source}: {reason.replace('this database', 'this backup')} → {fix}")
    with InstanceLock(database).acquire("restore", timezone):
        stamp = dt.datetime.now(zoneinfo.ZoneInfo(timezone)).strftime("%Y%m%d-%H%M%S")
        try:
            done = backups.restore(database, source, stamp)
        except (backups.BackupError, sqlite3.Error) as exc:
            raise NotReady(f"{exc} (nothing was changed)") from None
    lines = [
        f"checked {source}: integrity ok, a warmline database (schema version "
        f"{info.schema_version}), {info.tips} tip(s)"
    ]
    if done.replaced:
        lines.append(
            "the database it replaces was kept as " + ", ".join(str(path) for path in done.replaced)
        )
    else:
        lines.append(f"there was no database at {database} before")
    lines.append(f"restored: {database} is now a copy of {source}")
    later = (
        f"; it is upgraded from schema version {info.schema_version} to {latest_version()} "
        "then (after a copy)"
        if info.schema_version < latest_version()
        else ""
    )
    lines.append(
        "start the bot (under systemd: systemctl start warmline); messages still waiting in "
        f"the copy's outbox are sent then{later}"
    )
    return lines


def _written_by(path: str | Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return recorded_version(conn)
    finally:
        conn.close()
