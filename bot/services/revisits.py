"""Revisits (issue 13): someone who refused help or had gone is checked on again.

A tip closed "supplies only", "not found" or "gone" makes a revisit (:meth:`on_tip_closed`,
called in the close's own transaction, so it exists exactly when the outcome does). It waits
until it is due (``[field] revisit_after``: when cold mode next starts, or after N hours);
the schedule step (:meth:`run`, from the clock and the database, so a restart neither loses
nor repeats one) posts its light card to the group on duty then. A member claims it and
records what they found; "supplies again" or "refused again" makes the next one. Every step
is in the origin tip's event log.
"""

from __future__ import annotations

import datetime as dt

from bot.config import FieldConfig
from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.outbox import OutboxStore
from bot.db.revisits import RevisitStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.events import refused as refused_action
from bot.domain.outbox import Msg, RevisitEdit, RevisitPost, Text
from bot.domain.revisits import (
    FROM_REVISIT,
    FROM_TIP,
    Revisit,
    RevisitAct,
    RevisitOutcome,
    RevisitState,
    due_at,
    is_due,
    still_wanted,
)
from bot.domain.roster import Roster
from bot.domain.tips import Outcome, Role, State, Tip
from bot.services.clock import StationClock
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused

#: Open revisits a reminder lists by code (the rest are counted).
REMINDER_SHOWN = 5


