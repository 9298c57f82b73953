"""The campaign's figures: what the summary chart, `/stats` and the dashboard show. Pure.

For a period (today, the last 7 days, the campaign; days in station time) over the tips
*received* in it: how many, how the people were found, outcomes by kind, urgent tips, the
response legs (median and p90 with the count each is computed from), patrols done against
required, rewards by state with yuan, and the same counts by district, by hour of the day and
by day.

The database counts (``bot/db/campaign_stats.py``): it groups tips by their raw columns into
:class:`Cell` rows and returns the few sorted values each quantile needs (:class:`Ranked`).
The rules are here: which outcomes mean *located*, how an incident is counted, how a quantile
is taken, which days and hours a period spans in the station's time zone.

Units. Figures are kept per :class:`Unit`: per tip; per incident (a tip plus the tips merged
into it as duplicates: counted once, by its own tip); and per attempt — a "not found" the
reporter reopened with a new pin or words is the same tip searched again (bot/domain/
arrival.py): each earlier attempt counts once more, as not found.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from bot.domain.rewards import Pair, StateTotals, state_totals
from bot.domain.tips import MISSED_OUTCOMES, VERIFIED_OUTCOMES, Outcome, State

# -- periods ------------------------------------------------------------------------------------


class PeriodKey(StrEnum):
    TODAY = "today"
    LAST_7_DAYS = "last_7_days"
    CAMPAIGN = "campaign"


@dataclass(frozen=True)
class Period:
    """``[since, until)``, aware station-time instants at midnight; ``until`` never after the
    end of today (the future holds no tips)."""

    key: PeriodKey
    since: dt.datetime
    until: dt.datetime

    @property
    def days(self) -> list[dt.date]:
        """The station days the period covers, oldest first (none if it is empty)."""
        if self.until <= self.since:
            return []
        first = self.since.date()
        last = (self.until - dt.timedelta(microseconds=1)).date()
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def periods(local_now: dt.datetime, campaign_start: dt.date, campaign_end: dt.date) -> list[Period]:
    """Today, the last 7 days (today and the six before it) and the campaign so far (from its
    first day to today or its last day; empty before it starts)."""
    tz = local_now.tzinfo
    assert tz is not None, "aware local time expected"
    today = local_now.date()
    tomorrow = _midnight(today + dt.timedelta(days=1), tz)
    start = _midnight(campaign_start, tz)
    end = min(_midnight(campaign_end + dt.timedelta(days=1), tz), tomorrow)
    return [
        Period(PeriodKey.TODAY, _midnight(today, tz), tomorrow),
        Period(PeriodKey.LAST_7_DAYS, _midnight(today - dt.timedelta(days=6), tz), tomorrow),
        Period(PeriodKey.CAMPAIGN, start, max(start, end)),
    ]


@dataclass(frozen=True)
class Span:
    """A stretch of time with one UTC offset: the database shifts stored UTC times by
    ``offset_seconds`` to get station days and hours."""

    start: dt.datetime  # UTC
    end: dt.datetime  # UTC, excluded
    offset_seconds: int


def _offset(moment: dt.datetime, tz: dt.tzinfo) -> int:
    delta = moment.astimezone(tz).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def offset_spans(since: dt.datetime, until: dt.datetime, tz: dt.tzinfo) -> list[Span]:
    """``[since, until)`` cut where the station's UTC offset changes (daylight saving time);
    one span for a zone without it, such as Asia/Shanghai. At least one span, even when the
    period is empty."""
    start, end = since.astimezone(dt.UTC), until.astimezone(dt.UTC)
    spans: list[Span] = []
    cursor, offset = start, _offset(start, tz)
    probe = start
    while probe < end:
        # Offsets change at most a few times a year, never twice within a day.
        step = min(probe + dt.timedelta(days=1), end)
        if _offset(step, tz) == offset:
            probe = step
            continue
        # The change lies in (probe, step], on a whole second: find it.
        low, high = math.floor(probe.timestamp()), math.ceil(step.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(dt.datetime.fromtimestamp(middle, dt.UTC), tz) == offset:
                low = middle
            else:
                high = middle
        change = dt.datetime.fromtimestamp(high, dt.UTC)
        if change >= end:
            break
        spans.append(Span(cursor, change, offset))
        cursor, offset, probe = change, _offset(change, tz), change
    spans.append(Span(cursor, max(cursor, end), offset))
    return spans


# -- what the database counts -------------------------------------------------------------------


class Grouping(StrEnum):
    """How tips are grouped: ``key`` of a cell is the station day (``YYYY-MM-DD``), the
    station hour (``00``–``23``), the district (``""`` when unknown), or ``""`` for all."""

    ALL = "all"
    DAY = "day"
    HOUR = "hour"
    DISTRICT = "district"


class Leg(StrEnum):
    """The response legs, each between two moments of a tip."""

    REPORT_CLAIM = "report_claim"  # received → claimed (the claim in force)
    CLAIM_ARRIVAL = "claim_arrival"  # claimed → someone on scene
    REPORT_ARRIVAL = "report_arrival"  # received → someone on scene


@dataclass(frozen=True)
class Cell:
    """``n`` tips of one group with the same state, outcome and urgency."""

    key: str
    state: str
    outcome: str | None
    urgent: bool
    n: int


@dataclass(frozen=True)
class Ranked:
    """The value at 0-based ``rank`` of a leg's sorted durations in a group (microseconds)."""

    key: str
    leg: Leg
    rank: int
    micros: int


