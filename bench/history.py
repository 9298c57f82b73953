"""Benchmark 4 — a campaign's history: 10k, 100k and 1M tips.

Each database is seeded once (plain sqlite3, executemany, indexes built after the load) and
cached under /tmp/warmline-history-cache/ (delete it to re-seed; the 1M one takes about a
minute). The schema comes from the migrations: the file is opened once with
``bot.db.database.Database`` before seeding, and again before measuring (so a newer migration
is applied to a cached database too).

The data: tips spread over the campaign (2026-11-21 → "now", 2027-03-10 08:30 station time),
more of them in the evening and at night, over Huangshi's box (29.5–30.35 N, 114.5–115.6 E),
four in five around six urban hotspots, ids in order of arrival; the 300 latest tips open, the
rest closed (outcomes in realistic shares, claim and scene times), one
reporter per ~4 tips; rewards for half of the verified reporter tips with their ledger
entries (pending → approved → paid, a few rejected); two to four patrols a day. The event
log is not seeded (no measured query reads it).

Timed (median of many runs, warm cache), through the bot's own code on an aiosqlite
connection, as the bot runs it:
  * duplicate lookup near a point: Repo.open_tips_in_box + dedup.nearby (6 h window, 250 m)
  * /open: Repo.open_tips()
  * the daily summary: ScheduleService.figures_for for yesterday and for campaign-to-date,
    and the whole text the officers get (Summary.text: both blocks with their response legs)
  * ledger totals: RewardService.movements_between for today, this month and the campaign
Every SQL statement they run is shown with its EXPLAIN QUERY PLAN at 1M.

    .venv/bin/python bench/history.py [--sizes 10000,100000,1000000] [--runs 25]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load, table, verdict

from bot.app import build_services
from bot.config import parse_config
from bot.db.campaign_stats import CampaignStatsStore
from bot.db.database import Database
from bot.db.repo import Repo
from bot.domain import dedup
from bot.domain.rewards import ledger_periods, movements_from_sums
from bot.geo.area import HUANGSHI
from bot.geo.geocoder import Geocoder
from bot.services.campaign import CampaignFigures
from bot.services.clock import StationClock
from bot.services.reach import Reach
from bot.station import Station, directory_from, roster_from

# BENCH_HISTORY_CACHE: another folder for the seeded databases (e.g. one per checkout).
CACHE = Path(os.environ.get("BENCH_HISTORY_CACHE") or "/tmp/warmline-history-cache")
SEED_VERSION = 4
TZ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 21, tzinfo=TZ)
NOW = dt.datetime(2027, 3, 10, 8, 30, tzinfo=TZ)
OPEN_TIPS = 300
TARGET_RATIO = 2.0
HOTSPOTS = [  # (lat, lon, sigma degrees): urban Huangshi, Daye, Yangxin…
    (30.20, 115.04, 0.02),
    (30.22, 115.08, 0.015),
    (30.10, 114.97, 0.02),
    (29.85, 115.40, 0.02),
    (30.25, 115.00, 0.01),
    (30.18, 115.10, 0.01),
]
OUTCOMES = [  # (outcome, weight, verified)
    ("brought_in", 25, True),
    ("hospital", 5, True),
    ("supplies_only", 25, True),
    ("family", 5, True),
    ("not_found", 20, False),
    ("gone", 10, False),
    ("duplicate", 7, False),
    ("invalid", 3, False),
]
CONFIG = """
[telegram]
token = "1:x"
[[groups]]
key = "g1"
name = "第一小组"
chat_id = -1001
leader = 1
[[groups]]
key = "g2"
name = "第二小组"
chat_id = -1002
leader = 2
[roster]
order = ["g1", "g2"]
[officers]
user_ids = [3]
"""


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- seeding --------------------------------------------------------------------------------------
def point(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.8:
        lat, lon, sigma = rng.choice(HOTSPOTS)
        lat, lon = rng.gauss(lat, sigma), rng.gauss(lon, sigma)
    else:
        lat, lon = rng.uniform(29.5, 30.35), rng.uniform(114.5, 115.6)
    return round(min(max(lat, 29.5), 30.35), 6), round(min(max(lon, 114.5), 115.6), 6)


_HOUR_WEIGHTS = [3, 2, 2, 1, 1, 1, 2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 3, 4, 6, 7, 7, 6, 5, 4]


def moment(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    days = (end - start).days + 1  # the last, partial day too
    while True:
        day = start + dt.timedelta(days=rng.randrange(days))
        hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
        at = day.replace(hour=hour) + dt.timedelta(seconds=rng.uniform(0, 3600))
        if start <= at < end:
            return at


def seed(path: Path, n: int) -> None:
    asyncio.run(_migrate(path))
    rng = random.Random(n)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("BEGIN")
    indexes = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('tips', 'rewards', 'ledger', 'users', 'patrols')"
        )
    ]
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    reporters = max(10, n // 4)
    created = iso(START)
    conn.executemany(
        "INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        ((100_000 + i, f"市民{i}", created, created) for i in range(reporters)),
    )
    weights = [w for _, w, _ in OUTCOMES]
    tips, rewards, ledger = [], [], []
    # Tip ids grow with time, as in the bot (AUTOINCREMENT in arrival order); the most recent
    # OPEN_TIPS are still open, the others closed.
    times = sorted(moment(rng, START, NOW) for _ in range(n))
    for tip_id, at in enumerate(times, start=1):
        is_open = tip_id > n - OPEN_TIPS
        lat, lon = point(rng)
        source = "hotline" if rng.random() < 0.1 else "reporter"
        reporter = 100_000 + rng.randrange(reporters) if source == "reporter" else None
        flags = rng.choice(["", "", "elderly", "underdressed", "ill", "child", "elderly,ill"])
        urgent = int("ill" in flags or "child" in flags)
        claimed = arrived = closed = None
        state, outcome, supplies, claimed_by = "dispatched", None, None, None
        if is_open:
            state = rng.choice(["dispatched", "dispatched", "claimed", "en_route", "on_scene"])
            if state != "dispatched":
                claimed = at + dt.timedelta(minutes=rng.uniform(1, 15))
                claimed_by = 7101
        else:
            index = rng.choices(range(len(OUTCOMES)), weights)[0]
            outcome, _, verified = OUTCOMES[index]
            state = "closed"
            if outcome in ("duplicate", "invalid"):
                closed = at + dt.timedelta(minutes=rng.uniform(2, 30))
            else:
                claimed = at + dt.timedelta(minutes=rng.expovariate(1 / 6))
                arrived = claimed + dt.timedelta(minutes=rng.uniform(8, 40))
                closed = arrived + dt.timedelta(minutes=rng.uniform(10, 60))
                claimed_by = 7101
            if outcome == "supplies_only":
                supplies = rng.choice(["coat", "coat,quilt", "food,quilt", "drink,food"])
            if verified and reporter is not None and rng.random() < 0.5:
                reward_id = len(rewards) + 1
                state_r = rng.choices(["paid", "approved", "pending", "rejected"], [70, 10, 15, 5])[
                    0
                ]
                r_at = closed
                rewards.append(
                    (reward_id, tip_id, reporter, 200, "CNY", state_r, 7102, iso(r_at), iso(r_at))
                )
                ledger.append((reward_id, tip_id, "pending", 200, "CNY", None, iso(r_at)))
                if state_r == "rejected":
                    ledger.append((reward_id, tip_id, "rejected", 200, "CNY", 7901, iso(r_at)))
                elif state_r in ("approved", "paid"):
                    a_at = r_at + dt.timedelta(hours=rng.uniform(1, 48))
                    ledger.append((reward_id, tip_id, "approved", 200, "CNY", 7901, iso(a_at)))
                    if state_r == "paid":
                        p_at = a_at + dt.timedelta(hours=rng.uniform(1, 72))
                        ledger.append((reward_id, tip_id, "paid", 200, "CNY", 7901, iso(p_at)))
        tips.append(
            (
                tip_id,
                f"HS-{tip_id:04d}",
                source,
                reporter,
                7901 if reporter is None else None,
                lat,
                lon,
                "黄石港区",
                rng.choice(["now", "hour", "today"]),
                rng.choice(["1", "1", "1", "2", "3+"]),
                flags,
                urgent,
                state,
                outcome,
                supplies,
                rng.choice(["g1", "g2"]),
                claimed_by,
                claimed_by if closed else None,
                iso(at),
                iso(closed or claimed or at),
                iso(at),
                iso(claimed) if claimed else None,
                iso(arrived) if arrived else None,
                iso(closed) if closed else None,
            )
        )
        if len(tips) >= 50_000:
            _insert_tips(conn, tips)
            tips = []
    _insert_tips(conn, tips)
    conn.executemany(
        """INSERT INTO rewards (id, tip_id, reporter_id, amount, currency, state, verified_by,
               created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rewards,
    )
    conn.executemany(
        """INSERT INTO ledger (reward_id, tip_id, entry, amount, currency, actor_id, at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        sorted(ledger, key=lambda e: e[-1]),
    )
    patrols = []
    day = START
    while day < NOW:
        for _ in range(rng.randint(2, 4)):
            started = day + dt.timedelta(hours=rng.choice([9, 20, 23]), minutes=rng.randint(0, 50))
            if started >= NOW:
                continue
            ended = started + dt.timedelta(hours=rng.uniform(1, 3))
            patrols.append(
                (
                    rng.choice(["g1", "g2"]),
                    -1001,
                    7101,
                    "背街小巷",
                    iso(started),
                    7101,
                    iso(ended),
                    rng.randint(0, 6),
                    '{"coat": 2, "food": 3}',
                )
            )
        day += dt.timedelta(days=1)
    conn.executemany(
        """INSERT INTO patrols (group_key, chat_id, started_by, area, started_at, ended_by,
               ended_at, people_met, supplies) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        patrols,
    )
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    # No ANALYZE: the bot never runs it, so the planner works without statistics here too.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def _insert_tips(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        """INSERT INTO tips (id, code, source, reporter_id, logged_by, lat, lon, district, seen,
               people, flags, urgent, state, outcome, supplies, group_key, claimed_by,
               closed_by, created_at, updated_at, dispatched_at, claimed_at, arrived_at,
               closed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )


