"""Duration histograms: the response legs' median and p90 from counts per bucket. Pure.

A long campaign keeps, per leg, how many tips took how long, in buckets (migration 0016
counts them as tips change; ``bot/db/histograms.py`` sums the buckets of a window). A
quantile of the bucketed durations is the quantile of the tips' durations, each replaced by
its bucket's value — exact to the bucket.

The ladder (durations in microseconds; each bucket's value is its middle, so that the value
rounds to what the exact durations in it round to):

* below 59.95 minutes: 0.1-minute (6-second) buckets centred on each tenth of a minute —
  bucket ``k`` holds [6k − 3 s, 6k + 3 s) and is worth ``k / 10`` minutes, the summary's
  display resolution, so a duration shown with one decimal shows the same either way;
  the first also holds anything shorter (a negative duration counts as 0);
* up to 1439.5 minutes (24 h): one-minute buckets centred on each whole minute;
* up to 335.5 hours (14 days): one-hour buckets centred on each whole hour;
* beyond: one last bucket, worth 14 days.

That is :data:`BUCKETS` (2,293) buckets per leg, however many tips there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from bot.domain.campaign import Spread, ranks_needed, spread

_S = 1_000_000  # microseconds in a second
#: (first bucket of the tier, the tier's first duration, the value of its first bucket, width)
_TIERS: tuple[tuple[int, int, int, int], ...] = (
    (0, -(10**18), 0, 6 * _S),
    (600, 3_597 * _S, 3_600 * _S, 60 * _S),
    (1_980, 86_370 * _S, 86_400 * _S, 3_600 * _S),
    (2_292, 1_207_800 * _S, 1_209_600 * _S, 0),
)
BUCKETS = 2_293
#: Below this the buckets are 0.1 minute wide: the shown value (one decimal) is exact.
FINE_LIMIT_MICROS = 3_597 * _S

#: ``bucket → count`` of one leg's durations.
Histogram = Mapping[int, int]


def bucket_of(micros: int) -> int:
    """The bucket a duration (in microseconds) falls in."""
    if micros < _TIERS[1][1]:
        return max(0, (micros + 3 * _S) // (6 * _S))
    if micros < _TIERS[2][1]:
        return 600 + (micros - 3_570 * _S) // (60 * _S)
    if micros < _TIERS[3][1]:
        return 1_980 + (micros - 84_600 * _S) // (3_600 * _S)
    return BUCKETS - 1


def bucket_micros(bucket: int) -> int:
    """A bucket's value: the duration (microseconds) every duration in it counts as."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"no bucket {bucket}")
    for first, _, value, width in reversed(_TIERS):
        if bucket >= first:
            return value + (bucket - first) * width
    raise AssertionError("unreachable")


def _values_at(histogram: Histogram, ranks: Iterable[int]) -> dict[int, int]:
    """The bucket values at the given 0-based ranks of the sorted durations."""
    wanted = sorted(set(ranks))
    found: dict[int, int] = {}
    below = 0  # durations in the buckets already passed
    i = 0
    for bucket in sorted(b for b, n in histogram.items() if n):
        below += histogram[bucket]
        while i < len(wanted) and wanted[i] < below:
            found[wanted[i]] = bucket_micros(bucket)
            i += 1
        if i == len(wanted):
            break
    return found


def _count(histogram: Histogram) -> int:
    n = sum(histogram.values())
    if any(v < 0 for v in histogram.values()):
        raise ValueError("a bucket with a negative count")
    return n


def spread_of(histogram: Histogram) -> Spread:
    """A leg's median and p90 (minutes) and its count, from its histogram."""
    n = _count(histogram)
    return spread(n, _values_at(histogram, ranks_needed(n)))


def median_minutes(histogram: Histogram) -> float | None:
    """The median (minutes, unrounded) of a leg's bucketed durations; None without any."""
    return spread_of(histogram).median


def day_shift_minutes(tz: dt.tzinfo, day: dt.date) -> int:
    """The UTC offset (minutes) the day tables key station days by: the station's at noon on
    ``day`` (the campaign's first day), so a zone with daylight saving time keeps one key."""
    offset = dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)
