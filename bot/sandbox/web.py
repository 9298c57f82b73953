"""The demo's web chat: a page with three chats side by side (a reporter, the on-duty patrol
group, the duty officer) and a small JSON API over a :class:`~bot.sandbox.stage.Stage`, as a
Starlette app served by uvicorn.

``GET /``                  the page (``static/index.html``, ``app.js``, ``app.css``)
``GET /api/state``         who is who: people, groups, the group on duty, places, bot
``GET /api/chat/<id>``     a chat's messages as the page shows them, its reply keyboard, commands
``GET /api/file/<id>``     a photo's bytes
``GET /api/events``        server-sent events: ``change`` with every chat's version
``POST /api/send``         a person sends text / location / venue / photo / contact
``POST /api/press``        a person presses an inline button (by position); answers the toast

Safety, for a tool that listens on a port: loopback only unless ``allow_remote``; the ``Host``
header must name this server (no DNS rebinding); POSTs must be JSON from this origin (no
cross-site form posts); a strict Content-Security-Policy and no external assets; bot messages
reach the page only as plain text plus entities (never the bot's raw HTML), and the page
builds them with ``textContent``.

:func:`create_app` is the ASGI app for a stage (it can be mounted on another Starlette
server); :class:`WebServer` serves it with uvicorn in a thread of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, Self
from urllib.parse import urlsplit

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.sandbox.assets import STATIC_FILES, static_bytes
from bot.sandbox.httpd import is_loopback
from bot.sandbox.stage import Stage
from bot.sandbox.webchat import RequestError, WebChat

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
HEARTBEAT = 15.0
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: On every answer: never cached, never sniffed, no referrer, the strict policy.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}


def check_listen_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless told to explicitly."""
    if not is_loopback(host) and not allow_remote:
        raise ValueError(
            f"refusing to listen on {host!r}: the demo has no login and anyone who can reach "
            "the port can act as every person in it; use 127.0.0.1, or pass --allow-remote "
            "(with --host) if you really mean to share it"
        )


# --------------------------------------------------------------------------------------------
# HTTP: the Starlette app


def create_app(stage: Stage, *, allowed_hosts: set[str] | None = None) -> Starlette:
    """The web chat of ``stage`` as an ASGI app. ``allowed_hosts``: the ``Host`` headers (and
    ``Origin`` hosts) it answers — None answers any (``--allow-remote``)."""
    return _App(WebChat(stage), allowed_hosts).starlette