async def _migrate(path: Path) -> None:
    db = await Database(path).open()
    await db.close()


def database(n: int) -> tuple[Path, float | None]:
    """The cached database with ``n`` tips (seeded if missing); (path, seconds seeding took)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"tips-{n}-seed{SEED_VERSION}.sqlite3"
    if path.exists():
        return path, None
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    seed(partial, n)
    partial.rename(path)
    return path, time.monotonic() - started


# -- measuring ------------------------------------------------------------------------------------
class Recorder:
    """Records the SQL a measured operation runs (for EXPLAIN QUERY PLAN)."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[tuple[str, tuple]] = []

    def install(self, db: Database) -> None:
        fetchall, fetchone = db.fetchall, db.fetchone

        async def rec_fetchall(sql: str, params: tuple | dict = (), *, heavy: bool = False):
            if self.on:
                self.statements.append((sql, params))
            return await fetchall(sql, params, heavy=heavy)

        async def rec_fetchone(sql: str, params: tuple | dict = (), *, heavy: bool = False):
            if self.on:
                self.statements.append((sql, params))
            return await fetchone(sql, params, heavy=heavy)

        db.fetchall, db.fetchone = rec_fetchall, rec_fetchone  # type: ignore[method-assign]


def campaign_figures(db: Database) -> CampaignFigures:
    """The campaign's figures (`/stats`, the dashboard's numbers, the chart) on a seeded
    database, as the station's configuration has them, at :data:`NOW`."""
    return CampaignFigures(
        CampaignStatsStore(db),
        tz=zoneinfo.ZoneInfo("Asia/Shanghai"),
        campaign_start=START.date(),
        campaign_end=dt.date(2027, 3, 15),
        reminder_times=["09:00", "20:00"],
        clock=lambda: NOW,
    )


