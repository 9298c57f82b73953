"""Upgrades (issue 12, "On a server"): the migrations of an upgrade run in one transaction
after a checked copy of the database (``<db>.pre-<version>.bak``); a database written by a
newer warmline is refused with the version to install; a failed upgrade leaves the copy and
the old database as they were, and the bot refuses to start saying so.

All data are invented.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot import logs
from bot.cli import main
from bot.db import backups
from bot.db import database as database_module
from bot.db.database import (
    WRITTEN_BY,
    Database,
    SchemaTooNew,
    UpgradeFailed,
    latest_version,
    migrations,
)
from bot.version import VERSION
from tests.startproc import TRACEBACK, base_env
from tests.test_startup import config_for, warmline_cli

SHIPPED = migrations()
LATEST = latest_version()
OLD = LATEST - 2  # a database two migrations behind this warmline


@pytest.fixture(autouse=True)
def restore_logging():
    """``main(["run", …])`` sets the root logger up as ``warmline run`` does; undo it."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if getattr(h, "_warmline", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name in (*logs.QUIET, *logs.DEBUG_ONLY):
        logging.getLogger(name).setLevel(logging.NOTSET)


def only(versions: int, extra: list[tuple[int, str, str]] = ()):
    """A ``migrations()`` that ships the first ``versions`` migrations (and ``extra``)."""
    return lambda: [*SHIPPED[:versions], *extra]


def schema(path: Path) -> tuple[int, set[str], str | None]:
    """(user_version, tables, recorded warmline version) of a database file."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        row = None
        if "settings" in tables:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (WRITTEN_BY,)).fetchone()
    return version, tables, row[0] if row else None


def old_database(path: Path, monkeypatch: pytest.MonkeyPatch, versions: int = OLD) -> None:
    """A database as an older warmline left it, with a tip-like row of data in it."""

    async def make() -> None:
        db = await Database(path).open()
        async with db.write() as tx:
            await tx.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ('marker', 'old data', "
                "'2026-12-01T00:00:00.000000Z')"
            )
        await db.close()

    with monkeypatch.context() as m:
        m.setattr(database_module, "migrations", only(versions))
        asyncio.run(make())


def open_and_close(path: Path) -> None:
    """What every start does first: open the database (migrating it) and close it."""

    async def go() -> None:
        db = await Database(path).open()
        await db.close()

    asyncio.run(go())


def marker(path: Path) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = 'marker'").fetchone()
    return row[0] if row else None


def test_upgrade_copies_first_then_migrates_and_records_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warmline.sqlite3"
    old_database(path, monkeypatch)
    assert schema(path)[0] == OLD

    open_and_close(path)

    version, _, written_by = schema(path)
    assert version == LATEST and written_by == VERSION and marker(path) == "old data"
    copy = Path(f"{path}.pre-{VERSION}.bak")
    info = backups.check(copy)  # whole, a warmline database, as it was before
    assert info.schema_version == OLD and marker(copy) == "old data"
    assert list(tmp_path.glob("*.partial")) == []
    # Nothing to migrate: no new copy.
    open_and_close(path)
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == [copy.name]


def test_a_new_database_needs_no_copy(tmp_path: Path) -> None:
    path = tmp_path / "warmline.sqlite3"
    open_and_close(path)
    assert schema(path)[0] == LATEST and schema(path)[2] == VERSION
    assert list(tmp_path.glob("*.bak")) == []


def test_a_second_upgrade_attempt_keeps_the_first_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warmline.sqlite3"
    old_database(path, monkeypatch)
    first = Path(f"{path}.pre-{VERSION}.bak")
    first.write_bytes(b"an earlier copy")  # e.g. from an attempt that failed
    open_and_close(path)
    assert first.read_bytes() == b"an earlier copy"
    assert backups.check(Path(f"{path}.pre-{VERSION}-2.bak")).schema_version == OLD


BROKEN = "CREATE TABLE broken_new (a INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"


def test_a_failed_migration_leaves_the_copy_and_the_old_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two migrations to apply, the second broken: neither is applied (one transaction)."""
    path = tmp_path / "warmline.sqlite3"
    old_database(path, monkeypatch, LATEST - 1)
    broken = [(LATEST + 1, f"{LATEST + 1:04d}_broken.sql", BROKEN)]
    monkeypatch.setattr(database_module, "migrations", only(LATEST, broken))

    with pytest.raises(UpgradeFailed) as raised:
        open_and_close(path)
    message = str(raised.value)
    copy = Path(f"{path}.pre-{VERSION}.bak")
    assert f"{LATEST + 1:04d}_broken.sql" in message and "no such table" in message
    assert str(copy) in message and "nothing was changed" in message

    version, tables, _ = schema(path)
    assert version == LATEST - 1  # not even the good migration before it
    assert "broken_new" not in tables and marker(path) == "old data"
    assert backups.check(copy).schema_version == LATEST - 1 and marker(copy) == "old data"
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def broken_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = [(LATEST + 1, f"{LATEST + 1:04d}_broken.sql", BROKEN)]
    monkeypatch.setattr(database_module, "migrations", only(LATEST, broken))


