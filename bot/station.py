"""What every part of the bot stands on, built from the configuration: the database and its
stores, the clock, who the bot can reach, the roster — the :class:`Station`. The bot
(bot/app.py), the maintenance commands (bot/cli.py) and the tests open it here."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.config import Config
from bot.db.database import Database
from bot.db.repo import Repo
from bot.domain.histogram import day_shift_minutes
from bot.domain.roster import Directory, Roster, Team
from bot.geo.area import ServiceArea
from bot.geo.geocoder import Geocoder
from bot.services.audit import Audit
from bot.services.clock import Clock, StationClock, utc_now
from bot.services.notify import Notifier
from bot.services.reach import Reach


def directory_from(config: Config) -> Directory:
    teams = tuple(
        Team(g.key, g.name, g.chat_id, g.leader, frozenset(g.members), g.leader_name)
        for g in config.groups
    )
    return Directory(teams, frozenset(config.officers.user_ids))


def roster_from(config: Config) -> Roster:
    hour, minute = (int(part) for part in config.roster.handover.split(":"))
    return Roster(
        anchor=config.roster.anchor,
        handover=dt.time(hour, minute),
        order=tuple(config.roster.order),
        overrides=dict(config.roster.overrides),
    )


def service_area(config: Config) -> ServiceArea:
    a = config.service_area
    return ServiceArea(south=a.south, west=a.west, north=a.north, east=a.east)


def geocoder_from(config: Config) -> Geocoder:
    g = config.geocoder
    return Geocoder(
        provider=g.provider,
        area=service_area(config),
        domain=g.domain,
        scheme=g.scheme,
        user_agent=g.user_agent,
        timeout=g.timeout,
    )


@dataclass(frozen=True)
class Station:
    """What every part stands on: the configuration, the database and its stores, the clock,
    who the bot can reach (the directory with moved chat ids), the roster."""

    config: Config
    db: Database
    repo: Repo
    clock: StationClock
    reach: Reach
    roster: Roster

    @property
    def audit(self) -> Audit:
        return Audit(self.db, self.repo.events, self.reach, self.clock)

    @property
    def notifier(self) -> Notifier:
        """What goes into the outbox (stateless: the outbox store wakes the sender)."""
        return Notifier(self.repo.outbox, self.reach, self.clock, self.config.station.language)


async def open_station(config: Config, clock: Clock = utc_now) -> Station:
    """Open the database (migrating it) and load what the bot knows of its chats; the caller
    closes ``station.db``. The bot and the maintenance commands (bot/cli.py) both start here."""
    db = await Database(config.station.database).open()
    repo = Repo.on(db)
    station_clock = StationClock(config.station.timezone, clock)
    # The running totals' station days follow the configured time zone (issue 16).
    await repo.stats.align_days(day_shift_minutes(station_clock.tz, config.campaign.start))
    reach = await Reach(directory_from(config), repo.chats, db).load()
    return Station(config, db, repo, station_clock, reach, roster_from(config))


@asynccontextmanager
async def station_for(config: Config) -> AsyncIterator[Station]:
    """:func:`open_station` for one command; the database is closed afterwards."""
    station = await open_station(config)
    try:
        yield station
    finally:
        await station.db.close()
