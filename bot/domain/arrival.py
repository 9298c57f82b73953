"""The field flow's rules: the claimer's arrival time, the reporter's "still there?" and the
"not found" follow-up that reopens a tip as a new attempt of the same incident. Pure.

Arrival time (``[field] eta_choices``, ``eta_grace_minutes``): the claimer taps how long they
need; at ETA + grace with nobody on scene they are asked (still on the way: a new arrival
time / arrived / give it back); with no answer within another grace the tip goes back to the
group. What is due follows from the tip's row (``eta_at``, ``eta_asked_at``) and the clock,
so a restart neither repeats nor loses a step.

How it combines with ``[escalation] scene_minutes``: a claim with an arrival time is watched
by the arrival rule only; the scene escalation applies to a claim without one (the claimer
never tapped a time), as before. So nobody is asked twice about the same wait.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tips import Actor, Outcome, Role, State, Tip


class FieldAct(StrEnum):
    """What the event log records of the field flow (besides the transitions). The questions
    to the reporter are messages, not changes: ``reporter_asks`` records when they were asked;
    their answers are in the log."""

    ETA = "eta"  # the claimer said when they will be there (detail: minutes)
    ETA_ASK = "eta_ask"  # the arrival time passed: the claimer was asked
    STILL_THERE = "still_there"  # … and answered (detail: the answer)
    STILL_THERE_WORDS = "still_there_words"  # … and added words
    REOPEN = "reopen"  # the reporter's new pin or words: a new attempt


#: Why the system gave a tip back to the group (the release event's detail).
RELEASE_NO_ANSWER = "eta_no_answer"

#: Where a claimer may tap an arrival time.
ETA_STATES: frozenset[State] = frozenset({State.CLAIMED, State.EN_ROUTE})
_ETA_ROLES = frozenset({Role.CLAIMER, Role.LEADER, Role.OFFICER})


def may_set_eta(state: State, actor: Actor) -> bool | None:
    """True: allowed; False: not this actor; None: not in this state (a stale button)."""
    if state not in ETA_STATES:
        return None
    return bool(actor.roles & _ETA_ROLES)


class EtaStep(StrEnum):
    ASK = "ask"
    RELEASE = "release"


def eta_due(tip: Tip, now: dt.datetime, grace_minutes: int) -> EtaStep | None:
    """What the arrival rule asks for now, if anything."""
    if tip.state not in ETA_STATES or tip.eta_at is None:
        return None
    grace = dt.timedelta(minutes=grace_minutes)
    if tip.eta_asked_at is None:
        return EtaStep.ASK if now >= tip.eta_at + grace else None
    return EtaStep.RELEASE if now >= tip.eta_asked_at + grace else None


# -- "still there?" -------------------------------------------------------------------------


class Presence(StrEnum):
    HERE = "here"  # 还在
    LEFT = "left"  # 已经离开
    AWAY = "away"  # 不在现场了 (the reporter is no longer there to see)


class AskKind(StrEnum):
    STILL_THERE = "still_there"
    NOT_FOUND = "not_found"


#: After answering "still there?", words the reporter types within this long are added to it.
WORDS_MINUTES = 15
#: At most this many characters of the reporter's words are kept (a card line, not a letter).
WORDS_MAX_CHARS = 200


def clean_words(text: str | None) -> str | None:
    """The reporter's words as stored: one line, trimmed, bounded; None if nothing is left."""
    if not text:
        return None
    words = " ".join(text.split())[:WORDS_MAX_CHARS]
    return words or None


# -- "not found" is not the end ---------------------------------------------------------------


def may_reopen(tip: Tip, now: dt.datetime, reopen_hours: int) -> bool:
    """A tip closed as "not found" within ``reopen_hours`` may be reopened by its reporter's
    new pin or words (0 hours: never). ("Gone" is a revisit's business, not a new search.)"""
    if tip.state is not State.CLOSED or tip.outcome is not Outcome.NOT_FOUND:
        return False
    if tip.closed_at is None or reopen_hours <= 0:
        return False
    return now < tip.closed_at + dt.timedelta(hours=reopen_hours)


def reopen_changes(tip: Tip, now: dt.datetime) -> dict[str, object]:
    """What a reopen writes on the tip: back in the queue as attempt + 1 (the escalation
    clock starts again; claim, arrival and outcome belong to the attempt that ended)."""
    return {
        "outcome": None,
        "closed_at": None,
        "closed_by": None,
        "claimed_by": None,
        "claimed_at": None,
        "arrived_at": None,
        "dispatched_at": now,
        "widened_at": None,
        "eta_at": None,
        "eta_asked_at": None,
        "attempt": tip.attempt + 1,
    }


#: The messages of a reopened tip's earlier attempts are kept as ``card_attempt``,
#: ``location_attempt``, ``photo_attempt`` (no longer edited; the new attempt has its own).
EARLIER_SUFFIX = "_attempt"
EARLIER_CARD = "card" + EARLIER_SUFFIX


@dataclass(frozen=True)
class Heard:
    """What the reporter said, as a card shows it."""

    at: dt.datetime
    answer: str | None  # a Presence value for "still there?"; None for added words only
    words: str | None


@dataclass(frozen=True)
class FieldFacts:
    """What a card shows of the field flow besides the tip's row."""

    eta_choices: tuple[int, ...] = ()
    presence: Heard | None = None  # the answer to "still there?" of this attempt
    added: Heard | None = None  # the words or pin that reopened this attempt
    earlier: tuple[tuple[int, str, dt.datetime], ...] = ()  # (attempt, outcome, closed)
    first_card_url: str | None = None
    released_at: dt.datetime | None = None  # given back for want of an answer (still so)


def message_url(chat_id: int, message_id: int) -> str | None:
    """A link to a message of a supergroup (``-100…`` ids); other chats have none."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{message_id}"
