"""Benchmark 3 — Telegram's flood limits.

The emulator enforces Telegram's limits (bot/sandbox/limits.py: at most 30 messages in any
second overall and 20 in any minute per group; 429 with retry_after beyond them). 500 tips are
submitted within 60 s (a SUBMIT every 0.12 s, from 500 reporters) to one on-duty group, with
the bot's production config: rate limiter on, digest_threshold 4 (default) — and again with
digests off (digest_threshold = 0), into the other group so the two runs do not share a
group's minute window.

Before each burst the 500 reports are filled in up to their review (location … skip photo) by
a bot run with the rate limiter off and no flood limits; the drafts live in the database, so
the production bot then starts on that database and only the submits hit the limits. (Filling
them in under the limits would take minutes by itself: every step is ~2 messages to the
reporter and the limiter allows 30 a second — see the README.)

Reported: tips, lost (submitted but never committed, or whose card failed for good), 429s the
emulator sent, the backlog's drain time (last submit → last tip shown in the group),
time-to-card (submit → the tip first shown in the group, as a card or a digest line)
p50/p95/max, and submit → the reporter's receipt. A run that has not drained after
--max-drain seconds stops there; what is still queued is reported with a projection at the
per-group limit.

    .venv/bin/python bench/flood.py [--tips 500] [--seconds 60] [--max-drain 300]
                                         [--limiter ptb|smooth] [--only digest|nodigest]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    BenchEmulator,
    Flow,
    Reporters,
    cast,
    group_of,
    load,
    pct,
    random_point,
    start_warmline,
    table,
    verdict,
    wait_for_quiet,
    wait_ready,
    wait_until,
    warmline_config,
    workdir,
)

from bot.sandbox.limits import FloodLimits

PER_GROUP_MINUTE = 20


def prepare(emu: BenchEmulator, users: list[int], db: Path, work: Path, on_duty: str) -> Reporters:
    """Fill in every report up to its review with a fast bot (no limits); returns the driver
    holding them there."""
    rng = random.Random(hash(on_duty) & 0xFFFF)
    bot = start_warmline(
        warmline_config(emu, db, rate_limiter=False, on_duty=on_duty), work, f"prep-{on_duty}"
    )
    flows = Reporters(emu, group_of(on_duty))
    flows.hold_submit = True
    flows.start()
    try:
        wait_ready(emu, bot.started_at, bot)
        now = time.monotonic()
        for i, user in enumerate(users):
            flow = Flow(user, *random_point(rng))
            flows.schedule(now + i * 0.01, lambda f=flow: flows.start_flow(f))
        wait_until(lambda: len(flows.waiting_at_review()) >= len(users), 900, "every review")
    finally:
        bot.stop()
    return flows


def burst(emu: BenchEmulator, users: list[int], args, work: Path, digest: int) -> dict:
    on_duty = "g1" if digest else "g2"
    db = work / f"flood-{on_duty}.sqlite3"
    flows = prepare(emu, users, db, work, on_duty)
    wait_for_quiet()
    load_before = load()
    head = None
    if args.limiter == "smooth":
        head = [sys.executable, str(ROOT / "bench" / "smooth_limiter_bot.py")]
    bot = start_warmline(
        warmline_config(emu, db, rate_limiter=True, digest_threshold=digest, on_duty=on_duty),
        work,
        f"flood-{on_duty}",
        head,
    )
    limits = FloodLimits(per_group_minute=PER_GROUP_MINUTE)
    try:
        wait_ready(emu, bot.started_at, bot)
        emu.fault = limits
        t0 = time.monotonic() + 0.5
        times = [t0 + i * args.seconds / len(users) for i in range(len(users))]
        flows.release_submits(times)
        wait_until(lambda: time.monotonic() > times[-1], args.seconds + 30, "the burst")
        load_burst = load()
        max_drain = args.max_drain if digest else min(args.max_drain, args.max_drain_nodigest)
        deadline = times[-1] + max_drain

        def settled() -> bool:
            done = [f for f in flows.done if f.tip_id]
            shown = sum(1 for f in done if f.tip_id in flows.group.first)
            return (len(done) == len(users) and shown == len(users)) or time.monotonic() > deadline

        wait_until(settled, max_drain + 60, "the backlog", poll=0.05)
        t_end = time.monotonic()
    finally:
        emu.fault = None
        bot.stop()
        flows.stop()
    flows_all = [f for f in flows.done if f.user in set(users)] + list(flows.active.values())
    submitted = [f for f in flows_all if f.submitted]
    committed = [f for f in submitted if f.tip_id]
    shown = [f for f in committed if f.tip_id in flows.group.first]
    to_card = [(flows.group.first[f.tip_id] - f.submitted) for f in shown]
    to_receipt = [(f.received_at - f.submitted) for f in committed]
    last_submit = max(f.submitted for f in submitted)
    last_shown = max(flows.group.first[f.tip_id] for f in shown) if shown else float("nan")
    (work / f"flood-{on_duty}-429.txt").write_text(
        "".join(
            f"{at - t0:8.2f} {method} {chat} retry_after={ra}\n"
            for at, method, chat, ra in limits.log
        )
    )
    with sqlite3.connect(db) as conn:
        status = dict(
            conn.execute("SELECT status, COUNT(*) FROM outbox WHERE kind = 'card' GROUP BY status")
        )
        tips_in_db = conn.execute("SELECT COUNT(*) FROM tips").fetchone()[0]
    failed_cards = status.get("failed", 0)
    queued = len(committed) - len(shown)
    group_refusals = sum(1 for _, _, chat, _ in limits.log if chat is not None and chat < 0)
    # Messages still owed to the group for the queued tips: a card (+ its location) each
    # without digests, one digest line per tip (8 to a message) with them.
    owed = queued * 2 if not digest else -(-queued // 8)
    projection = owed / PER_GROUP_MINUTE * 60
    return {
        "mode": (f"digests (threshold {digest})" if digest else "no digests (threshold 0)")
        + ("" if args.limiter == "ptb" else f", {args.limiter} limiter"),
        "tips": len(users),
        "submitted": len(submitted),
        "committed": len(committed),
        "tips_in_db": tips_in_db,
        "lost": len(submitted) - len(committed) + failed_cards,
        "queued": queued,
        "refused": dict(limits.refused),
        "refused_total": limits.total_refused,
        "group_refusals": group_refusals,
        "first_refusal": (limits.log[0][0] - t0) if limits.log else None,
        "drain": last_shown - last_submit if queued == 0 else None,
        "projection": projection,
        "elapsed": t_end - t0,
        "to_card": to_card,
        "to_receipt": to_receipt,
        "group_messages": flows.group.messages,
        # The per-group ceiling (20 in any 60 s): the soonest the last of these messages could
        # have gone, from the first one; and when it went.
        "ceiling_last": ((len(flows.group.times) - 1) // PER_GROUP_MINUTE) * 60.0
        if flows.group.times
        else 0.0,
        "actual_last": flows.group.times[-1] - flows.group.times[0] if flows.group.times else 0.0,
        "digests": flows.group.digests,
        "cards": flows.group.cards,
        "load_before": load_before,
        "load_burst": load_burst,
    }


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def fmt_s(values: list[float]) -> str:
    if not values:
        return "—"
    return (
        f"{pct(values, 50):.1f} / {pct(values, 95):.1f} / {max(values):.1f} s ({len(values)} tips)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tips", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--max-drain", type=float, default=300.0, help="stop waiting this long after the burst"
    )
    parser.add_argument(
        "--max-drain-nodigest",
        type=float,
        default=60.0,
        help="the same without digests (~1,000 group messages at 20/min cannot drain in "
        "minutes; this is enough to see the rate)",
    )
    parser.add_argument("--only", choices=["digest", "nodigest"], help="run one mode only")
    parser.add_argument(
        "--limiter",
        choices=["ptb", "smooth"],
        default="ptb",
        help="ptb: the bot as configured (FloodGuard since issue 16); smooth: the experiment in "
        "bench/smooth_limiter_bot.py",
    )
    args = parser.parse_args()
    work = workdir("flood")
    results = []
    with BenchEmulator() as emu:
        ids = cast(emu, args.tips * 2)
        modes = [("digest", 4, ids[: args.tips]), ("nodigest", 0, ids[args.tips :])]
        for name, digest, users in modes:
            if args.only and args.only != name:
                continue
            r = burst(emu, users, args, work, digest)
            results.append(r)
            first = r["first_refusal"]
            print(
                f"{r['mode']}: {r['committed']}/{r['tips']} committed, group messages "
                f"{r['group_messages']} ({r['cards']} cards, {r['digests']} digests), 429s "
                f"{r['refused']} (to the group: {r['group_refusals']}; first "
                f"{'—' if first is None else f'{first:.1f} s'} after the first submit), "
                f"load {r['load_before']} → {r['load_burst']}",
                flush=True,
            )
    rows = []
    for r in results:
        drain = (
            f"{r['drain']:.0f} s"
            if r["drain"] is not None
            else f"not drained after {r['elapsed']:.0f} s: {r['queued']} tips queued, "
            f"~{_duration(r['projection'])} more at {PER_GROUP_MINUTE} messages/min"
        )
        rows += [
            [
                r["mode"],
                "tips submitted / committed",
                f"{r['submitted']} / {r['committed']}",
                f"{r['tips']}",
                "",
                r["load_burst"],
            ],
            [r["mode"], "lost", r["lost"], "0", verdict(r["lost"] == 0), r["load_burst"]],
            [
                r["mode"],
                "429s sent to the bot",
                r["refused_total"],
                "0",
                verdict(r["refused_total"] == 0),
                r["load_burst"],
            ],
            [
                r["mode"],
                "backlog drain (last submit → last tip in the group)",
                drain,
                "as fast as 20 msg/min allows",
                "",
                r["load_burst"],
            ],
            [
                r["mode"],
                "group messages: last one after the first / soonest the ceiling allows",
                f"{r['actual_last']:.0f} s / {r['ceiling_last']:.0f} s ({r['group_messages']} "
                "messages)",
                "at the ceiling",
                "",
                r["load_burst"],
            ],
            [
                r["mode"],
                "time-to-card p50 / p95 / max",
                fmt_s(r["to_card"]),
                "—",
                "",
                r["load_burst"],
            ],
            [
                r["mode"],
                "submit → reporter's receipt p50 / p95 / max",
                fmt_s(r["to_receipt"]),
                "p95 ≤ 2 s",
                verdict(bool(r["to_receipt"]) and pct(r["to_receipt"], 95) <= 2.0),
                r["load_burst"],
            ],
        ]
    print()
    print(table(["mode", "measure", "result", "target", "", "load 1/5/15"], rows))
    print(f"\nlogs and databases: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
