"""Administration: purge personal data of old tips; back the database up while it runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.db.backups import online_copy
from bot.domain.rewards import RewardState
from bot.services.base import Deps

UNPAID = {RewardState.PENDING.value, RewardState.APPROVED.value}


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)  # tip codes
    refused_unpaid: list[str] = field(default_factory=list)  # tips with a reward still owed
    reporters_forgotten: int = 0


async def purge(deps: Deps, before: dt.date) -> PurgeReport:
    """Remove personal data of tips closed before ``before`` (station time).

    A tip whose reward is still owed (pending or approved) is refused: the station needs the
    reporter's details to pay it.
    """
    cutoff = dt.datetime.combine(before, dt.time(), tzinfo=deps.tz)
    report = PurgeReport()
    now = deps.now()
    candidates = await deps.repo.purge_candidates(cutoff)
    reporters: set[int] = set()
    async with deps.db.write() as tx:
        for row in candidates:
            if row["reward_state"] in UNPAID:
                report.refused_unpaid.append(row["code"])
                continue
            await deps.repo.purge_tip(tx, row["id"], now)
            report.purged.append(row["code"])
            if row["reporter_id"] is not None:
                reporters.add(row["reporter_id"])
        for reporter in sorted(reporters):
            if await deps.repo.forget_reporter_if_done(tx, reporter):
                report.reporters_forgotten += 1
        await deps.repo.add_event(
            tx,
            tip_id=None,
            actor_id=None,
            actor_role="admin",
            action="purge",
            from_state=None,
            to_state=None,
            now=now,
            detail={
                "before": before.isoformat(),
                "tips": len(report.purged),
                "refused_unpaid": len(report.refused_unpaid),
            },
        )
    return report


def backup(database: str | Path, out: str | Path) -> int:
    """``warmline backup``: a checked online copy (bot/db/backups.py, the same code as the
    daily backup); returns the copy's tip count. Safe while the bot runs."""
    return online_copy(database, out).tips
