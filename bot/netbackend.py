"""httpcore's network layer on plain asyncio, for the Bot API client's pools (bot/httppool.py).

httpcore's default backend on asyncio goes through anyio: every read and write opens a
cancel scope (``fail_after``), and every keep-alive check of an idle connection
(``get_extra_info("is_readable")``, asked of each idle connection of a pool on every request)
builds a fresh attribute table with a ``getpeername`` system call before its ``poll``. Per
Bot API call that was a visible share of an intake update's CPU (bench/README.md, issue 16
target 4). httpcore 1.0 lets a pool take any :class:`httpcore.AsyncNetworkBackend`; this one
is an :class:`asyncio.Protocol` per connection:

* bytes arrive through ``data_received`` into a buffer (reading paused above
  :data:`_HIGH_WATER`); ``read`` returns what is buffered, else waits on one future with one
  ``call_later`` timer for its timeout: :class:`httpcore.ReadTimeout` when it fires;
* ``write`` hands the bytes to the transport and waits only when the transport asks it to
  (flow control), under the same kind of timer: :class:`httpcore.WriteTimeout`;
* a connection reset or lost is :class:`httpcore.ReadError` / :class:`httpcore.WriteError`, a
  clean end of stream ``b""`` (what httpcore reads as "server disconnected"), as anyio's;
* connect and TLS: ``loop.create_connection`` (happy eyeballs as anyio's, 0.25 s) and
  ``loop.start_tls`` on the same protocol: :class:`httpcore.ConnectTimeout` /
  :class:`httpcore.ConnectError` (OSError, ssl.SSLError);
* ``is_readable``: what the protocol already saw (bytes buffered, the end of stream, the
  connection lost) answers without a system call; otherwise one ``poll`` of the socket, as
  httpcore's own check does, so a keep-alive connection the server has just closed (its
  FIN not yet read by the loop) is found exactly as before. The addresses, the socket and
  the TLS object are read once per connection and kept.

The pools' own locks and events (httpcore's ``_synchronization``) still use anyio; that is
httpcore's and stays as it is (bench/README.md says what it costs).
"""

# The timeouts are httpcore's interface (AsyncNetworkStream / AsyncNetworkBackend signatures).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore

#: Bytes buffered before the connection stops reading until ``read`` takes some.
_HIGH_WATER = 256 * 1024

#: The pause between connection attempts to a host's further addresses (anyio's too).
_HAPPY_EYEBALLS_S = 0.25


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def _settle(waiter: asyncio.Future[None], timeout: float | None) -> None:
    """``waiter``'s outcome, or :class:`TimeoutError` once ``timeout`` seconds have passed
    (one ``call_later`` timer, no cancel scope)."""
    loop = asyncio.get_running_loop()
    timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()


