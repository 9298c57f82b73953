"""Issue 10 #26: a test must not fail because the machine is slow.

Two rules over every test module, read with ``ast`` (so a new test cannot bring the class back):

- no *upper bound on elapsed time* in an assertion (``assert elapsed < 2.0``): a busy machine
  misses any such deadline; lower bounds ("it did wait") are fine, slowness only adds to them;
- no short literal timeout on a *wait that fails the test when it runs out* (``until``,
  ``wait_for``, ``join``, an HTTP client's timeout…): such waits use ``WAIT_S`` or more. The
  allowances below are waits that are *expected* to run out (proving nothing arrives), retry
  windows whose running out only means "press again", and settings of the code under test.

And the progress-based bound that the long runs use (``tests/drivers.until_done``) fails a
stuck run, never a slow one — checked here with a clock that a slow machine would show.
"""

from __future__ import annotations

import ast
import asyncio
import itertools
from pathlib import Path

import pytest

from tests import drivers
from tests.harness import WAIT_S

TESTS = Path(__file__).resolve().parent
CLOCKS = {"monotonic", "perf_counter", "time"}
# Waits whose positional arguments include a timeout (keyword ``*timeout*`` is read everywhere).
WAITS = {"until", "wait_for", "wait_until", "join", "communicate", "poll"}

# (file, line text fragment): why a short literal is right there.
ALLOWED = {
    ("test_emulator.py", "timeout=0.05)"): "expected to run out: proves the wait gives up",
    ("test_emulator.py", "start_polling(poll_interval=0.0, timeout=1)"): "PTB's long-poll length",
    ("drivers.py", "asyncio.wait({task}, timeout=1.0)"): "until_done's check interval",
    ("drivers.py", "self.told(user, mark), 1.0)"): "retry window: then start over with /cancel",
    ("drivers.py", "following, prompt), 0.5)"): "retry window (last look)",
    ("test_geocoder.py", "timeout=0.2"): "the geocoder's own timeout, under test",
    ("test_geocoder.py", "timeout=0)"): "a setting the loader refuses, under test",
    ("test_timeouts.py", "read_timeout=1.0"): "the transport's timeout, under test",
    ("test_startup.py", "poll_timeout=0"): "a config value, under test",
    ("test_faults.py", "step_timeout=10.0"): "retry window: a slow answer means press again",
}


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)


def _is_clock_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCKS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "time"
    )


def _mentions_clock(node: ast.AST, timed: set[str]) -> bool:
    return any(
        _is_clock_call(n) or (isinstance(n, ast.Name) and n.id in timed) for n in ast.walk(node)
    )


def upper_time_bounds(source: str) -> list[int]:
    """Lines asserting that something took *less than* a number of seconds."""
    tree = ast.parse(source)
    timed: set[str] = set()
    for node in ast.walk(tree):  # names holding a duration: x = time.monotonic() - t0
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
            if isinstance(node.value.op, ast.Sub) and _mentions_clock(node.value, set()):
                timed.update(t.id for t in node.targets if isinstance(t, ast.Name))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            sides = [compare.left, *compare.comparators]
            for (left, right), op in zip(itertools.pairwise(sides), compare.ops, strict=True):
                small_side = left if isinstance(op, ast.Lt | ast.LtE) else right
                if isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE) and _mentions_clock(
                    small_side, timed
                ):
                    found.append(node.lineno)
    return sorted(set(found))


def short_waits(source: str) -> list[tuple[int, str]]:
    """Waits given a literal timeout under WAIT_S: (line, text)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        values = [kw.value for kw in node.keywords if kw.arg and "timeout" in kw.arg]
        if name in WAITS:
            values += node.args
        for value in values:
            if (
                isinstance(value, ast.Constant)
                and type(value.value) in (int, float)
                and value.value < WAIT_S
            ):
                found.append((node.lineno, lines[node.lineno - 1].strip()))
    return sorted(found)


def test_fr26_no_test_asserts_an_upper_bound_on_elapsed_time() -> None:
    offenders = [
        f"{path.name}:{line}"
        for path in _modules()
        for line in upper_time_bounds(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_fr26_waits_that_fail_a_test_are_generous() -> None:
    offenders = [
        f"{path.name}:{line}: {text}"
        for path in _modules()
        for line, text in short_waits(path.read_text(encoding="utf-8"))
        if not any(path.name == f and frag in text for f, frag in ALLOWED)
    ]
    assert offenders == []


def test_fr26_the_rules_catch_what_they_are_for() -> None:
    """The scanners find the shapes this issue removed (else the two tests above prove nothing)."""
    assert upper_time_bounds(
        "import time\nt0 = time.monotonic()\nelapsed = time.monotonic() - t0\n"
        "assert elapsed < 1.0\nassert 0.1 < time.monotonic() - t0 < 2\n"
        "assert 5 > elapsed\nassert elapsed >= 0.25\n"
    ) == [4, 5, 6]
    assert [line for line, _ in short_waits(
        "await emu.until(f, timeout=1)\nthread.join(2)\nhttpx.Client(timeout=5)\n"
        "await emu.until(f, timeout=WAIT_S)\nthread.join(60)\n"
    )] == [1, 2, 3]


class _SlowClock:
    """time.monotonic as a very busy machine shows it: 100 s pass between any two looks."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 100.0
        return self.now


async def test_fr26_until_done_fails_a_stuck_run_not_a_slow_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drivers, "time", _SlowClock())
    steps = 0

    def progress() -> int:
        return steps

    async def slow_but_moving() -> str:
        nonlocal steps
        while steps < 3:
            await asyncio.sleep(1.2)  # each check of until_done sees 100 s more
            steps += 1
        return "done"

    # Every check sees far more than stall_s pass, but progress each time: not stuck.
    assert await drivers.until_done(
        slow_but_moving(), progress, stall_s=150.0, cap_s=10_000.0
    ) == "done"

    async def stuck() -> None:
        await asyncio.Event().wait()

    with pytest.raises(AssertionError, match="no progress for 150 s"):
        await drivers.until_done(stuck(), progress, stall_s=150.0, cap_s=10_000.0)
