"""Pure rules of the schedules (bot/domain/schedule.py) and tonight's forecast minimum
(bot/services/weather.tonight_minimum): plain values, no I/O, no clock but the one passed in."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot.domain.schedule import (
    ON_TIME_WITHIN,
    EscalationRules,
    Level,
    SlotTiming,
    day_slots,
    escalations_due,
    figures,
    in_window,
    latest_slot,
    parse_hhmm,
    slot_key,
    slot_timing,
)
from bot.domain.tips import Flag, Outcome, People, Seen, State, Supply, Tip
from bot.services.weather import ForecastError, tonight_minimum
from tests.fakes.forecast import hourly_forecast, tonight_at
from tests.oracles import median_minutes, tally

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
TIMES = [dt.time(9), dt.time(20)]
RULES = EscalationRules(
    claim_minutes=10, urgent_claim_minutes=5, second_minutes=20, scene_minutes=45
)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=TZ)


# -- parsing and the campaign window --------------------------------------------------------


def test_parse_hhmm() -> None:
    assert parse_hhmm("09:00") == dt.time(9, 0)
    assert parse_hhmm("00:05") == dt.time(0, 5)
    assert parse_hhmm("23:59") == dt.time(23, 59)


def test_window_includes_first_and_last_day() -> None:
    start, end = dt.date(2026, 11, 21), dt.date(2027, 3, 15)
    assert in_window(start, start, end)
    assert in_window(end, start, end)
    assert in_window(dt.date(2027, 1, 1), start, end)  # across the new year
    assert not in_window(start - dt.timedelta(days=1), start, end)
    assert not in_window(end + dt.timedelta(days=1), start, end)
    assert in_window(start, start, start)  # a one-day campaign


# -- reminder slots ---------------------------------------------------------------------------


def test_day_slots_plain_and_cold() -> None:
    day = dt.date(2026, 12, 2)
    assert day_slots(day, TIMES, TZ) == [local(2026, 12, 2, 9), local(2026, 12, 2, 20)]
    hourly = day_slots(day, TIMES, TZ, cold_interval=60)
    assert hourly == [local(2026, 12, 2, h) for h in range(24)]  # 09:00 and 20:00 once each
    # An interval that does not hit the configured times keeps them as well.
    ninety = day_slots(day, TIMES, TZ, cold_interval=90)
    expected = {local(2026, 12, 2, m // 60, m % 60) for m in range(0, 24 * 60, 90)}
    expected |= {local(2026, 12, 2, 20)}
    assert ninety == sorted(expected)
    assert len(ninety) == 17 and local(2026, 12, 2, 9) in ninety  # 09:00 = 6 × 90 min
    assert all(slot.tzinfo is TZ for slot in ninety)
    # Cold mode with no configured times still covers the day; nothing crosses midnight.
    assert day_slots(day, [], TZ, cold_interval=360) == [
        local(2026, 12, 2, h) for h in (0, 6, 12, 18)
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Just after midnight the latest slot is yesterday's evening one.
        (local(2026, 12, 2, 0, 5), local(2026, 12, 1, 20)),
        (local(2026, 12, 2, 0, 0), local(2026, 12, 1, 20)),
        (local(2026, 12, 2, 8, 59, 59), local(2026, 12, 1, 20)),
        (local(2026, 12, 2, 9, 0), local(2026, 12, 2, 9)),  # at the slot itself
        (local(2026, 12, 2, 19, 59), local(2026, 12, 2, 9)),
        (local(2026, 12, 2, 20, 0), local(2026, 12, 2, 20)),
        (local(2026, 12, 2, 23, 59), local(2026, 12, 2, 20)),
        # Across the month and the year.
        (local(2026, 12, 1, 0, 5), local(2026, 11, 30, 20)),
        (local(2027, 1, 1, 0, 5), local(2026, 12, 31, 20)),
    ],
)
def test_latest_slot(now: dt.datetime, expected: dt.datetime) -> None:
    assert latest_slot(now, TIMES) == expected


def test_latest_slot_in_cold_mode() -> None:
    assert latest_slot(local(2026, 12, 2, 0, 5), TIMES, 60) == local(2026, 12, 2, 0)
    assert latest_slot(local(2026, 12, 1, 23, 59), TIMES, 60) == local(2026, 12, 1, 23)
    assert latest_slot(local(2026, 12, 2, 9, 0), TIMES, 60) == local(2026, 12, 2, 9)
    assert latest_slot(local(2026, 12, 2, 10, 29), TIMES, 90) == local(2026, 12, 2, 9)
    assert latest_slot(local(2026, 12, 2, 10, 30), TIMES, 90) == local(2026, 12, 2, 10, 30)
    # 20:00 is not on the 90-minute grid but stays a slot.
    assert latest_slot(local(2026, 12, 2, 20, 10), TIMES, 90) == local(2026, 12, 2, 20)
    # The night through: one slot an hour.
    night = [
        latest_slot(local(2026, 12, 1, 21) + dt.timedelta(minutes=m), TIMES, 60)
        for m in range(0, 12 * 60, 5)
    ]
    assert len(set(night)) == 12


def test_latest_slot_edge_cases() -> None:
    assert latest_slot(local(2026, 12, 2, 12), []) is None
    with pytest.raises(AssertionError):
        latest_slot(dt.datetime(2026, 12, 2, 12), TIMES)  # naive: refused


def test_the_campaign_s_first_and_last_day() -> None:
    """What the service asks: is the latest slot inside the window (by the slot's day)?"""
    start, end = dt.date(2026, 12, 2), dt.date(2026, 12, 3)
    first = latest_slot(local(2026, 12, 2, 0, 5), TIMES)
    assert first is not None and not in_window(first.date(), start, end)  # the eve
    after_last = latest_slot(local(2026, 12, 4, 0, 5), TIMES)
    assert after_last is not None and in_window(after_last.date(), start, end)  # 12-03 20:00
    next_morning = latest_slot(local(2026, 12, 4, 9, 0), TIMES)
    assert next_morning is not None and not in_window(next_morning.date(), start, end)


@pytest.mark.parametrize(
    ("late_by", "grace", "expected"),
    [
        (dt.timedelta(0), 30, SlotTiming.ON_TIME),
        (dt.timedelta(seconds=15), 30, SlotTiming.ON_TIME),
        (ON_TIME_WITHIN, 30, SlotTiming.ON_TIME),
        (ON_TIME_WITHIN + dt.timedelta(seconds=1), 30, SlotTiming.LATE),
        (dt.timedelta(minutes=20), 30, SlotTiming.LATE),
        (dt.timedelta(minutes=30), 30, SlotTiming.LATE),
        (dt.timedelta(minutes=30, seconds=1), 30, SlotTiming.MISSED),
        (dt.timedelta(hours=4), 30, SlotTiming.MISSED),
        (dt.timedelta(minutes=1), 0, SlotTiming.ON_TIME),  # the ticker's own delay
        (dt.timedelta(minutes=3), 0, SlotTiming.MISSED),  # no grace: dropped
        (dt.timedelta(minutes=240), 240, SlotTiming.LATE),
    ],
)
def test_slot_timing(late_by: dt.timedelta, grace: int, expected: SlotTiming) -> None:
    slot = local(2026, 12, 2, 20)
    assert slot_timing(slot, slot + late_by, grace) is expected


def test_slot_timing_across_midnight() -> None:
    slot = local(2026, 12, 1, 23, 50)
    assert slot_timing(slot, local(2026, 12, 2, 0, 10), 30) is SlotTiming.LATE
    assert slot_timing(slot, local(2026, 12, 2, 0, 21), 30) is SlotTiming.MISSED


def test_slot_key_is_the_utc_minute() -> None:
    assert slot_key(local(2026, 12, 2, 9)) == "2026-12-02T01:00Z"
    assert slot_key(local(2026, 12, 2, 0, 0)) == "2026-12-01T16:00Z"  # local midnight
    assert slot_key(local(2026, 12, 2, 9).astimezone(dt.UTC)) == "2026-12-02T01:00Z"
    assert slot_key(local(2026, 12, 2, 9, 0, 30)) == slot_key(local(2026, 12, 2, 9))


# -- escalation -------------------------------------------------------------------------------

T = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)


