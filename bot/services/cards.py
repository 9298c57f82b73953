"""Everything a tip's card shows besides the tip itself (names, timeline, duplicates)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from bot.db.database import from_db_time
from bot.domain import dedup
from bot.domain.tips import Tip
from bot.services.base import Deps
from bot.services.people import Person, people


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    action: str  # dispatch | claim | release | go | arrive | close | withdraw | evidence | …
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


_TIMELINE_ACTIONS = {
    "dispatch",
    "claim",
    "release",
    "go",
    "arrive",
    "close",
    "withdraw",
    "evidence",
}


class CardService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def context(self, tip: Tip) -> CardContext:
        repo = self.d.repo
        events = await repo.events(tip.id)
        actor_ids = [e["actor_id"] for e in events if e["actor_id"] is not None]
        names = await people(self.d, [*actor_ids, tip.claimed_by, tip.closed_by])
        duplicates: list[tuple[str, int]] = []
        for event in events:
            if event["action"] == "dispatch" and event["detail"]:
                pairs = json.loads(event["detail"]).get("duplicates", [])
                codes = await repo.codes(other for other, _ in pairs)
                duplicates = [(codes[o], int(m)) for o, m in pairs if o in codes]
        timeline = [
            TimelineEntry(
                at=from_db_time(e["at"]) or tip.created_at,
                action=e["action"],
                actor=names.get(e["actor_id"]) if e["action"] != "withdraw" else None,
                outcome=json.loads(e["detail"]).get("outcome") if e["detail"] else None,
            )
            for e in events
            if e["action"] in _TIMELINE_ACTIONS
        ]
        dup_of = None
        if tip.duplicate_of:
            dup_of = (await repo.codes([tip.duplicate_of])).get(tip.duplicate_of)
        try:
            group_name = self.d.directory.team(tip.group_key).name
        except KeyError:
            group_name = tip.group_key
        return CardContext(
            group_name=group_name,
            claimer=names.get(tip.claimed_by) if tip.claimed_by else None,
            closer=names.get(tip.closed_by) if tip.closed_by else None,
            duplicates=duplicates,
            duplicate_of=dup_of,
            evidence=await repo.evidence_count(tip.id),
            timeline=timeline,
            reporter_known=await repo.reporter_identity(tip.id),
        )

    async def _open_near(self, tip: Tip) -> list[dedup.Candidate]:
        reporting = self.d.config.reporting
        box = dedup.bounding_box(tip.lat, tip.lon, reporting.duplicate_radius_m)
        since = tip.created_at - dt.timedelta(hours=reporting.duplicate_window_hours)
        return await self.d.repo.open_tips_in_box(box, since)

    async def duplicate_candidates(self, tip: Tip) -> list[tuple[int, str]]:
        """Open tips near this one (for the 'duplicate of…' picker), nearest first."""
        near = dedup.nearby(
            tip.lat,
            tip.lon,
            await self._open_near(tip),
            self.d.config.reporting.duplicate_radius_m,
            exclude=tip.id,
        )
        codes = await self.d.repo.codes(i for i, _ in near)
        return [(i, codes[i]) for i, _ in near if i in codes]
