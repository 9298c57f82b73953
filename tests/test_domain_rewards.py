"""Reward eligibility and the reward's life, as tables of plain values."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.domain.rewards import (
    Campaign,
    Claimant,
    Ineligible,
    RewardAction,
    RewardRefusal,
    RewardState,
    decide_reward,
    eligibility,
    first_reporter,
    hash_secret,
    new_secret,
    parse_amount,
    secret_matches,
    valid_reference,
)
from bot.domain.tips import VERIFIED_OUTCOMES, Outcome
from tests.oracles import movements

CAMPAIGN = Campaign(dt.date(2026, 11, 21), dt.date(2027, 3, 15))
T = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)
ME = Claimant(tip_id=2, reporter_id=501, created_at=T, reporter_is_staff=False)
EARLIER = Claimant(
    tip_id=1, reporter_id=502, created_at=T - dt.timedelta(minutes=5), reporter_is_staff=False
)
STAFF = Claimant(
    tip_id=3, reporter_id=7102, created_at=T - dt.timedelta(hours=1), reporter_is_staff=True
)
HOTLINE = Claimant(
    tip_id=4, reporter_id=None, created_at=T - dt.timedelta(hours=2), reporter_is_staff=False
)


def expected(outcome, claimant, first, count, day) -> Ineligible | None:
    """The rule, written out once more, in the order a reporter would ask "why not?"."""
    if outcome not in VERIFIED_OUTCOMES:
        return Ineligible.NOT_VERIFIED
    if claimant.reporter_id is None:
        return Ineligible.NO_REPORTER
    if claimant.reporter_is_staff:
        return Ineligible.STAFF
    if first is not None and first.tip_id != claimant.tip_id:
        return Ineligible.DUPLICATE
    if not CAMPAIGN.start <= day <= CAMPAIGN.end:
        return Ineligible.OUTSIDE_CAMPAIGN
    if count >= 5:
        return Ineligible.MONTHLY_CAP
    return None


INCIDENTS = {
    "alone": [ME],
    "with_earlier_public": [EARLIER, ME],
    "with_earlier_staff": [STAFF, ME],
    "with_earlier_hotline": [HOTLINE, ME],
}
DAYS = {
    "first_day": dt.date(2026, 11, 21),
    "mid": dt.date(2026, 12, 1),
    "last_day": dt.date(2027, 3, 15),
    "before": dt.date(2026, 11, 20),
    "after": dt.date(2027, 3, 16),
}


@pytest.mark.parametrize(
    ("outcome", "incident", "count", "day"),
    list(itertools.product(list(Outcome), INCIDENTS, [0, 4, 5, 9], DAYS)),
)
def test_eligibility_table(outcome: Outcome, incident: str, count: int, day: str) -> None:
    claimants = INCIDENTS[incident]
    first = first_reporter(claimants)
    got = eligibility(
        outcome=outcome,
        claimant=ME,
        first=first,
        rewards_this_month=count,
        monthly_cap=5,
        local_day=DAYS[day],
        campaign=CAMPAIGN,
    )
    assert got == expected(outcome, ME, first, count, DAYS[day])


def test_staff_and_hotline_never_earn() -> None:
    for claimant, reason in ((STAFF, Ineligible.STAFF), (HOTLINE, Ineligible.NO_REPORTER)):
        got = eligibility(
            outcome=Outcome.BROUGHT_IN,
            claimant=claimant,
            first=None,
            rewards_this_month=0,
            monthly_cap=5,
            local_day=dt.date(2026, 12, 1),
            campaign=CAMPAIGN,
        )
        assert got is reason


def test_first_reporter_is_the_earliest_member_of_the_public() -> None:
    assert first_reporter([ME, EARLIER, STAFF, HOTLINE]) == EARLIER
    assert first_reporter([STAFF, HOTLINE]) is None
    same_time = Claimant(tip_id=9, reporter_id=503, created_at=T, reporter_is_staff=False)
    assert first_reporter([same_time, ME]) == ME  # ties: the lower tip id


@pytest.mark.parametrize(
    ("action", "state", "target"),
    [
        (RewardAction.APPROVE, RewardState.PENDING, RewardState.APPROVED),
        (RewardAction.REJECT, RewardState.PENDING, RewardState.REJECTED),
        (RewardAction.REJECT, RewardState.APPROVED, RewardState.REJECTED),
        (RewardAction.PAY, RewardState.APPROVED, RewardState.PAID),
    ],
)
def test_reward_transitions(action, state, target) -> None:
    got = decide_reward(
        action, state, is_officer=True, actor_id=1, verified_by=2, allow_self_approval=False
    )
    assert got == (target, None)


def test_reward_refusals() -> None:
    ok = dict(actor_id=1, verified_by=2, allow_self_approval=False)
    for action, state in itertools.product(RewardAction, RewardState):
        target, refusal = decide_reward(action, state, is_officer=False, **ok)
        assert (target, refusal) == (None, RewardRefusal.NOT_OFFICER)
    # Paid twice, approved twice, paid before approval: wrong state.
    for action, state in [
        (RewardAction.PAY, RewardState.PAID),
        (RewardAction.PAY, RewardState.PENDING),
        (RewardAction.APPROVE, RewardState.APPROVED),
        (RewardAction.REJECT, RewardState.PAID),
    ]:
        assert decide_reward(action, state, is_officer=True, **ok)[1] is RewardRefusal.WRONG_STATE
    # Dual control.
    self_ok = decide_reward(
        RewardAction.APPROVE,
        RewardState.PENDING,
        is_officer=True,
        actor_id=2,
        verified_by=2,
        allow_self_approval=False,
    )
    assert self_ok == (None, RewardRefusal.SELF_APPROVAL)
    allowed = decide_reward(
        RewardAction.APPROVE,
        RewardState.PENDING,
        is_officer=True,
        actor_id=2,
        verified_by=2,
        allow_self_approval=True,
    )
    assert allowed == (RewardState.APPROVED, None)
    # The verifier may still record the payment once someone else approved.
    pay = decide_reward(
        RewardAction.PAY,
        RewardState.APPROVED,
        is_officer=True,
        actor_id=2,
        verified_by=2,
        allow_self_approval=False,
    )
    assert pay == (RewardState.PAID, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200", 200),
        (" 200 ", 200),
        ("200元", 200),
        ("¥150", 150),
        ("50 yuan", 50),
        ("0", None),
        ("-5", None),
        ("12.5", None),
        ("2e2", None),
        ("", None),
        ("１２", None),
        ("9999999", None),
        ("abc", None),
    ],
)
def test_amounts_are_positive_whole_yuan(text: str, value: int | None) -> None:
    assert parse_amount(text) == value


def test_references_are_bounded() -> None:
    assert valid_reference(" 4200 0012 ") == "4200 0012"
    assert valid_reference("") is None
    assert valid_reference("x" * 65) is None
    assert valid_reference("ok\x00") is None


def test_claim_secrets() -> None:
    secret = new_secret()
    assert len(secret) == 6 and not set(secret) & set("01OIL")
    digest = hash_secret(secret, "salt")
    assert secret_matches(secret.lower(), "salt", digest)
    assert secret_matches(f" {secret[:3]}-{secret[3:]} ", "salt", digest)
    assert not secret_matches("AAAAAA", "salt", digest)
    assert not secret_matches(secret, "other-salt", digest)
    assert len({new_secret() for _ in range(200)}) > 190


def test_movements_count_each_entry_and_net_the_reversals() -> None:
    got = movements(
        [
            ("pending", 200),
            ("approved", 200),
            ("paid", 200),
            ("reversal", -200),
            ("paid", 180),
            ("pending", 200),
            ("rejected", 200),
        ]
    )
    assert got.created == (2, 400)
    assert got.approved == (1, 200)
    assert got.paid == (2, 380)  # payments recorded, gross
    assert got.reversed == (1, -200)
    assert got.net_paid == 180
    assert got.rejected == (1, 200)
