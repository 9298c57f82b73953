"""Everything a tip's card shows besides the tip itself (names, timeline, duplicates)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.config import ReportingConfig
from bot.db.amendments import AmendmentStore
from bot.db.database import from_db_time
from bot.db.events import EventStore
from bot.db.messages import MediaStore
from bot.db.people import PeopleStore
from bot.db.tips import TipStore
from bot.domain import dedup
from bot.domain.amendments import Amendment
from bot.domain.arrival import FieldFacts
from bot.domain.events import Act
from bot.domain.tips import Action, Tip
from bot.services.live import LiveFacts, LiveService
from bot.services.people import Naming, Person
from bot.services.reach import Reach


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    action: Action | Act  # a transition, or evidence
    actor: Person | None  # a staff member, or None for the system / a reporter
    outcome: str | None = None


@dataclass(frozen=True)
class CardContext:
    """What a card shows besides the tip: staff names, duplicates, evidence, timeline."""

    group_name: str
    claimer: Person | None = None
    closer: Person | None = None
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (code, metres)
    duplicate_of: str | None = None
    evidence: int = 0
    timeline: list[TimelineEntry] = field(default_factory=list)
    #: The reporter's name, username and phone: never shown, only masked in the card's words.
    reporter_known: tuple[str | None, ...] = ()
    #: Arrival time, "still there?", earlier attempts (bot/services/followup.py).
    arrival: FieldFacts | None = None
    #: What the reporter added after submitting ("补充"), oldest first.
    amendments: list[Amendment] = field(default_factory=list)
    live: LiveFacts | None = None  # live positions (issue 13)


#: What the card's timeline shows of the tip's event log.
TIMELINE: dict[str, Action | Act] = {
    a.value: a
    for a in (
        Action.DISPATCH,
        Action.CLAIM,
        Action.RELEASE,
        Action.GO,
        Action.ARRIVE,
        Action.CLOSE,
        Action.WITHDRAW,
        Act.EVIDENCE,
    )
}


class CardService:
    def __init__(
        self,
        tips: TipStore,
        events: EventStore,
        media: MediaStore,
        people: PeopleStore,
        naming: Naming,
        reach: Reach,
        reporting: ReportingConfig,
        amendments: AmendmentStore | None = None,
        *,
        live: LiveService | None = None,
    ) -> None:
        self.tips = tips
        self.amendments = amendments
        self.events = events
        self.media = media
        self.people = people
        self.naming = naming
        self.reach = reach
        self.reporting = reporting
        #: The field flow's facts of a tip (set by the composition root).
        self.field_facts: Callable[[Tip], Awaitable[FieldFacts]] | None = None
        self.live = live

    async def context(self, tip: Tip) -> CardContext:
        # The reads that need nothing but the tip at once (each is a round trip to the
        # database's thread; on a busy event loop every wait is a turn in the queue), then
        # the two that need the events.
        events, evidence, known, arrival, amendments, live, dup_codes = await asyncio.gather(
            self.events.of(tip.id),
            self.media.evidence_count(tip.id),
            self.people.reporter_identity(tip.id),
            self.field_facts(tip) if self.field_facts else _nothing(),
            self.amendments.of(tip.id) if self.amendments else _nothing(),
            self.live.card_facts(tip) if self.live is not None else _nothing(),
            self.tips.codes([tip.duplicate_of]) if tip.duplicate_of else _nothing(),
        )
        actor_ids = [e["actor_id"] for e in events if e["actor_id"] is not None]
        names, duplicates = await asyncio.gather(
            self.naming.people([*actor_ids, tip.claimed_by, tip.closed_by]),
            self._duplicates(events),
        )
        timeline = [
            TimelineEntry(
                at=from_db_time(e["at"]) or tip.created_at,
                action=TIMELINE[e["action"]],
                actor=names.get(e["actor_id"]) if e["action"] != Action.WITHDRAW else None,
                outcome=json.loads(e["detail"]).get("outcome") if e["detail"] else None,
            )
            for e in events
            if e["action"] in TIMELINE
        ]
        return CardContext(
            group_name=self.reach.directory.team_name(tip.group_key),
            claimer=names.get(tip.claimed_by) if tip.claimed_by else None,
            closer=names.get(tip.closed_by) if tip.closed_by else None,
            duplicates=duplicates,
            duplicate_of=dup_codes.get(tip.duplicate_of) if dup_codes else None,
            evidence=evidence,
            timeline=timeline,
            reporter_known=known,
            arrival=arrival,
            amendments=amendments or [],
            live=live,
        )

    async def _duplicates(self, events: list) -> list[tuple[str, int]]:
        """The open tips nearby when the tip was dispatched, as its dispatch event recorded
        them: (code, metres)."""
        dispatches = [e for e in events if e["action"] == Action.DISPATCH and e["detail"]]
        if not dispatches:
            return []
        # The latest dispatch (a tip sent again records its list again) is what the card shows.
        pairs = json.loads(dispatches[-1]["detail"]).get("duplicates", [])
        codes = await self.tips.codes(other for other, _ in pairs)
        return [(codes[o], int(m)) for o, m in pairs if o in codes]

    async def duplicate_candidates(self, tip: Tip) -> list[tuple[int, str]]:
        """Open tips near this one (for the 'duplicate of…' picker), nearest first."""
        radius = self.reporting.duplicate_radius_m
        box = dedup.bounding_box(tip.lat, tip.lon, radius)
        since = tip.created_at - dt.timedelta(hours=self.reporting.duplicate_window_hours)
        near = dedup.nearby(
            tip.lat, tip.lon, await self.tips.open_in_box(box, since), radius, exclude=tip.id
        )
        codes = await self.tips.codes(i for i, _ in near)
        return [(i, codes[i]) for i, _ in near if i in codes]


async def _nothing() -> None:
    """A read not made (its feature is off), as a result to gather with the others."""
    return None
