"""Everything that happens by the clock: reminders, patrol-log checks, escalation, hand-over,
the daily summary and the weather rule.

One entry point, :meth:`ScheduleService.tick`, run every few seconds by PTB's JobQueue
(bot/jobs/ticker.py) and directly by tests with a controllable clock. What is due follows
from the time and from what the database records as done (the ``schedule_log`` table and the
event log), so a restart neither loses nor repeats anything and no job needs persisting.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from html import escape

from bot.db.repo import Tx
from bot.domain.rewards import RewardState
from bot.domain.schedule import (
    EscalationRules,
    Figures,
    Level,
    SlotTiming,
    escalations_due,
    figures,
    in_window,
    latest_slot,
    parse_hhmm,
    patrols_required,
    reminder_timing,
    slot_key,
)
from bot.domain.tips import State, Tip
from bot.i18n import t
from bot.services import notify
from bot.services.backups import BackupService
from bot.services.base import Deps
from bot.services.patrols import PatrolService
from bot.services.people import mention, person

log = logging.getLogger(__name__)

#: Fetches tonight's forecast minimum (°C); raises on any failure.
ForecastFetcher = Callable[[], Awaitable[float]]

#: The settings key of when the reminder step last ran to the end (an outage is a gap in it).
CHECKED_AT = "reminders_checked_at"
#: It is written down at most this often (ticks come every few seconds). A value this much
#: older than the truth can only make a slot look missed when the bot was running at its time
#: — and a slot due while the bot ran was sent then.
CHECKED_AT_EVERY = dt.timedelta(minutes=1)


class ScheduleService:
    def __init__(
        self, deps: Deps, patrols: PatrolService, fetch_forecast: ForecastFetcher | None = None
    ) -> None:
        self.d = deps
        self.patrols = patrols
        self.fetch_forecast = fetch_forecast
        cfg = deps.config
        self.rules = EscalationRules(
            claim_minutes=cfg.escalation.claim_minutes,
            urgent_claim_minutes=cfg.escalation.urgent_claim_minutes,
            second_minutes=cfg.escalation.second_minutes,
            scene_minutes=cfg.escalation.scene_minutes,
        )
        self._checked_at: dt.datetime | None = None  # the reminder step's last run (this process)
        self._checked_saved: dt.datetime | None = None  # … as last written to the database
        self._running_day: dt.date | None = None  # the last local day recorded as running
        self.backups = BackupService(deps)  # the daily backup (bot/services/backups.py)

    @property
    def lang(self) -> str:
        return self.d.config.station.language

    async def tick(self) -> None:
        """Do whatever is due now. Safe to call as often as you like."""
        now = self.d.now()
        local = self.d.local(now)
        # Reminders and patrol checks look at the campaign window themselves, by the slot's
        # day: a late reminder for 23:50 on the last day is still sent just after midnight.
        steps: list[Callable[[], Awaitable[None]]] = [
            lambda: self._running(now, local),
            lambda: self._handover(now, local),
            lambda: self._escalate(now),
            lambda: self._weather(now, local),
            lambda: self._reminder(now, local),
            lambda: self._patrol_checks(now, local),
            lambda: self._summary(now, local),
            lambda: self.backups.run_due(now, local),  # last: a copy takes a while
        ]
        for step in steps:
            try:
                await step()
            except Exception:  # one failing step must not stop the others
                log.exception("scheduled step failed")
        self.d.wake()

    # -- helpers ----------------------------------------------------------------------------
    async def _mention(self, user_id: int) -> str:
        """A person mentioned in a group message: by name (or role), never by a bare id."""
        return mention(await person(self.d, user_id), self.lang)

    def _age(self, tip: Tip, now: dt.datetime) -> int:
        return max(0, int((now - tip.created_at).total_seconds() // 60))

    async def _system_event(
        self, tx: Tx, tip: Tip | None, action: str, now: dt.datetime, detail: dict | None = None
    ) -> None:
        await self.d.repo.add_event(
            tx,
            tip_id=tip.id if tip else None,
            actor_id=None,
            actor_role="system",
            action=action,
            from_state=tip.state.value if tip else None,
            to_state=tip.state.value if tip else None,
            now=now,
            detail=detail,
        )

    # -- patrol reminders -------------------------------------------------------------------
    async def _reminder_times(self) -> tuple[list[dt.time], int | None, dt.datetime | None]:
        """The configured times, and in cold mode its interval and when it was switched on."""
        times = [parse_hhmm(x) for x in self.d.config.patrol.reminder_times]
        cold = await self.patrols.cold_state()
        if not cold.on:
            return times, None, None
        since = dt.datetime.fromisoformat(cold.since) if cold.since else None
        return times, self.d.config.patrol.cold_interval_minutes, since

    async def _last_check(self, now: dt.datetime) -> dt.datetime | None:
        """When the reminder step last ran before now; None if the bot never ran before."""
        if self._checked_at is not None:
            return self._checked_at
        stored = await self.d.repo.get_setting(CHECKED_AT)
        if stored:
            return dt.datetime.fromisoformat(stored)
        # A database from before this was recorded: the last thing the schedules did.
        return await self.d.repo.last_schedule_done(before=now)

    async def _checked(self, now: dt.datetime) -> None:
        self._checked_at = now
        saved = self._checked_saved
        if saved is None or not dt.timedelta(0) <= now - saved < CHECKED_AT_EVERY:
            async with self.d.db.write() as tx:
                await self.d.repo.set_setting(tx, CHECKED_AT, now.isoformat(), now)
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
            now = self.d.now()
            await self._reminder(now, self.d.local(now))
            self.d.wake()
        return changed

    async def _remind(
        self, now: dt.datetime, local: dt.datetime, last_check: dt.datetime | None
    ) -> None:
        times, cold_interval, cold_since = await self._reminder_times()
        slot = latest_slot(local, times, cold_interval, cold_since)
        if slot is None or await self.d.repo.is_done("reminder", slot_key(slot)):
            return
        campaign = self.d.config.campaign
        if not in_window(slot.date(), campaign.start, campaign.end):
            return
        grace = self.d.config.patrol.misfire_grace_minutes
        timing = reminder_timing(slot, local, grace, last_check)
        group = self.d.roster.on_duty(slot)
        team = self.d.directory.team(group)
        async with self.d.db.write() as tx:
            if not await self.d.repo.mark_done(tx, "reminder", slot_key(slot), now, timing.value):
                return
            if timing is SlotTiming.MISSED:
                return  # not sent: too old, or not due while the bot was running; recorded
            open_tips = await self.d.repo.open_tips(group)
            unclaimed = [tip for tip in open_tips if tip.state is State.DISPATCHED]
            oldest = min(unclaimed, key=lambda tip: tip.created_at) if unclaimed else None
            lines = []
            if timing is SlotTiming.LATE:
                lines.append(t(self.lang, "reminder.late", slot=slot.strftime("%H:%M")))
            lines.append(
                t(
                    self.lang,
                    "reminder.cold" if cold_interval else "reminder.head",
                    group=escape(team.name),
                )
            )
            lines.append(t(self.lang, "reminder.open", count=len(open_tips)))
            if oldest is not None:
                lines.append(
                    t(
                        self.lang,
                        "reminder.oldest",
                        code=oldest.code,
                        minutes=self._age(oldest, now),
                    )
                )
            areas = (
                "、".join(self.d.config.patrol.areas)
                if self.lang == "zh"
                else ", ".join(self.d.config.patrol.areas)
            )
            lines.append(t(self.lang, "reminder.areas", areas=escape(areas)))
            lines.append(t(self.lang, "reminder.log_hint"))
            await notify.say(self.d, tx, team.chat_id, "\n".join(lines), now=now)

    async def _patrol_checks(self, now: dt.datetime, local: dt.datetime) -> None:
        """A reminder slot with no patrol logged within the grace period → leader, officers."""
        grace = dt.timedelta(minutes=self.d.config.patrol.log_grace_minutes)
        times = [parse_hhmm(x) for x in self.d.config.patrol.reminder_times]
        campaign = self.d.config.campaign
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            if not in_window(day, campaign.start, campaign.end):
                continue
            for at in times:
                slot = dt.datetime.combine(day, at, tzinfo=local.tzinfo)
                if slot + grace > local or local - slot > dt.timedelta(hours=24):
                    continue
                key = slot_key(slot)
                if await self.d.repo.is_done("patrol_check", key):
                    continue
                # Only a reminder that went out is followed up: not a slot from before the bot
                # first ran, nor one dropped after a long outage.
                if await self.d.repo.schedule_detail("reminder", key) not in ("on_time", "late"):
                    continue
                team = self.d.directory.team(self.d.roster.on_duty(slot))
                logged = await self.d.repo.patrols_between(slot - grace, slot + grace, team.key)
                async with self.d.db.write() as tx:
                    if not await self.d.repo.mark_done(
                        tx, "patrol_check", key, now, "ok" if logged else "missing"
                    ):
                        continue
                    if logged:
                        continue
                    leader = await self._mention(team.leader)
                    text = t(
                        self.lang,
                        "patrol.missing",
                        slot=slot.strftime("%H:%M"),
                        minutes=self.d.config.patrol.log_grace_minutes,
                        leader=leader,
                    )
                    await notify.say(self.d, tx, team.chat_id, text, now=now)
                    await notify.tell_officers(
                        self.d,
                        tx,
                        "patrol.missing_officer",
                        {"group": team.name, "slot": slot.strftime("%m-%d %H:%M")},
                        now=now,
                    )
                    await self._system_event(
                        tx, None, "patrol_missing", now, {"group": team.key, "slot": key}
                    )

    # -- escalation -------------------------------------------------------------------------
    async def _escalate(self, now: dt.datetime) -> None:
        tips = [
            tip
            for tip in await self.d.repo.open_tips()
            if tip.state in (State.DISPATCHED, State.CLAIMED, State.EN_ROUTE)
        ]
        if not tips:
            return
        fired = await self.d.repo.actions_fired(
            [tip.id for tip in tips], [lv.value for lv in Level]
        )
        for tip in tips:
            for level in escalations_due(tip, now, self.rules, fired.get(tip.id, set())):
                await self._fire(tip, level, now)

    async def _fire(self, tip: Tip, level: Level, now: dt.datetime) -> None:
        team = self.d.directory.team(tip.group_key)
        async with self.d.db.write() as tx:
            # The tip may have moved on since we looked: only escalate what is still stuck.
            current = await self.d.repo.get_tip(tip.id)
            if current is None or current.state is not tip.state or current.version != tip.version:
                return
            if await self.d.repo.count_events(tip.id, level.value):
                return
            minutes = self._age(tip, now)
            if level is Level.REPOST:
                await notify.post_card(self.d, tx, team.chat_id, tip.id, copy=True, now=now)
                text = t(
                    self.lang,
                    "escalate.repost",
                    code=tip.code,
                    minutes=minutes,
                    leader=await self._mention(team.leader),
                )
                await notify.say(self.d, tx, team.chat_id, text, tip_id=tip.id, now=now)
            elif level is Level.WIDEN:
                for other in self.d.directory.teams:
                    if other.key == team.key:
                        continue
                    await notify.post_card(self.d, tx, other.chat_id, tip.id, copy=True, now=now)
                    text = t(
                        self.lang,
                        "escalate.widen_group",
                        code=tip.code,
                        minutes=minutes,
                        group=escape(team.name),
                        leader=await self._mention(other.leader),
                    )
                    await notify.say(self.d, tx, other.chat_id, text, tip_id=tip.id, now=now)
                for officer in sorted(self.d.directory.officers):
                    await notify.post_card(self.d, tx, officer, tip.id, copy=True, now=now)
                await notify.tell_officers(
                    self.d,
                    tx,
                    "escalate.widen_officer",
                    {"code": tip.code, "minutes": minutes, "group": team.name},
                    tip_id=tip.id,
                    now=now,
                )
            else:
                waited = int((now - tip.claimed_at).total_seconds() // 60) if tip.claimed_at else 0
                text = t(
                    self.lang,
                    "escalate.scene",
                    code=tip.code,
                    minutes=waited,
                    claimer=await self._mention(tip.claimed_by) if tip.claimed_by else "",
                    leader=await self._mention(team.leader),
                )
                await notify.say(self.d, tx, team.chat_id, text, tip_id=tip.id, now=now)
                # A claimer from the other group (after the second level) is not in this
                # group's chat: ask them in their own.
                theirs = self.d.directory.team_of(tip.claimed_by) if tip.claimed_by else None
                if theirs is not None and theirs.key != team.key:
                    await notify.say(self.d, tx, theirs.chat_id, text, tip_id=tip.id, now=now)
            await self._system_event(tx, tip, level.value, now, {"minutes": minutes})

    # -- the bot running --------------------------------------------------------------------
    async def _running(self, now: dt.datetime, local: dt.datetime) -> None:
        """Record each local day the bot ran on (the daily summary skips days it did not)."""
        day = local.date()
        if self._running_day == day:
            return
        async with self.d.db.write() as tx:
            await self.d.repo.mark_done(tx, "running", day.isoformat(), now)
        self._running_day = day

    async def _ran_on(self, day: dt.date) -> bool:
        """Whether the bot was running on a local day, or anything was recorded that day."""
        start = dt.datetime.combine(day, dt.time(), tzinfo=self.d.tz)
        end = start + dt.timedelta(days=1)
        # Its "running" record, or anything else the schedules did that day (older databases
        # have no "running" records), or any tip or patrol recorded in it.
        if await self.d.repo.schedule_done_between(start, end):
            return True
        if (await self.d.repo.tip_tally(start, end)).received:
            return True
        return bool(await self.d.repo.patrols_between(start, end))

    # -- hand-over --------------------------------------------------------------------------
    async def _handover(self, now: dt.datetime, local: dt.datetime) -> None:
        day = self.d.roster.duty_day(local)
        group = self.d.roster.on_duty(local)
        stored = await self.d.repo.get_setting("duty")
        current = f"{day.isoformat()}|{group}"
        if stored == current:
            return
        async with self.d.db.write() as tx:
            await self.d.repo.set_setting(tx, "duty", current, now)
            if stored is None or not await self.d.repo.mark_done(
                tx, "handover", day.isoformat(), now
            ):
                return  # first start: nothing to hand over
            previous = stored.split("|")[1]
            if previous == group or previous not in {tm.key for tm in self.d.directory.teams}:
                return
            off, on = self.d.directory.team(previous), self.d.directory.team(group)
            open_tips = await self.d.repo.open_tips(previous)
            moved = [tip for tip in open_tips if tip.state in (State.NEW, State.DISPATCHED)]
            kept = [tip for tip in open_tips if tip not in moved]
            for tip in moved:
                if await self.d.repo.move_tip(tx, tip, group, now):
                    await self.d.repo.add_event(
                        tx,
                        tip_id=tip.id,
                        actor_id=None,
                        actor_role="system",
                        action="handover",
                        from_state=tip.state.value,
                        to_state=tip.state.value,
                        now=now,
                        detail={"from": previous, "to": group},
                    )
                    await notify.post_card(self.d, tx, on.chat_id, tip.id, now=now)
                    await notify.refresh_card(self.d, tx, tip.id, now=now)
            codes = lambda tips: ", ".join(tip.code for tip in tips) or "—"  # noqa: E731
            await notify.say(
                self.d,
                tx,
                off.chat_id,
                t(
                    self.lang,
                    "handover.off",
                    group=escape(on.name),
                    moved=len(moved),
                    moved_codes=codes(moved),
                    kept=len(kept),
                    kept_codes=codes(kept),
                ),
                now=now,
            )
            # Read inside this transaction, the moved tips already belong to ``group`` (and
            # have a new version): tell them apart by id.
            moved_ids = {tip.id for tip in moved}
            own = [tip for tip in await self.d.repo.open_tips(group) if tip.id not in moved_ids]
            await notify.say(
                self.d,
                tx,
                on.chat_id,
                t(
                    self.lang,
                    "handover.on",
                    group=escape(off.name),
                    moved=len(moved),
                    moved_codes=codes(moved),
                    own=len(own),
                ),
                now=now,
            )
            await notify.tell_officers(
                self.d,
                tx,
                "handover.officer",
                {"off": off.name, "on": on.name, "moved": len(moved), "kept": len(kept)},
                now=now,
            )

    # -- daily summary ----------------------------------------------------------------------
    async def _summary(self, now: dt.datetime, local: dt.datetime) -> None:
        cfg = self.d.config
        at = parse_hhmm(cfg.summary.time)
        day = local.date()
        if local.time() < at:
            return
        # Inside the campaign, and once more the morning after its last day.
        if not in_window(day, cfg.campaign.start, cfg.campaign.end + dt.timedelta(days=1)):
            return
        if await self.d.repo.is_done("summary", day.isoformat()):
            return
        if not await self._ran_on(day - dt.timedelta(days=1)):
            # The bot was not running yesterday (e.g. its first start is today) and nothing
            # was recorded then: an all-zero summary of that day would only mislead.
            async with self.d.db.write() as tx:
                await self.d.repo.mark_done(tx, "summary", day.isoformat(), now, "not_running")
            return
        text = await self.summary_text(day)
        chats = cfg.summary.chat_ids or sorted(self.d.directory.officers)
        async with self.d.db.write() as tx:
            if not await self.d.repo.mark_done(tx, "summary", day.isoformat(), now):
                return
            for chat in chats:
                await notify.say(self.d, tx, chat, text, now=now)

    async def figures_for(self, since: dt.datetime | None, until: dt.datetime) -> Figures:
        # Counted by the database: a campaign's history is far too long to load tip by tip.
        tips = await self.d.repo.tip_tally(since, until)
        patrols = await self.d.repo.patrols_between(
            since or dt.datetime(2000, 1, 1, tzinfo=dt.UTC), until
        )
        supplies = [json.loads(p["supplies"]) for p in patrols if p["supplies"]]
        ledger = await self.d.repo.ledger_sums(since, until)
        # Payments in the period, net of reversals (a reversal's amount is negative).
        paid = ledger.get("paid", (0, 0))[0] - ledger.get("reversal", (0, 0))[0]
        paid_yuan = ledger.get("paid", (0, 0))[1] + ledger.get("reversal", (0, 0))[1]
        pending = await self.d.repo.count_rewards(RewardState.PENDING)
        campaign = self.d.config.campaign
        required = patrols_required(
            since or dt.datetime.combine(campaign.start, dt.time(), tzinfo=self.d.tz),
            until,
            [parse_hhmm(x) for x in self.d.config.patrol.reminder_times],
            campaign.start,
            campaign.end,
        )
        return figures(
            tips,
            supplies,
            patrols_logged=len(patrols),
            patrols_required=required,
            rewards_pending=pending,
            rewards_paid=paid,
            rewards_paid_yuan=paid_yuan,
        )

    async def summary_text(self, day: dt.date) -> str:
        """Yesterday (relative to ``day``) and campaign-to-date, in the station's language."""
        tz = self.d.tz
        cfg = self.d.config
        today_start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        yesterday_start = today_start - dt.timedelta(days=1)
        campaign_start = dt.datetime.combine(cfg.campaign.start, dt.time(), tzinfo=tz)
        yesterday = await self.figures_for(yesterday_start, today_start)
        to_date = await self.figures_for(campaign_start, today_start)
        lang = self.lang
        return "\n".join(
            [
                t(lang, "summary.head", day=(day - dt.timedelta(days=1)).isoformat()),
                self._figures_block(yesterday, t(lang, "summary.yesterday")),
                "",
                self._figures_block(to_date, t(lang, "summary.campaign")),
                # The rewards' state now, once and labelled as such (the blocks above count
                # what happened in their period): a finance officer must not add them up.
                t(
                    lang,
                    "summary.rewards_now",
                    pending=await self.d.repo.count_rewards(RewardState.PENDING),
                    approved=await self.d.repo.count_rewards(RewardState.APPROVED),
                ),
            ]
        )

    def _figures_block(self, f: Figures, title: str) -> str:
        lang = self.lang
        sep = "、" if lang == "zh" else ", "
        outcomes = (
            sep.join(
                f"{t(lang, 'outcome.' + key)} {count}" for key, count in sorted(f.outcomes.items())
            )
            or "—"
        )
        supplies = (
            sep.join(
                f"{t(lang, 'supply.' + key)} {count}" for key, count in sorted(f.supplies.items())
            )
            or "—"
        )
        dash = "—"
        return t(
            lang,
            "summary.block",
            title=title,
            received=f.received,
            verified=f.verified,
            outcomes=escape(outcomes),
            not_found=dash if f.not_found_rate is None else f"{f.not_found_rate:.0%}",
            claim=dash if f.median_claim_min is None else f.median_claim_min,
            scene=dash if f.median_scene_min is None else f.median_scene_min,
            brought_in=f.brought_in,
            supplies=escape(supplies),
            patrols=f.patrols_logged,
            required=f.patrols_required,
            paid=f.rewards_paid,
            paid_yuan=f.rewards_paid_yuan,
        )

    # -- the weather rule -------------------------------------------------------------------
    async def _weather(self, now: dt.datetime, local: dt.datetime) -> None:
        cfg = self.d.config.weather
        if not cfg.url or self.fetch_forecast is None:
            return
        slot = latest_slot(local, [parse_hhmm(x) for x in cfg.check_times])
        if slot is None or await self.d.repo.is_done("weather", slot_key(slot)):
            return
        async with self.d.db.write() as tx:
            if not await self.d.repo.mark_done(tx, "weather", slot_key(slot), now):
                return
        try:
            minimum = await self.fetch_forecast()
        except Exception as exc:  # unreachable, bad JSON, timeout: change nothing
            log.warning("weather forecast unavailable: %s", exc)
            if await self.d.repo.get_setting("weather_error") != "1":
                async with self.d.db.write() as tx:
                    await self.d.repo.set_setting(tx, "weather_error", "1", now)
                    await notify.tell_officers(self.d, tx, "weather.unreachable", {}, now=now)
            return
        async with self.d.db.write() as tx:
            await self.d.repo.set_setting(tx, "weather_error", "0", now)
        state = await self.patrols.cold_state()
        if state.override_until is not None and state.override_until > local:
            return  # an officer decided for this duty day
        threshold = cfg.cold_threshold_c
        if minimum <= threshold and not state.on:
            reason = t(
                self.lang, "weather.reason", minimum=f"{minimum:.1f}", threshold=f"{threshold:g}"
            )
            await self.patrols.set_cold(True, source="auto", actor=None, reason_html=reason)
        elif minimum > threshold and state.on and state.source == "auto":
            reason = t(
                self.lang,
                "weather.reason_off",
                minimum=f"{minimum:.1f}",
                threshold=f"{threshold:g}",
            )
            await self.patrols.set_cold(False, source="auto", actor=None, reason_html=reason)
