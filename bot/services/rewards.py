"""Rewards: from a verified tip to a confirmed payout, with an append-only ledger."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.db import journal
from bot.db.repo import Repo, Tx
from bot.domain import officer_input
from bot.domain.officer_input import (
    AmountConfirmed,
    Ask,
    Awaiting,
    MethodChosen,
    Pay,
    Reject,
    Text,
)
from bot.domain.officer_input import Refusal as InputRefusal
from bot.domain.rewards import (
    MAX_SECRET_TRIES,
    REASON_MAX,
    Campaign,
    Claimant,
    Ineligible,
    LedgerEntry,
    LedgerReport,
    Movements,
    PayMethod,
    Reward,
    RewardAction,
    RewardRefusal,
    RewardState,
    decide_reward,
    eligibility,
    first_reporter,
    hash_secret,
    ledger_periods,
    movements_from_sums,
    new_secret,
    prospect,
    secret_matches,
    secret_reissuable,
    state_totals,
    valid_reason,
    valid_reference,
)
from bot.domain.tips import Outcome, Tip, is_verified
from bot.services import notify
from bot.services.base import Deps
from bot.services.people import Person, people

#: How long the bot waits for an officer's typed answer (a reason, a reference, an amount).
INPUT_TTL = dt.timedelta(minutes=30)


class RewardError(StrEnum):
    NOT_OFFICER = "not_officer"
    SELF_APPROVAL = "self_approval"
    WRONG_STATE = "wrong_state"  # already approved / paid / rejected by someone else
    NO_REWARD = "no_reward"
    BAD_REASON = "bad_reason"
    BAD_AMOUNT = "bad_amount"
    BAD_REFERENCE = "bad_reference"
    NO_PHONE = "no_phone"


_REFUSALS = {
    RewardRefusal.NOT_OFFICER: RewardError.NOT_OFFICER,
    RewardRefusal.SELF_APPROVAL: RewardError.SELF_APPROVAL,
    RewardRefusal.WRONG_STATE: RewardError.WRONG_STATE,
}


@dataclass(frozen=True)
class RewardResult:
    reward: Reward | None
    error: RewardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Answered:
    """What an officer's answer did: the next question, the action recorded, or why not."""

    reward: Reward | None
    was: Awaiting | None = None  # the question it met
    refusal: InputRefusal | None = None  # not taken: the question stands
    error: RewardError | None = None  # the action was refused (its state, dual control…)
    asked: Awaiting | None = None  # the next question, now open
    done: Reject | Pay | None = None  # the action it completed (recorded unless ``error``)

    @property
    def result(self) -> RewardResult:
        return RewardResult(self.reward, self.error)


class ClaimCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_REWARD = "no_reward"
    NOT_OFFICER = "not_officer"
    # Refused at once, before the secret is even checked (no try is used up):
    NOT_APPROVED = "not_approved"  # still waiting for an officer's approval
    REJECTED = "rejected"
    PAID = "paid"


@dataclass(frozen=True)
class RewardLine:
    """One row of /rewards: the reward and what the officer needs to judge it."""

    reward: Reward
    tip: Tip
    verifier: Person | None  # who recorded the outcome (named by name or role, never an id)
    evidence: int
    has_phone: bool


