"""The patrol log (/patrol_start, /patrol_end) and extreme-cold mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.db.database import from_db_time
from bot.db.repo import Tx
from bot.domain.patrol import clean_area, parse_counts
from bot.i18n import t
from bot.services import notify
from bot.services.base import Deps


class PatrolError(StrEnum):
    NOT_A_GROUP = "not_a_group"  # not a configured patrol group chat
    NOT_MEMBER = "not_member"
    ALREADY = "already"  # a patrol is already under way
    NONE_OPEN = "none_open"
    BAD_COUNTS = "bad_counts"


@dataclass(frozen=True)
class ColdState:
    on: bool
    source: str  # manual | auto
    since: str | None
    override_until: dt.datetime | None


class PatrolService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def start(
        self, chat_id: int, user_id: int, area: str | None
    ) -> tuple[PatrolError | None, str | None, bool]:
        """(error, group name, whether this only recorded the area of the patrol under way).

        A patrol started without an area takes the area of the next ``/patrol_start AREA``.
        """
        team = self.d.directory.team_by_chat(chat_id)
        if team is None:
            return PatrolError.NOT_A_GROUP, None, False
        if not (team.includes(user_id) or self.d.directory.is_officer(user_id)):
            await self._refused(user_id, "patrol_start")
            return PatrolError.NOT_MEMBER, team.name, False
        area = clean_area(area)
        now = self.d.now()
        async with self.d.db.write() as tx:
            under_way = await self.d.repo.open_patrol(team.key)
            if under_way is not None:
                if area is None or not await self.d.repo.set_patrol_area(
                    tx, under_way["id"], area
                ):
                    return PatrolError.ALREADY, team.name, False
                detail = {"group": team.key, "area": area}
                await self._event(tx, user_id, "patrol_area", detail)
                return None, team.name, True
            await self.d.repo.start_patrol(tx, team.key, chat_id, user_id, area, now)
            await self._event(tx, user_id, "patrol_start", {"group": team.key, "area": area})
        return None, team.name, False

    async def end(
        self, chat_id: int, user_id: int, args: list[str]
    ) -> tuple[PatrolError | None, dict | None]:
        team = self.d.directory.team_by_chat(chat_id)
        if team is None:
            return PatrolError.NOT_A_GROUP, None
        if not (team.includes(user_id) or self.d.directory.is_officer(user_id)):
            await self._refused(user_id, "patrol_end")
            return PatrolError.NOT_MEMBER, None
        counts = parse_counts(args)
        if counts is None:
            return PatrolError.BAD_COUNTS, None
        patrol = await self.d.repo.open_patrol(team.key)
        if patrol is None:
            return PatrolError.NONE_OPEN, None
        people, supplies = counts
        now = self.d.now()
        async with self.d.db.write() as tx:
            await self.d.repo.end_patrol(tx, patrol["id"], user_id, people, supplies, now)
            await self._event(
                tx,
                user_id,
                "patrol_end",
                {"group": team.key, "people": people, "supplies": supplies},
            )
        started = from_db_time(patrol["started_at"])
        minutes = int((now - started).total_seconds() // 60) if started else 0
        return None, {"people": people, "supplies": supplies, "minutes": minutes}

    # -- cold mode --------------------------------------------------------------------------
    async def cold_state(self) -> ColdState:
        repo = self.d.repo
        until = await repo.get_setting("cold_override_until")
        return ColdState(
            on=(await repo.get_setting("cold_mode")) == "on",
            source=(await repo.get_setting("cold_source")) or "manual",
            since=await repo.get_setting("cold_since"),
            override_until=dt.datetime.fromisoformat(until) if until else None,
        )

    async def set_cold(
        self, on: bool, *, source: str, actor: int | None, reason_html: str | None = None
    ) -> bool:
        """Switch cold mode; announce to every group and officer. ``False`` if unchanged."""
        state = await self.cold_state()
        now = self.d.now()
        async with self.d.db.write() as tx:
            if source == "manual":
                # An officer's word holds until the next hand-over, whatever the forecast says.
                until = self.d.roster.next_handover(self.d.local(now))
                await self.d.repo.set_setting(tx, "cold_override_until", until.isoformat(), now)
            if state.on == on:
                return False
            await self.d.repo.set_setting(tx, "cold_mode", "on" if on else "off", now)
            await self.d.repo.set_setting(tx, "cold_source", source, now)
            await self.d.repo.set_setting(tx, "cold_since", now.isoformat(), now)
            await self._event(tx, actor, "cold_on" if on else "cold_off", {"source": source})
            await self._announce_cold(tx, on, reason_html, now)
        self.d.wake()
        return True

    async def _announce_cold(
        self, tx: Tx, on: bool, reason_html: str | None, now: dt.datetime
    ) -> None:
        lang = self.d.config.station.language
        interval = self.d.config.patrol.cold_interval_minutes
        key = "cold.on" if on else "cold.off"
        text = t(lang, key, interval=interval)
        if reason_html:
            text += "\n" + reason_html
        for team in self.d.directory.teams:
            await notify.say(self.d, tx, team.chat_id, text, now=now)
        await notify.tell_officers(
            self.d, tx, key, {"interval": interval}, suffix_html=reason_html, now=now
        )

    async def _event(self, tx: Tx, actor: int | None, action: str, detail: dict) -> None:
        await self.d.repo.add_event(
            tx,
            tip_id=None,
            actor_id=actor,
            actor_role="system"
            if actor is None
            else ("officer" if self.d.directory.is_officer(actor) else "member"),
            action=action,
            from_state=None,
            to_state=None,
            now=self.d.now(),
            detail=detail,
        )

    async def _refused(self, user_id: int, what: str) -> None:
        async with self.d.db.write() as tx:
            await self.d.repo.add_event(
                tx,
                tip_id=None,
                actor_id=user_id,
                actor_role="staff" if self.d.directory.is_staff(user_id) else "stranger",
                action=f"refused:{what}",
                from_state=None,
                to_state=None,
                now=self.d.now(),
            )
