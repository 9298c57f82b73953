"""Issue 16 target 6, load-free: the instructions (valgrind's cachegrind, ``I refs``) a cold
start executes — from the process's start to serving (the import, the config, the database
check, the application built, the web server, getMe, post_init, the first poll, then a clean
stop), or the import alone (``--import-only``: ``import bot.cli, bot.app, bot.wiring``).
The import's count is deterministic to ~1e-6 (a fixed hash seed), the start's within ~3%
(how often the event loop turns while it waits varies), so a before/after ratio holds on a
busy machine, unlike the seconds of bench/web.py. Every module's bytecode compiled (a private
``PYTHONPYCACHEPREFIX``, filled by one run outside valgrind), or ``--source``: the bot's own
modules compiled at each start.

    .venv/bin/python bench/cold_instructions.py [--import-only] [--source]
    BENCH_BOT_ROOT=/tmp/before .venv/bin/python bench/cold_instructions.py   # another checkout

Needs ``valgrind`` (apt-get install valgrind); ~1 minute of CPU per run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BOT_ROOT, BenchEmulator, cast, workdir
from web import free_port, web_config

#: ``warmline run -c CONFIG`` up to serving, then a clean stop (bot/lifecycle.py's stages).
START = """\
import asyncio, sys
import bot.cli
from bot import lifecycle
from bot.app import build_application
from bot.config import load_config
from bot.upkeep import prepare_database

config = load_config(sys.argv[1])
prepare_database(config.station.database)
app = build_application(config)


async def main():
    async with lifecycle.serving(app, poll_timeout=0):
        pass


asyncio.run(main())
"""
IMPORT = "import bot.cli, bot.app, bot.wiring"
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def instructions(argv: list[str], env: dict[str, str]) -> int:
    done = subprocess.run(
        [*VALGRIND, *argv],
        cwd=BOT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    refs = [line for line in done.stderr.splitlines() if "I   refs" in line]
    if done.returncode != 0 or not refs:
        raise RuntimeError(f"valgrind run failed:\n{done.stderr[-3000:]}")
    return int(refs[-1].split()[-1].replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import-only", action="store_true", help="the import alone")
    parser.add_argument("--source", action="store_true", help="no bytecode for bot/")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    work = workdir("cold-instructions")
    prefix = Path(tempfile.mkdtemp(prefix="pycache-", dir=work))
    env = {
        **os.environ,
        "PYTHONPATH": str(BOT_ROOT),
        "PYTHONPYCACHEPREFIX": str(prefix),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    script = work / "start.py"
    script.write_text(START)
    with BenchEmulator() as emu:
        cast(emu, 0)
        config = work / "cold.toml"
        config.write_text(web_config(emu, work / "cold.sqlite3", free_port()))
        argv = (
            [sys.executable, "-c", IMPORT]
            if args.import_only
            else [sys.executable, str(script), str(config)]
        )
        # Fills the bytecode folder (and creates the database, migrated): not counted.
        subprocess.run(
            [sys.executable, str(script), str(config)],
            cwd=BOT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        if args.source:
            shutil.rmtree(prefix / BOT_ROOT.resolve().relative_to("/") / "bot")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        count = instructions(argv, env)
    what = "import" if args.import_only else "start to serving"
    kind = "bot compiled at start" if args.source else "compiled bytecode"
    print(f"{BOT_ROOT}: {what}, {kind}: {count:,} instructions ({os.getloadavg()[0]:.2f} load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
