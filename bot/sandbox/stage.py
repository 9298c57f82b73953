"""The demo's running world: the Bot API emulator with the cast in it, and the real bot talking
to it (the same code path as production — only ``base_url``/``base_file_url`` differ, and the
rate limiter is off), in its own thread and event loop, through the same lifecycle as
``warmline run``.

The web chat (``bot.sandbox.web``) and the drill (``bot.sandbox.drill``) are given a stage;
the stage knows neither.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import tempfile
import threading
import zoneinfo
from pathlib import Path
from typing import Any, Self

from bot.app import Overrides, build_application
from bot.config import Config
from bot.sandbox.cast import (
    BOT_NAME,
    BOT_USERNAME,
    CAST,
    GROUPS,
    TOKEN,
    GroupChat,
    Person,
    demo_config,
)
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.runner import serving
from bot.station import roster_from

log = logging.getLogger(__name__)


class Stage:
    """Emulator + bot + the people in the demo, started and stopped together.

    ``start()`` starts the emulator, puts the cast in it and starts the bot; ``stop()`` stops
    the bot (outbox drained, database closed), then the emulator. ``stopping`` is set as soon
    as a stop begins, for whoever acts on the stage from another thread (the drill).
    """

    def __init__(self, *, database: Path | str | None = None, poll_timeout: int = 5) -> None:
        self.poll_timeout = poll_timeout
        self.people: list[Person] = list(CAST)
        self.groups: tuple[GroupChat, ...] = GROUPS
        self.status = ""  # a line the page shows (the drill's progress)
        self.revision = 0  # grows when people or status change
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._tmpdir: Path | None = None
        if database is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="warmline-demo-"))
            self.database = self._tmpdir / "warmline.sqlite3"
        else:
            self.database = Path(database)
        self.emu = BotApiEmulator(TOKEN, bot_username=BOT_USERNAME)
        self.emu.bot_user["first_name"] = BOT_NAME
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
    def start(self, timeout: float = 30.0) -> Self:
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
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the bot (outbox drained, database closed), then the emulator. Idempotent."""
        self.stopping.set()
        if self._stopped:
            return
        self._stopped = True
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

    def __enter__(self) -> Self:
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

    @property
    def report_url(self) -> str | None:
        """The public web report form on the bot's own web server (issue 15), once listening."""
        web = self.app.bot_data.get("web") if self.app is not None else None
        return f"{web.url}/report/" if web is not None and web.listening else None

    def person(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.user_id == user_id), None)

    def group(self, key: str) -> GroupChat:
        return next(g for g in self.groups if g.key == key)

    def on_duty(self, now: dt.datetime | None = None) -> str:
        """The key of the group on duty now (from the bot's own roster)."""
        assert self.config is not None
        tz = zoneinfo.ZoneInfo(self.config.station.timezone)
        local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
        return roster_from(self.config).on_duty(local)