def test_run_refuses_to_start_after_a_failed_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``warmline run``: exit status 2 and the reason before anything starts (the Bot API is
    not even asked: nothing listens at its address); no traceback."""
    folder = tmp_path / "etc"
    config = config_for(
        folder, "http://127.0.0.1:9/bot", "http://127.0.0.1:9/file/bot", "123456:TOKEN-abc"
    )
    path = folder / "data" / "warmline.sqlite3"
    old_database(path, monkeypatch, LATEST)
    broken_shipped(monkeypatch)
    status = main(["run", "-c", str(config)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "upgrading the database" in err and "nothing was changed" in err
    assert "Traceback" not in err
    assert schema(path)[0] == LATEST and marker(path) == "old data"
    assert backups.check(Path(f"{path}.pre-{VERSION}.bak")).schema_version == LATEST


def test_no_upgrade_without_its_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "warmline.sqlite3"
    old_database(path, monkeypatch)

    def no_room(*args: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups, "pre_upgrade_backup", no_room)
    with pytest.raises(UpgradeFailed, match="could not copy the database before upgrading"):
        open_and_close(path)
    assert schema(path)[0] == OLD


def newer_database(path: Path, by: str | None = "9.9.0") -> None:
    """A database as a newer warmline (``by``; None: not recorded) left it."""

    async def make() -> None:
        db = await Database(path).open()
        async with db.write() as tx:
            if by is None:
                await tx.execute("DELETE FROM settings WHERE key = ?", (WRITTEN_BY,))
            else:
                await tx.execute("UPDATE settings SET value = ? WHERE key = ?", (by, WRITTEN_BY))
            await tx.execute(f"PRAGMA user_version = {LATEST + 3}")
        await db.close()

    asyncio.run(make())


def test_a_newer_database_is_refused_and_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "warmline.sqlite3"
    newer_database(path)
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as raised:
        open_and_close(path)
    message = str(raised.value)
    assert "this database was written by warmline 9.9.0" in message
    assert "install warmline 9.9.0 or later" in message
    assert f"this is warmline {VERSION}" in message
    assert path.read_bytes() == before and list(tmp_path.glob("*.bak")) == []
    unrecorded = tmp_path / "unrecorded.sqlite3"
    newer_database(unrecorded, by=None)
    with pytest.raises(SchemaTooNew, match="written by a newer warmline"):
        open_and_close(unrecorded)


def test_check_config_and_run_refuse_a_newer_database(tmp_path: Path) -> None:
    """As ``warmline`` is run: a process, exit status 2, the message, no traceback."""
    folder = tmp_path / "etc"
    config = config_for(
        folder, "http://127.0.0.1:9/bot", "http://127.0.0.1:9/file/bot", "123456:TOKEN-abc"
    )
    path = folder / "data" / "warmline.sqlite3"
    path.parent.mkdir()
    newer_database(path)
    for command in ("check-config", "run"):
        done = warmline_cli(command, "-c", config, cwd=tmp_path, env=base_env())
        assert done.returncode == 2, (command, done.stderr)
        assert "this database was written by warmline 9.9.0" in done.stderr
        assert "install warmline 9.9.0 or later" in done.stderr
        assert not TRACEBACK.search(done.stderr + done.stdout), done.stderr
    assert schema(path)[0] == LATEST + 3
