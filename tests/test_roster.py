"""bot.domain.roster.Roster: duty days, alternation, overrides, hand-overs and schedules."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from bot.domain.roster import Roster

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
ANCHOR = dt.date(2026, 11, 21)
HANDOVER = dt.time(8, 30)


def roster(order: tuple[str, ...] = ("g1", "g2"), **overrides: str) -> Roster:
    return Roster(
        anchor=ANCHOR,
        handover=HANDOVER,
        order=order,
        overrides={dt.date.fromisoformat(day): key for day, key in overrides.items()},
    )


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def test_empty_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one group"):
        Roster(anchor=ANCHOR, handover=HANDOVER, order=())


# -- duty_day --------------------------------------------------------------------------------


def test_duty_day_before_handover_is_the_previous_day() -> None:
    assert roster().duty_day(at(30, 7)) == dt.date(2026, 11, 29)
    assert roster().duty_day(at(30, 8, 29)) == dt.date(2026, 11, 29)
    assert roster().duty_day(at(30, 0, 0)) == dt.date(2026, 11, 29)


def test_duty_day_at_and_after_handover_is_the_same_day() -> None:
    assert roster().duty_day(at(30, 8, 30)) == dt.date(2026, 11, 30)
    assert roster().duty_day(at(30, 23, 59)) == dt.date(2026, 11, 30)


def test_duty_day_accepts_naive_times() -> None:
    assert roster().duty_day(dt.datetime(2026, 11, 30, 7, 0)) == dt.date(2026, 11, 29)
    assert roster().duty_day(dt.datetime(2026, 11, 30, 9, 0)) == dt.date(2026, 11, 30)


def test_duty_day_across_month_and_year_ends() -> None:
    assert roster().duty_day(dt.datetime(2026, 12, 1, 8, 0, tzinfo=TZ)) == dt.date(2026, 11, 30)
    assert roster().duty_day(dt.datetime(2027, 1, 1, 8, 0, tzinfo=TZ)) == dt.date(2026, 12, 31)


# -- on_duty ---------------------------------------------------------------------------------


def test_anchor_day_starts_with_the_first_group() -> None:
    r = roster()
    assert r.on_duty(at(21, 8, 30)) == "g1"
    assert r.on_duty(at(22, 8, 29)) == "g1"  # still the anchor's duty day
    assert r.on_duty(at(22, 8, 30)) == "g2"


def test_two_groups_alternate_day_by_day() -> None:
    r = roster()
    keys = [r.on_duty(at(day, 12)) for day in range(21, 29)]
    assert keys == ["g1", "g2"] * 4


def test_three_groups_rotate() -> None:
    r = roster(("a", "b", "c"))
    keys = [r.on_duty(at(day, 12)) for day in range(21, 28)]
    assert keys == ["a", "b", "c", "a", "b", "c", "a"]


def test_days_before_the_anchor_continue_the_rotation_backwards() -> None:
    r = roster(("a", "b", "c"))
    assert r.on_duty(at(20, 12)) == "c"
    assert r.on_duty(at(19, 12)) == "b"
    assert r.on_duty(at(18, 12)) == "a"


def test_single_group_is_always_on_duty() -> None:
    r = roster(("solo",))
    assert {r.on_duty(at(day, hour)) for day in range(1, 30) for hour in (0, 8, 9, 23)} == {"solo"}


def test_override_replaces_one_duty_day_only() -> None:
    # Regular rotation: 21 a, 22 b, 23 c, 24 a, 25 b, 26 c.
    r = roster(("a", "b", "c"), **{"2026-11-24": "c"})
    assert r.on_duty(at(23, 12)) == "c"
    assert r.on_duty(at(24, 12)) == "c"  # overridden (regularly a)
    assert r.on_duty(at(25, 8, 29)) == "c"  # still the overridden duty day
    assert r.on_duty(at(25, 8, 30)) == "b"  # the regular rotation again
    assert r.on_duty(at(26, 12)) == "c"


def test_override_applies_to_the_duty_day_not_the_calendar_day() -> None:
    r = roster(("a", "b", "c"), **{"2026-11-22": "reserve"})
    assert r.on_duty(at(22, 8, 0)) == "a"  # calendar day 22, but duty day 21
    assert r.on_duty(at(22, 8, 30)) == "reserve"
    assert r.on_duty(at(23, 8, 29)) == "reserve"  # calendar day 23, duty day 22
    assert r.on_duty(at(23, 8, 30)) == "c"


def test_override_with_a_group_outside_the_order() -> None:
    r = roster(**{"2026-11-30": "reserve"})
    assert r.on_duty(at(30, 9)) == "reserve"


# -- next_handover ---------------------------------------------------------------------------


def test_next_handover_later_the_same_day() -> None:
    assert roster().next_handover(at(30, 7)) == at(30, 8, 30)


def test_next_handover_after_handover_is_tomorrow() -> None:
    assert roster().next_handover(at(30, 9)) == at(1, 8, 30, month=12)


def test_next_handover_is_strictly_after() -> None:
    assert roster().next_handover(at(30, 8, 30)) == at(1, 8, 30, month=12)


def test_next_handover_keeps_tzinfo() -> None:
    assert roster().next_handover(at(30, 7)).tzinfo is TZ
    naive = roster().next_handover(dt.datetime(2026, 11, 30, 7))
    assert naive == dt.datetime(2026, 11, 30, 8, 30)
    assert naive.tzinfo is None


# -- schedule --------------------------------------------------------------------------------


def test_schedule_across_a_handover() -> None:
    start = at(30, 7)
    assert roster().schedule(start, 48) == [
        (at(30, 7), at(30, 8, 30), "g1"),
        (at(30, 8, 30), at(1, 8, 30, month=12), "g2"),
        (at(1, 8, 30, month=12), at(2, 7, month=12), "g1"),
    ]


def test_schedule_starting_at_a_handover() -> None:
    assert roster().schedule(at(30, 8, 30), 48) == [
        (at(30, 8, 30), at(1, 8, 30, month=12), "g2"),
        (at(1, 8, 30, month=12), at(2, 8, 30, month=12), "g1"),
    ]


def test_schedule_within_one_duty_day() -> None:
    assert roster().schedule(at(30, 9), 3) == [(at(30, 9), at(30, 12), "g2")]


def test_schedule_of_zero_hours_is_empty() -> None:
    assert roster().schedule(at(30, 9), 0) == []


def test_schedule_shows_overrides() -> None:
    periods = roster(**{"2026-11-30": "g1"}).schedule(at(30, 7), 48)
    assert [key for _, _, key in periods] == ["g1", "g1", "g1"]


# A sweep rather than a hypothesis test: hypothesis would leave a .hypothesis/ cache behind.
STARTS = [at(29, 0) + dt.timedelta(minutes=97 * i) for i in range(45)]  # about three days


@pytest.mark.parametrize("handover", [dt.time(0, 0), dt.time(8, 30), dt.time(23, 59, 59)])
@pytest.mark.parametrize("hours", [1, 23, 24, 25, 48, 240])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_schedule_covers_exactly_the_requested_span(
    handover: dt.time, hours: int, size: int
) -> None:
    r = Roster(anchor=ANCHOR, handover=handover, order=tuple(f"g{i}" for i in range(size)))
    for start in STARTS:
        periods = r.schedule(start, hours)
        end = start + dt.timedelta(hours=hours)
        assert periods[0][0] == start
        assert periods[-1][1] == end
        for (_, until, _), (begin, _, _) in itertools.pairwise(periods):
            assert until == begin  # contiguous: no gaps, no overlaps
            assert begin.time() == handover  # every inner boundary is a hand-over
        for begin, until, key in periods:
            assert begin < until <= begin + dt.timedelta(days=1)
            last = until - dt.timedelta(microseconds=1)
            assert r.duty_day(begin) == r.duty_day(last)  # one period, one duty day
            assert key == r.on_duty(begin) == r.on_duty(last)
        assert len(periods) <= hours // 24 + 2
