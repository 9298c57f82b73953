"""The officers' dashboard (issue 14): how a tip shows on the map, and the sign-in's tokens.
Pure: no I/O (the random tokens themselves are drawn by the service).

A marker's *state* is its colour: what needs someone first. Its *late* flag is the ring:
a clock the station set has run out (unclaimed past the escalation time, nobody on scene
``scene_minutes`` after the claim, or past the arrival time the claimer gave). Its age band
is how long ago it was reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.schedule import EscalationRules
from bot.domain.tips import State, Tip

#: A sign-in link works once, for this long.
LINK_MINUTES = 10


class MarkerState(StrEnum):
    URGENT = "urgent"  # unclaimed, a child or someone ill or injured
    OVERDUE = "overdue"  # unclaimed for longer than the escalation time
    UNCLAIMED = "unclaimed"
    CLAIMED = "claimed"
    EN_ROUTE = "en_route"  # on the way (no arrival time given)
    EN_ROUTE_ETA = "en_route_eta"  # on the way, arriving at the time the claimer gave
    ON_SCENE = "on_scene"


class AgeBand(StrEnum):
    FRESH = "fresh"  # under 30 minutes
    HOUR = "hour"  # under 2 hours
    OLD = "old"


@dataclass(frozen=True)
class Marker:
    state: MarkerState
    late: bool
    age_minutes: int
    age: AgeBand
    eta: dt.datetime | None = None  # when the claimer said they would be there


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


def age_band(age_minutes: int) -> AgeBand:
    if age_minutes < 30:
        return AgeBand.FRESH
    return AgeBand.HOUR if age_minutes < 120 else AgeBand.OLD


def marker(
    tip: Tip, now: dt.datetime, rules: EscalationRules, eta: dt.datetime | None = None
) -> Marker:
    """How an open tip shows on the map at ``now``, judged by the escalation rules (overdue
    when the escalator would repost it). ``eta``: the arrival time the claimer gave, where
    the field flow records one (optional)."""
    age = tip.age_minutes(now)
    state: MarkerState
    late = False
    if tip.state in (State.NEW, State.DISPATCHED):
        waiting = _minutes(now - (tip.dispatched_at or tip.created_at))
        late = waiting >= rules.claim_limit(tip)
        if tip.urgent:
            state = MarkerState.URGENT
        else:
            state = MarkerState.OVERDUE if late else MarkerState.UNCLAIMED
        eta = None
    elif tip.state is State.ON_SCENE:
        state, eta = MarkerState.ON_SCENE, None
    else:
        if tip.state is State.EN_ROUTE:
            state = MarkerState.EN_ROUTE if eta is None else MarkerState.EN_ROUTE_ETA
        else:
            state = MarkerState.CLAIMED
        claimed = tip.claimed_at or tip.created_at
        late = _minutes(now - claimed) >= rules.scene_minutes or (eta is not None and now > eta)
    return Marker(state, late, age, age_band(age), eta)


# -- sign-in tokens ---------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """What the database keeps of a link's or a session's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str, key: bytes) -> str:
    """The token a page's requests that change something must carry: bound to the session
    (a page of another session's cannot be replayed) and to the server's key."""
    return hmac.new(key, b"csrf:" + session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, key: bytes, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session_token, key), given or "")
