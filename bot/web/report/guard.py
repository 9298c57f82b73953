"""What stands before the form and the status page: their headers, the browser cookie, the
client address for the rate limits.

The headers are set only on these two sub-apps (``/report``, ``/t/``), so the dashboard and
the bot's own routes keep theirs. The client address is what uvicorn gives (behind nginx on
the same host, the ``X-Forwarded-For`` client: uvicorn trusts it from 127.0.0.1); it is held
in memory by :class:`bot.domain.webreport.RateLimit` for at most the hour, never stored.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

#: Self only; no inline script or style; no other origin for anything (no CDN, no tiles).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: The form's assets may be cached by a phone on a slow connection (they change by release).
STATIC_CACHE = "public, max-age=86400"

BROWSER_COOKIE = "wl_b"
VIEW_COOKIE = "wl_t"


def page_headers(path: str) -> dict[str, str]:
    """More headers of an answer of the form's sub-apps (bot.web.middleware.ResponseHeaders
    sets PAGE_HEADERS on every one): their static assets may be cached."""
    return {"Cache-Control": STATIC_CACHE} if "/static/" in path else {}


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "?"


def browser(request: Request) -> tuple[str, bool]:
    """This browser's random cookie (CSRF tokens are bound to it): (value, new)."""
    value = request.cookies.get(BROWSER_COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


def set_cookie(
    response: Response, name: str, value: str, *, path: str, secure: bool, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def language(request: Request, posted: str | None = None) -> str:
    """zh unless asked for English: by the page's link (``?lang=en``), the posted form, or the
    browser's first language."""
    asked = posted or request.query_params.get("lang")
    if asked in ("zh", "en"):
        return asked
    accept = request.headers.get("accept-language", "").strip().lower()
    return "en" if accept.startswith("en") else "zh"