# -- the figures --------------------------------------------------------------------------------


class Unit(StrEnum):
    TIP = "tip"
    INCIDENT = "incident"  # a tip and its duplicates, once
    ATTEMPT = "attempt"  # each search of a tip (a reopened "not found" is searched again)


@dataclass(frozen=True)
class Resolution:
    """Of ``total`` units, where the person was found and helped (``located``, the verified
    outcomes) and where the patrol went and found nobody (``not_found``: not found, gone)."""

    unit: Unit
    total: int = 0
    located: int = 0
    not_found: int = 0

    @property
    def concluded(self) -> int:
        return self.located + self.not_found

    @property
    def located_share(self) -> float | None:
        """Located ÷ (located + not found): of the searches that ended, the share that found
        the person. Open, withdrawn, duplicate and invalid tips are not in it (an open tip
        would make the newest days look worse than they are). ``None`` when none ended."""
        return self.located / self.concluded if self.concluded else None


@dataclass(frozen=True)
class Counts:
    received: int = 0
    urgent: int = 0
    open: int = 0
    withdrawn: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # closed tips by outcome
    resolution: dict[Unit, Resolution] = field(
        default_factory=lambda: {unit: Resolution(unit) for unit in Unit}
    )

    @property
    def located(self) -> int:
        return self.resolution[Unit.TIP].located

    @property
    def not_found(self) -> int:
        return self.resolution[Unit.TIP].not_found


def counts(cells: Iterable[Cell], earlier_attempts: int = 0) -> Counts:
    """Fold cells (of one group) into counts; ``earlier_attempts``: the searches of the
    group's reopened tips before their current one (each ended "not found")."""
    received = urgent = open_ = withdrawn = 0
    outcomes: dict[str, int] = {}
    for cell in cells:
        received += cell.n
        urgent += cell.n if cell.urgent else 0
        state = State(cell.state)
        if state is State.WITHDRAWN:
            withdrawn += cell.n
        elif state is not State.CLOSED:
            open_ += cell.n
        if cell.outcome is None:
            continue
        outcome = Outcome(cell.outcome)
        outcomes[outcome.value] = outcomes.get(outcome.value, 0) + cell.n
    return Counts(
        received=received,
        urgent=urgent,
        open=open_,
        withdrawn=withdrawn,
        outcomes=dict(sorted(outcomes.items())),
        resolution=resolutions(received, outcomes, earlier_attempts),
    )


def resolutions(
    received: int, outcomes: dict[str, int], earlier_attempts: int = 0
) -> dict[Unit, Resolution]:
    """Per unit, located and not found among ``received`` tips with these outcomes (outcome
    → tips) and ``earlier_attempts`` earlier searches of reopened ones."""
    located = sum(n for o, n in outcomes.items() if Outcome(o) in VERIFIED_OUTCOMES)
    missed = sum(n for o, n in outcomes.items() if Outcome(o) in MISSED_OUTCOMES)
    duplicates = outcomes.get(Outcome.DUPLICATE.value, 0)
    return {
        Unit.TIP: Resolution(Unit.TIP, received, located, missed),
        # A duplicate's incident is counted by the tip it was merged into (which holds the
        # incident's outcome): a tip merged into another is no incident of its own.
        Unit.INCIDENT: Resolution(Unit.INCIDENT, received - duplicates, located, missed),
        Unit.ATTEMPT: Resolution(
            Unit.ATTEMPT, received + earlier_attempts, located, missed + earlier_attempts
        ),
    }


# Quantiles are taken as the "inclusive" (linear interpolation) method — the one of
# ``statistics.quantiles(method="inclusive")``, NumPy's default and a spreadsheet's
# PERCENTILE.INC: position (n − 1) · q between the sorted values, exactly.
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)
QUANTILES = (MEDIAN, P90)


def quantile_position(n: int, q: Fraction) -> tuple[int, Fraction]:
    """The 0-based rank below the quantile and how far towards the next one it lies."""
    position = (n - 1) * q
    rank = position.numerator // position.denominator
    return rank, position - rank