class RewardService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        # Told when an officer starts / stops owing the bot a typed answer (wired to a filter).
        self.on_input_change: Callable[[int, bool], None] = lambda user_id, waiting: None

    @property
    def campaign(self) -> Campaign:
        c = self.d.config.campaign
        return Campaign(c.start, c.end)

    # -- at submission: can it earn? the anonymous-claim secret ----------------------------
    async def prospect(self, reporter_id: int | None, now: dt.datetime) -> Ineligible | None:
        """``None`` if a tip sent now by this reporter can still earn the reward (see
        :func:`bot.domain.rewards.prospect`); else why not."""
        if reporter_id is None:
            return Ineligible.NO_REPORTER
        local = self.d.local(now)
        month_start, month_end = _month_bounds(local)
        return prospect(
            reporter_id=reporter_id,
            reporter_is_staff=self.d.directory.is_staff(reporter_id),
            local_day=local.date(),
            campaign=self.campaign,
            rewards_this_month=await self.d.repo.count_rewards_since(
                reporter_id, month_start, month_end
            ),
            monthly_cap=self.d.config.reward.monthly_cap,
        )

    async def issue_secret(self, tx: Tx, tip_id: int) -> str:
        """Store only a salted hash; the secret itself goes to the reporter privately, in an
        outbox notice that forgets it once delivered (notify.tell's ``secret``)."""
        secret = new_secret()
        salt = secrets.token_hex(8)
        await self.d.repo.set_claim_secret(tx, tip_id, salt, hash_secret(secret, salt))
        return secret

    async def reissuable(self, user_id: int, tips: list[Tip]) -> list[Tip]:
        """Those of the reporter's ``tips`` for which a fresh claim secret may be asked."""
        found = []
        for tip in tips:
            if await self.d.repo.reporter_of(tip.id) != user_id:
                continue
            reward = await self.d.repo.reward_for_tip(tip.id)
            if secret_reissuable(reward.state if reward else None):
                found.append(tip)
        return found

    async def reissue_secret(self, user_id: int, tip_id: int) -> Tip | None:
        """A fresh claim secret for the reporter's own tip (the message with the first one was
        lost or deleted); the old one stops working at once. The reward rules do not change:
        wrong tries and a locked claim stay as they were. ``None`` if not allowed."""
        tip = await self.d.repo.get_tip(tip_id)
        if tip is None or not await self.reissuable(user_id, [tip]):
            return None
        now = self.d.now()
        async with self.d.db.write() as tx:
            secret = await self.issue_secret(tx, tip.id)
            await self.d.repo.add_event(
                tx,
                tip_id=tip.id,
                actor_id=user_id,
                actor_role="reporter",
                action="claim_secret_reissued",
                from_state=None,
                to_state=None,
                now=now,
            )
            await notify.tell(
                self.d,
                tx,
                user_id,
                "secret.reissued",
                {"code": tip.code},
                tip_id=tip.id,
                secret=secret,
                now=now,
            )
        self.d.wake()
        return tip

    # -- when a tip closes (called inside the closing transaction) --------------------------
    async def on_tip_closed(
        self, tx: Tx, tip: Tip, outcome: Outcome, closer: int, now: dt.datetime
    ) -> None:
        if is_verified(outcome):
            await self._award_incident(tx, tip.id, outcome, closer, now)
        elif outcome is Outcome.DUPLICATE and tip.duplicate_of is not None:
            root = await self._incident_root(tip.duplicate_of)
            if root is not None and root.outcome is not None and is_verified(root.outcome):
                # Merged after the incident was verified: that reward is already decided.
                await self._refuse(tx, tip.id, Ineligible.DUPLICATE, now)

    async def _incident_root(self, tip_id: int) -> Tip | None:
        seen: set[int] = set()
        tip = await self.d.repo.get_tip(tip_id)
        while tip is not None and tip.duplicate_of is not None and tip.id not in seen:
            seen.add(tip.id)
            tip = await self.d.repo.get_tip(tip.duplicate_of)
        return tip

    async def _award_incident(
        self, tx: Tx, tip_id: int, outcome: Outcome, closer: int, now: dt.datetime
    ) -> None:
        directory = self.d.directory
        claimants = [
            Claimant(tid, reporter, created, reporter is not None and directory.is_staff(reporter))
            for tid, reporter, created in await self.d.repo.incident(tip_id)
        ]
        first = first_reporter(claimants)
        cap = self.d.config.reward.monthly_cap
        for claimant in claimants:
            if claimant.reporter_id is None:
                continue  # a hotline tip: nobody to pay
            local = self.d.local(claimant.created_at)
            month_start, month_end = _month_bounds(local)
            count = await self.d.repo.count_rewards_since(
                claimant.reporter_id, month_start, month_end
            )
            reason = eligibility(
                outcome=outcome,
                claimant=claimant,
                first=first,
                rewards_this_month=count,
                monthly_cap=cap,
                local_day=local.date(),
                campaign=self.campaign,
            )
            if reason is None:
                await self._create(tx, claimant, closer, now)
            else:
                await self._refuse(tx, claimant.tip_id, reason, now)

    async def _create(self, tx: Tx, claimant: Claimant, closer: int, now: dt.datetime) -> None:
        assert claimant.reporter_id is not None
        cfg = self.d.config.reward
        reward_id = await self.d.repo.insert_reward(
            tx,
            tip_id=claimant.tip_id,
            reporter_id=claimant.reporter_id,
            amount=cfg.amount,
            currency=cfg.currency,
            verified_by=closer,
            now=now,
        )
        if reward_id is None:
            return  # already has one (a retried close)
        reward = await self.d.repo.get_reward(reward_id)
        assert reward is not None
        await self.d.repo.add_ledger(
            tx,
            reward=reward,
            entry=LedgerEntry.PENDING,
            amount=reward.amount,
            actor_id=None,
            now=now,
        )
        await self._event(tx, reward, None, "reward_pending", None, RewardState.PENDING, now)
        code = (await self.d.repo.codes([reward.tip_id]))[reward.tip_id]
        # No claim secret was given at submission (the monthly cap was reached then; a
        # rejection freed a place since): point to /mytips, which gives one.
        has_secret = (await self.d.repo.claim_secret(reward.tip_id))[1] is not None
        await notify.tell(
            self.d,
            tx,
            reward.reporter_id,
            "reward.pending" if has_secret else "reward.pending_no_secret",
            {"code": code, "amount": reward.amount},
            tip_id=reward.tip_id,
            now=now,
            keyboard="share_phone",
        )

    async def _refuse(self, tx: Tx, tip_id: int, reason: Ineligible, now: dt.datetime) -> None:
        """Record why a tip earns nothing and tell its reporter (once)."""
        if await self.d.repo.count_events(tip_id, "reward_refused"):
            return
        await self.d.repo.add_event(
            tx,
            tip_id=tip_id,
            actor_id=None,
            actor_role="system",
            action="reward_refused",
            from_state=None,
            to_state=None,
            now=now,
            detail={"reason": reason.value},
        )
        reporter = await self.d.repo.reporter_of(tip_id)
        if reporter is None or reason in (Ineligible.NOT_VERIFIED, Ineligible.NO_REPORTER):
            return
        code = (await self.d.repo.codes([tip_id]))[tip_id]
        await notify.tell(
            self.d,
            tx,
            reporter,
            f"reward.none.{reason.value}",
            {"code": code},
            tip_id=tip_id,
            now=now,
        )

    # -- the officer's decisions ------------------------------------------------------------
    async def pending_lines(self) -> list[RewardLine]:
        rewards = await self.d.repo.rewards_in((RewardState.PENDING, RewardState.APPROVED))
        named = await people(self.d, (r.verified_by for r in rewards))
        lines = []
        for reward in rewards:
            tip = await self.d.repo.get_tip(reward.tip_id)
            assert tip is not None
            lines.append(
                RewardLine(
                    reward=reward,
                    tip=tip,
                    verifier=named.get(reward.verified_by) if reward.verified_by else None,
                    evidence=await self.d.repo.evidence_count(tip.id),
                    has_phone=bool(await self.d.repo.phone_of(reward.reporter_id)),
                )
            )
        return lines

    async def approve(self, reward_id: int, officer: int) -> RewardResult:
        return await self._move(reward_id, officer, RewardAction.APPROVE)

    async def reject(self, reward_id: int, officer: int, reason: str) -> RewardResult:
        cleaned = valid_reason(reason)
        if cleaned is None:
            await self.record_refusal(reward_id, officer, "reward_reject", RewardError.BAD_REASON)
            return RewardResult(await self.d.repo.get_reward(reward_id), RewardError.BAD_REASON)
        return await self._move(reward_id, officer, RewardAction.REJECT, reason=cleaned)

    async def pay(
        self, reward_id: int, officer: int, method: PayMethod, reference: str, amount: int | None
    ) -> RewardResult:
        ref = valid_reference(reference)
        if ref is None:
            await self.record_refusal(reward_id, officer, "reward_pay", RewardError.BAD_REFERENCE)
            return RewardResult(await self.d.repo.get_reward(reward_id), RewardError.BAD_REFERENCE)
        if amount is None or amount <= 0:
            await self.record_refusal(reward_id, officer, "reward_pay", RewardError.BAD_AMOUNT)
            return RewardResult(await self.d.repo.get_reward(reward_id), RewardError.BAD_AMOUNT)
        return await self._move(
            reward_id, officer, RewardAction.PAY, method=method, reference=ref, amount=amount
        )

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
    ) -> RewardResult:
        reward = await self.d.repo.get_reward(reward_id)
        if reward is None:
            await self.record_refusal(
                None, officer, f"reward_{action.value}", RewardError.NO_REWARD
            )
            return RewardResult(None, RewardError.NO_REWARD)
        target, refusal = decide_reward(
            action,
            reward.state,
            is_officer=self.d.directory.is_officer(officer),
            actor_id=officer,
            verified_by=reward.verified_by,
            allow_self_approval=self.d.config.reward.allow_self_approval,
        )
        if refusal is not None:
            error = _REFUSALS[refusal]
            await self.record_refusal(reward.id, officer, f"reward_{action.value}", error)
            return RewardResult(reward, error)
        assert target is not None
        now = self.d.now()
        changes: dict[str, Any] = {"state": target.value, "updated_at": now}
        entry = {
            RewardAction.APPROVE: LedgerEntry.APPROVED,
            RewardAction.REJECT: LedgerEntry.REJECTED,
            RewardAction.PAY: LedgerEntry.PAID,
        }[action]
        if action is RewardAction.APPROVE:
            changes |= {"approved_by": officer, "approved_at": now}
        elif action is RewardAction.REJECT:
            changes |= {"rejected_by": officer, "rejected_at": now, "reject_reason": reason}
        else:
            changes |= {
                "paid_by": officer,
                "paid_at": now,
                "paid_amount": amount,
                "method": method.value if method else None,
                "reference": reference,
            }
        async with self.d.db.write() as tx:
            changed = await self.d.repo.update_reward(
                tx,
                reward.id,
                expect_state=reward.state,
                expect_version=reward.version,
                changes=changes,
            )
            if not changed:
                # Another officer got there first (e.g. two "paid" presses at the same moment).
                current = await self.d.repo.get_reward(reward.id)
                return RewardResult(current, RewardError.WRONG_STATE)
            await self.d.repo.add_ledger(
                tx,
                reward=reward,
                entry=entry,
                amount=amount if amount is not None else reward.amount,
                actor_id=officer,
                now=now,
                method=method.value if method else None,
                reference=reference,
                reason=reason,
            )
            await self._event(
                tx,
                reward,
                officer,
                f"reward_{action.value}",
                reward.state,
                target,
                now,
                detail={
                    k: v
                    for k, v in (
                        ("reason", reason),
                        ("method", method.value if method else None),
                        ("amount", amount),
                    )
                    if v is not None
                },
            )
            code = (await self.d.repo.codes([reward.tip_id]))[reward.tip_id]
            if action is RewardAction.APPROVE:
                # Say what happens next, as it is: a transfer to the number they gave, or
                # (anonymous) the two ways to receive it — never "it will be paid" alone.
                has_phone = bool(await self.d.repo.phone_of(reward.reporter_id))
                has_secret = (await self.d.repo.claim_secret(reward.tip_id))[1] is not None
                key = "reward.approved"
                if not has_phone:
                    key = "reward.approved_anonymous" + ("" if has_secret else "_no_secret")
                await notify.tell(
                    self.d,
                    tx,
                    reward.reporter_id,
                    key,
                    {"code": code, "amount": reward.amount},
                    tip_id=reward.tip_id,
                    now=now,
                    keyboard=None if has_phone else "share_phone",
                )
            elif action is RewardAction.REJECT:
                await notify.tell(
                    self.d,
                    tx,
                    reward.reporter_id,
                    "reward.rejected",
                    {"code": code, "reason": reason},
                    tip_id=reward.tip_id,
                    now=now,
                )
            else:
                local = self.d.local(now)
                await notify.tell(
                    self.d,
                    tx,
                    reward.reporter_id,
                    "reward.paid",
                    {
                        "code": code,
                        "amount": amount,
                        "date": local.strftime("%Y-%m-%d"),
                        "method_key": f"pay.{(method.value if method else 'cash')}",
                    },
                    tip_id=reward.tip_id,
                    now=now,
                )
        self.d.wake()
        return RewardResult(await self.d.repo.get_reward(reward.id))

    async def reverse(self, reward_id: int, officer: int, reason: str) -> RewardResult:
        """Take back a recorded payment (wrong amount, wrong account…): a reversing entry."""
        reward = await self.d.repo.get_reward(reward_id)
        reason = " ".join(reason.split())
        if reward is None:
            return RewardResult(None, RewardError.NO_REWARD)
        if not self.d.directory.is_officer(officer):
            await self.record_refusal(reward.id, officer, "reward_reverse", RewardError.NOT_OFFICER)
            return RewardResult(reward, RewardError.NOT_OFFICER)
        if not reason or len(reason) > REASON_MAX:
            return RewardResult(reward, RewardError.BAD_REASON)
        if reward.state is not RewardState.PAID:
            return RewardResult(reward, RewardError.WRONG_STATE)
        paid = await self.d.repo.last_ledger_entry(reward.id, LedgerEntry.PAID)
        assert paid is not None
        now = self.d.now()
        async with self.d.db.write() as tx:
            changed = await self.d.repo.update_reward(
                tx,
                reward.id,
                expect_state=RewardState.PAID,
                expect_version=reward.version,
                changes={
                    "state": RewardState.APPROVED.value,
                    "paid_by": None,
                    "paid_at": None,
                    "paid_amount": None,
                    "method": None,
                    "reference": None,
                    "updated_at": now,
                },
            )
            if not changed:
                return RewardResult(
                    await self.d.repo.get_reward(reward.id), RewardError.WRONG_STATE
                )
            await self.d.repo.add_ledger(
                tx,
                reward=reward,
                entry=LedgerEntry.REVERSAL,
                amount=-int(paid["amount"]),
                actor_id=officer,
                now=now,
                reason=reason,
                reverses=int(paid["id"]),
                method=paid["method"],
                reference=paid["reference"],
            )
            await self._event(
                tx,
                reward,
                officer,
                "reward_reverse",
                RewardState.PAID,
                RewardState.APPROVED,
                now,
                detail={"reason": reason},
            )
            # They were told it was paid: that is no longer what the record says. (The
            # officer's reason is for the ledger; it is not passed on.)
            code = (await self.d.repo.codes([reward.tip_id]))[reward.tip_id]
            await notify.tell(
                self.d,
                tx,
                reward.reporter_id,
                "reward.reversed",
                {"code": code, "hotline": self.d.config.station.hotline},
                tip_id=reward.tip_id,
                now=now,
            )
        self.d.wake()
        return RewardResult(await self.d.repo.get_reward(reward.id))

    # -- anonymous claims -------------------------------------------------------------------
    async def check_claim(
        self, tip: Tip, secret: str, officer: int
    ) -> tuple[ClaimCheck, Reward | None, int]:
        """Check a claim secret read out at the counter; returns (result, reward, tries left)."""
        if not self.d.directory.is_officer(officer):
            await self.record_refusal(None, officer, "reward_claim", RewardError.NOT_OFFICER)
            return ClaimCheck.NOT_OFFICER, None, 0
        reward = await self.d.repo.reward_for_tip(tip.id)
        # Anything but an approved, unlocked reward is refused at once, saying why, before
        # the secret is checked: nothing to pay now, and no try is used up.
        if reward is None:
            return ClaimCheck.NO_REWARD, None, 0
        if reward.state is RewardState.PAID:
            return ClaimCheck.PAID, reward, 0
        if reward.state is RewardState.REJECTED:
            return ClaimCheck.REJECTED, reward, 0
        if reward.claim_locked:
            return ClaimCheck.LOCKED, reward, 0
        if reward.state is RewardState.PENDING:
            return ClaimCheck.NOT_APPROVED, reward, 0
        salt, digest = await self.d.repo.claim_secret(tip.id)
        now = self.d.now()
        if salt and digest and secret_matches(secret, salt, digest):
            async with self.d.db.write() as tx:
                await self.d.repo.update_reward(
                    tx,
                    reward.id,
                    expect_state=reward.state,
                    expect_version=reward.version,
                    changes={"claim_verified_by": officer, "claim_verified_at": now},
                )
                await self._event(tx, reward, officer, "reward_claim_ok", None, None, now)
            return ClaimCheck.OK, await self.d.repo.get_reward(reward.id), MAX_SECRET_TRIES
        if journal.applied("claim_attempt") is not None:
            # A replay after a crash: this wrong secret was counted already (not twice).
            return ClaimCheck.WRONG, reward, MAX_SECRET_TRIES - reward.claim_tries
        tries = reward.claim_tries + 1
        locked = tries >= MAX_SECRET_TRIES
        async with self.d.db.write() as tx:
            await self.d.repo.update_reward(
                tx,
                reward.id,
                expect_state=reward.state,
                expect_version=reward.version,
                changes={"claim_tries": tries, "claim_locked": int(locked)},
            )
            await self._event(
                tx, reward, officer, "reward_claim_wrong", None, None, now, detail={"tries": tries}
            )
            await journal.record(tx, "claim_attempt", reward.id)
            if locked:
                code = (await self.d.repo.codes([tip.id]))[tip.id]
                await notify.tell_officers(
                    self.d, tx, "reward.claim_locked", {"code": code}, tip_id=tip.id, now=now
                )
        self.d.wake()
        return (ClaimCheck.LOCKED if locked else ClaimCheck.WRONG), reward, MAX_SECRET_TRIES - tries

    # -- the reporter's phone number (payment only) -----------------------------------------
    async def share_phone(self, user_id: int, phone: str) -> list[Reward]:
        """Store a reporter's own number only if they have a reward waiting; returns those."""
        waiting = [
            r
            for r in await self.d.repo.rewards_of_reporter(user_id)
            if r.state in (RewardState.PENDING, RewardState.APPROVED)
        ]
        if not waiting:
            return []
        now = self.d.now()
        cleaned = "".join(ch for ch in phone if ch.isdigit() or ch == "+")[:20]
        async with self.d.db.write() as tx:
            await self.d.repo.set_phone(tx, user_id, cleaned, now)
            for reward in waiting:
                await self._event(tx, reward, user_id, "phone_shared", None, None, now)
        return waiting

    async def view_phone(
        self, reward_id: int, officer: int
    ) -> tuple[str | None, RewardError | None]:
        """Officers only; every view is written to the event log."""
        reward = await self.d.repo.get_reward(reward_id)
        if reward is None:
            return None, RewardError.NO_REWARD
        if not self.d.directory.is_officer(officer):
            await self.record_refusal(reward.id, officer, "phone_view", RewardError.NOT_OFFICER)
            return None, RewardError.NOT_OFFICER
        phone = await self.d.repo.phone_of(reward.reporter_id)
        if not phone:
            return None, RewardError.NO_PHONE
        async with self.d.db.write() as tx:
            await self._event(tx, reward, officer, "phone_viewed", None, None, self.d.now())
        return phone, None

    # -- the ledger -------------------------------------------------------------------------
    async def movements_between(
        self, since: dt.datetime | None, until: dt.datetime | None
    ) -> Movements:
        return movements_from_sums(await self.d.repo.ledger_sums(since, until))

    def periods(self) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        """today, this month and the campaign, as bounds of station-time days."""
        return ledger_periods(self.d.local(), self.campaign)

    async def ledger_report(self) -> LedgerReport:
        return await ledger_report(self.d.repo, self.d.local(), self.campaign)

    # -- typed answers the bot waits for (bot/domain/officer_input.py has the rules) -------
    async def expect(self, user_id: int, awaiting: Awaiting) -> None:
        """Remember the question the bot asked (its answer is the user's next text)."""
        kind, data = awaiting.stored()
        async with self.d.db.write() as tx:
            await self.d.repo.set_pending_input(tx, user_id, kind, data, self.d.now())
        self.on_input_change(user_id, True)

    async def begin_input(self, reward: Reward, officer: int, awaiting: Awaiting) -> RewardResult:
        """The reject or the pay button: its first question, if the action fits the reward."""
        action = RewardAction.REJECT if awaiting.ask is Ask.REASON else RewardAction.PAY
        check = await self.precheck(reward, officer, action)
        if check.ok:
            await self.expect(officer, awaiting)
        return check

    async def answer(self, officer: int, text: str) -> Answered:
        """An officer's typed answer to the question the bot asked last."""
        awaiting = await self.take_input(officer)
        if awaiting is None:
            return Answered(None, refusal=InputRefusal.NOTHING_ASKED)
        reward = await self.d.repo.get_reward(awaiting.reward_id)
        if reward is None:
            return Answered(None, awaiting, error=RewardError.NO_REWARD)
        if awaiting.ask is Ask.REFERENCE:
            # One more question follows: not for a payment recorded meanwhile (by another
            # officer). A reason or an amount completes its action, which checks that itself.
            check = await self.precheck(reward, officer, RewardAction.PAY)
            if not check.ok:
                return Answered(reward, awaiting, error=check.error)
        outcome = officer_input.answer(awaiting, Text(text))
        return await self._answered(officer, reward, awaiting, outcome, typed=True)

    async def choose_method(self, officer: int, reward: Reward, method: PayMethod) -> Answered:
        """A payment method's button."""
        check = await self.precheck(reward, officer, RewardAction.PAY)
        if not check.ok:
            return Answered(reward, error=check.error)
        awaiting = await self.peek_input(officer)
        outcome = officer_input.answer(awaiting, MethodChosen(reward.id, method))
        return await self._answered(officer, reward, awaiting, outcome, typed=False)

    async def confirm_amount(self, officer: int, reward: Reward) -> Answered:
        """The button "paid the promised amount"."""
        check = await self.precheck(reward, officer, RewardAction.PAY)
        if not check.ok:
            return Answered(reward, error=check.error)
        awaiting = await self.peek_input(officer)
        outcome = officer_input.answer(awaiting, AmountConfirmed(reward.id, reward.amount))
        return await self._answered(officer, reward, awaiting, outcome, typed=False)

    async def _answered(
        self,
        officer: int,
        reward: Reward,
        awaiting: Awaiting | None,
        outcome: Awaiting | Reject | Pay | InputRefusal,
        *,
        typed: bool,
    ) -> Answered:
        """Carry out what an answer does: ask the next question, or record the action."""
        if isinstance(outcome, InputRefusal):
            if typed and awaiting is not None:
                await self.expect(officer, awaiting)  # the same question, asked again
            if outcome is InputRefusal.BAD_REASON:  # recorded as a refused rejection
                error = RewardError.BAD_REASON
                await self.record_refusal(reward.id, officer, "reward_reject", error)
            return Answered(reward, awaiting, refusal=outcome)
        if isinstance(outcome, Awaiting):
            await self.expect(officer, outcome)
            return Answered(reward, awaiting, asked=outcome)
        if isinstance(outcome, Reject):
            result = await self.reject(reward.id, officer, outcome.reason)
        else:
            if not typed:
                await self.drop_input(officer)
            result = await self.pay(
                reward.id, officer, outcome.method, outcome.reference, outcome.amount
            )
        return Answered(result.reward, awaiting, error=result.error, done=outcome)

    async def take_input(self, user_id: int) -> Awaiting | None:
        """The answer the bot is waiting for from this user (and forget it), unless stale."""
        awaiting = await self.peek_input(user_id)
        await self.drop_input(user_id)
        return awaiting

    async def peek_input(self, user_id: int) -> Awaiting | None:
        """The answer the bot is waiting for from this user (kept), unless stale."""
        pending = await self.d.repo.pending_input(user_id)
        if pending is None:
            return None
        kind, data, created = pending
        if self.d.now() - created > INPUT_TTL:
            return None
        return Awaiting.from_stored(kind, data)

    async def drop_input(self, user_id: int) -> None:
        async with self.d.db.write() as tx:
            await self.d.repo.clear_pending_input(tx, user_id)
        self.on_input_change(user_id, False)

    async def users_awaiting_input(self) -> list[int]:
        return await self.d.repo.users_with_pending_input()

    # -- helpers ----------------------------------------------------------------------------
    async def precheck(self, reward: Reward, officer: int, action: RewardAction) -> RewardResult:
        """Before asking for a reason, a method or a reference: would ``action`` be allowed
        now? A press that no longer fits (already paid, rejected…) is refused at once and
        recorded like the action itself would be."""
        _, refusal = decide_reward(
            action,
            reward.state,
            is_officer=self.d.directory.is_officer(officer),
            actor_id=officer,
            verified_by=reward.verified_by,
            allow_self_approval=self.d.config.reward.allow_self_approval,
        )
        if refusal is None:
            return RewardResult(reward)
        error = _REFUSALS[refusal]
        await self.record_refusal(reward.id, officer, f"reward_{action.value}", error)
        return RewardResult(reward, error)

    async def record_refusal(
        self, reward_id: int | None, actor: int, what: str, error: RewardError
    ) -> None:
        reward = await self.d.repo.get_reward(reward_id) if reward_id else None
        async with self.d.db.write() as tx:
            await self.d.repo.add_event(
                tx,
                tip_id=reward.tip_id if reward else None,
                actor_id=actor,
                actor_role="officer" if self.d.directory.is_officer(actor) else "stranger",
                action=f"refused:{what}",
                from_state=reward.state.value if reward else None,
                to_state=None,
                now=self.d.now(),
                detail={"reason": error.value, **({"reward": reward.id} if reward else {})},
            )

    async def _event(
        self,
        tx: Tx,
        reward: Reward,
        actor: int | None,
        action: str,
        before: RewardState | None,
        after: RewardState | None,
        now: dt.datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.d.repo.add_event(
            tx,
            tip_id=reward.tip_id,
            actor_id=actor,
            actor_role=(
                "system"
                if actor is None
                else "officer"
                if self.d.directory.is_officer(actor)
                else "reporter"
            ),
            action=action,
            from_state=before.value if before else None,
            to_state=after.value if after else None,
            now=now,
            detail={"reward": reward.id, **(detail or {})},
        )


async def ledger_report(repo: Repo, local_now: dt.datetime, campaign: Campaign) -> LedgerReport:
    """The state of every reward now, and the ledger's movements today, this month and in the
    campaign (``local_now`` in station time). /ledger and the export both show this."""
    return LedgerReport(
        state=state_totals(await repo.reward_state_sums()),
        movements={
            name: movements_from_sums(await repo.ledger_sums(since, until))
            for name, (since, until) in ledger_periods(local_now, campaign).items()
        },
    )


def _month_bounds(local: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(local.year, local.month, 1, tzinfo=local.tzinfo)
    nxt = dt.datetime(
        local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=local.tzinfo
    )
    return start, nxt
