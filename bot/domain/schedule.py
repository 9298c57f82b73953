"""When things are due: reminders, patrol-log checks, escalations, summary figures. Pure.

Every function takes the current time as an argument (station-local, timezone-aware), so the
rules are tested on a controllable clock and the scheduler can be rebuilt from the database
after a restart: what is *due* follows from the time and from what is recorded as done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.tips import MISSED_OUTCOMES, Outcome, State, Tip, is_verified


def parse_hhmm(text: str) -> dt.time:
    hour, minute = (int(part) for part in text.split(":"))
    return dt.time(hour, minute)


def in_window(day: dt.date, start: dt.date, end: dt.date) -> bool:
    return start <= day <= end


# -- reminder slots -----------------------------------------------------------------------------


def day_slots(
    day: dt.date, times: Iterable[dt.time], tz: dt.tzinfo, cold_interval: int | None = None
) -> list[dt.datetime]:
    """Reminder times of one local day; in cold mode also every ``cold_interval`` minutes."""
    slots = {dt.datetime.combine(day, t, tzinfo=tz) for t in times}
    if cold_interval:
        minute = 0
        while minute < 24 * 60:
            slots.add(dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz))
            minute += cold_interval
    return sorted(slots)


def latest_slot(
    now: dt.datetime,
    times: Iterable[dt.time],
    cold_interval: int | None = None,
    cold_since: dt.datetime | None = None,
) -> dt.datetime | None:
    """The most recent reminder slot at or before ``now`` (today's or yesterday's).

    In cold mode (``cold_interval``) there is also a slot every ``cold_interval`` minutes:
    counted from ``cold_since`` (the minute cold mode was switched on, itself a slot: one
    reminder at once, then every interval from there), or from midnight if it is unknown.
    """
    times = list(times)
    tz = now.tzinfo
    assert tz is not None, "aware local time expected"
    anchored = cold_interval is not None and cold_since is not None
    candidates = [
        slot
        for day in (now.date() - dt.timedelta(days=1), now.date())
        for slot in day_slots(day, times, tz, None if anchored else cold_interval)
        if slot <= now
    ]
    if anchored:
        assert cold_interval is not None and cold_since is not None
        since = cold_since.astimezone(tz).replace(second=0, microsecond=0)
        if since <= now:
            step = dt.timedelta(minutes=cold_interval)
            candidates.append(since + step * ((now - since) // step))
    return max(candidates) if candidates else None


class SlotTiming(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # missed during a short outage: still sent once, and says so
    MISSED = "missed"  # too old: dropped (recorded, not sent)


#: A reminder sent within this long of its slot counts as on time (the ticker's own delay).
ON_TIME_WITHIN = dt.timedelta(minutes=2)


def slot_timing(slot: dt.datetime, now: dt.datetime, misfire_grace_minutes: int) -> SlotTiming:
    late_by = now - slot
    if late_by <= ON_TIME_WITHIN:
        return SlotTiming.ON_TIME
    if late_by <= dt.timedelta(minutes=misfire_grace_minutes):
        return SlotTiming.LATE
    return SlotTiming.MISSED


def reminder_timing(
    slot: dt.datetime, now: dt.datetime, misfire_grace_minutes: int, last_check: dt.datetime | None
) -> SlotTiming:
    """Like :func:`slot_timing`, but "late" only after a real outage.

    ``last_check`` is when the bot last looked for due reminders before ``now`` (None: it
    never has — the first start). A slot not sent on time is made up late only if the bot
    was not running at the slot's time (it last looked before the slot). If it never ran
    before, or was running then and the slot simply was not one yet (cold mode switched on
    later, a reminder time added), nothing was missed: it is not sent late (recorded as
    missed), so no message ever claims an outage that did not happen.
    """
    timing = slot_timing(slot, now, misfire_grace_minutes)
    if timing is SlotTiming.ON_TIME:
        return timing
    if last_check is None or last_check >= slot:
        return SlotTiming.MISSED
    return timing


def slot_key(slot: dt.datetime) -> str:
    """A stable key for a slot (UTC minute), for the schedule log."""
    return slot.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


# -- escalation ---------------------------------------------------------------------------------


class Level(StrEnum):
    REPOST = "escalate_1"  # unclaimed: post the card again, mention the leader
    WIDEN = "escalate_2"  # still unclaimed: alert the other group and the officers
    SCENE = "escalate_scene"  # claimed but not on scene: ask the claimer and leader


@dataclass(frozen=True)
class EscalationRules:
    claim_minutes: int
    urgent_claim_minutes: int
    second_minutes: int
    scene_minutes: int

    def claim_limit(self, tip: Tip) -> int:
        """Minutes an unclaimed tip may wait before it is overdue (shorter when urgent)."""
        return self.urgent_claim_minutes if tip.urgent else self.claim_minutes


def escalations_due(
    tip: Tip, now: dt.datetime, rules: EscalationRules, fired: set[str]
) -> list[Level]:
    """Levels due for this tip now that have not fired yet, in order. Each fires once."""
    due: list[Level] = []
    if tip.state is State.DISPATCHED and tip.dispatched_at is not None:
        waited = now - tip.dispatched_at
        if waited >= dt.timedelta(minutes=rules.claim_limit(tip)) and Level.REPOST not in fired:
            due.append(Level.REPOST)
        if waited >= dt.timedelta(minutes=rules.second_minutes) and Level.WIDEN not in fired:
            due.append(Level.WIDEN)
    elif tip.state in (State.CLAIMED, State.EN_ROUTE) and tip.claimed_at is not None:
        if tip.eta_at is not None:
            return due  # the claimer gave an arrival time: bot/domain/arrival.py watches it
        waited = now - tip.claimed_at
        if waited >= dt.timedelta(minutes=rules.scene_minutes) and Level.SCENE not in fired:
            due.append(Level.SCENE)
    return due


# -- the daily summary --------------------------------------------------------------------------


def patrols_required(
    since: dt.datetime,
    until: dt.datetime,
    times: Iterable[dt.time],
    campaign_start: dt.date,
    campaign_end: dt.date,
) -> int:
    """Patrols required in ``[since, until)`` (aware, station time): one per reminder time
    (``[patrol] reminder_times``) on each campaign day — the slots whose reminder asks the
    on-duty group to go out. Cold mode's extra reminders are not counted as required."""
    tz = since.tzinfo
    assert tz is not None, "aware local time expected"
    times = list(times)
    count = 0
    day = max(since.astimezone(tz).date(), campaign_start)
    last = min((until.astimezone(tz) - dt.timedelta(microseconds=1)).date(), campaign_end)
    while day <= last:
        count += sum(since <= dt.datetime.combine(day, t, tzinfo=tz) < until for t in times)
        day += dt.timedelta(days=1)
    return count


