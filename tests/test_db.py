"""Storage: migrations, the append-only log, one writer, and races between two presses."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.db.database import Database, from_db_time, migrations, to_db_time
from bot.domain.tips import Action, Outcome, State
from bot.services.result import Refusal
from tests.services.kit import NOW, Kit, first_key, keys_of, kit


@pytest.fixture
async def deps(tmp_path: Path):
    async with kit(tmp_path) as k:
        yield k


async def submit_tip(deps: Kit, user_id: int = 501, lat: float = 30.2, lon: float = 115.04) -> int:
    return (await deps.report(user_id, (lat, lon))).id


async def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    shipped = migrations()
    assert [v for v, _, _ in shipped] == list(range(1, len(shipped) + 1))
    path = tmp_path / "m.sqlite3"
    db = await Database(path).open()
    assert await db.version() == len(shipped)
    await db.close()
    db = await Database(path).open()  # reopening applies nothing twice
    assert await db.version() == len(shipped)
    mode = await db.fetchone("PRAGMA journal_mode")
    fks = await db.fetchone("PRAGMA foreign_keys")
    assert mode[0] == "wal" and fks[0] == 1
    await db.close()


def test_times_round_trip_in_utc() -> None:
    local = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    text = to_db_time(local)
    assert text == "2026-12-01T13:00:00.000000Z"
    assert from_db_time(text) == local
    with pytest.raises(ValueError):
        to_db_time(dt.datetime(2026, 12, 1))


async def test_event_log_is_append_only(deps: Kit) -> None:
    tip_id = await submit_tip(deps)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        async with deps.station.db.write() as tx:
            await tx.execute("UPDATE events SET action = 'x' WHERE tip_id = ?", (tip_id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        async with deps.station.db.write() as tx:
            await tx.execute("DELETE FROM events")
    assert len(await deps.repo.events.of(tip_id)) == 2


async def test_submit_commits_tip_event_and_card_together(deps: Kit) -> None:
    tip_id = await submit_tip(deps)
    tip = await deps.repo.tips.get(tip_id)
    assert tip.state is State.DISPATCHED and tip.group_key == "g1"
    assert tip.code == "HS-0001"
    due = await deps.repo.outbox.due(NOW)
    # The reporter's receipt is written with the tip and its card (and goes first, carrying
    # the offer to add to the tip).
    assert [(i.kind, i.chat_id, i.tip_id) for i in due] == [
        ("notice", 501, tip_id),
        ("card", -1001, tip_id),
    ]
    assert first_key(due[0].message) == "submit.received"
    assert keys_of(due[0].message)[-1] == "amend.offer"
    assert await deps.repo.drafts.get(501) is None


async def test_a_persons_messages_go_in_order_whoever_sends_them(deps: Kit) -> None:
    # The receipt is sent at once by the reporter's handler (deliver_now), outside the chat's
    # lane; while it is in flight, what is written to them after it (here: the claim, at
    # once) must not be claimed by the lane (the offer to add, its own message then,
    # overtook the receipt under load, bench/latency.py). Groups are not held: a digest
    # claims several of a group's cards in one go.
    tip_id = await submit_tip(deps)
    outbox = deps.repo.outbox
    receipt, card = await outbox.due(NOW)
    assert (receipt.chat_id, card.chat_id) == (501, -1001)
    async with deps.station.db.write() as tx:
        assert await outbox.claim(tx, receipt.id)  # in flight
    assert (await deps.services.field.act(tip_id, Action.CLAIM, 12)).ok
    rows = await deps.station.db.fetchall(
        "SELECT id FROM outbox WHERE chat_id = 501 AND status = 'pending' ORDER BY id"
    )
    later = await outbox.item(rows[0]["id"])  # the first thing said to them after the receipt
    assert later is not None and first_key(later.message) == "notice.claimed"
    assert 501 not in {i.chat_id for i in await outbox.due(NOW)}  # what follows waits
    async with deps.station.db.write() as tx:
        assert await outbox.claim(tx, card.id)  # another chat: not held
    async with deps.station.db.write() as tx:
        assert not await outbox.claim(tx, later.id)  # a lane that fetched it earlier
    async with deps.station.db.write() as tx:
        await outbox.done(tx, receipt.id, NOW)
    assert later.id in [i.id for i in await outbox.due(NOW)]
    async with deps.station.db.write() as tx:
        assert await outbox.claim(tx, later.id)
    # A group's items are claimed together (a digest), even with an earlier one in flight.
    for user in (502, 503):
        await submit_tip(deps, user_id=user, lat=30.21 + user / 10_000)
    cards = [i for i in await outbox.due(NOW) if i.chat_id is not None and i.chat_id < 0]
    assert len(cards) == 2 and tip_id not in {i.tip_id for i in cards}
    async with deps.station.db.write() as tx:
        assert [await outbox.claim(tx, i.id) for i in cards] == [True, True]


async def test_a_failed_transaction_leaves_nothing(deps: Kit) -> None:
    with pytest.raises(RuntimeError):
        async with deps.station.db.write() as tx:
            await deps.repo.events.add(
                tx,
                tip_id=None,
                actor_id=1,
                actor_role="x",
                action="probe",
                from_state=None,
                to_state=None,
                now=NOW,
            )
            raise RuntimeError("boom")
    assert await deps.repo.events.of() == []


async def test_one_writer_at_a_time(deps: Kit) -> None:
    """Interleaved write transactions on one connection would fail; the lock serialises them."""

    async def writer(n: int) -> None:
        async with deps.station.db.write() as tx:
            await deps.repo.events.add(
                tx,
                tip_id=None,
                actor_id=n,
                actor_role="t",
                action="a",
                from_state=None,
                to_state=None,
                now=NOW,
            )
            await asyncio.sleep(0)  # yield inside the transaction
            await deps.repo.events.add(
                tx,
                tip_id=None,
                actor_id=n,
                actor_role="t",
                action="b",
                from_state=None,
                to_state=None,
                now=NOW,
            )

    await asyncio.gather(*(writer(n) for n in range(20)))
    events = await deps.repo.events.of()
    assert len(events) == 40
    # Each writer's two rows are adjacent: no transaction interleaved with another.
    for first, second in zip(events[::2], events[1::2], strict=True):
        assert first["actor_id"] == second["actor_id"]
        assert (first["action"], second["action"]) == ("a", "b")


async def test_two_members_claim_at_once_exactly_one_wins(deps: Kit) -> None:
    tip_id = await submit_tip(deps)
    field = deps.services.field
    results = await asyncio.gather(
        field.act(tip_id, Action.CLAIM, 12), field.act(tip_id, Action.CLAIM, 13)
    )
    winners = [r for r in results if r.ok]
    losers = [r for r in results if not r.ok]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].refusal in (Refusal.RACE, Refusal.WRONG_STATE)
    tip = await deps.repo.tips.get(tip_id)
    assert tip.claimed_by == winners[0].value.claimed_by
    claims = [e for e in await deps.repo.events.of(tip_id) if e["action"] == "claim"]
    assert len(claims) == 1


async def test_refusals_are_recorded_and_change_nothing(deps: Kit) -> None:
    tip_id = await submit_tip(deps)
    field = deps.services.field
    before = await deps.repo.tips.get(tip_id)
    result = await field.act(tip_id, Action.CLAIM, 22)  # member of the other group
    assert result.refusal is Refusal.NOT_ALLOWED
    result = await field.act(tip_id, Action.CLOSE, 99999, outcome=Outcome.INVALID)  # stranger
    assert result.refusal is Refusal.NOT_ALLOWED
    after = await deps.repo.tips.get(tip_id)
    assert after == before
    refused = [e for e in await deps.repo.events.of(tip_id) if e["action"].startswith("refused:")]
    assert [(e["actor_id"], e["action"], e["actor_role"]) for e in refused] == [
        (22, "refused:claim", "stranger"),
        (99999, "refused:close", "stranger"),
    ]


async def test_the_reporter_hears_about_the_first_claim_only(deps: Kit) -> None:
    tip_id = await submit_tip(deps)
    field = deps.services.field
    assert (await field.act(tip_id, Action.CLAIM, 12)).ok
    assert (await field.act(tip_id, Action.RELEASE, 12)).ok
    assert (await field.act(tip_id, Action.CLAIM, 13)).ok
    notices = [i for i in await deps.repo.outbox.due(NOW, 100) if i.kind == "notice"]
    # … and is asked "still there?" once (issue 13), not again at the re-claim.
    assert [first_key(n.message) for n in notices] == [
        "submit.received",  # carrying the offer to add
        "notice.claimed",
        "still.ask",
    ]
    assert {n.chat_id for n in notices} == {501}


async def test_duplicate_lookup_uses_radius_and_window(deps: Kit) -> None:
    first = await submit_tip(deps, 501, 30.2000, 115.0400)
    near = await submit_tip(deps, 502, 30.2010, 115.0400)  # ~111 m
    far = await submit_tip(deps, 503, 30.2100, 115.0400)  # ~1.1 km
    dispatch = {
        e["tip_id"]: e["detail"] for e in await deps.repo.events.of() if e["action"] == "dispatch"
    }
    assert f"[[{first}, 111]]" in dispatch[near]
    assert '"duplicates": []' in dispatch[far]


async def test_reads_never_see_another_tasks_unfinished_transaction(deps: Kit) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer() -> None:
        async with deps.station.db.write() as tx:
            await deps.repo.events.add(
                tx,
                tip_id=None,
                actor_id=1,
                actor_role="t",
                action="uncommitted",
                from_state=None,
                to_state=None,
                now=NOW,
            )
            # Inside the transaction its own change is visible…
            assert [e["action"] for e in await deps.repo.events.of()] == ["uncommitted"]
            inside.set()
            await release.wait()
            raise RuntimeError("roll it back")

    task = asyncio.create_task(slow_writer())
    await inside.wait()
    # …but not to anyone else while it is open,
    assert await deps.repo.events.of() == []
    release.set()
    with pytest.raises(RuntimeError):
        await task
    # and never, once rolled back.
    assert await deps.repo.events.of() == []


async def test_nested_write_is_refused_not_deadlocked(deps: Kit) -> None:
    with pytest.raises(RuntimeError, match="nested"):
        async with deps.station.db.write():
            async with deps.station.db.write():
                pass
