"""`warmline run` with a profiler switched on and off by signals (used by bench/profile_intake.py).

    python bench/profiled_bot.py cprofile|pyinstrument OUT -c config.toml

SIGUSR1 starts profiling the bot's event loop thread, SIGUSR2 stops it and writes OUT
(cProfile: pstats file; pyinstrument: text report, and OUT.html).
"""

from __future__ import annotations

import cProfile
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cli import main as warmline_main


def install(kind: str, out: Path) -> None:
    state: dict[str, object] = {}

    def start(*_: object) -> None:
        if kind == "cprofile":
            prof = cProfile.Profile()
            prof.enable()
        else:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005, async_mode="disabled")
            prof.start()
        state["prof"] = prof

    def stop(*_: object) -> None:
        prof = state.pop("prof", None)
        if prof is None:
            return
        if kind == "cprofile":
            prof.disable()
            prof.dump_stats(str(out))
        else:
            prof.stop()
            out.with_suffix(".html").write_text(prof.output_html(), encoding="utf-8")
            out.write_text(
                prof.output_text(unicode=True, color=False, show_all=False), encoding="utf-8"
            )
        out.with_suffix(".done").write_text("ok")

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


if __name__ == "__main__":
    kind, out = sys.argv[1], Path(sys.argv[2])
    install(kind, out)
    sys.exit(warmline_main(["run", *sys.argv[3:]]))
