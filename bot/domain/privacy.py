"""What of a reporter's own words may be shown where the reporter must stay anonymous.

A reporter (or a hotline caller, through the officer who types the call in) may put their own
name or number into a description, an address or an answer to a patrol's question. Those
words reach the on-duty group, and a reporter's identity and phone never may: every phone
number in them is masked there, and the reporter's own name and username wherever they
appear. Exports mask them too (:mod:`bot.domain.open311`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Chinese mobile numbers (+86 optional, spaces or dashes between digits) and landlines with
#: their area code (0714-6221234).
PHONE = re.compile(
    r"(?<![\d+])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"
    r"|(?<![\d+])(?:\+86[\s-]?)?\(?0\d{2,3}\)?[\s-]?\d{7,8}(?!\d)"
)


def mask_phones(text: str, mark: str) -> str:
    """``text`` with each phone number in it replaced by ``mark``."""
    return PHONE.sub(mark, text)


#: A known name shorter than this is not searched for (one character would cut words apart).
MIN_KNOWN = 2


def mask_known(text: str, known: Iterable[str | None], mark: str) -> str:
    """``text`` with each of ``known`` (a name, a username with or without its @, a phone as
    stored) replaced by ``mark`` wherever it appears, ignoring case; longest first."""
    values = {k.strip().lstrip("@") for k in known if k}
    for value in sorted((v for v in values if len(v) >= MIN_KNOWN), key=len, reverse=True):
        text = re.sub(re.escape(value), lambda _: mark, text, flags=re.IGNORECASE)
    return text


def known_parts(text: str, known: Iterable[str | None]) -> tuple[str | None, ...]:
    """``text`` cut where any of ``known`` appears (as :func:`mask_known` finds them): the
    words in order, ``None`` where a known value stood. What a message keeps of a reporter's
    words until it is rendered, so that their identity is never stored beside them."""
    values = sorted(
        {v for v in (k.strip().lstrip("@") for k in known if k) if len(v) >= MIN_KNOWN},
        key=len,
        reverse=True,
    )
    if not values:
        return (text,)
    pattern = re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)
    parts: list[str | None] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            parts.append(text[at : match.start()])
        parts.append(None)
        at = match.end()
    if at < len(text) or not parts:
        parts.append(text[at:])
    return tuple(parts)
