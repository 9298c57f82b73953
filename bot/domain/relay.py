"""Anonymous questions: when typed text is a question or an answer. Pure.

A patrol member presses "ask the reporter" on a card: the bot prompts them (state
``prompted``) and takes the next text they send in that chat, within :data:`PROMPT_OPEN`, as
the question — a reply to the prompt or, where the bot can see it, plain text. Nobody is left
wondering: a prompt with no question after :data:`NUDGE_AFTER` is followed up once, in words.

The relayed question (``asked``) is *open* for the reporter for :data:`QUESTION_OPEN` while
the tip is open: their plain text (no Telegram "reply" needed) is the answer, unless they
were busy with a new report since the question came. After an answer, more plain text within
:data:`FOLLOW_UP` is still part of it (people type in bursts) — unless a report is in
progress. The newest open question wins when there are several (two tips); the reporter is
told which tip the answer went to, and every answer taken from plain text carries a way out
("this was not an answer").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

PROMPT_OPEN = dt.timedelta(minutes=15)
NUDGE_AFTER = dt.timedelta(minutes=3)
QUESTION_OPEN = dt.timedelta(hours=2)
FOLLOW_UP = dt.timedelta(minutes=15)


class QState(StrEnum):
    PROMPTED = "prompted"  # the member was asked to type their question
    ASKED = "asked"  # relayed to the reporter
    CLOSED = "closed"  # the reporter said a text was not an answer


@dataclass(frozen=True)
class Question:
    id: int
    tip_id: int
    code: str
    chat_id: int  # where the patrol asked
    member_id: int
    state: QState
    created_at: dt.datetime
    asked_at: dt.datetime | None
    answered_at: dt.datetime | None


def prompt_open(question: Question, now: dt.datetime) -> bool:
    """Is this member's next text in that chat still taken as their question?"""
    return question.state is QState.PROMPTED and now - question.created_at <= PROMPT_OPEN


def needs_nudge(question: Question, now: dt.datetime) -> bool:
    """A prompt that got no question for a while (the member typed without replying, and a
    bot in a group sees only replies to it): say what to do, once."""
    return question.state is QState.PROMPTED and now - question.created_at >= NUDGE_AFTER


def answer_target(
    questions: list[Question], draft_touched: dt.datetime | None, now: dt.datetime
) -> Question | None:
    """Which question a reporter's plain text answers, if any.

    ``questions``: the reporter's questions on open tips; ``draft_touched``: when their report
    in progress last changed (None: no report in progress).
    """
    asked = [
        q
        for q in questions
        if q.state is QState.ASKED and q.asked_at is not None and now - q.asked_at <= QUESTION_OPEN
    ]
    if not asked:
        return None
    newest = max(asked, key=lambda q: (q.asked_at, q.id))
    assert newest.asked_at is not None
    if newest.answered_at is None:
        # Busy with a new report since the question came: the text belongs to the report.
        return newest if draft_touched is None or draft_touched <= newest.asked_at else None
    if draft_touched is None and now - newest.answered_at <= FOLLOW_UP:
        return newest
    return None


def open_for_answer(questions: list[Question], now: dt.datetime) -> list[Question]:
    """The questions a reporter may still be answering (to say "you have two")."""
    return [
        q
        for q in questions
        if q.state is QState.ASKED and q.asked_at is not None and now - q.asked_at <= QUESTION_OPEN
    ]
