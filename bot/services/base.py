"""What every service shares: the database, the staff directory, the clock."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.config import Config
from bot.db.database import Database
from bot.db.repo import Repo
from bot.domain.roster import Directory, Roster

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _leave_it(item_id: int) -> None:
    """Without a sender (tests of services alone): the item waits in the outbox."""


@dataclass
class Deps:
    config: Config
    db: Database
    repo: Repo
    directory: Directory
    roster: Roster
    clock: Clock = utc_now
    # Called after a transaction that enqueued outbox items, to wake the sender at once.
    wake: Callable[[], None] = field(default=lambda: None)
    # Try one committed outbox item now, in the caller's task (a receipt the person is waiting
    # for); whatever does not go out stays in the outbox for the sender. Default: leave it.
    deliver_now: Callable[[int], Awaitable[None]] = field(default=_leave_it)
    # Chats that blocked the bot or removed it (kept in step with the ``chats`` table).
    inactive_chats: set[int] = field(default_factory=set)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.config.station.timezone)

    def now(self) -> dt.datetime:
        return self.clock()

    def local(self, moment: dt.datetime | None = None) -> dt.datetime:
        return (moment or self.clock()).astimezone(self.tz)

    def on_duty(self, moment: dt.datetime | None = None) -> str:
        return self.roster.on_duty(self.local(moment))
