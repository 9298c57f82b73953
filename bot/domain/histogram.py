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
from dataclasses import dataclass

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


def day_shift_minutes(tz: dt.tzinfo, day: dt.date) -> int:
    """The UTC offset (minutes) the day tables key station days by: the station's at noon on
    ``day`` (the campaign's first day), so a zone with daylight saving time keeps one key."""
    offset = dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


# -- blocks: the buckets in runs of BLOCK (migration 0017) -------------------------------------
#
# A quantile over a window is found in two short reads instead of one long one: the counts
# per block (at most BLOCKS per leg) say which block holds each rank the quantile needs and
# the rank within it; then only those blocks' buckets (at most BLOCK each) are read.

#: Buckets per block: bucket ``b`` is in block ``b // BLOCK`` (as 0017's triggers key them).
BLOCK = 16
BLOCKS = -(-BUCKETS // BLOCK)


def block_of(bucket: int) -> int:
    return bucket // BLOCK


def block_range(block: int) -> tuple[int, int]:
    """The buckets ``[first, end)`` of a block."""
    return block * BLOCK, min(BUCKETS, (block + 1) * BLOCK)


@dataclass(frozen=True)
class BlockPlan:
    """Where one leg's quantiles lie, from its counts per block: how many durations, and for
    each rank the median and the p90 need, its block and its rank within that block."""

    count: int
    ranks: dict[int, tuple[int, int]]  # rank → (block, rank within the block)
    sizes: dict[int, int]  # block → its count, for the blocks in ``ranks``

    @property
    def blocks(self) -> set[int]:
        return {block for block, _ in self.ranks.values()}


def plan(blocks: Histogram) -> BlockPlan:
    """One leg's :class:`BlockPlan` from its ``block → count``."""
    n = _count(blocks)
    wanted = ranks_needed(n)
    ranks: dict[int, tuple[int, int]] = {}
    sizes: dict[int, int] = {}
    below = 0
    i = 0
    for block in sorted(b for b, c in blocks.items() if c):
        size = blocks[block]
        while i < len(wanted) and wanted[i] < below + size:
            ranks[wanted[i]] = (block, wanted[i] - below)
            sizes[block] = size
            i += 1
        below += size
        if i == len(wanted):
            break
    return BlockPlan(n, ranks, sizes)


def segment_bounds(chosen: Iterable[int]) -> list[tuple[int, int]]:
    """How to count a leg's blocks so that its chosen blocks can be checked without reading
    every block again: ``(end, key)`` pairs, in order — a block below ``end`` (and not below
    the previous pair's) counts under ``key``. A chosen block ``c`` is a segment of its own,
    key ``2c + 1``; the blocks before it (after the previous chosen one) are key ``2c``; the
    blocks after the last chosen one are key ``2 · BLOCKS``."""
    bounds: list[tuple[int, int]] = []
    for block in sorted(set(chosen)):
        bounds += [(block, 2 * block), (block + 1, 2 * block + 1)]
    return [*bounds, (BLOCKS, 2 * BLOCKS)]


def segment_of(block: int, bounds: list[tuple[int, int]]) -> int:
    return next(key for end, key in bounds if block < end)


def plan_in_segments(segments: Histogram) -> BlockPlan | None:
    """A leg's :class:`BlockPlan` from its counts per segment (:func:`segment_bounds`), if
    every rank wanted is in a chosen block; None if one is elsewhere (the counts changed
    since the blocks were chosen)."""
    by_key = plan(segments)
    if any(key % 2 == 0 for key in by_key.blocks):
        return None
    return BlockPlan(
        by_key.count,
        {rank: ((key - 1) // 2, within) for rank, (key, within) in by_key.ranks.items()},
        {(key - 1) // 2: n for key, n in by_key.sizes.items()},
    )


def spread_in_blocks(chosen: BlockPlan, buckets: Histogram) -> Spread | None:
    """The leg's median and p90 from the buckets of its chosen blocks (``bucket → count``;
    others are ignored) — the same as :func:`spread_of` over the whole histogram the blocks
    were counted from. None if those buckets do not add up to the blocks' counts (they were
    read from another state of the counts)."""
    if chosen.count == 0:
        return Spread()
    inside: dict[int, dict[int, int]] = {block: {} for block in chosen.sizes}
    for bucket, n in buckets.items():
        if n and block_of(bucket) in inside:
            inside[block_of(bucket)][bucket] = n
    if any(_count(h) != chosen.sizes[b] for b, h in inside.items()):
        return None
    values: dict[int, int] = {}
    for block, histogram in inside.items():
        wanted = {r: within for r, (b, within) in chosen.ranks.items() if b == block}
        found = _values_at(histogram, wanted.values())
        values.update({rank: found[within] for rank, within in wanted.items()})
    return spread(chosen.count, values)
