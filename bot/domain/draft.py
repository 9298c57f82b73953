"""The reporter's report in progress, as a state machine. Pure.

The draft lives in the database (not in memory), so a restart never loses a half-written
report and any message at any step can be answered with the right prompt.

Every input — a message or a button press — is an *event*. ``draft.apply(event)`` is the next
draft, or a :class:`Refusal` saying why the step does not take it; which step takes which
kind of event is one table, :data:`TAKES`. What needs I/O stays outside: the service checks
where a pin is (the service area) and looks a typed address up, the handler makes a clean copy
of an image sent as a file; their results ride on the event (:attr:`Pin.where`,
:attr:`Address.found`, the clean copy's :class:`Photo`). :meth:`Draft.admit` says, before that
I/O, whether the step takes the event at all.

```
LOCATION ─pin──────────────────────────────▶ SPOT ─send now─▶ REVIEW (submitted at once)
   │  ▲                                        ▲  │ (spot choice, typed spot, urgent flags)
   │  └──────────── none of these ───┐         │  ├─ other ─▶ SPOT_TEXT ─typed / back─▶ SPOT
   └─ address found ─▶ CONFIRM_PLACE ┴─ choose ┘  └─ more details / skip ─▶ SEEN
                                   (CONFIRM_PLACE takes a pin, another address)

SEEN ─seen─▶ PEOPLE ─people─▶ FLAGS ─done─▶ DESCRIPTION ─words / skip─▶ PHOTO ─photo / skip─▶
                              (toggle)          └──── photo (its caption is the words) ────▶
REVIEW ─submit─▶ (a tip)

AMEND: after submitting, additions to that tip (words, a photo, a flag) until "done"; each
one is taken into the draft as the pending addition, which the service applies to the tip.
A pin there starts a new report (at SPOT).
```

"SPOT" is the message after the place: the exact spot's quick choices, the two urgent flags
and "send now" (just now, one person) — a location and one tap make a tip — beside the full
path ("more details", which is also the skip of the spot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar

from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen


class Step(StrEnum):
    LOCATION = "location"  # waiting for a pin, a venue or a typed address
    CONFIRM_PLACE = "confirm_place"  # a typed address was geocoded: is this the place?
    SPOT = "spot"  # the exact spot, urgent flags, "send now" or "more details"
    SPOT_TEXT = "spot_text"  # "other": the spot typed
    SEEN = "seen"
    PEOPLE = "people"
    FLAGS = "flags"
    DESCRIPTION = "description"
    PHOTO = "photo"
    REVIEW = "review"
    AMEND = "amend"  # after submitting: additions to the tip (``Draft.amend_of``)


ORDER: tuple[Step, ...] = (
    Step.LOCATION,
    Step.CONFIRM_PLACE,
    Step.SPOT,
    Step.SPOT_TEXT,
    Step.SEEN,
    Step.PEOPLE,
    Step.FLAGS,
    Step.DESCRIPTION,
    Step.PHOTO,
    Step.REVIEW,
    Step.AMEND,
)


class Source(StrEnum):
    REPORTER = "reporter"  # a member of the public in a private chat
    HOTLINE = "hotline"  # a duty officer logging a phoned-in tip
    WEB = "web"  # a member of the public on the web report form (no Telegram chat)


# -- limits -------------------------------------------------------------------------------------

ADDRESS_MIN = 2  # characters of a typed address (stripped); one character is no address
PLACE_MAX = 200  # characters of a typed address, a venue's title or address kept
CANDIDATES_MAX = 3  # geocoder results offered to choose from


@dataclass(frozen=True)
class Limits:
    """The station's limits on what a report keeps (``[reporting]`` in the config)."""

    description_max: int = 500


DEFAULT_LIMITS = Limits()


def clip_description(text: str, limit: int) -> tuple[str, bool]:
    """Normalise and bound free text; returns (text, was_cut)."""
    cleaned = " ".join(text.split())
    # Drop control characters other than ordinary whitespace (already folded above).
    cleaned = "".join(ch for ch in cleaned if ch.isprintable())
    if len(cleaned) <= limit:
        return cleaned, False
    return cleaned[: limit - 1] + "…", True


def clean_spot(text: str) -> str | None:
    """A typed spot, normalised; None: empty or longer than :data:`SPOT_MAX_CHARS`."""
    cleaned = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
    return cleaned if 0 < len(cleaned) <= SPOT_MAX_CHARS else None


