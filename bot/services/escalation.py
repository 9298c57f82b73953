"""Escalation: a tip left unclaimed (or claimed and not reached) too long is raised, level by
level, each once (bot/domain/schedule.py decides what is due)."""

from __future__ import annotations

import datetime as dt

from bot.config import EscalationConfig
from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.tips import TipStore
from bot.domain.arrival import FieldAct
from bot.domain.outbox import Msg
from bot.domain.schedule import EscalationRules, Level, escalations_due
from bot.domain.tips import Role, State, Tip
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.people import Naming
from bot.services.reach import Reach
from bot.services.tips import Tips


class Escalator:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        events: EventStore,
        tips: Tips,
        notifier: Notifier,
        naming: Naming,
        reach: Reach,
        clock: StationClock,
        config: EscalationConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.events = events
        self.tips = tips
        self.notifier = notifier
        self.naming = naming
        self.reach = reach
        self.clock = clock
        self.rules = EscalationRules(
            claim_minutes=config.claim_minutes,
            urgent_claim_minutes=config.urgent_claim_minutes,
            second_minutes=config.second_minutes,
            scene_minutes=config.scene_minutes,
        )

    async def escalate(self, now: dt.datetime) -> None:
        tips = [
            tip
            for tip in await self.store.open()
            if tip.state in (State.DISPATCHED, State.CLAIMED, State.EN_ROUTE)
        ]
        if not tips:
            return
        # A reopened tip (a new attempt) is escalated afresh.
        fired = await self.events.fired([tip.id for tip in tips], Level, since=FieldAct.REOPEN)
        for tip in tips:
            for level in escalations_due(tip, now, self.rules, fired.get(tip.id, set())):
                await self._fire(tip, level, now)

    async def _fire(self, tip: Tip, level: Level, now: dt.datetime) -> None:
        directory = self.reach.directory
        team = directory.team(tip.group_key)
        async with self.db.write() as tx:
            # The tip may have moved on since we looked: only escalate what is still stuck.
            current = await self.store.get(tip.id)
            if current is None or current.state is not tip.state or current.version != tip.version:
                return
            if await self.events.has(tip.id, level, since=FieldAct.REOPEN):
                return
            minutes = tip.age_minutes(now)
            if level is Level.REPOST:
                await self.notifier.post_card(tx, team.chat_id, tip.id, copy=True, now=now)
                leader = (await self.naming.person(team.leader)).mention()
                text = Msg(
                    "escalate.repost", {"code": tip.code, "minutes": minutes, "leader": leader}
                )
                await self.notifier.say(tx, team.chat_id, text, tip_id=tip.id, now=now)
            elif level is Level.WIDEN:
                # From now on a member of any group may take it on (bot/domain/access.py).
                await self.store.widen(tx, tip.id, now)
                for other in directory.teams:
                    if other.key == team.key:
                        continue
                    await self.notifier.post_card(tx, other.chat_id, tip.id, copy=True, now=now)
                    text = Msg(
                        "escalate.widen_group",
                        {
                            "code": tip.code,
                            "minutes": minutes,
                            "group": team.name,
                            "leader": (await self.naming.person(other.leader)).mention(),
                        },
                    )
                    await self.notifier.say(tx, other.chat_id, text, tip_id=tip.id, now=now)
                for officer in sorted(directory.officers):
                    await self.notifier.post_card(tx, officer, tip.id, copy=True, now=now)
                text = Msg(
                    "escalate.widen_officer",
                    {"code": tip.code, "minutes": minutes, "group": team.name},
                )
                await self.notifier.tell_officers(tx, text, tip_id=tip.id, now=now)
            else:
                waited = int((now - tip.claimed_at).total_seconds() // 60) if tip.claimed_at else 0
                claimer = await self.naming.person(tip.claimed_by) if tip.claimed_by else None
                text = Msg(
                    "escalate.scene",
                    {
                        "code": tip.code,
                        "minutes": waited,
                        "claimer": claimer.mention() if claimer is not None else "",
                        "leader": (await self.naming.person(team.leader)).mention(),
                    },
                )
                await self.notifier.say(tx, team.chat_id, text, tip_id=tip.id, now=now)
                # A claimer from the other group (after the second level) is not in this
                # group's chat: ask them in their own.
                theirs = directory.team_of(tip.claimed_by) if tip.claimed_by else None
                if theirs is not None and theirs.key != team.key:
                    await self.notifier.say(tx, theirs.chat_id, text, tip_id=tip.id, now=now)
            await self.tips.note(
                tx, tip, None, Role.SYSTEM, level, now, detail={"minutes": minutes}
            )
