"""Rewards ("爱心有奖"): who earns one, and how a reward moves to a payout. Pure.

```
(verified tip) ─▶ pending ─approve─▶ approved ─pay─▶ paid
                     │                  │
                     └────reject────────┴──▶ rejected(reason)
```
The officer who approves may not be the one who recorded the tip's outcome (dual control),
unless the station allows self-approval. Money is recorded in an append-only ledger: a
correction is a reversing entry with a reason, never an edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tips import Outcome, is_verified


class RewardState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


class Ineligible(StrEnum):
    """Why a closed tip earns no reward (each is told to the reporter in plain words)."""

    NOT_VERIFIED = "not_verified"  # the person was not found / helped
    NO_REPORTER = "no_reporter"  # a hotline tip logged by an officer
    STAFF = "staff"  # reported by a member of staff
    DUPLICATE = "duplicate"  # another reporter's earlier tip about the same person earns it
    MONTHLY_CAP = "monthly_cap"  # the reporter reached the monthly limit
    OUTSIDE_CAMPAIGN = "outside_campaign"  # the tip came in outside the campaign window


@dataclass(frozen=True)
class Campaign:
    start: dt.date
    end: dt.date  # inclusive

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Claimant:
    """One tip in an incident (the verified tip plus every tip merged into it as duplicate)."""

    tip_id: int
    reporter_id: int | None
    created_at: dt.datetime
    reporter_is_staff: bool


def first_reporter(incident: list[Claimant]) -> Claimant | None:
    """The earliest tip of the incident sent by a member of the public (staff never earn)."""
    public = [c for c in incident if c.reporter_id is not None and not c.reporter_is_staff]
    return min(public, key=lambda c: (c.created_at, c.tip_id)) if public else None


def eligibility(
    *,
    outcome: Outcome | None,
    claimant: Claimant,
    first: Claimant | None,
    rewards_this_month: int,
    monthly_cap: int,
    local_day: dt.date,
    campaign: Campaign,
) -> Ineligible | None:
    """``None`` if this tip earns the reward, else the first rule that refuses it.

    ``outcome`` is that of the incident's verified tip; ``first`` is :func:`first_reporter`
    of the incident; ``rewards_this_month`` counts the reporter's non-rejected rewards in the
    calendar month of ``local_day`` (the day the tip came in, station time).
    """
    if outcome is None or not is_verified(outcome):
        return Ineligible.NOT_VERIFIED
    refused = _reporter_rules(claimant.reporter_id, claimant.reporter_is_staff)
    if refused is not None:
        return refused
    if first is not None and first.tip_id != claimant.tip_id:
        return Ineligible.DUPLICATE
    return _period_rules(local_day, campaign, rewards_this_month, monthly_cap)


def _reporter_rules(reporter_id: int | None, reporter_is_staff: bool) -> Ineligible | None:
    """Who may earn: a member of the public who reported it themselves (not the hotline)."""
    if reporter_id is None:
        return Ineligible.NO_REPORTER
    if reporter_is_staff:
        return Ineligible.STAFF
    return None


def _period_rules(
    local_day: dt.date, campaign: Campaign, rewards_this_month: int, monthly_cap: int
) -> Ineligible | None:
    """When: within the campaign, and under the reporter's monthly cap."""
    if not campaign.contains(local_day):
        return Ineligible.OUTSIDE_CAMPAIGN
    if rewards_this_month >= monthly_cap:
        return Ineligible.MONTHLY_CAP
    return None


def prospect(
    *,
    reporter_id: int | None,
    reporter_is_staff: bool,
    local_day: dt.date,
    campaign: Campaign,
    rewards_this_month: int,
    monthly_cap: int,
) -> Ineligible | None:
    """At submission: ``None`` if this tip *can* still earn the reward, else the rule that
    already rules it out — the rules of :func:`eligibility` that are known before anyone has
    gone to look (the outcome and duplicates come later). Only a tip that can earn is given a
    claim secret and told about the reward: never promise what the rules cannot give.
    """
    return _reporter_rules(reporter_id, reporter_is_staff) or _period_rules(
        local_day, campaign, rewards_this_month, monthly_cap
    )