def bounded_place(text: str | None) -> str | None:
    """A venue's title or address as the sender's client made it, bounded like a typed
    address (or the card could exceed Telegram's limit and never reach the patrol)."""
    return " ".join(text.split())[:PLACE_MAX] or None if text else None


# -- events -------------------------------------------------------------------------------------


class Kind(StrEnum):
    """What kind of input an event is: the rows of :data:`TAKES`."""

    # Messages.
    PIN = "pin"  # a location or a venue
    ADDRESS = "address"  # typed text while the place is asked
    WORDS = "words"  # typed text at any other step
    SPOT_WORDS = "spot_words"  # typed text while the exact spot is asked
    PHOTO = "photo"  # a photo, or the clean copy of an image sent as a file
    OTHER = "other"  # anything else (a sticker, a voice note, a PDF, a contact…)
    # Buttons.
    PLACE = "place"  # one of the geocoder's places, or "none of these"
    SEEN = "seen"
    PEOPLE = "people"
    FLAG = "flag"
    FLAGS_DONE = "flags_done"
    SKIP_WORDS = "skip_words"
    SKIP_PHOTO = "skip_photo"
    SUBMIT = "submit"
    SPOT = "spot"  # one of the spot's quick choices ("other": type it)
    SPOT_BACK = "spot_back"  # from typing the spot back to the choices
    SPOT_DONE = "spot_done"  # "more details" (the full path; also the spot's skip)
    SEND_NOW = "send_now"  # "send now": just now, one person — submitted at once
    AMEND_DONE = "amend_done"  # no more additions to the submitted tip


BUTTONS = frozenset(
    {
        Kind.PLACE,
        Kind.SPOT,
        Kind.SPOT_BACK,
        Kind.SPOT_DONE,
        Kind.SEND_NOW,
        Kind.AMEND_DONE,
        Kind.SEEN,
        Kind.PEOPLE,
        Kind.FLAG,
        Kind.FLAGS_DONE,
        Kind.SKIP_WORDS,
        Kind.SKIP_PHOTO,
        Kind.SUBMIT,
    }
)

#: What each step takes. Anything else is refused (see :meth:`Draft.admit`).
TAKES: Mapping[Step, frozenset[Kind]] = {
    Step.LOCATION: frozenset({Kind.PIN, Kind.ADDRESS}),
    Step.CONFIRM_PLACE: frozenset({Kind.PIN, Kind.ADDRESS, Kind.PLACE}),
    Step.SPOT: frozenset(
        {Kind.SPOT, Kind.SPOT_WORDS, Kind.FLAG, Kind.SPOT_DONE, Kind.SEND_NOW}
    ),
    Step.SPOT_TEXT: frozenset({Kind.SPOT_WORDS, Kind.SPOT_BACK}),
    Step.SEEN: frozenset({Kind.SEEN}),
    Step.PEOPLE: frozenset({Kind.PEOPLE}),
    Step.FLAGS: frozenset({Kind.FLAG, Kind.FLAGS_DONE}),
    Step.DESCRIPTION: frozenset({Kind.WORDS, Kind.SKIP_WORDS, Kind.PHOTO}),
    Step.PHOTO: frozenset({Kind.PHOTO, Kind.SKIP_PHOTO}),
    Step.REVIEW: frozenset({Kind.SUBMIT}),
    Step.AMEND: frozenset({Kind.PIN, Kind.WORDS, Kind.PHOTO, Kind.FLAG, Kind.AMEND_DONE}),
}


class Where(StrEnum):
    """Where a pin is (the service's service-area check)."""

    INSIDE = "inside"
    OUTSIDE = "outside"  # outside the service area: nothing is stored
    INVALID = "invalid"  # not a real coordinate


Candidate = tuple[float, float, str]  # a geocoder's place: (lat, lon, label)


@dataclass(frozen=True)
class Typed:
    """Text the reporter typed: an :class:`Address` or :class:`Words`, by step (:func:`read`)."""

    text: str


@dataclass(frozen=True)
class Pin:
    lat: float
    lon: float
    label: str | None = None  # a venue's title
    address: str | None = None  # a venue's address
    where: Where | None = None  # set by the service before the pin is applied
    kind: ClassVar[Kind] = Kind.PIN


