"""The SQLite database: one file, WAL, foreign keys, numbered migrations, one writer.

aiosqlite runs every call of a connection on one thread, but two coroutines that each open a
transaction on a shared connection would interleave their statements. :meth:`Database.write`
therefore hands out the writer connection under an asyncio lock for one whole transaction.

Reads go to a second connection, so they only ever see committed data (WAL lets it read while
the writer writes) — never another task's half-finished transaction. A read made *inside*
``write()`` (the same task, e.g. "what does the incident look like after this update?") uses
the writer connection, so it sees that transaction's own changes.

A third, synchronous connection serves :meth:`Database.write_one` (single hot statements, run
on the event loop's thread) — under the same lock, so there is still one writer at a time.

Heavy reads — per-tip analytics (the campaign's figures behind ``/stats``, the dashboard's
numbers and the summary's chart: seconds of SQL on a long campaign) and exports — ask for
``heavy=True`` and run on a read connection of their own, opened on first use: aiosqlite runs
one statement at a time per connection, so on the shared reader they would hold up every
other read of the bot (a reporter's next step, the duplicate lookup, a card) until done.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import aiosqlite

from bot.db import backups
from bot.version import VERSION

log = logging.getLogger(__name__)

#: While the current task is inside ``Database.write()``: what to run once it commits.
_IN_WRITE: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "warmline_in_write", default=None
)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

#: The ``settings`` key of the warmline version that last migrated the database.
WRITTEN_BY = "warmline_version"

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store aware UTC times only")
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT)


def from_db_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in ``bot/db/migrations``, in order."""
    found = []
    folder = resources.files("bot.db").joinpath("migrations")
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {versions}")
    return found


def latest_version() -> int:
    """The schema version this warmline's migrations lead to."""
    shipped = migrations()
    return shipped[-1][0] if shipped else 0


def too_new(version: int, written_by: str | None) -> tuple[str, str]:
    """(reason, fix) for a database whose schema is newer than this warmline knows."""
    by = f"warmline {written_by}" if written_by else "a newer warmline"
    reason = (
        f"this database was written by {by} (schema version {version}); this is warmline "
        f"{VERSION}, which knows schema versions up to {latest_version()}"
    )
    fix = (
        f"install warmline {written_by} or later" if written_by else "install a newer warmline"
    ) + "; the database was not changed"
    return reason, fix


class SchemaTooNew(Exception):
    """The database was migrated by a newer warmline: this one must not touch it."""

    def __init__(self, path: str, version: int, written_by: str | None) -> None:
        reason, fix = too_new(version, written_by)
        super().__init__(f"{path}: {reason} → {fix}")


class UpgradeFailed(Exception):
    """The migrations could not be applied; the database is as it was before."""


