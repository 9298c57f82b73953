"""What of a reporter's own words may be shown where the reporter must stay anonymous.

A reporter (or a hotline caller, through the officer who types the call in) may put their own
number into a description, an address or an answer to a patrol's question. Those words reach
the on-duty group, and a reporter's phone never may: every phone number in them is masked
there. Exports mask it too (:mod:`bot.domain.open311`).
"""

from __future__ import annotations

import re

#: Chinese mobile numbers (+86 optional, spaces or dashes between digits) and landlines with
#: their area code (0714-6221234).
PHONE = re.compile(
    r"(?<![\d+])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"
    r"|(?<![\d+])(?:\+86[\s-]?)?\(?0\d{2,3}\)?[\s-]?\d{7,8}(?!\d)"
)


def mask_phones(text: str, mark: str) -> str:
    """``text`` with each phone number in it replaced by ``mark``."""
    return PHONE.sub(mark, text)
