"""``warmline demo``: try warmline without a bot token.

One process, loopback only: the Bot API emulator, the real bot talking to it (``stage``), and
a web page with three chats side by side — a reporter, the on-duty patrol group, the duty
officer (``web``); with ``--drill``, a scripted night of tips (``drill``).

The modules depend one way: ``cast`` (who, and the bot's config) ← ``stage`` (emulator + bot)
← ``web`` / ``webchat`` and ``drill`` (each given a stage) ← ``demo`` (this: all of it, and
the command).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Self

from bot.logs import LogHygiene
from bot.sandbox.drill import Drill
from bot.sandbox.stage import Stage
from bot.sandbox.web import WebServer, check_listen_host

DEFAULT_PORT = 8080


class Demo(Stage):
    """A :class:`~bot.sandbox.stage.Stage` with its web chat, started and stopped together.

    The web server binds in the constructor (so a refused host or a busy port fails fast,
    before anything runs); ``start()`` starts the emulator and the bot, then serves the page;
    ``stop()`` undoes it in reverse order.
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
        super().__init__(database=database, poll_timeout=poll_timeout)
        try:
            self.web = WebServer(self, host=host, port=port, allow_remote=allow_remote)
        except BaseException:
            super().stop()  # nothing runs yet: this removes the temporary database folder
            raise

    @property
    def url(self) -> str:
        return self.web.url

    def start(self, timeout: float = 30.0) -> Self:
        super().start(timeout)
        try:
            self.web.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the page, the bot (outbox drained, database closed), then the emulator."""
        self.stopping.set()  # the page's event streams end now
        self.web.stop()
        super().stop()


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
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for handler in logging.getLogger().handlers:  # no payloads in the log, as in `run`
        handler.addFilter(LogHygiene(""))
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
        # Ctrl-C and `kill` (SIGTERM) stop cleanly at any moment from here on (a
        # KeyboardInterrupt could land before the wait below and skip the stop); a second
        # Ctrl-C interrupts as usual.
        def stopping(*_: object) -> None:
            stop.set()
            signal.signal(signal.SIGINT, signal.default_int_handler)

        signal.signal(signal.SIGINT, stopping)
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
