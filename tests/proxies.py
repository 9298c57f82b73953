"""Two small proxies on 127.0.0.1 for the proxy tests: HTTP CONNECT and SOCKS5 (RFC 1928,
with RFC 1929 username/password). Each counts the tunnels it opened and can be stopped and
started again on the same port (an outage of the proxy itself).

They tunnel bytes only: TLS from the bot goes through them untouched, end to end.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
import struct
import threading

from tests.harness import WAIT_S
from tests.tcp import TcpServer


class _Proxy(TcpServer):
    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.tunnels = 0  # tunnels opened, over every period of service
        self.targets: list[tuple[str, int]] = []
        self.refused = 0  # bad credentials
        self.names: list[str] = []  # host names the proxy was asked to resolve (socks5h)

    def url(self, scheme: str) -> str:
        auth = f"{self.username}:{self.password}@" if self.username else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def _serve(self, client: socket.socket) -> None:
        try:
            target = self._handshake(client)
            if target is None:
                client.close()
                return
            upstream = socket.create_connection(target, timeout=WAIT_S)
            upstream.settimeout(None)
        except OSError:
            self._reply_failure(client)
            client.close()
            return
        self._reply_success(client)
        if not self._opened(upstream):  # stopped meanwhile
            client.close()
            upstream.close()
            return
        with self._lock:
            self.tunnels += 1
            self.targets.append(target)
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                with self._lock:
                    self._open.discard(sock)

    # -- the protocol ---------------------------------------------------------------------
    def _handshake(self, client: socket.socket) -> tuple[str, int] | None:
        raise NotImplementedError

    def _reply_success(self, client: socket.socket) -> None:
        raise NotImplementedError

    def _reply_failure(self, client: socket.socket) -> None:
        pass


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


class ConnectProxy(_Proxy):
    """``CONNECT host:port HTTP/1.1`` (with ``Proxy-Authorization: Basic`` if required);
    anything else is refused with 405: it is a tunnel, not a plain forward proxy."""

    def _handshake(self, client: socket.socket) -> tuple[str, int] | None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return None
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        pairs = (h.partition(":") for h in lines[1:])
        headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        if self.username:
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != f"Basic {expected}":
                self.refused += 1
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                )
                return None
        host, _, port = target.rpartition(":")
        return host.strip("[]"), int(port)

    def _reply_success(self, client: socket.socket) -> None:
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

    def _reply_failure(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


class Socks5Proxy(_Proxy):
    """SOCKS5 CONNECT with an IPv4, IPv6 or domain target (socks5h sends the name)."""

    def _handshake(self, client: socket.socket) -> tuple[str, int] | None:
        version, count = _read_exact(client, 2)
        methods = _read_exact(client, count)
        if version != 5:
            return None
        wanted = 2 if self.username else 0
        if wanted not in methods:
            client.sendall(b"\x05\xff")
            return None
        client.sendall(bytes([5, wanted]))
        if wanted == 2:
            _, ulen = _read_exact(client, 2)
            user = _read_exact(client, ulen).decode()
            (plen,) = _read_exact(client, 1)
            password = _read_exact(client, plen).decode()
            if (user, password) != (self.username, self.password):
                self.refused += 1
                client.sendall(b"\x01\x01")
                return None
            client.sendall(b"\x01\x00")
        _, command, _, kind = _read_exact(client, 4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(_read_exact(client, 4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(_read_exact(client, 16)))
        else:
            (length,) = _read_exact(client, 1)
            host = _read_exact(client, length).decode()
            self.names.append(host)
        (port,) = struct.unpack("!H", _read_exact(client, 2))
        if command != 1:
            client.sendall(b"\x05\x07\x00\x01" + b"\x00" * 6)
            return None
        return host, port

    def _reply_success(self, client: socket.socket) -> None:
        client.sendall(b"\x05\x00\x00\x01" + b"\x00" * 6)

    def _reply_failure(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            client.sendall(b"\x05\x05\x00\x01" + b"\x00" * 6)
