"""Copies of the database, one implementation for every use: ``warmline backup``, the daily
backup (bot/services/backups.py), the copy before an upgrade (bot/db/database.py) and
``warmline restore``. Files and SQLite only: when and why is the callers' business.

A copy is made with SQLite's online backup API, which is safe while the bot writes (it reads
one consistent snapshot), into ``NAME.partial``; it is
checked there (``PRAGMA integrity_check``, and that it is a warmline database), made one
self-contained file (no ``-wal`` beside it), flushed to disk and only then renamed to its
name — so a file with a backup's name is always a whole, checked copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

#: Tables every warmline database has (from migration 0001 on).
WARMLINE_TABLES = ("tips", "events", "outbox")
#: The daily backups' names; only files named so are ever deleted by :func:`prune`.
DAILY = re.compile(r"^warmline-(\d{4}-\d{2}-\d{2})\.sqlite3$")


class BackupError(Exception):
    """A copy that could not be made, or a file that is not a good warmline database."""


#: What a copy may fail with (no room, no permission, a bad file): callers catch these, so
#: that SQLite's own error type stays in bot/db.
COPY_ERRORS: tuple[type[Exception], ...] = (OSError, sqlite3.Error, BackupError)


@dataclass(frozen=True)
class CopyInfo:
    path: Path
    schema_version: int
    tips: int


def _inspect(conn: sqlite3.Connection, path: Path) -> CopyInfo:
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{path} failed its integrity check: {check}")
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version < 1 or not set(WARMLINE_TABLES) <= tables:
            raise BackupError(f"{path} is a SQLite database but not a warmline database")
        tips = int(conn.execute("SELECT COUNT(*) FROM tips").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    return CopyInfo(path, version, tips)


def check(path: str | Path) -> CopyInfo:
    """Is ``path`` a whole warmline database? Its schema version and tip count; else
    :class:`BackupError` saying what is wrong. Changes nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened ({exc})") from None
    try:
        return _inspect(conn, path)
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def online_copy(source: str | Path, target: str | Path, *, overwrite: bool = False) -> CopyInfo:
    """Copy the database ``source`` (live or not) to ``target``, checked (see the module's
    docstring). An existing ``target`` is an error unless ``overwrite``."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose a new file name")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True, timeout=30)
        try:
            dest = sqlite3.connect(partial)
            try:
                # One step: a read transaction on the source's snapshot for the whole copy.
                # In WAL mode it does not hold up the bot's writes; copied in small steps, a
                # busy bot's writes would restart the copy again and again.
                src.backup(dest, pages=-1)
                info = _inspect(dest, target)
                dest.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            finally:
                dest.close()
        finally:
            src.close()
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return info


def pre_upgrade_backup(database: str | Path, version: str, schema_version: int) -> Path:
    """``DATABASE.pre-VERSION.bak`` (VERSION: the warmline about to upgrade it), checked to hold
    ``schema_version``; an earlier copy of that name is kept (``.pre-VERSION-2.bak`` then)."""
    target = Path(f"{database}.pre-{version}.bak")
    n = 1
    while target.exists():
        n += 1
        target = Path(f"{database}.pre-{version}-{n}.bak")
    info = online_copy(database, target)
    if info.schema_version != schema_version:
        raise BackupError(
            f"{target} holds schema version {info.schema_version}, not {schema_version}"
        )
    return target


# -- the daily backups -------------------------------------------------------------------------


def daily_path(folder: str | Path, day: dt.date) -> Path:
    return Path(folder) / f"warmline-{day.isoformat()}.sqlite3"


def prune(folder: str | Path, keep_days: int, today: dt.date) -> list[Path]:
    """Delete the daily backups in ``folder`` more than ``keep_days`` days older than
    ``today`` (by the day in their name); other files are never touched. The deleted files."""
    deleted = []
    with contextlib.suppress(FileNotFoundError):
        for entry in sorted(Path(folder).iterdir()):
            match = DAILY.match(entry.name)
            if not match or not entry.is_file():
                continue
            try:
                day = dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
            if (today - day).days > keep_days:
                entry.unlink()
                deleted.append(entry)
    return deleted


# -- restore -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    restored: CopyInfo  # what is at the database's path now
    source: Path
    replaced: list[Path]  # the files the database had, moved aside (database, -wal, -shm)


def restore(database: str | Path, source: str | Path, stamp: str) -> Restored:
    """Put a copy of ``source`` at ``database``; the files there before are renamed to
    ``DATABASE.replaced-STAMP`` (with their ``-wal`` and ``-shm``, so the old database opens
    as it was). The caller has checked ``source`` and holds the database's lock."""
    database, source = Path(database), Path(source)
    if database.exists() and source.resolve() == database.resolve():
        raise BackupError(f"{source} is the database itself; name a backup file")
    incoming = Path(f"{database}.restoring")
    info = online_copy(source, incoming, overwrite=True)  # the database untouched so far
    if database.exists():  # the new file gets the old one's owner (root restoring) and mode
        st = database.stat()
        if os.geteuid() == 0:
            os.chown(incoming, st.st_uid, st.st_gid)
        os.chmod(incoming, st.st_mode & 0o777)
    aside = Path(f"{database}.replaced-{stamp}")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{database}{suffix}")
        if old.exists():
            new = Path(f"{aside}{suffix}")
            os.rename(old, new)
            moved.append(new)
    os.replace(incoming, database)
    _fsync(database.parent)
    return Restored(replace(info, path=database), source, moved)
