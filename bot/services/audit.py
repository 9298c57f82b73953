"""The event log's entries that are no tip transition: refused attempts, and acts such as a
patrol logged or a group lost. (Transitions go through bot/services/tips.py.)"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.sql import Tx
from bot.domain.events import Act, Attempt, refused
from bot.domain.tips import Action, Actor, Role
from bot.services.clock import StationClock
from bot.services.reach import Reach


class Audit:
    def __init__(self, db: Database, events: EventStore, reach: Reach, clock: StationClock) -> None:
        self.db = db
        self.events = events
        self.reach = reach
        self.clock = clock

    def role(self, user_id: int | None) -> Role:
        """How the log names someone acting on no tip in particular."""
        if user_id is None:
            return Role.SYSTEM
        directory = self.reach.directory
        if directory.is_officer(user_id):
            return Role.OFFICER
        return Role.STAFF if directory.is_staff(user_id) else Role.STRANGER

    async def refused(
        self,
        user_id: int,
        what: Action | Attempt,
        *,
        tip_id: int | None = None,
        actor: Actor | None = None,
        from_state: Enum | None = None,
        reason: Enum | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record an attempt that was refused (``refused:<what>``), in its own transaction.

        ``actor``: the roles the person holds towards the tip (none: a stranger to it);
        without one they are named by :meth:`role`."""
        role = (actor.primary_role() or Role.STRANGER) if actor is not None else self.role(user_id)
        full = {**({"reason": reason.value} if reason is not None else {}), **(detail or {})}
        async with self.db.write() as tx:
            await self.events.add(
                tx,
                tip_id=tip_id,
                actor_id=user_id,
                actor_role=role,
                action=refused(what),
                from_state=from_state,
                to_state=None,
                now=self.clock.now(),
                detail=full or None,
            )

    async def record(
        self,
        tx: Tx,
        act: Act,
        *,
        actor_id: int | None = None,
        role: Role | None = None,
        detail: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """An act that concerns no one tip (a patrol, cold mode, a chat, a purge)."""
        role = role or self.role(actor_id)
        await self.events.note(tx, None, actor_id, role, act, now or self.clock.now(), detail)
