"""The transition table × roles, as plain unit tests (no Telegram, no database)."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.tips import (
    ADMIN_OUTCOMES,
    FINAL_STATES,
    MISSED_OUTCOMES,
    OPEN_STATES,
    SYSTEM,
    VERIFIED_OUTCOMES,
    Action,
    Actor,
    Flag,
    Outcome,
    Refusal,
    Role,
    State,
    Supply,
    decide,
    is_urgent,
    is_verified,
    parse_tip_code,
    supplies_from_mask,
    supplies_to_mask,
    tip_code,
)

S, R, A, O = State, Role, Action, Outcome  # noqa: E741  (short names keep the table readable)


def actor(*roles: Role) -> Actor:
    return Actor(user_id=7, roles=frozenset(roles))


STRANGER = actor()
REPORTER = actor(R.REPORTER)
MEMBER = actor(R.MEMBER)
CLAIMER = actor(R.MEMBER, R.CLAIMER)
LEADER = actor(R.MEMBER, R.LEADER)
OFFICER = actor(R.OFFICER)
ACTORS = {
    "stranger": STRANGER,
    "reporter": REPORTER,
    "member": MEMBER,
    "claimer": CLAIMER,
    "leader": LEADER,
    "officer": OFFICER,
    "system": SYSTEM,
}

# The expected table, written out independently of RULES: (action, state, outcome) → who may.
GROUP = {"member", "claimer", "leader", "officer"}
FIELD = {"claimer", "leader", "officer"}


def expected(
    action: Action, state: State, outcome: Outcome | None
) -> tuple[set[str], State | None]:
    if action is A.DISPATCH and state is S.NEW:
        return {"system", "officer"}, S.DISPATCHED
    if action is A.CLAIM and state is S.DISPATCHED:
        return GROUP, S.CLAIMED
    if action is A.RELEASE and state in (S.CLAIMED, S.EN_ROUTE):
        return FIELD, S.DISPATCHED
    if action is A.GO and state is S.CLAIMED:
        return FIELD, S.EN_ROUTE
    if action is A.ARRIVE and state in (S.CLAIMED, S.EN_ROUTE):
        return FIELD, S.ON_SCENE
    if action is A.WITHDRAW and state in (S.NEW, S.DISPATCHED):
        return {"reporter"}, S.WITHDRAWN
    if action is A.CLOSE and outcome is not None:
        if outcome in VERIFIED_OUTCOMES and state is S.ON_SCENE:
            return FIELD, S.CLOSED
        if outcome in MISSED_OUTCOMES and state in (S.EN_ROUTE, S.ON_SCENE):
            return FIELD, S.CLOSED
        if outcome in ADMIN_OUTCOMES and state in (S.NEW, S.DISPATCHED):
            return GROUP, S.CLOSED
        if outcome in ADMIN_OUTCOMES and state in (S.CLAIMED, S.EN_ROUTE, S.ON_SCENE):
            return FIELD, S.CLOSED
    return set(), None


CASES = [
    (action, state, outcome, name)
    for action in Action
    for state in State
    for outcome in ([None] if action is not A.CLOSE else list(Outcome))
    for name in ACTORS
]


@pytest.mark.parametrize(("action", "state", "outcome", "who"), CASES)
def test_transition_table(action: Action, state: State, outcome: Outcome | None, who: str) -> None:
    allowed, target = expected(action, state, outcome)
    decision = decide(action, state, ACTORS[who], outcome)
    assert decision.allowed is (who in allowed), (action, state, outcome, who)
    if decision.allowed:
        assert decision.target is target
        assert decision.refusal is None
    elif allowed:
        # Someone may do it here, just not this actor.
        assert decision.refusal is Refusal.NOT_ALLOWED
    else:
        assert decision.refusal in (Refusal.WRONG_STATE, Refusal.BAD_OUTCOME)


def test_final_states_allow_nothing() -> None:
    for state, action, who in itertools.product(FINAL_STATES, Action, ACTORS.values()):
        outcomes = list(Outcome) if action is A.CLOSE else [None]
        for outcome in outcomes:
            assert not decide(action, state, who, outcome)


def test_close_needs_an_outcome_and_others_refuse_one() -> None:
    assert decide(A.CLOSE, S.ON_SCENE, OFFICER).refusal is Refusal.BAD_OUTCOME
    assert decide(A.CLAIM, S.DISPATCHED, MEMBER, O.BROUGHT_IN).refusal is Refusal.BAD_OUTCOME


def test_helped_outcome_before_arriving_is_a_bad_outcome_not_a_stale_button() -> None:
    # "Brought in" pressed while still claimed: the tip is open, the outcome is out of order.
    assert decide(A.CLOSE, S.CLAIMED, CLAIMER, O.BROUGHT_IN).refusal is Refusal.BAD_OUTCOME


def test_member_who_did_not_claim_cannot_close_a_claimed_tip() -> None:
    assert decide(A.CLOSE, S.ON_SCENE, MEMBER, O.BROUGHT_IN).refusal is Refusal.NOT_ALLOWED
    assert decide(A.CLOSE, S.ON_SCENE, CLAIMER, O.BROUGHT_IN)


def test_open_and_final_states_partition_all_states() -> None:
    assert OPEN_STATES | FINAL_STATES == set(State)
    assert not OPEN_STATES & FINAL_STATES


def test_verified_outcomes() -> None:
    assert {o for o in Outcome if is_verified(o)} == {
        O.BROUGHT_IN,
        O.HOSPITAL,
        O.SUPPLIES_ONLY,
        O.FAMILY,
    }
    assert not is_verified(None)


@pytest.mark.parametrize(
    ("flags", "urgent"),
    [
        (set(), False),
        ({Flag.ELDERLY, Flag.UNDERDRESSED}, False),
        ({Flag.CHILD}, True),
        ({Flag.ILL, Flag.ELDERLY}, True),
    ],
)
def test_urgency(flags: set[Flag], urgent: bool) -> None:
    assert is_urgent(flags) is urgent


def test_supplies_mask_round_trip() -> None:
    for n in range(len(Supply) + 1):
        for combo in itertools.combinations(Supply, n):
            assert supplies_from_mask(supplies_to_mask(set(combo))) == frozenset(combo)
    with pytest.raises(ValueError):
        supplies_from_mask(1 << len(Supply))
    with pytest.raises(ValueError):
        supplies_from_mask(-1)


def test_tip_codes() -> None:
    assert tip_code("HS", 42) == "HS-0042"
    assert tip_code("HS", 123456) == "HS-123456"
    for text in ("HS-0042", "hs42", "#42", "42", " HS-42 "):
        assert parse_tip_code(text, "HS") == 42
    for text in ("", "HS-", "abc", "0", "-5", "HS-12a", "1" * 12):
        assert parse_tip_code(text, "HS") is None
