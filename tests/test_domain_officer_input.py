"""The duty officer's typed answers as a state machine (bot/domain/officer_input.py).

One table says what every answer does to every open question; hypothesis then plays random
sequences and checks that every question and every action they reach is well formed.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.officer_input import (
    AmountConfirmed,
    Ask,
    Awaiting,
    MethodChosen,
    Pay,
    Refusal,
    Reject,
    Text,
    answer,
    ask_method,
    ask_reason,
)
from bot.domain.rewards import REASON_MAX, REFERENCE_MAX, PayMethod, valid_reference

R = Refusal
LIST = 55  # the /rewards list message the action started from
CASH, WECHAT = PayMethod.CASH, PayMethod.WECHAT

OPEN = {
    "nothing": None,
    "method": ask_method(1, LIST),
    "reason": ask_reason(1, LIST),
    "reference": Awaiting(Ask.REFERENCE, 1, LIST, WECHAT),
    "amount": Awaiting(Ask.AMOUNT, 1, LIST, WECHAT, "W-1"),
}

EVENTS = {
    "words": Text("  重复  报告 "),
    "200": Text("200元"),
    "blank": Text(" \n "),
    "65 chars": Text("x" * (REFERENCE_MAX + 1)),
    "201 chars": Text("x" * (REASON_MAX + 1)),
    "zero": Text("0"),
    "control char": Text("A\x00B"),
    "cash": MethodChosen(1, CASH),
    "cash, other reward": MethodChosen(2, CASH),
    "amount": AmountConfirmed(1, 200),
    "amount, other reward": AmountConfirmed(2, 200),
}

REF = Awaiting(Ask.REFERENCE, 1, LIST, CASH)  # a method chosen on the list's payment
REF_FRESH = Awaiting(Ask.REFERENCE, 1, None, CASH)  # a method button from elsewhere


def amount(reference: str) -> Awaiting:
    return Awaiting(Ask.AMOUNT, 1, LIST, WECHAT, reference)


def reject(reason: str) -> Reject:
    return Reject(1, reason, LIST)


def paid(amount: int) -> Pay:
    return Pay(1, WECHAT, "W-1", amount, LIST)


NA, MF, BR, BF, BA = R.NOTHING_ASKED, R.METHOD_FIRST, R.BAD_REASON, R.BAD_REFERENCE, R.BAD_AMOUNT
MC, ST = R.METHOD_CHOSEN, R.STALE
OTHER = Awaiting(Ask.REFERENCE, 2, None, CASH)  # another reward's payment, started afresh

# fmt: off
TABLE = {
    #                       nothing    method  reason            reference         amount
    "words":               (NA,        MF,     reject("重复 报告"), amount("重复 报告"), BA),
    "200":                 (NA,        MF,     reject("200元"),  amount("200元"),  paid(200)),
    "blank":               (NA,        MF,     BR,               BF,               BA),
    "65 chars":            (NA,        MF,     reject("x" * 65), BF,               BA),
    "201 chars":           (NA,        MF,     BR,               BF,               BA),
    "zero":                (NA,        MF,     reject("0"),      amount("0"),      BA),
    "control char":        (NA,        MF,     BR,               BF,               BA),
    "cash":                (REF_FRESH, REF,    REF_FRESH,        MC,               MC),
    "cash, other reward":  (OTHER,     OTHER,  OTHER,            OTHER,            OTHER),
    "amount":              (ST,        ST,     ST,               ST,               paid(200)),
    "amount, other reward": (ST,       ST,     ST,               ST,               ST),
}
# fmt: on


def test_the_table_covers_every_question_and_every_answer() -> None:
    assert set(TABLE) == set(EVENTS)
    assert all(len(row) == len(OPEN) for row in TABLE.values())
    assert {a.ask for a in OPEN.values() if a is not None} == set(Ask)


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("question", list(OPEN))
def test_every_answer_to_every_question(question: str, event: str) -> None:
    expected = TABLE[event][list(OPEN).index(question)]
    assert answer(OPEN[question], EVENTS[event]) == expected


def test_the_reference_limit_is_the_domains() -> None:
    at_limit = Text("R" * REFERENCE_MAX)
    assert answer(OPEN["reference"], at_limit) == amount("R" * REFERENCE_MAX)
    assert answer(OPEN["reference"], Text("R" * (REFERENCE_MAX + 1))) is R.BAD_REFERENCE


def test_a_question_is_stored_and_read_back_as_it_was() -> None:
    for awaiting in [a for a in OPEN.values() if a is not None] + [REF_FRESH]:
        assert Awaiting.from_stored(*awaiting.stored()) == awaiting
    # As the pending-input rows are written (the kind names what is asked).
    assert OPEN["amount"].stored() == (
        "pay_amount",
        {"reward": 1, "list": LIST, "method": "wechat", "reference": "W-1"},
    )
    assert ask_method(9).stored() == ("pay_method", {"reward": 9})


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("pay_bitcoin", {"reward": 1}),  # not a question this version asks
        ("reject_reason", {}),  # no reward
        ("reject_reason", {"reward": "x"}),
        ("pay_reference", {"reward": 1}),  # no method
        ("pay_reference", {"reward": 1, "method": "gold"}),
        ("pay_amount", {"reward": 1, "method": "cash"}),  # no reference
    ],
)
def test_a_row_this_version_does_not_understand_is_no_question(kind: str, data: dict) -> None:
    assert Awaiting.from_stored(kind, data) is None


# -- random sequences --------------------------------------------------------------------------

events = st.one_of(
    st.builds(Text, st.text(max_size=220) | st.integers(-5, 10**7).map(str)),
    st.builds(MethodChosen, st.integers(1, 3), st.sampled_from(PayMethod)),
    st.builds(AmountConfirmed, st.integers(1, 3), st.integers(1, 500)),
)
starts = st.none() | st.builds(ask_reason, st.integers(1, 3)) | st.builds(
    ask_method, st.integers(1, 3), st.none() | st.integers(1, 99)
)


@settings(max_examples=400, deadline=None)
@given(start=starts, sequence=st.lists(events, max_size=30))
def test_every_question_and_action_reached_is_well_formed(
    start: Awaiting | None, sequence: list
) -> None:
    awaiting = start
    for event in sequence:
        got = answer(awaiting, event)
        if isinstance(got, Refusal):
            continue  # the question stays as it was
        if isinstance(got, Awaiting):
            assert Awaiting.from_stored(*got.stored()) == got
            if got.ask is Ask.AMOUNT:
                assert got.reference is not None and valid_reference(got.reference) == got.reference
            awaiting = got
            continue
        # An action: only with what it needs, and the question is answered.
        if isinstance(got, Reject):
            assert 0 < len(got.reason) <= REASON_MAX and got.reason.isprintable()
            assert awaiting is not None and awaiting.ask is Ask.REASON
        else:
            assert isinstance(got, Pay) and got.amount > 0
            assert valid_reference(got.reference) == got.reference
            assert awaiting is not None and awaiting.ask is Ask.AMOUNT
            assert (got.method, got.reference) == (awaiting.method, awaiting.reference)
        assert got.reward_id == awaiting.reward_id and got.list_id == awaiting.list_id
        awaiting = None
