"""A tip's life through the services alone (bot/services/tips.py, reports.py, field.py):
written once, changed by one operation, every change an event, a card refresh and a wake."""

from __future__ import annotations

from pathlib import Path

from bot.domain.events import Act
from bot.domain.outbox import CardEdit, CardPost, Kind, Notice
from bot.domain.tips import Action, Flag, Outcome, State
from bot.services.result import Refusal
from tests.services.kit import (
    G1_CHAT,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_MEMBER,
    OFFICER,
    REPORTER,
    STRANGER,
    keys_of,
    kit,
)


async def test_a_new_tip_is_written_once_complete(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        assert tip.code == "HS-0001"
        assert tip.state is State.DISPATCHED
        assert tip.dispatched_at == tip.created_at == k.clock()
        assert tip.group_key == "g1" and tip.version == 0
        events = await k.repo.events.of(tip.id)
        assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
            (Act.SUBMIT, None, State.NEW),
            (Action.DISPATCH, State.NEW, State.DISPATCHED),
        ]
        assert events[0]["actor_role"] == "reporter" and events[1]["actor_role"] == "system"
        # Its card for the on-duty group and the receipt, queued in the same transaction.
        cards = await k.queued(G1_CHAT)
        assert [type(i.message) for i in cards] == [CardPost]
        # ... the receipt carrying the way to add to the tip for a while: its words and its
        # button, in one message (the 📍 keyboard went with the place: nothing to remove).
        assert await k.told(REPORTER) == ["submit.received"]
        (receipt,) = [i.message for i in await k.queued(REPORTER)]
        assert isinstance(receipt, Notice)
        assert keys_of(receipt)[-1] == "amend.offer"
        assert receipt.amend_button and receipt.keyboard is None
        assert await k.repo.drafts.get(REPORTER) is None


