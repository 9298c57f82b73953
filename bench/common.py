"""Shared plumbing of the benchmarks: the emulator with timestamps, a bot in a subprocess,
reporters that play the intake flow, /proc readings and result tables.

Nothing here is imported by the bot or the tests. Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import heapq
import itertools
import os
import queue
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# BENCH_BOT_ROOT: import `bot` from another checkout (e.g. `git archive HEAD` unpacked somewhere)
# to measure the code before a change with the same benchmark.
BOT_ROOT = Path(os.environ.get("BENCH_BOT_ROOT") or ROOT)
if str(BOT_ROOT) not in sys.path:
    sys.path.insert(0, str(BOT_ROOT))

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

from bot.sandbox.emulator import BotApiEmulator  # noqa: E402

TOKEN = "424242:BENCH-TOKEN"
GROUP_CHAT = -1001000000111
OTHER_GROUP_CHAT = -1001000000222
LEADER, MEMBERS = 7101, (7102, 7103)
OTHER_LEADER = 7201
OFFICER = 7901
REPORTER_BASE = 600_000  # reporters are REPORTER_BASE + n
HUANGSHI = (29.50, 114.50, 30.35, 115.60)  # south, west, north, east
CLK_TCK = os.sysconf("SC_CLK_TCK")
_TIP_BUTTON = re.compile(r"^tip:[a-z]+:(\d+)")
_CODE = re.compile(r"\bHS-(\d{4,})\b")


# -- the machine ---------------------------------------------------------------------------------
def load() -> str:
    """The 1, 5 and 15 minute load averages, as a table cell."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for_quiet(max_load: float = 1.5, patience_s: float | None = None) -> float:
    """Wait (up to ``patience_s``, default 120 s or ``BENCH_PATIENCE_S``) until the 1-minute
    load is below ``max_load`` — other people's test suites share these two cores. Returns the
    load when we go on."""
    if patience_s is None:
        patience_s = float(os.environ.get("BENCH_PATIENCE_S") or 120.0)
    deadline = time.monotonic() + patience_s
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (every thread), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of the man page): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the main thread ("main") and of all other threads ("other")."""
    result: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue
        name = "main" if task.name == str(pid) else "other"
        fields = text[text.rindex(")") + 2 :].split()
        result[name] = result.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return result


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def self_cpu() -> float:
    return cpu_seconds(os.getpid())


# -- numbers -------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, rule, *body])


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- the emulator, with the timestamps the benchmarks need --------------------------------------
@dataclass
class BotMessage:
    at: float  # monotonic time the emulator received the request that made it
    chat_id: int
    message_id: int
    kind: str
    text: str | None
    data: list[str]  # callback data of its inline buttons
    edited: bool = False  # an edit of a message sent before (a press's next question)


class BenchEmulator(BotApiEmulator):
    """The project's emulator, plus:

    * every message the bot sends is pushed to ``bot_messages_q`` with the monotonic time at
      which its request reached the emulator (the time ``requests`` logs), and so is every
      edit of one (``edited``: a button press makes the pressed message the next question);
    * ``queued_at()`` tells, right after a ``press_button``/``send_*`` call, when that update
      was queued for the bot.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("token", TOKEN)
        super().__init__(*args, **kwargs)
        self.bot_messages_q: queue.SimpleQueue[BotMessage] = queue.SimpleQueue()
        self._tls = threading.local()
        self.status_counts: dict[int, int] = {}

    def _handle_api(self, token, method, params, uploads, *, peer_gone=None):  # type: ignore[override]
        self._tls.received = time.monotonic()
        status, body = super()._handle_api(token, method, params, uploads, peer_gone=peer_gone)
        with self._lock:
            self.status_counts[status] = self.status_counts.get(status, 0) + 1
        return status, body

    def _store(self, rec):  # type: ignore[override]
        rec = super()._store(rec)
        if rec.from_bot:
            self._push(rec, edited=False)
        return rec

    def _set_markup(self, rec, markup):  # type: ignore[override]
        message = super()._set_markup(rec, markup)  # the last part of every edit
        self._push(rec, edited=True)
        return message

    def _push(self, rec, *, edited: bool) -> None:
        data = [
            b["callback_data"]
            for row in (rec.markup or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]
        at = getattr(self._tls, "received", None) or time.monotonic()
        self.bot_messages_q.put(
            BotMessage(at, rec.chat_id, rec.message_id, rec.kind, rec.text, data, edited)
        )

    def _queue(self, body: dict) -> int:
        update_id = super()._queue(body)
        self._tls.queued = time.monotonic()
        return update_id

    def queued_at(self) -> float:
        """When the update queued last by this thread was queued."""
        return self._tls.queued

    def first_call_after(self, method: str, since: float) -> float | None:
        with self._lock:
            for at, name, _ in self.requests:
                if at >= since and name == method:
                    return at
        return None


def cast(emu: BotApiEmulator, reporters: int) -> list[int]:
    """Staff, the two patrol groups and ``reporters`` invented reporters; their ids."""
    emu.add_user(LEADER, "王组长", started=True)
    for i, member in enumerate(MEMBERS):
        emu.add_user(member, f"队员{i + 1}", started=True)
    emu.add_user(OTHER_LEADER, "孙组长", started=True)
    emu.add_user(OFFICER, "吴值班", started=True)
    emu.add_group(GROUP_CHAT, "第一小组 巡查")
    emu.add_group(OTHER_GROUP_CHAT, "第二小组 巡查")
    ids = [REPORTER_BASE + n for n in range(reporters)]
    for uid in ids:
        emu.add_user(uid, f"市民{uid - REPORTER_BASE}", language_code="zh-hans")
    return ids


def random_point(rng: random.Random) -> tuple[float, float]:
    south, west, north, east = HUANGSHI
    return round(rng.uniform(south, north), 6), round(rng.uniform(west, east), 6)


# -- warmline in a subprocess ------------------------------------------------------------------
def warmline_config(
    emu: BotApiEmulator,
    database: Path,
    *,
    rate_limiter: bool,
    digest_threshold: int | None = None,
    max_per_hour: int | None = None,
    telegram_extra: str = "",
    on_duty: str = "g1",
) -> str:
    """A production config (defaults everywhere) except: the emulator as Bot API, the offline
    gazetteer as geocoder, one patrol group on duty (g1), and what the caller overrides."""
    reporting = []
    if digest_threshold is not None:
        reporting.append(f"digest_threshold = {digest_threshold}")
    if max_per_hour is not None:
        reporting.append(f"max_open_tips_per_hour = {max_per_hour}")
    return f"""
[telegram]
token = "{emu.token}"
base_url = "{emu.base_url}"
base_file_url = "{emu.base_file_url}"
rate_limiter = {"true" if rate_limiter else "false"}
{telegram_extra}

[station]
database = "{database}"

[[groups]]
key = "g1"
name = "第一小组"
chat_id = {GROUP_CHAT}
leader = {LEADER}
members = [{", ".join(map(str, MEMBERS))}]

[[groups]]
key = "g2"
name = "第二小组"
chat_id = {OTHER_GROUP_CHAT}
leader = {OTHER_LEADER}

[roster]
order = ["{on_duty}"]

[officers]
user_ids = [{OFFICER}]

[geocoder]
provider = "offline"

[reporting]
{chr(10).join(reporting)}
"""


class BotProcess:
    """A bot running as its own process; its stderr goes to a log file."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        full_env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}
        full_env.update(env or {})
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=BOT_ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=full_env
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> float:
        return rss_mb(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_warmline(
    config_text: str,
    workdir: Path,
    name: str = "warmline",
    head: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> BotProcess:
    """``warmline run -c CONFIG`` (or ``head + ["-c", CONFIG]``) as a subprocess (``env``:
    variables set beside this process's)."""
    config = workdir / f"{name}.toml"
    config.write_text(config_text, encoding="utf-8")
    head = head or [sys.executable, "-m", "bot", "run"]
    return BotProcess([*head, "-c", str(config)], workdir / f"{name}.log", env=env)


def wait_ready(emu: BenchEmulator, since: float, bot: BotProcess, timeout: float = 30.0) -> float:
    """Wait for the bot's first getUpdates after ``since``; its monotonic time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at = emu.first_call_after("getUpdates", since)
        if at is not None:
            return at
        if not bot.alive():
            raise RuntimeError(f"bot exited early:\n{bot.log_tail()}")
        time.sleep(0.005)
    raise TimeoutError(f"no getUpdates within {timeout}s:\n{bot.log_tail()}")


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"warmline-{prefix}-"))


# -- reporters playing the intake flow ---------------------------------------------------------
#: The answer pressed at each step (callback data); the review's "send" is pressed by policy.
STEP_ANSWERS = ("r:spotok", "r:seen:now", "r:ppl:1", "r:flagsok", "r:nodesc", "r:nophoto")
SUBMIT = "r:submit"


@dataclass
class Flow:
    user: int
    lat: float
    lon: float
    submit_at: float | None = None  # press "send" at this time (None: at once)
    started: float = 0.0
    review_at: float | None = None
    review_message: int | None = None
    submitted: float | None = None  # when the submitting update was queued
    received_at: float | None = None  # when the bot's "received, your code is …" arrived
    tip_id: int | None = None
    refused: str | None = None


@dataclass
class GroupSeen:
    """When each tip first appeared in a group (card or digest line) and how."""

    first: dict[int, float] = field(default_factory=dict)
    how: dict[int, str] = field(default_factory=dict)
    messages: int = 0
    locations: int = 0
    digests: int = 0
    cards: int = 0
    times: list[float] = field(default_factory=list)  # when each message reached the group


def group_of(on_duty: str) -> int:
    return GROUP_CHAT if on_duty == "g1" else OTHER_GROUP_CHAT


class Reporters(threading.Thread):
    """Plays reporters: answers each prompt the bot sends with the next button press.

    Flows are started with :meth:`start_flow` (at once) or :meth:`schedule_flow` (later). One
    flow per reporter at a time. The thread reads the emulator's stream of bot messages, so it
    reacts within microseconds and costs the machine little.
    """

    def __init__(self, emu: BenchEmulator, group_chat: int = GROUP_CHAT) -> None:
        super().__init__(name="bench-reporters", daemon=True)
        self.emu = emu
        self.group_chat = group_chat
        self.active: dict[int, Flow] = {}
        self.done: list[Flow] = []
        self.group = GroupSeen()
        self.other: list[BotMessage] = []
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._wake = threading.Event()
        self.hold_submit = False  # True: keep flows at the review until release_submits()
        self.late_submits = 0
        self.errors: list[str] = []
        #: Called (on this thread) when a flow ends: its code came back, or it was refused.
        self.on_finish: Callable[[Flow], None] | None = None

    # -- control (any thread) -------------------------------------------------------------
    def start_flow(self, flow: Flow) -> None:
        if threading.current_thread() is self:
            self._begin(flow)
        else:
            self.schedule(0.0, lambda: self._begin(flow))

    def schedule(self, at: float, action: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._timers, (at, next(self._seq), action))
        self._wake.set()
        self.emu.bot_messages_q.put(None)  # type: ignore[arg-type] - wakes the reader

    def stop(self) -> None:
        self._halt.set()
        self.emu.bot_messages_q.put(None)  # type: ignore[arg-type]
        self.join(5)

    def in_flight(self) -> int:
        with self._lock:
            return len(self.active)

    def waiting_at_review(self) -> list[Flow]:
        with self._lock:
            return [f for f in self.active.values() if f.review_at is not None and not f.submitted]

    # -- the thread -----------------------------------------------------------------------
    def run(self) -> None:
        q = self.emu.bot_messages_q
        while not self._halt.is_set():
            now = time.monotonic()
            due: list[Callable[[], None]] = []
            with self._lock:
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
                wait = self._timers[0][0] - now if self._timers else 0.5
            for action in due:
                self._safe(action)
            try:
                message = q.get(timeout=max(0.0, min(wait, 0.5)))
            except queue.Empty:
                continue
            if message is not None:
                self._safe(lambda m=message: self._on_message(m))

    def _safe(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # a bench bug or an unexpected bot answer: keep going, report
            self.errors.append(repr(exc))

    def _begin(self, flow: Flow) -> None:
        with self._lock:
            if flow.user in self.active:
                raise RuntimeError(f"reporter {flow.user} already has a flow")
            self.active[flow.user] = flow
        flow.started = time.monotonic()
        self.emu.send_location(flow.user, flow.lat, flow.lon)

    def _press(self, user: int, message_id: int, data: str) -> float:
        self.emu.press_button(user, user, message_id, data)
        return self.emu.queued_at()

    def _submit(self, flow: Flow, message_id: int) -> None:
        flow.submitted = self._press(flow.user, message_id, SUBMIT)

    def _on_message(self, m: BotMessage) -> None:
        if m.chat_id < 0:
            self._on_group(m)
            return
        with self._lock:
            flow = self.active.get(m.chat_id)
        if flow is None:
            self.other.append(m)
            return
        if m.edited and not m.data:
            return  # a pressed message recorded as answered (no question on it)
        for answer in STEP_ANSWERS:
            if answer in m.data:
                self._press(flow.user, m.message_id, answer)
                return
        if SUBMIT in m.data:
            flow.review_at = m.at
            flow.review_message = m.message_id
            if self.hold_submit:
                return
            if flow.submit_at is None or flow.submit_at <= time.monotonic():
                if flow.submit_at is not None:
                    self.late_submits += 1
                self._submit(flow, m.message_id)
            else:
                self.schedule(flow.submit_at, lambda: self._submit(flow, m.message_id))
            return
        if flow.submitted is not None and m.text:
            code = _CODE.search(m.text)
            if code:
                flow.tip_id = int(code.group(1))
                flow.received_at = m.at
                self._finish(flow)
                return
            if m.data:
                return  # buttons: the offer to add to the tip, which may overtake the receipt
            flow.refused = m.text  # e.g. too many tips in an hour
            self._finish(flow)

    def release_submits(self, times: list[float]) -> int:
        """Press "send" on the flows held at their review, the i-th at ``times[i]``."""
        held = sorted(self.waiting_at_review(), key=lambda f: f.user)
        for flow, at in zip(held, times, strict=False):
            flow.submit_at = at
            self.schedule(at, lambda f=flow: self._submit(f, f.review_message))
        return min(len(held), len(times))

    def _finish(self, flow: Flow) -> None:
        with self._lock:
            self.active.pop(flow.user, None)
            self.done.append(flow)
        if self.on_finish is not None:
            self.on_finish(flow)

    def _on_group(self, m: BotMessage) -> None:
        if m.edited:
            return  # a card refreshed: no new message in the group
        if m.chat_id != self.group_chat:
            self.other.append(m)
            return
        g = self.group
        g.messages += 1
        g.times.append(m.at)
        if m.kind in ("location", "venue"):
            g.locations += 1
            return
        ids = {int(x.group(1)) for d in m.data if (x := _TIP_BUTTON.match(d))}
        if not ids:
            return
        how = "digest" if any(d.startswith("tip:full:") for d in m.data) else "card"
        if how == "digest":
            g.digests += 1
        else:
            g.cards += 1
        for tip_id in ids:
            if tip_id not in g.first:
                g.first[tip_id] = m.at
                g.how[tip_id] = how


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)
