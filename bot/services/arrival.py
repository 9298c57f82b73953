"""The claimer's arrival time: "多久能到？" on the card, the check when it passed with nobody on
scene, and the tip given back to the group when that check got no answer (rules:
bot/domain/arrival.py). Every change is a tip transition (bot/services/tips.py)."""

from __future__ import annotations

import datetime as dt

from bot import replay
from bot.config import FieldConfig
from bot.db.database import Database
from bot.db.tips import TipStore
from bot.domain.access import actor_for
from bot.domain.arrival import (
    ETA_STATES,
    RELEASE_NO_ANSWER,
    EtaStep,
    FieldAct,
    eta_due,
    may_set_eta,
)
from bot.domain.outbox import Msg
from bot.domain.tips import SYSTEM, Action, State, Tip, changes_for, decide
from bot.services.audit import Audit
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.people import Naming
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips


class ArrivalService:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        tips: Tips,
        notifier: Notifier,
        naming: Naming,
        audit: Audit,
        reach: Reach,
        clock: StationClock,
        config: FieldConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.notifier = notifier
        self.naming = naming
        self.audit = audit
        self.reach = reach
        self.clock = clock
        self.config = config

    async def set_eta(self, tip_id: int, user_id: int, minutes: int) -> Result[Tip]:
        """The claimer (or the leader, an officer) taps how long until they get there: from
        "claimed" that is also "on my way". A new time answers the arrival check."""
        tip = await self.store.get(tip_id)
        if tip is None or minutes not in self.config.eta_choices:
            return refused(Refusal.NO_TIP)  # forged: no such tip, or a time nobody offered
        if replay.applied("eta") is not None:
            return done(tip)
        actor = actor_for(self.reach.directory, tip, user_id)
        allowed = may_set_eta(tip.state, actor)
        if not allowed:
            why = Refusal.WRONG_STATE if allowed is None else Refusal.NOT_ALLOWED
            await self.audit.refused(
                user_id, FieldAct.ETA, tip_id=tip.id, actor=actor, from_state=tip.state, reason=why
            )
            return refused(why, tip)
        now = self.clock.now()
        changes: dict[str, object] = {
            "eta_at": now + dt.timedelta(minutes=minutes),
            "eta_asked_at": None,
        }
        action: Action | FieldAct = FieldAct.ETA
        target = tip.state
        if tip.state is State.CLAIMED:
            going = decide(Action.GO, tip.state, actor)
            if going and going.target is not None:
                action, target = Action.GO, going.target
        async with self.db.write() as tx:
            after = await self.tips.transition(
                tx, tip, actor, action, target, changes, now, detail={"eta_minutes": minutes}
            )
            if after is None:
                return refused(Refusal.RACE, await self.store.get(tip.id))
            await replay.record(tx, "eta", tip.id)
        return done(after)

    async def watch(self, now: dt.datetime) -> None:
        """The tick's step: ask the claimers whose arrival time passed, give back the tips
        whose check got no answer. Each once (the tip's row says what was done)."""
        grace = self.config.eta_grace_minutes
        for tip in await self.store.open():
            if tip.state not in ETA_STATES:
                continue
            step = eta_due(tip, now, grace)
            if step is EtaStep.ASK:
                await self._ask(tip, now)
            elif step is EtaStep.RELEASE:
                await self._release(tip, now)

    async def _chats(self, tip: Tip) -> list[int]:
        """Where the claimer works: the tip's group, and their own if it is another."""
        directory = self.reach.directory
        chats = [directory.team(tip.group_key).chat_id]
        theirs = directory.team_of(tip.claimed_by) if tip.claimed_by else None
        if theirs is not None and theirs.chat_id not in chats:
            chats.append(theirs.chat_id)
        return chats

    async def _ask(self, tip: Tip, now: dt.datetime) -> None:
        assert tip.eta_at is not None
        claimer = await self.naming.person(tip.claimed_by) if tip.claimed_by else None
        text = Msg(
            "eta.check",
            {
                "code": tip.code,
                "claimer": claimer.mention() if claimer is not None else "",
                "eta": self.clock.local(tip.eta_at).strftime("%H:%M"),
                "minutes": self.config.eta_grace_minutes,
            },
        )
        async with self.db.write() as tx:
            # Compare-and-set on the version: a claimer who tapped "on scene" meanwhile, or a
            # second tick, changes nothing.
            after = await self.tips.transition(
                tx, tip, SYSTEM, FieldAct.ETA_ASK, tip.state, {"eta_asked_at": now}, now
            )
            if after is None:
                return
            for chat in await self._chats(tip):
                await self.notifier.say(tx, chat, text, tip_id=tip.id, reply_to_card=True, now=now)

    async def _release(self, tip: Tip, now: dt.datetime) -> None:
        team = self.reach.directory.team(tip.group_key)
        claimer = await self.naming.person(tip.claimed_by) if tip.claimed_by else None
        leader = await self.naming.person(team.leader)
        changes = changes_for(Action.RELEASE, tip, None, now)
        text = Msg(
            "eta.released",
            {
                "code": tip.code,
                "claimer": claimer.mention() if claimer is not None else "",
                "leader": leader.mention(),
            },
        )
        async with self.db.write() as tx:
            after = await self.tips.transition(
                tx,
                tip,
                SYSTEM,
                Action.RELEASE,
                State.DISPATCHED,
                changes,
                now,
                detail={"reason": RELEASE_NO_ANSWER, "claimer": tip.claimed_by},
            )
            if after is None:
                return
            for chat in await self._chats(tip):
                await self.notifier.say(tx, chat, text, tip_id=tip.id, reply_to_card=True, now=now)
