"""The campaign's figures (bot/domain/campaign.py counted by bot/db/campaign_stats.py) equal
an independent recount of the same tips in plain Python: every count, every median and p90
with its count, by district, by hour of the day and by day, patrols, rewards — in the
station's time zone, a daylight-saving one too.

The recount below shares nothing with the code under test but the table layout: it reads
the rows with sqlite3, converts times with zoneinfo, takes quantiles with ``statistics``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sqlite3
import statistics
import zoneinfo
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db.campaign_stats import CampaignStatsStore
from bot.db.database import Database, to_db_time
from bot.domain.campaign import (
    Leg,
    PeriodFigures,
    PeriodKey,
    Unit,
    offset_spans,
    quantile_position,
    ranks_needed,
    spread,
)
from bot.domain.draft import Draft
from bot.domain.schedule import patrols_required
from bot.domain.tips import Action, Outcome, People, Seen
from bot.services.campaign import CampaignFigures
from tests.harness import G1_MEMBER, G1_MEMBER2, REPORTER, REPORTER_EN, STRANGER, world

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OUTCOMES = [None, "brought_in", "hospital", "supplies_only", "family", "not_found", "gone",
            "duplicate", "invalid"]  # fmt: skip
LOCATED = {"brought_in", "hospital", "supplies_only", "family"}
MISSED = {"not_found", "gone"}
DISTRICTS = ["黄石港区", "西塞山区", "下陆区", "铁山区", None]
TIMES = ["09:00", "20:00"]


# -- seeding ------------------------------------------------------------------------------------


async def insert_tip(
    tx,
    i: int,
    created: dt.datetime,
    *,
    state: str = "dispatched",
    outcome: str | None = None,
    claimed: dt.datetime | None = None,
    arrived: dt.datetime | None = None,
    urgent: bool = False,
    district: str | None = None,
) -> None:
    await tx.execute(
        """INSERT INTO tips (id, code, source, reporter_id, lat, lon, seen, people, state,
               outcome, urgent, district, group_key, created_at, updated_at, claimed_at,
               arrived_at, closed_at, duplicate_of)
           VALUES (?, ?, 'reporter', 1, 30.2, 115.0, 'now', '1', ?, ?, ?, ?, 'g1', ?, ?, ?, ?,
                   ?, ?)""",
        (
            i,
            f"HS-{i:04d}",
            state,
            outcome,
            int(urgent),
            district,
            to_db_time(created),
            to_db_time(created),
            to_db_time(claimed) if claimed else None,
            to_db_time(arrived) if arrived else None,
            to_db_time(arrived or claimed or created) if state == "closed" else None,
            1 if outcome == "duplicate" and i > 1 else None,
        ),
    )


async def seed(db: Database, n: int, rng: random.Random, start: dt.datetime, days: int) -> None:
    """``n`` random tips over ``days`` from ``start``, with every state and outcome, claims
    that never arrived, times a microsecond either side of station midnight, equal durations
    (ties), rewards in every state and patrols."""
    async with db.write() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, ?, ?)",
            (to_db_time(start), to_db_time(start)),
        )
        for i in range(1, n + 1):
            if rng.random() < 0.1:  # on a station midnight, or just before it
                day = start + dt.timedelta(days=rng.randrange(days))
                created = day - dt.timedelta(microseconds=rng.choice([0, 1]))
            else:
                created = start + dt.timedelta(seconds=rng.uniform(0, days * 86400))
            outcome = rng.choice(OUTCOMES)
            state = "closed" if outcome else rng.choice(["dispatched", "claimed", "withdrawn"])
            claimed = arrived = None
            if state == "claimed" or outcome in LOCATED | MISSED or rng.random() < 0.3:
                claimed = created + dt.timedelta(microseconds=rng.randrange(1, 50 * 60 * 10**6))
                if rng.random() < 0.1:
                    claimed = created + dt.timedelta(minutes=5)  # ties
                if outcome in LOCATED or rng.random() < 0.5:  # else: claimed, never arrived
                    arrived = claimed + dt.timedelta(microseconds=rng.randrange(0, 10**9))
            await insert_tip(
                tx,
                i,
                created,
                state=state,
                outcome=outcome,
                claimed=claimed,
                arrived=arrived,
                urgent=rng.random() < 0.25,
                district=rng.choice(DISTRICTS),
            )
            if outcome in LOCATED and rng.random() < 0.7:
                reward_state = rng.choice(["pending", "approved", "paid", "rejected"])
                await tx.execute(
                    """INSERT INTO rewards (tip_id, reporter_id, amount, currency, state,
                           paid_amount, created_at, updated_at)
                       VALUES (?, 1, 200, 'CNY', ?, ?, ?, ?)""",
                    (
                        i,
                        reward_state,
                        rng.choice([200, 150]) if reward_state == "paid" else None,
                        to_db_time(created),
                        to_db_time(created),
                    ),
                )
        for _ in range(rng.randrange(0, 3 * days + 1)):
            started = start + dt.timedelta(seconds=rng.uniform(0, days * 86400))
            await tx.execute(
                """INSERT INTO patrols (group_key, chat_id, started_by, started_at)
                   VALUES ('g1', -1, 7, ?)""",
                (to_db_time(started),),
            )


# -- the independent recount --------------------------------------------------------------------


def utc(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def quantiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def recount_group(tips: list[dict]) -> dict:
    legs = {
        Leg.REPORT_CLAIM: ("created", "claimed"),
        Leg.CLAIM_ARRIVAL: ("claimed", "arrived"),
        Leg.REPORT_ARRIVAL: ("created", "arrived"),
    }
    response = {}
    for leg, (a, b) in legs.items():
        minutes = [
            (t[b] - t[a]) / dt.timedelta(minutes=1) for t in tips if t[a] and t[b]
        ]  # a timedelta ÷ a timedelta: exact to the microsecond
        response[leg] = (len(minutes), *quantiles(minutes))
    outcomes = Counter(t["outcome"] for t in tips if t["outcome"])
    return {
        "received": len(tips),
        "urgent": sum(t["urgent"] for t in tips),
        "open": sum(t["state"] not in ("closed", "withdrawn") for t in tips),
        "withdrawn": sum(t["state"] == "withdrawn" for t in tips),
        "outcomes": dict(sorted(outcomes.items())),
        "located": sum(t["outcome"] in LOCATED for t in tips),
        "not_found": sum(t["outcome"] in MISSED for t in tips),
        "incidents": sum(t["outcome"] != "duplicate" for t in tips),
        "response": response,
    }


def recount(path: Path, tz: zoneinfo.ZoneInfo, first: dt.date, last: dt.date) -> dict:
    """Everything about the tips received on station days ``first``…``last``."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM tips")]
        rewards = [
            dict(r)
            for r in conn.execute(
                "SELECT rewards.*, tips.created_at AS tip_at FROM rewards JOIN tips "
                "ON tips.id = rewards.tip_id"
            )
        ]
        patrols = [utc(r[0]) for r in conn.execute("SELECT started_at FROM patrols")]
    tips = []
    for r in rows:
        local = utc(r["created_at"]).astimezone(tz)
        if first <= local.date() <= last:
            tips.append(
                {
                    "local": local,
                    "created": utc(r["created_at"]),
                    "claimed": utc(r["claimed_at"]),
                    "arrived": utc(r["arrived_at"]),
                    "state": r["state"],
                    "outcome": r["outcome"],
                    "urgent": bool(r["urgent"]),
                    "district": r["district"] or "",
                }
            )
    by = lambda key: {  # noqa: E731
        k: recount_group([t for t in tips if key(t) == k]) for k in {key(t) for t in tips}
    }
    states: dict[str, list[int]] = {}
    for r in rewards:
        if first <= utc(r["tip_at"]).astimezone(tz).date() <= last:
            paid = r["paid_amount"] if r["state"] == "paid" and r["paid_amount"] else r["amount"]
            states.setdefault(r["state"], []).append(paid)
    return {
        "all": recount_group(tips),
        "district": by(lambda t: t["district"]),
        "hour": by(lambda t: t["local"].hour),
        "day": by(lambda t: t["local"].date()),
        "patrols": sum(first <= p.astimezone(tz).date() <= last for p in patrols),
        "rewards": {s: (len(v), sum(v)) for s, v in states.items()},
        "days": [first + dt.timedelta(days=i) for i in range((last - first).days + 1)],
    }