async def measure(path: Path, runs: int, budget_s: float, only: str = "") -> dict:
    db = await Database(path).open()
    recorder = Recorder()
    recorder.install(db)
    try:
        config = parse_config(CONFIG, env={})
        repo = Repo.on(db)
        clock = StationClock(config.station.timezone, lambda: NOW.astimezone(dt.UTC))
        reach = await Reach(directory_from(config), repo.chats, db).load()
        station = Station(config, db, repo, clock, reach, roster_from(config))
        services, _ = build_services(
            station, None, geocoder=Geocoder(provider="offline", area=HUANGSHI), fetch_forecast=None
        )
        summary = services.schedules.summary
        radius = config.reporting.duplicate_radius_m
        window = dt.timedelta(hours=config.reporting.duplicate_window_hours)
        rng = random.Random(5)
        open_tips = await repo.tips.open()
        targets = [(t.lat, t.lon) for t in open_tips[:25]] + [point(rng) for _ in range(25)]
        today = NOW.date()
        today_start = dt.datetime.combine(today, dt.time(), tzinfo=TZ)
        yesterday = today_start - dt.timedelta(days=1)
        campaign = dt.datetime.combine(config.campaign.start, dt.time(), tzinfo=TZ)
        periods = ledger_periods(clock.local(), config.campaign)
        counter = {"i": 0}

        async def dup() -> int:
            lat, lon = targets[counter["i"] % len(targets)]
            counter["i"] += 1
            now = clock.now()
            box = dedup.bounding_box(lat, lon, radius)
            found = dedup.nearby(lat, lon, await repo.tips.open_in_box(box, now - window), radius)
            return len(found)

        async def open_list() -> int:
            return len(await repo.tips.open())

        async def summary_yesterday() -> int:
            return (await summary.figures_for(yesterday, today_start)).received

        async def summary_campaign() -> int:
            return (await summary.figures_for(campaign, today_start)).received

        async def summary_text() -> int:
            # What the officers get: both blocks, each with its response legs (median and
            # p90) and located counts, the rewards now and the revisits' line.
            await summary.text(today)
            return received_to_date

        received_to_date = await summary_campaign()

        def ledger(name: str):
            async def run() -> int:
                moves = movements_from_sums(await repo.ledger.sums(*periods[name]))
                return moves.created[0] + moves.approved[0] + moves.paid[0]

            return run

        ops = {
            "duplicate lookup near a point": dup,
            "/open (every open tip)": open_list,
            "summary: yesterday": summary_yesterday,
            "summary: campaign to date": summary_campaign,
            "whole summary text (both blocks with their legs)": summary_text,
            "ledger totals: today": ledger("today"),
            "ledger totals: this month": ledger("month"),
            "ledger totals: campaign": ledger("campaign"),
        }
        results = {}
        for name, op in ops.items():
            if only not in name:
                continue
            recorder.on, recorder.statements = True, []
            size = await op()  # also warms the cache
            recorder.on = False
            statements = list(dict.fromkeys((sql, repr(p)) for sql, p in recorder.statements))
            seen = set()
            plans = []
            for sql, params in recorder.statements:
                if sql in seen:
                    continue
                seen.add(sql)
                plans.append((sql, _plan(path, sql, params)))
            times = []
            deadline = time.monotonic() + budget_s
            while len(times) < runs and (len(times) < 3 or time.monotonic() < deadline):
                t0 = time.perf_counter()
                await op()
                times.append((time.perf_counter() - t0) * 1000)
            results[name] = {
                "ms": statistics.median(times),
                "runs": len(times),
                "size": size,
                "plans": plans,
                "statements": len(statements),
            }
        return results
    finally:
        await db.close()


