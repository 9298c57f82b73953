"""What every service returns: a :class:`Result` — the value, or why nothing was done.

A refusal is one :class:`Refusal`; the words for it are in one place (bot/views/refusals.py).
A result may carry a value with its refusal (the tip as it is now, tries left…): what the
handler needs to say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain.rewards import RewardRefusal
from bot.domain.tips import Refusal as TipRefusal

T = TypeVar("T")


class Refusal(StrEnum):
    # A tip's buttons and evidence.
    NO_TIP = "no_tip"
    NOT_ALLOWED = "not_allowed"
    WRONG_STATE = "wrong_state"
    BAD_OUTCOME = "bad_outcome"
    BAD_DUPLICATE = "bad_duplicate"
    RACE = "race"  # someone else changed the tip first
    NOT_A_CARD = "not_a_card"  # a reply to a message that is not one of a tip's
    # The reporter.
    NO_DRAFT = "no_draft"
    STALE = "stale"  # the review's button, pressed while the report is at another step
    INCOMPLETE = "incomplete"
    TOO_MANY = "too_many"  # the hourly limit of tips
    NOT_YOURS = "not_yours"
    TOO_LATE = "too_late"  # withdrawn only until claimed
    # Anonymous questions.
    NO_REPORTER = "no_reporter"
    CLOSED = "closed"
    TOO_LONG = "too_long"
    # Rewards.
    NOT_OFFICER = "not_officer"
    SELF_APPROVAL = "self_approval"
    NO_REWARD = "no_reward"
    BAD_REASON = "bad_reason"
    BAD_AMOUNT = "bad_amount"
    BAD_REFERENCE = "bad_reference"
    NO_PHONE = "no_phone"
    WRONG_SECRET = "wrong"
    LOCKED = "locked"
    NOT_APPROVED = "not_approved"
    REJECTED = "rejected"
    PAID = "paid"
    # The patrol log.
    NOT_A_GROUP = "not_a_group"
    NOT_MEMBER = "not_member"
    ALREADY = "already"  # a patrol is already under way
    NONE_OPEN = "none_open"
    BAD_COUNTS = "bad_counts"


def from_domain(refusal: TipRefusal | RewardRefusal) -> Refusal:
    """A refusal of the domain's rules, as services report it (the same names)."""
    return Refusal(refusal.value)


@dataclass(frozen=True)
class Result(Generic[T]):
    value: T | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def done(value: T | None = None) -> Result[T]:
    return Result(value)


def refused(refusal: Refusal, value: T | None = None) -> Result[T]:
    return Result(value, refusal)
