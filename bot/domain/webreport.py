"""The public web report form's rules (``{public_url}/report``, ``/t/CODE``). Pure.

A web reporter has no Telegram chat. They are given a reporter id of their own, from a range
no Telegram user id reaches (:data:`WEB_REPORTER_BASE`): one per phone number when they give
one (so the monthly reward cap counts per phone), a fresh one per tip otherwise (per claim
code). Everything downstream — rewards, the relay, the event log, purge — sees an ordinary
reporter id; only where a message to the reporter is *delivered* does the channel differ:
:func:`is_web_reporter` ids get their notices on the status page instead of the outbox.

Also here: the form's signed tokens (CSRF, minimum fill time), the per-address and total
rate limits (in memory), the status page's lock, and reading the posted form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.rewards import MAX_SECRET_TRIES
from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen

#: Telegram user ids have at most 52 significant bits: ids from here on are web reporters.
WEB_REPORTER_BASE = 1 << 60


def is_web_reporter(user_id: int | None) -> bool:
    return user_id is not None and user_id >= WEB_REPORTER_BASE


def web_reporter_id(row_id: int) -> int:
    return WEB_REPORTER_BASE + row_id


#: A media row's file id for a web reporter's photo the outbox has not uploaded yet.
WEB_PHOTO = "web:"


# -- the form's signed tokens -------------------------------------------------------------------

#: A form filled faster than this is a bot's (a person needs longer to read it).
MIN_FILL_S = 4.0
#: A form older than this is stale (reload the page).
MAX_FORM_AGE_S = 6 * 3600.0


class FormCheck(StrEnum):
    OK = "ok"
    BAD = "bad"  # missing, forged, or of another browser (CSRF)
    TOO_FAST = "too_fast"
    STALE = "stale"


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def form_token(key: bytes, browser: str, issued_at: float) -> str:
    """The hidden field of a form: when it was served, bound to the browser's cookie."""
    issued = f"{issued_at:.0f}"
    return f"{issued}.{_mac(key, 'form', browser, issued)}"


def check_form_token(
    key: bytes,
    browser: str | None,
    token: str | None,
    now: float,
    *,
    min_fill_s: float = MIN_FILL_S,
) -> FormCheck:
    """CSRF (the token must match this browser's cookie) and the minimum fill time."""
    if not browser or not token or "." not in token:
        return FormCheck.BAD
    issued, mac = token.split(".", 1)
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(key, "form", browser, issued)):
        return FormCheck.BAD
    age = now - int(issued)
    if age > MAX_FORM_AGE_S or age < -60:
        return FormCheck.STALE
    if age < min_fill_s:
        return FormCheck.TOO_FAST
    return FormCheck.OK


def action_token(key: bytes, browser: str, purpose: str) -> str:
    """The CSRF token of a small form (the status page's secret, answer, addition)."""
    return _mac(key, "action", browser, purpose)


def check_action_token(key: bytes, browser: str | None, purpose: str, token: str | None) -> bool:
    if not browser or not token:
        return False
    return hmac.compare_digest(token, action_token(key, browser, purpose))


# -- rate limits (in memory: the client address is never written anywhere) ----------------------


class RateLimit:
    """At most ``per_key`` events per key and ``total`` in all in any ``window_s`` seconds.

    Held in memory only, and a key is dropped once its events are older than the window:
    the client address lives at most an hour in this process and never reaches the
    database, a log or a backup.
    """

    def __init__(self, per_key: int, total: int, window_s: float = 3600.0) -> None:
        self.per_key = per_key
        self.total = total
        self.window_s = window_s
        self._by_key: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _prune(self, now: float) -> None:
        start = now - self.window_s
        while self._all and self._all[0] <= start:
            self._all.popleft()
        for key in [k for k, times in self._by_key.items() if not times or times[-1] <= start]:
            del self._by_key[key]
        for times in self._by_key.values():
            while times and times[0] <= start:
                times.popleft()

    def allow(self, key: str, now: float) -> bool:
        """Count one event for ``key`` if both limits allow it (a refused one is not counted)."""
        self._prune(now)
        mine = self._by_key.get(key)
        if len(self._all) >= self.total or (mine is not None and len(mine) >= self.per_key):
            return False
        self._by_key.setdefault(key, deque()).append(now)
        self._all.append(now)
        return True

    def keys(self) -> int:
        """How many client addresses are held now (tests: they go after the window)."""
        return len(self._by_key)


