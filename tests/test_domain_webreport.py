"""The web form's pure rules (bot/domain/webreport.py): tokens, reading the form, phones."""

from __future__ import annotations

import pytest

from bot.domain.rewards import MAX_SECRET_TRIES
from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen
from bot.domain.webreport import (
    WEB_REPORTER_BASE,
    FormCheck,
    Problem,
    action_token,
    check_action_token,
    check_form_token,
    form_token,
    is_web_reporter,
    normalise_phone,
    phone_key,
    read_form,
    status_locked,
    web_reporter_id,
)

KEY = b"k" * 32
BROWSER = "a" * 32


def test_a_form_token_checks_the_browser_the_fill_time_and_the_age() -> None:
    token = form_token(KEY, BROWSER, 1000.0)
    assert check_form_token(KEY, BROWSER, token, 1010.0) is FormCheck.OK
    assert check_form_token(KEY, BROWSER, token, 1001.0) is FormCheck.TOO_FAST
    assert check_form_token(KEY, BROWSER, token, 1000.0 + 7 * 3600) is FormCheck.STALE
    assert check_form_token(KEY, "b" * 32, token, 1010.0) is FormCheck.BAD  # another browser
    assert check_form_token(b"x" * 32, BROWSER, token, 1010.0) is FormCheck.BAD  # forged
    forged_time = "999" + token[4:]  # an earlier time with the old signature
    assert check_form_token(KEY, BROWSER, forged_time, 1010.0) is FormCheck.BAD
    for missing in (None, "", "nodot"):
        assert check_form_token(KEY, BROWSER, missing, 1010.0) is FormCheck.BAD
    assert check_form_token(KEY, None, token, 1010.0) is FormCheck.BAD


def test_an_action_token_is_bound_to_the_browser_and_the_purpose() -> None:
    token = action_token(KEY, BROWSER, "t:HS-0001")
    assert check_action_token(KEY, BROWSER, "t:HS-0001", token)
    assert not check_action_token(KEY, BROWSER, "t:HS-0002", token)
    assert not check_action_token(KEY, "b" * 32, "t:HS-0001", token)
    assert not check_action_token(KEY, BROWSER, "t:HS-0001", None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13800000042", "13800000042"),
        ("138 0000 0042", "13800000042"),
        ("+86 138-0000-0042", "13800000042"),
        ("8613800000042", "13800000042"),
        ("0714-0000000", None),  # a landline: no transfer to it
        ("1380000004", None),
        ("12800000042", None),
        ("abc", None),
    ],
)
def test_mobile_numbers_are_read_in_the_ways_people_write_them(typed: str, expected) -> None:
    assert normalise_phone(typed) == expected


def test_a_phone_key_is_stable_and_hides_the_number() -> None:
    assert phone_key(KEY, "13800000042") == phone_key(KEY, "13800000042")
    assert phone_key(KEY, "13800000042") != phone_key(KEY, "13800000043")
    assert "13800000042" not in phone_key(KEY, "13800000042")


def test_web_reporter_ids_are_beyond_any_telegram_id() -> None:
    assert web_reporter_id(1) == WEB_REPORTER_BASE + 1 and is_web_reporter(web_reporter_id(1))
    assert not is_web_reporter(2**52)  # Telegram user ids have at most 52 significant bits
    assert not is_web_reporter(None) and not is_web_reporter(-1001000000111)
    assert web_reporter_id(10**9) < 2**63  # fits SQLite's integer


def test_the_status_lock_is_the_claim_rule() -> None:
    assert not status_locked(MAX_SECRET_TRIES - 1) and status_locked(MAX_SECRET_TRIES)


def test_reading_the_form_trusts_nothing() -> None:
    form = read_form(
        {
            "lat": "30.2",
            "lon": "nan",
            "address": "  磁湖\x00 公园 ",
            "spot": "not-a-spot",
            "seen": "now",
            "people": "7",
            "phone": "12",
        },
        ["child", "made-up"],
    )
    assert form.lat == 30.2 and form.lon is None  # NaN is no coordinate
    assert form.address == "磁湖 公园"  # control characters and runs of space gone
    assert form.spot is None and form.seen is Seen.NOW and form.people is None
    assert form.flags == frozenset({Flag.CHILD})
    assert form.problems() == [Problem.PEOPLE, Problem.PHONE]  # the address: looked up
    assert read_form({"lat": "30.2"}, []).problems()[0] is Problem.PLACE


def test_a_complete_form_has_no_problem_and_other_needs_words() -> None:
    base = {"lat": "30.2", "lon": "115.04", "seen": "hour", "people": "2", "spot": "other"}
    assert read_form(base, []).problems() == [Problem.SPOT]
    named = read_form({**base, "spot_text": "天桥下"}, [])
    assert named.problems() == [] and named.spot is Spot.OTHER and named.people is People.TWO
    too_long = read_form({**base, "spot_text": "长" * (SPOT_MAX_CHARS + 1)}, [])
    assert too_long.problems() == [Problem.SPOT]
    typed_only = read_form({"address": "黄石站", "seen": "now", "people": "1"}, [])
    assert typed_only.problems() == []  # a typed place, to be looked up and confirmed
