"""The campaign's figures for today, the last 7 days and the campaign: the summary chart,
`/stats` and the dashboard's numbers all come from :meth:`CampaignFigures.figures`."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence

from bot.db.campaign_stats import CampaignStatsStore
from bot.domain.campaign import PeriodFigures, PeriodKey, offset_spans, period_figures, periods
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
        result: dict[PeriodKey, PeriodFigures] = {}
        for period in periods(local, self.campaign_start, self.campaign_end):
            spans = offset_spans(period.since, period.until, self.tz)
            tallies = await self.store.tallies(period.since, period.until, spans)
            # Required so far: a reminder later today asks for nothing yet.
            required = patrols_required(
                period.since,
                max(period.since, min(period.until, local)),
                self.reminder_times,
                self.campaign_start,
                self.campaign_end,
            )
            result[period.key] = period_figures(period, tallies, required)
        return result
