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
LOCATION ─pin──────────────────────────────▶ SEEN ─seen─▶ PEOPLE ─people─▶ FLAGS ─done─▶ …
   │  ▲                                        ▲                         (toggle)
   │  └──────────── none of these ───┐         │
   └─ address found ─▶ CONFIRM_PLACE ┴─ choose ┘  (CONFIRM_PLACE takes a pin, another address)

… DESCRIPTION ─words / skip─▶ PHOTO ─photo / skip─▶ REVIEW ─submit─▶ (a tip)
        └──────── photo (its caption is the words) ──────▶ REVIEW
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar

from bot.domain.tips import Flag, People, Seen


class Step(StrEnum):
    LOCATION = "location"  # waiting for a pin, a venue or a typed address
    CONFIRM_PLACE = "confirm_place"  # a typed address was geocoded: is this the place?
    SEEN = "seen"
    PEOPLE = "people"
    FLAGS = "flags"
    DESCRIPTION = "description"
    PHOTO = "photo"
    REVIEW = "review"


ORDER: tuple[Step, ...] = (
    Step.LOCATION,
    Step.CONFIRM_PLACE,
    Step.SEEN,
    Step.PEOPLE,
    Step.FLAGS,
    Step.DESCRIPTION,
    Step.PHOTO,
    Step.REVIEW,
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


BUTTONS = frozenset(
    {
        Kind.PLACE,
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
    Step.SEEN: frozenset({Kind.SEEN}),
    Step.PEOPLE: frozenset({Kind.PEOPLE}),
    Step.FLAGS: frozenset({Kind.FLAG, Kind.FLAGS_DONE}),
    Step.DESCRIPTION: frozenset({Kind.WORDS, Kind.SKIP_WORDS, Kind.PHOTO}),
    Step.PHOTO: frozenset({Kind.PHOTO, Kind.SKIP_PHOTO}),
    Step.REVIEW: frozenset({Kind.SUBMIT}),
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


Event = (
    Pin
    | Address
    | Words
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
    # With no report in progress:
    NO_REPORT = "no_report"  # a message a report cannot start from
    STAFF = "staff"  # staff start a report only on purpose (/report, /newtip)


def read(step: Step, event: Event | Typed) -> Event:
    """What typed text is at ``step``: the place while it is asked, else words."""
    if isinstance(event, Typed):
        if step in (Step.LOCATION, Step.CONFIRM_PLACE):
            return Address(event.text)
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

    @staticmethod
    def after(step: Step) -> Step:
        """The step that follows ``step`` (a typed address is confirmed before SEEN)."""
        if step is Step.REVIEW:
            return Step.REVIEW
        nxt = ORDER[ORDER.index(step) + 1]
        return Step.SEEN if nxt is Step.CONFIRM_PLACE else nxt

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
        return None

    def apply(self, event: Event | Typed, limits: Limits = DEFAULT_LIMITS) -> Draft | Refusal:
        """The draft after ``event``, or why it stays as it is. Returns the draft itself (the
        same object) when the event is taken but changes nothing: an address not looked up
        yet, an image file before its clean copy, a submit."""
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
                return self.with_location(event.lat, event.lon, label, address)
            case Address(found=None) | ImageFile():
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
        """The draft with its place settled (the next question: when)."""
        return replace(
            self,
            lat=lat,
            lon=lon,
            place_label=label,
            address=address,
            candidates=(),
            step=Step.SEEN,
        )

    def toggle_flag(self, flag: Flag) -> Draft:
        return replace(self, flags=self.flags ^ {flag})


def _words(text: str | None, limits: Limits) -> str | None:
    return clip_description(text, limits.description_max)[0] or None if text else None


def was_cut(event: Event, limits: Limits) -> bool:
    """Whether typed words are longer than a description may be (the reporter is told)."""
    return isinstance(event, Words) and clip_description(event.text, limits.description_max)[1]
