"""The tests' reference versions of what the database counts: plain Python over the rows.

The bot counts in SQL (bot/db/stats.py, bot/db/rewards.py: a campaign's history is far too
long to load); these say, slowly and obviously, what the answer must be.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable

from bot.db.database import Database, to_db_time
from bot.db.tips import tip_of
from bot.domain.histogram import bucket_micros, bucket_of
from bot.domain.rewards import Movements, movements_from_sums
from bot.domain.schedule import TipTally
from bot.domain.tips import Tip


def bucketed_micros(duration: dt.timedelta) -> int:
    """A duration as the duration histograms count it: its bucket's value (microseconds)."""
    return bucket_micros(bucket_of(duration // dt.timedelta(microseconds=1)))


def bucketed_median(durations: Iterable[dt.timedelta]) -> float | None:
    """The median minutes of these durations, each counted as its bucket's value."""
    values = [bucketed_micros(d) for d in durations]
    return statistics.median(values) / 60_000_000 if values else None


def tally(tips: list[Tip], *, bucketed: bool = False) -> TipTally:
    """What the daily summary counts over these tips; ``bucketed``: the medians as the
    duration histograms count them (what the bot shows), else exact."""
    outcomes: dict[str, int] = {}
    supplies: dict[str, int] = {}
    for tip in tips:
        if tip.outcome is not None:
            outcomes[tip.outcome.value] = outcomes.get(tip.outcome.value, 0) + 1
        for item in tip.supplies:
            supplies[item.value] = supplies.get(item.value, 0) + 1
    claim = [
        (t.claimed_at - t.created_at).total_seconds() / 60 for t in tips if t.claimed_at is not None
    ]
    scene = [
        (t.arrived_at - t.created_at).total_seconds() / 60 for t in tips if t.arrived_at is not None
    ]
    if bucketed:
        return TipTally(
            received=len(tips),
            outcomes=outcomes,
            supplies=supplies,
            median_claim=bucketed_median(
                t.claimed_at - t.created_at for t in tips if t.claimed_at is not None
            ),
            median_scene=bucketed_median(
                t.arrived_at - t.created_at for t in tips if t.arrived_at is not None
            ),
        )
    return TipTally(
        received=len(tips),
        outcomes=outcomes,
        supplies=supplies,
        median_claim=statistics.median(claim) if claim else None,
        median_scene=statistics.median(scene) if scene else None,
    )


def movements(entries: list[tuple[str, int]]) -> Movements:
    """Ledger entries ``(entry, amount)`` summed by kind."""
    sums: dict[str, tuple[int, int]] = {}
    for entry, amount in entries:
        count, total = sums.get(entry, (0, 0))
        sums[entry] = (count + 1, total + amount)
    return movements_from_sums(sums)


def median_minutes(durations: Iterable[dt.timedelta]) -> float | None:
    values = [d.total_seconds() / 60 for d in durations]
    return round(statistics.median(values), 1) if values else None


async def tips_created_between(
    db: Database, since: dt.datetime | None, until: dt.datetime
) -> list[Tip]:
    if since is None:
        rows = await db.fetchall(
            "SELECT * FROM tips WHERE created_at < ? ORDER BY id", (to_db_time(until),)
        )
    else:
        rows = await db.fetchall(
            "SELECT * FROM tips WHERE created_at >= ? AND created_at < ? ORDER BY id",
            (to_db_time(since), to_db_time(until)),
        )
    return [tip_of(r) for r in rows]