def assert_group(group, expected: dict) -> None:
    c = group.counts
    got = {
        "received": c.received,
        "urgent": c.urgent,
        "open": c.open,
        "withdrawn": c.withdrawn,
        "outcomes": c.outcomes,
        "located": c.located,
        "not_found": c.not_found,
        "incidents": c.resolution[Unit.INCIDENT].total,
    }
    assert got == {k: v for k, v in expected.items() if k != "response"}
    assert c.resolution[Unit.TIP].total == c.received
    assert c.resolution[Unit.INCIDENT].located == c.located
    for leg, (count, median, p90) in expected["response"].items():
        s = group.response[leg]
        assert s.count == count, leg
        if median is None:
            assert (s.median, s.p90) == (None, None), leg
        else:
            assert s.median == pytest.approx(median, rel=1e-12, abs=1e-9), leg
            assert s.p90 == pytest.approx(p90, rel=1e-12, abs=1e-9), leg


EMPTY_GROUP = recount_group([])


def assert_period(f: PeriodFigures, expected: dict, required: int) -> None:
    assert_group(f, expected["all"])
    assert [g.key for g in f.by_day] == [d.isoformat() for d in expected["days"]]
    for group in f.by_day:
        assert_group(group, expected["day"].get(dt.date.fromisoformat(group.key), EMPTY_GROUP))
    assert [g.key for g in f.by_hour] == [f"{h:02d}" for h in range(24)]
    for group in f.by_hour:
        assert_group(group, expected["hour"].get(int(group.key), EMPTY_GROUP))
    assert {g.key for g in f.by_district} == set(expected["district"])
    for group in f.by_district:
        assert_group(group, expected["district"][group.key])
    received = [g.counts.received for g in f.by_district]
    assert received == sorted(received, reverse=True)  # most tips first
    assert f.patrols_done == expected["patrols"]
    assert f.patrols_required == required
    rewards = expected["rewards"]
    for state in ("pending", "approved", "paid", "rejected"):
        assert getattr(f.rewards, state) == rewards.get(state, (0, 0)), state