@dataclass(frozen=True)
class Address:
    text: str
    #: The geocoder's places inside the area, best first; None: not looked up yet (the step
    #: takes it, and changes nothing until it is).
    found: tuple[Candidate, ...] | None = None
    kind: ClassVar[Kind] = Kind.ADDRESS


@dataclass(frozen=True)
class Words:
    text: str
    kind: ClassVar[Kind] = Kind.WORDS


@dataclass(frozen=True)
class SpotWords:
    """The exact spot, typed (at most :data:`SPOT_MAX_CHARS`)."""

    text: str
    kind: ClassVar[Kind] = Kind.SPOT_WORDS


@dataclass(frozen=True)
class Photo:
    file_id: str
    unique_id: str | None = None
    caption: str | None = None  # at the description step: the words
    kind: ClassVar[Kind] = Kind.PHOTO


@dataclass(frozen=True)
class ImageFile:
    """An image sent as a file: taken like a photo, once the handler has made its clean copy
    (applied as that copy's :class:`Photo`; this itself changes nothing)."""

    kind: ClassVar[Kind] = Kind.PHOTO


@dataclass(frozen=True)
class Other:
    """A message no step takes (a sticker, a voice note, a PDF, a contact…)."""

    kind: ClassVar[Kind] = Kind.OTHER


@dataclass(frozen=True)
class Choose:
    index: int  # of the draft's candidates
    kind: ClassVar[Kind] = Kind.PLACE


@dataclass(frozen=True)
class NoneOfThese:
    kind: ClassVar[Kind] = Kind.PLACE


@dataclass(frozen=True)
class SetSeen:
    seen: Seen
    kind: ClassVar[Kind] = Kind.SEEN


@dataclass(frozen=True)
class SetPeople:
    people: People
    kind: ClassVar[Kind] = Kind.PEOPLE


@dataclass(frozen=True)
class ToggleFlag:
    flag: Flag
    kind: ClassVar[Kind] = Kind.FLAG


@dataclass(frozen=True)
class FlagsDone:
    kind: ClassVar[Kind] = Kind.FLAGS_DONE


@dataclass(frozen=True)
class SkipWords:
    kind: ClassVar[Kind] = Kind.SKIP_WORDS


@dataclass(frozen=True)
class SkipPhoto:
    kind: ClassVar[Kind] = Kind.SKIP_PHOTO


@dataclass(frozen=True)
class Submit:
    kind: ClassVar[Kind] = Kind.SUBMIT


@dataclass(frozen=True)
class ChooseSpot:
    spot: Spot
    kind: ClassVar[Kind] = Kind.SPOT


@dataclass(frozen=True)
class SpotBack:
    kind: ClassVar[Kind] = Kind.SPOT_BACK


@dataclass(frozen=True)
class SpotDone:
    kind: ClassVar[Kind] = Kind.SPOT_DONE


@dataclass(frozen=True)
class SendNow:
    kind: ClassVar[Kind] = Kind.SEND_NOW


@dataclass(frozen=True)
class AmendDone:
    kind: ClassVar[Kind] = Kind.AMEND_DONE


Event = (
    Pin
    | Address
    | Words
    | SpotWords
    | Photo
    | ImageFile
    | Other
    | Choose
    | NoneOfThese
    | SetSeen
    | SetPeople
    | ToggleFlag
    | FlagsDone
    | SkipWords
    | SkipPhoto
    | Submit
    | ChooseSpot
    | SpotBack
    | SpotDone
    | SendNow
    | AmendDone
)


class Refusal(StrEnum):
    """Why an event changed nothing."""

    WRONG_KIND = "wrong_kind"  # a message this step does not take (its prompt says what does)
    PLACED = "placed"  # a pin once the place is settled
    STALE = "stale"  # a button of another step, or of an older report
    OUTSIDE = "outside"  # a pin outside the service area: nothing is stored
    INVALID = "invalid"  # not a real coordinate
    ADDRESS_BAD = "address_bad"  # too short or too long to be an address
    NOT_FOUND = "not_found"  # the address matches no place inside the area
    NO_SUCH_PLACE = "no_such_place"  # a place the draft does not offer
    INCOMPLETE = "incomplete"  # submit without what a tip needs
    SPOT_BAD = "spot_bad"  # a typed spot that is empty or too long
    # With no report in progress:
    NO_REPORT = "no_report"  # a message a report cannot start from
    STAFF = "staff"  # staff start a report only on purpose (/report, /newtip)


