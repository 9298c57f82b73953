"""The patrol log's rules: what /patrol_start and /patrol_end take. Pure."""

from __future__ import annotations

#: What a patrol hands out, in the order /patrol_end takes the counts.
PATROL_SUPPLIES = ("coat", "quilt", "food")
#: Characters of a patrol's area kept (and echoed back: never a reply Telegram would refuse).
AREA_MAX = 40


def clean_area(text: str | None) -> str | None:
    """``/patrol_start AREA``'s area as stored and shown: white space folded, bounded."""
    return " ".join((text or "").split())[:AREA_MAX] or None


def parse_counts(args: list[str]) -> tuple[int, dict[str, int]] | None:
    """``/patrol_end PEOPLE [COATS] [QUILTS] [FOOD]`` → (people met, supplies); else None."""
    if not 1 <= len(args) <= 1 + len(PATROL_SUPPLIES):
        return None
    numbers = []
    for arg in args:
        if not arg.isascii() or not arg.isdigit() or len(arg) > 4:
            return None
        numbers.append(int(arg))
    people, *given = numbers
    return people, {item: n for item, n in zip(PATROL_SUPPLIES, given, strict=False) if n}