def service(db: Database, tz: zoneinfo.ZoneInfo, start: dt.date, end: dt.date, now: dt.datetime):
    return CampaignFigures(
        CampaignStatsStore(db),
        tz=tz,
        campaign_start=start,
        campaign_end=end,
        reminder_times=TIMES,
        clock=lambda: now,
    )


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed_no", "n"), [(1, 0), (2, 1), (3, 2), (4, 57), (5, 400)])
async def test_figures_equal_an_independent_recount(tmp_path: Path, seed_no: int, n: int) -> None:
    path = tmp_path / "stats.sqlite3"
    db = await Database(path).open()
    try:
        start = dt.datetime(2026, 11, 21, tzinfo=SHANGHAI)
        # Tips from before the campaign to today, so every period has some outside it.
        await seed(db, n, random.Random(seed_no), start - dt.timedelta(days=2), 13)
        now = dt.datetime(2026, 12, 1, 21, 0, tzinfo=SHANGHAI)  # after both reminders
        figures = await service(db, SHANGHAI, start.date(), dt.date(2027, 3, 15), now).figures()
    finally:
        await db.close()
    today = now.date()
    expected = {
        PeriodKey.TODAY: (today, today, 2),
        PeriodKey.LAST_7_DAYS: (today - dt.timedelta(days=6), today, 14),
        PeriodKey.CAMPAIGN: (start.date(), today, 22),  # 11 days, two patrols a day
    }
    assert list(figures) == list(expected)
    for key, (first, last, required) in expected.items():
        assert_period(figures[key], recount(path, SHANGHAI, first, last), required)


