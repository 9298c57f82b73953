"""HTTP to the Bot API with a few safe retries.

PTB sends each request once. Over a real network a request can fail before Telegram saw it
(the connection could not be made, a pooled keep-alive connection was already closed) or
Telegram can answer 5xx / 429. Those are retried here, a few times with a short backoff, so
a reply to a reporter is not lost to a blip. A read timeout is *not* retried: the request
may have been carried out, and sending it twice would duplicate a message. Long polling
(getUpdates) is left to PTB's updater, which has its own retry loop. The outbox adds its own,
longer-lived retries on top for everything it delivers.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
#: httpx errors raised before the request reached the server.
RETRY_ERRORS = ("httpx.ConnectError", "httpx.RemoteProtocolError", "httpx.ReadError")
MAX_TRIES = 3
MAX_RETRY_AFTER_S = 5.0


class RetryingRequest(HTTPXRequest):
    def __init__(self, *args, backoff_s: float = 0.3, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backoff_s = backoff_s

    async def do_request(
        self, url: str, method: str, request_data=None, **timeouts
    ) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):
            return await super().do_request(url, method, request_data, **timeouts)
        attempt = 0
        while True:
            attempt += 1
            try:
                status, body = await super().do_request(url, method, request_data, **timeouts)
            except TimedOut:
                raise
            except NetworkError as exc:
                if attempt >= MAX_TRIES or not str(exc).startswith(RETRY_ERRORS):
                    raise
                log.info("retrying %s after %s", url.rsplit("/", 1)[-1], exc)
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
            log.info("retrying %s after HTTP %s", url.rsplit("/", 1)[-1], status)
            await asyncio.sleep(delay)


def _retry_after(body: bytes) -> float | None:
    try:
        value = json.loads(body)["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None
