"""Benchmark 1 — the framework floor.

PTB's minimal echo bot (bench/echo_bot.py) and warmline (`warmline run`) each run as a
subprocess against the same Bot API emulator in the same run, one after the other, and are
each fed ~2,000 updates by the same number of concurrent people (closed loop: each person
sends their next update when the bot has answered the previous one). The CPU time of the bot
process (utime + stime of all its threads, /proc/PID/stat) is read after a warm-up and again
when the last answer (warmline: the last card, with its location) has reached the emulator.

warmline's ~2,300 updates are the whole intake path of 285 tips from 285 reporters: location →
the exact spot's "more details" → when seen → how many → flags done → skip description → skip
photo → submit (8 updates a tip), and the cost includes sending each tip's card (card +
location reply) to the on-duty group. Then warmline answers 1,000 ``/help`` commands the same
way as the echo bot (one command update, one reply): the floor of a command.
Config: production defaults, except the rate limiter is off (the card stream would otherwise
wait out Telegram's 20 messages/minute per group) and digests are off (every tip gets its card).

    .venv/bin/python bench/floor.py [--rounds 2] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    STEP_ANSWERS,
    BenchEmulator,
    BotMessage,
    BotProcess,
    Flow,
    Reporters,
    cast,
    load,
    median,
    random_point,
    self_cpu,
    start_warmline,
    table,
    thread_cpu,
    verdict,
    wait_for_quiet,
    wait_ready,
    wait_until,
    warmline_config,
    workdir,
)

TARGET = 2.5  # issue 16 target 4: the intake ≤ 2.5× the echo bot's CPU per update
HELP_TARGET = 1.5  # … and a command such as /help ≤ 1.5×
UPDATES_PER_TIP = 2 + len(STEP_ANSWERS)  # location, each step's press, submit
ECHO_UPDATES = 2000
READY_S = 120.0  # a bound on a cold start on a busy machine, not a measure
HELP_UPDATES = 1000  # 10 per person: under the flood guard's 20 in 10 s


class EchoUsers(threading.Thread):
    """Closed loop: each user sends a text (``text``: always the same one, e.g. ``/help``),
    waits for the answer, sends the next."""

    def __init__(self, emu: BenchEmulator, users: list[int], text: str | None = None) -> None:
        super().__init__(daemon=True)
        self.emu = emu
        self.users = users
        self.text = text
        self.left: dict[int, int] = {}
        self.echoed = 0
        self.sent = 0
        self._halt = threading.Event()

    def feed(self, per_user: int) -> None:
        self.left = dict.fromkeys(self.users, per_user - 1)
        for user in self.users:
            self._send(user)

    def _send(self, user: int) -> None:
        self.sent += 1
        self.emu.send_text(user, self.text or f"你好 {self.sent}")

    def run(self) -> None:
        while not self._halt.is_set():
            m: BotMessage | None = self.emu.bot_messages_q.get()
            if m is None or m.chat_id < 0 or m.edited:
                continue
            self.echoed += 1
            if self.left.get(m.chat_id, 0) > 0:
                self.left[m.chat_id] -= 1
                self._send(m.chat_id)

    def stop(self) -> None:
        self._halt.set()
        self.emu.bot_messages_q.put(None)  # type: ignore[arg-type]
        self.join(5)


def api_calls(emu: BenchEmulator, since: float, until: float) -> tuple[int, int]:
    """(Bot API calls other than getUpdates, getUpdates calls) the emulator got in a window."""
    with emu._lock:
        names = [name for at, name, _ in emu.requests if since <= at <= until]
    polls = sum(1 for n in names if n == "getUpdates")
    return len(names) - polls, polls


def run_echo(emu: BenchEmulator, users: list[int], updates: int, work: Path) -> dict:
    bot = BotProcess(
        [sys.executable, str(ROOT / "bench" / "echo_bot.py"), emu.token, emu.base_url],
        work / "echo.log",
    )
    return closed_loop(emu, bot, users, updates // len(users), "echo (PTB floor)", None, 0.3)


def profiled_head(profile: tuple[str, Path] | None) -> list[str] | None:
    """The command that starts warmline with ``profile`` = (cprofile|pyinstrument, output)
    switched on and off by signals (bench/profiled_bot.py); None: plain ``warmline run``."""
    if not profile:
        return None
    return [sys.executable, str(ROOT / "bench" / "profiled_bot.py"), profile[0], str(profile[1])]


def run_help(
    emu: BenchEmulator,
    users: list[int],
    updates: int,
    work: Path,
    profile: tuple[str, Path] | None = None,
) -> dict:
    """warmline answering ``/help`` (one command update, one reply): its floor for a command,
    measured like the echo bot (closed loop; fewer per user than the flood guard's 20 in 10 s,
    and its window let pass after the warm-up)."""
    bot = start_warmline(
        warmline_config(emu, work / f"help-{users[0]}.sqlite3", rate_limiter=False),
        work,
        "help",
        profiled_head(profile),
    )
    return closed_loop(
        emu, bot, users, max(1, updates // len(users)), "warmline /help", "/help", 11, profile
    )


def closed_loop(
    emu: BenchEmulator,
    bot: BotProcess,
    users: list[int],
    per_user: int,
    name: str,
    text: str | None,
    settle_s: float,
    profile: tuple[str, Path] | None = None,
) -> dict:
    """``bot``'s CPU for ``per_user`` texts from each of ``users``, each sent when the answer
    to the previous one came (after a warm-up of one each and ``settle_s`` seconds);
    ``profile``: the bot runs under bench/profiled_bot.py, profiled while measured."""
    try:
        wait_ready(emu, bot.started_at, bot, timeout=READY_S)
        loop = EchoUsers(emu, users, text)
        loop.start()
        loop.feed(1)  # warm-up: one each (warmline writes each user's row once)
        wait_until(lambda: loop.echoed >= len(users), 60, f"{name} warm-up")
        time.sleep(settle_s)
        wait_for_quiet()
        load_at = load()
        if profile:
            bot.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
        cpu0, me0, t0 = bot.cpu(), self_cpu(), time.monotonic()
        loop.echoed = 0
        loop.feed(per_user)
        wait_until(lambda: loop.echoed >= per_user * len(users), 300, name, poll=0.002)
        cpu1, me1, t1 = bot.cpu(), self_cpu(), time.monotonic()
        loop.stop()
        if profile:
            bot.proc.send_signal(signal.SIGUSR2)
            wait_until(profile[1].with_suffix(".done").exists, 120, "the profile")
        n = per_user * len(users)
        calls, polls = api_calls(emu, t0, t1)
        return {
            "calls": calls,
            "polls": polls,
            "bot": name,
            "updates": n,
            "cpu_s": cpu1 - cpu0,
            "per_update_ms": (cpu1 - cpu0) / n * 1000,
            "wall_s": t1 - t0,
            "bench_cpu_s": me1 - me0,
            "load": load_at,
        }
    finally:
        bot.stop()


def run_warmline(
    emu: BenchEmulator,
    reporters: list[int],
    concurrency: int,
    work: Path,
    profile: tuple[str, Path] | None = None,
) -> dict:
    """The intake of ``reporters[20:]`` (one tip each) after a warm-up by ``reporters[:20]``.
    ``profile``: (cprofile|pyinstrument, output) profiles the bot during the measured part."""
    rng = random.Random(7)
    warm, measured = reporters[:20], reporters[20:]
    db = work / f"floor-{reporters[0]}.sqlite3"
    head = profiled_head(profile)
    bot = start_warmline(
        warmline_config(
            emu,
            db,
            rate_limiter=False,
            digest_threshold=0,
            telegram_extra=os.environ.get("BENCH_TELEGRAM_EXTRA", ""),
        ),
        work,
        "floor",
        head,
    )
    flows = Reporters(emu)
    flows.start()
    try:
        wait_ready(emu, bot.started_at, bot, timeout=READY_S)
        # Warm-up: 20 tips from 20 other reporters, cards included.
        for user in warm:
            flows.start_flow(Flow(user, *random_point(rng)))
        wait_until(lambda: flows.group.locations >= len(warm), 120, "warm-up cards")
        time.sleep(1.2)  # let the outbox's idle pass go by
        wait_for_quiet()
        load_at = load()
        queue = list(measured)

        def next_flow(_finished: Flow | None = None) -> None:
            if queue:
                flows.start_flow(Flow(queue.pop(0), *random_point(rng)))

        flows.on_finish = next_flow
        base_locations = flows.group.locations
        if profile:
            bot.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
        threads0 = thread_cpu(bot.pid)
        cpu0, me0, t0 = bot.cpu(), self_cpu(), time.monotonic()
        for _ in range(min(concurrency, len(queue))):
            next_flow()
        wait_until(
            lambda: flows.group.locations >= base_locations + len(measured),
            600,
            "every card and its location",
            poll=0.002,
        )
        cpu1, me1, t1 = bot.cpu(), self_cpu(), time.monotonic()
        threads1 = thread_cpu(bot.pid)
        if profile:
            bot.proc.send_signal(signal.SIGUSR2)
            done_file = profile[1].with_suffix(".done")
            wait_until(done_file.exists, 120, "the profile")
        done = [f for f in flows.done if f.user in set(measured)]
        refused = [f for f in done if f.refused]
        if refused or flows.errors:
            raise RuntimeError(f"refused: {refused[:3]}, errors: {flows.errors[:3]}")
        n = len(measured) * UPDATES_PER_TIP
        calls, polls = api_calls(emu, t0, t1)
        return {
            "threads": {k: v - threads0.get(k, 0.0) for k, v in threads1.items()},
            "calls": calls,
            "polls": polls,
            "bot": "warmline intake + card",
            "updates": n,
            "cpu_s": cpu1 - cpu0,
            "per_update_ms": (cpu1 - cpu0) / n * 1000,
            "wall_s": t1 - t0,
            "bench_cpu_s": me1 - me0,
            "load": load_at,
        }
    finally:
        flows.stop()
        bot.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="echo + warmline pairs (default 2)")
    parser.add_argument("--tips", type=int, default=285, help="warmline tips (7 updates each)")
    parser.add_argument("--concurrency", type=int, default=100, help="people at once")
    args = parser.parse_args()
    work = workdir("floor")
    rows, ratios, help_ratios = [], [], []
    with BenchEmulator() as emu:
        per_round = 20 + args.tips  # fresh reporters every round: 20 warm-up, then the tips
        ids = cast(emu, per_round * args.rounds + args.concurrency)
        echo_users = ids[-args.concurrency :]
        for round_no in range(args.rounds):
            echo = run_echo(emu, echo_users, ECHO_UPDATES, work)
            reporters = ids[round_no * per_round : (round_no + 1) * per_round]
            warm = run_warmline(emu, reporters, args.concurrency, work)
            helped = run_help(emu, echo_users, HELP_UPDATES, work)
            ratio = warm["per_update_ms"] / echo["per_update_ms"]
            ratios.append(ratio)
            help_ratios.append(helped["per_update_ms"] / echo["per_update_ms"])
            for r in (echo, warm, helped):
                rows.append(
                    [
                        round_no + 1,
                        r["bot"],
                        r["updates"],
                        f"{r['cpu_s']:.2f}",
                        f"{r['per_update_ms']:.2f}",
                        f"{r['calls'] / r['updates']:.2f}",
                        f"{r['cpu_s'] / (r['calls'] + r['polls']) * 1000:.2f}",
                        f"{r['wall_s']:.1f}",
                        f"{r['bench_cpu_s']:.1f}",
                        r["load"],
                    ]
                )
            threads = ", ".join(
                f"{name} {sec:.2f}s" for name, sec in sorted(warm["threads"].items()) if sec
            )
            print(
                f"round {round_no + 1}: ratio {ratio:.2f}, /help {help_ratios[-1]:.2f}; "
                f"warmline threads: {threads}",
                flush=True,
            )
    print()
    print(
        table(
            [
                "round",
                "bot",
                "updates",
                "bot CPU s",
                "CPU ms/update",
                "API calls/update",
                "CPU ms/API call (incl. getUpdates)",
                "wall s",
                "emulator+driver CPU s",
                "load 1/5/15",
            ],
            rows,
        )
    )
    print()
    ratio, help_ratio = median(ratios), median(help_ratios)
    print(
        table(
            ["measure", "result", "target", ""],
            [
                [
                    "warmline intake CPU per update ÷ echo CPU per update",
                    f"{ratio:.2f}× (rounds: {', '.join(f'{r:.2f}' for r in ratios)})",
                    f"≤ {TARGET}×",
                    verdict(ratio <= TARGET),
                ],
                [
                    "warmline /help CPU per update ÷ echo CPU per update",
                    f"{help_ratio:.2f}× (rounds: {', '.join(f'{r:.2f}' for r in help_ratios)})",
                    f"≤ {HELP_TARGET}×",
                    verdict(help_ratio <= HELP_TARGET),
                ],
            ],
        )
    )
    print(f"\nlogs and databases: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
