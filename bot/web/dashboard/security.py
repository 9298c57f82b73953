"""The dashboard's session cookie, CSRF check and headers.

Every dashboard answer carries a strict Content-Security-Policy: scripts, styles, fonts and
data from this origin only (no inline script; map tiles from the configured tile host only),
no framing, no referrer. Only ``/dashboard`` gets these: the rest of the web server keeps
its own headers (bot/web/middleware.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from bot.domain.dashboard import csrf_ok, csrf_token

COOKIE = "warmline_dashboard"
COOKIE_PATH = "/dashboard"
CSRF_HEADER = "X-CSRF-Token"
#: The CSRF tokens' key. Their secret is the session token they are bound to (which only
#: the signed-in browser holds); the key only keeps them apart from other uses of the hash.
_CSRF_KEY = b"warmline dashboard csrf v1"


def tile_origin(template: str) -> str | None:
    """The origin a tile URL template loads from, for ``img-src`` (``{s}`` → ``*``)."""
    if not template:
        return None
    parts = urlsplit(template.replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(tiles: str) -> str:
    images = "'self' data:"
    origin = tile_origin(tiles)
    if origin:
        images += f" {origin}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def dashboard_headers(tiles: str) -> dict[str, str]:
    """Set on every answer of the dashboard (bot.web.middleware.ResponseHeaders), with
    ``Cache-Control: no-store`` where an answer (a photo, the font) does not say otherwise."""
    return {
        "Content-Security-Policy": content_security_policy(tiles),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def set_session(response: Response, token: str, hours: int, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=hours * 3600,
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session(response: Response, secure: bool) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )


def csrf_for(token: str) -> str:
    return csrf_token(token, _CSRF_KEY)


def same_origin(request: Request, public_url: str = "") -> bool:
    """A browser's Origin header, when it sends one, names this server: the host it asked
    for, or ``[web] public_url`` (behind a proxy that does not pass the port on)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    return netloc in (request.headers.get("host", ""), urlsplit(public_url).netloc)


def csrf_passes(request: Request, token: str, public_url: str = "") -> bool:
    return same_origin(request, public_url) and csrf_ok(
        token, _CSRF_KEY, request.headers.get(CSRF_HEADER)
    )
