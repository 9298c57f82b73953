"""A small threaded TCP server for test doubles that stand between the bot and the emulator
(tests/netcut.py's relay, tests/proxies.py's proxies): listen, accept, stop on demand —
closing every open connection, as when a host goes away — and start again on the same port.
Subclasses say what to do with each accepted connection (:meth:`TcpServer._serve`).
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    def start(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._open = list(self._open), set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            if not self._opened(client):
                client.close()
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _opened(self, *socks: socket.socket) -> bool:
        """Track ``socks`` as open (closed by :meth:`stop`); False if stopped meanwhile."""
        with self._lock:
            if self._listener is None:
                return False
            self._open.update(socks)
            return True

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError
