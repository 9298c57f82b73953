"""A TCP relay on 127.0.0.1 that a test can cut and restore: a network outage on demand.

The bot talks to the relay's port; the relay forwards each connection to the Bot API
emulator. :meth:`Relay.cut` closes the listening socket and every open connection (the bot
then sees "connection refused", as when the API's host is gone); :meth:`Relay.restore`
listens on the same port again. The emulator keeps running meanwhile, so what users do during
the outage waits for the bot there, as it waits on Telegram's servers.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.tcp import TcpServer


class Relay(TcpServer):
    def __init__(self, target_port: int, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__(host, port)
        self.target = (host, target_port)
        self.connections = 0  # accepted so far, over every period of service

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    def start(self) -> Relay:
        return super().start()

    restore = start

    def cut(self) -> None:
        self.stop()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self._opened(upstream):  # cut meanwhile
            client.close()
            upstream.close()
            return
        with self._lock:
            self.connections += 1
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            with self._lock:
                gone = source not in self._open and sink not in self._open
            if not gone:
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.close()
                with self._lock:
                    self._open.discard(source)
                    self._open.discard(sink)
