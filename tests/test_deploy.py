"""On a server (issue 12): the systemd unit in ``deploy/`` verifies and keeps its promises; a
config file holding the token that other users can read is warned about by ``check-config``
and ``run``, with the fix.

All data are invented.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db.lock import InstanceLock
from tests.startproc import base_env
from tests.test_startup import config_for, warmline_cli

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "warmline.service"
INSTALLED = "/opt/warmline/venv/bin/warmline"


def unit() -> dict[str, dict[str, list[str]]]:
    """The unit's sections, each key with all its values (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_unit_runs_the_bot_as_its_own_user_hardened() -> None:
    service = unit()["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["User"] == one["Group"] == "warmline"
    assert one["ExecStart"] == f"{INSTALLED} run -c /etc/warmline/config.toml"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert one["Restart"] == "on-failure"
    # 2: a configuration problem or a refused token (bot/cli.py, bot/lifecycle.py).
    assert "2" in one["RestartPreventExitStatus"].split()
    assert "/var/lib/warmline" in one["ReadWritePaths"].split()
    assert one["StateDirectory"] == "warmline"  # /var/lib/warmline
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "LockPersonality": "yes",
    }.items():
        assert one.get(key) == value, key
    assert "AF_INET" in one["RestrictAddressFamilies"].split()
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]


def test_unit_command_line_is_one_the_cli_takes() -> None:
    from bot.cli import _parser

    command = unit()["Service"]["ExecStart"][-1].split()
    assert Path(command[0]).name == "warmline"  # the console script of pyproject.toml
    args = _parser().parse_args(command[1:])
    assert (args.command, args.config) == ("run", "/etc/warmline/config.toml")


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt-get install systemd; .ci/run does)",
)
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists: point it at this venv's warmline.
    here = Path(sys.executable).parent / "warmline"
    assert here.exists(), f"{here}: install the project (pip install -e .)"
    text = UNIT.read_text(encoding="utf-8")
    assert text.count(INSTALLED) == 1
    copy = tmp_path / "warmline.service"
    copy.write_text(text.replace(INSTALLED, str(here)), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Warnings (an unknown or misspelt key, a bad value) do not change the exit status:
    # every line about the unit counts.
    about_it = [
        line for line in (done.stdout + done.stderr).splitlines() if "warmline" in line
    ]
    assert done.returncode == 0 and about_it == [], done.stdout + done.stderr


def test_logrotate_and_nginx_agree_with_the_unit_and_the_config() -> None:
    rotate = (ROOT / "deploy" / "logrotate.conf").read_text(encoding="utf-8")
    assert "/var/log/warmline/warmline.log {" in rotate
    assert "copytruncate" not in rotate.replace("No copytruncate", "")  # WatchedFileHandler
    assert "LogsDirectory=warmline" in UNIT.read_text(encoding="utf-8")  # /var/log/warmline
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "server 127.0.0.1:8780;" in nginx  # [web] listen and port's defaults
    assert "location = /telegram" in nginx and "location = /healthz" in nginx
    assert "proxy_buffering off;" in nginx and "X-Forwarded-For" in nginx


# -- secrets on disk ---------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config file with the token in it (config_for makes it mode 600)."""
    return config_for(
        tmp_path / "etc", "http://127.0.0.1:9/bot", "http://127.0.0.1:9/file/bot", "1:TOKEN-x"
    )


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_check_config_warns_about_a_token_others_can_read(
    config: Path, tmp_path: Path, mode: int
) -> None:
    os.chmod(config, mode)
    done = warmline_cli("check-config", "-c", config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = warnings(done.stderr)
    assert f"{config} holds the bot token and other users" in line
    assert f"chmod 600 {config}" in line and "WARMLINE_TOKEN" in line
    assert "1:TOKEN-x" not in done.stdout + done.stderr


def test_no_warning_when_only_its_owner_can_read_it(config: Path, tmp_path: Path) -> None:
    assert (config.stat().st_mode & 0o777) == 0o600
    done = warmline_cli("check-config", "-c", config, cwd=tmp_path)
    assert done.returncode == 0 and warnings(done.stderr) == [], done.stderr


def test_no_warning_when_the_token_is_not_in_the_file(config: Path, tmp_path: Path) -> None:
    text = config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("token = ")]
    assert len(lines) == len(text.splitlines()) - 1
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(config, 0o644)
    done = warmline_cli(
        "check-config", "-c", config, cwd=tmp_path, env=base_env(WARMLINE_TOKEN="1:TOKEN-x")
    )
    assert done.returncode == 0 and warnings(done.stderr) == [], done.stderr


def test_run_warns_too(config: Path, tmp_path: Path) -> None:
    os.chmod(config, 0o644)
    database = tmp_path / "etc" / "data" / "warmline.sqlite3"
    # Held by "another bot", so that run stops right after its checks (exit 3).
    with InstanceLock(database).acquire("run"):
        done = warmline_cli("run", "-c", config, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    [line] = warnings(done.stderr)
    assert f"chmod 600 {config}" in line
