"""ASGI middleware for every route: security headers, request size limits.

Pure ASGI (no ``BaseHTTPMiddleware``), so streaming answers and the webhook's quick 200 pass
through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: On every answer. The bot's own routes are JSON; a page mounted later sets its own CSP
#: (stricter or with its assets) — these are the floor.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

#: Bytes a request body may have (a Telegram update is a few kB; uploads go to Telegram).
MAX_BODY = 1024 * 1024
TOO_LARGE = "request body too large"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """413 for a body larger than ``max_body``: at once when ``Content-Length`` says so, and
    while reading one sent without a length (chunked)."""

    def __init__(
        self, app: ASGIApp, max_body: int = MAX_BODY, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        #: Path prefixes allowed a larger body (the web report form's photo).
        self.larger = dict(larger or {})

    def _limit(self, path: str) -> int:
        return next((n for p, n in self.larger.items() if path.startswith(p)), self.max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self._limit(scope.get("path", ""))
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            await _too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_body:  # answered by the exception mapping (errors.py)
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    answer = JSONResponse({"error": TOO_LARGE}, status_code=413, headers={"Connection": "close"})
    await answer(scope, receive, send)