#: Why not, told at submission (the others are left unsaid: a hotline tip has no reporter to
#: tell, and outside the campaign there is simply no reward to speak of).
TOLD_AT_SUBMISSION = frozenset({Ineligible.STAFF, Ineligible.MONTHLY_CAP})


def secret_reissuable(reward_state: RewardState | None) -> bool:
    """May the reporter ask for a fresh claim secret (the message with it was lost or
    deleted)? While a reward is owed to them — pending or approved — which is when the secret
    is of use; never once it is paid or rejected, nor for a tip without a reward. A fresh
    secret replaces the old one; nothing else changes (wrong tries, a locked claim).
    """
    return reward_state in (RewardState.PENDING, RewardState.APPROVED)


class RewardAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"


class RewardRefusal(StrEnum):
    NOT_OFFICER = "not_officer"
    SELF_APPROVAL = "self_approval"  # dual control: the verifier may not approve
    WRONG_STATE = "wrong_state"


_TRANSITIONS: dict[tuple[RewardAction, RewardState], RewardState] = {
    (RewardAction.APPROVE, RewardState.PENDING): RewardState.APPROVED,
    (RewardAction.REJECT, RewardState.PENDING): RewardState.REJECTED,
    (RewardAction.REJECT, RewardState.APPROVED): RewardState.REJECTED,
    (RewardAction.PAY, RewardState.APPROVED): RewardState.PAID,
}


def decide_reward(
    action: RewardAction,
    state: RewardState,
    *,
    is_officer: bool,
    actor_id: int,
    verified_by: int | None,
    allow_self_approval: bool,
) -> tuple[RewardState | None, RewardRefusal | None]:
    if not is_officer:
        return None, RewardRefusal.NOT_OFFICER
    target = _TRANSITIONS.get((action, state))
    if target is None:
        return None, RewardRefusal.WRONG_STATE
    if action is RewardAction.APPROVE and not allow_self_approval and actor_id == verified_by:
        return None, RewardRefusal.SELF_APPROVAL
    return target, None


def already_done(action: RewardAction, state: RewardState) -> bool:
    """Whether ``action``'s effect is already in place (a repeated press, or a second
    officer), as opposed to the action no longer fitting the reward's state."""
    return (action, state) in {
        (RewardAction.APPROVE, RewardState.APPROVED),
        (RewardAction.APPROVE, RewardState.PAID),
        (RewardAction.REJECT, RewardState.REJECTED),
        (RewardAction.PAY, RewardState.PAID),
    }


