"""``warmline demo``: try warmline without a bot token.

One process, loopback only: the Bot API emulator, the real bot talking to it (the same code path
as production — only ``base_url``/``base_file_url`` differ, and the rate limiter is off), and a
web page with three chats side by side — a reporter, the on-duty patrol group, the duty officer.

Everyone here is invented: names, user ids, chat ids, phone numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import tempfile
import threading
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.sandbox.emulator import BotApiEmulator

log = logging.getLogger(__name__)

TOKEN = "123456:WARMLINE-DEMO"
BOT_USERNAME = "warmline_demo_bot"
BOT_NAME = "暖线 warmline"
HANDOVER = "08:30"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Person:
    """Someone the page can act as. ``phone`` is what "share my phone number" sends."""

    user_id: int
    name: str
    role: str  # "reporter" | "leader" | "member" | "officer"
    phone: str
    note: str = ""  # shown beside the name, e.g. "快递员 courier"
    group: str | None = None  # the patrol group key of staff
    username: str | None = None
    language_code: str = "zh-hans"


@dataclass(frozen=True)
class GroupChat:
    key: str
    name: str
    chat_id: int
    title: str  # the Telegram group's title


REPORTER_ID = 5001
OFFICER_ID = 7901

GROUPS: tuple[GroupChat, ...] = (
    GroupChat("g1", "第一小组", -1001000000001, "第一小组 巡查群"),
    GroupChat("g2", "第二小组", -1001000000002, "第二小组 巡查群"),
)

# Phone numbers are obviously fake: +86 138 0000 00NN.
CAST: tuple[Person, ...] = (
    Person(REPORTER_ID, "小梅", "reporter", "+86 138 0000 0001", "快递员 courier", None, "xiaomei"),
    Person(7101, "王组长", "leader", "+86 138 0000 0011", "第一小组组长 leader", "g1"),
    Person(7102, "赵队员", "member", "+86 138 0000 0012", "队员 member", "g1"),
    Person(7103, "钱队员", "member", "+86 138 0000 0013", "队员 member", "g1"),
    Person(7201, "孙组长", "leader", "+86 138 0000 0021", "第二小组组长 leader", "g2"),
    Person(7202, "周队员", "member", "+86 138 0000 0022", "队员 member", "g2"),
    Person(OFFICER_ID, "吴值班", "officer", "+86 138 0000 0091", "值班人员 duty officer"),
)


def duty_anchor(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The duty day running at ``now``, so that the first group is on duty when the demo
    starts (the roster then alternates at each hand-over, as configured)."""
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in HANDOVER.split(":"))
    day = local.date()
    if local.time() < dt.time(hour, minute):
        day -= dt.timedelta(days=1)
    return day


def demo_config(emu: BotApiEmulator, database: Path, *, now: dt.datetime | None = None) -> Config:
    """The demo's configuration, built in code: two patrol groups, one duty officer, the
    offline gazetteer as geocoder, the emulator as Bot API."""
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = now or dt.datetime.now(dt.UTC)
    staff = {g.key: [p for p in CAST if p.group == g.key] for g in GROUPS}
    data: dict[str, Any] = {
        "telegram": {
            "token": emu.token,
            "base_url": emu.base_url,
            "base_file_url": emu.base_file_url,
            "rate_limiter": False,
        },
        "station": {"database": str(database), "timezone": str(tz)},
        "groups": [
            {
                "key": g.key,
                "name": g.name,
                "chat_id": g.chat_id,
                "leader": next(p.user_id for p in staff[g.key] if p.role == "leader"),
                "members": [p.user_id for p in staff[g.key] if p.role == "member"],
            }
            for g in GROUPS
        ],
        "roster": {
            "anchor": duty_anchor(now, tz),
            "handover": HANDOVER,
            "order": [g.key for g in GROUPS],
        },
        "officers": {"user_ids": [p.user_id for p in CAST if p.role == "officer"]},
        "geocoder": {"provider": "offline"},
        # A demo is for trying things: room for more than the production limit of three
        # tips an hour from one reporter.
        "reporting": {"max_open_tips_per_hour": 10},
    }
    return Config.model_validate(data)


