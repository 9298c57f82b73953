"""One warmline per database: an exclusive ``flock`` on a lock file beside it.

``warmline run`` holds it for as long as it runs, ``warmline restore`` while it replaces the
file; a second one is refused and told who holds it (the holder writes its pid, command and
start time into the file). The kernel releases a ``flock`` when its process ends, however it
ends, so a crash or a kill never leaves a stale lock; the file itself stays (removing it
would let two processes lock two different files of the same name).

``warmline backup`` does not take it: SQLite's online backup is safe beside the bot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import zoneinfo
from dataclasses import dataclass
from pathlib import Path


def lock_path(database: str | Path) -> Path:
    return Path(f"{database}.lock")


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as it wrote itself down."""

    pid: int | None
    command: str
    started: str

    def describe(self) -> str:
        parts = [f"pid {self.pid}" if self.pid else "another process"]
        if self.command:
            parts.append(f"`warmline {self.command}`")
        if self.started:
            parts.append(f"started {self.started}")
        return ", ".join(parts)


class DatabaseInUse(Exception):
    """Another process holds the database's lock."""

    def __init__(self, database: str | Path, holder: Holder) -> None:
        self.database = str(database)
        self.holder = holder
        super().__init__(f"the database {database} is in use by {holder.describe()}")


def _parse(text: str) -> Holder:
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    pid = fields.get("pid", "")
    return Holder(
        int(pid) if pid.isdigit() else None, fields.get("command", ""), fields.get("started", "")
    )


class InstanceLock:
    def __init__(self, database: str | Path) -> None:
        self.database = str(database)
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self, command: str, timezone: str | None = None) -> InstanceLock:
        """Take the lock or raise :class:`DatabaseInUse`; ``command`` and the start time (in
        ``timezone``, the station's, as in the log; else the machine's) are written down for
        a refused one to read (``run``, ``restore``)."""
        if self.database == ":memory:":
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)  # as Database.open() does
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            os.close(fd)
            raise DatabaseInUse(self.database, holder) from None
        except BaseException:
            os.close(fd)
            raise
        zone = zoneinfo.ZoneInfo(timezone) if timezone else None
        started = dt.datetime.now(dt.UTC).astimezone(zone).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()}\ncommand={command}\nstarted={started}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_of(database: str | Path) -> Holder | None:
    """Who holds the database's lock now; None if nobody (changes nothing)."""
    path = lock_path(database)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
