"""The reporter's flow as a state machine (bot/domain/draft.py), with plain values.

One table says what every event does at every step; hypothesis then plays random sequences
of events and checks that no sequence reaches a draft that makes no sense.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.draft import (
    BUTTONS,
    CANDIDATES_MAX,
    ORDER,
    PLACE_MAX,
    TAKES,
    Address,
    AmendDone,
    Choose,
    ChooseSpot,
    Draft,
    FlagsDone,
    ImageFile,
    Kind,
    Limits,
    NoneOfThese,
    Other,
    Photo,
    Pin,
    Refusal,
    SendNow,
    SetPeople,
    SetSeen,
    SkipPhoto,
    SkipWords,
    Source,
    SpotBack,
    SpotDone,
    SpotWords,
    Step,
    Submit,
    ToggleFlag,
    Typed,
    Where,
    Words,
    open_report,
    read,
    was_cut,
)
from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen

S = Step
R = Refusal
CENTRE = (30.2, 115.04)
PLACES = ((30.1565, 114.9355, "黄石站"), (30.2030, 115.0480, "磁湖"))
LIMITS = Limits(description_max=40)


def at(step: Step, source: Source = Source.REPORTER) -> Draft:
    """A draft at ``step`` as a reporter who answered every question before it has it."""
    draft = Draft(user_id=7, source=source)
    if step is S.LOCATION:
        return draft
    if step is S.CONFIRM_PLACE:
        return replace(draft, step=step, address="黄石站门口", candidates=PLACES)
    if step is S.AMEND:
        return draft.amending(42)
    draft = draft.with_location(*CENTRE, None, None)
    index = ORDER.index(step)
    if index > ORDER.index(S.SEEN):
        draft = replace(draft, seen=Seen.TODAY)
    if index > ORDER.index(S.PEOPLE):
        draft = replace(draft, people=People.MORE)
    if index >= ORDER.index(S.FLAGS):
        draft = replace(draft, flags=frozenset({Flag.ELDERLY}))
    if index > ORDER.index(S.DESCRIPTION):
        draft = replace(draft, description="长椅上")
    return replace(draft, step=step)


# -- every step × every event ------------------------------------------------------------------

EVENTS = {
    "pin": Pin(*CENTRE, where=Where.INSIDE),
    "venue": Pin(30.21, 115.05, "  黄石 广场 ", "x" * 500, where=Where.INSIDE),
    "pin outside": Pin(31.23, 121.47, where=Where.OUTSIDE),
    "pin invalid": Pin(999.0, 115.0, where=Where.INVALID),
    "typed": Typed("  桥下 "),
    "address": Address("黄石站门口"),  # not looked up yet
    "address found": Address(" 黄石站门口 ", found=(*PLACES, *PLACES)),
    "address not found": Address("火星基地七号", found=()),
    "address too short": Address(" 桥 "),
    "address too long": Address("长" * (PLACE_MAX + 1)),
    "words": Words("裹着被子  坐在\n通道口"),
    "long words": Words("长" * 100),
    "photo": Photo("file-1", "u-1", "蓝色外套"),
    "photo without caption": Photo("file-2", "u-2"),
    "image file": ImageFile(),
    "other": Other(),
    "choose 1": Choose(1),
    "choose 2": Choose(2),
    "none of these": NoneOfThese(),
    "seen": SetSeen(Seen.NOW),
    "people": SetPeople(People.ONE),
    "flag": ToggleFlag(Flag.CHILD),
    "flag off": ToggleFlag(Flag.ELDERLY),
    "flags done": FlagsDone(),
    "skip words": SkipWords(),
    "skip photo": SkipPhoto(),
    "submit": Submit(),
    "choose spot": ChooseSpot(Spot.PARK_BENCH),
    "choose other": ChooseSpot(Spot.OTHER),
    "spot words": SpotWords(" 东侧  出站口 "),
    "spot too long": SpotWords("长" * (SPOT_MAX_CHARS + 1)),
    "spot back": SpotBack(),
    "spot done": SpotDone(),
    "send now": SendNow(),
    "amend done": AmendDone(),
}

SAME = "same"  # taken, and nothing changes (yet)
SEEN, CONF, LOC, PHO, REV = S.SEEN, S.CONFIRM_PLACE, S.LOCATION, S.PHOTO, S.REVIEW
PEO, FLA, DES = S.PEOPLE, S.FLAGS, S.DESCRIPTION
W, P, ST = R.WRONG_KIND, R.PLACED, R.STALE

# fmt: off
SPO, SPT, AME, SB = S.SPOT, S.SPOT_TEXT, S.AMEND, R.SPOT_BAD
OUT, INV, NF, AB, NSP = R.OUTSIDE, R.INVALID, R.NOT_FOUND, R.ADDRESS_BAD, R.NO_SUCH_PLACE
TABLE = {
    #                         LOC   CONF  SPOT  SPOT_T SEEN  PEO   FLAGS DESC  PHOTO REV   AMEND
    "pin":                   (SPO,  SPO,  P,    P,    P,    P,    P,    P,    P,    P,    SPO),
    "venue":                 (SPO,  SPO,  P,    P,    P,    P,    P,    P,    P,    P,    SPO),
    "pin outside":           (OUT,  OUT,  P,    P,    P,    P,    P,    P,    P,    P,    OUT),
    "pin invalid":           (INV,  INV,  P,    P,    P,    P,    P,    P,    P,    P,    INV),
    "typed":                 (SAME, SAME, SPO,  SPO,  W,    W,    W,    PHO,  W,    W,    AME),
    "address":               (SAME, SAME, W,    W,    W,    W,    W,    W,    W,    W,    W),
    "address found":         (CONF, CONF, W,    W,    W,    W,    W,    W,    W,    W,    W),
    "address not found":     (NF,   NF,   W,    W,    W,    W,    W,    W,    W,    W,    W),
    "address too short":     (AB,   AB,   W,    W,    W,    W,    W,    W,    W,    W,    W),
    "address too long":      (AB,   AB,   W,    W,    W,    W,    W,    W,    W,    W,    W),
    "words":                 (W,    W,    W,    W,    W,    W,    W,    PHO,  W,    W,    AME),
    "long words":            (W,    W,    W,    W,    W,    W,    W,    PHO,  W,    W,    AME),
    "photo":                 (W,    W,    W,    W,    W,    W,    W,    REV,  REV,  W,    AME),
    "photo without caption": (W,    W,    W,    W,    W,    W,    W,    REV,  REV,  W,    AME),
    "image file":            (W,    W,    W,    W,    W,    W,    W,    SAME, SAME, W,    SAME),
    "other":                 (W,    W,    W,    W,    W,    W,    W,    W,    W,    W,    W),
    "choose 1":              (ST,   SPO,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "choose 2":              (ST,   NSP,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "none of these":         (ST,   LOC,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "seen":                  (ST,   ST,   ST,   ST,   PEO,  ST,   ST,   ST,   ST,   ST,   ST),
    "people":                (ST,   ST,   ST,   ST,   ST,   FLA,  ST,   ST,   ST,   ST,   ST),
    "flag":                  (ST,   ST,   SPO,  ST,   ST,   ST,   FLA,  ST,   ST,   ST,   AME),
    "flag off":              (ST,   ST,   SPO,  ST,   ST,   ST,   FLA,  ST,   ST,   ST,   AME),
    "flags done":            (ST,   ST,   ST,   ST,   ST,   ST,   DES,  ST,   ST,   ST,   ST),
    "skip words":            (ST,   ST,   ST,   ST,   ST,   ST,   ST,   PHO,  ST,   ST,   ST),
    "skip photo":            (ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   REV,  ST,   ST),
    "submit":                (ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   SAME, ST),
    "choose spot":           (ST,   ST,   SPO,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "choose other":          (ST,   ST,   SPT,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "spot words":            (W,    W,    SPO,  SPO,  W,    W,    W,    W,    W,    W,    W),
    "spot too long":         (W,    W,    SB,   SB,   W,    W,    W,    W,    W,    W,    W),
    "spot back":             (ST,   ST,   ST,   SPO,  ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "spot done":             (ST,   ST,   SEEN, ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "send now":              (ST,   ST,   REV,  ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST),
    "amend done":            (ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   ST,   SAME),
}
# fmt: on


def effect(name: str, before: Draft) -> Draft:
    """The draft an accepted event makes of ``before``: every field it sets, and only those."""
    d = before
    amending = d.step is S.AMEND
    if amending and name in ("pin", "venue"):
        d = Draft(d.user_id, d.source)  # a pin while adding to a tip: a new report
    match name:
        case "pin":
            return replace(
                d,
                lat=CENTRE[0],
                lon=CENTRE[1],
                place_label=None,
                address=None,
                candidates=(),
                step=S.SPOT,
            )
        case "venue":  # a client's title and address, bounded
            return replace(
                d,
                lat=30.21,
                lon=115.05,
                place_label="黄石 广场",
                address="x" * PLACE_MAX,
                candidates=(),
                step=S.SPOT,
            )
        case "address found":  # the best few, to choose from
            return replace(
                d, step=S.CONFIRM_PLACE, address="黄石站门口", candidates=(*PLACES, PLACES[0])
            )
        case "typed" if d.step is S.DESCRIPTION:
            return replace(d, description="桥下", step=S.PHOTO)
        case "typed" if d.step in (S.SPOT, S.SPOT_TEXT):
            return replace(d, spot=Spot.OTHER, spot_text="桥下", step=S.SPOT)
        case "typed" if amending:
            return replace(d, description="桥下")
        case "words" if amending:  # the addition pending
            return replace(d, description="裹着被子 坐在 通道口")
        case "long words" if amending:
            return replace(d, description="长" * 39 + "…")
        case "photo" | "photo without caption" if amending:
            event = EVENTS[name]
            assert isinstance(event, Photo)
            return replace(
                d,
                description=event.caption,
                photo_file_id=event.file_id,
                photo_unique_id=event.unique_id,
            )
        case "words":
            return replace(d, description="裹着被子 坐在 通道口", step=S.PHOTO)
        case "long words":
            return replace(d, description="长" * 39 + "…", step=S.PHOTO)
        case "photo" | "photo without caption":
            event = EVENTS[name]
            assert isinstance(event, Photo)
            # At the description step the caption is the words; later it leaves them be.
            words = event.caption if d.step is S.DESCRIPTION else d.description
            return replace(
                d,
                description=words,
                photo_file_id=event.file_id,
                photo_unique_id=event.unique_id,
                step=S.REVIEW,
            )
        case "choose 1":
            return replace(
                d,
                lat=PLACES[1][0],
                lon=PLACES[1][1],
                place_label="磁湖",
                address="黄石站门口",
                candidates=(),
                step=S.SPOT,
            )
        case "none of these":
            return replace(d, step=S.LOCATION, candidates=())
        case "seen":
            return replace(d, seen=Seen.NOW, step=S.PEOPLE)
        case "people":
            return replace(d, people=People.ONE, step=S.FLAGS)
        case "flag" if amending:  # an addition: just that flag, never taken off
            return replace(d, flags=frozenset({Flag.CHILD}))
        case "flag off" if amending:
            return replace(d, flags=frozenset({Flag.ELDERLY}))
        case "flag":
            return replace(d, flags=d.flags ^ {Flag.CHILD})
        case "flag off":
            return replace(d, flags=d.flags ^ {Flag.ELDERLY})
        case "flags done":
            return replace(d, step=S.DESCRIPTION)
        case "skip words":
            return replace(d, description=None, step=S.PHOTO)
        case "skip photo":
            return replace(d, photo_file_id=None, photo_unique_id=None, step=S.REVIEW)
        case "choose spot":
            return replace(d, spot=Spot.PARK_BENCH)
        case "choose other":
            return replace(d, step=S.SPOT_TEXT)
        case "spot words":
            return replace(d, spot=Spot.OTHER, spot_text="东侧 出站口", step=S.SPOT)
        case "spot back":
            return replace(d, step=S.SPOT)
        case "spot done":
            return replace(d, step=S.SEEN)
        case "send now":  # just now, one person: ready to go in
            return replace(d, seen=Seen.NOW, people=People.ONE, step=S.REVIEW)
    raise AssertionError(f"no effect written for {name!r} at {d.step}")


def test_the_table_covers_every_step_and_every_kind_of_event() -> None:
    assert all(len(row) == len(ORDER) for row in TABLE.values())
    assert set(TABLE) == set(EVENTS)
    kinds = {read(S.LOCATION, e).kind for e in EVENTS.values()} | {Kind.WORDS}
    assert kinds == set(Kind)


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize("name", list(TABLE))
@pytest.mark.parametrize("step", ORDER)
def test_every_event_at_every_step(step: Step, name: str, source: Source) -> None:
    before = at(step, source)
    expected = TABLE[name][ORDER.index(step)]
    got = before.apply(EVENTS[name], LIMITS)
    if isinstance(expected, Refusal):
        assert got is expected
        assert before.admit(EVENTS[name]) in (expected, None)
    elif expected == SAME:
        assert got is before  # taken; the I/O it needs comes back as its own event
        assert before.admit(EVENTS[name]) is None
    else:
        assert isinstance(got, Draft), got
        assert got.step is expected
        assert got == effect(name, before)
        assert before.admit(EVENTS[name]) is None


def test_admission_is_judged_before_the_io() -> None:
    """What :meth:`Draft.admit` refuses, apply refuses the same way; what it lets through
    is decided by the lookup (found or not) or taken."""
    for step in ORDER:
        for name, event in EVENTS.items():
            admitted = at(step).admit(event)
            applied = at(step).apply(event, LIMITS)
            if admitted is not None:
                assert applied is admitted, (step, name)
    assert at(S.LOCATION).admit(Address("火星基地七号")) is None
    assert at(S.LOCATION).apply(Address("火星基地七号", found=())) is R.NOT_FOUND


def test_a_pin_is_applied_only_once_its_place_is_checked() -> None:
    with pytest.raises(ValueError):
        at(S.LOCATION).apply(Pin(*CENTRE))
    assert at(S.SEEN).apply(Pin(*CENTRE)) is R.PLACED  # refused before any check is needed


def test_typed_text_is_the_place_while_it_is_asked_and_words_after() -> None:
    for step in ORDER:
        event = read(step, Typed("黄石站"))
        expected = Address if step in (S.LOCATION, S.CONFIRM_PLACE) else Words
        if step in (S.SPOT, S.SPOT_TEXT):
            expected = SpotWords
        assert type(event) is expected and event.text == "黄石站"
    assert read(S.SEEN, Other()) == Other()


def test_the_table_of_what_each_step_takes() -> None:
    # Every button but a flag is taken at exactly one step (a press anywhere else is stale);
    # a flag on the message after the place, at its own step, and added to a tip ...
    for kind in BUTTONS - {Kind.FLAG}:
        assert len([s for s in ORDER if kind in TAKES[s]]) == 1, kind
    assert [s for s in ORDER if Kind.FLAG in TAKES[s]] == [S.SPOT, S.FLAGS, S.AMEND]
    # ... a pin while the place is asked (or, adding to a tip, for a new report), an
    # address only while the place is asked, a photo at its two steps and as an addition.
    assert [s for s in ORDER if Kind.PIN in TAKES[s]] == [S.LOCATION, S.CONFIRM_PLACE, S.AMEND]
    assert [s for s in ORDER if Kind.ADDRESS in TAKES[s]] == [S.LOCATION, S.CONFIRM_PLACE]
    assert [s for s in ORDER if Kind.PHOTO in TAKES[s]] == [S.DESCRIPTION, S.PHOTO, S.AMEND]
    assert [s for s in ORDER if Kind.SPOT_WORDS in TAKES[s]] == [S.SPOT, S.SPOT_TEXT]
    assert not any(Kind.OTHER in TAKES[s] for s in ORDER)


@pytest.mark.parametrize("staff", [False, True])
@pytest.mark.parametrize("name", list(EVENTS))
def test_what_starts_a_report_when_none_is_in_progress(name: str, staff: bool) -> None:
    event = EVENTS[name]
    got = open_report(7, event, staff=staff)
    kind = read(S.LOCATION, event).kind
    if kind in BUTTONS:
        assert got is R.STALE  # a button of a report that is gone
    elif staff:
        assert got is R.STAFF  # staff start a report only on purpose
    elif kind in (Kind.PIN, Kind.ADDRESS):
        assert got == Draft(user_id=7)  # a pin or typed text starts one
    else:
        assert got is R.NO_REPORT


def test_words_are_normalised_and_cut_to_the_limit() -> None:
    assert not was_cut(Words("x" * 40), LIMITS) and was_cut(Words("x" * 41), LIMITS)
    assert not was_cut(Photo("f", caption="x" * 99), LIMITS)  # a caption is cut silently
    draft = at(S.DESCRIPTION).apply(Words(" \n\t "), LIMITS)
    assert isinstance(draft, Draft) and draft.description is None and draft.step is S.PHOTO
    draft = at(S.DESCRIPTION).apply(Photo("f", caption="x" * 99), LIMITS)
    assert isinstance(draft, Draft) and len(draft.description or "") == 40


# -- random sequences --------------------------------------------------------------------------

texts = st.text(max_size=260)
candidates = st.tuples(
    st.floats(29.9, 30.4), st.floats(114.8, 115.3), st.text(min_size=1, max_size=80)
)
events = st.one_of(
    st.builds(
        Pin,
        st.floats(-100, 100),
        st.floats(-200, 200),
        st.none() | texts,
        st.none() | texts,
        st.sampled_from(Where),
    ),
    st.builds(Typed, texts),
    st.builds(Address, texts, st.none() | st.lists(candidates, max_size=5).map(tuple)),
    st.builds(Words, texts),
    st.builds(Photo, st.text(min_size=1, max_size=20), st.none() | texts, st.none() | texts),
    st.just(ImageFile()),
    st.just(Other()),
    st.builds(Choose, st.integers(-1, 4)),
    st.just(NoneOfThese()),
    st.builds(SetSeen, st.sampled_from(Seen)),
    st.builds(SetPeople, st.sampled_from(People)),
    st.builds(ToggleFlag, st.sampled_from(Flag)),
    st.just(FlagsDone()),
    st.just(SkipWords()),
    st.just(SkipPhoto()),
    st.just(Submit()),
    st.builds(ChooseSpot, st.sampled_from(Spot)),
    st.builds(SpotWords, texts),
    st.just(SpotBack()),
    st.just(SpotDone()),
    st.just(SendNow()),
    st.just(AmendDone()),
)


def problems(draft: Draft) -> list[str]:
    """What would make no sense in a draft (empty: none)."""
    index = ORDER.index(draft.step)
    placing = draft.step in (S.LOCATION, S.CONFIRM_PLACE)
    found = [
        (draft.lat is None) != (draft.lon is None) and "half a position",
        (draft.lat is None) != placing and "a place before or after the place steps",
        bool(draft.candidates) != (draft.step is S.CONFIRM_PLACE) and "candidates off their step",
        len(draft.candidates) > CANDIDATES_MAX and "too many candidates",
        (draft.seen is not None) != (index > ORDER.index(S.SEEN)) and "seen off its steps",
        (draft.people is not None) != (index > ORDER.index(S.PEOPLE)) and "people off its steps",
        bool(draft.flags) and index < ORDER.index(S.SPOT) and "flags before the place",
        (draft.spot or draft.spot_text) and index < ORDER.index(S.SPOT) and "an early spot",
        len(draft.spot_text or "") > SPOT_MAX_CHARS and "a spot over the limit",
        draft.spot_text == "" and "an empty spot",
        draft.step is S.AMEND and "adding to a tip, from a report",
        draft.description is not None and index <= ORDER.index(S.DESCRIPTION) and "early words",
        len(draft.description or "") > LIMITS.description_max and "words over the limit",
        draft.photo_file_id is not None and draft.step is not S.REVIEW and "an early photo",
        len(draft.address or "") > PLACE_MAX and "an address over the limit",
    ]
    return [p for p in found if p]


@settings(max_examples=400, deadline=None)
@given(source=st.sampled_from(Source), sequence=st.lists(events, max_size=40))
def test_no_sequence_of_events_reaches_a_draft_that_makes_no_sense(
    source: Source, sequence: list
) -> None:
    draft = Draft(user_id=7, source=source)
    for event in sequence:
        got = draft.apply(event, LIMITS)
        if isinstance(got, Refusal):
            assert draft.admit(event) in (got, None)
            continue
        assert got.user_id == 7 and got.source is source
        assert problems(got) == [], (event, got)
        # A tip can be submitted exactly when its review is reached, and then it has
        # everything a tip needs.
        submitted = got.apply(Submit(), LIMITS)
        assert (submitted is got) == (got.step is S.REVIEW)
        assert got.ready() == (ORDER.index(got.step) > ORDER.index(S.PEOPLE))
        draft = got


drafts = st.builds(
    Draft,
    user_id=st.just(7),
    source=st.sampled_from(Source),
    step=st.sampled_from(Step),
    lat=st.none() | st.floats(29.9, 30.4),
    lon=st.none() | st.floats(114.8, 115.3),
    seen=st.none() | st.sampled_from(Seen),
    people=st.none() | st.sampled_from(People),
)


@settings(max_examples=300, deadline=None)
@given(draft=drafts)
def test_submit_is_allowed_iff_the_review_is_reached_and_the_draft_is_ready(draft: Draft) -> None:
    """Also for a draft no sequence of events makes (a database edited by hand)."""
    got = draft.apply(Submit())
    if draft.step is not S.REVIEW:
        assert got is R.STALE
    else:
        assert (got is draft) == draft.ready() and (got is R.INCOMPLETE) != draft.ready()
