"""Who earns a reward: the prospect at submission (and the anonymous claim's secret), and the
award when a tip closes verified — per incident, to the earliest tip from the public."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from bot.config import CampaignConfig, RewardConfig
from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.rewards import LedgerStore, RewardStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.events import Act
from bot.domain.outbox import Keyboard, Msg
from bot.domain.rewards import (
    Campaign,
    Claimant,
    Ineligible,
    LedgerEntry,
    Reward,
    RewardState,
    eligibility,
    first_reporter,
    hash_secret,
    month_bounds,
    new_secret,
    prospect,
    secret_reissuable,
)
from bot.domain.roster import Directory
from bot.domain.tips import Outcome, Role, Tip, is_verified
from bot.i18n import keys
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach

#: Not told: a hotline tip has no one to tell; an unverified tip's reporter was told its outcome.
_NOT_TOLD = frozenset({Ineligible.NOT_VERIFIED, Ineligible.NO_REPORTER})


def reward_role(directory: Directory, actor_id: int | None) -> Role:
    """How the log names who moved a reward: the system, an officer, or the reporter."""
    if actor_id is None:
        return Role.SYSTEM
    return Role.OFFICER if directory.is_officer(actor_id) else Role.REPORTER


async def log_reward(
    events: EventStore,
    tx: Tx,
    reward: Reward,
    actor_id: int | None,
    role: Role,
    action: Act,
    before: RewardState | None,
    after: RewardState | None,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """An event on the reward's tip (the reward's id in its detail)."""
    await events.add(
        tx,
        tip_id=reward.tip_id,
        actor_id=actor_id,
        actor_role=role,
        action=action,
        from_state=before,
        to_state=after,
        now=now,
        detail={"reward": reward.id, **(detail or {})},
    )


class AwardService:
    def __init__(
        self,
        db: Database,
        tips: TipStore,
        rewards: RewardStore,
        ledger: LedgerStore,
        events: EventStore,
        notifier: Notifier,
        reach: Reach,
        clock: StationClock,
        reward: RewardConfig,
        campaign: CampaignConfig,
    ) -> None:
        self.db = db
        self.tips = tips
        self.rewards = rewards
        self.ledger = ledger
        self.events = events
        self.notifier = notifier
        self.reach = reach
        self.clock = clock
        self.reward = reward
        self.campaign = Campaign(campaign.start, campaign.end)

    # -- at submission: can it earn? the anonymous-claim secret ----------------------------
    async def prospect(self, reporter_id: int | None, now: dt.datetime) -> Ineligible | None:
        """``None`` if a tip sent now by this reporter can still earn the reward (see
        :func:`bot.domain.rewards.prospect`); else why not."""
        if reporter_id is None:
            return Ineligible.NO_REPORTER
        local = self.clock.local(now)
        return prospect(
            reporter_id=reporter_id,
            reporter_is_staff=self.reach.directory.is_staff(reporter_id),
            local_day=local.date(),
            campaign=self.campaign,
            rewards_this_month=await self.rewards.count_since(reporter_id, *month_bounds(local)),
            monthly_cap=self.reward.monthly_cap,
        )

    async def issue_secret(self, tx: Tx, tip_id: int) -> str:
        """Store only a salted hash; the secret itself goes to the reporter privately, in an
        outbox notice that forgets it once delivered (Notifier.tell's ``secret``)."""
        secret = new_secret()
        salt = secrets.token_hex(8)
        await self.tips.set_claim_secret(tx, tip_id, salt, hash_secret(secret, salt))
        return secret

    async def reissuable(self, user_id: int, tips: list[Tip]) -> list[Tip]:
        """Those of the reporter's ``tips`` for which a fresh claim secret may be asked."""
        found = []
        for tip in tips:
            if await self.tips.reporter_of(tip.id) != user_id:
                continue
            reward = await self.rewards.for_tip(tip.id)
            if secret_reissuable(reward.state if reward else None):
                found.append(tip)
        return found

    async def reissue_secret(self, user_id: int, tip_id: int) -> Tip | None:
        """A fresh claim secret for the reporter's own tip (the message with the first one was
        lost or deleted); the old one stops working at once. The reward rules do not change:
        wrong tries and a locked claim stay as they were. ``None`` if not allowed."""
        tip = await self.tips.get(tip_id)
        if tip is None or not await self.reissuable(user_id, [tip]):
            return None
        now = self.clock.now()
        async with self.db.write() as tx:
            secret = await self.issue_secret(tx, tip.id)
            act = Act.CLAIM_SECRET_REISSUED
            await self.events.note(tx, tip.id, user_id, Role.REPORTER, act, now)
            await self.notifier.tell(
                tx,
                user_id,
                Msg("secret.reissued", {"code": tip.code}),
                tip_id=tip.id,
                secret=secret,
                now=now,
            )
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
        tip = await self.tips.get(tip_id)
        while tip is not None and tip.duplicate_of is not None and tip.id not in seen:
            seen.add(tip.id)
            tip = await self.tips.get(tip.duplicate_of)
        return tip

    async def _award_incident(
        self, tx: Tx, tip_id: int, outcome: Outcome, closer: int, now: dt.datetime
    ) -> None:
        directory = self.reach.directory
        claimants = [
            Claimant(tid, reporter, created, reporter is not None and directory.is_staff(reporter))
            for tid, reporter, created in await self.tips.incident(tip_id)
        ]
        first = first_reporter(claimants)
        for claimant in claimants:
            if claimant.reporter_id is None:
                continue  # a hotline tip: nobody to pay
            local = self.clock.local(claimant.created_at)
            count = await self.rewards.count_since(claimant.reporter_id, *month_bounds(local))
            reason = eligibility(
                outcome=outcome,
                claimant=claimant,
                first=first,
                rewards_this_month=count,
                monthly_cap=self.reward.monthly_cap,
                local_day=local.date(),
                campaign=self.campaign,
            )
            if reason is None:
                await self._create(tx, claimant, closer, now)
            else:
                await self._refuse(tx, claimant.tip_id, reason, now)

    async def _create(self, tx: Tx, claimant: Claimant, closer: int, now: dt.datetime) -> None:
        assert claimant.reporter_id is not None
        reward_id = await self.rewards.create(
            tx,
            tip_id=claimant.tip_id,
            reporter_id=claimant.reporter_id,
            amount=self.reward.amount,
            currency=self.reward.currency,
            verified_by=closer,
            now=now,
        )
        if reward_id is None:
            return  # already has one (a retried close)
        reward = await self.rewards.get(reward_id)
        assert reward is not None
        await self.ledger.add(
            tx,
            reward=reward,
            entry=LedgerEntry.PENDING,
            amount=reward.amount,
            actor_id=None,
            now=now,
        )
        await log_reward(
            self.events,
            tx,
            reward,
            None,
            Role.SYSTEM,
            Act.REWARD_PENDING,
            None,
            RewardState.PENDING,
            now,
        )
        code = (await self.tips.codes([reward.tip_id]))[reward.tip_id]
        # No claim secret was given at submission (the monthly cap was reached then; a
        # rejection freed a place since): point to /mytips, which gives one.
        has_secret = (await self.tips.claim_secret(reward.tip_id))[1] is not None
        key = "reward.pending" if has_secret else "reward.pending_no_secret"
        await self.notifier.tell(
            tx,
            reward.reporter_id,
            Msg(key, {"code": code, "amount": reward.amount}),
            tip_id=reward.tip_id,
            keyboard=Keyboard.SHARE_PHONE,
            now=now,
        )

    async def _refuse(self, tx: Tx, tip_id: int, reason: Ineligible, now: dt.datetime) -> None:
        """Record why a tip earns nothing and tell its reporter (once)."""
        if await self.events.has(tip_id, Act.REWARD_REFUSED):
            return
        detail = {"reason": reason.value}
        await self.events.note(tx, tip_id, None, Role.SYSTEM, Act.REWARD_REFUSED, now, detail)
        reporter = await self.tips.reporter_of(tip_id)
        if reporter is None or reason in _NOT_TOLD:
            return
        code = (await self.tips.codes([tip_id]))[tip_id]
        text = Msg(keys.NO_REWARD[reason], {"code": code})
        await self.notifier.tell(tx, reporter, text, tip_id=tip_id, now=now)
