"""Where warmline spends its time per update: the floor benchmark's intake (285 tips, cards
included) with the bot's event loop profiled (cProfile by default, or pyinstrument).

    .venv/bin/python bench/profile_intake.py [--profiler cprofile|pyinstrument] [--top 40]

Prints the top functions by cumulative and by own time (cProfile) or the call tree
(pyinstrument); the raw profile is kept in the printed folder.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEmulator, cast, workdir
from floor import run_warmline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiler", choices=["cprofile", "pyinstrument"], default="cprofile")
    parser.add_argument("--tips", type=int, default=285)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    work = workdir("profile")
    out = work / ("intake.pstats" if args.profiler == "cprofile" else "intake.txt")
    with BenchEmulator() as emu:
        ids = cast(emu, 20 + args.tips)
        result = run_warmline(emu, ids, 100, work, profile=(args.profiler, out))
    print(
        f"{result['updates']} updates, {result['per_update_ms']:.2f} ms CPU/update "
        f"(profiler overhead included), load {result['load']}\n"
    )
    if args.profiler == "cprofile":
        for order in ("cumulative", "tottime"):
            buf = io.StringIO()
            stats = pstats.Stats(str(out), stream=buf).strip_dirs().sort_stats(order)
            stats.print_stats(args.top)
            print(buf.getvalue())
    else:
        print(out.read_text())
    print(f"profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
