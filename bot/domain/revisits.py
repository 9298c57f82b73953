"""Revisits: a person who refused help or had gone is checked again later. Pure.

A revisit is made from a tip's outcome "supplies only" (help refused), "not found" or "gone",
and again from a revisit's own "supplies again" or "refused again". It waits until it is due
(``[field] revisit_after``: when cold mode next starts, or a number of hours), is posted to
the on-duty group as a light card, claimed by one of them and closed with an outcome.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tips import Outcome, Supply


class RevisitState(StrEnum):
    WAITING = "waiting"  # not due yet
    POSTED = "posted"  # its card is (or is going) out in the on-duty group
    CLAIMED = "claimed"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # its tip was reopened (a new attempt) before it was due


class RevisitOutcome(StrEnum):
    BROUGHT_IN = "brought_in"
    SUPPLIES_AGAIN = "supplies_again"
    NOT_THERE = "not_there"
    REFUSED_AGAIN = "refused_again"


#: The order of the outcome buttons.
REVISIT_OUTCOMES = (
    RevisitOutcome.BROUGHT_IN,
    RevisitOutcome.SUPPLIES_AGAIN,
    RevisitOutcome.NOT_THERE,
    RevisitOutcome.REFUSED_AGAIN,
)


class RevisitAct(StrEnum):
    """The event log's names for a revisit's life (the origin tip's log)."""

    CREATED = "revisit_created"
    POSTED = "revisit_posted"
    CLAIM = "revisit_claim"
    RELEASE = "revisit_release"
    CLOSE = "revisit_close"
    CANCELLED = "revisit_cancelled"


#: A tip's outcomes that make a revisit.
FROM_TIP = frozenset({Outcome.SUPPLIES_ONLY, Outcome.NOT_FOUND, Outcome.GONE})
#: A revisit's outcomes that make the next one.
FROM_REVISIT = frozenset({RevisitOutcome.SUPPLIES_AGAIN, RevisitOutcome.REFUSED_AGAIN})

COLD_MODE = "cold_mode"


@dataclass(frozen=True)
class Revisit:
    id: int
    tip_id: int
    previous_id: int | None
    reason: str  # an Outcome or a RevisitOutcome value: what made it
    supplies: frozenset[Supply]
    reason_at: dt.datetime
    created_at: dt.datetime
    due_at: dt.datetime | None  # None: when cold mode next starts
    state: RevisitState
    group_key: str | None
    chat_id: int | None
    message_id: int | None
    posted_at: dt.datetime | None
    claimed_by: int | None
    claimed_at: dt.datetime | None
    outcome: RevisitOutcome | None
    closed_by: int | None
    closed_at: dt.datetime | None
    version: int

    @property
    def is_open(self) -> bool:
        return self.state in (RevisitState.POSTED, RevisitState.CLAIMED)


def due_at(revisit_after: str | int, now: dt.datetime) -> dt.datetime | None:
    """When a revisit made now is due: None for "when cold mode next starts"."""
    if revisit_after == COLD_MODE:
        return None
    return now + dt.timedelta(hours=int(revisit_after))


def is_due(revisit: Revisit, now: dt.datetime, cold_started: dt.datetime | None) -> bool:
    """``cold_started``: the first time cold mode was switched on after the revisit was made
    (None: not since)."""
    if revisit.state is not RevisitState.WAITING:
        return False
    if revisit.due_at is not None:
        return now >= revisit.due_at
    return cold_started is not None and cold_started <= now


def still_wanted(revisit: Revisit, tip_closed_at: dt.datetime | None) -> bool:
    """A revisit made by a tip's outcome is moot once the tip was reopened (it is open, or
    was closed again later, which made a revisit of its own if one is needed)."""
    if tip_closed_at is None:
        return False
    return revisit.previous_id is not None or tip_closed_at <= revisit.reason_at


def reason_refused(reason: str) -> bool:
    """Whether the person refused to come in (rather than was not there)."""
    return reason in (
        Outcome.SUPPLIES_ONLY.value,
        RevisitOutcome.SUPPLIES_AGAIN.value,
        RevisitOutcome.REFUSED_AGAIN.value,
    )
