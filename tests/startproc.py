"""``warmline run`` as a subprocess, with its log: for the start-up and outage tests.

Everything is invented: ids, names, tokens.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import TOKEN_ENV

ROOT = Path(__file__).resolve().parents[1]
TRACEBACK = re.compile(r"^Traceback|^\s+File \"", re.M)
RETRY = re.compile(r"cannot reach the Bot API at (\S+) \((.*?)\): retrying in ([\d.]+) s$", re.M)


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(ROOT)  # importable from any working directory
    env.update(extra)
    return env


@dataclass
class WarmlineProcess:
    """One ``python -m bot run -c CONFIG`` started in ``cwd``; stdout+stderr to ``log``.

    The default ``cwd`` is an empty folder beside the log, standing for wherever a service
    manager starts it (a test that got paths wrong writes there, not into "/").
    """

    config: Path
    log: Path
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=base_env)
    proc: subprocess.Popen | None = None

    def start(self) -> WarmlineProcess:
        if self.cwd is None:
            self.cwd = self.log.parent / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "-c", str(self.config)],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def retries(self) -> list[tuple[str, str, float]]:
        """(address, reason, wait) of every "cannot reach the Bot API" line."""
        return [(a, r, float(w)) for a, r, w in RETRY.findall(self.text())]

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"warmline did not stop on SIGTERM:\n{self.tail()}") from None

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, chars: int = 4000) -> str:
        return self.text()[-chars:]

    def problems(self) -> list[str]:
        """Tracebacks and ERROR/CRITICAL lines in the log."""
        text = self.text()
        found = [line for line in text.splitlines() if re.search(r" (ERROR|CRITICAL) ", line)]
        if TRACEBACK.search(text):
            found.append("a traceback")
        return found


# -- writing config files --------------------------------------------------------------------


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml(data: dict[str, Any]) -> str:
    """A small TOML writer for config files: scalars first, then [tables], [[arrays]] and
    sub-tables (such as [roster.overrides])."""
    lines: list[str] = []

    def table(name: str, body: dict[str, Any], header: str) -> None:
        lines.append(header)
        subtables = []
        for key, value in body.items():
            if isinstance(value, dict):
                subtables.append((key, value))
            else:
                lines.append(f"{key} = {_value(value)}")
        lines.append("")
        for key, value in subtables:
            table(f"{name}.{key}", value, f"[{name}.{key}]")

    for key, value in data.items():
        if not isinstance(value, dict | list) or (
            isinstance(value, list) and not all(isinstance(v, dict) for v in value)
        ):
            lines.append(f"{key} = {_value(value)}")
    lines.append("")
    for key, value in data.items():
        if isinstance(value, dict):
            table(key, value, f"[{key}]")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                table(key, item, f"[[{key}]]")
    return "\n".join(lines)


def wait_until(predicate, timeout: float, interval: float = 0.05) -> Any:
    """``predicate()`` once truthy, else None after ``timeout`` seconds (a bound, not a pace)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
