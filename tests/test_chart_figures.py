"""The summary chart's figures (``CampaignFigures.chart``) are the campaign's figures in all
the chart draws — its counts, its response legs, its days' counts — so the chart drawn from
them is the very chart drawn from ``CampaignFigures.figures``; they skip what it does not
draw (the other periods, the hours, the districts, the days' legs)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from pathlib import Path

import pytest

from bot.db.campaign_stats import CampaignStatsStore
from bot.db.database import Database, to_db_time
from bot.domain.campaign import Grouping, PeriodKey
from bot.services.campaign import CampaignFigures

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 12, 1, 3, 17, tzinfo=dt.UTC)
OUTCOMES = [None, "brought_in", "hospital", "not_found", "gone", "duplicate", "family"]


async def _seed(db: Database, rng: random.Random, n: int) -> None:
    async with db.write() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
            (to_db_time(T0), to_db_time(T0)),
        )
        for i in range(1, n + 1):
            created = T0 + dt.timedelta(seconds=rng.uniform(-86400, 9 * 86400))
            claimed = created + dt.timedelta(seconds=rng.uniform(0, 5400))
            arrived = claimed + dt.timedelta(seconds=rng.uniform(0, 7200))
            outcome = rng.choice(OUTCOMES)
            await tx.execute(
                """INSERT INTO tips (code, source, reporter_id, lat, lon, seen, people, state,
                       outcome, urgent, district, group_key, created_at, updated_at,
                       claimed_at, arrived_at)
                   VALUES (?, 'reporter', 1, 30.2, 115.0, 'now', '1', ?, ?, ?, ?, 'g1', ?, ?,
                       ?, ?)""",
                (f"HS-{i:05d}", "closed" if outcome else rng.choice(["claimed", "dispatched"]),
                 outcome, int(rng.random() < 0.2), rng.choice(["", "黄石港区", "下陆区"]),
                 to_db_time(created), to_db_time(created),
                 to_db_time(claimed) if rng.random() < 0.8 else None,
                 to_db_time(arrived) if rng.random() < 0.6 else None),
            )  # fmt: skip
            if i % 11 == 0:  # searched before, not found, reopened
                await tx.execute(
                    """INSERT INTO tip_attempts (tip_id, attempt, outcome, closed_at,
                           reopened_at) VALUES (?, 1, 'not_found', ?, ?)""",
                    (i, to_db_time(created), to_db_time(created)),
                )


@pytest.mark.parametrize("days_in", [3, 8, 40])
async def test_the_chart_figures_are_the_campaign_figures_it_draws(
    tmp_path: Path, days_in: int
) -> None:
    from bot.views import charts

    db = await Database(tmp_path / "c.sqlite3").open()
    try:
        await _seed(db, random.Random(days_in), 300)
        store = CampaignStatsStore(db)
        asked: list[tuple] = []
        tallies = store.tallies

        async def recording(*args, **kwargs):
            asked.append(args[3:] + tuple(kwargs.values()))
            return await tallies(*args, **kwargs)

        store.tallies = recording  # type: ignore[method-assign]
        service = CampaignFigures(
            store,
            tz=TZ,
            campaign_start=T0.date(),
            campaign_end=T0.date() + dt.timedelta(days=60),
            reminder_times=["09:00", "20:00"],
            clock=lambda: T0 + dt.timedelta(days=days_in),
        )
        full = (await service.figures())[PeriodKey.CAMPAIGN]
        chart = await service.chart()
        assert chart.period == full.period
        assert chart.counts == full.counts and chart.response == full.response
        assert [(g.key, g.counts) for g in chart.by_day] == [
            (g.key, g.counts) for g in full.by_day
        ]
        assert full.counts.received > 100 and full.response  # something to draw
        assert sum(g.counts.located for g in full.by_day) > 10
        # One period, two groupings, the legs of the whole period only.
        assert asked[-1] == ((Grouping.ALL, Grouping.DAY), (Grouping.ALL,))
        assert charts.render(chart, "zh") == charts.render(full, "zh")
    finally:
        await db.close()
