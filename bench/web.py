"""Benchmark 7 (issue 16 target 6): the bot with its web server carrying the dashboard and the
public report form, measured from outside as a phone's browser and an officer's would use it.

`warmline run` (a subprocess, the production defaults except: the emulator as Bot API, the
offline geocoder, `[web] public_url` on 127.0.0.1, `[web_report] per_hour` raised so that
the runs are not refused by the all-clients hourly cap — each simulated phone has an address
of its own, given as nginx would, in `X-Forwarded-For`, so `per_ip_per_hour` stays at its
default). In order:

1. An officer signs in through the real link flow (`/dashboard` to the bot privately, the
   one-time link opened) and keeps the map open the way `map.js` does: the event stream
   (`/dashboard/events`) connected, and on each `change` event one `api/map` fetch, one at a
   time — events arriving while a fetch is under way bring one more when it ends (`map.js`).
2. **Form submit latency**: phones open `/report/` (a fresh cookie, the CSRF/form token of
   the page), wait out the form's minimum fill time (4 s) and POST the form at
   ``--form-rate`` per second for ``--seconds`` (multipart, as a browser sends it). Latency:
   the POST's request start → its answer read; rejects: any answer without a tip code.
3. **Live updates**: tips submitted through the same form at ``--live-rate`` per second for
   ``--seconds``; for each tip, from its POST's start to (a) the event that triggered the map
   fetch which first showed it, and (b) that fetch's answer read — what the officer sees.
4. **RSS** of the bot process every second from 10 s into phase 2 to the end of phase 3.
5. **Cold start**: process start → `/healthz` answers 200 (the web server listening, the
   Bot API reached, the database open), restarts on the existing database, median of
   ``--starts``; the bot's CPU at that moment beside each. Twice: with every module's bytecode
   compiled, as `pip install` leaves an installed warmline (the production case), and with the
   bot's own modules compiled from source at each start, as a source checkout runs when
   ``PYTHONDONTWRITEBYTECODE`` is set (this machine's environment sets it; the runs before
   2026-12-01 evening measured that case only). Each case has its own bytecode folder
   (``PYTHONPYCACHEPREFIX``), filled by one start that is not counted; the checkout is not
   written to.

    .venv/bin/python bench/web.py [--form-rate 10] [--live-rate 20] [--seconds 60] [--starts 5]
    .venv/bin/python bench/web.py --only cold [--starts 5]   # the cold starts alone
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BOT_ROOT,
    OFFICER,
    BenchEmulator,
    BotProcess,
    cast,
    load,
    median,
    pct,
    random_point,
    start_warmline,
    table,
    verdict,
    wait_for_quiet,
    wait_ready,
    wait_until,
    warmline_config,
    workdir,
)

RSS_TARGET_MB = 120.0
COLD_TARGET_S = 1.5
SUBMIT_P99_TARGET_MS = 200.0
LIVE_TARGET_S = 1.0
FILL_S = 4.3  # the form's minimum fill time is 4 s (bot/web/report/app.py), with a margin
OPEN_LEAD_S = 1.5  # a phone opens the form this much before that (the page may come slowly)
_TLS = ssl.create_default_context()  # made once (httpx would make one per client); unused on http
LINK = re.compile(r"https?://\S+/dashboard/login\?t=[\w-]+")
FORM_TOKEN = re.compile(r'name="form" value="([^"]+)"')
CODE = re.compile(r"\bHS-\d{4,}\b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_config(emu: BenchEmulator, database: Path, port: int) -> str:
    return (
        warmline_config(emu, database, rate_limiter=True)
        + f"""
[web]
listen = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"

[web_report]
enabled = true
per_hour = 100000
"""
    )


def wait_healthy(base: str, bot: BotProcess, timeout: float = 60.0) -> float:
    """Poll /healthz until it answers 200; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, trust_env=False, timeout=2.0) as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/healthz").status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            if not bot.alive():
                raise RuntimeError(f"bot exited early:\n{bot.log_tail()}")
            time.sleep(0.005)
    raise TimeoutError(f"/healthz not 200 within {timeout}s:\n{bot.log_tail()}")


# -- the officer's open dashboard --------------------------------------------------------------
def sign_in(emu: BenchEmulator, base: str) -> httpx.Client:
    """The real link flow: /dashboard to the bot, the link opened once → a signed-in client."""
    before = len(emu.bot_messages(OFFICER))
    emu.send_text(OFFICER, "/dashboard")
    text = wait_until(
        lambda: next(
            (m["text"] for m in emu.bot_messages(OFFICER)[before:] if LINK.search(m["text"] or "")),
            None,
        ),
        30,
        "the dashboard link",
    )
    link = LINK.search(text).group(0)  # type: ignore[union-attr]
    http = httpx.Client(base_url=base, trust_env=False, timeout=30.0)
    answer = http.get(link.removeprefix(base))
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:200]}")
    return http


