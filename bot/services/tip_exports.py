"""`warmline export tips | events`: the tips received in a period, and the event log of a
period, for a city office or an inspection — CSV, XLSX or GeoJSON.

Who should get which: the exact export (positions to the metre, the reporter's words, typed
addresses) is for the station's own staff and the officials they work with on the case; for
anyone else use ``coarse``: positions rounded to about 1 km, no free text. Neither ever
carries a reporter's id, name, username or phone (see bot/domain/open311.py).
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.db.database import from_db_time
from bot.db.exports import ExportStore
from bot.domain import open311
from bot.domain.roster import Directory
from bot.services import sheets

FORMATS = (".csv", ".xlsx", ".geojson")


@dataclass(frozen=True)
class Export:
    kind: str  # "tips" | "events"
    columns: tuple[str, ...]
    rows: list[dict[str, sheets.Cell]]
    positions: list[tuple[float, float] | None]  # (lon, lat) per row, for GeoJSON
    first: dt.date
    last: dt.date  # included
    tz: zoneinfo.ZoneInfo
    coarse: bool
    made_at: dt.datetime  # station time


def bounds(first: dt.date, last: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Station days ``first`` … ``last`` (both included) as ``[since, until)``."""
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return since, until


def _scrub(row: dict) -> tuple[str | None, ...]:
    """The reporter's identity to remove from this row's free text (never written out)."""
    return row["scrub_name"], row["scrub_username"], row["scrub_phone"]


