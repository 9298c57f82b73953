"""Rewards: the duty officer's decisions — approve, reject, record a payment, reverse it, check
an anonymous claim — each with its ledger entry; the reporter's phone (payment only). (Who
earns one: bot/services/awards.py; the typed answers that lead to a decision: answers.py.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import replay
from bot.config import CampaignConfig, RewardConfig
from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.messages import MediaStore
from bot.db.people import PeopleStore
from bot.db.rewards import LedgerStore, RewardStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.events import Act, Attempt
from bot.domain.outbox import Keyboard, Msg
from bot.domain.rewards import (
    MAX_SECRET_TRIES,
    REASON_MAX,
    Campaign,
    LedgerEntry,
    LedgerReport,
    PayMethod,
    Reward,
    RewardAction,
    RewardState,
    decide_reward,
    ledger_periods,
    movements_from_sums,
    secret_matches,
    state_totals,
    valid_reason,
    valid_reference,
)
from bot.domain.tips import Role, Tip
from bot.i18n import keys
from bot.services.audit import Audit
from bot.services.awards import log_reward, reward_role
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.people import Naming, Person
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, from_domain, refused

#: The refused attempt each decision records.
_ATTEMPT = {
    RewardAction.APPROVE: Attempt.REWARD_APPROVE,
    RewardAction.REJECT: Attempt.REWARD_REJECT,
    RewardAction.PAY: Attempt.REWARD_PAY,
}
_EVENT = {
    RewardAction.APPROVE: Act.REWARD_APPROVE,
    RewardAction.REJECT: Act.REWARD_REJECT,
    RewardAction.PAY: Act.REWARD_PAY,
}
_ENTRY = {
    RewardAction.APPROVE: LedgerEntry.APPROVED,
    RewardAction.REJECT: LedgerEntry.REJECTED,
    RewardAction.PAY: LedgerEntry.PAID,
}


@dataclass(frozen=True)
class RewardLine:
    """One row of /rewards: the reward and what the officer needs to judge it."""

    reward: Reward
    tip: Tip
    verifier: Person | None  # who recorded the outcome (named by name or role, never an id)
    evidence: int
    has_phone: bool


@dataclass(frozen=True)
class Claim:
    """An anonymous claim at the counter: the reward, and the wrong tries still allowed."""

    reward: Reward | None
    tries_left: int


class RewardService:
    def __init__(
        self,
        db: Database,
        rewards: RewardStore,
        ledger: LedgerStore,
        tips: TipStore,
        media: MediaStore,
        people: PeopleStore,
        events: EventStore,
        notifier: Notifier,
        naming: Naming,
        audit: Audit,
        reach: Reach,
        clock: StationClock,
        reward: RewardConfig,
        campaign: CampaignConfig,
        hotline: str,
    ) -> None:
        self.db = db
        self.rewards = rewards
        self.ledger = ledger
        self.tips = tips
        self.media = media
        self.people = people
        self.events = events
        self.notifier = notifier
        self.naming = naming
        self.audit = audit
        self.reach = reach
        self.clock = clock
        self.config = reward
        self.campaign = Campaign(campaign.start, campaign.end)
        self.hotline = hotline

    # -- what the officer looks at ----------------------------------------------------------
    async def reward(self, reward_id: int) -> Reward | None:
        return await self.rewards.get(reward_id)

    async def reward_of(self, tip_id: int) -> Reward | None:
        return await self.rewards.for_tip(tip_id)

    async def code(self, reward: Reward) -> str:
        """The code of the reward's tip."""
        return (await self.tips.codes([reward.tip_id]))[reward.tip_id]

    async def pending_lines(self) -> list[RewardLine]:
        rewards = await self.rewards.in_states((RewardState.PENDING, RewardState.APPROVED))
        named = await self.naming.people(r.verified_by for r in rewards)
        lines = []
        for reward in rewards:
            tip = await self.tips.get(reward.tip_id)
            assert tip is not None
            lines.append(
                RewardLine(
                    reward=reward,
                    tip=tip,
                    verifier=named.get(reward.verified_by) if reward.verified_by else None,
                    evidence=await self.media.evidence_count(tip.id),
                    has_phone=bool(await self.people.phone(reward.reporter_id)),
                )
            )
        return lines

    # -- the officer's decisions ------------------------------------------------------------
    async def approve(self, reward_id: int, officer: int) -> Result[Reward]:
        return await self._move(reward_id, officer, RewardAction.APPROVE)

    async def reject(self, reward_id: int, officer: int, reason: str) -> Result[Reward]:
        cleaned = valid_reason(reason)
        if cleaned is None:
            return await self.refuse(reward_id, officer, Attempt.REWARD_REJECT, Refusal.BAD_REASON)
        return await self._move(reward_id, officer, RewardAction.REJECT, reason=cleaned)

    async def pay(
        self, reward_id: int, officer: int, method: PayMethod, reference: str, amount: int | None
    ) -> Result[Reward]:
        ref = valid_reference(reference)
        if ref is None:
            return await self.refuse(reward_id, officer, Attempt.REWARD_PAY, Refusal.BAD_REFERENCE)
        if amount is None or amount <= 0:
            return await self.refuse(reward_id, officer, Attempt.REWARD_PAY, Refusal.BAD_AMOUNT)
        return await self._move(
            reward_id, officer, RewardAction.PAY, method=method, reference=ref, amount=amount
        )

    async def precheck(self, reward: Reward, officer: int, action: RewardAction) -> Result[Reward]:
        """Before asking for a reason, a method or a reference: would ``action`` be allowed
        now? A press that no longer fits (already paid, rejected…) is refused at once and
        recorded like the action itself would be."""
        _, refusal = self._decide(reward, officer, action)
        if refusal is None:
            return done(reward)
        return await self.refuse(reward.id, officer, _ATTEMPT[action], refusal, reward)

    def _decide(self, reward: Reward, officer: int, action: RewardAction):
        target, refusal = decide_reward(
            action,
            reward.state,
            is_officer=self.reach.directory.is_officer(officer),
            actor_id=officer,
            verified_by=reward.verified_by,
            allow_self_approval=self.config.allow_self_approval,
        )
        return target, from_domain(refusal) if refusal is not None else None

    async def _move(
        self,
        reward_id: int,
        officer: int,
        action: RewardAction,
        *,
        reason: str | None = None,
        method: PayMethod | None = None,
        reference: str | None = None,
        amount: int | None = None,
    ) -> Result[Reward]:
        reward = await self.rewards.get(reward_id)
        if reward is None:
            return await self.refuse(None, officer, _ATTEMPT[action], Refusal.NO_REWARD)
        target, refusal = self._decide(reward, officer, action)
        if refusal is not None:
            return await self.refuse(reward.id, officer, _ATTEMPT[action], refusal, reward)
        assert target is not None
        now = self.clock.now()
        changes: dict[str, Any]
        if action is RewardAction.APPROVE:
            changes = {"approved_by": officer, "approved_at": now}
        elif action is RewardAction.REJECT:
            changes = {"rejected_by": officer, "rejected_at": now, "reject_reason": reason}
        else:
            changes = {
                "paid_by": officer,
                "paid_at": now,
                "paid_amount": amount,
                "method": method.value if method else None,
                "reference": reference,
            }
        detail = {
            k: v
            for k, v in (
                ("reason", reason),
                ("method", method.value if method else None),
                ("amount", amount),
            )
            if v is not None
        }
        async with self.db.write() as tx:
            if not await self._change(
                tx,
                reward,
                officer,
                _EVENT[action],
                changes,
                now,
                target=target,
                entry=_ENTRY[action],
                amount=amount,
                detail=detail,
                method=method.value if method else None,
                reference=reference,
                reason=reason,
            ):
                # Another officer got there first (e.g. two "paid" presses at the same moment).
                return refused(Refusal.WRONG_STATE, await self.rewards.get(reward.id))
            code = await self.code(reward)
            if action is RewardAction.APPROVE:
                # Say what happens next, as it is: a transfer to the number they gave, or
                # (anonymous) the two ways to receive it — never "it will be paid" alone.
                has_phone = bool(await self.people.phone(reward.reporter_id))
                has_secret = (await self.tips.claim_secret(reward.tip_id))[1] is not None
                if has_phone:
                    key = "reward.approved"
                elif has_secret:
                    key = "reward.approved_anonymous"
                else:  # no claim secret was given: /mytips gives one
                    key = "reward.approved_anonymous_no_secret"
                text = Msg(key, {"code": code, "amount": reward.amount})
                keyboard = None if has_phone else Keyboard.SHARE_PHONE
            elif action is RewardAction.REJECT:
                text = Msg("reward.rejected", {"code": code, "reason": reason})
                keyboard = None
            else:
                text = Msg(
                    "reward.paid",
                    {
                        "code": code,
                        "amount": amount,
                        "date": self.clock.local(now).strftime("%Y-%m-%d"),
                        "method": Msg(keys.PAY[method or PayMethod.CASH]),
                    },
                )
                keyboard = None
            await self.notifier.tell(
                tx, reward.reporter_id, text, tip_id=reward.tip_id, keyboard=keyboard, now=now
            )
        return done(await self.rewards.get(reward.id))

    async def reverse(self, reward_id: int, officer: int, reason: str) -> Result[Reward]:
        """Take back a recorded payment (wrong amount, wrong account…): a reversing entry."""
        reward = await self.rewards.get(reward_id)
        reason = " ".join(reason.split())
        if reward is None:
            return refused(Refusal.NO_REWARD)
        if not self.reach.directory.is_officer(officer):
            return await self.refuse(
                reward.id, officer, Attempt.REWARD_REVERSE, Refusal.NOT_OFFICER, reward
            )
        if not reason or len(reason) > REASON_MAX:
            return refused(Refusal.BAD_REASON, reward)
        if reward.state is not RewardState.PAID:
            return refused(Refusal.WRONG_STATE, reward)
        paid = await self.ledger.last(reward.id, LedgerEntry.PAID)
        assert paid is not None
        now = self.clock.now()
        cleared = {k: None for k in ("paid_by", "paid_at", "paid_amount", "method", "reference")}
        async with self.db.write() as tx:
            if not await self._change(
                tx,
                reward,
                officer,
                Act.REWARD_REVERSE,
                cleared,
                now,
                target=RewardState.APPROVED,
                entry=LedgerEntry.REVERSAL,
                amount=-int(paid["amount"]),
                detail={"reason": reason},
                reason=reason,
                reverses=int(paid["id"]),
                method=paid["method"],
                reference=paid["reference"],
            ):
                return refused(Refusal.WRONG_STATE, await self.rewards.get(reward.id))
            # They were told it was paid: that is no longer what the record says. (The
            # officer's reason is for the ledger; it is not passed on.)
            text = Msg(
                "reward.reversed", {"code": await self.code(reward), "hotline": self.hotline}
            )
            await self.notifier.tell(tx, reward.reporter_id, text, tip_id=reward.tip_id, now=now)
        return done(await self.rewards.get(reward.id))

    # -- anonymous claims -------------------------------------------------------------------
    async def check_claim(self, tip: Tip, secret: str, officer: int) -> Result[Claim]:
        """Check a claim secret read out at the counter: the reward and the tries left, or
        why it cannot be paid now."""
        if not self.reach.directory.is_officer(officer):
            await self.audit.refused(officer, Attempt.REWARD_CLAIM, reason=Refusal.NOT_OFFICER)
            return refused(Refusal.NOT_OFFICER, Claim(None, 0))
        reward = await self.rewards.for_tip(tip.id)
        # Anything but an approved, unlocked reward is refused at once, saying why, before
        # the secret is checked: nothing to pay now, and no try is used up.
        if reward is None:
            return refused(Refusal.NO_REWARD, Claim(None, 0))
        for refusal, applies in (
            (Refusal.PAID, reward.state is RewardState.PAID),
            (Refusal.REJECTED, reward.state is RewardState.REJECTED),
            (Refusal.LOCKED, reward.claim_locked),
            (Refusal.NOT_APPROVED, reward.state is RewardState.PENDING),
        ):
            if applies:
                return refused(refusal, Claim(reward, 0))
        salt, digest = await self.tips.claim_secret(tip.id)
        now = self.clock.now()
        if salt and digest and secret_matches(secret, salt, digest):
            async with self.db.write() as tx:
                verified = {"claim_verified_by": officer, "claim_verified_at": now}
                await self._claim_attempt(tx, reward, officer, Act.REWARD_CLAIM_OK, verified, now)
            return done(Claim(await self.rewards.get(reward.id), MAX_SECRET_TRIES))
        if replay.applied("claim_attempt") is not None:
            # A replay after a crash: this wrong secret was counted already (not twice).
            left = MAX_SECRET_TRIES - reward.claim_tries
            return refused(Refusal.WRONG_SECRET, Claim(reward, left))
        tries = reward.claim_tries + 1
        locked = tries >= MAX_SECRET_TRIES
        async with self.db.write() as tx:
            counted = {"claim_tries": tries, "claim_locked": int(locked)}
            await self._claim_attempt(
                tx, reward, officer, Act.REWARD_CLAIM_WRONG, counted, now, {"tries": tries}
            )
            await replay.record(tx, "claim_attempt", reward.id)
            if locked:
                await self.notifier.tell_officers(
                    tx, Msg("reward.claim_locked", {"code": tip.code}), tip_id=tip.id, now=now
                )
        why = Refusal.LOCKED if locked else Refusal.WRONG_SECRET
        return refused(why, Claim(reward, MAX_SECRET_TRIES - tries))

    # -- the reporter's phone number (payment only) -----------------------------------------
    async def share_phone(self, user_id: int, phone: str) -> list[Reward]:
        """Store a reporter's own number only if they have a reward waiting; returns those."""
        waiting = [
            r
            for r in await self.rewards.of_reporter(user_id)
            if r.state in (RewardState.PENDING, RewardState.APPROVED)
        ]
        if not waiting:
            return []
        now = self.clock.now()
        cleaned = "".join(ch for ch in phone if ch.isdigit() or ch == "+")[:20]
        role = reward_role(self.reach.directory, user_id)
        async with self.db.write() as tx:
            await self.people.set_phone(tx, user_id, cleaned, now)
            for reward in waiting:
                await log_reward(
                    self.events, tx, reward, user_id, role, Act.PHONE_SHARED, None, None, now
                )
        return waiting

    async def view_phone(self, reward_id: int, officer: int) -> Result[str]:
        """Officers only; every view is written to the event log."""
        reward = await self.rewards.get(reward_id)
        if reward is None:
            return refused(Refusal.NO_REWARD)
        if not self.reach.directory.is_officer(officer):
            await self.refuse(reward.id, officer, Attempt.PHONE_VIEW, Refusal.NOT_OFFICER)
            return refused(Refusal.NOT_OFFICER)
        phone = await self.people.phone(reward.reporter_id)
        if not phone:
            return refused(Refusal.NO_PHONE)
        async with self.db.write() as tx:
            await log_reward(
                self.events,
                tx,
                reward,
                officer,
                Role.OFFICER,
                Act.PHONE_VIEWED,
                None,
                None,
                self.clock.now(),
            )
        return done(phone)

    # -- the ledger -------------------------------------------------------------------------
    async def ledger_report(self) -> LedgerReport:
        return await ledger_report(self.ledger, self.rewards, self.clock.local(), self.campaign)

    async def _change(
        self,
        tx: Tx,
        reward: Reward,
        officer: int,
        act: Act,
        changes: dict[str, Any],
        now: dt.datetime,
        *,
        target: RewardState,
        entry: LedgerEntry,
        amount: int | None = None,
        detail: dict[str, Any] | None = None,
        **ledger: Any,
    ) -> bool:
        """The one way an officer's decision changes a reward (as a tip's transition does a
        tip): compare-and-set its row to ``target`` with ``changes``, its ledger entry, its
        event. False if someone else changed it first (nothing written)."""
        written = {"state": target.value, **changes, "updated_at": now}
        if not await self.rewards.update(tx, reward, written):
            return False
        amount = reward.amount if amount is None else amount
        await self.ledger.add(
            tx, reward=reward, entry=entry, amount=amount, actor_id=officer, now=now, **ledger
        )
        role = reward_role(self.reach.directory, officer)
        before = reward.state
        await log_reward(self.events, tx, reward, officer, role, act, before, target, now, detail)
        return True

    async def _claim_attempt(
        self,
        tx: Tx,
        reward: Reward,
        officer: int,
        act: Act,
        changes: dict[str, Any],
        now: dt.datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A claim secret checked at the counter: the reward's claim fields, and the event."""
        await self.rewards.update(tx, reward, changes)
        role = Role.OFFICER
        await log_reward(self.events, tx, reward, officer, role, act, None, None, now, detail)

    # -- helpers ----------------------------------------------------------------------------
    async def refuse(
        self,
        reward_id: int | None,
        officer: int,
        what: Attempt,
        why: Refusal,
        reward: Reward | None = None,
    ) -> Result[Any]:
        """Record a refused step on a reward and say why; the reward as it is now."""
        current = await self.rewards.get(reward_id) if reward_id else None
        await self.audit.refused(
            officer,
            what,
            tip_id=current.tip_id if current else None,
            from_state=current.state if current else None,
            reason=why,
            detail={"reward": current.id} if current else None,
        )
        return refused(why, current if reward is None else reward)


async def ledger_report(
    ledger: LedgerStore, rewards: RewardStore, local_now: dt.datetime, campaign: Campaign
) -> LedgerReport:
    """The state of every reward now, and the ledger's movements today, this month and in the
    campaign (``local_now`` in station time). /ledger and the export both show this."""
    return LedgerReport(
        state=state_totals(await rewards.state_sums()),
        movements={
            name: movements_from_sums(await ledger.sums(since, until))
            for name, (since, until) in ledger_periods(local_now, campaign).items()
        },
    )