async def test_daylight_saving_station_days_and_hours(tmp_path: Path) -> None:
    """A station clock that changes (Europe/Berlin, 2026-10-25 03:00 → 02:00): days and hours
    are the station's on both sides of the change."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    path = tmp_path / "dst.sqlite3"
    db = await Database(path).open()
    try:
        start = dt.datetime(2026, 10, 20, tzinfo=berlin)
        await seed(db, 300, random.Random(7), start, 12)
        now = dt.datetime(2026, 10, 31, 12, 0, tzinfo=berlin)  # after 09:00, before 20:00
        figures = await service(db, berlin, start.date(), dt.date(2026, 12, 31), now).figures()
    finally:
        await db.close()
    campaign = figures[PeriodKey.CAMPAIGN]
    assert len(campaign.by_day) == 12
    assert_period(campaign, recount(path, berlin, start.date(), now.date()), 11 * 2 + 1)
    assert_period(figures[PeriodKey.TODAY], recount(path, berlin, now.date(), now.date()), 1)


async def test_edge_cases_by_hand(tmp_path: Path) -> None:
    """No tips; a tip claimed that nobody reached; a tip whose UTC day is not its station
    day; the campaign not started yet."""
    db = await Database(tmp_path / "edge.sqlite3").open()
    try:
        now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)  # before the 09:00 reminder
        campaign = (dt.date(2026, 11, 21), dt.date(2027, 3, 15))
        empty = await service(db, SHANGHAI, *campaign, now).figures()
        for f in empty.values():
            assert f.counts.received == 0 and f.counts.located == 0
            assert f.counts.resolution[Unit.TIP].located_share is None
            assert all(s.count == 0 and s.median is None for s in f.response.values())
            assert f.by_district == [] and len(f.by_hour) == 24
            assert f.patrols_done == 0
        assert [len(empty[k].by_day) for k in PeriodKey] == [1, 7, 11]
        assert empty[PeriodKey.TODAY].patrols_required == 0  # 09:00 has not come yet
        assert empty[PeriodKey.CAMPAIGN].patrols_required == 20

        async with db.write() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, created_at, updated_at) VALUES (1, '', '')"
            )
            # 2026-11-30 16:30 UTC is 00:30 on 12-01 in Huangshi: today's tip, at hour 00.
            late = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
            await insert_tip(tx, 1, late, state="claimed", claimed=late + dt.timedelta(minutes=7))
            # 2026-11-30 15:59:59.999999 UTC is still 11-30 (23:59:59.999999).
            eve = dt.datetime(2026, 11, 30, 15, 59, 59, 999999, tzinfo=dt.UTC)
            reached = eve + dt.timedelta(minutes=3)
            await insert_tip(
                tx,
                2,
                eve,
                state="closed",
                outcome="brought_in",
                claimed=reached,
                arrived=reached + dt.timedelta(minutes=12),
                urgent=True,
            )
        figures = await service(db, SHANGHAI, *campaign, now).figures()
    finally:
        await db.close()
    today = figures[PeriodKey.TODAY]
    assert today.counts.received == 1 and today.counts.open == 1
    claim, arrival = today.response[Leg.REPORT_CLAIM], today.response[Leg.REPORT_ARRIVAL]
    assert (claim.count, claim.median, claim.p90) == (1, 7.0, 7.0)  # claimed…
    assert (arrival.count, arrival.median) == (0, None)  # …never reached
    assert [g.counts.received for g in today.by_hour][:2] == [1, 0]
    week = figures[PeriodKey.LAST_7_DAYS]
    assert week.counts.received == 2 and week.counts.urgent == 1 and week.counts.located == 1
    assert week.counts.resolution[Unit.TIP].located_share == 1.0
    assert [g.counts.received for g in week.by_day][-2:] == [1, 1]
    assert week.by_hour[23].counts.received == 1
    assert week.response[Leg.CLAIM_ARRIVAL].median == 12.0
    assert week.response[Leg.REPORT_CLAIM].median == 5.0  # 3 and 7 minutes

    db = await Database(tmp_path / "edge.sqlite3").open()
    try:
        later = (dt.date(2026, 12, 5), dt.date(2027, 3, 15))
        before = await service(db, SHANGHAI, *later, now).figures()
    finally:
        await db.close()
    assert before[PeriodKey.CAMPAIGN].by_day == []  # not started: an empty period
    assert before[PeriodKey.CAMPAIGN].counts.received == 0
    assert before[PeriodKey.CAMPAIGN].patrols_required == 0
    assert before[PeriodKey.TODAY].counts.received == 1  # today's tips count all the same


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=60))
def test_quantiles_from_the_needed_ranks_equal_statistics(values: list[int]) -> None:
    ordered = sorted(values)
    n = len(ordered)
    s = spread(n, {rank: ordered[rank] for rank in ranks_needed(n)})
    minutes = [Fraction(v, 60_000_000) for v in ordered]
    assert s.count == n
    assert s.median == pytest.approx(float(statistics.median(minutes)), rel=1e-12, abs=1e-12)
    p90 = minutes[0] if n == 1 else statistics.quantiles(minutes, n=10, method="inclusive")[8]
    assert s.p90 == pytest.approx(float(p90), rel=1e-12, abs=1e-12)
    assert len(ranks_needed(n)) <= 4


def test_quantile_positions() -> None:
    assert quantile_position(1, Fraction(9, 10)) == (0, 0)
    assert quantile_position(11, Fraction(9, 10)) == (9, 0)
    assert quantile_position(4, Fraction(1, 2)) == (1, Fraction(1, 2))
    assert ranks_needed(0) == [] and ranks_needed(1) == [0] and ranks_needed(2) == [0, 1]
    assert ranks_needed(10) == [4, 5, 8, 9]


@pytest.mark.parametrize(
    ("zone", "since", "until", "changes"),
    [
        ("Asia/Shanghai", dt.datetime(2026, 11, 21), dt.datetime(2027, 3, 16), []),
        (
            "Europe/Berlin",
            dt.datetime(2026, 3, 1),
            dt.datetime(2026, 12, 1),
            [
                dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
                dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),
            ],
        ),
        ("America/New_York", dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 1, 0, 30), []),
        (
            "America/New_York",
            dt.datetime(2026, 11, 1),
            dt.datetime(2026, 11, 2),
            [dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)],
        ),
        ("Asia/Shanghai", dt.datetime(2026, 12, 5), dt.datetime(2026, 12, 5), []),
    ],
)
def test_offset_spans(zone: str, since: dt.datetime, until: dt.datetime, changes: list) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    spans = offset_spans(since.replace(tzinfo=tz), until.replace(tzinfo=tz), tz)
    assert [s.start for s in spans[1:]] == changes
    assert spans[0].start == since.replace(tzinfo=tz)
    assert spans[-1].end == until.replace(tzinfo=tz)
    for a, b in itertools.pairwise(spans):
        assert a.end == b.start and a.offset_seconds != b.offset_seconds
    for s in spans:  # every instant of a span has its offset
        for moment in (s.start, s.end - dt.timedelta(seconds=1)):
            if s.end > s.start:
                assert moment.astimezone(tz).utcoffset().total_seconds() == s.offset_seconds


def test_patrols_required_counts_reminder_slots_on_campaign_days() -> None:
    times = [dt.time(9), dt.time(20)]
    at = lambda d, h=0: dt.datetime(2026, 11, d, h, tzinfo=SHANGHAI)  # noqa: E731
    start, end = dt.date(2026, 11, 21), dt.date(2026, 11, 25)
    assert patrols_required(at(21), at(22), times, start, end) == 2
    assert patrols_required(at(21), at(21, 9), times, start, end) == 0  # 09:00 excluded
    assert patrols_required(at(21), at(21, 10), times, start, end) == 1
    assert patrols_required(at(18), at(30), times, start, end) == 10  # only campaign days
    assert patrols_required(at(26), at(28), times, start, end) == 0
    assert patrols_required(at(22), at(22), times, start, end) == 0


async def test_figures_of_tips_worked_through_the_services(tmp_path: Path) -> None:
    """The columns the real services write are the ones counted: a tip claimed, released,
    claimed again, reached and closed; one claimed and never reached; one withdrawn."""
    async with world(tmp_path) as w:
        services = w.services

        async def submit(user: int, lat: float) -> int:
            draft = replace(
                Draft(user_id=user).with_location(lat, 115.04, None, "黄石站门口"),
                seen=Seen.NOW,
                people=People.ONE,
                description="穿红外套的老人",
            )
            await services.reports.save(draft)
            result = await services.reports.submit(user)
            assert result.value is not None
            return result.value.tip.id

        field = services.field
        first = await submit(REPORTER, 30.20)
        w.clock.advance(minutes=4)
        assert (await field.act(first, Action.CLAIM, G1_MEMBER)).ok
        w.clock.advance(minutes=2)
        assert (await field.act(first, Action.RELEASE, G1_MEMBER)).ok
        w.clock.advance(minutes=3)
        assert (await field.act(first, Action.CLAIM, G1_MEMBER2)).ok  # the claim in force
        w.clock.advance(minutes=11)
        assert (await field.act(first, Action.ARRIVE, G1_MEMBER2)).ok
        assert (await field.act(first, Action.CLOSE, G1_MEMBER2, outcome=Outcome.FAMILY)).ok
        second = await submit(REPORTER_EN, 30.25)
        w.clock.advance(minutes=6)
        assert (await field.act(second, Action.CLAIM, G1_MEMBER)).ok  # nobody got there
        third = await submit(STRANGER, 30.30)
        assert (await services.reports.withdraw(STRANGER, third)).ok
        figures = await CampaignFigures(
            w.repo.campaign,
            tz=SHANGHAI,
            campaign_start=w.config.campaign.start,
            campaign_end=w.config.campaign.end,
            reminder_times=w.config.patrol.reminder_times,
            clock=w.clock,
        ).figures()
        path = w.db_path
    today = figures[PeriodKey.TODAY]
    day = w.clock().astimezone(SHANGHAI).date()
    assert_period(today, recount(path, SHANGHAI, day, day), today.patrols_required)
    c = today.counts
    assert (c.received, c.open, c.withdrawn, c.located, c.outcomes) == (3, 1, 1, 1, {"family": 1})
    assert today.response[Leg.REPORT_CLAIM].count == 2
    assert today.response[Leg.REPORT_CLAIM].median == (9 + 6) / 2  # from the claim in force
    assert today.response[Leg.CLAIM_ARRIVAL].median == 11.0
    assert today.response[Leg.REPORT_ARRIVAL].count == 1
    assert today.rewards.pending == (1, w.config.reward.amount)