def ranks_needed(n: int) -> list[int]:
    """The 0-based ranks of ``n`` sorted values that the median and the p90 need."""
    if n <= 0:
        return []
    ranks: set[int] = set()
    for q in QUANTILES:
        rank, fraction = quantile_position(n, q)
        ranks.add(rank)
        if fraction:
            ranks.add(rank + 1)
    return sorted(r for r in ranks if r < n)


@dataclass(frozen=True)
class Spread:
    """A leg's median and 90th percentile in minutes, and how many tips they come from."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def _quantile(n: int, q: Fraction, values: dict[int, int]) -> float:
    rank, fraction = quantile_position(n, q)
    low = values[rank]
    micros = Fraction(low) + (fraction * (values[rank + 1] - low) if fraction else 0)
    return float(micros / 60_000_000)


def spread(n: int, values: dict[int, int]) -> Spread:
    """From the count and the values at :func:`ranks_needed` (rank → microseconds)."""
    if n == 0:
        return Spread()
    return Spread(n, _quantile(n, MEDIAN, values), _quantile(n, P90, values))


@dataclass(frozen=True)
class Group:
    """The tips of one district, hour of the day or day."""

    key: str
    counts: Counts
    response: dict[Leg, Spread]


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    counts: Counts
    response: dict[Leg, Spread]  # every leg, with its count
    patrols_done: int
    patrols_required: int
    rewards: StateTotals  # rewards of the tips received in the period, in their state now
    by_district: list[Group]  # most tips first; "" = district unknown
    by_hour: list[Group]  # the 24 hours "00" … "23", every one
    by_day: list[Group]  # every day of the period, oldest first, days without tips too


@dataclass(frozen=True)
class Tallies:
    """What the database counted for one period."""

    cells: dict[Grouping, list[Cell]]
    leg_counts: dict[Grouping, dict[tuple[str, Leg], int]]  # (key, leg) → durations
    ranked: dict[Grouping, list[Ranked]]
    patrols_done: int
    reward_sums: dict[str, Pair]  # reward state → (count, yuan)
    #: Per grouping, key → the earlier (ended) attempts of the group's reopened tips.
    earlier_attempts: dict[Grouping, dict[str, int]] = field(default_factory=dict)


def ranks_wanted(leg_counts: dict[tuple[str, Leg], int]) -> list[tuple[str, Leg, int]]:
    """Which sorted values the database must return: (key, leg, rank)."""
    return [
        (key, leg, rank) for (key, leg), n in sorted(leg_counts.items()) for rank in ranks_needed(n)
    ]


def _groups(tallies: Tallies, grouping: Grouping) -> dict[str, Group]:
    cells: dict[str, list[Cell]] = {}
    for cell in tallies.cells.get(grouping, []):
        cells.setdefault(cell.key, []).append(cell)
    values: dict[tuple[str, Leg], dict[int, int]] = {}
    for row in tallies.ranked.get(grouping, []):
        values.setdefault((row.key, row.leg), {})[row.rank] = row.micros
    leg_counts = tallies.leg_counts.get(grouping, {})
    earlier = tallies.earlier_attempts.get(grouping, {})
    return {
        key: Group(
            key,
            counts(group_cells, earlier.get(key, 0)),
            {leg: spread(leg_counts.get((key, leg), 0), values.get((key, leg), {})) for leg in Leg},
        )
        for key, group_cells in cells.items()
    }


def _empty(key: str) -> Group:
    return Group(key, counts([]), {leg: Spread() for leg in Leg})


def period_figures(period: Period, tallies: Tallies, patrols_required: int) -> PeriodFigures:
    whole = _groups(tallies, Grouping.ALL).get("") or _empty("")
    districts = _groups(tallies, Grouping.DISTRICT)
    hours = _groups(tallies, Grouping.HOUR)
    days = _groups(tallies, Grouping.DAY)
    return PeriodFigures(
        period=period,
        counts=whole.counts,
        response=whole.response,
        patrols_done=tallies.patrols_done,
        patrols_required=patrols_required,
        rewards=state_totals(tallies.reward_sums),
        by_district=sorted(districts.values(), key=lambda g: (-g.counts.received, g.key)),
        by_hour=[hours.get(f"{h:02d}") or _empty(f"{h:02d}") for h in range(24)],
        by_day=[days.get(day.isoformat()) or _empty(day.isoformat()) for day in period.days],
    )


def rolling_share(days: list[Group], window: int) -> list[float | None]:
    """For each day, the located share (per tip) of the searches that ended in the ``window``
    days up to it — its own day for ``window`` 1; ``None`` where none ended."""
    shares: list[float | None] = []
    for i in range(len(days)):
        span = [g.counts.resolution[Unit.TIP] for g in days[max(0, i - window + 1) : i + 1]]
        concluded = sum(r.concluded for r in span)
        shares.append(sum(r.located for r in span) / concluded if concluded else None)
    return shares
