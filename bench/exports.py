"""Benchmark 6 — `warmline export tips | events` and the summary chart on a campaign's history.

Uses benchmark 4's seeded databases (bench/history.py: the same cache, seeded once if
missing; the event log is not seeded there, so the events export is timed on what there is).
Each run copies the cached file first (an export opens the database, which applies any newer
migration). Times: the whole `warmline export` command (CLI in-process: read, rows, write)
for each format over the whole campaign, and `bot.views.charts.render` of the campaign's
figures (after `CampaignFigures.figures` — all three periods, as `/stats` — and
`CampaignFigures.chart` — what the chart draws, as the daily summary — timed apart).

    .venv/bin/python bench/exports.py [--sizes 10000,100000] [--runs 3] [--no-exports]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load, table
from history import CONFIG, NOW, campaign_figures, database

from bot.cli import main as cli_main
from bot.db.database import Database
from bot.domain.campaign import PeriodKey
from bot.views import charts


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s"


async def _figures(path: Path, chart: bool = False):
    db = await Database(path).open()
    try:
        figures = campaign_figures(db)
        if chart:
            return await figures.chart(NOW)
        return (await figures.figures(NOW))[PeriodKey.CAMPAIGN]
    finally:
        await db.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-exports", action="store_true", help="only the chart's figures")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        cached, _ = database(n)
        with tempfile.TemporaryDirectory(prefix="warmline-exports-") as tmp:
            work = Path(tmp)
            path = work / "w.sqlite3"
            shutil.copy(cached, path)
            config = work / "config.toml"
            config.write_text(
                f'[station]\ndatabase = "{path}"\n{CONFIG}',
                encoding="utf-8",
            )
            for what in () if args.no_exports else ("tips", "events"):
                for suffix in (".csv", ".xlsx", ".geojson"):
                    out = work / f"{what}{suffix}"
                    samples = []
                    for _ in range(args.runs):
                        argv = ["export", what, "-c", str(config), "--from", "2026-11-21"]
                        argv += ["--to", NOW.date().isoformat(), "--out", str(out)]
                        started = time.perf_counter()
                        with contextlib.redirect_stdout(io.StringIO()) as said:
                            assert cli_main(argv) == 0
                        samples.append(time.perf_counter() - started)
                    count = said.getvalue().split(":", 1)[1].split()[0]
                    size = f"{out.stat().st_size / 1e6:.1f} MB"
                    took = _median(samples)
                    rows.append([n, f"export {what} {suffix}", count, size, took, load()])
            started = time.perf_counter()
            figures = asyncio.run(_figures(path))
            took = time.perf_counter() - started
            rows.append([n, "campaign figures (all periods)", "", "", f"{took:.2f} s", load()])
            started = time.perf_counter()
            chart = asyncio.run(_figures(path, chart=True))
            took = time.perf_counter() - started
            rows.append([n, "the chart's figures (chart)", "", "", f"{took:.2f} s", load()])
            assert charts.render(chart, "zh") == charts.render(figures, "zh")  # the same chart
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                png = charts.render(figures, "zh")
                samples.append(time.perf_counter() - started)
            size = f"{len(png) / 1e3:.0f} kB"
            rows.append([n, "chart render (zh)", "", size, _median(samples), load()])
    print(table(["tips", "what", "rows", "file", "median", "load 1/5/15"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
