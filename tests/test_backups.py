"""Backups (issue 12, "On a server"): the daily online backup off the schedule ticker, checked,
with retention, officers told when it fails; ``warmline restore`` checks the file, refuses
while the bot runs, keeps the replaced database and says what it did.

All data are invented.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import backups
from bot.db.database import WRITTEN_BY, Database, latest_version
from bot.db.lock import InstanceLock
from tests.harness import OFFICER, REPORTER, World, submit_tip, world
from tests.test_startup import config_for


async def tips_in(path: Path) -> int:
    return await asyncio.to_thread(lambda: backups.check(path).tips)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def backup_rows(w: World) -> list[tuple[str, str]]:
    rows = await w.station.db.fetchall(
        "SELECT slot, detail FROM schedule_log WHERE kind = 'backup' ORDER BY slot"
    )
    return [(r["slot"], r["detail"]) for r in rows]


async def test_daily_backup_once_a_day_checked_with_retention(tmp_path: Path) -> None:
    folder = tmp_path / "backups"  # [backup] dir = "backups", beside the config file
    await asyncio.to_thread(folder.mkdir)
    others = ["notes.txt", "warmline-2026-11-01.sqlite3.keep", "mine-2026-11-01.sqlite3"]
    old = ["warmline-2026-11-10.sqlite3", "warmline-2026-11-16.sqlite3"]  # > 14 days old
    kept = ["warmline-2026-11-17.sqlite3", "warmline-2026-11-30.sqlite3"]  # 14 days, 1 day
    for name in (*others, *old, *kept):
        await asyncio.to_thread((folder / name).write_bytes, b"x")
    async with world(tmp_path) as w:
        await submit_tip(w, REPORTER)
        # 2026-12-01 21:00 station time: today's backup (04:00) is due.
        await w.services.schedules.tick()
        today = folder / "warmline-2026-12-01.sqlite3"
        assert await tips_in(today) == 1
        assert await asyncio.to_thread(names, folder) == sorted([*others, *kept, today.name])
        assert await backup_rows(w) == [("2026-12-01", "ok")]
        # Once a day: a later tick the same day does not copy again.
        await submit_tip(w, REPORTER)
        w.clock.advance(hours=2)  # 23:00
        await w.services.schedules.tick()
        assert await tips_in(today) == 1
        # The next day, not before its time (04:00 = 20:00 UTC)...
        w.clock.advance(hours=4, minutes=59)  # 03:59
        await w.services.schedules.tick()
        tomorrow = folder / "warmline-2026-12-02.sqlite3"
        assert not await asyncio.to_thread(tomorrow.exists)
        w.clock.advance(minutes=1)  # 04:00
        await w.services.schedules.tick()
        assert await tips_in(tomorrow) == 2
        assert "warmline-2026-11-17.sqlite3" not in await asyncio.to_thread(names, folder)
        assert await backup_rows(w) == [("2026-12-01", "ok"), ("2026-12-02", "ok")]
        assert await asyncio.to_thread(lambda: list(folder.glob("*.partial"))) == []


async def test_a_failed_backup_is_told_to_the_officers_once(tmp_path: Path) -> None:
    # "backups" is a file, so the folder cannot be made: as a full or read-only disk would.
    await asyncio.to_thread((tmp_path / "backups").write_text, "not a folder")
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        await w.idle()
        w.mark(OFFICER)
        await w.services.schedules.tick()
        told = await w.next_bot(OFFICER, "数据库自动备份没有成功")
        assert str(tmp_path / "backups") in told["text"] and "04:00" in told["text"]
        assert await backup_rows(w) == [("2026-12-01", "failed")]
        w.clock.advance(minutes=1)
        await w.services.schedules.tick()
        assert await w.quiet(OFFICER) == []  # once, not every tick


def corrupt(path: Path) -> None:
    """Overwrite a page in the middle of a database file."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff" * 4096)


async def make_database(path: Path, marker: str) -> None:
    db = await Database(path).open()
    async with db.write() as tx:
        for n in range(200):  # some pages, so that corrupting one hits the data
            await tx.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, '2026')",
                (f"filler-{n}", "x" * 200),
            )
        await tx.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('marker', ?, '2026')",
            (marker,),
        )
    await db.close()


