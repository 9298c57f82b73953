"""Drafts, duplicate detection and button payloads: pure rules."""

from __future__ import annotations

import pytest

from bot.domain import dedup
from bot.domain.draft import Draft, Step, clip_description
from bot.domain.tips import Flag, Outcome, People, Seen
from bot.views.callbacks import (
    ReporterButton,
    ROp,
    TipButton,
    TipOp,
    parse_reporter,
    parse_tip,
)


def test_draft_steps_run_in_order_and_skip_the_address_confirmation() -> None:
    assert Draft.after(Step.LOCATION) is Step.SPOT
    assert Draft.after(Step.CONFIRM_PLACE) is Step.SPOT
    assert Draft.after(Step.SPOT) is Step.SEEN
    assert Draft.after(Step.SPOT_TEXT) is Step.SEEN
    assert Draft.after(Step.SEEN) is Step.PEOPLE
    assert Draft.after(Step.PEOPLE) is Step.FLAGS
    assert Draft.after(Step.FLAGS) is Step.DESCRIPTION
    assert Draft.after(Step.DESCRIPTION) is Step.PHOTO
    assert Draft.after(Step.PHOTO) is Step.REVIEW
    assert Draft.after(Step.REVIEW) is Step.REVIEW
    assert Draft.after(Step.AMEND) is Step.AMEND


def test_draft_ready_needs_place_time_and_count() -> None:
    draft = Draft(user_id=1)
    assert not draft.ready()
    draft = draft.with_location(30.2, 115.04, "x", None)
    assert draft.step is Step.SPOT and not draft.ready()
    from dataclasses import replace

    assert replace(draft, seen=Seen.NOW, people=People.ONE).ready()


def test_toggle_flag() -> None:
    draft = Draft(user_id=1).toggle_flag(Flag.CHILD)
    assert draft.flags == {Flag.CHILD}
    assert draft.toggle_flag(Flag.CHILD).flags == frozenset()


def test_clip_description() -> None:
    assert clip_description("  a \n b\t c ", 50) == ("a b c", False)
    text, cut = clip_description("x" * 600, 500)
    assert cut and len(text) == 500 and text.endswith("…")
    assert clip_description("a\x00b\u200bc", 50)[0] == "abc"


def test_haversine_known_distance() -> None:
    # One degree of latitude is ~111.2 km on the mean sphere.
    assert dedup.haversine_m(30.0, 115.0, 31.0, 115.0) == pytest.approx(111_195, rel=1e-3)
    assert dedup.haversine_m(30.2, 115.04, 30.2, 115.04) == 0


def test_bounding_box_contains_the_circle() -> None:
    lat, lon, radius = 30.2, 115.04, 250
    box = dedup.bounding_box(lat, lon, radius)
    # Points exactly `radius` away in the four directions are inside the box.
    dlat = radius / 111_195
    assert box.south <= lat - dlat * 0.999 and box.north >= lat + dlat * 0.999
    east = dedup.haversine_m(lat, lon, lat, box.east)
    assert east == pytest.approx(radius, rel=1e-3)


def test_nearby_filters_by_radius_and_sorts() -> None:
    cands = [
        dedup.Candidate(1, 30.2000, 115.0400),
        dedup.Candidate(2, 30.2010, 115.0400),  # ~111 m
        dedup.Candidate(3, 30.2030, 115.0400),  # ~334 m
    ]
    found = dedup.nearby(30.2, 115.04, cands, 250, exclude=1)
    assert [tip for tip, _ in found] == [2]
    assert found[0][1] == pytest.approx(111, abs=2)


@pytest.mark.parametrize(
    "button",
    [
        TipButton(TipOp.CLAIM, 42),
        TipButton(TipOp.ASK, 42, Outcome.NOT_FOUND),
        TipButton(TipOp.SUPPLIES, 42, number=5),
        TipButton(TipOp.CLOSE, 42, Outcome.SUPPLIES_ONLY, 31),
        TipButton(TipOp.CLOSE, 42, Outcome.DUPLICATE, 41),
        TipButton(TipOp.CLOSE, 999_999_999, Outcome.BROUGHT_IN),
        TipButton(TipOp.SHOW, 1),
    ],
)
def test_tip_buttons_round_trip_within_telegram_limit(button: TipButton) -> None:
    data = button.data()
    assert 1 <= len(data.encode()) <= 64
    assert parse_tip(data) == button


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "tip:claim",
        "tip:claim:0",
        "tip:claim:abc",
        "tip:claim:42:brought_in",
        "tip:explode:42",
        "tip:close:42",
        "tip:close:42:teleported",
        "tip:close:42:supplies_only",
        "tip:close:42:brought_in:5",
        "tip:sup:42:n:32",
        "tip:ask:42",
        "tip:claim:1234567890",
        "tip:claim:42\n",
        "r:seen:now",
        "x" * 64,
    ],
)
def test_forged_tip_buttons_do_not_parse(data: str | None) -> None:
    assert parse_tip(data) is None


def test_reporter_buttons() -> None:
    for button in [
        ReporterButton(ROp.SEEN, "now"),
        ReporterButton(ROp.PEOPLE, "3+"),
        ReporterButton(ROp.FLAG, "child"),
        ReporterButton(ROp.PLACE, "none"),
        ReporterButton(ROp.WITHDRAW, "17"),
        ReporterButton(ROp.SUBMIT),
    ]:
        assert parse_reporter(button.data()) == button
    for data in [
        "r:seen:never",
        "r:ppl:9",
        "r:flag:x",
        "r:wd:0",
        "r:wd:abc",
        "r:submit:1",
        "r:zz",
        "tip:claim:1",
    ]:
        assert parse_reporter(data) is None
