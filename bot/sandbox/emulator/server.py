"""The emulator's HTTP side: the Bot API at ``/bot<token>/<method>`` and file downloads at
``/file/bot<token>/<path>``, on the stdlib threaded server (a thread per request, so a long
poll blocks only its own thread; ``TCP_NODELAY``).

A request is checked (token), logged (``requests``), offered to the ``fault`` hook, then
answered by the ``_api_<Method>`` of that name with the world's lock held; an
:class:`~bot.sandbox.emulator.errors.ApiError` becomes Telegram's error envelope and any other
exception a 500 listed in ``internal_errors``.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from bot.sandbox import httpd
from bot.sandbox.emulator.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from bot.sandbox.emulator.params import parse_params
from bot.sandbox.emulator.world import World

_METHOD_ROUTE = re.compile(r"^/bot([^/]+)/([A-Za-z_][A-Za-z0-9_]*)/?$")
_FILE_ROUTE = re.compile(r"^/file/bot([^/]+)/(.+)$")


class _Handler(httpd.Handler):
    server_version = "warmline-bot-api-emulator/1.0"
    server: httpd.Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track_connection(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        emu: ApiServer = self.server.owner
        body = self.read_body()
        split = urlsplit(self.path)
        path = unquote(split.path)  # PTB percent-encodes file URLs (the token's ':' too)
        m = _FILE_ROUTE.match(path)
        if m and self.command == "GET":
            status, data = emu._download(m.group(1), m.group(2))
            if isinstance(data, bytes):
                self.send(status, data, "application/octet-stream")
            else:
                self.send_json(status, data)
            return
        m = _METHOD_ROUTE.match(path)
        if not m:
            self.send_json(404, NOT_FOUND)
            return
        try:
            params, uploads = parse_params(split.query, self.headers.get("Content-Type", ""), body)
        except ApiError as err:
            self.send_json(err.status, err.body())
            return
        status, payload = emu._handle_api(
            m.group(1), m.group(2), params, uploads, peer_gone=self._peer_gone
        )
        self.send_json(status, payload)

    def _peer_gone(self) -> bool:
        """True if the client closed the connection (e.g. PTB cancelled a long poll)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except ValueError:  # a TLS socket cannot peek: say it is still there
            return False
        except OSError:
            return True


class ApiServer(World):
    """Serves the world's Bot API on a loopback address. Use as a context manager or call
    :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_username: str = "warmline_test_bot",
        allow_non_loopback: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not allow_non_loopback and not httpd.is_loopback(host):
            raise ValueError(
                f"refusing to bind non-loopback address {host!r}; pass allow_non_loopback=True"
            )
        super().__init__(token, bot_username=bot_username)
        self.host = host
        self.port = port
        #: Serve over TLS (``https://`` base URLs) with this server-side context.
        self.ssl_context = ssl_context
        self._server: httpd.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._methods: dict[str, tuple[str, Callable[[dict, dict], Any]]] = {}
        for attr in dir(self):
            if attr.startswith("_api_"):
                name = attr[len("_api_") :]
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Bind and serve in a background daemon thread. Returns ``self``."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server = httpd.make_server(self.host, self.port, _Handler)
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        server.owner = self
        server.on_error = lambda exc: self._record_internal_error("<http>", exc)
        self._server = server
        self.port = server.server_address[1]
        self._thread = httpd.serve_in_thread(server, f"bot-api-emulator:{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving, release waiting long polls and close every connection."""
        server = self._server
        if server is None or self._stopping:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with self._cond:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        with self._cond:
            while self._connections and time.monotonic() < deadline:
                self._cond.wait(0.05)
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def base_url(self) -> str:
        """``http://host:port/bot`` - PTB appends the token."""
        self._require_started()
        return f"{self._scheme}://{self._host_for_url}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://host:port/file/bot`` - PTB appends the token and the file path."""
        self._require_started()
        return f"{self._scheme}://{self._host_for_url}:{self.port}/file/bot"

    @property
    def _scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    def _require_started(self) -> None:
        if self._server is None:
            raise RuntimeError("emulator not started; call start() first")

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
                self._cond.notify_all()

    def _handle_api(
        self,
        token: str,
        method: str,
        params: dict,
        uploads: dict[str, httpd.Upload],
        *,
        peer_gone: Callable[[], bool] | None = None,
    ) -> tuple[int, dict]:
        if token != self.token:
            return 401, dict(UNAUTHORIZED)
        known = self._methods.get(method.lower())
        name = known[0] if known else method
        logged = dict(params)
        for key, up in uploads.items():
            logged[key] = {
                "upload": up.filename,
                "content_type": up.content_type,
                "size": len(up.data),
            }
        with self._lock:
            self.requests.append((time.monotonic(), name, logged))
        hook = self.fault
        if hook is not None:
            injected = hook(name, logged)
            if injected is not None:
                status, body = injected
                if status != 200 or not body.get("ok", False):
                    self._record_api_error(name, logged, status, body.get("description", ""))
                return status, body
        if known is None:
            self._record_api_error(name, logged, 404, "Not Found")
            return 404, dict(NOT_FOUND)
        try:
            with self._cond:
                result = known[1](params, uploads)
        except ApiError as err:
            # An error nobody will read (the client hung up, e.g. a cancelled long poll that
            # was then terminated by a newer getUpdates) is not worth reporting.
            if peer_gone is None or not peer_gone():
                self._record_api_error(name, logged, err.status, err.description)
            return err.status, err.body()
        except Exception as exc:
            self._record_internal_error(name, exc)
            return 500, {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
        return 200, {"ok": True, "result": result}

    def _record_api_error(self, method: str, params: dict, status: int, desc: str) -> None:
        with self._lock:
            self.api_errors.append(
                {"method": method, "params": params, "status": status, "description": desc}
            )

    def _record_internal_error(self, method: str, exc: BaseException | None) -> None:
        with self._lock:
            self.internal_errors.append({"method": method, "error": repr(exc)})

    def _download(self, token: str, path: str) -> tuple[int, bytes | dict]:
        if token != self.token:
            return 401, dict(UNAUTHORIZED)
        with self._lock:
            file_id = self._file_paths.get(path)
            if file_id is None:
                return 404, dict(NOT_FOUND)
            return 200, self._files[file_id]["data"]
