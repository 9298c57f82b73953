"""Exports for a city office: tips as Open311 GeoReport v2 service requests where the fields
fit, plus warmline's own; the event log for an inspection. Pure rules, no I/O.

Open311 fields used (GeoReport v2, "service requests"): ``service_request_id`` (the tip
code), ``status`` (``open`` | ``closed``), ``status_notes`` (the outcome), ``service_name``,
``service_code``, ``description``, ``agency_responsible`` (the patrol group),
``requested_datetime``, ``updated_datetime``, ``address``, ``lat``, ``long``. Never anything
that identifies a reporter: an export carries no reporter id, name, username or phone, and an
event's actor id only when the actor is staff acting as staff; free text (a description, a
typed address, an event's detail) goes out with phone numbers and the reporter's own name,
username and phone removed (:func:`redact`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.privacy import mask_known, mask_phones
from bot.domain.tips import MISSED_OUTCOMES, VERIFIED_OUTCOMES, Outcome, State

OPEN311_COLUMNS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
)
WARMLINE_COLUMNS = (
    "district",
    "urgent",
    "flags",
    "people",
    "seen",
    "source",
    "state",
    "outcome",
    "duplicate_of",
    "claimed_datetime",
    "arrived_datetime",
    "closed_datetime",
    "attempts",
    "evidence_count",
    "reward_state",
    "purged",
)
TIP_COLUMNS = OPEN311_COLUMNS + WARMLINE_COLUMNS
#: The tip columns that are times (station time, with their UTC offset).
TIP_TIMES = frozenset(
    {
        "requested_datetime",
        "updated_datetime",
        "claimed_datetime",
        "arrived_datetime",
        "closed_datetime",
    }
)

EVENT_COLUMNS = (
    "event_id",
    "datetime",
    "service_request_id",
    "action",
    "from_state",
    "to_state",
    "actor_role",
    "actor_id",
    "detail",
)
EVENT_TIMES = frozenset({"datetime"})

SERVICE_CODE = "rough_sleeping"
#: ``--coarse``: positions to 2 decimals of a degree (about 1 km), as a purge keeps them.
COARSE_DECIMALS = 2
#: Free text left out of a coarse export (a reporter's words, a typed address).
COARSE_BLANK = frozenset({"description", "address"})
#: Roles whose actor is never named by id, whoever they are.
UNNAMED_ROLES = frozenset({"reporter", "stranger"})


def status(state: State | str) -> str:
    """Open311's status: a tip still being worked is ``open``; closed or withdrawn,
    ``closed``."""
    return "closed" if State(state) in (State.CLOSED, State.WITHDRAWN) else "open"


def status_notes(state: State | str, outcome: Outcome | str | None) -> str:
    """Why it is closed: the outcome's code (``brought_in``, ``not_found``…), ``withdrawn``
    for a tip its reporter took back; empty while open."""
    if outcome is not None:
        return Outcome(outcome).value
    return State.WITHDRAWN.value if State(state) is State.WITHDRAWN else ""


def attempts(outcome: Outcome | str | None, arrived: bool) -> int:
    """Times a patrol went out for the tip: one once someone reached the scene or the search
    ended (found or not), else none. Reopened attempts will count each search."""
    if arrived:
        return 1
    if outcome is None:
        return 0
    return 1 if Outcome(outcome) in VERIFIED_OUTCOMES | MISSED_OUTCOMES else 0


def position(lat: float, lon: float, coarse: bool) -> tuple[float, float]:
    if coarse:
        return round(lat, COARSE_DECIMALS), round(lon, COARSE_DECIMALS)
    return lat, lon


def named_actor(
    actor_id: int | None, role: str | None, *, is_staff: bool, is_reporter: bool
) -> int | None:
    """The actor id an export may show: staff acting as staff only. Never a reporter's —
    not even a staff member's who reported this tip as a citizen — nor a stranger's."""
    if actor_id is None or not is_staff or is_reporter or (role or "") in UNNAMED_ROLES:
        return None
    return actor_id


#: What stands in an export's free text where a phone number or a reporter's name was.
REDACTED = "[removed]"

def redact(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    """Free text as an export may carry it: every phone number removed, and each of ``known``
    (the reporter's name, username, phone) wherever it appears, case-insensitively."""
    if not text:
        return text
    return mask_phones(mask_known(text, known, REDACTED), REDACTED)