class Demo:
    """Emulator + bot + web chat, started and stopped together.

    ``start()`` binds the web server first (so a busy port fails fast), then starts the
    emulator and the bot (in its own thread and event loop, through the same lifecycle as
    ``warmline run``), then serves the page. ``stop()`` undoes it in reverse order.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        allow_remote: bool = False,
        database: Path | str | None = None,
        poll_timeout: int = 5,
    ) -> None:
        from bot.sandbox.web import WebChat  # the web layer needs Demo's names; import late

        self.poll_timeout = poll_timeout
        self.people: list[Person] = list(CAST)
        self.groups = GROUPS
        self.status = ""  # a line the page shows (the drill's progress)
        self.revision = 0  # grows when people or status change
        self._lock = threading.Lock()
        self._tmpdir: Path | None = None
        if database is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="warmline-demo-"))
            self.database = self._tmpdir / "warmline.sqlite3"
        else:
            self.database = Path(database)
        self.emu = BotApiEmulator(TOKEN, bot_username=BOT_USERNAME)
        self.emu.bot_user["first_name"] = BOT_NAME
        # Binds now: a refused host or a busy port raises here, before anything runs.
        self.web = WebChat(self, host=host, port=port, allow_remote=allow_remote)
        self.config: Config | None = None
        self.app: Any = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_bot: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._started = False
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.web.url

    def start(self, timeout: float = 30.0) -> Demo:
        if self._started:
            raise RuntimeError("demo already started")
        self._started = True
        try:
            self.emu.start()
            for person in self.people:
                self._add_to_emulator(person)
            for group in self.groups:
                self.emu.add_group(group.chat_id, group.title)
            self.database.parent.mkdir(parents=True, exist_ok=True)
            self.config = demo_config(self.emu, self.database)
            self._thread = threading.Thread(target=self._run_bot, name="warmline-bot", daemon=True)
            self._thread.start()
            if not self._ready.wait(timeout):
                raise RuntimeError(f"the bot did not start within {timeout:.0f} s")
            if self._error is not None:
                raise RuntimeError(f"the bot could not start: {self._error!r}") from self._error
            self.web.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the page, the bot (outbox drained, database closed), then the emulator."""
        if self._stopped:
            return
        self._stopped = True
        self.web.stop()
        if self._thread is not None and self._thread.is_alive():
            loop, event = self._loop, self._stop_bot
            if loop is not None and event is not None:
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # the loop has already closed
                    pass
            self._thread.join(timeout=15)
            if self._thread.is_alive():
                log.warning("the bot did not stop within 15 s")
        self.emu.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_bot(self) -> None:
        try:
            asyncio.run(self._bot_main())
        except BaseException as exc:
            if not self._ready.is_set():
                self._error = exc
            else:
                log.exception("the bot stopped with an error")
        finally:
            self._ready.set()

    async def _bot_main(self) -> None:
        from bot.app import Overrides, build_application
        from bot.sandbox.runner import serving

        assert self.config is not None
        self._loop = asyncio.get_running_loop()
        self._stop_bot = asyncio.Event()
        app = build_application(self.config, Overrides())
        async with serving(app, poll_timeout=self.poll_timeout):
            self.app = app
            self._ready.set()
            await self._stop_bot.wait()

    # -- the world -----------------------------------------------------------------------------
    def _add_to_emulator(self, person: Person) -> None:
        self.emu.add_user(
            person.user_id,
            person.name,
            username=person.username,
            language_code=person.language_code,
            # Staff have talked to the bot before (/whoami at set-up); reporters have not.
            started=person.role != "reporter",
        )

    def add_reporter(self, person: Person) -> Person:
        """Someone new reports (the drill's cast); they appear in the reporter pane."""
        with self._lock:
            if all(p.user_id != person.user_id for p in self.people):
                self.people.append(person)
                self._add_to_emulator(person)
            self.revision += 1
        return person

    def set_status(self, text: str) -> None:
        with self._lock:
            self.status = text
            self.revision += 1
        log.info("%s", text)

    def person(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.user_id == user_id), None)

    def group(self, key: str) -> GroupChat:
        return next(g for g in self.groups if g.key == key)

    def on_duty(self, now: dt.datetime | None = None) -> str:
        """The key of the group on duty now (from the bot's own roster)."""
        from bot.app import roster_from

        assert self.config is not None
        tz = zoneinfo.ZoneInfo(self.config.station.timezone)
        local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
        return roster_from(self.config).on_duty(local)


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    allow_remote: bool = False,
    database: str | None = None,
    drill: bool = False,
    open_browser: bool = True,
    verbose: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """``warmline demo``: start everything, print the address, wait for Ctrl-C (or ``stop``)."""
    import signal
    import sys
    import webbrowser

    from bot.sandbox.web import check_listen_host

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("bot.sandbox").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        check_listen_host(host, allow_remote)
    except ValueError as exc:
        print(f"warmline demo: {exc}", file=sys.stderr)
        return 2
    try:
        demo = Demo(host=host, port=port, allow_remote=allow_remote, database=database)
    except OSError as exc:
        print(
            f"warmline demo: cannot listen on {host}:{port} ({exc.strerror or exc}) → choose "
            "another port with --port (0 picks a free one)",
            file=sys.stderr,
        )
        return 2
    try:
        demo.start()
    except Exception as exc:
        print(f"warmline demo: could not start: {exc}", file=sys.stderr)
        return 1
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    kept = "kept" if database else "deleted at exit; --db PATH keeps it"
    on_duty = demo.group(demo.on_duty())
    print(
        "warmline demo — the real bot against a local Bot API emulator; no Telegram, no token.\n"
        f"  web chat : {demo.url}\n"
        f"  database : {demo.database} ({kept})\n"
        f"  on duty  : {on_duty.name} ({on_duty.key})\n"
        + ("  drill    : starting — tips will arrive in a few seconds\n" if drill else "")
        + "Ctrl-C stops everything.",
        flush=True,
    )
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(demo.url,), daemon=True).start()
    drill_stop = threading.Event()
    drill_thread = None
    if drill:
        from bot.sandbox.drill import Drill

        drill_thread = Drill(demo, stop=drill_stop).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("warmline demo: stopping…", flush=True)
        drill_stop.set()
        if drill_thread is not None:
            drill_thread.join(timeout=5)
        demo.stop()
        print("warmline demo: stopped.", flush=True)
    return 0