def read(step: Step, event: Event | Typed) -> Event:
    """What typed text is at ``step``: the place while it is asked, the spot while that is,
    else words."""
    if isinstance(event, Typed):
        if step in (Step.LOCATION, Step.CONFIRM_PLACE):
            return Address(event.text)
        if step in (Step.SPOT, Step.SPOT_TEXT):
            return SpotWords(event.text)
        return Words(event.text)
    return event


def open_report(user_id: int, event: Event | Typed, *, staff: bool) -> Draft | Refusal:
    """A new report for an event that came with none in progress: a message the first step
    takes (a pin, typed text) starts one — unless it came from staff, who start a report
    only on purpose (a "200" typed once too often is no address). A button is stale."""
    kind = read(Step.LOCATION, event).kind
    if kind in BUTTONS:
        return Refusal.STALE
    if staff:
        return Refusal.STAFF
    if kind not in TAKES[Step.LOCATION]:
        return Refusal.NO_REPORT
    return Draft(user_id=user_id)


# -- the draft ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    user_id: int
    source: Source = Source.REPORTER
    step: Step = Step.LOCATION
    lat: float | None = None
    lon: float | None = None
    address: str | None = None  # typed address / venue title, as the reporter gave it
    place_label: str | None = None  # what the geocoder or venue called the place
    candidates: tuple[Candidate, ...] = ()  # geocoder results to choose from
    seen: Seen | None = None
    people: People | None = None
    flags: frozenset[Flag] = field(default_factory=frozenset)
    description: str | None = None
    photo_file_id: str | None = None
    photo_unique_id: str | None = None
    spot: Spot | None = None  # the exact spot's quick choice (OTHER: only typed)
    spot_text: str | None = None  # the exact spot as typed
    #: AMEND: the tip the additions go to (words, photo, flags: the one addition pending).
    amend_of: int | None = None
    #: The 📍 keyboard's removal failed to send: the receipt carries it (and the offer apart).
    keyboard_left: bool = False

    @staticmethod
    def after(step: Step) -> Step:
        """The step that follows ``step`` in the full path."""
        if step in (Step.REVIEW, Step.AMEND):
            return step
        if step in (Step.LOCATION, Step.CONFIRM_PLACE):
            return Step.SPOT
        if step in (Step.SPOT, Step.SPOT_TEXT):
            return Step.SEEN
        return ORDER[ORDER.index(step) + 1]

    def ready(self) -> bool:
        """Has everything a tip needs (photo and description are optional)."""
        return (
            self.lat is not None
            and self.lon is not None
            and self.seen is not None
            and self.people is not None
        )

    def read(self, event: Event | Typed) -> Event:
        return read(self.step, event)

    def admit(self, event: Event | Typed) -> Refusal | None:
        """Whether the current step takes ``event``, judged on what is known before any I/O
        it needs (the lookup of an address, the clean copy of an image): None if it does."""
        event = self.read(event)
        if event.kind not in TAKES[self.step]:
            if event.kind in BUTTONS:
                return Refusal.STALE
            # Only the place steps take a pin, and they come first.
            return Refusal.PLACED if event.kind is Kind.PIN else Refusal.WRONG_KIND
        if isinstance(event, Address):
            if not ADDRESS_MIN <= len(event.text.strip()) <= PLACE_MAX:
                return Refusal.ADDRESS_BAD
        if isinstance(event, SpotWords) and clean_spot(event.text) is None:
            return Refusal.SPOT_BAD
        return None

    def apply(self, event: Event | Typed, limits: Limits = DEFAULT_LIMITS) -> Draft | Refusal:
        """The draft after ``event``, or why it stays as it is. Returns the draft itself (the
        same object) when the event is taken but changes nothing: an address not looked up
        yet, an image file before its clean copy, a submit, the end of the additions."""
        event = self.read(event)
        refusal = self.admit(event)
        if refusal is not None:
            return refusal
        match event:
            case Pin():
                if event.where is None:
                    raise ValueError("a pin is applied once the service knows where it is")
                if event.where is Where.OUTSIDE:
                    return Refusal.OUTSIDE
                if event.where is Where.INVALID:
                    return Refusal.INVALID
                label, address = bounded_place(event.label), bounded_place(event.address)
                # While adding to a submitted tip, a pin is a new report.
                base = Draft(self.user_id, self.source) if self.step is Step.AMEND else self
                return base.with_location(event.lat, event.lon, label, address)
            case Address(found=None) | ImageFile() | AmendDone():
                return self  # taken: the lookup / the clean copy comes as its own event
            case Submit():
                return self if self.ready() else Refusal.INCOMPLETE
            case Address(found=found):
                if not found:
                    return Refusal.NOT_FOUND
                return replace(
                    self,
                    step=Step.CONFIRM_PLACE,
                    address=event.text.strip()[:PLACE_MAX],
                    candidates=tuple(found[:CANDIDATES_MAX]),
                )
            case Choose(index=index):
                if not 0 <= index < len(self.candidates):
                    return Refusal.NO_SUCH_PLACE
                lat, lon, label = self.candidates[index]
                return self.with_location(lat, lon, label, self.address)
            case NoneOfThese():
                return replace(self, step=Step.LOCATION, candidates=())
            case ChooseSpot(spot=Spot.OTHER):
                return replace(self, step=Step.SPOT_TEXT)
            case ChooseSpot(spot=spot):
                return replace(self, spot=spot)
            case SpotWords(text=text):
                # Typed with a choice made, the words say where at that spot; alone: "other".
                spot = self.spot if self.spot not in (None, Spot.OTHER) else Spot.OTHER
                return replace(self, spot=spot, spot_text=clean_spot(text), step=Step.SPOT)
            case SpotBack():
                return replace(self, step=Step.SPOT)
            case SpotDone():
                return replace(self, step=Draft.after(Step.SPOT))
            case SendNow():
                return replace(
                    self,
                    seen=self.seen or Seen.NOW,
                    people=self.people or People.ONE,
                    step=Step.REVIEW,
                )
            case ToggleFlag(flag=flag) if self.step is Step.AMEND:
                return replace(self, flags=frozenset({flag}))  # an addition: never taken off
            case Words(text=text) if self.step is Step.AMEND:
                return replace(self, description=_words(text, limits))
            case Photo() if self.step is Step.AMEND:
                return replace(
                    self,
                    description=_words(event.caption, limits),
                    photo_file_id=event.file_id,
                    photo_unique_id=event.unique_id,
                )
            case SetSeen(seen=seen):
                return replace(self, seen=seen, step=Draft.after(Step.SEEN))
            case SetPeople(people=people):
                return replace(self, people=people, step=Draft.after(Step.PEOPLE))
            case ToggleFlag(flag=flag):
                return self.toggle_flag(flag)
            case FlagsDone():
                return replace(self, step=Draft.after(Step.FLAGS))
            case Words(text=text):
                return replace(
                    self, description=_words(text, limits), step=Draft.after(Step.DESCRIPTION)
                )
            case SkipWords():
                return replace(self, description=None, step=Draft.after(Step.DESCRIPTION))
            case Photo():
                description = self.description
                if self.step is Step.DESCRIPTION:
                    # A photo instead of words: its caption is the description.
                    description = _words(event.caption, limits)
                return replace(
                    self,
                    description=description,
                    photo_file_id=event.file_id,
                    photo_unique_id=event.unique_id,
                    step=Step.REVIEW,
                )
            case SkipPhoto():
                return replace(self, photo_file_id=None, photo_unique_id=None, step=Step.REVIEW)
        raise TypeError(f"not an event of the report: {event!r}")

    def with_location(
        self, lat: float, lon: float, label: str | None, address: str | None
    ) -> Draft:
        """The draft with its place settled (the next question: the exact spot)."""
        return replace(
            self,
            lat=lat,
            lon=lon,
            place_label=label,
            address=address,
            candidates=(),
            step=Step.SPOT,
        )

    def pending_addition(self) -> bool:
        """AMEND: whether an addition waits to be applied to the tip."""
        return bool(self.description or self.photo_file_id or self.flags)

    def amending(self, tip_id: int) -> Draft:
        """The additions to a submitted tip (no report in progress any more)."""
        return Draft(user_id=self.user_id, source=self.source, step=Step.AMEND, amend_of=tip_id)

    def toggle_flag(self, flag: Flag) -> Draft:
        return replace(self, flags=self.flags ^ {flag})


def _words(text: str | None, limits: Limits) -> str | None:
    return clip_description(text, limits.description_max)[0] or None if text else None


def was_cut(event: Event, limits: Limits) -> bool:
    """Whether typed words are longer than a description may be (the reporter is told)."""
    return isinstance(event, Words) and clip_description(event.text, limits.description_max)[1]