def _plan(path: Path, sql: str, params) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    finally:
        conn.close()
    return [row[-1] for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=25, help="runs per measure (median)")
    parser.add_argument("--budget", type=float, default=15.0, help="max seconds per measure")
    parser.add_argument("--only", default="", help="only the measures whose name has this")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    measured = {}
    for n in sizes:
        path, seeded = database(n)
        if seeded is not None:
            print(f"seeded {n:,} tips in {seeded:.0f} s → {path}", flush=True)
        measured[n] = asyncio.run(measure(path, args.runs, args.budget, args.only))
        measured[n]["_load"] = load()
        print(f"measured {n:,} tips (load {measured[n]['_load']})", flush=True)
    small, large = sizes[0], sizes[-1]
    rows = []
    for name in measured[small]:
        if name.startswith("_"):
            continue
        cells = [name]
        for n in sizes:
            r = measured[n][name]
            cells.append(f"{r['ms']:.2f} ({r['size']:,})")
        ratio = measured[large][name]["ms"] / measured[small][name]["ms"]
        cells += [f"{ratio:.1f}×", f"≤ {TARGET_RATIO:.0f}×", verdict(ratio <= TARGET_RATIO)]
        rows.append(cells)
    print()
    print(
        table(
            [
                "measure (median ms; in brackets what it found: tips or entries)",
                *[f"{n:,} tips" for n in sizes],
                f"{large // 1000:,}k ÷ {small // 1000:,}k",
                "target",
                "",
            ],
            rows,
        )
    )
    loads = ", ".join(f"{n:,}: {measured[n]['_load']}" for n in sizes)
    print(f"load 1/5/15 when measured: {loads}")
    print(f"\nEXPLAIN QUERY PLAN at {large:,} tips:")
    for name, r in measured[large].items():
        if name.startswith("_"):
            continue
        print(f"\n{name}:")
        for sql, plan in r["plans"]:
            print("  " + " ".join(sql.split())[:150])
            for line in plan:
                print(f"      {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