def marker(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT value FROM settings WHERE key = 'marker'").fetchone()[0]


def test_a_copy_that_fails_its_check_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "broken.sqlite3"
    asyncio.run(make_database(source, "A"))
    corrupt(source)
    target = tmp_path / "copy.sqlite3"
    with pytest.raises(backups.BackupError):
        backups.online_copy(source, target)
    assert [name for name in names(tmp_path) if name.startswith("copy")] == []


# -- restore -----------------------------------------------------------------------------------


@pytest.fixture
def station(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(config file, its database holding "B", a backup holding "A")."""
    config = config_for(
        tmp_path / "etc", "http://127.0.0.1:9/bot", "http://127.0.0.1:9/file/bot", "1:TOKEN-x"
    )
    database = tmp_path / "etc" / "data" / "warmline.sqlite3"
    database.parent.mkdir()
    backup = tmp_path / "warmline-2026-12-01.sqlite3"
    asyncio.run(make_database(database, "A"))
    backups.online_copy(database, backup)

    async def change() -> None:  # the database moves on (and keeps a -wal beside it)
        db = await Database(database).open()
        async with db.write() as tx:
            await tx.execute("UPDATE settings SET value = 'B' WHERE key = 'marker'")
        await db.close()

    asyncio.run(change())
    assert marker(database) == "B"
    return config, database, backup


def test_restore_checks_replaces_and_keeps_the_old_database(
    station: tuple[Path, Path, Path], capsys: pytest.CaptureFixture
) -> None:
    config, database, backup = station
    assert main(["restore", "--from", str(backup), "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert marker(database) == "A"
    replaced = [p for p in database.parent.iterdir() if ".replaced-" in p.name]
    kept = next(p for p in replaced if p.name.count("-") == 2)  # not its -wal / -shm
    assert marker(kept) == "B"  # the replaced database opens as it was
    assert f"checked {backup}: integrity ok" in out and f"{kept}" in out
    assert f"restored: {database} is now a copy of {backup}" in out
    assert "systemctl start warmline" in out
    assert not list(database.parent.glob("*.restoring*"))


@pytest.mark.parametrize("kind", ["not_sqlite", "not_warmline", "newer", "corrupt", "missing"])
def test_restore_refuses_a_bad_file_and_changes_nothing(
    station: tuple[Path, Path, Path], kind: str, capsys: pytest.CaptureFixture
) -> None:
    config, database, backup = station
    bad = backup.parent / f"{kind}.sqlite3"
    if kind == "not_sqlite":
        bad.write_bytes(os.urandom(8192))
    elif kind == "not_warmline":
        with sqlite3.connect(bad) as conn:
            conn.execute("CREATE TABLE photos (id INTEGER)")
    elif kind == "newer":
        bad.write_bytes(backup.read_bytes())
        with sqlite3.connect(bad) as conn:
            conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
            conn.execute("UPDATE settings SET value = '9.9.0' WHERE key = ?", (WRITTEN_BY,))
    elif kind == "corrupt":
        bad.write_bytes(backup.read_bytes())
        corrupt(bad)
    before = sorted(p.name for p in database.parent.iterdir())
    assert main(["restore", "--from", str(bad), "-c", str(config)]) == 1
    err = capsys.readouterr().err
    expected = {
        "not_sqlite": "not a readable SQLite database",
        "not_warmline": "not a warmline database",
        "newer": "this backup was written by warmline 9.9.0",
        "corrupt": str(bad),
        "missing": "does not exist",
    }[kind]
    assert expected in err and "Traceback" not in err, err
    assert marker(database) == "B"
    assert sorted(p.name for p in database.parent.iterdir()) == before


def test_restore_refuses_while_the_database_is_in_use(
    station: tuple[Path, Path, Path], capsys: pytest.CaptureFixture
) -> None:
    config, database, backup = station
    with InstanceLock(database).acquire("run"):
        assert main(["restore", "--from", str(backup), "-c", str(config)]) == 3
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}, `warmline run`, started " in err
    assert "systemctl stop warmline" in err
    assert marker(database) == "B"
    # Released: now it goes through.
    assert main(["restore", "--from", str(backup), "-c", str(config)]) == 0
    assert marker(database) == "A"