def tip(**changes: object) -> Tip:
    values: dict = {
        "id": 1,
        "code": "HS-0001",
        "source": "reporter",
        "lat": 30.2,
        "lon": 115.04,
        "address": None,
        "place_label": None,
        "district": None,
        "seen": Seen.NOW,
        "people": People.ONE,
        "flags": frozenset(),
        "description": None,
        "state": State.DISPATCHED,
        "outcome": None,
        "duplicate_of": None,
        "supplies": frozenset(),
        "group_key": "g1",
        "claimed_by": None,
        "closed_by": None,
        "created_at": T,
        "dispatched_at": T,
        "claimed_at": None,
        "arrived_at": None,
        "closed_at": None,
        "version": 1,
    }
    values.update(changes)
    return Tip(**values)


R, W, S = Level.REPOST, Level.WIDEN, Level.SCENE
CLAIMED = {"state": State.CLAIMED, "claimed_by": 7102, "claimed_at": T}


@pytest.mark.parametrize(
    ("changes", "minutes", "fired", "expected"),
    [
        ({}, 0, set(), []),
        ({}, 9.9, set(), []),
        ({}, 10, set(), [R]),
        ({}, 15, {R.value}, []),
        ({}, 20, {R.value}, [W]),
        ({}, 20, set(), [R, W]),  # after an outage: both, in order
        ({}, 600, {R.value, W.value}, []),  # each level once
        ({"flags": frozenset({Flag.CHILD})}, 4.9, set(), []),
        ({"flags": frozenset({Flag.CHILD})}, 5, set(), [R]),
        ({"flags": frozenset({Flag.CHILD})}, 20, {R.value}, [W]),
        # Claimed / en route: only the scene question, counted from the claim.
        ({**CLAIMED, "claimed_at": T + dt.timedelta(minutes=30)}, 74, set(), []),
        ({**CLAIMED, "claimed_at": T + dt.timedelta(minutes=30)}, 75, set(), [S]),
        ({**CLAIMED}, 45, {R.value, W.value}, [S]),
        ({**CLAIMED, "state": State.EN_ROUTE}, 45, set(), [S]),
        ({**CLAIMED}, 600, {S.value}, []),
        # A tip that moved on does not escalate.
        ({**CLAIMED, "state": State.ON_SCENE, "arrived_at": T}, 600, set(), []),
        ({"state": State.CLOSED, "outcome": Outcome.BROUGHT_IN}, 600, set(), []),
        ({"state": State.WITHDRAWN}, 600, set(), []),
        ({"state": State.NEW, "dispatched_at": None}, 600, set(), []),
        # Re-dispatched (hand-over, release): the clock restarts at dispatched_at.
        ({"dispatched_at": T + dt.timedelta(minutes=60)}, 65, set(), []),
        ({"dispatched_at": T + dt.timedelta(minutes=60)}, 70, set(), [R]),
    ],
)
def test_escalations_due(changes: dict, minutes: float, fired: set[str], expected: list) -> None:
    now = T + dt.timedelta(minutes=minutes)
    assert escalations_due(tip(**changes), now, RULES, fired) == expected


