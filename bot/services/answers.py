"""The duty officer's typed answers: the question the bot waits on (a pending input, kept in
the database) and what each answer does — the next question, or the reward action it
completes (bot/domain/officer_input.py has the rules; bot/services/rewards.py the actions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.database import Database
from bot.db.people import InputStore
from bot.domain import officer_input
from bot.domain.events import Attempt
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
from bot.domain.rewards import PayMethod, Reward, RewardAction
from bot.services.clock import StationClock
from bot.services.reach import Reach
from bot.services.result import Refusal, Result
from bot.services.rewards import RewardService

#: How long the bot waits for an officer's typed answer (a reason, a reference, an amount).
INPUT_TTL = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Answered:
    """What an officer's answer did: the next question, the action recorded, or why not."""

    reward: Reward | None
    was: Awaiting | None = None  # the question it met
    refusal: InputRefusal | None = None  # not taken: the question stands
    error: Refusal | None = None  # the action was refused (its state, dual control…)
    asked: Awaiting | None = None  # the next question, now open
    done: Reject | Pay | None = None  # the action it completed (recorded unless ``error``)

    @property
    def result(self) -> Result[Reward]:
        return Result(self.reward, self.error)


class OfficerAnswers:
    def __init__(
        self,
        db: Database,
        inputs: InputStore,
        rewards: RewardService,
        reach: Reach,
        clock: StationClock,
    ) -> None:
        self.db = db
        self.inputs = inputs
        self.rewards = rewards
        self.reach = reach
        self.clock = clock

    async def expect(self, user_id: int, awaiting: Awaiting) -> None:
        """Remember the question the bot asked (its answer is the user's next text)."""
        kind, data = awaiting.stored()
        async with self.db.write() as tx:
            await self.inputs.set(tx, user_id, kind, data, self.clock.now())

    async def begin(self, reward: Reward, officer: int, awaiting: Awaiting) -> Result[Reward]:
        """The reject or the pay button: its first question, if the action fits the reward."""
        action = RewardAction.REJECT if awaiting.ask is Ask.REASON else RewardAction.PAY
        check = await self.rewards.precheck(reward, officer, action)
        if check.ok:
            await self.expect(officer, awaiting)
        return check

    async def answer(self, officer: int, text: str) -> Answered:
        """An officer's typed answer to the question the bot asked last."""
        awaiting = await self.take(officer)
        if awaiting is None:
            return Answered(None, refusal=InputRefusal.NOTHING_ASKED)
        reward = await self.rewards.reward(awaiting.reward_id)
        if reward is None:
            return Answered(None, awaiting, error=Refusal.NO_REWARD)
        if awaiting.ask is Ask.REFERENCE:
            # One more question follows: not for a payment recorded meanwhile (by another
            # officer). A reason or an amount completes its action, which checks that itself.
            check = await self.rewards.precheck(reward, officer, RewardAction.PAY)
            if not check.ok:
                return Answered(reward, awaiting, error=check.refusal)
        outcome = officer_input.answer(awaiting, Text(text))
        return await self._answered(officer, reward, awaiting, outcome, typed=True)

    async def choose_method(self, officer: int, reward: Reward, method: PayMethod) -> Answered:
        """A payment method's button."""
        return await self._pressed(officer, reward, MethodChosen(reward.id, method))

    async def confirm_amount(self, officer: int, reward: Reward) -> Answered:
        """The button "paid the promised amount"."""
        return await self._pressed(officer, reward, AmountConfirmed(reward.id, reward.amount))

    async def _pressed(
        self, officer: int, reward: Reward, event: MethodChosen | AmountConfirmed
    ) -> Answered:
        check = await self.rewards.precheck(reward, officer, RewardAction.PAY)
        if not check.ok:
            return Answered(reward, error=check.refusal)
        awaiting = await self.peek(officer)
        outcome = officer_input.answer(awaiting, event)
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
                await self.rewards.refuse(
                    reward.id, officer, Attempt.REWARD_REJECT, Refusal.BAD_REASON
                )
            return Answered(reward, awaiting, refusal=outcome)
        if isinstance(outcome, Awaiting):
            await self.expect(officer, outcome)
            return Answered(reward, awaiting, asked=outcome)
        if isinstance(outcome, Reject):
            result = await self.rewards.reject(reward.id, officer, outcome.reason)
        else:
            if not typed:
                await self.drop(officer)
            result = await self.rewards.pay(
                reward.id, officer, outcome.method, outcome.reference, outcome.amount
            )
        return Answered(result.value, awaiting, error=result.refusal, done=outcome)

    async def take(self, user_id: int) -> Awaiting | None:
        """The answer the bot is waiting for from this user (and forget it), unless stale."""
        awaiting = await self.peek(user_id)
        await self.drop(user_id)
        return awaiting

    async def peek(self, user_id: int) -> Awaiting | None:
        """The answer the bot is waiting for from this user (kept), unless stale."""
        pending = await self.inputs.get(user_id)
        if pending is None:
            return None
        kind, data, created = pending
        if self.clock.now() - created > INPUT_TTL:
            return None
        return Awaiting.from_stored(kind, data)

    async def waiting(self, user_id: int) -> bool:
        """Does the bot wait for a typed answer from this officer (stale or not)? Their next
        text is then that answer (bot/handlers/rewards.py)."""
        return self.reach.directory.is_officer(user_id) and (
            await self.inputs.get(user_id) is not None
        )

    async def drop(self, user_id: int) -> bool:
        """Forget the answer the bot waited for; whether there was one."""
        had = await self.inputs.get(user_id) is not None
        async with self.db.write() as tx:
            await self.inputs.clear(tx, user_id)
        return had