class Dashboard(threading.Thread):
    """The map page, as map.js runs it: the event stream, and one api/map fetch per change
    event — one at a time: events during a fetch bring one more fetch when it ends."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__(name="bench-dashboard", daemon=True)
        self.http = http
        self.first_seen: dict[str, tuple[float, float]] = {}  # code → (event at, shown at)
        self.events = 0
        self.fetches = 0
        self.dropped = 0  # events that came while a fetch was under way
        self.fetch_ms: list[float] = []
        self.last_count = 0  # open tips in the last map fetched
        self.errors: list[str] = []
        self.connected = threading.Event()
        self._state = threading.Lock()
        self._busy = False
        self._again: float | None = None  # an event came during a fetch (its time)
        self._halt = threading.Event()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="bench-map")

    def run(self) -> None:
        try:
            with self.http.stream("GET", "/dashboard/events", timeout=None) as stream:
                if stream.status_code != 200:
                    raise RuntimeError(f"event stream: {stream.status_code}")
                kind = None
                for line in stream.iter_lines():
                    if self._halt.is_set():
                        return
                    if line.startswith("event:"):
                        kind = line.partition(":")[2].strip()
                    elif line == "" and kind is not None:
                        if kind == "change":
                            self._on_change(time.monotonic())
                        elif kind == "signed_out":
                            raise RuntimeError("signed out")
                        kind = None
        except Exception as exc:  # reported by the run
            if not self._halt.is_set():
                self.errors.append(repr(exc))

    def _on_change(self, at: float) -> None:
        self.events += 1
        self.connected.set()
        with self._state:
            if self._busy:  # map.js: one more fetch when this one ends
                self.dropped += 1
                self._again = self._again or at
                return
            self._busy = True
        self._pool.submit(self._refresh, at)

    def _refresh(self, event_at: float) -> None:
        try:
            start = time.monotonic()
            answer = self.http.get("/dashboard/api/map")
            data = answer.json()
            shown = time.monotonic()
            self.fetches += 1
            self.fetch_ms.append((shown - start) * 1000)
            self.last_count = len(data.get("tips", []))
            for tip in data.get("tips", []):
                self.first_seen.setdefault(tip["code"], (event_at, shown))
        except Exception as exc:
            self.errors.append(repr(exc))
        with self._state:
            again, self._again = self._again, None
            self._busy = again is not None
        if again is not None:
            self._pool.submit(self._refresh, again)

    def stop(self) -> None:
        self._halt.set()
        self._pool.shutdown(wait=False)


# -- phones sending the form ---------------------------------------------------------------------
@dataclass
class Sent:
    at: float  # the POST's start (monotonic)
    ms: float  # until its answer was read
    status: int
    code: str | None


class Phones:
    """Each submission is a new phone: its own cookie and client address."""

    def __init__(self, base: str, workers: int) -> None:
        self.base = base
        self._local = threading.local()
        self._next_address = 0
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="bench-phone")
        self.failures: list[str] = []
        self.late = 0  # posts sent later than scheduled (their form page came late)

    def _client(self) -> httpx.Client:
        """A new phone's browser: no cookie, no connection of its own yet."""
        return httpx.Client(base_url=self.base, trust_env=False, timeout=60.0, verify=_TLS)

    def _address(self) -> str:
        with self._lock:
            n = self._next_address = self._next_address + 1
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def submit_at(self, post_at: float, point: tuple[float, float]) -> Sent | None:
        http = self._client()
        try:
            headers = {"X-Forwarded-For": self._address(), "Accept-Language": "zh-CN"}
            _sleep_until(post_at - FILL_S - OPEN_LEAD_S)
            # (Connection: close — the phone's POST, seconds later, opens its own connection,
            # never one the server is closing for being idle.)
            page = http.get("/report/", headers={**headers, "Connection": "close"})
            served = time.monotonic()  # the token's time is at most this
            token = FORM_TOKEN.search(page.text)
            if page.status_code != 200 or token is None:
                raise RuntimeError(f"form page {page.status_code}")
            if served + FILL_S > post_at:  # the page came late: a person fills it in anyway
                with self._lock:
                    self.late += 1
                post_at = served + FILL_S
            fields = {
                "lat": f"{point[0]}",
                "lon": f"{point[1]}",
                "address": "",
                "spot": "park_bench",
                "seen": "now",
                "people": "1",
                "words": "穿灰色棉衣，躺在长椅上",
                "phone": "",
                "website": "",
                "action": "submit",
                "form": token.group(1),
            }
            files = {"photo": ("", b"", "application/octet-stream")}  # as a browser sends it
            _sleep_until(post_at)
            start = time.monotonic()
            answer = http.post("/report/", data=fields, files=files, headers=headers)
            ms = (time.monotonic() - start) * 1000
            found = CODE.search(answer.text) if answer.status_code == 200 else None
            return Sent(start, ms, answer.status_code, found.group(0) if found else None)
        except Exception as exc:
            self.failures.append(repr(exc))
            return None
        finally:
            http.close()

    def run(self, rate: float, seconds: float, rng: random.Random) -> list[Sent | None]:
        t0 = time.monotonic() + FILL_S + OPEN_LEAD_S + 0.5
        futures = [
            self.pool.submit(self.submit_at, t0 + i / rate, random_point(rng))
            for i in range(int(rate * seconds))
        ]
        return [f.result() for f in futures]