async def test_codes_follow_each_other(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        first = await k.report()
        second = await k.report(user=502, where=(30.25, 115.10))
        assert (first.code, second.code) == ("HS-0001", "HS-0002")


async def test_an_urgent_tip_says_so_from_its_flags(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report(flags=frozenset({Flag.CHILD}))
        assert tip.urgent
        assert await k.told(REPORTER) == ["submit.received_urgent"]
        (receipt,) = [i.message for i in await k.queued(REPORTER)]
        assert isinstance(receipt, Notice) and keys_of(receipt)[-1] == "amend.offer"
        assert not (await k.report(user=502, where=(30.25, 115.10))).urgent


async def test_a_transition_writes_row_event_card_and_wakes_the_sender(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        woken: list[int] = []
        k.repo.outbox.listen(lambda: woken.append(1))
        before = len(await k.queued())
        result = await k.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)
        assert result.ok and result.value is not None
        claimed = result.value
        assert claimed.state is State.CLAIMED and claimed.claimed_by == G1_MEMBER
        assert claimed.version == tip.version + 1
        assert claimed == await k.repo.tips.get(tip.id)  # what it returns is what is stored
        last = (await k.repo.events.of(tip.id))[-1]
        assert (last["action"], last["from_state"], last["to_state"], last["actor_id"]) == (
            Action.CLAIM,
            State.DISPATCHED,
            State.CLAIMED,
            G1_MEMBER,
        )
        assert last["actor_role"] == "member"
        edits = [i for i in (await k.queued())[before:] if isinstance(i.message, CardEdit)]
        assert [(i.chat_id, i.tip_id) for i in edits] == [(None, tip.id)]  # every copy
        assert woken  # the commit woke the sender: nobody called wake()
        assert (await k.repo.tips.get(tip.id)).first_claimed_at == k.clock()  # type: ignore[union-attr]


async def test_the_second_of_two_claims_changes_nothing(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        assert (await k.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)).ok
        second = await k.services.field.act(tip.id, Action.CLAIM, G1_MEMBER2)
        assert second.refusal is Refusal.WRONG_STATE
        now = await k.repo.tips.get(tip.id)
        assert now is not None and now.claimed_by == G1_MEMBER and now.version == 1


async def test_a_stale_tip_loses_the_race(tmp_path: Path) -> None:
    """The compare-and-set: a transition from a tip read before someone else's change writes
    nothing (no row, no event, no card)."""
    async with kit(tmp_path) as k:
        tip = await k.report()
        assert (await k.services.field.act(tip.id, Action.CLAIM, G1_MEMBER)).ok
        events = len(await k.repo.events.of(tip.id))
        queued = len(await k.queued())
        actor = k.services.field.actor(tip, G1_MEMBER2)
        async with k.station.db.write() as tx:
            moved = await k.services.field.tips.transition(
                tx, tip, actor, Action.CLAIM, State.CLAIMED, {"claimed_by": G1_MEMBER2}, k.clock()
            )
        assert moved is None
        assert len(await k.repo.events.of(tip.id)) == events
        assert len(await k.queued()) == queued
        assert (await k.repo.tips.get(tip.id)).claimed_by == G1_MEMBER  # type: ignore[union-attr]


async def test_who_may_act(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        field = k.services.field
        stranger = await field.act(tip.id, Action.CLAIM, STRANGER)
        assert stranger.refusal is Refusal.NOT_ALLOWED
        other_group = await field.act(tip.id, Action.CLAIM, G2_MEMBER)
        assert other_group.refusal is Refusal.NOT_ALLOWED
        refusals = [e for e in await k.repo.events.of(tip.id) if e["action"] == "refused:claim"]
        assert [(e["actor_id"], e["actor_role"]) for e in refusals] == [
            (STRANGER, "stranger"),
            (G2_MEMBER, "stranger"),
        ]
        assert (await field.act(tip.id, Action.CLAIM, OFFICER)).ok  # an officer may


async def test_a_widened_tip_may_be_taken_by_any_group(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        async with k.station.db.write() as tx:
            await k.repo.tips.widen(tx, tip.id, k.clock())
        assert (await k.services.field.act(tip.id, Action.CLAIM, G2_MEMBER)).ok


async def test_closing_tells_the_reporter_and_weighs_the_reward(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        closed = await k.close(tip, Outcome.BROUGHT_IN)
        assert closed.state is State.CLOSED and closed.outcome is Outcome.BROUGHT_IN
        told = await k.told(REPORTER)
        assert told[-4:] == [
            "notice.claimed",
            "still.ask",  # issue 13: "can you still see the person?"
            "notice.closed_helped",
            "reward.pending",
        ]
        reward = await k.services.rewards.reward_of(tip.id)
        assert reward is not None and reward.verified_by == G1_MEMBER and reward.amount == 200


async def test_an_unverified_outcome_earns_nothing(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        await k.close(tip, Outcome.NOT_FOUND)
        assert await k.services.rewards.reward_of(tip.id) is None
        # … and asked whether they can add anything (issue 13: "not found" is not the end).
        assert (await k.told(REPORTER))[-2:] == ["notice.closed_not_found", "reopen.ask"]


async def test_a_second_reporter_of_one_incident_is_told_why_not(tmp_path: Path) -> None:
    """Two reporters, one person: the first report earns; the duplicate's reporter is told."""
    async with kit(tmp_path) as k:
        first = await k.report()
        k.clock.advance(minutes=5)
        second = await k.report(user=502)
        field = k.services.field
        for action in (Action.CLAIM, Action.ARRIVE):
            assert (await field.act(second.id, action, G1_MEMBER)).ok
        merged = await field.act(
            second.id, Action.CLOSE, G1_MEMBER, outcome=Outcome.DUPLICATE, duplicate_of=first.id
        )
        assert merged.ok
        await k.close(first, Outcome.BROUGHT_IN, by=G1_MEMBER2)
        assert (await k.services.rewards.reward_of(first.id)) is not None
        assert await k.services.rewards.reward_of(second.id) is None
        assert await k.repo.events.has(second.id, Act.REWARD_REFUSED)
        assert (await k.told(502))[-1] == "reward.none.duplicate"


async def test_a_duplicate_must_name_another_tip(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        field = k.services.field
        for action in (Action.CLAIM, Action.ARRIVE):
            assert (await field.act(tip.id, action, G1_MEMBER)).ok
        itself = await field.act(
            tip.id, Action.CLOSE, G1_MEMBER, outcome=Outcome.DUPLICATE, duplicate_of=tip.id
        )
        assert itself.refusal is Refusal.BAD_DUPLICATE
        missing = await field.act(
            tip.id, Action.CLOSE, G1_MEMBER, outcome=Outcome.DUPLICATE, duplicate_of=999
        )
        assert missing.refusal is Refusal.BAD_DUPLICATE
        assert (await k.repo.tips.get(tip.id)).state is State.ON_SCENE  # type: ignore[union-attr]


async def test_withdraw_only_until_claimed(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        first = await k.report()
        second = await k.report(user=REPORTER, where=(30.25, 115.10))
        reports = k.services.reports
        assert (await reports.withdraw(STRANGER, first.id)).refusal is Refusal.NOT_YOURS
        withdrawn = await reports.withdraw(REPORTER, first.id)
        assert withdrawn.ok and withdrawn.value.state is State.WITHDRAWN  # type: ignore[union-attr]
        assert (await k.services.field.act(second.id, Action.CLAIM, G1_MEMBER)).ok
        assert (await reports.withdraw(REPORTER, second.id)).refusal is Refusal.TOO_LATE


async def test_the_on_duty_group_gets_the_card(tmp_path: Path) -> None:
    """The roster decides: after the hand-over the next day the other group is on duty."""
    async with kit(tmp_path) as k:
        k.clock.advance(days=1)
        tip = await k.report()
        assert tip.group_key == "g2"
        assert [i.kind for i in await k.queued(G2_CHAT)] == [Kind.CARD]
        assert await k.queued(G1_CHAT) == []
