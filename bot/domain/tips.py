"""The tip's life: states, outcomes, actions and who may do what — as data, in one place.

```
new ─dispatch─▶ dispatched ─claim─▶ claimed ─go─▶ en_route ─arrive─▶ on_scene ─close─▶ closed
 │                 ▲                  │  └──────────arrive──────────────▲
 │                 └────release───────┘ (also from en_route)
 └─withdraw (reporter, before claim)      duplicate / invalid: from any open state
```

Pure: no Telegram, no SQL, no I/O. Every transition goes through :func:`decide`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.spots import Spot


class State(StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    CLAIMED = "claimed"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN_STATES: frozenset[State] = frozenset(
    {State.NEW, State.DISPATCHED, State.CLAIMED, State.EN_ROUTE, State.ON_SCENE}
)
FINAL_STATES: frozenset[State] = frozenset({State.CLOSED, State.WITHDRAWN})


class Outcome(StrEnum):
    BROUGHT_IN = "brought_in"
    HOSPITAL = "hospital"
    SUPPLIES_ONLY = "supplies_only"
    FAMILY = "family"
    NOT_FOUND = "not_found"
    GONE = "gone"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


#: Outcomes where the person was found and helped: the tip is *verified*.
VERIFIED_OUTCOMES: frozenset[Outcome] = frozenset(
    {Outcome.BROUGHT_IN, Outcome.HOSPITAL, Outcome.SUPPLIES_ONLY, Outcome.FAMILY}
)
#: Outcomes that mean the patrol went and did not find the person.
MISSED_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.NOT_FOUND, Outcome.GONE})
#: Outcomes an acting member may set without having gone out.
ADMIN_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.DUPLICATE, Outcome.INVALID})


def is_verified(outcome: Outcome | str | None) -> bool:
    return outcome is not None and Outcome(outcome) in VERIFIED_OUTCOMES


class Supply(StrEnum):
    """What a patrol hands out to someone who will not come in (the plan: 寒衣寒被、食物饮品)."""

    COAT = "coat"
    QUILT = "quilt"
    FOOD = "food"
    DRINK = "drink"
    HOTLINE_CARD = "hotline_card"


SUPPLY_ORDER: tuple[Supply, ...] = tuple(Supply)


def supplies_to_mask(items: frozenset[Supply] | set[Supply]) -> int:
    return sum(1 << SUPPLY_ORDER.index(item) for item in items)


def supplies_from_mask(mask: int) -> frozenset[Supply]:
    if mask < 0 or mask >= 1 << len(SUPPLY_ORDER):
        raise ValueError("supply mask out of range")
    return frozenset(s for i, s in enumerate(SUPPLY_ORDER) if mask & (1 << i))


class Action(StrEnum):
    DISPATCH = "dispatch"
    CLAIM = "claim"
    RELEASE = "release"
    GO = "go"
    ARRIVE = "arrive"
    CLOSE = "close"
    WITHDRAW = "withdraw"


class Role(StrEnum):
    """How an actor relates to one particular tip (computed per tip, see :class:`Actor`), and
    the role the event log records for whoever acted."""

    SYSTEM = "system"
    REPORTER = "reporter"  # the person who reported this tip
    CLAIMER = "claimer"  # the member who claimed this tip
    MEMBER = "member"  # member of the group the tip is assigned to
    LEADER = "leader"  # leader of the group the tip is assigned to
    OFFICER = "officer"  # duty officer: may act on any tip
    # Recorded only (no rule grants them anything):
    STAFF = "staff"  # on the staff list, with no role towards what they tried
    STRANGER = "stranger"  # not on the staff list
    ADMIN = "admin"  # the command line (warmline purge)


@dataclass(frozen=True)
class Actor:
    """An actor as seen by one tip: the set of roles they hold towards it."""

    user_id: int | None
    roles: frozenset[Role]

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.CLAIMER, Role.MEMBER, Role.LEADER, Role.OFFICER})

    def primary_role(self) -> Role | None:
        for role in (
            Role.SYSTEM,
            Role.OFFICER,
            Role.LEADER,
            Role.CLAIMER,
            Role.MEMBER,
            Role.REPORTER,
        ):
            if role in self.roles:
                return role
        return None


SYSTEM = Actor(user_id=None, roles=frozenset({Role.SYSTEM}))

_S = State
_R = Role
_FIELD = frozenset({_R.CLAIMER, _R.LEADER, _R.OFFICER})  # the claimer and those who oversee
_GROUP = frozenset({_R.MEMBER, _R.CLAIMER, _R.LEADER, _R.OFFICER})


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    outcomes: frozenset[Outcome] = frozenset()  # for CLOSE: the outcomes allowed by this rule


#: The transition table. A (action, state, outcome) is allowed for an actor if some rule
#: lists the state as a source, the outcome (for CLOSE) and one of the actor's roles.
RULES: tuple[Rule, ...] = (
    Rule(Action.DISPATCH, frozenset({_S.NEW}), _S.DISPATCHED, frozenset({_R.SYSTEM, _R.OFFICER})),
    Rule(Action.CLAIM, frozenset({_S.DISPATCHED}), _S.CLAIMED, _GROUP),
    Rule(Action.RELEASE, frozenset({_S.CLAIMED, _S.EN_ROUTE}), _S.DISPATCHED, _FIELD),
    Rule(Action.GO, frozenset({_S.CLAIMED}), _S.EN_ROUTE, _FIELD),
    Rule(Action.ARRIVE, frozenset({_S.CLAIMED, _S.EN_ROUTE}), _S.ON_SCENE, _FIELD),
    Rule(Action.CLOSE, frozenset({_S.ON_SCENE}), _S.CLOSED, _FIELD, VERIFIED_OUTCOMES),
    Rule(Action.CLOSE, frozenset({_S.EN_ROUTE, _S.ON_SCENE}), _S.CLOSED, _FIELD, MISSED_OUTCOMES),
    # An unclaimed tip may be closed as duplicate/invalid by anyone in its group.
    Rule(Action.CLOSE, frozenset({_S.NEW, _S.DISPATCHED}), _S.CLOSED, _GROUP, ADMIN_OUTCOMES),
    # A claimed one only by the claimer or those who oversee.
    Rule(
        Action.CLOSE,
        frozenset({_S.CLAIMED, _S.EN_ROUTE, _S.ON_SCENE}),
        _S.CLOSED,
        _FIELD,
        ADMIN_OUTCOMES,
    ),
    Rule(
        Action.WITHDRAW, frozenset({_S.NEW, _S.DISPATCHED}), _S.WITHDRAWN, frozenset({_R.REPORTER})
    ),
)


class Refusal(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the actor's role may never do this here
    WRONG_STATE = "wrong_state"  # nobody may do this in the current state (stale button)
    BAD_OUTCOME = "bad_outcome"  # CLOSE without an outcome, or one not allowed from this state


@dataclass(frozen=True)
class Decision:
    allowed: bool
    target: State | None = None
    refusal: Refusal | None = None

    def __bool__(self) -> bool:
        return self.allowed


def decide(action: Action, state: State, actor: Actor, outcome: Outcome | None = None) -> Decision:
    """May ``actor`` do ``action`` to a tip in ``state`` (with ``outcome`` for CLOSE)?"""
    if action is Action.CLOSE and outcome is None:
        return Decision(False, refusal=Refusal.BAD_OUTCOME)
    if action is not Action.CLOSE and outcome is not None:
        return Decision(False, refusal=Refusal.BAD_OUTCOME)
    candidates = [
        rule
        for rule in RULES
        if rule.action is action
        and state in rule.sources
        and (action is not Action.CLOSE or outcome in rule.outcomes)
    ]
    if not candidates:
        if action is Action.CLOSE and state in OPEN_STATES:
            return Decision(False, refusal=Refusal.BAD_OUTCOME)
        return Decision(False, refusal=Refusal.WRONG_STATE)
    for rule in candidates:
        if rule.roles & actor.roles:
            return Decision(True, target=rule.target)
    return Decision(False, refusal=Refusal.NOT_ALLOWED)


def changes_for(
    action: Action,
    tip: Tip,
    by: int | None,
    now: dt.datetime,
    *,
    outcome: Outcome | None = None,
    supplies: frozenset[Supply] = frozenset(),
    duplicate_of: int | None = None,
) -> dict[str, object]:
    """What a transition writes on the tip besides its state: who, when, the outcome."""
    if action is Action.CLAIM:
        changes: dict[str, object] = {"claimed_by": by, "claimed_at": now}
        if tip.first_claimed_at is None:
            changes["first_claimed_at"] = now
        return changes
    if action is Action.RELEASE:
        # Back in the queue: the escalation clock starts again; the arrival time goes too.
        return {
            "claimed_by": None,
            "claimed_at": None,
            "dispatched_at": now,
            "eta_at": None,
            "eta_asked_at": None,
        }
    if action is Action.ARRIVE:
        return {"arrived_at": now}
    if action is Action.CLOSE:
        changes = {"outcome": outcome, "closed_at": now, "closed_by": by}
        if outcome is Outcome.SUPPLIES_ONLY:
            changes["supplies"] = supplies
        if outcome is Outcome.DUPLICATE:
            changes["duplicate_of"] = duplicate_of
        return changes
    if action is Action.WITHDRAW:
        return {"closed_at": now}
    return {}


# -- Urgency and the report's fields ----------------------------------------------------------


class Flag(StrEnum):
    CHILD = "child"
    ILL = "ill"  # looks ill or injured
    ELDERLY = "elderly"
    UNDERDRESSED = "underdressed"  # not dressed for the cold


FLAG_ORDER: tuple[Flag, ...] = tuple(Flag)
URGENT_FLAGS: frozenset[Flag] = frozenset({Flag.CHILD, Flag.ILL})


def is_urgent(flags: frozenset[Flag] | set[Flag]) -> bool:
    """The campaign's first goals: no child on the street, no death from cold — those go first."""
    return bool(set(flags) & URGENT_FLAGS)


