"""Heavy reads (the campaign's figures, exports) run on a read connection of their own
(``Database.analytics``), so a long report never holds up the bot's other reads.

A heavy statement is *held* here by a SQLite trace callback on the analytics connection that
waits on a ``threading.Event`` (it runs on that connection's thread when a statement starts,
before it reads anything): while it is held, ordinary reads, writes and a reporter's whole
flow must go on; once released, the figures must be right. No timings: every wait has a
generous limit only so that a failure ends instead of hanging.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
from pathlib import Path

import aiosqlite
import pytest

from bot.db.database import Database, to_db_time
from bot.domain.campaign import PeriodKey
from bot.views.stats import render_stats
from tests.harness import (
    G1_CHAT,
    OFFICER,
    REPORTER,
    WAIT_S,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    plain,
    submit_tip,
    tr,
    world,
)
from tests.test_campaign_stats import SHANGHAI, assert_period, insert_tip, recount, seed, service

pytestmark = [pytest.mark.usefixtures("clean_log")]

START = dt.datetime(2026, 11, 21, tzinfo=SHANGHAI)
END = dt.date(2027, 3, 15)
NOW = dt.datetime(2026, 12, 1, 21, 0, tzinfo=SHANGHAI)


class Gate:
    """Holds the first statement that starts on the connection it is installed on until
    :meth:`release` (later statements pass once it is released)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.statements: list[str] = []

    def _started(self, sql: str) -> None:  # on the connection's thread
        self.statements.append(sql)
        self.entered.set()
        self.released.wait()

    async def install(self, conn: aiosqlite.Connection) -> None:
        await conn.set_trace_callback(self._started)

    async def held(self) -> None:
        """Until a statement is held (it has started, nothing read yet)."""
        assert await asyncio.to_thread(self.entered.wait, WAIT_S), "no statement was held"

    def release(self) -> None:
        self.released.set()


async def within(awaitable):
    """``awaitable``'s result; a failure (not a timing) if it is still blocked after the
    harness's generous wait — i.e. it queued behind the held statement."""
    return await asyncio.wait_for(awaitable, WAIT_S)


async def add_reporter(tx) -> None:
    """User 1, whom :func:`insert_tip`'s tips are reported by."""
    await tx.execute(
        "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
        (to_db_time(NOW), to_db_time(NOW)),
    )


def expected_periods(path: Path) -> dict[PeriodKey, tuple[dict, int]]:
    today = NOW.date()
    spans = {
        PeriodKey.TODAY: (today, today, 2),
        PeriodKey.LAST_7_DAYS: (today - dt.timedelta(days=6), today, 14),
        PeriodKey.CAMPAIGN: (START.date(), today, 22),
    }
    return {k: (recount(path, SHANGHAI, a, b), req) for k, (a, b, req) in spans.items()}


async def test_a_held_report_holds_up_no_read_and_no_write(tmp_path: Path) -> None:
    """While the campaign's figures are held mid-way, an ordinary read answers, a write
    commits and a read sees it; released, the figures count the tip committed meanwhile
    (each statement reads committed data as it stands when it starts)."""
    path = tmp_path / "analytics.sqlite3"
    db = await Database(path).open()
    gate = Gate()
    try:
        await seed(db, 300, random.Random(18), START - dt.timedelta(days=2), 13)
        figures = service(db, SHANGHAI, START.date(), END, NOW)
        await gate.install(await db.analytics())
        report = asyncio.create_task(figures.figures())
        await gate.held()
        row = await within(db.fetchone("SELECT COUNT(*) AS n FROM tips"))
        assert row["n"] == 300
        async with asyncio.timeout(WAIT_S):
            async with db.write() as tx:  # a tip received today, while the report is held
                await insert_tip(tx, 301, NOW - dt.timedelta(hours=1), state="dispatched")
        row = await within(db.fetchone("SELECT code FROM tips WHERE id = 301"))
        assert row["code"] == "HS-0301"
        assert not report.done()
        assert len(gate.statements) == 1  # the ordinary reads did not go through it
        gate.release()
        got = await within(report)
    finally:
        gate.release()
        await db.close()
    for key, (expected, required) in expected_periods(path).items():
        assert_period(got[key], expected, required)  # tip 301 (today) counted in all three


async def test_a_held_stats_holds_up_no_reporter(tmp_path: Path) -> None:
    """An officer's /stats held on its first statement: a reporter's whole flow, from the
    location to the card in the group, goes through meanwhile; released, /stats answers
    with the figures as they stand (that tip counted)."""
    gate = Gate()
    async with world(tmp_path) as w:
        try:
            w.mark(OFFICER)
            w.emu.send_text(OFFICER, "/start")
            await w.next_bot(OFFICER)
            await gate.install(await w.station.db.analytics())
            w.mark(OFFICER)
            w.emu.send_text(OFFICER, "/stats")
            await gate.held()
            code = await within(submit_tip(w, REPORTER))
            await within(w.wait_card(G1_CHAT, code))
            assert [m for m in w.bot_msgs(OFFICER) if m.get("kind") == "photo"] == []
            head = tr("zh", "stats.head")
            assert not any(head in (m.get("text") or "") for m in w.bot_msgs(OFFICER))
            assert len(gate.statements) == 1  # the reporter's flow made no heavy read
        finally:
            gate.release()
        words = await w.next_bot(OFFICER, tr("zh", "stats.head"))
        await w.next_of_kind(OFFICER, "photo")
        now = render_stats(await w.services.campaign.figures(), "zh")
        assert words["text"] == plain(now)
        today = (await w.services.campaign.figures())[PeriodKey.TODAY]
        assert today.counts.received == 1


