"""The path of one tip, from the reporter's location message to the paid reward: which files
and functions of ``bot/`` it runs (issue 11's measure).

Runs ``tests/test_e2e_rewards.py::test_verified_tip_to_wechat_payment`` in this process (the
harness runs the bot in the test's own event loop) with a profile hook (``sys.setprofile``,
and ``threading.setprofile`` for threads started meanwhile) that notes every function whose
code is in ``bot/`` — not ``bot/sandbox/`` (the Bot API emulator the test plays against) nor
the catalogs ``bot/i18n/zh.py`` and ``bot/i18n/en.py``. Code objects named ``<...>`` (module
bodies, comprehensions, lambdas) are not counted as functions.

Three phases: *start* (the world is built and the bot started, until the reporter's first
location is sent), *path* (from that location until the test's story has the reward paid and
the reporter told — it then sends the officer's ``/ledger``) and *after* (that ``/ledger``
and the stop). Calls made by the test itself (its ``w.repo…`` reads) are not counted: any
call with a ``tests/`` frame under it is the test's. The count is of the path; what only the
start or only the after phase ran is counted apart.

The chain: for each entry into the bot (a handler PTB called, or a job's task; in the order
they first ran), the service methods it called and the store methods (``…Store.x``) each of
those reached, itself or through other services — read from the live await chain at each
call, so only what really ran under it — the handler → service → store steps, each named
once per entry.

    .venv/bin/python bench/path.py [--no-list] [--no-chain]

``BENCH_BOT_ROOT`` (see bench/common.py) runs the test and the bot of another checkout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BOT_ROOT, load

TEST = "tests/test_e2e_rewards.py::test_verified_tip_to_wechat_payment"
BOT_DIR = str(BOT_ROOT / "bot") + os.sep
TESTS_DIR = str(BOT_ROOT / "tests") + os.sep
#: The test's last step after the paid notice: the officer's /ledger, not on the path.
PATH_ENDS_AT = "/ledger"
LEFT_OUT = (
    str(BOT_ROOT / "bot" / "sandbox") + os.sep,
    str(BOT_ROOT / "bot" / "i18n" / "zh.py"),
    str(BOT_ROOT / "bot" / "i18n" / "en.py"),
)
ENTRY_LAYERS = ("handlers", "jobs", "web")
#: Machinery between PTB and the handlers: not an entry of its own.
MACHINERY = ("handlers/processor.py",)
#: What every update or message goes through whatever it is: the update processor and its
#: guards, the inbound journal and replay, the Bot API transport, the outbox's delivery and
#: codec, the database's plumbing, the catalog lookup. Counted apart from the tip's own logic.
PLUMBING = (
    "handlers/processor.py",
    "handlers/guards.py",
    "inbound.py",
    "replay.py",
    "transport.py",
    "jobs/outbox.py",
    "jobs/lanes.py",
    "domain/outbox.py",
    "db/database.py",
    "db/sql.py",
    "db/journal.py",
    "db/outbox.py",
    "i18n/__init__.py",
)
#: Services that are no step of a use case: the station's clock, the result type.
NOT_STEPS = ("services/clock.py", "services/result.py")
Node = tuple[str, str]  # (file under bot/, function's qualified name)


def layer(file: str) -> str:
    """``handlers``, ``services``, ``db``… (the first folder under bot/), or the module."""
    return file.split("/", 1)[0] if "/" in file else file.removesuffix(".py")


def _is_store(node: Node) -> bool:
    """A store's method (``…Store.name``): not the database's plumbing (bot/db/database.py,
    sql.py) nor a row-to-object helper."""
    owner = node[1].split(".")[0]
    return owner.endswith("Store")


class PathProfile:
    """Every ``bot/`` function that ran, by phase, and who called whom (first time, in order)."""

    def __init__(self) -> None:
        self.phase = "start"
        self.seen: dict[str, dict[Node, int]] = {"start": {}, "path": {}, "after": {}}
        # entry (a handler or job) → the service it called → the store methods that service
        # reached (through other services too) → when first
        self.steps: dict[Node, dict[Node, dict[Node, int]]] = defaultdict(dict)
        self.first: dict[object, int] = {}
        self._ours: dict[str, str | None] = {}
        self._tick = 0

    def _file(self, filename: str) -> str | None:
        known = self._ours.get(filename, "?")
        if known != "?":
            return known  # type: ignore[return-value]
        ours = filename.startswith(BOT_DIR) and not filename.startswith(LEFT_OUT)
        rel = filename[len(BOT_DIR) :] if ours else None
        self._ours[filename] = rel
        return rel

    def hook(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        file = self._file(code.co_filename)
        if file is None or code.co_name.startswith("<"):
            return
        node = (file, code.co_qualname)
        up = frame.f_back
        while up is not None:  # the test's own reads (w.repo…) are not the bot's path
            if up.f_code.co_filename.startswith(TESTS_DIR):
                return
            up = up.f_back
        self._tick += 1
        phase = self.seen[self.phase]
        phase.setdefault(node, self._tick)
        if self.phase != "path" or layer(file) not in ("services", "db"):
            return
        kind = layer(file)
        if kind == "db" and not _is_store(node):
            return
        # The bot's frames this call runs under (an awaited coroutine's f_back is its awaiter),
        # innermost first, the update processor's machinery left out.
        stack, caller = [], frame.f_back
        while caller is not None:
            cfile = self._file(caller.f_code.co_filename)
            if cfile is not None and cfile not in MACHINERY:
                if not caller.f_code.co_name.startswith("<"):
                    stack.append((cfile, caller.f_code.co_qualname))
            caller = caller.f_back
        # The entry: the outermost handler or job (a decorator's wrapper is not one).
        named = [n for n in stack if "<locals>" not in n[1]]
        if not named or layer(named[-1][0]) not in ENTRY_LAYERS:
            return
        entry = named[-1]
        services = [n for n in stack if layer(n[0]) == "services"]
        if kind == "services":
            if services or file in NOT_STEPS:
                return  # a service called by a service: the outer one is the step
            self.steps[entry].setdefault(node, {})
            self.first.setdefault(entry, self._tick)
            self.first.setdefault((entry, node), self._tick)
        elif services:
            service = services[-1]
            self.steps[entry].setdefault(service, {}).setdefault(node, self._tick)
            self.first.setdefault(entry, self._tick)
            self.first.setdefault((entry, service), self._tick)

    def start(self) -> None:
        threading.setprofile(self.hook)
        sys.setprofile(self.hook)

    def stop(self) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def _markers(profile: PathProfile) -> None:
    """The reporter's first location starts the path; the end of the harness's ``serving``
    body (the test's story done) ends it."""
    import tests.harness as harness
    from bot.sandbox.emulator import BotApiEmulator

    send_location = BotApiEmulator.send_location

    def marked_send_location(self, *args, **kwargs):
        if profile.phase == "start":
            profile.phase = "path"
        return send_location(self, *args, **kwargs)

    BotApiEmulator.send_location = marked_send_location  # type: ignore[method-assign]
    send_text = BotApiEmulator.send_text

    def marked_send_text(self, user_id, text, *args, **kwargs):
        if profile.phase == "path" and text == PATH_ENDS_AT:
            profile.phase = "after"
        return send_text(self, user_id, text, *args, **kwargs)

    BotApiEmulator.send_text = marked_send_text  # type: ignore[method-assign]
    serving = harness.serving

    @asynccontextmanager
    async def marked_serving(*args, **kwargs):
        async with serving(*args, **kwargs) as value:
            yield value
            profile.phase = "after"

    harness.serving = marked_serving  # type: ignore[assignment]


class _Plugin:
    def __init__(self, profile: PathProfile) -> None:
        self.profile = profile
        self.outcome: str | None = None

    def pytest_sessionstart(self, session) -> None:
        _markers(self.profile)

    def pytest_runtest_call(self, item) -> None:
        self.profile.start()

    def pytest_runtest_teardown(self, item) -> None:
        self.profile.stop()

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call":
            self.outcome = report.outcome


def _by_file(nodes: dict[tuple[str, str], int]) -> dict[str, list[str]]:
    files: dict[str, list[str]] = defaultdict(list)
    for file, name in sorted(nodes):
        files[file].append(name)
    return files


def _is_property(node: Node) -> bool:
    """A property read on a service's result or state (``Taken.pending``), not a step."""
    module = importlib.import_module("bot." + node[0].removesuffix(".py").replace("/", "."))
    owner, _, name = node[1].partition(".")
    return isinstance(getattr(getattr(module, owner, None), name, None), property)


def chain(profile: PathProfile) -> tuple[list[str], int, int]:
    """handler → service → store, each entry once, in the order they first ran; the number
    of entries, and of steps (an entry's service calls and each one's store methods)."""
    lines, steps = [], 0
    first = profile.first
    entries = sorted(profile.steps, key=first.__getitem__)
    for entry in entries:
        lines.append(f"{entry[0]}: {entry[1]}")
        services = {s: v for s, v in profile.steps[entry].items() if not _is_property(s)}
        for service in sorted(services, key=lambda s, e=entry: first[(e, s)]):
            stores = sorted(services[service], key=services[service].__getitem__)
            steps += 1 + len(stores)
            lines.append(f"  → {service[0].removeprefix('services/')} {service[1]}")
            if stores:
                names = ", ".join(s[1] for s in stores)
                lines.append(f"      → {names}")
    return lines, len(entries), steps


def distinct(profile: PathProfile) -> tuple[int, int]:
    """How many different service methods and store methods the chain names."""
    services = {s for e in profile.steps.values() for s in e if not _is_property(s)}
    stores = {st for e in profile.steps.values() for s in e for st in e[s]}
    return len(services), len(stores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-list", action="store_true", help="only the counts and the chain")
    parser.add_argument("--no-chain", action="store_true", help="leave out the chain")
    args = parser.parse_args()

    import pytest

    os.chdir(BOT_ROOT)
    profile = PathProfile()
    plugin = _Plugin(profile)
    loads = [load()]
    began = time.monotonic()
    code = pytest.main(
        ["-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:randomly", TEST],
        plugins=[plugin],
    )
    loads.append(load())
    if code != 0 or plugin.outcome != "passed":
        print(f"the test did not pass (exit {code}): no figures", file=sys.stderr)
        return 1

    path = profile.seen["path"]
    only_start = set(profile.seen["start"]) - set(path)
    only_after = set(profile.seen["after"]) - set(path) - set(profile.seen["start"])
    files = _by_file(path)
    print(f"\n{TEST} (bot from {BOT_ROOT}), {time.monotonic() - began:.0f} s under the hook")
    print(f"load 1/5/15 before / after: {loads[0]} / {loads[1]}")
    print(
        f"path (reporter's location → reward paid and told): {len(files)} files, "
        f"{len(path)} functions of bot/ (not sandbox/, not the zh/en catalogs)"
    )
    own = {f: n for f, n in files.items() if f not in PLUMBING}
    print(
        f"  of which the tip's own logic: {len(own)} files, {sum(map(len, own.values()))} "
        f"functions; plumbing every update or message goes through: {len(files) - len(own)} "
        f"files, {sum(len(n) for f, n in files.items() if f in PLUMBING)} functions "
        f"({', '.join(f for f in PLUMBING if f in files)})"
    )
    by_layer: dict[str, int] = defaultdict(int)
    for file, _ in path:
        by_layer[layer(file)] += 1
    print("  by layer: " + ", ".join(f"{k} {v}" for k, v in sorted(by_layer.items())))
    print(
        f"not on the path: {len(only_start)} functions only before it (in the bot's own "
        f"tasks; its start-up runs under the test's call, so is not counted), "
        f"{len(only_after)} only after (the officer's {PATH_ENDS_AT}, the stop)"
    )
    if not args.no_list:
        print("\nfiles: functions (path)")
        for file, names in files.items():
            print(f"  {file} ({len(names)}): {', '.join(names)}")
    if not args.no_chain:
        lines, entries, steps = chain(profile)
        services, stores = distinct(profile)
        print(
            f"\nhandler → service → store: {entries} entries, {steps} steps "
            f"(each service method and store method counted once per entry); "
            f"{services} different service methods, {stores} different store methods"
        )
        for line in lines:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