# -- the status page's lock ------------------------------------------------------------------


def status_locked(wrong_tries: int) -> bool:
    """After as many wrong secrets as a counter claim allows, the status page stays shut."""
    return wrong_tries >= MAX_SECRET_TRIES


def tries_left(wrong_tries: int) -> int:
    return max(0, MAX_SECRET_TRIES - wrong_tries)


# -- reading the posted form -----------------------------------------------------------------

PHONE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
WORDS_MAX = 500
ADDRESS_MAX = 200


def normalise_phone(text: str) -> str | None:
    """A mainland mobile number as 11 digits, or None if it is not one."""
    digits = re.sub(r"[\s\-()]", "", text)
    match = PHONE_RE.match(digits)
    return match.group(1) if match else None


def phone_key(key: bytes, phone: str) -> str:
    """What identifies a phone number among web reporters (the number itself is kept only
    where a payout needs it: the users row, purged with the reporter's tips)."""
    return _mac(key, "phone", phone)


class Problem(StrEnum):
    """What a posted form lacks (each shown next to its field, in the reporter's language)."""

    PLACE = "place"  # no position and no address
    SEEN = "seen"
    PEOPLE = "people"
    SPOT = "spot"  # "other" without words, or too long
    PHONE = "phone"  # given, but not a mobile number
    WORDS = "words"  # too long
    PHOTO = "photo"  # not an image, or too large


@dataclass(frozen=True)
class WebForm:
    """A posted report form, read and checked (see :func:`read_form`)."""

    lat: float | None
    lon: float | None
    address: str  # typed (may be empty when a position was given)
    spot: Spot | None
    spot_text: str
    seen: Seen | None
    people: People | None
    flags: frozenset[Flag]
    words: str
    phone: str | None  # normalised
    phone_given: bool

    def problems(self) -> list[Problem]:
        found = []
        if (self.lat is None or self.lon is None) and len(self.address) < 2:
            found.append(Problem.PLACE)
        if self.seen is None:
            found.append(Problem.SEEN)
        if self.people is None:
            found.append(Problem.PEOPLE)
        if self.spot is Spot.OTHER and not self.spot_text:
            found.append(Problem.SPOT)
        if len(self.spot_text) > SPOT_MAX_CHARS:
            found.append(Problem.SPOT)
        if self.phone_given and self.phone is None:
            found.append(Problem.PHONE)
        if len(self.words) > WORDS_MAX:
            found.append(Problem.WORDS)
        return found


def _enum(kind: type, value: str | None):  # type: ignore[no-untyped-def]
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _coordinate(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and number == number else None  # not NaN


def _clean(text: str | None) -> str:
    return "".join(ch for ch in " ".join((text or "").split()) if ch.isprintable())


def read_form(fields: Mapping[str, str], flags: list[str]) -> WebForm:
    """The posted fields as a :class:`WebForm` (nothing here trusts the browser)."""
    phone_text = _clean(fields.get("phone"))
    return WebForm(
        lat=_coordinate(fields.get("lat")),
        lon=_coordinate(fields.get("lon")),
        address=_clean(fields.get("address"))[:ADDRESS_MAX],
        spot=_enum(Spot, fields.get("spot")),
        spot_text=_clean(fields.get("spot_text")),
        seen=_enum(Seen, fields.get("seen")),
        people=_enum(People, fields.get("people")),
        flags=frozenset(f for f in (_enum(Flag, v) for v in flags) if f is not None),
        words=_clean(fields.get("words")),
        phone=normalise_phone(phone_text) if phone_text else None,
        phone_given=bool(phone_text),
    )