def test_level_names_are_the_event_actions() -> None:
    assert [level.value for level in Level] == ["escalate_1", "escalate_2", "escalate_scene"]


# -- the daily summary's figures --------------------------------------------------------------


def minutes(n: float) -> dt.datetime:
    return T + dt.timedelta(minutes=n)


def closed(outcome: Outcome, claim: float | None, arrive: float | None, **more: object) -> Tip:
    return tip(
        state=State.CLOSED,
        outcome=outcome,
        claimed_by=7102 if claim is not None else None,
        claimed_at=minutes(claim) if claim is not None else None,
        arrived_at=minutes(arrive) if arrive is not None else None,
        closed_at=minutes(60),
        **more,
    )


def test_figures_on_hand_made_tips() -> None:
    tips = [
        closed(Outcome.BROUGHT_IN, 4, 20, supplies=frozenset({Supply.COAT})),
        closed(Outcome.SUPPLIES_ONLY, 6, 30, supplies=frozenset({Supply.COAT, Supply.FOOD})),
        closed(Outcome.HOSPITAL, 2, 12),
        closed(Outcome.NOT_FOUND, 10, 25),
        closed(Outcome.DUPLICATE, None, None),
        closed(Outcome.INVALID, None, None),
        tip(state=State.CLAIMED, claimed_by=7102, claimed_at=minutes(3)),  # still open
    ]
    f = figures(
        tally(tips),
        [{"coat": 2, "quilt": 1}, {"food": 3}],
        patrols_logged=3,
        patrols_required=4,
        rewards_pending=2,
        rewards_paid=1,
    )
    assert f.received == 7
    assert f.verified == 3
    assert f.outcomes == {
        "brought_in": 1,
        "supplies_only": 1,
        "hospital": 1,
        "not_found": 1,
        "duplicate": 1,
        "invalid": 1,
    }
    # Went out to 4 (duplicate / invalid do not count), found nobody at 1.
    assert f.not_found_rate == 0.25
    assert f.median_claim_min == 4.0  # 2, 3, 4, 6, 10
    assert f.median_scene_min == 22.5  # 12, 20, 25, 30
    assert f.brought_in == 1
    assert f.supplies == {"coat": 4, "food": 4, "quilt": 1}
    assert (f.patrols_logged, f.patrols_required) == (3, 4)
    assert (f.rewards_pending, f.rewards_paid) == (2, 1)


