"""Small stdlib HTTP server parts for the sandbox's loopback servers (the Bot API emulator).

A thread per request (``ThreadingHTTPServer``), HTTP/1.1 keep-alive and ``TCP_NODELAY`` (no
~40 ms delayed-ACK stalls on loopback), no reverse DNS lookup at bind time, request bodies
(``Content-Length`` or chunked), ``multipart/form-data`` and plain responses. Nothing here
knows about Telegram.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Handler",
    "IncompleteRequest",
    "Server",
    "Upload",
    "is_loopback",
    "make_server",
    "parse_multipart",
    "serve_in_thread",
]


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Server(ThreadingHTTPServer):
    """A threaded server whose request errors go to ``on_error`` (not to stderr)."""

    daemon_threads = True
    #: What the handlers serve (the handler reaches it as ``self.server.owner``).
    owner: Any = None
    #: Called with an unexpected exception of a request thread (a client that went away is
    #: not one).
    on_error: Callable[[BaseException | None], None] | None = None

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS lookup that can stall
        # for seconds in a sandbox without DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # client went away, connection reset, shutdown...
            return
        if self.on_error is not None:
            self.on_error(exc)


class _Server6(Server):
    address_family = socket.AF_INET6


def make_server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> Server:
    """Bind ``host:port`` (IPv4 or IPv6; port 0 picks a free one) and listen."""
    server_cls = _Server6 if ":" in host else Server
    return server_cls((host, port), handler)


def serve_in_thread(server: Server, name: str) -> threading.Thread:
    """Serve ``server`` in a daemon thread (stop with ``server.shutdown()``)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return thread


class IncompleteRequest(ConnectionError):
    """The request's body was cut short: the connection is dropped, nothing is done."""


class Handler(BaseHTTPRequestHandler):
    """Keep-alive, ``TCP_NODELAY``, quiet; reads bodies and writes whole responses."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def read_body(self) -> bytes:
        """The request body, sent with ``Content-Length`` or chunked.

        :class:`IncompleteRequest` if the connection ends before the whole body came (a
        client or a proxy went away mid-request): a server never acts on half a request.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line.endswith(b"\n"):
                    raise IncompleteRequest("the connection ended inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    raise IncompleteRequest("the connection ended inside a chunk")
                parts.append(chunk)
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise IncompleteRequest(f"only {len(body)} of {length} bytes came")
        return body

    def send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send(status, body, "application/json")


@dataclass
class Upload:
    """A file part of a ``multipart/form-data`` body."""

    filename: str
    content_type: str
    data: bytes


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    """``(fields, uploads)`` of a ``multipart/form-data`` body; ValueError without a boundary."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise ValueError("multipart boundary is missing")
    delimiter = b"\r\n--" + m.group(1).strip().encode("latin-1")
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    chunks = (b"\r\n" + body).split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                key, _, val = line.partition(":")
                headers[key.strip()] = val.strip()
        name_param = headers.get_param("name", header="content-disposition")
        if name_param is None:
            continue
        name = collapse_rfc2231_value(name_param)
        filename = headers.get_filename()
        if filename is not None:
            uploads[name] = Upload(
                filename=filename,
                content_type=headers.get_content_type()
                if headers.get("content-type")
                else "application/octet-stream",
                data=data,
            )
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, uploads
