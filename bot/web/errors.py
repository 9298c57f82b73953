"""Every exception a route can raise, mapped to an answer in one place.

Answers are small JSON objects ``{"error": "..."}`` with the status; nothing about the bot's
internals (no traceback, no path, no personal data) ever reaches a client. An unexpected
exception is logged once, here, and answered 500.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)


class WebError(HTTPException):
    """A refusal a route means (403 wrong secret, 503 not ready…): status and a short reason."""


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.method == "POST":
        headers["Connection"] = "close"  # the body may not have been read
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("web request %s %s failed: %r", request.method, request.url.path, exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


#: For Starlette(exception_handlers=...): our refusals, the router's 404/405, the rest.
EXCEPTION_HANDLERS = {HTTPException: _http_error, Exception: _unexpected}
