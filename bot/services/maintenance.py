"""Administration: purge personal data of old tips (the backup itself is bot/db/maintenance.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.db.backups import online_copy
from bot.db.database import Database
from bot.db.maintenance import MaintenanceStore
from bot.domain.events import Act
from bot.domain.rewards import RewardState
from bot.domain.tips import Role
from bot.services.audit import Audit
from bot.services.clock import StationClock

UNPAID = {RewardState.PENDING.value, RewardState.APPROVED.value}


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)  # tip codes
    refused_unpaid: list[str] = field(default_factory=list)  # tips with a reward still owed
    reporters_forgotten: int = 0


async def purge(
    db: Database, store: MaintenanceStore, audit: Audit, clock: StationClock, before: dt.date
) -> PurgeReport:
    """Remove personal data of tips closed before ``before`` (station time).

    A tip whose reward is still owed (pending or approved) is refused: the station needs the
    reporter's details to pay it.
    """
    cutoff = dt.datetime.combine(before, dt.time(), tzinfo=clock.tz)
    report = PurgeReport()
    now = clock.now()
    candidates = await store.purge_candidates(cutoff)
    reporters: set[int] = set()
    async with db.write() as tx:
        for row in candidates:
            if row["reward_state"] in UNPAID:
                report.refused_unpaid.append(row["code"])
                continue
            await store.purge_tip(tx, row["id"], now)
            report.purged.append(row["code"])
            if row["reporter_id"] is not None:
                reporters.add(row["reporter_id"])
        for reporter in sorted(reporters):
            if await store.forget_reporter_if_done(tx, reporter):
                report.reporters_forgotten += 1
        detail = {
            "before": before.isoformat(),
            "tips": len(report.purged),
            "refused_unpaid": len(report.refused_unpaid),
        }
        await audit.record(tx, Act.PURGE, role=Role.ADMIN, detail=detail, now=now)
    return report


def backup(database: str | Path, out: str | Path) -> int:
    """``warmline backup``: a checked online copy (bot/db/backups.py, the same code as the
    daily backup); returns the copy's tip count. Safe while the bot runs."""
    return online_copy(database, out).tips
