"""Everything that happens by the clock: reminders, patrol-log checks, escalation, hand-over,
the daily summary and the weather rule.

One entry point, :meth:`ScheduleService.tick`, run every few seconds by PTB's JobQueue
(bot/jobs/ticker.py) and directly by tests with a controllable clock. What is due follows
from the time and from what the database records as done (the ``schedule_log`` table and the
event log), so a restart neither loses nor repeats anything and no job needs persisting.
Escalation, the hand-over and the summary are steps of their own (escalation.py,
handover.py, summary.py); the reminders, the patrol-log checks and the weather are here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot.config import CampaignConfig, PatrolConfig, WeatherConfig
from bot.db.database import Database
from bot.db.schedule import PatrolStore, ScheduleStore
from bot.db.tips import TipStore
from bot.domain.events import Act
from bot.domain.outbox import Lines, Listing, Msg, Text
from bot.domain.roster import Roster
from bot.domain.schedule import (
    SlotTiming,
    in_window,
    latest_slot,
    parse_hhmm,
    reminder_timing,
    slot_key,
)
from bot.domain.tips import Role, State
from bot.services.arrival import ArrivalService
from bot.services.audit import Audit
from bot.services.backups import BackupService
from bot.services.clock import StationClock
from bot.services.escalation import Escalator
from bot.services.handover import Handover
from bot.services.notify import Notifier
from bot.services.patrols import PatrolService
from bot.services.people import Naming
from bot.services.reach import Reach
from bot.services.summary import Summary

log = logging.getLogger(__name__)

#: Fetches tonight's forecast minimum (°C); raises on any failure.
ForecastFetcher = Callable[[], Awaitable[float]]
#: More steps of the tick, given (now, local) (issue 13: revisits, live-location cards).
Step = Callable[[dt.datetime, dt.datetime], Awaitable[None]]
#: More lines of a patrol reminder, given (the group's key, now) (issue 13: revisits, hotspots).
ReminderLines = Callable[[str, dt.datetime], Awaitable[list[Text]]]

#: The settings key of when the reminder step last ran to the end (an outage is a gap in it).
CHECKED_AT = "reminders_checked_at"
#: It is written down at most this often (ticks come every few seconds). A value this much
#: older than the truth can only make a slot look missed when the bot was running at its time
#: — and a slot due while the bot ran was sent then.
CHECKED_AT_EVERY = dt.timedelta(minutes=1)


async def _nothing() -> None:
    return None


class ScheduleService:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        schedule: ScheduleStore,
        patrol_log: PatrolStore,
        patrols: PatrolService,
        escalator: Escalator,
        handover: Handover,
        summary: Summary,
        backups: BackupService,
        notifier: Notifier,
        naming: Naming,
        audit: Audit,
        reach: Reach,
        roster: Roster,
        clock: StationClock,
        patrol: PatrolConfig,
        campaign: CampaignConfig,
        weather: WeatherConfig,
        fetch_forecast: ForecastFetcher | None = None,
        arrival: ArrivalService | None = None,
        *,
        more_steps: tuple[Step, ...] = (),
        reminder_lines: tuple[ReminderLines, ...] = (),
    ) -> None:
        self.arrival = arrival  # the claimers' arrival times (issue 13)
        self.db = db
        self.store = store
        self.schedule = schedule
        self.patrol_log = patrol_log
        self.patrols = patrols
        self.escalator = escalator
        self.handover = handover
        self.summary = summary
        self.backups = backups  # the daily backup (bot/services/backups.py)
        self.notifier = notifier
        self.naming = naming
        self.audit = audit
        self.reach = reach
        self.roster = roster
        self.clock = clock
        self.patrol = patrol
        self.campaign = campaign
        self.weather = weather
        self.fetch_forecast = fetch_forecast
        self.more_steps = more_steps
        self.reminder_lines = reminder_lines
        self._checked_at: dt.datetime | None = None  # the reminder step's last run (this process)
        self._checked_saved: dt.datetime | None = None  # … as last written to the database
        self._running_day: dt.date | None = None  # the last local day recorded as running

    async def tick(self) -> None:
        """Do whatever is due now. Safe to call as often as you like."""
        now = self.clock.now()
        local = self.clock.local(now)
        # Reminders and patrol checks look at the campaign window themselves, by the slot's
        # day: a late reminder for 23:50 on the last day is still sent just after midnight.
        steps: list[Callable[[], Awaitable[None]]] = [
            lambda: self._running(now, local),
            lambda: self.handover.run(now, local),
            lambda: self.escalator.escalate(now),
            lambda: self.arrival.watch(now) if self.arrival else _nothing(),
            lambda: self._weather(now, local),
            lambda: self._reminder(now, local),
            lambda: self._patrol_checks(now, local),
            lambda: self.summary.run(now, local),
            *(lambda step=step: step(now, local) for step in self.more_steps),
            lambda: self.backups.run_due(now, local),  # last: a copy takes a while
        ]
        for step in steps:
            try:
                await step()
            except Exception:  # one failing step must not stop the others
                log.exception("scheduled step failed")

    # -- the bot running --------------------------------------------------------------------
    async def _running(self, now: dt.datetime, local: dt.datetime) -> None:
        """Record each local day the bot ran on (the daily summary skips days it did not)."""
        day = local.date()
        if self._running_day == day:
            return
        async with self.db.write() as tx:
            await self.schedule.mark_done(tx, "running", day.isoformat(), now)
        self._running_day = day

    # -- patrol reminders -------------------------------------------------------------------
    async def _reminder_times(self) -> tuple[list[dt.time], int | None, dt.datetime | None]:
        """The configured times, and in cold mode its interval and when it was switched on."""
        times = [parse_hhmm(x) for x in self.patrol.reminder_times]
        cold = await self.patrols.cold_state()
        if not cold.on:
            return times, None, None
        since = dt.datetime.fromisoformat(cold.since) if cold.since else None
        return times, self.patrol.cold_interval_minutes, since

    async def _last_check(self, now: dt.datetime) -> dt.datetime | None:
        """When the reminder step last ran before now; None if the bot never ran before."""
        if self._checked_at is not None:
            return self._checked_at
        stored = await self.schedule.get_setting(CHECKED_AT)
        if stored:
            return dt.datetime.fromisoformat(stored)
        # A database from before this was recorded: the last thing the schedules did.
        return await self.schedule.last_done(before=now)

    async def _checked(self, now: dt.datetime) -> None:
        self._checked_at = now
        saved = self._checked_saved
        if saved is None or not dt.timedelta(0) <= now - saved < CHECKED_AT_EVERY:
            async with self.db.write() as tx:
                await self.schedule.set_setting(tx, CHECKED_AT, now.isoformat(), now)
            self._checked_saved = now

    async def _reminder(self, now: dt.datetime, local: dt.datetime) -> None:
        last_check = await self._last_check(now)
        await self._remind(now, local, last_check)
        await self._checked(now)

    async def switch_cold(self, on: bool, actor: int) -> bool:
        """An officer's /coldmode on|off. Switching on sends one reminder at once (cold mode's
        first slot is the minute it was switched on), then one every interval from there.
        ``False`` if it was already so."""
        changed = await self.patrols.set_cold(on, source="manual", actor=actor)
        if changed and on:
            now = self.clock.now()
            await self._reminder(now, self.clock.local(now))
        return changed

    async def _remind(
        self, now: dt.datetime, local: dt.datetime, last_check: dt.datetime | None
    ) -> None:
        times, cold_interval, cold_since = await self._reminder_times()
        slot = latest_slot(local, times, cold_interval, cold_since)
        if slot is None or await self.schedule.is_done("reminder", slot_key(slot)):
            return
        if not in_window(slot.date(), self.campaign.start, self.campaign.end):
            return
        timing = reminder_timing(slot, local, self.patrol.misfire_grace_minutes, last_check)
        group = self.roster.on_duty(slot)
        team = self.reach.directory.team(group)
        async with self.db.write() as tx:
            if not await self.schedule.mark_done(tx, "reminder", slot_key(slot), now, timing.value):
                return
            if timing is SlotTiming.MISSED:
                return  # not sent: too old, or not due while the bot was running; recorded
            open_tips = await self.store.open(group)
            unclaimed = [tip for tip in open_tips if tip.state is State.DISPATCHED]
            oldest = min(unclaimed, key=lambda tip: tip.created_at) if unclaimed else None
            lines: list[Text] = []
            if timing is SlotTiming.LATE:
                lines.append(Msg("reminder.late", {"slot": slot.strftime("%H:%M")}))
            head = "reminder.cold" if cold_interval else "reminder.head"
            lines.append(Msg(head, {"group": team.name}))
            lines.append(Msg("reminder.open", {"count": len(open_tips)}))
            if oldest is not None:
                minutes = oldest.age_minutes(now)
                lines.append(Msg("reminder.oldest", {"code": oldest.code, "minutes": minutes}))
            lines.append(Msg("reminder.areas", {"areas": Listing(tuple(self.patrol.areas))}))
            for more in self.reminder_lines:
                lines.extend(await more(team.key, now))
            lines.append(Msg("reminder.log_hint"))
            await self.notifier.say(tx, team.chat_id, Lines(tuple(lines)), now=now)

    async def _patrol_checks(self, now: dt.datetime, local: dt.datetime) -> None:
        """A reminder slot with no patrol logged within the grace period → leader, officers."""
        grace = dt.timedelta(minutes=self.patrol.log_grace_minutes)
        times = [parse_hhmm(x) for x in self.patrol.reminder_times]
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            if not in_window(day, self.campaign.start, self.campaign.end):
                continue
            for at in times:
                slot = dt.datetime.combine(day, at, tzinfo=local.tzinfo)
                if slot + grace > local or local - slot > dt.timedelta(hours=24):
                    continue
                key = slot_key(slot)
                if await self.schedule.is_done("patrol_check", key):
                    continue
                # Only a reminder that went out is followed up: not a slot from before the bot
                # first ran, nor one dropped after a long outage.
                if await self.schedule.detail("reminder", key) not in ("on_time", "late"):
                    continue
                team = self.reach.directory.team(self.roster.on_duty(slot))
                logged = await self.patrol_log.between(slot - grace, slot + grace, team.key)
                async with self.db.write() as tx:
                    if not await self.schedule.mark_done(
                        tx, "patrol_check", key, now, "ok" if logged else "missing"
                    ):
                        continue
                    if logged:
                        continue
                    leader = (await self.naming.person(team.leader)).mention()
                    text = Msg(
                        "patrol.missing",
                        {
                            "slot": slot.strftime("%H:%M"),
                            "minutes": self.patrol.log_grace_minutes,
                            "leader": leader,
                        },
                    )
                    await self.notifier.say(tx, team.chat_id, text, now=now)
                    officers = Msg(
                        "patrol.missing_officer",
                        {"group": team.name, "slot": slot.strftime("%m-%d %H:%M")},
                    )
                    await self.notifier.tell_officers(tx, officers, now=now)
                    await self.audit.record(
                        tx,
                        Act.PATROL_MISSING,
                        role=Role.SYSTEM,
                        detail={"group": team.key, "slot": key},
                        now=now,
                    )

    # -- the weather rule -------------------------------------------------------------------
    async def _weather(self, now: dt.datetime, local: dt.datetime) -> None:
        cfg = self.weather
        if not cfg.url or self.fetch_forecast is None:
            return
        slot = latest_slot(local, [parse_hhmm(x) for x in cfg.check_times])
        if slot is None or await self.schedule.is_done("weather", slot_key(slot)):
            return
        async with self.db.write() as tx:
            if not await self.schedule.mark_done(tx, "weather", slot_key(slot), now):
                return
        try:
            minimum = await self.fetch_forecast()
        except Exception as exc:  # unreachable, bad JSON, timeout: change nothing
            log.warning("weather forecast unavailable: %s", exc)
            if await self.schedule.get_setting("weather_error") != "1":
                async with self.db.write() as tx:
                    await self.schedule.set_setting(tx, "weather_error", "1", now)
                    await self.notifier.tell_officers(tx, Msg("weather.unreachable"), now=now)
            return
        async with self.db.write() as tx:
            await self.schedule.set_setting(tx, "weather_error", "0", now)
        state = await self.patrols.cold_state()
        if state.override_until is not None and state.override_until > local:
            return  # an officer decided for this duty day
        threshold = cfg.cold_threshold_c
        figures = {"minimum": f"{minimum:.1f}", "threshold": f"{threshold:g}"}
        if minimum <= threshold and not state.on:
            reason = Msg("weather.reason", figures)
            await self.patrols.set_cold(True, source="auto", actor=None, reason=reason)
        elif minimum > threshold and state.on and state.source == "auto":
            reason = Msg("weather.reason_off", figures)
            await self.patrols.set_cold(False, source="auto", actor=None, reason=reason)