class Database:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._analytics: aiosqlite.Connection | None = None  # see analytics(); on first use
        self._analytics_opening: asyncio.Lock | None = None
        self._inline: sqlite3.Connection | None = None  # see write_one
        self._lock: asyncio.Lock | None = None  # created in open(), on the running loop

    async def open(self) -> Database:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted or overwritten content is zeroed, not left in free space: a claim secret
        # scrubbed from a delivered receipt must not stay readable in the file.
        await self._conn.execute("PRAGMA secure_delete=ON")
        if self.path == ":memory:":
            self._reader = self._conn  # one private database: nothing to share
        else:
            self._reader = await self._open_reader()
        self._lock = asyncio.Lock()
        self._analytics_opening = asyncio.Lock()
        try:
            await self.migrate()
        except BaseException:
            await self.close()
            raise
        if self.path != ":memory:":
            inline = sqlite3.connect(self.path, isolation_level=None)
            inline.row_factory = sqlite3.Row
            inline.execute("PRAGMA busy_timeout=20")  # then write_one takes the slow path
            inline.execute("PRAGMA synchronous=NORMAL")
            inline.execute("PRAGMA wal_autocheckpoint=0")
            inline.execute("PRAGMA secure_delete=ON")
            self._inline = inline
        return self

    async def _open_reader(self) -> aiosqlite.Connection:
        """A read-only connection: committed data only (WAL: beside the writer)."""
        reader = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            reader.row_factory = aiosqlite.Row
            await reader.execute("PRAGMA busy_timeout=5000")
            await reader.execute("PRAGMA foreign_keys=ON")
            await reader.execute("PRAGMA query_only=ON")
        except BaseException:
            await reader.close()
            raise
        return reader

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self._analytics is not None:
            analytics, self._analytics = self._analytics, None
            await analytics.close()
        if self._reader is not None and self._reader is not self._conn:
            await self._reader.close()
        self._reader = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def written_by(self) -> str | None:
        """The warmline version that last migrated this database (None: not recorded)."""
        try:
            row = await self.fetchone("SELECT value FROM settings WHERE key = ?", (WRITTEN_BY,))
        except sqlite3.OperationalError:  # no settings table (yet)
            return None
        return row["value"] if row else None

    async def migrate(self) -> int:
        """Bring the schema up to this warmline's; returns the version.

        Every migration newer than ``PRAGMA user_version`` is applied in **one** transaction,
        with the version that did it (``settings.warmline_version``): the database is either
        upgraded completely or not at all. An existing database is first copied, checked, to
        ``DATABASE.pre-VERSION.bak`` (bot/db/backups.py); no copy, no upgrade. A database
        newer than this warmline is refused (:class:`SchemaTooNew`) and not touched; a failed
        upgrade raises :class:`UpgradeFailed` saying where the copy is.
        """
        current = await self.version()
        latest = latest_version()
        if current > latest:
            raise SchemaTooNew(self.path, current, await self.written_by())
        pending = [m for m in migrations() if m[0] > current]
        if not pending:
            return current
        copy = None
        if current > 0 and self.path != ":memory:":
            try:
                copy = await asyncio.to_thread(
                    backups.pre_upgrade_backup, self.path, VERSION, current
                )
            except (OSError, sqlite3.Error, backups.BackupError) as exc:
                raise UpgradeFailed(
                    f"{self.path}: could not copy the database before upgrading it ({exc}) → "
                    "make room or let the bot's user write to the database's folder; the "
                    f"database was not changed (schema version {current})"
                ) from None
        step = ""
        try:
            async with self.write() as conn:
                for version, name, sql in pending:
                    step = f"migration {name}"
                    for statement in _split_sql(sql):
                        await conn.execute(statement)
                    await conn.execute(f"PRAGMA user_version = {version}")
                step = "recording the version"
                await conn.execute(
                    """INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
                       ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                           updated_at = excluded.updated_at""",
                    (WRITTEN_BY, VERSION, to_db_time(dt.datetime.now(dt.UTC))),
                )
            if copy is not None:
                log.info(
                    "database upgraded from schema version %s to %s; the copy from before is %s",
                    current,
                    latest,
                    copy,
                )
        except sqlite3.Error as exc:
            kept = f"; a copy made before the upgrade is at {copy}" if copy else ""
            raise UpgradeFailed(
                f"{self.path}: upgrading the database to warmline {VERSION} failed in {step} "
                f"({exc}); nothing was changed: the database is as it was (schema version "
                f"{current}){kept} → keep both files, run the warmline version you had before "
                "until this is fixed, and report it"
            ) from None
        return latest

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error).

        What :meth:`after_commit` registered during the transaction runs once it committed
        (never after a rollback)."""
        assert self._lock is not None, "database is not open"
        if _IN_WRITE.get() is not None:
            raise RuntimeError("nested write transaction: the write lock is not reentrant")
        committed: list[Callable[[], None]] = []
        async with self._lock:
            conn = self.conn
            token = _IN_WRITE.set(committed)
            try:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                else:
                    await conn.execute("COMMIT")
            finally:
                _IN_WRITE.reset(token)
        for callback in committed:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (once) when the current write transaction has committed; e.g. wake
        the outbox sender for the rows it queued. Only inside :meth:`write`."""
        pending = _IN_WRITE.get()
        if pending is None:
            raise RuntimeError("after_commit outside a write transaction")
        if callback not in pending:
            pending.append(callback)

    async def forget_old_pages(self) -> bool:
        """Copy the WAL into the database and empty it (``wal_checkpoint(TRUNCATE)``), so that
        earlier versions of changed pages — e.g. a receipt's row before its claim secret was
        scrubbed — are gone from the ``-wal`` file too. Best effort: False if a reader kept
        it from completing (the next call will)."""
        assert self._lock is not None, "database is not open"
        async with self._lock:
            rows = await self.conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = next(iter(rows), (0,))[0]
        return not busy

    async def write_one(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """One small statement as its own transaction, under the writer's lock; returns the
        rows of a ``RETURNING`` clause. For the hottest writes (the inbound journal: two per
        update).

        It runs inline, on the event loop's thread, through a synchronous connection of its
        own: a statement costs ~35 µs there, against ~110 µs of CPU for a round trip to
        aiosqlite's thread. The writer's lock keeps it from ever meeting a transaction of
        this process; if another process holds the database (a backup, a purge), it waits
        on the writer's thread instead, never blocking the loop. That connection never
        checkpoints (the writer's commits do), so no fsync happens on the loop either.
        """
        assert self._lock is not None, "database is not open"
        if _IN_WRITE.get() is not None:
            raise RuntimeError("write_one inside a write transaction: use that transaction")
        async with self._lock:
            if self._inline is not None:
                try:
                    return self._inline.execute(sql, params).fetchall()
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
            return list(await self.conn.execute_fetchall(sql, params))

    def _read_conn(self) -> aiosqlite.Connection:
        if _IN_WRITE.get() is not None:
            return self.conn
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    async def analytics(self) -> aiosqlite.Connection:
        """The connection of heavy reads (``heavy=True``): a read-only one of its own, opened
        on first use (start-up opens nothing more) and closed by :meth:`close`. Inside
        :meth:`write` it is the writer, as for every read; for a private (in-memory)
        database, whose reader is the writer, it is that one connection."""
        if _IN_WRITE.get() is not None or self._reader is self._conn:
            return self._read_conn()
        if self._analytics is None:
            if self._reader is None or self._analytics_opening is None:
                raise RuntimeError("database is not open")
            async with self._analytics_opening:  # two first heavy reads open one connection
                if self._analytics is None:
                    analytics = await self._open_reader()
                    if self._reader is None:  # closed while it was being opened
                        await analytics.close()
                        raise RuntimeError("database is not open")
                    self._analytics = analytics
        return self._analytics

    # Each read runs and finishes in one call on the connection's thread. A cursor left open
    # across an await (execute, then fetch later) keeps the reader's read transaction, and so
    # its snapshot, open while other tasks read: a task could then miss a row it had just
    # committed (seen under load: a submitted tip not found right after its commit).
    # ``heavy=True``: a per-tip analytics read or an export, on its own connection
    # (:meth:`analytics`) so that it never holds up the bot's other reads.
    async def fetchall(
        self, sql: str, params: tuple | dict = (), *, heavy: bool = False
    ) -> list[aiosqlite.Row]:
        conn = await self.analytics() if heavy else self._read_conn()
        return list(await conn.execute_fetchall(sql, params))

    async def fetchone(
        self, sql: str, params: tuple | dict = (), *, heavy: bool = False
    ) -> aiosqlite.Row | None:
        conn = await self.analytics() if heavy else self._read_conn()
        rows = await conn.execute_fetchall(sql, params)
        return next(iter(rows), None)


class DatabasePathError(Exception):
    """The database file cannot be used: ``reason`` and ``fix`` are for the operator."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason} → {fix}")
        self.reason = reason
        self.fix = fix


def inspect_path(path: str | Path, *, must_exist: bool = False) -> str:
    """Can the bot open (or create) its database at ``path``? Changes nothing.

    Returns what is there ("exists, schema version 6" or "does not exist yet: created on
    first start"); raises :class:`DatabasePathError` when opening it would fail: a folder, a
    file that is not a SQLite database, no permission to write the file or its folder (WAL
    keeps two files beside it), or — with ``must_exist`` — no file at all.
    """
    if str(path) == ":memory:":
        return "in memory: nothing is kept"
    path = Path(path)
    if path.is_dir():
        _raise(f"{path} is a folder", f"name a file in it, e.g. {path / 'warmline.sqlite3'}")
    if not path.exists():
        if must_exist:
            _raise(
                f"{path} does not exist",
                "check the path (a relative path is relative to the config file's folder)",
            )
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            _raise(
                f"{path} cannot be created: {folder} is not a folder the bot can write to",
                "create the folder and let the bot's user write to it, or choose another path",
            )
        return "does not exist yet: created on first start"
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        _raise(
            f"{path} is not writable (the file and its folder must be)",
            "let the bot's user read and write the file and its folder",
        )
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            written_by = recorded_version(conn) if version > latest_version() else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        _raise(
            f"{path} is not a warmline database (SQLite: {exc})",
            "point station.database at the right file, or move this file away",
        )
    if version > latest_version():
        _raise(*too_new(version, written_by))
    return f"exists, schema version {version}"


def recorded_version(conn: sqlite3.Connection) -> str | None:
    """The warmline version that last migrated the database open on ``conn`` (or None)."""
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (WRITTEN_BY,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _raise(reason: str, fix: str) -> NoReturn:
    raise DatabasePathError(reason, fix)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements; keeps ``BEGIN … END;`` trigger bodies whole."""
    statements: list[str] = []
    buffer: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            in_trigger = True
        if in_trigger:
            if upper.endswith("END;"):
                statements.append("\n".join(buffer))
                buffer, in_trigger = [], False
        elif stripped.endswith(";"):
            statements.append("\n".join(buffer))
            buffer = []
    if "".join(buffer).strip():
        statements.append("\n".join(buffer))
    return statements
