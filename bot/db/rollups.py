"""Running totals by UTC hour (migration 0015): the rows of ``tip_hours`` and
``ledger_hours`` are kept by triggers in the transaction that changes a tip or adds a ledger
entry, so a total over a long window reads one row per hour instead of every row.

A window ``[since, until)`` is cut into the whole hours inside it (read from the totals) and
at most two partial hours at its ends (counted from the rows themselves: none for a station
whose UTC offset is a whole number of hours, as its days and months start on the hour).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.database import to_db_time
from bot.domain.rewards import LedgerEntry
from bot.domain.tips import Outcome, Supply

#: The columns of ``tip_hours`` besides the counts of tips received, claimed and on scene.
OUTCOME_COLUMNS: dict[str, str] = {o.value: f"o_{o.value}" for o in Outcome}
SUPPLY_COLUMNS: dict[str, str] = {s.value: f"s_{s.value}" for s in Supply}
#: ``entry → (count column, yuan column)`` of ``ledger_hours``.
LEDGER_COLUMNS: dict[str, tuple[str, str]] = {
    e.value: (f"n_{e.value}", f"y_{e.value}") for e in LedgerEntry
}


def hour_key(moment: dt.datetime) -> str:
    """The hour a stored time belongs to: its first 13 characters (``YYYY-MM-DDTHH``)."""
    return to_db_time(moment)[:13]


@dataclass(frozen=True)
class Split:
    """``[since, until)`` as whole hours ``[first_hour, end_hour)`` (keys; empty when
    ``first_hour >= end_hour``) and the partial pieces left at its ends."""

    first_hour: str | None  # None: from the beginning
    end_hour: str
    edges: list[tuple[dt.datetime | None, dt.datetime]]


def _floor(moment: dt.datetime) -> dt.datetime:
    utc = moment.astimezone(dt.UTC)
    return utc.replace(minute=0, second=0, microsecond=0)


def split(since: dt.datetime | None, until: dt.datetime) -> Split:
    end = _floor(until)
    edges: list[tuple[dt.datetime | None, dt.datetime]] = []
    if since is None:
        first = None
    else:
        start = _floor(since)
        if start < since:
            start += dt.timedelta(hours=1)
        if start >= end:  # no whole hour inside: the window is counted from the rows
            return Split(hour_key(end), hour_key(end), [(since, until)])
        if since < start:
            edges.append((since, start))
        first = hour_key(start)
    if end < until:
        edges.append((end, until))
    return Split(first, hour_key(end), edges)


def hours_where(piece: Split) -> tuple[str, tuple[str, ...]]:
    """The ``WHERE`` condition (and parameters) of the whole hours of a split."""
    if piece.first_hour is None:
        return "hour < ?", (piece.end_hour,)
    return "hour >= ? AND hour < ?", (piece.first_hour, piece.end_hour)


# -- station days (migration 0016: ``tip_days``, ``leg_days``, ``ledger_days``) ---------------

#: The station day (``YYYY-MM-DD``) of a stored time, in SQL, as migration 0016 keys it.
DAY_OF = "date(substr({}, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes')"


def day_start(moment: dt.datetime, shift_minutes: int) -> dt.datetime:
    """The start (UTC) of the station day holding ``moment``: days of the stored UTC times
    shifted by ``shift_minutes``, as SQLite's ``date(t, '<shift> minutes')`` counts them."""
    shift = dt.timedelta(minutes=shift_minutes)
    local = moment.astimezone(dt.UTC) + shift
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - shift


def day_key(start: dt.datetime, shift_minutes: int) -> str:
    return (start.astimezone(dt.UTC) + dt.timedelta(minutes=shift_minutes)).date().isoformat()


@dataclass(frozen=True)
class DaySplit:
    """``[since, until)`` as whole station days ``[first_day, end_day)`` (keys; none when
    ``first_day >= end_day``) and the pieces left at its ends, to be read by the hour
    (:func:`split`)."""

    first_day: str | None  # None: from the beginning
    end_day: str
    edges: list[tuple[dt.datetime | None, dt.datetime]]


def day_split(since: dt.datetime | None, until: dt.datetime, shift_minutes: int) -> DaySplit:
    end = day_start(until, shift_minutes)
    edges: list[tuple[dt.datetime | None, dt.datetime]] = []
    if since is None:
        first = None
    else:
        start = day_start(since, shift_minutes)
        if start < since:
            start += dt.timedelta(days=1)
        if start >= end:  # no whole day inside: the window is read by the hour
            key = day_key(end, shift_minutes)
            return DaySplit(key, key, [(since, until)])
        if since < start:
            edges.append((since, start))
        first = day_key(start, shift_minutes)
    if end < until:
        edges.append((end, until))
    return DaySplit(first, day_key(end, shift_minutes), edges)


def days_where(piece: DaySplit) -> tuple[str, tuple[str, ...]]:
    """The ``WHERE`` condition (and parameters) of the whole days of a day split."""
    if piece.first_day is None:
        return "day < ?", (piece.end_day,)
    return "day >= ? AND day < ?", (piece.first_day, piece.end_day)


@dataclass(frozen=True)
class Layers:
    """``[since, until)`` as the running totals read it: its whole station days (None: none),
    the whole UTC hours left at its ends, and the partial hours left, read from the rows."""

    days: DaySplit | None
    hours: list[Split]
    rows: list[tuple[dt.datetime | None, dt.datetime]]


def layers(since: dt.datetime | None, until: dt.datetime, shift_minutes: int) -> Layers:
    days = day_split(since, until, shift_minutes)
    hours: list[Split] = []
    rows: list[tuple[dt.datetime | None, dt.datetime]] = []
    for start, end in days.edges:
        piece = split(start, end)
        if piece.first_hour is None or piece.first_hour < piece.end_hour:
            hours.append(piece)
        rows += piece.edges
    whole = days.first_day is None or days.first_day < days.end_day
    return Layers(days if whole else None, hours, rows)
