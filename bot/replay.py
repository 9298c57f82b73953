"""The handling context: which update the current task handles, and whether this is a replay
after a crash — the one piece of the inbound journal (bot/inbound.py) that handlers and
services use.

**Effects.** A replay re-runs an update's handlers from the start on the state the crash left.
Most handlers are safe to re-run because their writes are absolute ("the draft's step is now
PEOPLE") or guarded by a state check (a compare-and-set on the tip's state and version). A
write that is neither — a toggle, a counter, a message relayed to someone else — records an
*effect* with :func:`record` inside its own transaction; on a replay :func:`applied` tells the
service it was already committed, so the service skips it and answers as it did the first time.
(The statement that records it is in bot/db/journal.py, with the journal's other SQL.)
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.db.journal import record_effect
from bot.db.sql import Tx


@dataclass(frozen=True)
class Handling:
    """The update being handled by the current task (set by the update processor)."""

    update_id: int
    #: Handled again after a crash (the first attempt did not finish).
    replay: bool = False
    #: Effects the earlier attempt(s) committed: name → reference (e.g. a tip id).
    effects: Mapping[str, str] = field(default_factory=dict)


_CURRENT: contextvars.ContextVar[Handling | None] = contextvars.ContextVar(
    "warmline_handling", default=None
)


def current() -> Handling | None:
    return _CURRENT.get()


def enter(handling: Handling | None) -> contextvars.Token:
    return _CURRENT.set(handling)


def leave(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


def replaying() -> bool:
    """Is the current update being handled again after a crash?"""
    handling = _CURRENT.get()
    return handling is not None and handling.replay


def applied(effect: str) -> str | None:
    """On a replay: the reference an earlier attempt recorded for ``effect`` (``""`` if none
    was given), or ``None`` if that effect was not committed (or this is no replay)."""
    handling = _CURRENT.get()
    if handling is None or not handling.replay:
        return None
    return handling.effects.get(effect)


async def record(tx: Tx, effect: str, ref: object = "") -> None:
    """Within the write's own transaction: the current update committed ``effect``.

    Outside an update's handling (a scheduled job, a test calling a service) it does nothing.
    """
    handling = _CURRENT.get()
    if handling is not None:
        await record_effect(tx, handling.update_id, effect, str(ref))
