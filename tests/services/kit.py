"""Services driven alone: a real database in a temporary folder, a clock the test moves,
every service as the composition root builds it — and no Telegram, no PTB, no emulator.

Fast: a rule of a service is tested here in milliseconds; the end-to-end suite keeps what
only the whole bot can show. Everyone in here is invented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bot.app import Station, build_services, open_station
from bot.config import parse_config
from bot.db.outbox import OutboxItem
from bot.db.repo import Repo
from bot.domain.draft import Draft
from bot.domain.outbox import Lines, Msg, Notice
from bot.domain.tips import Action, Outcome, People, Seen, Tip
from bot.geo.area import HUANGSHI
from bot.geo.geocoder import Geocoder
from bot.jobs.outbox import OutboxSender
from bot.services.registry import Services
from tests.clock import FakeClock

# Two groups, g1 on duty on 2026-12-01 (after the 08:30 hand-over); one officer.
G1_CHAT, G2_CHAT = -1001, -1002
G1_LEADER, G1_MEMBER, G1_MEMBER2 = 11, 12, 13
G2_LEADER, G2_MEMBER = 21, 22
OFFICER = 91
REPORTER, REPORTER2 = 501, 502
STRANGER = 99999

CONFIG = f"""
[station]
database = "DB"
[[groups]]
key = "g1"
name = "第一小组"
chat_id = {G1_CHAT}
leader = {G1_LEADER}
members = [{G1_MEMBER}, {G1_MEMBER2}]
[[groups]]
key = "g2"
name = "第二小组"
chat_id = {G2_CHAT}
leader = {G2_LEADER}
members = [{G2_MEMBER}]
[roster]
anchor = 2026-12-01
order = ["g1", "g2"]
[officers]
user_ids = [{OFFICER}]
[geocoder]
provider = "offline"
"""

NOW = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)  # 21:00 in Huangshi
CENTRE = (30.2000, 115.0400)


class Clock(FakeClock):
    def __init__(self, start: dt.datetime = NOW) -> None:
        super().__init__(start)


@dataclass
class Kit:
    station: Station
    services: Services
    sender: OutboxSender  # built, never started: what is queued stays in the outbox
    clock: Clock

    @property
    def repo(self) -> Repo:
        return self.station.repo

    async def report(
        self, user: int = REPORTER, where: tuple[float, float] = CENTRE, **fields: object
    ) -> Tip:
        """A reporter's tip, submitted: its draft written complete, then sent."""
        draft = replace(
            Draft(user_id=user).with_location(*where, None, None),
            seen=Seen.NOW,
            people=People.ONE,
            **fields,
        )
        await self.services.reports.save(draft)
        result = await self.services.reports.submit(user)
        assert result.ok and result.value is not None, result
        return result.value.tip

    async def close(self, tip: Tip, outcome: Outcome, by: int = G1_MEMBER) -> Tip:
        """Claim, arrive, close: the tip as it is then."""
        field = self.services.field
        for action, extra in ((Action.CLAIM, {}), (Action.ARRIVE, {}), (Action.CLOSE, {})):
            if action is Action.CLOSE:
                extra = {"outcome": outcome}
            result = await field.act(tip.id, action, by, **extra)
            assert result.ok, (action, result)
        closed = await self.repo.tips.get(tip.id)
        assert closed is not None
        return closed

    async def queued(self, chat_id: int | None = None) -> list[OutboxItem]:
        """What waits in the outbox (for one chat), oldest first."""
        items = await self.repo.outbox.due(self.clock() + dt.timedelta(days=365), 1000)
        return sorted(
            (i for i in items if chat_id is None or i.chat_id == chat_id), key=lambda i: i.id
        )

    async def told(self, chat_id: int) -> list[str]:
        """The catalog keys of the notices queued for a chat, in order (each notice's first)."""
        keys = []
        for item in await self.queued(chat_id):
            message = item.message
            if isinstance(message, Notice):
                keys.append(first_key(message))
        return keys


def keys_of(notice: Notice) -> list[str]:
    """Every catalog key of a notice's text, in reading order."""

    def walk(text: object) -> list[str]:
        if isinstance(text, Lines):
            return [key for part in text.parts for key in walk(part)]
        return [text.key] if isinstance(text, Msg) else []

    return walk(notice.text)


def first_key(notice: Notice) -> str:
    text = notice.text
    while isinstance(text, Lines):
        text = text.parts[0]
    assert isinstance(text, Msg), text
    return text.key


@asynccontextmanager
async def kit(tmp_path: Path, extra: str = "", clock: Clock | None = None) -> AsyncIterator[Kit]:
    """``extra``: more TOML for the configuration (a ``[reward]`` section…)."""
    text = CONFIG.replace("DB", str(tmp_path / "warmline.sqlite3")) + extra
    config = parse_config(text, env={})
    clock = clock or Clock()
    station = await open_station(config, clock)
    try:
        services, sender = build_services(
            station,
            None,
            geocoder=Geocoder(provider="offline", area=HUANGSHI),
            fetch_forecast=None,
        )
        yield Kit(station, services, sender, clock)
    finally:
        await station.db.close()
