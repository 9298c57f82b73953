"""Writing tables for people who open them in a spreadsheet: CSV (UTF-8 with a BOM, so Excel
reads Chinese) and XLSX (header row frozen and filtered, columns as wide as their contents,
times as real dates), and GeoJSON for a map. Every export of warmline writes through here.

Cells are ``str``, ``int``, ``float``, ``bool``, ``None`` or an aware ``datetime`` already in
station time: CSV writes it as ISO 8601 with its UTC offset (``2026-12-01T21:05:00+08:00``);
XLSX as a date and time cell (spreadsheets have no time zones: the sheet says which).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Cell = str | int | float | bool | dt.datetime | None

DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
MIN_WIDTH, MAX_WIDTH = 8, 60


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: Sequence[Sequence[Cell]]  # the first one is the header when ``header``
    header: bool = True


def text(value: Cell) -> str:
    """A cell as CSV (and GeoJSON) writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def json_value(value: Cell) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value


def write_csv(path: Path, rows: Sequence[Sequence[Cell]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads UTF-8
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow([text(v) for v in row])


def _width(value: Cell) -> int:
    """Display width in characters: CJK and full-width forms take two."""
    shown = text(value) if not isinstance(value, dt.datetime) else "0000-00-00 00:00:00"
    longest = max(shown.split("\n"), key=len) if shown else ""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in longest)


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    from openpyxl import Workbook  # only the exports need it
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        widths: dict[int, int] = {}
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, dt.datetime):
                    cell = sheet.cell(r, c, value.replace(tzinfo=None))
                    cell.number_format = DATE_FORMAT
                else:
                    cell = sheet.cell(r, c, value)
                widths[c] = max(widths.get(c, 0), _width(value))
        for c, width in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = min(
                MAX_WIDTH, max(MIN_WIDTH, width + 2)
            )
        if spec.header and spec.rows:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"  # the header stays in view
            sheet.auto_filter.ref = sheet.dimensions
    book.save(path)


def write_geojson(path: Path, features: list[dict[str, Any]], **members: Any) -> None:
    """A FeatureCollection (RFC 7946: WGS-84 longitude, latitude) with extra top-level
    ``members`` (foreign members: what the file is, for whom)."""
    collection = {"type": "FeatureCollection", **members, "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def feature(properties: dict[str, Cell], lon: float | None, lat: float | None) -> dict[str, Any]:
    """One Feature: a point, or no geometry (``null``: allowed by RFC 7946)."""
    geometry = None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {k: json_value(v) for k, v in properties.items()},
    }