class _Connection(asyncio.Protocol):
    """One connection's state as the event loop reports it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False  # the peer ended its stream, or the connection is gone
        self.error: BaseException | None = None  # why it is gone, if not cleanly
        self.closed = False  # closed by us
        self.paused = False  # reading paused (buffer full)
        self._read_waiter: asyncio.Future[None] | None = None
        self._write_waiter: asyncio.Future[None] | None = None
        self._can_write = True

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None and self.error is None:
            self.error = exc
        self._wake_reader()
        self._wake_writer(exc if exc is not None else ConnectionResetError("connection lost"))

    def pause_writing(self) -> None:
        self._can_write = False

    def resume_writing(self) -> None:
        self._can_write = True
        self._wake_writer(None)

    # -- waiting ----------------------------------------------------------------------
    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self, exc: BaseException | None) -> None:
        waiter = self._write_waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    async def wait_readable(self, timeout: float | None) -> None:
        self._read_waiter = asyncio.get_running_loop().create_future()
        try:
            await _settle(self._read_waiter, timeout)
        finally:
            self._read_waiter = None

    async def wait_writable(self, timeout: float | None) -> None:
        self._write_waiter = asyncio.get_running_loop().create_future()
        try:
            await _settle(self._write_waiter, timeout)
        finally:
            self._write_waiter = None

    @property
    def can_write(self) -> bool:
        return self._can_write


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (plain or TLS) for httpcore, on an asyncio transport."""

    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection
        connection.transport = transport
        self._info: dict[str, Any] = {}
        raw = transport.get_extra_info("socket")
        self._socket = raw  # asyncio's view of the socket
        fd = raw.fileno() if raw is not None else -1
        # One poll object per connection, its socket registered once: a check is one call.
        self._fd = fd
        self._poll: Any = None
        if fd >= 0 and hasattr(select, "poll"):
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        conn = self._connection
        if conn.closed:
            raise httpcore.ReadError("the connection is closed")
        if not conn.buffer and not conn.eof:
            try:
                await conn.wait_readable(timeout)
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(exc) from exc
        buffer = conn.buffer
        if buffer:
            if len(buffer) <= max_bytes:
                data = bytes(buffer)
                buffer.clear()
            else:
                data = bytes(buffer[:max_bytes])
                del buffer[:max_bytes]
            if conn.paused and len(buffer) <= _HIGH_WATER // 2 and not conn.eof:
                conn.paused = False
                self._transport.resume_reading()
            return data
        if conn.error is not None:
            raise httpcore.ReadError(conn.error) from conn.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        conn = self._connection
        if conn.closed or self._transport.is_closing():
            error = conn.error or ConnectionResetError("the connection is closed")
            raise httpcore.WriteError(error)
        try:
            self._transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(exc) from exc
        if not conn.can_write:
            try:
                await conn.wait_writable(timeout)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(exc) from exc
            except OSError as exc:
                raise httpcore.WriteError(exc) from exc

    async def aclose(self) -> None:
        self._connection.closed = True
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            try:
                async with asyncio.timeout(timeout):
                    transport = await loop.start_tls(
                        self._transport,
                        self._connection,
                        ssl_context,
                        server_hostname=server_hostname,
                    )
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(exc) from exc
            except (OSError, ssl.SSLError, ConnectionError) as exc:
                raise httpcore.ConnectError(exc) from exc
            if transport is None:  # the connection went away during the handshake
                raise httpcore.ConnectError("the connection closed during the TLS handshake")
        except BaseException:
            await self.aclose()
            raise
        return AsyncioStream(transport, self._connection)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            conn = self._connection
            if conn.buffer or conn.eof or conn.closed:
                return True
            # No socket to ask: readable, as httpcore's own check says (the next read ends).
            if self._poll is not None:
                return bool(self._poll.poll(0))
            return self._fd < 0 or bool(select.select([self._fd], [], [], 0)[0])
        try:
            return self._info[info]
        except KeyError:
            pass
        transport = self._transport
        if info == "ssl_object":
            value = transport.get_extra_info("ssl_object")
        elif info == "client_addr":
            value = transport.get_extra_info("sockname")
        elif info == "server_addr":
            value = transport.get_extra_info("peername")
        elif info == "socket":
            value = self._socket
        else:
            return None
        self._info[info] = value
        return value


def _apply(transport: asyncio.BaseTransport, options: Iterable[Any] | None) -> None:
    if not options:
        return
    sock = transport.get_extra_info("socket")
    for option in options:
        sock.setsockopt(*option)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's connections as asyncio protocols (see the module docstring)."""

    def __init__(self) -> None:
        self.connects = 0  # connections made (read by tests)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await self._connect(
            lambda protocol: loop.create_connection(
                protocol,
                host,
                port,
                local_addr=None if local_address is None else (local_address, 0),
                happy_eyeballs_delay=_HAPPY_EYEBALLS_S,
            ),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await self._connect(
            lambda protocol: loop.create_unix_connection(protocol, path), timeout, socket_options
        )

    async def _connect(
        self,
        open_with: Callable[[Callable[[], _Connection]], Awaitable[tuple[Any, Any]]],
        timeout: float | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection opened by ``open_with`` (given the protocol's factory), its failures
        as httpcore's: a timeout, or an OSError (refused, unreachable, the name unknown)."""
        connection = _Connection()
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await open_with(lambda: connection)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(exc) from exc
        except OSError as exc:
            raise httpcore.ConnectError(exc) from exc
        self.connects += 1
        try:
            _apply(transport, socket_options)
        except OSError as exc:
            transport.close()
            raise httpcore.ConnectError(exc) from exc
        return AsyncioStream(transport, connection)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

