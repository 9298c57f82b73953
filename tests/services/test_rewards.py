"""The reward's life through the services alone (bot/services/awards.py, rewards.py): pending
when a tip is verified, the officer's decisions each with their ledger entry, the anonymous
claim at the counter."""

from __future__ import annotations

from pathlib import Path

from bot.domain.events import Act
from bot.domain.outbox import Keyboard, Notice
from bot.domain.rewards import MAX_SECRET_TRIES, LedgerEntry, PayMethod, RewardState
from bot.domain.tips import Outcome
from bot.services.result import Refusal
from tests.services.kit import G1_MEMBER, OFFICER, REPORTER, kit

SELF_APPROVAL = "\n[reward]\nallow_self_approval = false\n"  # (the default, said outright)


async def pending(k) -> int:
    tip = await k.report()
    await k.close(tip, Outcome.BROUGHT_IN)
    reward = await k.services.rewards.reward_of(tip.id)
    assert reward is not None and reward.state is RewardState.PENDING
    return reward.id


async def entries(k, reward_id: int) -> list[tuple[str, int]]:
    rows = await k.repo.ledger.entries()
    return [(e["entry"], e["amount"]) for e in rows if e["reward_id"] == reward_id]


async def test_approve_pay_reverse_each_with_its_ledger_entry(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        rewards = k.services.rewards
        reward_id = await pending(k)
        approved = await rewards.approve(reward_id, OFFICER)
        assert approved.ok and approved.value.state is RewardState.APPROVED  # type: ignore[union-attr]
        paid = await rewards.pay(reward_id, OFFICER, PayMethod.WECHAT, "WX-2026-0001", 200)
        assert paid.ok and paid.value.state is RewardState.PAID  # type: ignore[union-attr]
        assert paid.value.paid_amount == 200 and paid.value.reference == "WX-2026-0001"  # type: ignore[union-attr]
        reversed_ = await rewards.reverse(reward_id, OFFICER, "wrong account")
        assert reversed_.ok and reversed_.value.state is RewardState.APPROVED  # type: ignore[union-attr]
        assert reversed_.value.paid_amount is None  # type: ignore[union-attr]
        assert await entries(k, reward_id) == [
            (LedgerEntry.PENDING, 200),
            (LedgerEntry.APPROVED, 200),
            (LedgerEntry.PAID, 200),
            (LedgerEntry.REVERSAL, -200),
        ]
        told = await k.told(REPORTER)
        assert told[-3:] == ["reward.approved_anonymous", "reward.paid", "reward.reversed"]
        report = await rewards.ledger_report()
        assert report.movements["today"].paid == (1, 200)


async def test_an_anonymous_reporter_gets_the_share_phone_button(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        reward_id = await pending(k)
        assert (await k.services.rewards.approve(reward_id, OFFICER)).ok
        last = (await k.queued(REPORTER))[-1].message
        assert isinstance(last, Notice) and last.keyboard is Keyboard.SHARE_PHONE


async def test_with_a_phone_the_approval_says_transfer(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        reward_id = await pending(k)
        shared = await k.services.rewards.share_phone(REPORTER, "+8613800000000")
        assert [r.id for r in shared] == [reward_id]
        assert (await k.services.rewards.approve(reward_id, OFFICER)).ok
        assert (await k.told(REPORTER))[-1] == "reward.approved"
        viewed = await k.services.rewards.view_phone(reward_id, OFFICER)
        assert viewed.ok and viewed.value == "+8613800000000"
        reward = await k.services.rewards.reward(reward_id)
        assert reward is not None and await k.repo.events.has(reward.tip_id, Act.PHONE_VIEWED)


async def test_decisions_refused_and_recorded(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        rewards = k.services.rewards
        reward_id = await pending(k)
        assert (await rewards.approve(reward_id, G1_MEMBER)).refusal is Refusal.NOT_OFFICER
        assert (await rewards.approve(999, OFFICER)).refusal is Refusal.NO_REWARD
        # Paid before approval: the state machine says no.
        early = await rewards.pay(reward_id, OFFICER, PayMethod.CASH, "CASH-1", 200)
        assert early.refusal is Refusal.WRONG_STATE
        assert (await rewards.reject(reward_id, OFFICER, "   ")).refusal is Refusal.BAD_REASON
        assert (await rewards.approve(reward_id, OFFICER)).ok
        assert (await rewards.pay(reward_id, OFFICER, PayMethod.CASH, "", 200)).refusal is (
            Refusal.BAD_REFERENCE
        )
        assert (await rewards.pay(reward_id, OFFICER, PayMethod.CASH, "C-1", 0)).refusal is (
            Refusal.BAD_AMOUNT
        )
        assert (await rewards.reverse(reward_id, OFFICER, "x")).refusal is Refusal.WRONG_STATE
        reward = await rewards.reward(reward_id)
        assert reward is not None and reward.state is RewardState.APPROVED
        assert await entries(k, reward_id) == [
            (LedgerEntry.PENDING, 200),
            (LedgerEntry.APPROVED, 200),
        ]
        events = await k.repo.events.of(reward.tip_id)
        refusals = [e["action"] for e in events if e["action"].startswith("refused:")]
        assert "refused:reward_approve" in refusals and "refused:reward_pay" in refusals


async def test_self_approval_when_the_rules_forbid_it(tmp_path: Path) -> None:
    async with kit(tmp_path, extra=SELF_APPROVAL) as k:
        tip = await k.report()
        await k.close(tip, Outcome.BROUGHT_IN, by=OFFICER)  # the officer verified it
        reward = await k.services.rewards.reward_of(tip.id)
        assert reward is not None and reward.verified_by == OFFICER
        refused = await k.services.rewards.approve(reward.id, OFFICER)
        assert refused.refusal is Refusal.SELF_APPROVAL


async def test_the_anonymous_claim_counts_wrong_secrets_then_locks(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        rewards = k.services.rewards
        reward_id = await pending(k)
        reward = await rewards.reward(reward_id)
        assert reward is not None
        tip = await k.repo.tips.get(reward.tip_id)
        assert tip is not None
        # Not approved yet: refused before any secret is checked (no try used).
        early = await rewards.check_claim(tip, "WRONG1", OFFICER)
        assert early.refusal is Refusal.NOT_APPROVED
        assert (await rewards.approve(reward_id, OFFICER)).ok
        for left in range(MAX_SECRET_TRIES - 1, 0, -1):
            wrong = await rewards.check_claim(tip, "WRONG1", OFFICER)
            assert wrong.refusal is Refusal.WRONG_SECRET and wrong.value.tries_left == left  # type: ignore[union-attr]
        last = await rewards.check_claim(tip, "WRONG1", OFFICER)  # the last try locks it
        assert last.refusal is Refusal.LOCKED and last.value.tries_left == 0  # type: ignore[union-attr]
        locked = await rewards.check_claim(tip, "WRONG1", OFFICER)
        assert locked.refusal is Refusal.LOCKED
        assert (await rewards.reward(reward_id)).claim_tries == MAX_SECRET_TRIES  # type: ignore[union-attr]


async def test_the_right_secret_is_verified(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        rewards = k.services.rewards
        reward_id = await pending(k)
        assert (await rewards.approve(reward_id, OFFICER)).ok
        receipt = next(
            i.message
            for i in await k.queued(REPORTER)
            if isinstance(i.message, Notice) and i.message.secret
        )
        reward = await rewards.reward(reward_id)
        tip = await k.repo.tips.get(reward.tip_id)  # type: ignore[union-attr]
        ok = await rewards.check_claim(tip, receipt.secret, OFFICER)  # type: ignore[arg-type]
        assert ok.ok and ok.value.reward.claim_verified_by == OFFICER  # type: ignore[union-attr]
        assert (await rewards.check_claim(tip, receipt.secret, G1_MEMBER)).refusal is (  # type: ignore[arg-type]
            Refusal.NOT_OFFICER
        )