def _sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def sample_rss(bot: BotProcess, stop: threading.Event, samples: list[float]) -> None:
    while not stop.wait(1.0):
        try:
            samples.append(bot.rss())
        except OSError:
            return


#: The two bytecode cases of the cold start (see the module docstring).
BYTECODE = {
    "compiled": "every module's bytecode compiled (as `pip install` leaves it)",
    "source": "the bot's modules compiled at each start (PYTHONDONTWRITEBYTECODE, no bytecode)",
}


@dataclass
class ColdStart:
    wall_s: float  # process start → /healthz 200
    cpu_s: float  # the bot's CPU (user + system) when /healthz answered 200
    poll_s: float  # process start → its first getUpdates (receiving updates)


def cold_starts(emu: BenchEmulator, work: Path, n: int, bytecode: str) -> list[ColdStart]:
    """Process start → /healthz 200, restarts on the existing database; one start before
    them (not counted) fills this case's bytecode folder (and creates the database if new)."""
    prefix = work / f"pycache-{bytecode}"
    env = {"PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": ""}
    starts = []
    for i in range(n + 1):
        port = free_port()
        config = web_config(emu, work / "web.sqlite3", port)
        bot = start_warmline(config, work, f"cold-{bytecode}-{i}", env=env)
        try:
            at = wait_healthy(f"http://127.0.0.1:{port}", bot)
            cpu = bot.cpu()
            polled = wait_ready(emu, bot.started_at, bot)
            if i:
                starts.append(ColdStart(at - bot.started_at, cpu, polled - bot.started_at))
        finally:
            bot.stop()
        if i == 0 and bytecode == "source":
            # The libraries keep their bytecode (pip compiled them); the bot's own is dropped
            # and never written again.
            shutil.rmtree(prefix / BOT_ROOT.resolve().relative_to("/") / "bot", ignore_errors=True)
            env["PYTHONDONTWRITEBYTECODE"] = "1"
    return starts


def cold_rows(cold: dict[str, list[ColdStart]], load_cold: str) -> list[list[str]]:
    rows = []
    for bytecode, starts in cold.items():
        walls = [s.wall_s for s in starts]
        rows.append(
            [
                f"cold start → /healthz 200, restart, {BYTECODE[bytecode]} (median of "
                f"{len(starts)}: {', '.join(f'{x:.2f}' for x in walls)}; the bot's CPU by then "
                f"{', '.join(f'{s.cpu_s:.2f}' for s in starts)} s; its first getUpdates "
                f"{', '.join(f'{s.poll_s:.2f}' for s in starts)} s)",
                f"{median(walls):.2f} s (CPU {median([s.cpu_s for s in starts]):.2f} s; "
                f"polling {median([s.poll_s for s in starts]):.2f} s)",
                f"≤ {COLD_TARGET_S} s",
                verdict(median(walls) <= COLD_TARGET_S),
                load_cold,
            ]
        )
    return rows


