"""Who is on duty when, and who is who. Pure functions over plain values.

A *duty day* runs from the hand-over time on one calendar day to the hand-over time on the
next (station time). Groups take turns day by day in ``order`` from ``anchor``; explicit
``overrides`` name the group for particular duty days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot.domain.tips import Role


@dataclass(frozen=True)
class Roster:
    anchor: dt.date
    handover: dt.time
    order: tuple[str, ...]
    overrides: dict[dt.date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.order:
            raise ValueError("a roster needs at least one group")

    def duty_day(self, local: dt.datetime) -> dt.date:
        """The duty day a local (naive or station-aware) time belongs to."""
        day = local.date()
        if local.time().replace(tzinfo=None) < self.handover:
            day -= dt.timedelta(days=1)
        return day

    def on_duty(self, local: dt.datetime) -> str:
        day = self.duty_day(local)
        if day in self.overrides:
            return self.overrides[day]
        return self.order[(day - self.anchor).days % len(self.order)]

    def next_handover(self, local: dt.datetime) -> dt.datetime:
        """The first hand-over strictly after ``local`` (same tzinfo as ``local``)."""
        candidate = dt.datetime.combine(local.date(), self.handover, tzinfo=local.tzinfo)
        if candidate <= local:
            candidate += dt.timedelta(days=1)
        return candidate

    def schedule(
        self, start: dt.datetime, hours: int
    ) -> list[tuple[dt.datetime, dt.datetime, str]]:
        """Duty periods covering ``[start, start + hours)``: (from, until, group key)."""
        end = start + dt.timedelta(hours=hours)
        periods: list[tuple[dt.datetime, dt.datetime, str]] = []
        cursor = start
        while cursor < end:
            until = min(self.next_handover(cursor), end)
            periods.append((cursor, until, self.on_duty(cursor)))
            cursor = until
        return periods


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    chat_id: int
    leader: int
    members: frozenset[int]
    leader_name: str | None = None  # from the config, if the station wrote one

    def includes(self, user_id: int) -> bool:
        return user_id == self.leader or user_id in self.members


@dataclass(frozen=True)
class Directory:
    """Everyone on staff, from the configuration."""

    teams: tuple[Team, ...]
    officers: frozenset[int]

    def team(self, key: str) -> Team:
        team = self.find(key)
        if team is None:
            raise KeyError(key)
        return team

    def find(self, key: str) -> Team | None:
        """The group with this key (``None``: not in the configuration any more)."""
        for team in self.teams:
            if team.key == key:
                return team
        return None

    def team_name(self, key: str) -> str:
        """The group's name; a group no longer configured by its key."""
        team = self.find(key)
        return team.name if team is not None else key

    def team_of(self, user_id: int) -> Team | None:
        for team in self.teams:
            if team.includes(user_id):
                return team
        return None

    def team_by_chat(self, chat_id: int) -> Team | None:
        for team in self.teams:
            if team.chat_id == chat_id:
                return team
        return None

    def is_officer(self, user_id: int) -> bool:
        return user_id in self.officers

    def is_leader(self, user_id: int) -> bool:
        return any(team.leader == user_id for team in self.teams)

    def is_staff(self, user_id: int) -> bool:
        return self.is_officer(user_id) or self.team_of(user_id) is not None

    def role(self, user_id: int) -> Role:
        """OFFICER, LEADER, MEMBER, or REPORTER (anyone not on staff)."""
        if self.is_officer(user_id):
            return Role.OFFICER
        if self.is_leader(user_id):
            return Role.LEADER
        if self.team_of(user_id) is not None:
            return Role.MEMBER
        return Role.REPORTER

    def configured_name(self, user_id: int) -> str | None:
        """The name the configuration gives this person, if any."""
        for team in self.teams:
            if team.leader == user_id and team.leader_name:
                return team.leader_name
        return None

    def replace_chat_id(self, old: int, new: int) -> Directory:
        teams = tuple(replace(t, chat_id=new) if t.chat_id == old else t for t in self.teams)
        return Directory(teams, self.officers)
