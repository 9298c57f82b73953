"""Benchmark — does a long report stall the bot's reads? (issue 16; task h18b)

The reads of a reporter's step (the draft, then the duplicate lookup near a point: two
round trips, through the bot's own stores) timed back to back, every ``--pace-ms``, first on
an idle bot ("idle"), then while `/stats`'s figures (``CampaignFigures.figures``: all three
periods, per tip) run in a loop beside them ("under /stats"), on benchmark 4's seeded
databases (bench/history.py: the same cache, ``BENCH_HISTORY_CACHE``; seeded once if
missing). Each size runs on a fresh copy of the cached file.

With one read connection a step waits behind whichever statement of the figures is running
(hundreds of ms at 10k tips, seconds at 100k); with the figures on a connection of their
own it waits only for the event loop.

    .venv/bin/python bench/isolation.py [--sizes 10000,100000] [--seconds 20]
    BENCH_BOT_ROOT=/tmp/before-h18b .venv/bin/python bench/isolation.py   # the code before
    .venv/bin/python bench/isolation.py --before /tmp/before-h18b          # both, one run
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BOT_ROOT, load, table
from history import NOW, campaign_figures, database, point

from bot.db.database import Database
from bot.db.repo import Repo
from bot.domain import dedup

RADIUS_M = 250
WINDOW = dt.timedelta(hours=6)
REPORTER = 600_001


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cell(samples: list[float]) -> list[str]:
    ms = [s * 1000 for s in samples]
    return [
        str(len(ms)),
        f"{statistics.median(ms):.1f}",
        f"{quantile(ms, 0.99):.1f}",
        f"{max(ms):.1f}",
    ]


async def steps(repo: Repo, seconds: float, pace_s: float, rng: random.Random) -> list[float]:
    """A reporter's step's reads, every ``pace_s``, for ``seconds``: each one's latency."""
    took: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        lat, lon = point(rng)
        started = time.perf_counter()
        await repo.drafts.get(REPORTER)
        box = dedup.bounding_box(lat, lon, RADIUS_M)
        dedup.nearby(lat, lon, await repo.tips.open_in_box(box, NOW - WINDOW), RADIUS_M)
        took.append(time.perf_counter() - started)
        await asyncio.sleep(pace_s)
    return took


async def measure(path: Path, seconds: float, pace_s: float) -> list[list[str]]:
    db = await Database(path).open()
    try:
        repo = Repo.on(db)
        figures = campaign_figures(db)
        await steps(repo, 1.0, pace_s, random.Random(1))  # warm the cache
        idle_load = load()
        idle = await steps(repo, seconds, pace_s, random.Random(2))
        done = 0
        report_s: list[float] = []
        stop = asyncio.Event()

        async def reports() -> None:
            nonlocal done
            while not stop.is_set():
                started = time.perf_counter()
                await figures.figures(NOW)
                report_s.append(time.perf_counter() - started)
                done += 1

        looping = asyncio.create_task(reports())
        await asyncio.sleep(0.05)  # the first report under way
        loaded = await steps(repo, seconds, pace_s, random.Random(2))
        busy_load = load()
        stop.set()
        await looping
    finally:
        await db.close()
    per = f"{statistics.median(report_s):.2f} s" if report_s else "—"
    return [
        ["idle", *cell(idle), "", idle_load],
        ["under /stats", *cell(loaded), f"{done} ({per} each)", busy_load],
    ]


def run(sizes: list[int], seconds: float, pace_s: float) -> str:
    rows = []
    for n in sizes:
        cached, _ = database(n)
        with tempfile.TemporaryDirectory(prefix="warmline-isolation-") as tmp:
            path = Path(tmp) / "w.sqlite3"
            shutil.copy(cached, path)
            for row in asyncio.run(measure(path, seconds, pace_s)):
                rows.append([f"{n:,}", *row])
    head = ["tips", "reads of a step", "steps", "p50 ms", "p99 ms", "max ms"]
    head += ["/stats figures done", "load 1/5/15"]
    return f"code: {BOT_ROOT}\n" + table(head, rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase and size")
    parser.add_argument("--pace-ms", type=float, default=20.0, help="pause between steps")
    parser.add_argument(
        "--before", metavar="DIR", help="first run the same on the bot in DIR (BENCH_BOT_ROOT)"
    )
    args = parser.parse_args()
    if args.before:
        env = {**os.environ, "BENCH_BOT_ROOT": args.before}
        argv = [sys.executable, __file__, "--sizes", args.sizes, "--seconds", str(args.seconds)]
        argv += ["--pace-ms", str(args.pace_ms)]
        subprocess.run(argv, env=env, check=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(run(sizes, args.seconds, args.pace_ms / 1000), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
