"""The campaign's figures for today, the last 7 days and the campaign: the summary chart,
`/stats` and the dashboard's numbers all come from :meth:`CampaignFigures.figures`."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence

from bot.db.campaign_stats import CampaignStatsStore
from bot.domain.campaign import (
    Grouping,
    Period,
    PeriodFigures,
    PeriodKey,
    offset_spans,
    period_figures,
    periods,
)
from bot.domain.schedule import parse_hhmm, patrols_required


class CampaignFigures:
    def __init__(
        self,
        store: CampaignStatsStore,
        *,
        tz: zoneinfo.ZoneInfo,
        campaign_start: dt.date,
        campaign_end: dt.date,
        reminder_times: Sequence[str],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.store = store
        self.tz = tz
        self.campaign_start = campaign_start
        self.campaign_end = campaign_end
        self.reminder_times = [parse_hhmm(x) for x in reminder_times]
        self.clock = clock

    async def figures(self, now: dt.datetime | None = None) -> dict[PeriodKey, PeriodFigures]:
        """Each period's figures as they stand at ``now`` (default: the clock)."""
        local = (now or self.clock()).astimezone(self.tz)
        return {
            period.key: await self._figures(period, local)
            for period in periods(local, self.campaign_start, self.campaign_end)
        }

    async def chart(self, now: dt.datetime | None = None) -> PeriodFigures:
        """The campaign's figures as the chart draws them (bot/views/charts.py): the same as
        ``figures()[PeriodKey.CAMPAIGN]`` in its counts, its response legs and its days'
        counts; ``by_district`` is empty, the hours are empty and the days carry no legs
        (the chart draws none of them), which spares the other two periods and the per-tip
        sorts by day, hour and district."""
        local = (now or self.clock()).astimezone(self.tz)
        campaign = periods(local, self.campaign_start, self.campaign_end)[-1]
        assert campaign.key is PeriodKey.CAMPAIGN
        return await self._figures(campaign, local, (Grouping.ALL, Grouping.DAY), (Grouping.ALL,))

    async def _figures(
        self,
        period: Period,
        local: dt.datetime,
        groupings: tuple[Grouping, ...] = tuple(Grouping),
        with_legs: tuple[Grouping, ...] | None = None,
    ) -> PeriodFigures:
        spans = offset_spans(period.since, period.until, self.tz)
        tallies = await self.store.tallies(
            period.since, period.until, spans, groupings, with_legs
        )
        # Required so far: a reminder later today asks for nothing yet.
        required = patrols_required(
            period.since,
            max(period.since, min(period.until, local)),
            self.reminder_times,
            self.campaign_start,
            self.campaign_end,
        )
        return period_figures(period, tallies, required)
