"""The daily summary: yesterday and campaign-to-date, counted by the database."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable

from bot.config import CampaignConfig, PatrolConfig, SummaryConfig
from bot.db.database import Database
from bot.db.rewards import LedgerStore, RewardStore
from bot.db.schedule import PatrolStore, ScheduleStore
from bot.db.stats import StatsStore
from bot.domain.campaign import Leg, Resolution, Spread, Unit, resolutions
from bot.domain.outbox import Lines, Listing, Msg, Text
from bot.domain.rewards import LedgerEntry, RewardState
from bot.domain.schedule import (
    Figures,
    TipTally,
    figures,
    in_window,
    parse_hhmm,
    patrols_required,
)
from bot.domain.tips import Outcome, Supply
from bot.i18n import keys
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach

_DASH = "—"

log = logging.getLogger(__name__)

#: Draws the campaign's chart (a PNG) for the summary; wired by the composition root.
ChartSource = Callable[[], Awaitable[bytes]]


class Summary:
    def __init__(
        self,
        db: Database,
        stats: StatsStore,
        patrols: PatrolStore,
        ledger: LedgerStore,
        rewards: RewardStore,
        schedule: ScheduleStore,
        notifier: Notifier,
        reach: Reach,
        clock: StationClock,
        config: SummaryConfig,
        campaign: CampaignConfig,
        patrol: PatrolConfig,
        chart: ChartSource | None = None,
        *,
        more: tuple[Callable[[dt.datetime, dt.datetime], Awaitable[Text]], ...] = (),
    ) -> None:
        self.db = db
        self.chart = chart
        self.stats = stats
        self.patrols = patrols
        self.ledger = ledger
        self.rewards = rewards
        self.schedule = schedule
        self.notifier = notifier
        self.reach = reach
        self.clock = clock
        self.config = config
        self.campaign = campaign
        self.patrol = patrol
        self.more = more  # more lines about yesterday (issue 13: revisits)

    async def run(self, now: dt.datetime, local: dt.datetime) -> None:
        at = parse_hhmm(self.config.time)
        day = local.date()
        if local.time() < at:
            return
        # Inside the campaign, and once more the morning after its last day.
        if not in_window(day, self.campaign.start, self.campaign.end + dt.timedelta(days=1)):
            return
        if await self.schedule.is_done("summary", day.isoformat()):
            return
        if not await self._ran_on(day - dt.timedelta(days=1)):
            # The bot was not running yesterday (e.g. its first start is today) and nothing
            # was recorded then: an all-zero summary of that day would only mislead.
            async with self.db.write() as tx:
                await self.schedule.mark_done(tx, "summary", day.isoformat(), now, "not_running")
            return
        text = await self.text(day)
        png = await self._chart()
        chats = self.config.chat_ids or sorted(self.reach.directory.officers)
        async with self.db.write() as tx:
            if not await self.schedule.mark_done(tx, "summary", day.isoformat(), now):
                return
            for chat in chats:
                await self.notifier.say(tx, chat, text, now=now)
                if png is not None:  # queued after the text: it goes right after it
                    await self.notifier.picture(
                        tx, chat, png, caption=Msg("chart.caption"), now=now
                    )

    async def _chart(self) -> bytes | None:
        """The campaign's chart, or None (the summary's words still go) if it cannot be
        drawn: a picture is never worth a missing summary."""
        if self.chart is None:
            return None
        try:
            return await self.chart()
        except Exception:
            log.exception("the summary chart could not be drawn; the summary goes without it")
            return None

    async def _ran_on(self, day: dt.date) -> bool:
        """Whether the bot was running on a local day, or anything was recorded that day."""
        start = dt.datetime.combine(day, dt.time(), tzinfo=self.clock.tz)
        end = start + dt.timedelta(days=1)
        # Its "running" record, or anything else the schedules did that day (older databases
        # have no "running" records), or any tip or patrol recorded in it.
        if await self.schedule.done_between(start, end):
            return True
        if (await self.stats.tally(start, end)).received:
            return True
        return bool(await self.patrols.between(start, end))

    async def figures_for(self, since: dt.datetime | None, until: dt.datetime) -> Figures:
        return (await self._figures(since, until))[0]

    async def _figures(
        self, since: dt.datetime | None, until: dt.datetime
    ) -> tuple[Figures, TipTally]:
        # Counted by the database: a campaign's history is far too long to load tip by tip.
        tips = await self.stats.tally(since, until)
        patrols = await self.patrols.between(since or dt.datetime(2000, 1, 1, tzinfo=dt.UTC), until)
        supplies = [json.loads(p["supplies"]) for p in patrols if p["supplies"]]
        ledger = await self.ledger.sums(since, until)
        # Payments in the period, net of reversals (a reversal's amount is negative).
        paid_n, paid_yuan = ledger.get(LedgerEntry.PAID, (0, 0))
        reversed_n, reversed_yuan = ledger.get(LedgerEntry.REVERSAL, (0, 0))
        pending = await self.rewards.count(RewardState.PENDING)
        shown = figures(
            tips,
            supplies,
            patrols_logged=len(patrols),
            patrols_required=patrols_required(
                since or dt.datetime.combine(self.campaign.start, dt.time(), tzinfo=self.clock.tz),
                until,
                [parse_hhmm(x) for x in self.patrol.reminder_times],
                self.campaign.start,
                self.campaign.end,
            ),
            rewards_pending=pending,
            rewards_paid=paid_n - reversed_n,
            rewards_paid_yuan=paid_yuan + reversed_yuan,
        )
        return shown, tips

    async def text(self, day: dt.date) -> Text:
        """Yesterday (relative to ``day``) and campaign-to-date."""
        tz = self.clock.tz
        today_start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        yesterday_start = today_start - dt.timedelta(days=1)
        campaign_start = dt.datetime.combine(self.campaign.start, dt.time(), tzinfo=tz)
        yesterday, yesterday_tips = await self._figures(yesterday_start, today_start)
        to_date, to_date_tips = await self._figures(campaign_start, today_start)
        head = Msg("summary.head", {"day": (day - dt.timedelta(days=1)).isoformat()})
        blocks = (
            await self._with_legs(
                _block(yesterday, "summary.yesterday"), yesterday_tips, yesterday_start, today_start
            ),
            await self._with_legs(
                _block(to_date, "summary.campaign"), to_date_tips, campaign_start, today_start
            ),
        )
        # The rewards' state now, once and labelled as such (the blocks above count what
        # happened in their period): a finance officer must not add them up.
        now = Msg(
            "summary.rewards_now",
            {
                "pending": await self.rewards.count(RewardState.PENDING),
                "approved": await self.rewards.count(RewardState.APPROVED),
            },
        )
        more = [await lines(yesterday_start, today_start) for lines in self.more]
        return Lines((head, Lines(blocks, gap=True), now, *more))

    async def _with_legs(
        self, block: Msg, tips: TipTally, since: dt.datetime, until: dt.datetime
    ) -> Text:
        """The block, and under it the response legs (median and p90, from the duration
        histograms) and the located counts of the same tips — as the chart, /stats and the
        dashboard count them (bot/domain/campaign.py), without reading every tip."""
        response = await self.stats.spreads(since, until)
        earlier = await self.stats.earlier_attempts(since, until)
        return Lines(
            (block, *_legs_and_found(response, resolutions(tips.received, tips.outcomes, earlier)))
        )


def _legs_and_found(
    response: dict[Leg, Spread], resolution: dict[Unit, Resolution]
) -> tuple[Msg, Msg]:
    legs = tuple(
        Msg(
            "summary.field_leg",
            {
                "leg": Msg(keys.LEG[leg]),
                "median": f"{spread.median:.1f}",
                "p90": f"{spread.p90:.1f}",
                "count": spread.count,
            },
        )
        for leg, spread in response.items()
        if spread.count and spread.median is not None and spread.p90 is not None
    )
    attempts = resolution[Unit.ATTEMPT]
    incidents = resolution[Unit.INCIDENT]
    found = Msg(
        "summary.field_found",
        {
            "a_located": attempts.located,
            "a_missed": attempts.not_found,
            "i_located": incidents.located,
            "i_missed": incidents.not_found,
        },
    )
    return Msg("summary.field_legs", {"legs": Listing(legs) if legs else _DASH}), found


def _counts(by_key: dict[str, int], names: dict) -> Listing | str:
    """ "送回站内 3、送医 1" (sorted by value), or a dash when there are none."""
    if not by_key:
        return _DASH
    return Listing(
        tuple(
            Msg("summary.count", {"name": Msg(names[key]), "count": count})
            for key, count in sorted(by_key.items())
        )
    )


def _block(f: Figures, title: str) -> Msg:
    outcomes = {Outcome(key): n for key, n in f.outcomes.items()}
    supplies = {Supply(key): n for key, n in f.supplies.items()}
    return Msg(
        "summary.block",
        {
            "title": Msg(title),
            "received": f.received,
            "verified": f.verified,
            "outcomes": _counts(outcomes, keys.OUTCOME),
            "not_found": _DASH if f.not_found_rate is None else f"{f.not_found_rate:.0%}",
            "claim": _DASH if f.median_claim_min is None else f.median_claim_min,
            "scene": _DASH if f.median_scene_min is None else f.median_scene_min,
            "brought_in": f.brought_in,
            "supplies": _counts(supplies, keys.SUPPLY),
            "patrols": f.patrols_logged,
            "required": f.patrols_required,
            "paid": f.rewards_paid,
            "paid_yuan": f.rewards_paid_yuan,
        },
    )
