"""Pure rules of issue 13 (h13c): hotspot clustering, live positions, revisits' timing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from bot.domain.hotspots import RADIUS_M, Hotspot, Sighting, hotspots
from bot.domain.live import (
    CARD_EDIT_EVERY,
    FOREVER,
    LivePosition,
    LiveRole,
    card_edit_due,
    expires,
    nearest,
)
from bot.domain.revisits import Revisit, RevisitState, due_at, is_due, still_wanted
from bot.geo.coords import haversine_m

T = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)
BASE = (30.2000, 115.0400)
M_PER_DEG_LAT = 111_195.0


def north(metres: float, of: tuple[float, float] = BASE) -> tuple[float, float]:
    return (of[0] + metres / M_PER_DEG_LAT, of[1])


def seen(where: tuple[float, float], hours: float = 0, label: str | None = None) -> Sighting:
    return Sighting(where[0], where[1], T + dt.timedelta(hours=hours), label)


# -- hotspots ---------------------------------------------------------------------------------


def test_no_sightings_no_hotspots() -> None:
    assert hotspots([]) == []


def test_one_sighting_is_one_hotspot() -> None:
    assert hotspots([seen(BASE, 1, "黄石站")]) == [
        Hotspot(BASE[0], BASE[1], 1, T + dt.timedelta(hours=1), "黄石站")
    ]


def test_sightings_within_the_radius_are_one_hotspot_with_count_and_last_time() -> None:
    found = hotspots([seen(BASE, 0), seen(north(150), 5), seen(north(60), 2)])
    assert len(found) == 1
    assert found[0].count == 3 and found[0].last_at == T + dt.timedelta(hours=5)
    # The centre is the mean of the sightings.
    assert found[0].lat == pytest.approx(BASE[0] + 70 / M_PER_DEG_LAT)


def test_the_radius_is_inclusive_and_just_beyond_it_is_another_spot() -> None:
    edge = north(RADIUS_M - 0.5)
    assert haversine_m(*BASE, *edge) <= RADIUS_M
    assert [h.count for h in hotspots([seen(BASE), seen(edge, 1)])] == [2]
    beyond = north(RADIUS_M + 1)
    assert [h.count for h in hotspots([seen(BASE), seen(beyond, 1)])] == [1, 1]


def test_a_chain_of_near_sightings_does_not_make_one_long_hotspot() -> None:
    # 150 m apart each: A and B join; C is 225 m from their centre, a spot of its own.
    a, b, c = BASE, north(150), north(300)
    found = hotspots([seen(a, 0), seen(b, 1), seen(c, 2)])
    assert sorted(h.count for h in found) == [1, 2]


def test_the_result_does_not_depend_on_the_order_given() -> None:
    spots = [BASE, north(120), north(900), north(1000), north(2500)]
    sightings = [seen(where, hours) for hours, where in enumerate(spots * 2)]
    expected = hotspots(sightings)
    rng = random.Random(13)
    for _ in range(20):
        shuffled = sightings[:]
        rng.shuffle(shuffled)
        assert hotspots(shuffled) == expected


def test_ranked_by_count_then_by_the_latest_and_cut_to_top() -> None:
    far_a, far_b, far_c = north(1000), north(3000), north(5000)
    sightings = [
        seen(far_a, 1),
        seen(far_b, 9),  # one sighting, but the most recent
        seen(far_c, 2),
        seen(BASE, 3),
        seen(north(10), 4),  # BASE: two sightings
    ]
    found = hotspots(sightings)
    assert [h.count for h in found] == [2, 1, 1, 1]
    assert [round(h.lat, 4) for h in found[1:]] == [
        round(far_b[0], 4),
        round(far_c[0], 4),
        round(far_a[0], 4),
    ]
    assert len(hotspots(sightings, top=2)) == 2
    assert hotspots(sightings, top=0) == []


def test_the_label_is_the_latest_one_known() -> None:
    found = hotspots(
        [seen(BASE, 0, "黄石站 东侧出站口"), seen(north(20), 3, None), seen(north(30), 1, "黄石站")]
    )
    assert found[0].label == "黄石站"
    assert hotspots([seen(BASE), seen(north(5), 1)])[0].label is None


# -- live positions ---------------------------------------------------------------------------


def position(
    lat_lon: tuple[float, float] = BASE,
    *,
    user: int = 1,
    updated: dt.datetime = T,
    shown: dt.datetime | None = None,
    until: dt.datetime = T + dt.timedelta(hours=1),
) -> LivePosition:
    return LivePosition(
        chat_id=-1,
        message_id=user,
        user_id=user,
        role=LiveRole.STAFF,
        tip_id=None,
        group_key="g1",
        lat=lat_lon[0],
        lon=lat_lon[1],
        started_at=T,
        updated_at=updated,
        expires_at=until,
        shown_at=shown,
    )


def test_a_live_period_ends_and_until_stopped_is_taken_as_a_day() -> None:
    assert expires(T, 900) == T + dt.timedelta(seconds=900)
    assert expires(T, FOREVER) == T + dt.timedelta(hours=24)
    assert expires(T, 10 * 86400) == T + dt.timedelta(hours=24)


def test_card_edits_for_a_moving_pin_are_throttled() -> None:
    assert card_edit_due(position(shown=None), T)  # never shown: at once
    shown = T
    moved = position(updated=T + dt.timedelta(seconds=10), shown=shown)
    assert not card_edit_due(moved, T + dt.timedelta(seconds=10))
    assert not card_edit_due(moved, shown + CARD_EDIT_EVERY - dt.timedelta(seconds=1))
    assert card_edit_due(moved, shown + CARD_EDIT_EVERY)
    # Nothing new since it was shown: no edit however long it has been.
    assert not card_edit_due(position(updated=T, shown=T), T + dt.timedelta(hours=1))


def test_nearest_is_the_closest_live_position() -> None:
    near, further = position(north(800), user=2), position(north(300), user=3)
    ended = position(north(10), user=4, until=T)  # its live period is over
    assert nearest([near, further, ended], *BASE, T) == (further, 300)
    assert nearest([ended], *BASE, T) is None
    assert nearest([], *BASE, T) is None


# -- revisits ---------------------------------------------------------------------------------


def revisit(due: dt.datetime | None, state: RevisitState = RevisitState.WAITING) -> Revisit:
    return Revisit(
        id=1,
        tip_id=1,
        previous_id=None,
        reason="supplies_only",
        supplies=frozenset(),
        reason_at=T,
        created_at=T,
        due_at=due,
        state=state,
        group_key=None,
        chat_id=None,
        message_id=None,
        posted_at=None,
        claimed_by=None,
        claimed_at=None,
        outcome=None,
        closed_by=None,
        closed_at=None,
        version=0,
    )


def test_revisit_due_after_hours_or_when_cold_mode_next_starts() -> None:
    assert due_at("cold_mode", T) is None
    assert due_at(6, T) == T + dt.timedelta(hours=6)
    by_hours = revisit(T + dt.timedelta(hours=6))
    assert not is_due(by_hours, T + dt.timedelta(hours=5, minutes=59), None)
    assert is_due(by_hours, T + dt.timedelta(hours=6), None)
    cold = revisit(None)
    assert not is_due(cold, T + dt.timedelta(days=3), None)  # cold mode never started since
    started = T + dt.timedelta(hours=20)
    assert is_due(cold, started, started)
    assert not is_due(revisit(None, RevisitState.POSTED), started, started)  # posted once


def test_a_revisit_is_moot_once_its_tip_was_reopened() -> None:
    first = revisit(None)  # made when the tip was closed at T
    assert still_wanted(first, T)
    assert not still_wanted(first, None)  # open again (a new attempt)
    assert not still_wanted(first, T + dt.timedelta(hours=1))  # closed again later
    chained = dataclasses.replace(first, previous_id=7, reason_at=T + dt.timedelta(days=1))
    assert still_wanted(chained, T)  # made by a revisit's outcome, after the close