async def test_heavy_reads_see_committed_data_only(tmp_path: Path) -> None:
    """A heavy read beside an open write transaction sees what was committed, not the
    transaction's rows; inside the transaction (the same task) it sees them."""
    db = await Database(tmp_path / "a.sqlite3").open()
    try:
        async with db.write() as tx:
            await add_reporter(tx)
        writing, done = asyncio.Event(), asyncio.Event()

        async def writer() -> int:
            async with db.write() as tx:
                await insert_tip(tx, 1, NOW, state="dispatched")
                inside = await db.fetchone("SELECT COUNT(*) AS n FROM tips", heavy=True)
                writing.set()
                await done.wait()
            return inside["n"]

        task = asyncio.create_task(writer())
        await within(writing.wait())
        beside = await db.fetchone("SELECT COUNT(*) AS n FROM tips", heavy=True)
        done.set()
        assert (await within(task), beside["n"]) == (1, 0)
        after = await db.fetchall("SELECT code FROM tips", heavy=True)
        assert [r["code"] for r in after] == ["HS-0001"]
    finally:
        await db.close()


async def test_opened_on_first_heavy_read_and_closed_with_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up and ordinary reads open no analytics connection; the first heavy reads (two
    at once) open one; close() closes it; a closed database refuses heavy reads; a restart
    opens a new one that reads the same data."""
    path = tmp_path / "a.sqlite3"
    opened: list[aiosqlite.Connection] = []
    real = Database._open_reader

    async def counting(self: Database) -> aiosqlite.Connection:
        conn = await real(self)
        opened.append(conn)
        return conn

    monkeypatch.setattr(Database, "_open_reader", counting)
    db = await Database(path).open()
    assert len(opened) == 1  # the reader only
    await db.fetchall("SELECT * FROM tips")
    assert len(opened) == 1
    first, second = await asyncio.gather(
        db.fetchone("SELECT COUNT(*) AS n FROM tips", heavy=True),
        db.fetchall("PRAGMA query_only", heavy=True),
    )
    assert first["n"] == 0
    assert second[0][0] == 1  # read-only, as the reader
    assert len(opened) == 2
    analytics = opened[1]
    assert await db.analytics() is analytics
    rows = await analytics.execute_fetchall("PRAGMA foreign_keys")
    assert next(iter(rows))[0] == 1
    rows = await analytics.execute_fetchall("PRAGMA busy_timeout")
    assert next(iter(rows))[0] == 5000
    with pytest.raises(aiosqlite.OperationalError):  # query_only: it cannot write
        await analytics.execute("DELETE FROM tips")
    async with db.write() as tx:
        await add_reporter(tx)
        await insert_tip(tx, 1, NOW, state="dispatched")
    await db.close()
    with pytest.raises(ValueError):  # closed with the database
        await analytics.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="not open"):
        await db.fetchall("SELECT 1", heavy=True)
    await db.close()  # twice: nothing left to close

    never = await Database(path).open()  # opened and closed without a heavy read
    await never.close()
    assert len(opened) == 3

    again = await Database(path).open()  # a restart
    try:
        row = await again.fetchone("SELECT code FROM tips", heavy=True)
        assert row["code"] == "HS-0001"
        assert len(opened) == 5 and await again.analytics() is opened[4]
    finally:
        await again.close()


async def test_a_private_database_has_one_connection(tmp_path: Path) -> None:
    """In memory the reader is the writer: heavy reads use it too (nothing to share), and
    the figures are the same as on a file."""
    db = await Database(":memory:").open()
    try:
        assert await db.analytics() is db.conn
        await seed(db, 40, random.Random(3), START - dt.timedelta(days=2), 13)
        got = await service(db, SHANGHAI, START.date(), END, NOW).figures()
        assert await db.analytics() is db.conn
    finally:
        await db.close()
    file_db = await Database(tmp_path / "same.sqlite3").open()
    try:
        await seed(file_db, 40, random.Random(3), START - dt.timedelta(days=2), 13)
        on_file = await service(file_db, SHANGHAI, START.date(), END, NOW).figures()
    finally:
        await file_db.close()
    assert got == on_file
    assert got[PeriodKey.CAMPAIGN].counts.received > 0


async def test_closed_while_the_analytics_connection_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() while the first heavy read is opening its connection: that read is refused
    (the database is not open) and the connection it opened is closed, not left behind."""
    db = await Database(tmp_path / "a.sqlite3").open()
    opening, go_on = asyncio.Event(), asyncio.Event()
    opened: list[aiosqlite.Connection] = []
    real = Database._open_reader

    async def slow(self: Database) -> aiosqlite.Connection:
        opening.set()
        await go_on.wait()
        conn = await real(self)
        opened.append(conn)
        return conn

    monkeypatch.setattr(Database, "_open_reader", slow)
    read = asyncio.create_task(db.fetchall("SELECT 1", heavy=True))
    await within(opening.wait())
    await db.close()
    go_on.set()
    with pytest.raises(RuntimeError, match="not open"):
        await within(read)
    assert len(opened) == 1
    with pytest.raises(ValueError):  # closed again at once
        await opened[0].execute("SELECT 1")
