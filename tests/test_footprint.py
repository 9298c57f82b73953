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
