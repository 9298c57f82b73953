"""HTTP to the Bot API: which requests are repeated, and which failures do not count.

PTB sends each request once. Over a real network a request can fail before Telegram saw it,
Telegram can answer 5xx / 429, or its answer can be slower than the client waits. The policy
here, per kind of failure:

* **The request never reached Telegram** (the connection could not be made or was already
  closed, a connect or pool timeout) and **5xx / short 429 answers**: repeated for every
  method, a few times with a short backoff.
* **No answer in time** (``TimedOut`` on reading or writing): the request may have been
  carried out. It is repeated — with twice the patience each time, since a slow API is the
  usual cause — only where doing it twice is harmless:

  - methods that *set* something rather than add it (:data:`REPEATABLE`): answering a
    callback query, editing a message, a chat action, deleting or pinning, reading. A second
    call ends in the same state; Telegram may answer it "message is not modified" or "query
    is too old", which their callers treat as done.
  - **direct replies**: any ``send*`` made while an update is being handled (the update
    processor marks those with :func:`direct_replies`) — the next question of a report, a
    confirmation, the pin of a typed address. A duplicated prompt is harmless; a lost one
    leaves a person stuck halfway through a report.
  - never the outbox's sends (cards, notices): it records each message it sent and retries
    on its own terms, and a duplicated card in a patrol group would mislead.

* **Cosmetic methods** (:data:`COSMETIC`: answering a callback query — the spinner and toast
  on a pressed button — and chat actions) never fail a handler: if one cannot be done after
  the retries, one WARNING line is logged and the call returns ``False`` as if Telegram had
  said so, and the handler goes on to what matters (the saved change, the next prompt).

Long polling (getUpdates) is left to PTB's updater, which has its own retry loop (and the
inbound journal's request, ``bot/inbound.py``). The outbox adds its own, longer-lived retries
on top for everything it delivers.

Two more rules come from outages:

* A request begun while the API answered, caught by an outage that then starts, waits for the
  network for a while (:data:`BRIDGE_S`) when it cannot even connect (Telegram never saw it,
  so repeating it cannot duplicate it); requests begun while the API is known to be down
  fail fast (the outbox keeps and retries those; the run loop retries the start-up).
* Every answer and every network failure is reported to an :class:`ApiStatus`: whether the
  Bot API can be reached, since when, and why not. The run loop (``bot/lifecycle.py``) words
  its log lines from it; a health endpoint can read it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


def mask_token(text: str, token: str) -> str:
    """``text`` with the bot token replaced by "…" (the token never reaches a log)."""
    return text.replace(token, "…") if token else text


def display_url(base_url: str) -> str:
    """The Bot API address as logs show it: PTB appends the token (or fills "{token}")."""
    return base_url.replace("{token}", "…") if "{token}" in base_url else f"{base_url}…"


def duration(seconds: float) -> str:
    """1.5 s, 45 s, 2 min 5 s, 3 h 10 min."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class ApiStatus:
    """Whether the Bot API answers, as seen by every request the bot makes.

    ``reachable`` is None until the first answer or failure. A run loop that told the log the
    API cannot be reached calls :meth:`announce_down`; the first answer after that logs one
    line saying it answers again and how long it was unreachable. A rejected token (HTTP 401
    on any call: revoked in @BotFather) sets ``token_rejected``.
    """

    # PTB's updater waits between failed getUpdates calls: 1 s after the first failure, then
    # 1.5 times longer each time, at most 30 s; a good answer or a timeout starts over
    # (telegram.ext._utils.networkloop). Mirrored here so that the log can say when it retries.
    POLL_RETRY_FIRST_S = 1.0
    POLL_RETRY_FACTOR = 1.5
    POLL_RETRY_MAX_S = 30.0

    def __init__(self, url: str, token: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url  # already masked (display_url)
        self.token = token
        self._clock = clock
        self.reachable: bool | None = None
        self.since: dt.datetime | None = None  # when ``reachable`` last changed (UTC)
        self.last_error: str | None = None
        self.token_rejected = asyncio.Event()
        self._down_at: float | None = None
        self._announced = False
        self._poll_wait = 0.0
        self._on_back: list[Callable[[], None]] = []
        self._on_down: list[Callable[[], None]] = []
        #: getUpdates calls that ended well (an answer, or a long poll's timeout).
        self.polls = 0

    def on_back(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the API answers after having failed."""
        self._on_back.append(listener)

    def on_down(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a request fails while the API was reachable (or
        before it ever answered)."""
        self._on_down.append(listener)

    def answered(self) -> None:
        if self.reachable is not True:
            self.reachable = True
            self.since = dt.datetime.now(dt.UTC)
            if self._announced and self._down_at is not None:
                log.info(
                    "the Bot API at %s answers again (unreachable for %s)",
                    self.url,
                    duration(self._clock() - self._down_at),
                )
            was_down = self._down_at is not None
            self._announced = False
            self._down_at = None
            if was_down:
                for listener in self._on_back:
                    listener()

    def failed(self, error: str) -> None:
        self.last_error = mask_token(error, self.token)
        if self.reachable is not False:
            self.reachable = False
            self.since = dt.datetime.now(dt.UTC)
            self._down_at = self._clock()
            for listener in self._on_down:
                listener()

    def announce_down(self) -> None:
        """A "cannot reach" line was logged: the recovery will be logged too."""
        self._announced = True
        if self._down_at is None:
            self._down_at = self._clock()

    def rejected(self) -> None:
        self.token_rejected.set()

    # -- the updater's retry rhythm (see POLL_RETRY_*) --------------------------------------
    def poll_ok(self) -> None:
        self._poll_wait = 0.0
        self.polls += 1

    def next_poll_retry(self) -> float:
        """Called once per failed getUpdates (PTB's error callback): the wait before the next."""
        if self._poll_wait == 0:
            self._poll_wait = self.POLL_RETRY_FIRST_S
        else:
            self._poll_wait = min(self.POLL_RETRY_MAX_S, self._poll_wait * self.POLL_RETRY_FACTOR)
        return self._poll_wait


RETRY_STATUS = {429, 500, 502, 503, 504}
#: httpx errors raised before the request reached the server.
RETRY_ERRORS = ("httpx.ConnectError", "httpx.RemoteProtocolError", "httpx.ReadError")
MAX_TRIES = 3
CONNECT_ERROR = "httpx.ConnectError"
#: How long a request caught by an outage waits for the network (see the module docstring).
BRIDGE_S = 60.0
BRIDGE_WAIT_MAX_S = 5.0
MAX_RETRY_AFTER_S = 5.0

#: Methods whose repetition leaves the same result: safe to repeat after a timeout.
REPEATABLE = frozenset(
    {
        "answerCallbackQuery",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
        "sendChatAction",
        "deleteMessage",
        "deleteMessages",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllChatMessages",
        "setMessageReaction",
        "leaveChat",
        # (not getMe: it is asked at start-up, where the run loop retries it itself, with its
        # own growing wait and one "cannot reach" line per attempt — bot/lifecycle.py)
        "getChat",
        "getChatMember",
        "getFile",
        "getMyCommands",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "getWebhookInfo",
        "setWebhook",
        "deleteWebhook",
    }
)
#: Methods whose failure must never stop a handler (see the module docstring).
COSMETIC = frozenset({"answerCallbackQuery", "sendChatAction"})
#: What a cosmetic call that could not be done returns to PTB: ``result: false``.
NOT_DONE = (200, b'{"ok":true,"result":false}')

_DIRECT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "warmline_direct_replies", default=False
)


@contextlib.contextmanager
def direct_replies() -> Iterator[None]:
    """Requests made inside are replies to an update being handled (see the docstring)."""
    token = _DIRECT.set(True)
    try:
        yield
    finally:
        _DIRECT.reset(token)


def repeatable_after_timeout(method: str, error: TimedOut, *, direct: bool) -> bool:
    """May ``method`` be sent again after ``error``? (See the module docstring.)"""
    if isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
        return True  # it never left this machine
    if method in REPEATABLE:
        return True
    return direct and method.startswith(("send", "copyMessage", "forwardMessage"))


class RetryingRequest(HTTPXRequest):
    def __init__(
        self, *args: Any, backoff_s: float = 0.3, status: ApiStatus | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.backoff_s = backoff_s
        self.status = status

    async def _once(self, url: str, method: str, request_data, timeouts) -> tuple[int, bytes]:
        """One HTTP request, its outcome reported to the :class:`ApiStatus`."""
        polling = url.endswith("/getUpdates")
        try:
            status, body = await super().do_request(url, method, request_data, **timeouts)
        except NetworkError as exc:
            if self.status is not None:
                self.status.failed(f"{exc}")
                if polling and isinstance(exc, TimedOut):
                    self.status.poll_ok()  # PTB retries a timed-out poll at once
            raise
        if self.status is not None:
            if status >= 500:  # a proxy's Bad Gateway, Telegram's own trouble
                self.status.failed(f"HTTP {status}")
            else:
                self.status.answered()
                if status == 401:
                    self.status.rejected()
                elif polling and status == 200:
                    self.status.poll_ok()
        return status, body

    async def do_request(
        self, url: str, method: str, request_data=None, **timeouts: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if name == "getUpdates":
            return await self._once(url, method, request_data, timeouts)
        try:
            status, body = await self._with_retries(name, url, method, request_data, timeouts)
        except TelegramError as exc:
            if name not in COSMETIC:
                raise
            log.warning("%s not done (%s: %s); carrying on", name, type(exc).__name__, exc)
            return NOT_DONE
        if name in COSMETIC and status != 200:
            log.warning("%s not done (HTTP %s: %s); carrying on", name, status, _reason(body))
            return NOT_DONE
        return status, body

    async def _with_retries(
        self, name: str, url: str, method: str, request_data, timeouts: dict[str, Any]
    ) -> tuple[int, bytes]:
        bridge = self.status is not None and self.status.reachable is True
        began = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                status, body = await self._once(url, method, request_data, timeouts)
            except TimedOut as exc:
                direct = _DIRECT.get()
                if attempt >= MAX_TRIES or not repeatable_after_timeout(name, exc, direct=direct):
                    raise
                patience = self._patience(timeouts) * 2
                timeouts = {**timeouts, "read_timeout": patience}
                # The first attempt may well have been carried out: say what is repeated.
                log.warning(
                    "no answer to %s in time; asking again, waiting up to %.0f s%s",
                    name,
                    patience,
                    " (a duplicate reply is possible)" if name not in REPEATABLE else "",
                )
                continue
            except NetworkError as exc:
                connect = str(exc).startswith(CONNECT_ERROR)
                waiting = bridge and connect and time.monotonic() - began < BRIDGE_S
                if not waiting and (attempt >= MAX_TRIES or not str(exc).startswith(RETRY_ERRORS)):
                    raise
                # Quiet while the run loop has said the API is unreachable: one line per
                # retry there, not one per request here.
                down = self.status is not None and self.status.reachable is False
                log.log(logging.DEBUG if down else logging.INFO, "retrying %s after %s", name, exc)
                await asyncio.sleep(min(BRIDGE_WAIT_MAX_S, self.backoff_s * attempt))
                continue
            if status not in RETRY_STATUS or attempt >= MAX_TRIES:
                return status, body
            delay = self.backoff_s * attempt
            if status == 429:
                retry_after = _retry_after(body)
                if retry_after is None or retry_after > MAX_RETRY_AFTER_S:
                    return status, body  # long waits are the outbox's (or the rate limiter's) job
                delay = retry_after
            log.info("retrying %s after HTTP %s", name, status)
            await asyncio.sleep(delay)

    def _patience(self, timeouts: dict[str, Any]) -> float:
        """The read timeout the last attempt used (PTB passes DEFAULT_NONE for "default")."""
        value = timeouts.get("read_timeout")
        if isinstance(value, int | float):
            return float(value)
        return float(self.read_timeout or 5.0)


def _retry_after(body: bytes) -> float | None:
    try:
        value = json.loads(body)["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body).get("description", ""))[:200]
    except (ValueError, AttributeError):
        return ""
