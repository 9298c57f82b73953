"""Logging for ``warmline run``: where the lines go, what they look like, what never appears.

**Where.** ``[logging] file`` empty: standard error — under systemd that is the journal. With
a file: that file, through a :class:`logging.handlers.WatchedFileHandler`, which reopens the
file when logrotate has moved it away (``deploy/logrotate.conf``; no ``copytruncate``).

**What a line looks like.** ``2026-12-01 21:00:03,123 +0800 INFO bot.app: …`` — the time in
the station's time zone (``[station] timezone``) with its UTC offset. The rule for standard
error: when it is connected to the journal (systemd sets ``JOURNAL_STREAM`` to the device and
inode of that stream; :func:`under_journald` compares them with standard error's own), the
line has no timestamp — the journal stamps every line itself — and starts with the syslog
priority (``<4>`` for a warning), so that ``journalctl -p warning`` finds warnings. Anywhere
else (a terminal, a pipe, a file) it has the timestamp.

**What never appears** (:class:`LogHygiene`, a filter on every handler made here and by the
demo): the bot token; the content of updates, Bot API requests and answers, and database
statements — python-telegram-bot at DEBUG logs every request's parameters (message texts:
claim secrets, phone numbers shown to an officer) and every update, aiosqlite at DEBUG every
statement with its values; a record from a library keeps its words and loses its data
(:func:`redact_arg`); and, as a last net over every record, anything shaped like a Chinese
mobile number.

**Quiet by default.** APScheduler's two INFO lines per run of the schedule ticker (every 15 s)
are not written (its warnings are); httpx's line per HTTP request only at DEBUG; aiosqlite's
two lines per statement never (they are noise even when redacted).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
import logging.handlers
import os
import re
import sys
import zoneinfo
from collections.abc import Mapping
from typing import IO, Any

from telegram import TelegramObject
from telegram.error import InvalidToken, NetworkError

from bot.redact import redact
from bot.transport import mask_token

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

#: The format of a line, after its timestamp (or priority prefix).
BODY = "%(levelname)s %(name)s: %(message)s"

#: Libraries quietened whatever the level (see the module's docstring), and their floor.
QUIET = {"apscheduler": logging.WARNING, "aiosqlite": logging.INFO}
#: Libraries whose INFO lines only appear at DEBUG.
DEBUG_ONLY = ("httpx",)

PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
PHONE_MASK = "<phone>"

#: Library records whose plain-text arguments are payloads (python-telegram-bot's own webhook
#: server logs the body it received and a wrong secret token it was sent).
_PAYLOAD_TEXT = re.compile(r"received data|secret token", re.IGNORECASE)


def mask_secrets(text: str, token: str) -> str:
    """``text`` without the bot token and without anything shaped like a mobile number."""
    return PHONE.sub(PHONE_MASK, mask_token(text, token))


def redact_arg(value: Any) -> Any:
    """A library's log argument as it may be written: scalars and text as they are (the
    token and phone numbers are masked later, in the whole line); containers, bytes, Telegram
    objects and deferred calls (which carry updates, request parameters, answers, SQL values)
    reduced to what they are — a dict to its keys, a list to its length, an update to its id.
    """
    if value is None or isinstance(value, bool | int | float | str | enum.Enum | BaseException):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, TelegramObject):
        update_id = getattr(value, "update_id", None)
        name = type(value).__name__
        return f"<{name} {update_id}>" if update_id is not None else f"<{name}>"
    if isinstance(value, Mapping):
        return "<" + ", ".join(str(key) for key in value) + ">"
    if isinstance(value, list | tuple | set | frozenset):
        return f"<{type(value).__name__} of {len(value)}>"
    if isinstance(value, functools.partial):
        return f"<{getattr(value.func, '__name__', 'call')}>"
    return value  # other objects (a job, a request) print their kind; masked below


def _ours(record: logging.LogRecord) -> bool:
    return record.name == "bot" or record.name.startswith("bot.")


class LogHygiene(logging.Filter):
    """For every log handler: no secret or personal data in any record (see the module's
    docstring), and python-telegram-bot's records about a network failure or a refused token
    shortened to one line (the run loop and ApiStatus say what matters; a traceback per
    failed request would bury it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def _redact(self, record: logging.LogRecord) -> None:
        if not isinstance(record.msg, str):
            record.msg = str(redact_arg(record.msg))
        args = record.args
        if not args:
            return
        if isinstance(args, Mapping):
            record.args = {key: redact_arg(value) for key, value in args.items()}
        elif _PAYLOAD_TEXT.search(record.msg):
            record.args = tuple("<redacted>" for _ in args)
        else:
            record.args = tuple(redact_arg(arg) for arg in args)

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ours(record):
            self._redact(record)
        exc = record.exc_info[1] if record.exc_info else None
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the formatter to report
            return True
        if record.name.startswith("telegram") and isinstance(exc, NetworkError | InvalidToken):
            message = f"{message} ({type(exc).__name__}: {exc})"
            record.exc_info = None
            record.exc_text = None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        # (and the webhook secret: bot/redact.py)
        record.msg, record.args = redact(mask_secrets(message, self.token)), None
        if record.exc_info and not record.exc_text:
            # Formatted here so that the traceback's text is masked too (formatters use a
            # record's exc_text when it is set).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(mask_secrets(record.exc_text, self.token))
        return True


# -- what a line looks like --------------------------------------------------------------------


class StationFormatter(logging.Formatter):
    """``2026-12-01 21:00:03,123 +0800 LEVEL name: message``: station time and its offset."""

    def __init__(self, tz: dt.tzinfo) -> None:
        super().__init__("%(asctime)s " + BODY)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = dt.datetime.fromtimestamp(record.created, self.tz)
        return f"{moment:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d} {moment:%z}"


#: syslog priorities, as journald reads them from a line's "<N>" prefix.
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


class JournalFormatter(logging.Formatter):
    """No timestamp (the journal adds its own); each line starts with its syslog priority."""

    def __init__(self) -> None:
        super().__init__(BODY)

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelno
        priority = 2 if level >= logging.CRITICAL else _PRIORITY.get(level - level % 10, 6)
        # A traceback is several lines, each one journal entry: each gets the priority.
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def under_journald(stream: IO[str]) -> bool:
    """Whether ``stream`` is the journal's stream systemd gave the service (JOURNAL_STREAM
    holds "device:inode" of it; a child process or a redirection is a different file)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


# -- setting it up -----------------------------------------------------------------------------


class LogFileError(Exception):
    """The log file cannot be opened: the message says why and what to do."""


def make_handler(
    file: str, timezone: str, token: str, *, stream: IO[str] | None = None
) -> logging.Handler:
    """The handler ``[logging] file`` asks for, with its formatter and :class:`LogHygiene`."""
    tz = zoneinfo.ZoneInfo(timezone)
    handler: logging.Handler
    if file:
        try:
            handler = logging.handlers.WatchedFileHandler(file, encoding="utf-8")
        except OSError as exc:
            raise LogFileError(
                f"cannot write the log file {file} ({exc.strerror or exc}) → create its folder "
                "and let the bot's user write to it, or leave logging.file empty (standard "
                "error, the journal under systemd)"
            ) from None
        handler.setFormatter(StationFormatter(tz))
    else:
        out = stream or sys.stderr
        handler = logging.StreamHandler(out)
        handler.setFormatter(JournalFormatter() if under_journald(out) else StationFormatter(tz))
    handler.addFilter(LogHygiene(token))
    return handler


def configure(
    level: str,
    file: str,
    timezone: str,
    token: str,
    *,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """The root logger for ``warmline run``: one handler (see :func:`make_handler`), the
    level, the libraries quietened. Replaces a handler an earlier call installed."""
    handler = make_handler(file, timezone, token, stream=stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_warmline", False)]:
        root.removeHandler(old)
        old.close()
    handler._warmline = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(numeric)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    for name in DEBUG_ONLY:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    return handler