class _App:
    def __init__(self, chat: WebChat, allowed_hosts: set[str] | None) -> None:
        self.chat = chat
        self.allowed_hosts = allowed_hosts
        self._stream_threads: anyio.CapacityLimiter | None = None  # made in the server's loop
        routes = [
            Route("/", self.page),
            Route("/index.html", self.page),
            Route("/static/{name}", self.static),
            Route("/api/state", self.state),
            Route("/api/chat/{chat_id}", self.chat_messages),
            Route("/api/file/{file_id}", self.file),
            Route("/api/events", self.events),
            Route("/api/send", self.send, methods=["POST"]),
            Route("/api/press", self.press, methods=["POST"]),
        ]
        self.starlette = Starlette(
            routes=routes,
            middleware=[Middleware(_Guard, allowed_hosts=allowed_hosts)],
            exception_handlers={HTTPException: _refusal},
        )

    # -- GET -------------------------------------------------------------------------------
    def page(self, request: Request) -> Response:
        return _static("index.html")

    def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            raise RequestError(404, "not found")
        return _static(name)

    def state(self, request: Request) -> Response:
        return _json(self.chat.state())

    def chat_messages(self, request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        if not re.fullmatch(r"-?\d+", chat_id):
            raise RequestError(404, "not found")
        return _json(self.chat.chat(int(chat_id)))

    def file(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", file_id):
            raise RequestError(404, "not found")
        data, content_type = self.chat.file(file_id)
        return Response(data, media_type=content_type)

    async def events(self, request: Request) -> Response:
        """Server-sent events: one ``change`` event per batch of changes (the first at once)."""
        return StreamingResponse(
            self._changes(),
            media_type="text/event-stream; charset=utf-8",
            headers={"Connection": "close"},
        )

    async def _changes(self) -> AsyncIterator[bytes]:
        chat, stage = self.chat, self.chat.stage
        yield b"retry: 1000\n\n"
        last: dict | None = None
        last_write = time.monotonic()
        while not stage.stopping.is_set():
            snapshot = chat.snapshot()
            if snapshot != last:
                data = json.dumps(snapshot, separators=(",", ":"))
                yield f"event: change\ndata: {data}\n\n".encode()
                last, last_write = snapshot, time.monotonic()
            elif time.monotonic() - last_write > HEARTBEAT:
                yield b": ping\n\n"
                last_write = time.monotonic()
            # Wake on the emulator's next change; a short timeout notices the stage's own
            # changes (people, status) and a stop. Then let a burst settle into one event.
            version = await anyio.to_thread.run_sync(
                stage.emu.wait_change, snapshot["version"], 0.5, limiter=self._stream_limiter()
            )
            if version != snapshot["version"]:
                await asyncio.sleep(0.02)

    def _stream_limiter(self) -> anyio.CapacityLimiter:
        """The event streams wait for changes in threads of their own, never starving the
        threads that answer the other requests."""
        if self._stream_threads is None:
            self._stream_threads = anyio.CapacityLimiter(64)
        return self._stream_threads

    # -- POST ------------------------------------------------------------------------------
    async def send(self, request: Request) -> Response:
        body = await self._body(request)
        return _json(await run_in_threadpool(self.chat.send, body))

    async def press(self, request: Request) -> Response:
        body = await self._body(request)
        return _json(await run_in_threadpool(self.chat.press, body))

    async def _body(self, request: Request) -> dict:
        """The JSON object a POST carries, from this page only, of at most MAX_BODY bytes."""
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            raise RequestError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise RequestError(413, "request too large")  # refused before it is read
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            await _drain(request)
            raise RequestError(415, "send JSON (Content-Type: application/json)")
        origin = request.headers.get("origin")
        if origin and self.allowed_hosts is not None:
            if urlsplit(origin).netloc.lower() not in self.allowed_hosts:
                await _drain(request)
                raise RequestError(403, "cross-origin request refused")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise RequestError(413, "request too large")
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise RequestError(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "the body must be a JSON object")
        return body


async def _drain(request: Request) -> None:
    """Read a small body that is refused anyway (it is at most MAX_BODY: checked first), so
    that the connection closes cleanly: closing on unread data makes the kernel send a reset,
    which can reach the client before the refusal does."""
    read = 0
    async for chunk in request.stream():
        read += len(chunk)
        if read > MAX_BODY:
            raise RequestError(413, "request too large")


def _json(payload: Any) -> Response:
    return JSONResponse(payload, media_type="application/json; charset=utf-8")


def _static(name: str) -> Response:
    return Response(static_bytes(name), media_type=STATIC_FILES[name])


def _refusal(request: Request, exc: Exception) -> Response:
    """Every refusal (ours, and the router's 404 and 405) as ``{"error": ...}``."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.method == "POST":
        headers["Connection"] = "close"  # the body may not have been read
    return JSONResponse(
        {"error": exc.detail},
        status_code=exc.status_code,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


class _Guard:
    """ASGI middleware: the security headers on every answer, and the ``Host`` check (no DNS
    rebinding) before anything else."""

    def __init__(self, app: ASGIApp, allowed_hosts: set[str] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        host = (Headers(scope=scope).get("host") or "").lower()
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            refusal = RequestError(
                403, "unexpected Host header (open the address the demo printed)"
            )
            await _refusal(Request(scope), refusal)(scope, receive, send_guarded)
            return
        await self.app(scope, receive, send_guarded)


# --------------------------------------------------------------------------------------------
# Serving


class WebServer:
    """Serves the web chat of ``stage`` with uvicorn, in a thread and event loop of its own.

    Binds in the constructor, so a refused host or a busy port fails before anything runs;
    ``start()`` serves, ``stop()`` stops (the event streams end with the stage).
    """

    def __init__(
        self, stage: Stage, *, host: str = "127.0.0.1", port: int = 8080, allow_remote: bool = False
    ) -> None:
        check_listen_host(host, allow_remote)
        self.host = host
        self.allow_remote = allow_remote
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.port: int = self._socket.getsockname()[1]
        self.allowed_hosts = {
            f"{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]", host.lower())
        }
        if self.port == 80:
            self.allowed_hosts |= {"127.0.0.1", "localhost", "[::1]"}
        self.app = create_app(stage, allowed_hosts=None if allow_remote else self.allowed_hosts)
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,  # the demo's own logging, untouched
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self, timeout: float = 30.0) -> Self:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"warmline-web:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web chat did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving. Event streams end with the stage (``stage.stopping``), or after the
        grace period."""
        if self._thread is None:
            self._socket.close()
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            log.warning("the web chat did not stop within 10 s")
