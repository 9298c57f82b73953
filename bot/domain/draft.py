"""The reporter's report-in-progress: its steps and what each one needs. Pure.

The draft lives in the database (not in memory), so a restart never loses a half-written
report and any message at any step can be answered with the right prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

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


@dataclass(frozen=True)
class Draft:
    user_id: int
    source: Source = Source.REPORTER
    step: Step = Step.LOCATION
    lat: float | None = None
    lon: float | None = None
    address: str | None = None  # typed address / venue title, as the reporter gave it
    place_label: str | None = None  # what the geocoder or venue called the place
    candidates: tuple[tuple[float, float, str], ...] = ()  # geocoder results to choose from
    seen: Seen | None = None
    people: People | None = None
    flags: frozenset[Flag] = field(default_factory=frozenset)
    description: str | None = None
    photo_file_id: str | None = None
    photo_unique_id: str | None = None

    def with_location(
        self, lat: float, lon: float, label: str | None, address: str | None
    ) -> Draft:
        return replace(
            self,
            lat=lat,
            lon=lon,
            place_label=label,
            address=address,
            candidates=(),
            step=Step.SEEN,
        )

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

    def toggle_flag(self, flag: Flag) -> Draft:
        flags = set(self.flags)
        flags ^= {flag}
        return replace(self, flags=frozenset(flags))


def clip_description(text: str, limit: int) -> tuple[str, bool]:
    """Normalise and bound free text; returns (text, was_cut)."""
    cleaned = " ".join(text.split())
    # Drop control characters other than ordinary whitespace (already folded above).
    cleaned = "".join(ch for ch in cleaned if ch.isprintable())
    if len(cleaned) <= limit:
        return cleaned, False
    return cleaned[: limit - 1] + "…", True