class PayMethod(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    BANK = "bank"
    CASH = "cash"  # at the station (also the anonymous claim)


REFERENCE_MAX = 64
REASON_MAX = 200


def parse_amount(text: str) -> int | None:
    """A positive whole number of yuan (``200``, ``200元``, ``¥200``), else ``None``."""
    cleaned = text.strip().replace("元", "").replace("¥", "").replace("￥", "").strip()
    if cleaned.lower().endswith("yuan"):
        cleaned = cleaned[:-4].strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 6:
        return None
    value = int(cleaned)
    return value if value > 0 else None


def valid_reference(text: str) -> str | None:
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > REFERENCE_MAX or not cleaned.isprintable():
        return None
    return cleaned


def valid_reason(text: str) -> str | None:
    """A rejection's reason as told to the reporter (whitespace folded), else ``None``."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > REASON_MAX or not cleaned.isprintable():
        return None
    return cleaned


# -- the anonymous claim secret ----------------------------------------------------------------

SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over a counter
SECRET_LENGTH = 6
MAX_SECRET_TRIES = 5


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def hash_secret(secret: str, salt: str) -> str:
    normalised = secret.strip().upper().replace(" ", "").replace("-", "")
    return hashlib.sha256(f"{salt}:{normalised}".encode()).hexdigest()


def secret_matches(candidate: str, salt: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(candidate, salt), stored_hash)


@dataclass(frozen=True)
class Reward:
    id: int
    tip_id: int
    reporter_id: int
    amount: int
    currency: str
    state: RewardState
    verified_by: int | None
    approved_by: int | None
    rejected_by: int | None
    reject_reason: str | None
    paid_by: int | None
    paid_at: dt.datetime | None
    paid_amount: int | None
    method: PayMethod | None
    reference: str | None
    claim_tries: int
    claim_locked: bool
    claim_verified_by: int | None
    created_at: dt.datetime
    version: int


class LedgerEntry(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"
    REVERSAL = "reversal"


Pair = tuple[int, int]  # (count, yuan)


@dataclass(frozen=True)
class StateTotals:
    """The rewards as they stand now, each counted once, in its current state.

    ``approved`` is approved and not yet paid; ``paid`` counts the yuan actually paid.
    """

    pending: Pair = (0, 0)
    approved: Pair = (0, 0)
    paid: Pair = (0, 0)
    rejected: Pair = (0, 0)


def state_totals(by_state: dict[str, Pair]) -> StateTotals:
    """From ``state → (count, yuan)`` (counted by the database over the rewards table)."""
    get = {s: tuple(by_state.get(s.value, (0, 0))) for s in RewardState}
    return StateTotals(
        pending=get[RewardState.PENDING],
        approved=get[RewardState.APPROVED],
        paid=get[RewardState.PAID],
        rejected=get[RewardState.REJECTED],
    )


@dataclass(frozen=True)
class Movements:
    """What happened in a period: ledger entries of each kind, (count, yuan).

    Each is a movement, not a state: one reward approved and paid in a period appears once
    under ``created``, once under ``approved`` and once under ``paid``. ``reversed`` carries
    the negative yuan of the payments taken back.
    """

    created: Pair = (0, 0)  # rewards that became pending (a verified tip)
    approved: Pair = (0, 0)
    rejected: Pair = (0, 0)
    paid: Pair = (0, 0)  # payments recorded (gross)
    reversed: Pair = (0, 0)  # payments taken back

    @property
    def net_paid(self) -> int:
        """Yuan paid out in the period, net of the reversals recorded in it."""
        return self.paid[1] + self.reversed[1]


def movements_from_sums(by_entry: dict[str, Pair]) -> Movements:
    """Movements from ``entry → (count, yuan)`` (summed by the database)."""
    sums = {kind: (0, 0) for kind in LedgerEntry}
    for entry, (count, amount) in by_entry.items():
        kind = LedgerEntry(entry)
        sums[kind] = (sums[kind][0] + count, sums[kind][1] + amount)
    return Movements(
        created=sums[LedgerEntry.PENDING],
        approved=sums[LedgerEntry.APPROVED],
        rejected=sums[LedgerEntry.REJECTED],
        paid=sums[LedgerEntry.PAID],
        reversed=sums[LedgerEntry.REVERSAL],
    )


PERIODS = ("today", "month", "campaign")


def month_bounds(local: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month of ``local`` (aware, station time) as ``[start, next start)``."""
    start = dt.datetime(local.year, local.month, 1, tzinfo=local.tzinfo)
    nxt = dt.datetime(
        local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=local.tzinfo
    )
    return start, nxt


def ledger_periods(
    local_now: dt.datetime, campaign: Campaign
) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """Today, this month and the campaign as ``[since, until)`` bounds of station-time days
    (``local_now`` is aware, in the station's time zone)."""
    tz = local_now.tzinfo
    day_start = dt.datetime.combine(local_now.date(), dt.time(), tzinfo=tz)
    month_start, month_end = month_bounds(local_now)
    return {
        "today": (day_start, day_start + dt.timedelta(days=1)),
        "month": (month_start, month_end),
        "campaign": (
            dt.datetime.combine(campaign.start, dt.time(), tzinfo=tz),
            dt.datetime.combine(campaign.end + dt.timedelta(days=1), dt.time(), tzinfo=tz),
        ),
    }


@dataclass(frozen=True)
class LedgerReport:
    """What /ledger and the export show: the state now, and the movements of each period."""

    state: StateTotals
    movements: dict[str, Movements]  # PERIODS → movements in that period