@dataclass(frozen=True)
class Figures:
    received: int = 0
    verified: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    not_found_rate: float | None = None  # share of closed-after-going tips where no one was found
    median_claim_min: float | None = None
    median_scene_min: float | None = None
    brought_in: int = 0
    supplies: dict[str, int] = field(default_factory=dict)
    patrols_logged: int = 0
    patrols_required: int = 0
    rewards_pending: int = 0  # the state now (not of the period)
    rewards_paid: int = 0  # payments in the period, net of reversals
    rewards_paid_yuan: int = 0


@dataclass(frozen=True)
class TipTally:
    """What the summary needs from the tips received in a period, counted by the database
    (bot/db/stats.py)."""

    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome → tips with it
    supplies: dict[str, int] = field(default_factory=dict)  # supply → tips that handed it out
    median_claim: float | None = None  # minutes from received to claimed (unrounded)
    median_scene: float | None = None  # minutes from received to on scene (unrounded)


def figures(
    counted: TipTally,
    patrol_supplies: list[dict[str, int]],
    patrols_logged: int,
    patrols_required: int,
    rewards_pending: int,
    rewards_paid: int,
    rewards_paid_yuan: int = 0,
) -> Figures:
    """Summary figures over the tips received in a period (and patrols logged in it)."""
    outcomes = dict(counted.outcomes)
    went = sum(
        n for o, n in outcomes.items() if Outcome(o) not in (Outcome.DUPLICATE, Outcome.INVALID)
    )
    missed = sum(n for o, n in outcomes.items() if Outcome(o) in MISSED_OUTCOMES)
    supplies = dict(counted.supplies)
    for given in patrol_supplies:
        for item, count in given.items():
            supplies[item] = supplies.get(item, 0) + int(count)
    return Figures(
        received=counted.received,
        verified=sum(n for o, n in outcomes.items() if is_verified(o)),
        outcomes=outcomes,
        not_found_rate=round(missed / went, 3) if went else None,
        median_claim_min=None if counted.median_claim is None else round(counted.median_claim, 1),
        median_scene_min=None if counted.median_scene is None else round(counted.median_scene, 1),
        brought_in=outcomes.get(Outcome.BROUGHT_IN.value, 0),
        supplies=supplies,
        patrols_logged=patrols_logged,
        patrols_required=patrols_required,
        rewards_pending=rewards_pending,
        rewards_paid=rewards_paid,
        rewards_paid_yuan=rewards_paid_yuan,
    )
