"""uvicorn inside the bot's own event loop.

``uvicorn.Server.serve()`` normally takes over SIGINT and SIGTERM (``capture_signals``: it
installs its own handlers with ``signal.signal`` and re-raises the signal when it has shut
down). In warmline the run loop (``bot/lifecycle.py``) owns those signals and stops every part
in order, the web server among them, so :class:`_InLoopServer` captures nothing and the server
is stopped by :meth:`WebServer.stop` (uvicorn's ``should_exit``).

The socket is bound here, not by uvicorn: a port already in use is one log line and a retry
with the run loop's backoff (the bot goes on serving meanwhile), never a crash loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)

#: Waits between attempts to listen, in seconds; the last one repeats (as bot/lifecycle.py).
BIND_BACKOFF_S = (1, 2, 5, 10, 30, 60)


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGINT/SIGTERM stay with the run loop (see the module docstring)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _backoff(attempt: int) -> float:
    return float(BIND_BACKOFF_S[min(attempt, len(BIND_BACKOFF_S) - 1)])


class WebServer:
    """Serves ``app`` on ``host:port`` (port 0: any free port) in the running loop."""

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        delay: Callable[[int], float] = _backoff,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port: int | None = None  # once listening
        self._delay = delay
        self._server: _InLoopServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._bind_failed = asyncio.Event()  # the first attempt to listen failed
        # uvicorn's own INFO lines ("Started server process", "Waiting for application
        # startup"...) say nothing an operator needs; this module says where it listens.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
        return f"http://{host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        """Listen and serve; returns once listening, or at once (retrying in the background)
        if the address cannot be taken now."""
        self._task = asyncio.create_task(self._run(), name="warmline-web")
        waiters = [
            asyncio.ensure_future(self._listening.wait()),
            asyncio.ensure_future(self._bind_failed.wait()),
        ]
        try:
            await asyncio.wait((*waiters, self._task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._task.done():
            self._task.result()  # a bug: let it show

    async def wait_listening(self) -> None:
        await self._listening.wait()

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                sock = _bind(self.host, self.requested_port)
                break
            except OSError as exc:
                wait = self._delay(attempt)
                log.warning(
                    "the web server cannot listen on %s:%s (%s) → stop whatever uses that port "
                    "or set [web] port; retrying in %.0f s",
                    self.host,
                    self.requested_port,
                    exc.strerror or exc,
                    wait,
                )
                attempt += 1
                self._bind_failed.set()
                await asyncio.sleep(wait)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,  # the bot's logging, untouched
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        server = _InLoopServer(config)
        self._server = server
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        try:
            # uvicorn says it is listening only by this flag (no event to wait on).
            while not server.started and not serving.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if server.started:
                log.info("web server listening on %s (/telegram, /healthz)", self.url)
                self._listening.set()
            await serving
        finally:
            if not serving.done():
                server.should_exit = True
                with contextlib.suppress(Exception):
                    await serving
            sock.close()

    async def stop(self) -> None:
        """Stop accepting, let answers in progress finish (a few seconds at most), close."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._server is not None:
            self._server.should_exit = True
        if self._server is None or not self._server.started:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._listening.clear()
