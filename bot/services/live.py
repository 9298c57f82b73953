"""Live locations (issue 13): a reporter's moving pin, and staff members' positions.

A reporter's live pin is followed from its first message (which their report takes as the
place) and each move is kept; once their tip exists the card shows the latest position and
its age. A staff member's live location shared in a patrol group is their position: in reply
to a card, the card and the officers' /open show their distance to the tip; for a new tip the
card names the on-duty group's member nearest to it. Card edits for moves are throttled
(bot/domain/live.py); the schedule step (:meth:`LiveService.run`) shows what a throttled
edit held back and forgets staff positions whose live period is over.

Staff positions are staff-only data: only the patrol side sees them, and no log line ever
carries a position.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from bot.db.database import Database
from bot.db.live import LiveStore
from bot.db.messages import MessageStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.access import actor_for
from bot.domain.live import LivePosition, LiveRole, card_edit_due, expires, nearest
from bot.domain.tips import State, Tip
from bot.geo.coords import haversine_m
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.people import Naming, Person
from bot.services.reach import Reach

#: A tip whose card names the on-duty member nearest to it: one nobody has claimed yet.
_NEW = (State.NEW, State.DISPATCHED)


class Followed(StrEnum):
    """What became of a live location shared with the bot."""

    REPORTER = "reporter"  # a private chat: the reporter's pin (their report takes it)
    TIP = "tip"  # a staff member's, in reply to a tip's card
    POSITION = "position"  # a staff member's, in their group (for "nearest")
    IGNORED = "ignored"  # not staff, or not live


@dataclass(frozen=True)
class StaffNear:
    person: Person
    metres: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class LiveFacts:
    """What a card shows of live positions (worked out when it is rendered)."""

    now: dt.datetime
    pin: LivePosition | None = None  # the reporter's latest position
    pin_moved_m: int = 0  # … how far from the tip's own position
    staff: list[StaffNear] = field(default_factory=list)  # sharing in reply to the card
    nearest: StaffNear | None = None  # the on-duty group's nearest member (a new tip)


class LiveService:
    def __init__(
        self,
        db: Database,
        store: LiveStore,
        tips: TipStore,
        messages: MessageStore,
        notifier: Notifier,
        naming: Naming,
        reach: Reach,
        clock: StationClock,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.messages = messages
        self.notifier = notifier
        self.naming = naming
        self.reach = reach
        self.clock = clock

    async def started(
        self,
        *,
        chat_id: int,
        message_id: int,
        user_id: int,
        lat: float,
        lon: float,
        live_period: int,
        private: bool,
        reply_to: int | None,
    ) -> tuple[Followed, Tip | None]:
        """A live location's first message. In a private chat it is a reporter's pin; in a
        patrol group a staff member's position (in reply to a card: towards that tip)."""
        now = self.clock.now()
        directory = self.reach.directory
        tip: Tip | None = None
        if private:
            role, group_key, what = LiveRole.REPORTER, None, Followed.REPORTER
        else:
            team = directory.team_of(user_id)
            if team is None and not directory.is_officer(user_id):
                return Followed.IGNORED, None
            role, group_key, what = LiveRole.STAFF, team.key if team else None, Followed.POSITION
            if reply_to is not None:
                tip_id = await self.messages.tip_of(chat_id, reply_to)
                tip = await self.tips.get(tip_id) if tip_id else None
                if tip is not None and actor_for(directory, tip, user_id).is_staff:
                    what = Followed.TIP
                else:
                    tip = None
        async with self.db.write() as tx:
            await self.store.start(
                tx,
                chat_id=chat_id,
                message_id=message_id,
                user_id=user_id,
                role=role,
                tip_id=tip.id if tip else None,
                group_key=group_key,
                lat=lat,
                lon=lon,
                now=now,
                expires_at=expires(now, live_period),
            )
            if tip is not None:
                await self.store.shown(tx, chat_id, message_id, now)
                await self.notifier.refresh_card(tx, tip.id, now)
        return what, tip

    async def moved(self, chat_id: int, message_id: int, lat: float, lon: float) -> None:
        """A followed live location moved (Telegram's edit of its message)."""
        now = self.clock.now()
        position = await self.store.get(chat_id, message_id)
        if position is None:
            return  # not one we follow (e.g. shared before this feature, or not staff)
        tip_id = position.tip_id
        if tip_id is None and position.role is LiveRole.REPORTER:
            tip_id = await self.store.first_tip_since(position.user_id, position.started_at)
        async with self.db.write() as tx:
            if not await self.store.move(tx, chat_id, message_id, lat, lon, now):
                return  # its live period is over
            if tip_id is None:
                return
            if position.tip_id is None:
                await self.store.bind(tx, chat_id, message_id, tip_id)
            moved = await self.store.get(chat_id, message_id)
            if moved is not None and card_edit_due(moved, now):
                await self._show(tx, moved, tip_id, now)

    async def _show(self, tx: Tx, position: LivePosition, tip_id: int, now: dt.datetime) -> None:
        tip = await self.tips.get(tip_id)
        await self.store.shown(tx, position.chat_id, position.message_id, now)
        if tip is not None and tip.is_open:
            await self.notifier.refresh_card(tx, tip_id, now)

    async def run(self, now: dt.datetime, local: dt.datetime) -> None:
        """The schedule step: cards catch up with moves a throttled edit held back; staff
        positions whose live period is over are forgotten (and their cards say so)."""
        # A pin that moved while its report was being written: the tip takes it now.
        for position in await self.store.unbound(now):
            tip_id = await self.store.first_tip_since(position.user_id, position.started_at)
            if tip_id is not None:
                async with self.db.write() as tx:
                    await self.store.bind(tx, position.chat_id, position.message_id, tip_id)
        for position in await self.store.unshown():
            if position.tip_id is not None and card_edit_due(position, now):
                async with self.db.write() as tx:
                    await self._show(tx, position, position.tip_id, now)
        ended = await self.store.ended(now)  # staff positions, and pins no tip took
        if not ended:
            return
        # Their cards: those they were shared towards, and the new tips of their group
        # (which may name one of them as the nearest).
        shown = {p.tip_id for p in ended if p.tip_id is not None}
        for group in {p.group_key for p in ended if p.group_key is not None}:
            shown |= {t.id for t in await self.tips.open(group) if t.state in _NEW}
        async with self.db.write() as tx:
            await self.store.expire(tx, now)
            for tip_id in sorted(shown):
                await self.notifier.refresh_card(tx, tip_id, now)

    # -- what the patrol side sees ----------------------------------------------------------
    async def card_facts(self, tip: Tip) -> LiveFacts | None:
        """The live positions a tip's card shows, as of now; None if there are none."""
        now = self.clock.now()
        rows = await self.store.of_tip(tip.id)
        pins = [p for p in rows if p.role is LiveRole.REPORTER]
        pin = pins[0] if pins else None
        staff = await self._near(tip, [p for p in rows if p.role is LiveRole.STAFF], now)
        near: StaffNear | None = None
        if tip.state in _NEW:
            found = nearest(await self.store.positions(now, tip.group_key), tip.lat, tip.lon, now)
            if found is not None:
                person = await self.naming.person(found[0].user_id)
                near = StaffNear(person, found[1], found[0].updated_at)
        if pin is None and not staff and near is None:
            return None
        moved = round(haversine_m(tip.lat, tip.lon, pin.lat, pin.lon)) if pin else 0
        return LiveFacts(now=now, pin=pin, pin_moved_m=moved, staff=staff, nearest=near)

    async def _near(
        self, tip: Tip, positions: list[LivePosition], now: dt.datetime
    ) -> list[StaffNear]:
        live = [p for p in positions if p.live(now)]
        names = await self.naming.people(p.user_id for p in live)
        seen: set[int] = set()
        near: list[StaffNear] = []
        for p in live:  # newest first: one line per person
            if p.user_id in seen:
                continue
            seen.add(p.user_id)
            metres = round(haversine_m(tip.lat, tip.lon, p.lat, p.lon))
            near.append(StaffNear(names[p.user_id], metres, p.updated_at))
        return sorted(near, key=lambda s: (s.metres, s.person.user_id))

    async def tracking(self, tips: list[Tip]) -> dict[int, list[StaffNear]]:
        """For /open: who is sharing a live location towards each tip, and how far."""
        now = self.clock.now()
        rows = await self.store.of_tips([tip.id for tip in tips], now)
        found: dict[int, list[StaffNear]] = {}
        for tip in tips:
            near = await self._near(tip, [p for p in rows if p.tip_id == tip.id], now)
            if near:
                found[tip.id] = near
        return found

    async def positions(self) -> list[tuple[Person, LivePosition]]:
        """Every staff member's live position now, with their name (the dashboard's; staff
        only)."""
        now = self.clock.now()
        rows = await self.store.positions(now)
        names = await self.naming.people(p.user_id for p in rows)
        latest: dict[int, LivePosition] = {}
        for p in rows:  # newest first
            latest.setdefault(p.user_id, p)
        return [(names[user], p) for user, p in latest.items()]
