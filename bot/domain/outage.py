"""When the bot was down, and whether the duty officers are told (pure rules, issue 12).

"Down" is either of two things, both seen from the bot's side: the Bot API could not be
reached while the bot ran, or the bot was not running at all (the gap after its last
heartbeat). An outage is told once it is over and only if it lasted at least the threshold;
a short blip is not worth a message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Cause(StrEnum):
    API = "api"  # the Bot API unreachable from the running bot
    STOPPED = "stopped"  # the bot process not running


@dataclass(frozen=True)
class Outage:
    start: dt.datetime
    end: dt.datetime
    cause: Cause

    @property
    def minutes(self) -> int:
        return max(0, round((self.end - self.start).total_seconds() / 60))

    def long_enough(self, threshold: dt.timedelta) -> bool:
        return self.end - self.start >= threshold

    def joined(self, later: Outage) -> Outage:
        """This outage and a later one told together (one message for one bad night)."""
        return Outage(min(self.start, later.start), max(self.end, later.end), self.cause)


def at_start(
    now: dt.datetime,
    heartbeat: dt.datetime | None,
    api_down_since: dt.datetime | None,
    threshold: dt.timedelta,
) -> Outage | None:
    """What the bot finds when it starts: an outage to tell, or None.

    ``heartbeat``: until when the previous run was alive (None: the first start ever — not an
    outage). ``api_down_since``: an outage of the Bot API the previous run saw begin and never
    told (it was stopped or died before the API came back).
    """
    if api_down_since is not None:
        outage = Outage(api_down_since, now, Cause.API)
    elif heartbeat is not None:
        outage = Outage(heartbeat, now, Cause.STOPPED)
    else:
        return None
    return outage if outage.long_enough(threshold) else None


def span(outage: Outage, tz: dt.tzinfo) -> tuple[str, str]:
    """The outage's start and end as the station reads them: "02:10"–"02:40", with the
    date ("12-01 23:50") when it did not start today."""
    start, end = outage.start.astimezone(tz), outage.end.astimezone(tz)
    if start.date() == end.date():
        return f"{start:%H:%M}", f"{end:%H:%M}"
    return f"{start:%m-%d %H:%M}", f"{end:%m-%d %H:%M}"
