"""Administration: purging personal data, and backups taken while the bot writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

from bot.cli import main as cli_main
from bot.db.database import Database
from bot.db.repo import Repo
from bot.domain.draft import Draft
from bot.domain.rewards import PayMethod
from bot.domain.tips import Action, Outcome, People, Seen
from bot.services.maintenance import backup, purge
from tests.harness import G1_MEMBER, OFFICER, REPORTER, REPORTER_EN, STRANGER, World, world


async def submit(w: World, user: int, description: str, lat: float = 30.2) -> int:
    reports = w.services.reports
    draft = replace(
        Draft(user_id=user).with_location(lat, 115.04, None, "黄石站门口"),
        seen=Seen.NOW,
        people=People.ONE,
        description=description,
        photo_file_id="photo-file-id",
        photo_unique_id=f"u-{user}-{lat}",
    )
    await reports.save(draft)
    result = await reports.submit(user)
    assert result.value is not None
    return result.value.tip.id


async def close(w: World, tip_id: int, outcome: Outcome) -> None:
    field = w.services.field
    assert (await field.act(tip_id, Action.CLAIM, G1_MEMBER)).ok
    assert (await field.act(tip_id, Action.ARRIVE, G1_MEMBER)).ok
    assert (await field.act(tip_id, Action.CLOSE, G1_MEMBER, outcome=outcome)).ok


async def test_purge_removes_personal_data_and_keeps_statistics(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        repo = w.repo
        for user in (REPORTER, REPORTER_EN, STRANGER):  # they have talked to the bot
            w.mark(user)
            w.emu.send_text(user, "/help")
            await w.next_bot(user)
        done = await submit(w, REPORTER, "穿红外套的老人", 30.2000)
        owed = await submit(w, REPORTER_EN, "Thin jacket", 30.2100)
        paid = await submit(w, STRANGER, "蜷在长椅上", 30.2200)
        still_open = await submit(w, REPORTER, "桥洞下", 30.2300)
        await close(w, done, Outcome.NOT_FOUND)
        await close(w, owed, Outcome.HOSPITAL)  # reward pending: not paid yet
        await close(w, paid, Outcome.BROUGHT_IN)
        rewards = w.services.rewards
        reward = await repo.rewards.for_tip(paid)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        assert (await rewards.pay(reward.id, OFFICER, PayMethod.CASH, "R-1", 200)).ok
        async with w.station.db.write() as tx:
            await repo.people.set_phone(tx, STRANGER, "+8613800000009", w.clock())
        w.clock.advance(days=2)
        report = await purge(
            w.station.db,
            repo.maintenance,
            w.station.audit,
            w.station.clock,
            (w.clock() + dt.timedelta(days=1)).date(),
        )

        codes = await repo.tips.codes([done, owed, paid])
        assert sorted(report.purged) == sorted([codes[done], codes[paid]])
        assert report.refused_unpaid == [codes[owed]]
        for tip_id in (done, paid):
            tip = await repo.tips.get(tip_id)
            assert tip.description is None and tip.address is None
            assert await repo.media.of(tip_id) == []
            assert round(tip.lat, 2) == tip.lat  # coarse position only
            assert tip.outcome is not None and tip.district  # statistics stay
        kept = await repo.tips.get(owed)
        assert kept.description == "Thin jacket" and await repo.media.of(owed)
        assert (await repo.tips.get(still_open)).description == "桥洞下"
        # STRANGER has nothing left to keep: name, username and phone are gone.
        row = await w.station.db.fetchone(
            "SELECT first_name, username, phone FROM users WHERE user_id = ?", (STRANGER,)
        )
        assert tuple(row) == ("", None, None)
        # REPORTER still has an open tip: their details stay for now.
        row = await w.station.db.fetchone(
            "SELECT first_name FROM users WHERE user_id = ?", (REPORTER,)
        )
        assert row["first_name"]
        # The money trail is intact.
        assert [e["entry"] for e in await repo.ledger.entries() if e["tip_id"] == paid] == [
            "pending",
            "approved",
            "paid",
        ]
        assert any(e["action"] == "purge" for e in await repo.events.of())
        # Purging again finds nothing new.
        again = await purge(
            w.station.db,
            repo.maintenance,
            w.station.audit,
            w.station.clock,
            (w.clock() + dt.timedelta(days=1)).date(),
        )
        assert again.purged == [] and again.refused_unpaid == [codes[owed]]


async def test_purge_and_backup_commands(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip_id = await submit(w, REPORTER, "穿红外套的老人")
        await close(w, tip_id, Outcome.GONE)
        db_path = w.db_path
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[station]\ndatabase = "{db_path}"\n[[groups]]\nkey = "g1"\nname = "x"\n'
        f'chat_id = -1\nleader = 1\n[roster]\norder = ["g1"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "copy.sqlite3"
    assert await asyncio.to_thread(cli_main, ["backup", "-c", str(config), "--out", str(out)]) == 0
    assert await asyncio.to_thread(cli_main, ["backup", "-c", str(config), "--out", str(out)]) == 1
    assert (
        await asyncio.to_thread(cli_main, ["purge", "-c", str(config), "--before", "2099-01-01"])
        == 0
    )
    assert await asyncio.to_thread(cli_main, ["purge", "-c", str(config), "--before", "soon"]) == 2
    db = await Database(db_path).open()
    assert (await Repo.on(db).tips.get(tip_id)).description is None
    await db.close()
    db = await Database(out).open()  # the backup still has it
    assert (await Repo.on(db).tips.get(tip_id)).description == "穿红外套的老人"
    await db.close()


async def test_backup_while_tips_are_written_then_restore(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        stop = asyncio.Event()
        written: list[int] = []

        async def writer() -> None:
            user = 600000
            while not stop.is_set():
                user += 1
                w.emu.add_user(user, "测试", language_code="zh-hans")
                n = len(written)
                written.append(await submit(w, user, f"tip number {n}", 30.0 + n / 1000))

        task = asyncio.create_task(writer())
        await w.until(lambda: len(written) >= 20)
        copies = []
        for n in range(3):  # back up three times while the writer keeps going
            out = tmp_path / f"backup-{n}.sqlite3"
            count = await asyncio.to_thread(backup, w.db_path, out)
            copies.append((out, count))
        stop.set()
        await task
        total = len(written)
    assert all(0 < count <= total for _, count in copies)
    # Restore: the copy replaces the database file (bot stopped), and opens cleanly.
    restored = tmp_path / "restored.sqlite3"
    out, count = copies[-1]
    shutil.copyfile(out, restored)
    db = await Database(restored).open()
    repo = Repo.on(db)
    assert (await db.fetchone("PRAGMA integrity_check"))[0] == "ok"
    assert (await db.fetchone("SELECT COUNT(*) FROM tips"))[0] == count
    # Each tip in the copy came with its whole transaction: events and its card in the outbox.
    for tip_id in [row[0] for row in await db.fetchall("SELECT id FROM tips")]:
        actions = [e["action"] for e in await repo.events.of(tip_id)]
        assert actions[:2] == ["submit", "dispatch"]
        assert await db.fetchone(
            "SELECT 1 FROM outbox WHERE tip_id = ? AND kind = 'card'", (tip_id,)
        )
    await db.close()
