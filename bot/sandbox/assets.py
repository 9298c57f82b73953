"""The demo's files shipped in ``static/``: the page (``index.html``, ``app.js``, ``app.css``)
and the sample photo the page and the drill send."""

from __future__ import annotations

from importlib import resources

#: Every file the web chat serves, with its content type (nothing else under ``static/`` is).
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "sample.jpg": "image/jpeg",
}
SAMPLE_PHOTO = "sample.jpg"


def static_bytes(name: str) -> bytes:
    return (resources.files("bot.sandbox") / "static" / name).read_bytes()
