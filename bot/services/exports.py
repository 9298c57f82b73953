"""Ledger export for the finance office: CSV and XLSX, with the same figures as /ledger.

After the entries come two blocks, kept apart as /ledger keeps them: the *state now* (each
reward counted once, in its current state) and the *movements* of today, this month and the
campaign (ledger entries in each period; one reward can appear in several of them).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from bot.db.database import from_db_time
from bot.db.rewards import LedgerStore, RewardStore
from bot.domain.rewards import PERIODS, Campaign, LedgerReport, ledger_periods
from bot.services import sheets
from bot.services.rewards import ledger_report

COLUMNS = [
    "entry_id",
    "time_local",
    "tip_code",
    "reward_id",
    "entry",
    "amount_yuan",
    "currency",
    "method",
    "reference",
    "actor_id",
    "reason",
    "reverses_entry",
]

# Row labels of the two blocks (also read back by the tests).
STATE_HEAD = "state now (each reward once)"
STATE_ROWS = (
    ("pending", "pending approval"),
    ("approved", "approved, not yet paid"),
    ("paid", "paid"),
    ("rejected", "rejected"),
)
MOVES_HEAD = "movements in the period (ledger entries)"
MOVE_ROWS = (
    ("created", "new pending (verified tips)"),
    ("approved", "approvals"),
    ("rejected", "rejections"),
    ("paid", "payments recorded"),
    ("reversed", "payments reversed"),
)
NET_PAID = "net paid (payments + reversals), yuan"
PERIOD_NAMES = {"today": "today", "month": "this month", "campaign": "campaign"}


@dataclass(frozen=True)
class LedgerExport:
    rows: list[list[object]]  # every entry, oldest first
    report: LedgerReport  # the same figures as /ledger at ``at``
    at: dt.datetime  # station time
    periods: dict[str, tuple[dt.datetime, dt.datetime]]


async def ledger_export(
    ledger: LedgerStore,
    rewards: RewardStore,
    tz: zoneinfo.ZoneInfo,
    campaign: Campaign,
    now: dt.datetime | None = None,
) -> LedgerExport:
    """Every ledger entry and the figures /ledger shows at ``now`` (default: the clock)."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    entries = await ledger.entries()
    rows: list[list[object]] = []
    for e in entries:
        at = from_db_time(e["at"])
        assert at is not None
        rows.append(
            [
                e["id"],
                at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                e["code"],
                e["reward_id"],
                e["entry"],
                e["amount"],
                e["currency"],
                e["method"] or "",
                e["reference"] or "",
                e["actor_id"] if e["actor_id"] is not None else "",
                e["reason"] or "",
                e["reverses"] if e["reverses"] is not None else "",
            ]
        )
    report = await ledger_report(ledger, rewards, local, campaign)
    return LedgerExport(rows, report, local, ledger_periods(local, campaign))


def summary_rows(export: LedgerExport) -> list[list[object]]:
    """The state block, a blank row, then the movements block (one column pair per period)."""
    state = export.report.state
    out: list[list[object]] = [
        [STATE_HEAD, "count", "yuan", f"as of {export.at:%Y-%m-%d %H:%M} station time"],
    ]
    for field, label in STATE_ROWS:
        out.append([label, *getattr(state, field)])
    out.append([])
    head: list[object] = [MOVES_HEAD]
    bounds: list[object] = ["from … until (station time, until excluded)"]
    for name in PERIODS:
        since, until = export.periods[name]
        head += [f"{PERIOD_NAMES[name]}: count", f"{PERIOD_NAMES[name]}: yuan"]
        bounds += [f"{since:%Y-%m-%d}", f"{until:%Y-%m-%d}"]
    out += [head, bounds]
    for field, label in MOVE_ROWS:
        row: list[object] = [label]
        for name in PERIODS:
            row += list(getattr(export.report.movements[name], field))
        out.append(row)
    net: list[object] = [NET_PAID]
    for name in PERIODS:
        net += ["", export.report.movements[name].net_paid]
    out.append(net)
    return out


def write_csv(path: Path, export: LedgerExport) -> None:
    sheets.write_csv(path, [COLUMNS, *export.rows, [], *summary_rows(export)])


def write_xlsx(path: Path, export: LedgerExport) -> None:
    sheets.write_xlsx(
        path,
        [
            sheets.Sheet("ledger", [COLUMNS, *export.rows]),
            sheets.Sheet("totals", summary_rows(export), header=False),
        ],
    )
