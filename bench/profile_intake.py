"""Where warmline spends its time per update: the floor benchmark's intake (285 tips, cards
included) or its ``/help`` (``--mode help``: one command update, one reply) with the bot's
event loop profiled (cProfile by default, or pyinstrument).

    .venv/bin/python bench/profile_intake.py [--mode intake|help]
        [--profiler cprofile|pyinstrument|none] [--top 40]

Prints the top functions by cumulative and by own time (cProfile) or the call tree
(pyinstrument); the raw profile is kept in the printed folder. cProfile inflates small calls:
``--profiler none`` runs the same workload unprofiled (CPU per update from /proc only), the
cross-check.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEmulator, cast, workdir
from floor import HELP_UPDATES, run_help, run_warmline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["intake", "help"], default="intake")
    parser.add_argument(
        "--profiler", choices=["cprofile", "pyinstrument", "none"], default="cprofile"
    )
    parser.add_argument("--tips", type=int, default=285)
    parser.add_argument("--updates", type=int, default=HELP_UPDATES, help="--mode help")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    work = workdir("profile")
    stem = f"{args.mode}.pstats" if args.profiler == "cprofile" else f"{args.mode}.txt"
    out = work / stem
    profile = None if args.profiler == "none" else (args.profiler, out)
    with BenchEmulator() as emu:
        if args.mode == "intake":
            ids = cast(emu, 20 + args.tips)
            result = run_warmline(emu, ids, 100, work, profile=profile)
        else:
            ids = cast(emu, 100)
            result = run_help(emu, ids, args.updates, work, profile=profile)
    print(
        f"{result['updates']} updates, {result['per_update_ms']:.2f} ms CPU/update "
        f"(profiler overhead included), {result['calls'] / result['updates']:.2f} API calls "
        f"+ {result['polls'] / result['updates']:.2f} getUpdates per update, "
        f"load {result['load']}\n"
    )
    if args.profiler == "cprofile":
        for order in ("cumulative", "tottime"):
            buf = io.StringIO()
            stats = pstats.Stats(str(out), stream=buf).strip_dirs().sort_stats(order)
            stats.print_stats(args.top)
            print(buf.getvalue())
    elif args.profiler == "pyinstrument":
        print(out.read_text())
    if profile:
        print(f"profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
