"""ASGI middleware for every route: security headers, request size limits.

Pure ASGI (no ``BaseHTTPMiddleware``), so streaming answers and the webhook's quick 200 pass
through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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


class ResponseHeaders:
    """Sets headers on every answer of the app it wraps: ``always`` over the app's own,
    ``unless_set`` only where the app set none, and ``by_path(path)``'s over both. The one
    header middleware of the web server (the floor for every route, each page's own)."""

    def __init__(
        self,
        app: ASGIApp,
        always: Mapping[str, str] | None = None,
        *,
        unless_set: Mapping[str, str] | None = None,
        by_path: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self.app = app
        self.always = dict(always or {})
        self.unless_set = dict(unless_set or {})
        self.by_path = by_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = {**self.always, **(self.by_path(scope.get("path", "")) if self.by_path else {})}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in chosen.items():
                    headers[name] = value
                for name, value in self.unless_set.items():
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