def _local(text: str | None, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    moment = from_db_time(text)
    return moment.astimezone(tz) if moment else None


class TipExports:
    def __init__(
        self,
        store: ExportStore,
        *,
        tz: zoneinfo.ZoneInfo,
        directory: Directory,
        service_name: str,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.store = store
        self.tz = tz
        self.directory = directory
        self.service_name = service_name
        self.clock = clock

    def _group_name(self, key: str) -> str:
        try:
            return self.directory.team(key).name
        except KeyError:
            return key  # a group since removed from the config

    def _export(
        self,
        kind: str,
        columns: tuple[str, ...],
        days: tuple[dt.date, dt.date],
        coarse: bool,
        rows: list[dict[str, sheets.Cell]],
        positions: list[tuple[float, float] | None],
    ) -> Export:
        return Export(
            kind=kind,
            columns=columns,
            rows=rows,
            positions=positions,
            first=days[0],
            last=days[1],
            tz=self.tz,
            coarse=coarse,
            made_at=self.clock().astimezone(self.tz),
        )

    async def tips(self, first: dt.date, last: dt.date, *, coarse: bool = False) -> Export:
        """One row per tip received on station days ``first`` … ``last``."""
        rows: list[dict[str, sheets.Cell]] = []
        positions: list[tuple[float, float] | None] = []
        for tip in await self.store.tips(*bounds(first, last, self.tz)):
            lat, lon = open311.position(tip["lat"], tip["lon"], coarse)
            row: dict[str, sheets.Cell] = {
                "service_request_id": tip["code"],
                "status": open311.status(tip["state"]),
                "status_notes": open311.status_notes(tip["state"], tip["outcome"]),
                "service_name": self.service_name,
                "service_code": open311.SERVICE_CODE,
                "description": open311.redact(tip["description"], _scrub(tip)),
                "agency_responsible": self._group_name(tip["group_key"]),
                "requested_datetime": _local(tip["created_at"], self.tz),
                "updated_datetime": _local(tip["updated_at"], self.tz),
                "address": open311.redact(tip["address"] or tip["place_label"], _scrub(tip)),
                "lat": lat,
                "long": lon,
                "district": tip["district"],
                "urgent": bool(tip["urgent"]),
                "flags": tip["flags"] or "",
                "people": tip["people"],
                "seen": tip["seen"],
                "source": tip["source"],
                "state": tip["state"],
                "outcome": tip["outcome"],
                "duplicate_of": tip["duplicate_of"],
                "claimed_datetime": _local(tip["claimed_at"], self.tz),
                "arrived_datetime": _local(tip["arrived_at"], self.tz),
                "closed_datetime": _local(tip["closed_at"], self.tz),
                "attempts": open311.attempts(tip["outcome"], tip["arrived_at"] is not None),
                "evidence_count": tip["evidence"],
                "reward_state": tip["reward_state"],
                "purged": tip["purged_at"] is not None,
            }
            if coarse:
                row |= dict.fromkeys(open311.COARSE_BLANK)
            rows.append(row)
            positions.append((lon, lat))
        return self._export("tips", open311.TIP_COLUMNS, (first, last), coarse, rows, positions)

    async def events(self, first: dt.date, last: dt.date, *, coarse: bool = False) -> Export:
        """The event log of station days ``first`` … ``last``: every transition, refusal and
        scheduled action, at its tip's position (none for events of no tip)."""
        rows: list[dict[str, sheets.Cell]] = []
        positions: list[tuple[float, float] | None] = []
        for event in await self.store.events(*bounds(first, last, self.tz)):
            actor = event["actor_id"]
            rows.append(
                {
                    "event_id": event["id"],
                    "datetime": _local(event["at"], self.tz),
                    "service_request_id": event["code"],
                    "action": event["action"],
                    "from_state": event["from_state"],
                    "to_state": event["to_state"],
                    "actor_role": event["actor_role"],
                    "actor_id": open311.named_actor(
                        actor,
                        event["actor_role"],
                        is_staff=actor is not None and self.directory.is_staff(actor),
                        is_reporter=bool(event["actor_is_reporter"]),
                    ),
                    "detail": open311.redact(event["detail"], _scrub(event)),
                }
            )
            if event["lat"] is None:
                positions.append(None)
            else:
                lat, lon = open311.position(event["lat"], event["lon"], coarse)
                positions.append((lon, lat))
        days = (first, last)
        return self._export("events", open311.EVENT_COLUMNS, days, coarse, rows, positions)


def _about(export: Export) -> list[list[sheets.Cell]]:
    offset = export.made_at.strftime("%z")
    return [
        ["export", f"warmline {export.kind}"],
        ["station days", f"{export.first.isoformat()} … {export.last.isoformat()} (both included)"],
        ["times", f"station time, {export.tz.key} (UTC{offset[:3]}:{offset[3:]} when made)"],
        ["made", export.made_at],
        ["rows", len(export.rows)],
        [
            "positions",
            "rounded to about 1 km, free text left out (--coarse)"
            if export.coarse
            else "exact: for the station's staff and the officials working the case only",
        ],
        ["reporters", "no reporter's id, name, username or phone is in this file"],
    ]


def write(export: Export, path: Path) -> None:
    """Write ``export`` in the format its file name asks for (one of :data:`FORMATS`): into a
    temporary file beside ``path``, renamed to it once complete, so a failure midway (disk
    full, interrupted) never leaves a file that looks like a whole export."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unknown export format {suffix!r}")
    partial = path.with_name(f".{path.name}.partial")
    try:
        _write(export, partial, suffix)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write(export: Export, path: Path, suffix: str) -> None:
    table = [list(export.columns), *([row[c] for c in export.columns] for row in export.rows)]
    if suffix == ".csv":
        sheets.write_csv(path, table)
    elif suffix == ".xlsx":
        sheets.write_xlsx(
            path,
            [sheets.Sheet(export.kind, table), sheets.Sheet("about", _about(export), header=False)],
        )
    elif suffix == ".geojson":
        skip = {"lat", "long"}  # in the geometry
        features = [
            sheets.feature(
                {c: row[c] for c in export.columns if c not in skip},
                *(position if position else (None, None)),
            )
            for row, position in zip(export.rows, export.positions, strict=True)
        ]
        about = {key: sheets.json_value(value) for key, value in _about(export)}
        sheets.write_geojson(path, features, warmline=about)