class RevisitService:
    def __init__(
        self,
        db: Database,
        store: RevisitStore,
        tips: TipStore,
        events: EventStore,
        outbox: OutboxStore,
        reach: Reach,
        roster: Roster,
        clock: StationClock,
        config: FieldConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.events = events
        self.outbox = outbox
        self.reach = reach
        self.roster = roster
        self.clock = clock
        self.config = config

    # -- made from an outcome -----------------------------------------------------------------
    async def on_tip_closed(
        self, tx: Tx, tip: Tip, outcome: Outcome, user_id: int, now: dt.datetime
    ) -> None:
        """The close hook (bot/services/field.py): a refusal or a person gone → a revisit."""
        if outcome not in FROM_TIP:
            return
        await self._create(tx, tip.id, None, outcome.value, tip.supplies, now)

    async def _create(
        self,
        tx: Tx,
        tip_id: int,
        previous: Revisit | None,
        reason: str,
        supplies: frozenset,
        now: dt.datetime,
    ) -> None:
        due = due_at(self.config.revisit_after, now)
        made = await self.store.create(
            tx,
            tip_id=tip_id,
            previous_id=previous.id if previous else None,
            reason=reason,
            supplies=supplies,
            reason_at=now,
            due_at=due,
            now=now,
        )
        if made is not None:
            detail = {"revisit": made, "reason": reason, "due": due.isoformat() if due else "cold"}
            await self._log(tx, tip_id, None, Role.SYSTEM, RevisitAct.CREATED, now, detail)

    async def _log(
        self,
        tx: Tx,
        tip_id: int,
        actor: int | None,
        role: Role,
        action: object,
        now: dt.datetime,
        detail: dict,
    ) -> None:
        await self.events.add(
            tx,
            tip_id=tip_id,
            actor_id=actor,
            actor_role=role,
            action=action,  # type: ignore[arg-type]
            from_state=None,
            to_state=None,
            now=now,
            detail=detail,
        )

    # -- the schedule step --------------------------------------------------------------------
    async def run(self, now: dt.datetime, local: dt.datetime) -> None:
        """Post every revisit that is due to the group on duty now, each exactly once."""
        for revisit, cold_started in await self.store.waiting():
            if not is_due(revisit, now, cold_started):
                continue
            tip = await self.tips.get(revisit.tip_id)
            closed_at = tip.closed_at if tip is not None and tip.state is State.CLOSED else None
            if not still_wanted(revisit, closed_at):
                await self._cancel(revisit, now)
                continue
            team = self.reach.directory.team(self.roster.on_duty(local))
            async with self.db.write() as tx:
                changes = {"group_key": team.key, "posted_at": now}
                if not await self.store.change(tx, revisit, RevisitState.POSTED, changes):
                    continue  # posted already (another tick)
                await self.outbox.enqueue(
                    tx,
                    RevisitPost(revisit.id),
                    chat_id=team.chat_id,
                    tip_id=revisit.tip_id,
                    now=now,
                )
                detail = {"revisit": revisit.id, "group": team.key}
                await self._log(
                    tx, revisit.tip_id, None, Role.SYSTEM, RevisitAct.POSTED, now, detail
                )

    async def _cancel(self, revisit: Revisit, now: dt.datetime) -> None:
        async with self.db.write() as tx:
            if await self.store.change(tx, revisit, RevisitState.CANCELLED, {}):
                detail = {"revisit": revisit.id, "reason": "tip_reopened"}
                await self._log(
                    tx, revisit.tip_id, None, Role.SYSTEM, RevisitAct.CANCELLED, now, detail
                )

    # -- the patrol's buttons -----------------------------------------------------------------
    def _may_claim(self, revisit: Revisit, user_id: int) -> bool:
        directory = self.reach.directory
        if directory.is_officer(user_id):
            return True
        team = directory.find(revisit.group_key or "")
        return team is not None and team.includes(user_id)

    def _may_close(self, revisit: Revisit, user_id: int) -> bool:
        directory = self.reach.directory
        if directory.is_officer(user_id) or revisit.claimed_by == user_id:
            return True
        team = directory.find(revisit.group_key or "")
        return team is not None and team.leader == user_id

    async def claim(self, revisit_id: int, user_id: int) -> Result[Revisit]:
        return await self._act(revisit_id, user_id, RevisitAct.CLAIM, None)

    async def release(self, revisit_id: int, user_id: int) -> Result[Revisit]:
        return await self._act(revisit_id, user_id, RevisitAct.RELEASE, None)

    async def close(
        self, revisit_id: int, user_id: int, outcome: RevisitOutcome
    ) -> Result[Revisit]:
        return await self._act(revisit_id, user_id, RevisitAct.CLOSE, outcome)

    async def _act(
        self, revisit_id: int, user_id: int, act: RevisitAct, outcome: RevisitOutcome | None
    ) -> Result[Revisit]:
        revisit = await self.store.get(revisit_id)
        if revisit is None:
            return refused(Refusal.NO_TIP)
        if act is RevisitAct.CLAIM:
            expect, allowed = RevisitState.POSTED, self._may_claim(revisit, user_id)
        else:
            expect, allowed = RevisitState.CLAIMED, self._may_close(revisit, user_id)
        if not allowed:
            await self._refuse(revisit, user_id, act)
            return refused(Refusal.NOT_ALLOWED, revisit)
        if revisit.state is not expect:
            return refused(
                Refusal.CLOSED if revisit.state is RevisitState.CLOSED else Refusal.RACE, revisit
            )
        now = self.clock.now()
        if act is RevisitAct.CLAIM:
            target, changes = RevisitState.CLAIMED, {"claimed_by": user_id, "claimed_at": now}
        elif act is RevisitAct.RELEASE:
            target, changes = RevisitState.POSTED, {"claimed_by": None, "claimed_at": None}
        else:
            target = RevisitState.CLOSED
            changes = {"outcome": outcome, "closed_by": user_id, "closed_at": now}
        async with self.db.write() as tx:
            if not await self.store.change(tx, revisit, target, changes):
                return refused(Refusal.RACE, await self.store.get(revisit.id))
            detail: dict[str, object] = {"revisit": revisit.id}
            if outcome is not None:
                detail["outcome"] = outcome.value
            role = self.reach.directory.role(user_id)
            await self._log(tx, revisit.tip_id, user_id, role, act, now, detail)
            await self.outbox.enqueue(
                tx, RevisitEdit(revisit.id), chat_id=revisit.chat_id, tip_id=revisit.tip_id, now=now
            )
            if outcome in FROM_REVISIT:
                await self._create(tx, revisit.tip_id, revisit, outcome.value, frozenset(), now)
        return done(await self.store.get(revisit.id) or revisit)

    async def _refuse(self, revisit: Revisit, user_id: int, act: RevisitAct) -> None:
        role = self.reach.directory.role(user_id)
        async with self.db.write() as tx:
            detail = {"revisit": revisit.id, "reason": Refusal.NOT_ALLOWED.value}
            await self._log(
                tx, revisit.tip_id, user_id, role, refused_action(act), self.clock.now(), detail
            )

    # -- reminders and the summary ------------------------------------------------------------
    async def reminder_lines(self, group_key: str, now: dt.datetime) -> list[Text]:
        """What a patrol reminder says of revisits: this group's open ones, and how many wait
        for cold mode or their time."""
        open_ = await self.store.open(group_key)
        waiting = await self.store.count_waiting()
        if not open_ and not waiting:
            return []
        codes = await self._codes(open_[:REMINDER_SHOWN])
        lines: list[Text] = [
            Msg(
                "revisit.reminder",
                {"count": len(open_), "codes": ", ".join(codes) or "—", "waiting": waiting},
            )
        ]
        return lines

    async def _codes(self, revisits: list[Revisit]) -> list[str]:
        codes = await self.tips.codes(r.tip_id for r in revisits)
        return [codes[r.tip_id] for r in revisits if r.tip_id in codes]

    async def summary_text(self, since: dt.datetime, until: dt.datetime) -> Text:
        counts = await self.store.tally(since, until)
        return Msg(
            "revisit.summary",
            {
                "posted": counts.get("posted", 0),
                "brought_in": counts.get(RevisitOutcome.BROUGHT_IN.value, 0),
                "supplies": counts.get(RevisitOutcome.SUPPLIES_AGAIN.value, 0),
                "not_there": counts.get(RevisitOutcome.NOT_THERE.value, 0),
                "refused": counts.get(RevisitOutcome.REFUSED_AGAIN.value, 0),
                "waiting": await self.store.count_waiting(),
            },
        )
