"""The bot's process does not load what it rarely needs at start (issue 16, the web server's
memory and cold start): matplotlib and numpy (~50 MB) are imported when a chart is drawn;
geopy at the first address looked up online, Pillow at the first image, openpyxl by an export,
segno by the leaflet, the sandbox by the demo. Module counts, never timings."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import parse_config

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "numpy")
#: Imported only by what some command or a later request needs (each at its first use).
LATER = (*HEAVY, "geopy", "PIL", "openpyxl", "segno", "bot.sandbox")

#: A production configuration but for the token and the web report form switched on; the
#: geocoder is the default, Nominatim (the case that used to import geopy at start).
CONFIG = """\
[telegram]
token = "123456:FOOTPRINT-TEST"
base_url = "http://127.0.0.1:9/bot"

[station]
database = "{database}"

[[groups]]
key = "g1"
name = "Alpha"
chat_id = -1009000000001
leader = 510001

[roster]
order = ["g1"]

[officers]
user_ids = [520001]

[web_report]
enabled = true
"""

#: What `warmline run` does before its first request to the Bot API (and its services, which
#: post_init makes right after getMe), in a fresh interpreter: this test process may have
#: imported the libraries already.
START = """\
import asyncio, json, sys
import bot.cli
from bot.app import build_application, build_services
from bot.config import parse_config
from bot.station import geocoder_from, open_station
from bot.upkeep import prepare_database

config = parse_config(sys.argv[1], sys.argv[2], env={{}})
prepare_database(config.station.database)
app = build_application(config)


async def services():
    station = await open_station(config)
    build_services(station, app.bot, geocoder=geocoder_from(config), fetch_forecast=None)
    await station.db.close()


asyncio.run(services())
print(json.dumps(sorted(m for m in {later!r} if m in sys.modules)))
"""


def test_a_start_up_imports_nothing_only_a_later_request_needs(tmp_path: Path) -> None:
    text = CONFIG.format(database=tmp_path / "f.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", START.format(later=LATER), text, str(tmp_path / "c.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_check_config_command_imports_neither_telegram_nor_the_web_server() -> None:
    # `warmline check-config` / `reload` read the file and say what it means: bot/cli.py
    # imports the rest of the bot only for the command that needs it.
    code = (
        "import sys, bot.cli\n"
        "print(','.join(m for m in ('telegram', 'httpx', 'starlette', 'uvicorn', 'aiosqlite')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_both_bot_api_clients_share_one_tls_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each loads the CA bundle (~40 ms of CPU at start) unless they share one; still httpx's
    # own default, so SSL_CERT_FILE is honoured (tests/test_proxy.py: TLS through it).
    made: list[ssl.SSLContext] = []
    create = ssl.create_default_context

    def counted(*args, **kwargs) -> ssl.SSLContext:
        made.append(create(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    text = CONFIG.format(database=tmp_path / "f.sqlite3")
    app = build_application(parse_config(text, tmp_path / "c.toml", env={}))
    assert len(made) == 1
    assert app.bot.request is not app.bot._request[0]  # (two clients: getUpdates and the rest)


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