def only_cold(starts: int) -> int:
    """``--only cold``: the cold starts alone, on a database the first start creates."""
    work = workdir("web-cold")
    with BenchEmulator() as emu:
        cast(emu, 0)
        wait_for_quiet()
        load_cold = load()
        cold = {bytecode: cold_starts(emu, work, starts, bytecode) for bytecode in BYTECODE}
        load_after = load()
    print(f"bot: {BOT_ROOT}")
    print(table(["measure", "result", "target", "", "load 1/5/15"], cold_rows(cold, load_cold)))
    print(f"\nload at the end {load_after}; logs and databases: {work}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--form-rate", type=float, default=10.0, help="form submits per second")
    parser.add_argument("--live-rate", type=float, default=20.0, help="tips per second (live)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument(
        "--only", choices=["cold"], help="cold: only the cold starts (phase 5), no load phases"
    )
    args = parser.parse_args()
    if args.only == "cold":
        return only_cold(args.starts)
    work = workdir("web")
    rng = random.Random(7)
    with BenchEmulator() as emu:
        cast(emu, 0)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = start_warmline(web_config(emu, work / "web.sqlite3", port), work, "web")
        stop = threading.Event()
        rss: list[float] = []
        try:
            wait_healthy(base, bot)
            board = Dashboard(sign_in(emu, base))
            board.start()
            wait_until(board.connected.is_set, 30, "the event stream")
            phones = Phones(base, workers=int(max(args.form_rate, args.live_rate) * 8) + 16)
            phones.run(2.0, 5.0, rng)  # warm-up: 10 tips
            time.sleep(2.0)
            wait_for_quiet()
            load_before = load()
            rss_idle = bot.rss()
            sampler = threading.Thread(target=sample_rss, args=(bot, stop, rss), daemon=True)
            threading.Timer(10.0, sampler.start).start()
            form = phones.run(args.form_rate, args.seconds, rng)
            load_form = load()
            live = phones.run(args.live_rate, args.seconds, rng)
            wait_until(
                lambda: all(s.code in board.first_seen for s in live if s and s.code),
                60,
                "every live tip on the map",
            )
            load_live = load()
            stop.set()
            if board.errors:
                raise RuntimeError(f"dashboard errors: {board.errors[:3]}")
        finally:
            stop.set()
            if "board" in locals():
                board.stop()
            bot.stop()
        wait_for_quiet()
        load_cold = load()
        cold = {bytecode: cold_starts(emu, work, args.starts, bytecode) for bytecode in BYTECODE}

    ok = [s for s in form if s and s.code]
    submit_ms = [s.ms for s in ok]
    rejects = len(form) - len(ok)
    statuses: dict[str, int] = {}
    for s in form:
        key = str(s.status) if s else "error"
        if not (s and s.code):
            statuses[key] = statuses.get(key, 0) + 1
    shown = [s for s in live if s and s.code]
    live_rejects = len(live) - len(shown)
    to_event = [(board.first_seen[s.code][0] - s.at) for s in shown]
    to_map = [(board.first_seen[s.code][1] - s.at) for s in shown]
    (work / "web-results.json").write_text(
        json.dumps({"submit_ms": submit_ms, "to_event_s": to_event, "to_map_s": to_map})
    )
    print(
        f"form: {len(form)} posts at {args.form_rate}/s, {rejects} rejected {statuses or ''}; "
        f"live: {len(live)} tips at {args.live_rate}/s, {live_rejects} without a code; dashboard: "
        f"{board.events} events, {board.fetches} map fetches (p50 "
        f"{pct(board.fetch_ms, 50):.0f} ms, max {max(board.fetch_ms, default=0):.0f}), "
        f"{board.dropped} events came during a fetch, {board.last_count} open tips on the last "
        f"map; RSS idle (signed in, stream open) {rss_idle:.1f} MB; load before {load_before}; "
        f"posts late (form page slow) {phones.late}; transport errors {len(phones.failures)} "
        f"{phones.failures[:2]}\n"
    )
    p = [pct(submit_ms, q) for q in (50, 95, 99)]
    e = [pct(to_event, q) for q in (50, 95, 99)]
    m = [pct(to_map, q) for q in (50, 95, 99)]
    rows = [
        [
            f"form submit p50 / p95 / p99 (max) at {args.form_rate:g}/s, {len(form)} posts",
            f"{p[0]:.0f} / {p[1]:.0f} / {p[2]:.0f} ms ({max(submit_ms, default=0):.0f}); "
            f"rejects {rejects}",
            f"p99 ≤ {SUBMIT_P99_TARGET_MS:.0f} ms",
            verdict(p[2] <= SUBMIT_P99_TARGET_MS and rejects == 0),
            load_form,
        ],
        [
            f"live: submit → the change event p50 / p95 / p99 at {args.live_rate:g} tips/s",
            f"{e[0]:.2f} / {e[1]:.2f} / {e[2]:.2f} s",
            f"≤ {LIVE_TARGET_S:g} s",
            verdict(e[2] <= LIVE_TARGET_S),
            load_live,
        ],
        [
            "live: submit → the map showing it (event + api/map) p50 / p95 / p99",
            f"{m[0]:.2f} / {m[1]:.2f} / {m[2]:.2f} s",
            f"≤ {LIVE_TARGET_S:g} s",
            verdict(m[2] <= LIVE_TARGET_S),
            load_live,
        ],
        [
            f"RSS with the dashboard open, max / median ({len(rss)} samples)",
            f"{max(rss, default=float('nan')):.1f} / {median(rss):.1f} MB",
            f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(bool(rss) and max(rss) <= RSS_TARGET_MB),
            load_live,
        ],
        *cold_rows(cold, load_cold),
    ]
    print(table(["measure", "result", "target", "", "load 1/5/15"], rows))
    print(f"\nlogs and databases: {work}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    sys.exit(main())
