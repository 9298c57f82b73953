"""What a reporter added to a tip after submitting it, as the card shows it. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.tips import Flag


@dataclass(frozen=True)
class Amendment:
    """One addition to a tip ("补充"): words (None: none, or purged), a photo, new flags."""

    at: dt.datetime  # UTC
    words: str | None
    photo: bool
    flags: frozenset[Flag]
