"""The patrol log (/patrol_start, /patrol_end) and extreme-cold mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.config import PatrolConfig
from bot.db.database import Database, from_db_time
from bot.db.schedule import PatrolStore, ScheduleStore
from bot.db.sql import Tx
from bot.domain.events import Act, Attempt
from bot.domain.outbox import Lines, Msg
from bot.domain.patrol import clean_area, parse_counts
from bot.domain.roster import Roster, Team
from bot.domain.tips import Role
from bot.services.audit import Audit
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused


@dataclass(frozen=True)
class ColdState:
    on: bool
    source: str  # manual | auto
    since: str | None
    override_until: dt.datetime | None


@dataclass(frozen=True)
class PatrolStarted:
    group: str  # the group's name
    area_set: bool = False  # only the area of the patrol under way was recorded


@dataclass(frozen=True)
class PatrolEnded:
    people: int
    supplies: dict[str, int]
    minutes: int


class PatrolService:
    def __init__(
        self,
        db: Database,
        patrols: PatrolStore,
        settings: ScheduleStore,
        notifier: Notifier,
        audit: Audit,
        reach: Reach,
        roster: Roster,
        clock: StationClock,
        config: PatrolConfig,
    ) -> None:
        self.db = db
        self.patrols = patrols
        self.settings = settings
        self.notifier = notifier
        self.audit = audit
        self.reach = reach
        self.roster = roster
        self.clock = clock
        self.config = config

    def _role(self, user_id: int) -> Role:
        return Role.OFFICER if self.reach.directory.is_officer(user_id) else Role.MEMBER

    async def _logging_team(
        self, chat_id: int, user_id: int, attempt: Attempt
    ) -> tuple[Team | None, Refusal | None]:
        """The patrol group of ``chat_id`` and whether ``user_id`` may log its patrol (one of
        its members, or an officer); a stranger's attempt is recorded as refused."""
        directory = self.reach.directory
        team = directory.team_by_chat(chat_id)
        if team is None:
            return None, Refusal.NOT_A_GROUP
        if not (team.includes(user_id) or directory.is_officer(user_id)):
            await self.audit.refused(user_id, attempt)
            return team, Refusal.NOT_MEMBER
        return team, None

    async def start(self, chat_id: int, user_id: int, area: str | None) -> Result[PatrolStarted]:
        """Start the group's patrol. A patrol started without an area takes the area of the
        next ``/patrol_start AREA``."""
        team, refusal = await self._logging_team(chat_id, user_id, Attempt.PATROL_START)
        if refusal is not None:
            return refused(refusal, PatrolStarted(team.name) if team else None)
        assert team is not None
        area = clean_area(area)
        now = self.clock.now()
        role = self._role(user_id)
        async with self.db.write() as tx:
            under_way = await self.patrols.open(team.key)
            if under_way is not None:
                if area is None or not await self.patrols.set_area(tx, under_way["id"], area):
                    return refused(Refusal.ALREADY, PatrolStarted(team.name))
                detail = {"group": team.key, "area": area}
                await self.audit.record(
                    tx, Act.PATROL_AREA, actor_id=user_id, role=role, detail=detail, now=now
                )
                return done(PatrolStarted(team.name, area_set=True))
            await self.patrols.start(tx, team.key, chat_id, user_id, area, now)
            detail = {"group": team.key, "area": area}
            await self.audit.record(
                tx, Act.PATROL_START, actor_id=user_id, role=role, detail=detail, now=now
            )
        return done(PatrolStarted(team.name))

    async def end(self, chat_id: int, user_id: int, args: list[str]) -> Result[PatrolEnded]:
        team, refusal = await self._logging_team(chat_id, user_id, Attempt.PATROL_END)
        if refusal is not None:
            return refused(refusal)
        assert team is not None
        counts = parse_counts(args)
        if counts is None:
            return refused(Refusal.BAD_COUNTS)
        patrol = await self.patrols.open(team.key)
        if patrol is None:
            return refused(Refusal.NONE_OPEN)
        people, supplies = counts
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.patrols.end(tx, patrol["id"], user_id, people, supplies, now)
            detail = {"group": team.key, "people": people, "supplies": supplies}
            await self.audit.record(
                tx,
                Act.PATROL_END,
                actor_id=user_id,
                role=self._role(user_id),
                detail=detail,
                now=now,
            )
        started = from_db_time(patrol["started_at"])
        minutes = int((now - started).total_seconds() // 60) if started else 0
        return done(PatrolEnded(people, supplies, minutes))

    # -- cold mode --------------------------------------------------------------------------
    async def cold_state(self) -> ColdState:
        get = self.settings.get_setting
        until = await get("cold_override_until")
        return ColdState(
            on=(await get("cold_mode")) == "on",
            source=(await get("cold_source")) or "manual",
            since=await get("cold_since"),
            override_until=dt.datetime.fromisoformat(until) if until else None,
        )

    async def set_cold(
        self, on: bool, *, source: str, actor: int | None, reason: Msg | None = None
    ) -> bool:
        """Switch cold mode; announce to every group and officer (with ``reason``, if any).
        ``False`` if it was already so."""
        state = await self.cold_state()
        now = self.clock.now()
        async with self.db.write() as tx:
            if source == "manual":
                # An officer's word holds until the next hand-over, whatever the forecast says.
                until = self.roster.next_handover(self.clock.local(now))
                await self.settings.set_setting(tx, "cold_override_until", until.isoformat(), now)
            if state.on == on:
                return False
            await self.settings.set_setting(tx, "cold_mode", "on" if on else "off", now)
            await self.settings.set_setting(tx, "cold_source", source, now)
            await self.settings.set_setting(tx, "cold_since", now.isoformat(), now)
            await self.audit.record(
                tx,
                Act.COLD_ON if on else Act.COLD_OFF,
                actor_id=actor,
                role=Role.SYSTEM if actor is None else self._role(actor),
                detail={"source": source},
                now=now,
            )
            await self._announce_cold(tx, on, reason, now)
        return True

    async def _announce_cold(self, tx: Tx, on: bool, reason: Msg | None, now: dt.datetime) -> None:
        interval = self.config.cold_interval_minutes
        head = Msg("cold.on" if on else "cold.off", {"interval": interval})
        text = Lines((head, reason)) if reason is not None else head
        for team in self.reach.directory.teams:
            await self.notifier.say(tx, team.chat_id, text, now=now)
        await self.notifier.tell_officers(tx, text, now=now)
