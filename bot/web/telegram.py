"""``POST /telegram``: updates Telegram delivers to the webhook.

A request without the secret token Telegram was given (``X-Telegram-Bot-Api-Secret-Token``,
compared in constant time) gets 403 and changes nothing. A good one is written to the inbound
journal (``bot/inbound.py``) *before* the 200: once Telegram has its answer it forgets the
update, and the journal replays it on the next start if the bot dies before handling it.
Then it goes on PTB's update queue (the "custom webhook" way) and the answer leaves at once;
the handlers run after it.

Until the bot is ready (database open, secret known) and after it began to stop, the answer
is 503: Telegram keeps the update and sends it again later.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from bot.inbound import InboundJournal
from bot.web.errors import WebError

log = logging.getLogger(__name__)

PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookEndpoint:
    def __init__(self, journal: InboundJournal) -> None:
        self.journal = journal
        self._application: Application | None = None
        self._secret: bytes | None = None
        self.refused = 0  # requests refused for a wrong or missing secret

    def open(self, application: Application, secret: str) -> None:
        """Accept updates from now on (the lifecycle calls it before setWebhook)."""
        self._application = application
        self._secret = secret.encode()

    def close(self) -> None:
        self._application = None

    @property
    def is_open(self) -> bool:
        return self._application is not None

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        application, secret = self._application, self._secret
        if application is None or secret is None or self.journal.store is None:
            raise WebError(503, "not receiving updates now", headers={"Retry-After": "5"})
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            self.refused += 1
            log.info("webhook request refused: wrong or missing secret token")
            raise WebError(403, "forbidden")
        raw = _update(await request.body())
        try:
            await self.journal.receive([raw])
        except Exception as exc:  # not stored: not confirmed (Telegram sends it again)
            log.warning("could not journal webhook update %s: %s", raw["update_id"], exc)
            raise WebError(503, "cannot store the update now") from None
        try:
            update = Update.de_json(raw, application.bot)
        except Exception as exc:  # journaled: a replay will meet it again and drop it
            log.warning("webhook update %s is not readable: %s", raw["update_id"], exc)
            return Response(status_code=200)
        await application.update_queue.put(update)
        return Response(status_code=200)


def _update(body: bytes) -> dict:
    try:
        raw = json.loads(body)
    except ValueError:
        raise WebError(400, "the body is not JSON") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        raise WebError(400, "not a Telegram update")
    return raw
