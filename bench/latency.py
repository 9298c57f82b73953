"""Benchmark 2 (latency under load) and 5 (footprint).

Latency: 200 reporters play the whole intake flow against `warmline run` (a subprocess) so
that their SUBMIT presses reach the emulator at 20 per second for 60 s (1,200 tips; each
reporter every 10 s). Each flow starts shortly before its submit time, so the other six
updates of every tip load the bot too (~140 updates/s in all). Intake→card is measured from
the moment the emulator queued the submitting callback to the moment it received the
sendMessage of that tip's card in the on-duty group. Rate limiter off; digests off (every tip
gets its own card); max_open_tips_per_hour raised to 10 (each reporter sends 6 in the minute);
otherwise the production defaults.

Footprint: the bot's VmRSS is sampled every second during the run (steady state: from 10 s
in to the end); cold start is process start → the bot's first getUpdates at the emulator,
median of 5 starts on an existing database (a restart) and of 5 on a fresh one (first start,
migrations included).

    .venv/bin/python bench/latency.py [--rate 20] [--seconds 60] [--reporters 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BenchEmulator,
    Flow,
    Reporters,
    cast,
    load,
    median,
    pct,
    random_point,
    self_cpu,
    start_warmline,
    table,
    verdict,
    wait_for_quiet,
    wait_ready,
    wait_until,
    warmline_config,
    workdir,
)

P99_TARGET_MS = 100.0
RSS_TARGET_MB = 120.0
COLD_TARGET_S = 1.5
LEAD_S = 1.5  # a flow starts this long before its submit time
WARMUP_TIPS = 20


def sample_rss(bot, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    while not stop.wait(1.0):
        try:
            samples.append((time.monotonic(), bot.rss()))
        except OSError:
            return


class Turns:
    """One flow per reporter at a time, as a person would: a flow due while the reporter's
    previous one is still under way (the bot is behind) starts as soon as that one ends — and
    is counted, since its submit then comes late. (Before, such a flow was dropped with a
    driver error the run only reported after it had waited in vain for its card.)"""

    def __init__(self, flows: Reporters) -> None:
        self.flows = flows
        self.waiting: dict[int, list[Flow]] = {}
        self.deferred = 0
        self._lock = threading.Lock()
        flows.on_finish = self._finished

    def start(self, flow: Flow) -> None:  # on the reporters' thread
        with self._lock:
            busy = flow.user in self.flows.active or self.waiting.get(flow.user)
            if busy:
                self.waiting.setdefault(flow.user, []).append(flow)
                self.deferred += 1
                return
        self.flows.start_flow(flow)

    def _finished(self, flow: Flow) -> None:
        with self._lock:
            queue = self.waiting.get(flow.user)
            following = queue.pop(0) if queue else None
        if following is not None:
            self.flows.start_flow(following)


def explain_missing(tips: list[Flow], flows: Reporters, turns: Turns) -> str:
    """Where the tips without a card are: what a timeout says instead of just "timed out"."""
    no_code = [f for f in tips if not f.tip_id]
    no_card = [f for f in tips if f.tip_id and f.tip_id not in flows.group.first]
    return (
        f"{len(tips) - len(no_code) - len(no_card)} of {len(tips)} tips have their card; "
        f"{len(no_card)} submitted without a card yet; {len(no_code)} without a code "
        f"({sum(1 for f in no_code if f.submitted)} submitted, "
        f"{sum(1 for f in no_code if f.started and not f.submitted)} in their flow, "
        f"{sum(1 for f in no_code if not f.started)} not started); "
        f"{turns.deferred} flows waited for the reporter's previous one; "
        f"driver errors: {flows.errors[:3]}"
    )


def run_latency(emu: BenchEmulator, reporters: list[int], args, work: Path) -> dict:
    rng = random.Random(11)
    warm, users = reporters[:WARMUP_TIPS], reporters[WARMUP_TIPS:]
    config = warmline_config(
        emu, work / "latency.sqlite3", rate_limiter=False, digest_threshold=0, max_per_hour=10
    )
    head = os.environ.get("BENCH_BOT_HEAD")  # e.g. a diagnostic wrapper of `warmline run`
    bot = start_warmline(config, work, "latency", [sys.executable, head] if head else None)
    flows = Reporters(emu)
    flows.start()
    stop = threading.Event()
    samples: list[tuple[float, float]] = []
    try:
        wait_ready(emu, bot.started_at, bot)
        for user in warm:
            flows.start_flow(Flow(user, *random_point(rng)))
        wait_until(lambda: len(flows.group.first) >= len(warm), 120, "warm-up cards")
        time.sleep(1.2)
        wait_for_quiet()
        load_before = load()
        sampler = threading.Thread(target=sample_rss, args=(bot, stop, samples), daemon=True)
        sampler.start()
        total = int(args.rate * args.seconds)
        t0 = time.monotonic() + LEAD_S + 0.5
        cpu0, me0 = bot.cpu(), self_cpu()
        tips: list[Flow] = []
        turns = Turns(flows)
        for i in range(total):
            submit_at = t0 + i / args.rate
            flow = Flow(users[i % len(users)], *random_point(rng), submit_at=submit_at)
            tips.append(flow)
            flows.schedule(submit_at - LEAD_S, lambda f=flow: turns.start(f))
        end = t0 + args.seconds
        wait_until(lambda: time.monotonic() > end or flows.errors, args.seconds + 30, "the run")
        load_during = load()
        try:
            wait_until(
                lambda: flows.errors
                or sum(1 for f in tips if f.tip_id and f.tip_id in flows.group.first) >= total,
                float(os.environ.get("BENCH_CARD_WAIT_S") or 60),
                "every card",
            )
        except TimeoutError as exc:
            # Not an error of the run: the bot is that far behind. The figures are still
            # printed, each missing card counted as arriving now (so the percentiles it
            # reaches are lower bounds, marked "≥").
            missing = explain_missing(tips, flows, turns)
            print(f"{exc}: {missing}", file=sys.stderr)
        cpu1, me1, t1 = bot.cpu(), self_cpu(), time.monotonic()
        stop.set()
        if flows.errors:
            raise RuntimeError(f"driver errors: {flows.errors[:3]}")
        deferred = turns.deferred
        refused = [f for f in tips if f.refused]
        if refused:
            raise RuntimeError(f"{len(refused)} tips refused, e.g. {refused[0].refused}")
        submits = sorted(f.submitted for f in tips if f.submitted)
        span = submits[-1] - submits[0]
        unfinished = [f for f in tips if not (f.tip_id and f.tip_id in flows.group.first)]
        for f in tips:  # not even submitted by now: from the time it was due
            f.submitted = f.submitted or f.submit_at
            f.received_at = f.received_at or t1
        to_card = [(flows.group.first.get(f.tip_id or 0, t1) - f.submitted) * 1000 for f in tips]
        to_reply = [(f.received_at - f.submitted) * 1000 for f in tips]
        # The smallest latency a missing card can have: every percentile at or above it is
        # a lower bound.
        censored = min(((t1 - f.submitted) * 1000 for f in unfinished), default=float("inf"))
        steady = [rss for at, rss in samples if at >= t0 + 10]
        (work / "latency-tips.json").write_text(
            json.dumps(
                [
                    {
                        "tip": f.tip_id,
                        "submit": f.submitted - t0,
                        "receipt": f.received_at - t0,
                        "card": flows.group.first.get(f.tip_id or 0, float("nan")) - t0,
                    }
                    for f in tips
                ]
            )
        )
        return {
            "tips": total,
            "rate": (len(submits) - 1) / span if span else float("nan"),
            "late": flows.late_submits,
            "deferred": deferred,
            "to_card": to_card,
            "censored": censored,
            "no_card": len(unfinished),
            "to_reply": to_reply,
            "rss_max": max(steady) if steady else float("nan"),
            "rss_median": median(steady),
            "rss_samples": len(steady),
            "cpu_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
            "bench_cpu_pct": (me1 - me0) / (t1 - t0) * 100,
            "load_before": load_before,
            "load_during": load_during,
        }
    finally:
        stop.set()
        flows.stop()
        bot.stop()


def cold_starts(emu: BenchEmulator, work: Path, n: int) -> tuple[list[float], list[float]]:
    """(restart times, first-start times) in seconds: process start → first getUpdates."""
    restart, fresh = [], []
    existing = work / "cold.sqlite3"
    for i in range(n * 2 + 1):
        first = i % 2 == 1  # alternate, after one start that creates the existing database
        db = work / f"fresh-{i}.sqlite3" if first else existing
        bot = start_warmline(warmline_config(emu, db, rate_limiter=True), work, f"cold-{i}")
        try:
            at = wait_ready(emu, bot.started_at, bot)
        finally:
            bot.stop()
        if i == 0:
            continue
        (fresh if first else restart).append(at - bot.started_at)
    return restart, fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="submits per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5, help="cold starts of each kind")
    args = parser.parse_args()
    work = workdir("latency")
    with BenchEmulator() as emu:
        ids = cast(emu, WARMUP_TIPS + args.reporters)
        r = run_latency(emu, ids, args, work)
        wait_for_quiet()
        load_cold = load()
        restart, fresh = cold_starts(emu, work, args.starts)
    p50, p95, p99 = (pct(r["to_card"], p) for p in (50, 95, 99))
    q50, q95, q99 = (pct(r["to_reply"], p) for p in (50, 95, 99))
    print(
        f"{r['tips']} tips, submits at {r['rate']:.1f}/s ({r['late']} pressed late: the flow "
        f"was not at its review in time; {r['deferred']} started after the reporter's previous "
        f"flow ended); bot CPU {r['cpu_pct']:.0f}% of a core, emulator + "
        f"reporters {r['bench_cpu_pct']:.0f}%; load before {r['load_before']}, at the end "
        f"{r['load_during']}; RSS samples {r['rss_samples']}\n"
    )
    rows = [
        [
            "intake→card p50 / p95 / p99 (max)",
            " / ".join(
                f"{'≥ ' if v >= r['censored'] else ''}{v:.0f}" for v in (p50, p95, p99)
            )
            + f" ms ({max(r['to_card']):.0f})"
            + (f"; {r['no_card']} cards not there after the wait" if r["no_card"] else ""),
            f"p99 ≤ {P99_TARGET_MS:.0f} ms",
            verdict(p99 <= P99_TARGET_MS),
            r["load_during"],
        ],
        [
            "(submit→reporter's receipt p50 / p95 / p99)",
            f"{q50:.0f} / {q95:.0f} / {q99:.0f} ms",
            "—",
            "",
            r["load_during"],
        ],
        [
            "RSS steady state max / median",
            f"{r['rss_max']:.1f} / {r['rss_median']:.1f} MB",
            f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(r["rss_max"] <= RSS_TARGET_MB),
            r["load_during"],
        ],
        [
            "cold start → first getUpdates, restart (median of "
            f"{len(restart)}: {', '.join(f'{x:.2f}' for x in restart)})",
            f"{median(restart):.2f} s",
            f"≤ {COLD_TARGET_S} s",
            verdict(median(restart) <= COLD_TARGET_S),
            load_cold,
        ],
        [
            "cold start, fresh database (median of "
            f"{len(fresh)}: {', '.join(f'{x:.2f}' for x in fresh)})",
            f"{median(fresh):.2f} s",
            f"≤ {COLD_TARGET_S} s",
            verdict(median(fresh) <= COLD_TARGET_S),
            load_cold,
        ],
    ]
    print(table(["measure", "result", "target", "", "load 1/5/15"], rows))
    print(f"\nlogs and databases: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
