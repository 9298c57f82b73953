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
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
#: httpx errors raised before the request reached the server.
RETRY_ERRORS = ("httpx.ConnectError", "httpx.RemoteProtocolError", "httpx.ReadError")
MAX_TRIES = 3
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
        "getMe",
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
    def __init__(self, *args: Any, backoff_s: float = 0.3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.backoff_s = backoff_s

    async def do_request(
        self, url: str, method: str, request_data=None, **timeouts: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if name == "getUpdates":
            return await super().do_request(url, method, request_data, **timeouts)
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
        attempt = 0
        while True:
            attempt += 1
            try:
                status, body = await super().do_request(url, method, request_data, **timeouts)
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
                if attempt >= MAX_TRIES or not str(exc).startswith(RETRY_ERRORS):
                    raise
                log.info("retrying %s after %s", name, exc)
                await asyncio.sleep(self.backoff_s * attempt)
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
