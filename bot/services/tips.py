"""The one way a tip changes: compare-and-set its row, write the event, refresh every copy of
its card — in the caller's transaction (the commit wakes the outbox sender).

A new tip is written once, complete, with its ``submit`` and ``dispatch`` events and its card
in the on-duty group; every later change is a :meth:`Tips.transition`; an event that changes
nothing on the row (evidence, a relayed question, an escalation) is a :meth:`Tips.note`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from enum import Enum
from typing import Any

from bot.db.events import EventStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.draft import Draft
from bot.domain.events import Act
from bot.domain.tips import SYSTEM, Action, Actor, Role, State, Tip, decide, is_urgent
from bot.services.notify import Notifier


class Tips:
    def __init__(self, store: TipStore, events: EventStore, notifier: Notifier) -> None:
        self.store = store
        self.events = events
        self.notifier = notifier

    async def create(
        self,
        tx: Tx,
        draft: Draft,
        *,
        code_prefix: str,
        reporter_id: int | None,
        logged_by: int | None,
        actor: Actor,
        district: str | None,
        group_key: str,
        chat_id: int,
        duplicates: list[tuple[int, float]],
        now: dt.datetime,
    ) -> int:
        """A reported tip, dispatched at once to ``group_key`` (its card posted in ``chat_id``)."""
        dispatched = decide(Action.DISPATCH, State.NEW, SYSTEM)
        assert dispatched.target is not None
        tip_id = await self.store.create(
            tx,
            code_prefix=code_prefix,
            draft=draft,
            reporter_id=reporter_id,
            logged_by=logged_by,
            district=district,
            group_key=group_key,
            state=dispatched.target,
            now=now,
        )
        await self.events.add(
            tx,
            tip_id=tip_id,
            actor_id=actor.user_id,
            actor_role=actor.primary_role(),
            action=Act.SUBMIT,
            from_state=None,
            to_state=State.NEW,
            now=now,
            detail={"source": draft.source.value, "urgent": is_urgent(draft.flags)},
        )
        await self.events.add(
            tx,
            tip_id=tip_id,
            actor_id=None,
            actor_role=Role.SYSTEM,
            action=Action.DISPATCH,
            from_state=State.NEW,
            to_state=dispatched.target,
            now=now,
            detail={
                "group": group_key,
                "duplicates": [[other, round(metres)] for other, metres in duplicates],
            },
        )
        await self.notifier.post_card(tx, chat_id, tip_id, now=now)
        return tip_id

    async def transition(
        self,
        tx: Tx,
        tip: Tip,
        actor: Actor,
        action: Enum,
        target: State,
        changes: dict[str, Any],
        now: dt.datetime,
        *,
        detail: dict[str, Any] | None = None,
    ) -> Tip | None:
        """Move ``tip`` (as the caller read it) to ``target`` with ``changes``; the tip as it
        is now, or ``None`` if it changed meanwhile (someone else was first: nothing written)."""
        written = {"state": target, **changes, "updated_at": now}
        if not await self.store.update(tx, tip, written):
            return None
        await self.events.add(
            tx,
            tip_id=tip.id,
            actor_id=actor.user_id,
            actor_role=actor.primary_role(),
            action=action,
            from_state=tip.state,
            to_state=target,
            now=now,
            detail=detail or None,
        )
        await self.notifier.refresh_card(tx, tip.id, now=now)
        fields = {k: v for k, v in written.items() if k != "updated_at"}
        return replace(tip, **fields, version=tip.version + 1)

    async def note(
        self,
        tx: Tx,
        tip: Tip,
        actor_id: int | None,
        role: Role,
        action: Enum,
        now: dt.datetime,
        *,
        detail: dict[str, Any] | None = None,
        refresh: bool = False,
    ) -> None:
        """An event on the tip that leaves its state as it is (``refresh``: the card shows it)."""
        await self.events.add(
            tx,
            tip_id=tip.id,
            actor_id=actor_id,
            actor_role=role,
            action=action,
            from_state=tip.state,
            to_state=tip.state,
            now=now,
            detail=detail,
        )
        if refresh:
            await self.notifier.refresh_card(tx, tip.id, now=now)
