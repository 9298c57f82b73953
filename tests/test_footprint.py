"""The bot's process does not load what it rarely needs at start (issue 16, the web server's
memory and cold start): matplotlib and numpy (~50 MB) are imported when a chart is drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "numpy")


def test_starting_the_bot_imports_no_charting_library() -> None:
    # What `warmline run` imports before it starts: the command line, the composition root,
    # the wiring of every service, the web server's apps (a fresh interpreter: this test
    # process may have imported them already).
    code = (
        "import sys\n"
        "import bot.cli, bot.app, bot.wiring, bot.web.dashboard.routes, bot.web.report.app\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_a_chart_still_draws_after_a_lazy_import() -> None:
    code = (
        "import sys\n"
        "from bot.views import charts\n"
        "assert 'matplotlib' not in sys.modules\n"
        "print(charts.font_family())\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    family, loaded = done.stdout.splitlines()
    assert family == "Warmline Sans SC" and loaded == "True"


def test_httpx_finds_which_event_loop_runs_without_a_failed_import() -> None:
    # httpcore asks sniffio which async library runs each time it sets up a lock or an event
    # of a request; with sniffio missing that is a failed import each time (a walk of
    # sys.path, ~0.1 ms: ~12% of the bot's CPU under load). pyproject.toml depends on it.
    import asyncio

    from httpcore._synchronization import current_async_library

    async def which() -> str:
        return current_async_library()

    assert asyncio.run(which()) == "asyncio"
    assert "sniffio" in sys.modules  # imported once, found in sys.modules from then on