def test_figures_of_a_quiet_day() -> None:
    f = figures(
        tally([]), [], patrols_logged=0, patrols_required=2, rewards_pending=0, rewards_paid=0
    )
    assert (f.received, f.verified, f.outcomes, f.supplies) == (0, 0, {}, {})
    assert f.not_found_rate is None and f.median_claim_min is None
    assert f.median_scene_min is None
    # Only duplicates: nobody went out, so no rate (not 0 %, not a division by zero).
    dup = figures(
        tally([closed(Outcome.DUPLICATE, None, None)]),
        [],
        patrols_logged=0,
        patrols_required=2,
        rewards_pending=0,
        rewards_paid=0,
    )
    assert dup.not_found_rate is None and dup.outcomes == {"duplicate": 1}


def test_not_found_rate_counts_gone_too() -> None:
    tips = [
        closed(Outcome.GONE, 5, 15),
        closed(Outcome.NOT_FOUND, 5, 15),
        closed(Outcome.FAMILY, 5, 15),
    ]
    f = figures(
        tally(tips), [], patrols_logged=0, patrols_required=0, rewards_pending=0, rewards_paid=0
    )
    assert f.not_found_rate == 0.667 and f.verified == 1 and f.brought_in == 0


def test_median_minutes() -> None:
    assert median_minutes([]) is None
    assert median_minutes([dt.timedelta(minutes=7)]) == 7.0
    assert median_minutes([dt.timedelta(seconds=s) for s in (60, 90, 150, 600)]) == 2.0
    assert median_minutes([dt.timedelta(seconds=100)]) == 1.7


# -- tonight's forecast minimum -----------------------------------------------------------------

DAY = dt.date(2026, 12, 1)


def test_tonight_minimum_reads_only_tonight() -> None:
    # Daytime is colder than tonight: only 18:00 → 08:00 counts.
    assert tonight_minimum(tonight_at(DAY, -6.5), DAY) == -6.5
    assert tonight_minimum(tonight_at(DAY, 2.0, daytime=-20.0), DAY) == 2.0


def test_tonight_minimum_boundaries() -> None:
    def at(hour_of_two_days: int, value: float):
        return lambda stamp: (
            value
            if (stamp - dt.datetime(2026, 12, 1)).total_seconds() == (hour_of_two_days * 3600)
            else 5.0
        )

    # 18:00 today and 08:00 tomorrow are tonight; 17:00 and 09:00 are not.
    assert tonight_minimum(hourly_forecast(DAY, at(18, -3.0)), DAY) == -3.0
    assert tonight_minimum(hourly_forecast(DAY, at(32, -3.0)), DAY) == -3.0
    assert tonight_minimum(hourly_forecast(DAY, at(17, -3.0)), DAY) == 5.0
    assert tonight_minimum(hourly_forecast(DAY, at(33, -3.0)), DAY) == 5.0
    # Tonight is relative to the day asked: the next day's night is another night.
    assert tonight_minimum(hourly_forecast(DAY, at(42, -3.0)), DAY + dt.timedelta(days=1)) == -3.0


def test_tonight_minimum_skips_gaps_and_falls_back_to_daily() -> None:
    data = tonight_at(DAY, -4.0)
    temps = data["hourly"]["temperature_2m"]
    data["hourly"]["temperature_2m"] = [None if i == 27 else v for i, v in enumerate(temps)]
    assert tonight_minimum(data, DAY) == -1.0  # the -4.0 hour is missing: next coldest

    no_hours = {"daily": {"temperature_2m_min": [1.5, -2.5, -30.0]}}
    assert tonight_minimum(no_hours, DAY) == -2.5  # today and tomorrow only
    wrong_day = tonight_at(DAY, -4.0)
    assert tonight_minimum(wrong_day, DAY + dt.timedelta(days=5)) == min(
        wrong_day["daily"]["temperature_2m_min"]
    )
    mismatched = {"hourly": {"time": ["2026-12-01T18:00"], "temperature_2m": []}}
    with pytest.raises(ForecastError):
        tonight_minimum(mismatched, DAY)
    with pytest.raises(ForecastError):
        tonight_minimum({}, DAY)
    with pytest.raises(ForecastError):
        tonight_minimum({"daily": {"temperature_2m_min": [None, None]}}, DAY)