class Seen(StrEnum):
    NOW = "now"
    HOUR = "hour"  # within the last hour
    TODAY = "today"  # earlier today


class People(StrEnum):
    ONE = "1"
    TWO = "2"
    MORE = "3+"


def tip_code(prefix: str, tip_id: int) -> str:
    """Short code a reporter can read over the phone: ``HS-0042``."""
    return f"{prefix}-{tip_id:04d}"


def parse_tip_code(text: str, prefix: str) -> int | None:
    """Accept ``HS-0042``, ``hs42``, ``#42`` or ``42``; ``None`` if it is not a tip code."""
    cleaned = text.strip().upper().lstrip("#")
    if cleaned.startswith(prefix.upper()):
        cleaned = cleaned[len(prefix) :].lstrip("-_ ")
    if not cleaned.isdigit() or len(cleaned) > 9:
        return None
    value = int(cleaned)
    return value if value > 0 else None


@dataclass(frozen=True)
class Tip:
    """A stored tip as the rest of the code sees it (no reporter identity on it)."""

    id: int
    code: str
    source: str
    lat: float
    lon: float
    address: str | None
    place_label: str | None
    district: str | None
    seen: Seen
    people: People
    flags: frozenset[Flag]
    description: str | None
    state: State
    outcome: Outcome | None
    duplicate_of: int | None
    supplies: frozenset[Supply]
    group_key: str
    claimed_by: int | None
    closed_by: int | None
    created_at: dt.datetime  # UTC
    dispatched_at: dt.datetime | None  # last (re)dispatch: escalation clocks start here
    claimed_at: dt.datetime | None
    arrived_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    has_reporter: bool = False
    #: When every patrol group was alerted (second escalation): from then on a member of any
    #: group may take the tip on. None: not widened.
    widened_at: dt.datetime | None = None
    #: When the tip was first claimed (a claim after a release is no news to the reporter).
    first_claimed_at: dt.datetime | None = None
    #: The exact spot within the place (bot/domain/spots.py: its key; OTHER: only typed).
    spot: Spot | None = None
    spot_text: str | None = None  # the exact spot as the reporter typed it
    #: When the claimer said they would be there, and when they were asked because that
    #: time (+ the grace) passed with nobody on scene (bot/domain/arrival.py).
    eta_at: dt.datetime | None = None
    eta_asked_at: dt.datetime | None = None
    #: 1 as reported; +1 each time a "not found" is reopened by the reporter (same incident).
    attempt: int = 1

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def urgent(self) -> bool:
        return is_urgent(self.flags)

    def age_minutes(self, now: dt.datetime) -> int:
        """Whole minutes since it was reported."""
        return max(0, int((now - self.created_at).total_seconds() // 60))
