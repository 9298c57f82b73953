"""One instance per database (issue 12, "On a server"): a second ``warmline run`` on the same
database refuses to start and names the process that holds it; ``restore`` refuses too while
the bot runs, ``backup`` does not; the kernel releases the lock when the holder dies, however;
SIGHUP (``systemctl reload``) does not stop the bot (it reloads; see tests/test_reload.py).

Real ``python -m bot`` processes against the Bot API emulator. All data are invented.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.harness import REPORTER
from tests.startproc import TRACEBACK, WarmlineProcess, wait_until
from tests.test_startup import BOUND_S, config_for, warmline_cli, world


def test_second_instance_refused_until_the_first_dies(tmp_path: Path) -> None:
    emu = world()
    try:
        config = config_for(tmp_path / "etc", emu.base_url, emu.base_file_url, emu.token)
        database = tmp_path / "etc" / "data" / "warmline.sqlite3"
        first = WarmlineProcess(config, tmp_path / "first.log").start()
        try:
            assert wait_until(lambda: emu.calls("getUpdates") or not first.alive(), BOUND_S)
            assert first.alive(), first.tail()

            second = warmline_cli("run", "-c", config, cwd=tmp_path)
            assert second.returncode == 3, second.stderr
            assert f"is in use by pid {first.pid}, `warmline run`, started " in second.stderr
            # Its start time as the log writes times: the station's (Asia/Shanghai, +08:00).
            assert re.search(r"started 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00 ", second.stderr)
            assert "systemctl stop warmline" in second.stderr
            assert not TRACEBACK.search(second.stderr)

            shown = warmline_cli("check-config", "-c", config, cwd=tmp_path)
            assert shown.returncode == 0 and f"in use by pid {first.pid}" in shown.stdout

            restore = warmline_cli(
                "restore", "--from", tmp_path / "copy.sqlite3", "-c", config, cwd=tmp_path
            )
            assert restore.returncode == 1  # no such file: checked before the lock
            copy = warmline_cli(
                "backup", "-c", config, "--out", tmp_path / "copy.sqlite3", cwd=tmp_path
            )
            assert copy.returncode == 0, copy.stderr  # a backup may run beside the bot
            restore = warmline_cli(
                "restore", "--from", tmp_path / "copy.sqlite3", "-c", config, cwd=tmp_path
            )
            assert restore.returncode == 3, restore.stderr
            assert f"pid {first.pid}" in restore.stderr

            # The first one serves on, untouched.
            emu.send_text(REPORTER, "/start")
            assert wait_until(lambda: emu.bot_messages(REPORTER), BOUND_S), first.tail()
            assert first.alive()
        finally:
            first.kill()  # SIGKILL: no clean-up of its own
        assert (database.parent / "warmline.sqlite3.lock").exists()  # the file stays...
        polls = len(emu.calls("getUpdates"))
        answered = len(emu.bot_messages(REPORTER))
        third = WarmlineProcess(config, tmp_path / "third.log").start()
        try:  # ...but the kernel released the lock with the process
            assert wait_until(
                lambda: len(emu.calls("getUpdates")) > polls or not third.alive(), BOUND_S
            )
            assert third.alive(), third.tail()
            # `systemctl reload` (SIGHUP) must not stop it (Python's default for SIGHUP): it
            # reloads the configuration in the same process (tests/test_reload.py).
            third.proc.send_signal(signal.SIGHUP)
            reloaded = "configuration reloaded; serving with it"
            assert wait_until(lambda: reloaded in third.text(), BOUND_S), third.tail()
            emu.send_text(REPORTER, "/help")
            assert wait_until(lambda: len(emu.bot_messages(REPORTER)) > answered, BOUND_S)
            assert third.alive(), third.tail()
        finally:
            assert third.stop() == 0, third.tail()
        assert third.problems() == [], third.tail()
    finally:
        emu.stop()
