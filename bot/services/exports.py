"""Ledger export for the finance office: CSV and XLSX, with the same totals as /ledger."""

from __future__ import annotations

import csv
import zoneinfo
from pathlib import Path

from bot.db.database import from_db_time
from bot.db.repo import Repo
from bot.domain.rewards import Totals, totals

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


async def ledger_rows(repo: Repo, tz: zoneinfo.ZoneInfo) -> tuple[list[list[object]], Totals]:
    """Every ledger entry (oldest first) and the all-time totals."""
    entries = await repo.ledger()
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
    return rows, totals([(e["entry"], int(e["amount"])) for e in entries])


def _totals_rows(total: Totals) -> list[list[object]]:
    return [
        ["total", "count", "yuan"],
        ["pending", *total.pending],
        ["approved", *total.approved],
        ["paid (net of reversals)", *total.paid],
        ["rejected", *total.rejected],
    ]


def write_csv(path: Path, rows: list[list[object]], total: Totals) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads UTF-8
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        writer.writerow([])
        writer.writerows(_totals_rows(total))


def write_xlsx(path: Path, rows: list[list[object]], total: Totals) -> None:
    from openpyxl import Workbook  # only the export needs it

    book = Workbook()
    sheet = book.active
    sheet.title = "ledger"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    summary = book.create_sheet("totals")
    for row in _totals_rows(total):
        summary.append(row)
    book.save(path)
