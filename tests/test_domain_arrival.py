"""The field flow's pure rules (bot/domain/arrival.py): when the claimer is asked and the tip
given back, who may give an arrival time, when "not found" may be reopened."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.domain.arrival import (
    EtaStep,
    clean_words,
    eta_due,
    may_reopen,
    may_set_eta,
    message_url,
    reopen_changes,
)
from bot.domain.schedule import EscalationRules, Level, escalations_due
from bot.domain.tips import Actor, Outcome, Role, State
from tests.test_domain_schedule import T, tip

MIN = dt.timedelta(minutes=1)


def claimed(**changes: object):
    return replace(tip(), state=State.EN_ROUTE, claimed_by=7, claimed_at=T, **changes)


def test_eta_asked_at_eta_plus_grace_then_released_after_another_grace() -> None:
    t = claimed(eta_at=T + 10 * MIN)
    assert eta_due(t, T + 19 * MIN, 10) is None
    assert eta_due(t, T + 20 * MIN, 10) is EtaStep.ASK
    asked = replace(t, eta_asked_at=T + 20 * MIN)
    assert eta_due(asked, T + 29 * MIN, 10) is None
    assert eta_due(asked, T + 30 * MIN, 10) is EtaStep.RELEASE
    # Down for an hour: asked first (a full grace to answer), not released at once.
    assert eta_due(t, T + 90 * MIN, 10) is EtaStep.ASK


@pytest.mark.parametrize("state", [State.DISPATCHED, State.ON_SCENE, State.CLOSED])
def test_eta_watch_only_while_on_the_way(state: State) -> None:
    t = replace(claimed(eta_at=T, eta_asked_at=T), state=state)
    assert eta_due(t, T + 600 * MIN, 10) is None


def test_no_eta_nothing_due() -> None:
    assert eta_due(claimed(), T + 600 * MIN, 10) is None


def test_scene_escalation_only_for_a_claim_without_a_time() -> None:
    rules = EscalationRules(10, 5, 20, 45)
    assert escalations_due(claimed(), T + 45 * MIN, rules, set()) == [Level.SCENE]
    assert escalations_due(claimed(eta_at=T + 60 * MIN), T + 45 * MIN, rules, set()) == []


def test_who_may_give_an_arrival_time() -> None:
    for role, allowed in [
        (Role.CLAIMER, True),
        (Role.LEADER, True),
        (Role.OFFICER, True),
        (Role.MEMBER, False),
        (Role.REPORTER, False),
        (Role.STRANGER, False),
    ]:
        actor = Actor(1, frozenset({role}))
        assert may_set_eta(State.CLAIMED, actor) is allowed, role
        assert may_set_eta(State.EN_ROUTE, actor) is allowed, role
        assert may_set_eta(State.ON_SCENE, actor) is None  # stale, whoever presses


def test_reopen_only_not_found_within_the_hours() -> None:
    closed = replace(tip(), state=State.CLOSED, outcome=Outcome.NOT_FOUND, closed_at=T)
    assert may_reopen(closed, T + 119 * MIN, 2)
    assert not may_reopen(closed, T + 120 * MIN, 2)
    assert not may_reopen(closed, T + MIN, 0)  # 0 hours: never
    for outcome in (Outcome.GONE, Outcome.BROUGHT_IN, Outcome.INVALID, Outcome.DUPLICATE):
        assert not may_reopen(replace(closed, outcome=outcome), T + MIN, 2), outcome
    assert not may_reopen(replace(closed, state=State.DISPATCHED, outcome=None), T, 2)


def test_reopen_clears_the_attempt_and_counts_it() -> None:
    closed = replace(
        claimed(eta_at=T, eta_asked_at=T),
        state=State.CLOSED,
        outcome=Outcome.NOT_FOUND,
        closed_at=T,
        closed_by=7,
        arrived_at=T,
        attempt=1,
    )
    changes = reopen_changes(closed, T + 30 * MIN)
    assert changes["attempt"] == 2 and changes["dispatched_at"] == T + 30 * MIN
    for cleared in ("outcome", "closed_at", "closed_by", "claimed_by", "claimed_at"):
        assert changes[cleared] is None, cleared
    assert changes["arrived_at"] is None and changes["eta_at"] is None


def test_words_and_links() -> None:
    assert clean_words("  往磁湖\n 方向 ") == "往磁湖 方向"
    assert clean_words("   ") is None and clean_words(None) is None
    assert len(clean_words("字" * 1000) or "") == 200
    assert message_url(-1001000000111, 42) == "https://t.me/c/1000000111/42"
    assert message_url(-4000111, 42) is None  # a basic group has no links
