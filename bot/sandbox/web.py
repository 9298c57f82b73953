"""The demo's web chat: a page with three chats and a small JSON API over the emulator.

Plain stdlib HTTP (``ThreadingHTTPServer``, TCP_NODELAY), one thread per request:

``GET /``                  the page (``static/index.html``, ``app.js``, ``app.css``)
``GET /api/state``         who is who: people, groups, the group on duty, places, bot
``GET /api/chat/<id>``     a chat's messages as the page shows them, its reply keyboard, commands
``GET /api/file/<id>``     a photo's bytes
``GET /api/events``        server-sent events: ``change`` with every chat's version
``POST /api/send``         a person sends text / location / venue / photo / contact
``POST /api/press``        a person presses an inline button (by position); answers the toast

Safety, for a tool that listens on a port: loopback only unless ``allow_remote``; the ``Host``
header must name this server (no DNS rebinding); POSTs must be JSON from this origin (no
cross-site form posts); a strict Content-Security-Policy; bot messages reach the page only as
plain text plus entities (never the bot's raw HTML), and the page builds them with
``textContent``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.geo.coords import haversine_m
from bot.geo.gazetteer import PLACES, Place

if TYPE_CHECKING:  # pragma: no cover
    from bot.sandbox.demo import Demo

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
MAX_TEXT = 4096
PRESS_TIMEOUT = 5.0
HEARTBEAT = 15.0
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "sample.jpg": "image/jpeg",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    import ipaddress

    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless told to explicitly."""
    if not is_loopback(host) and not allow_remote:
        raise ValueError(
            f"refusing to listen on {host!r}: the demo has no login and anyone who can reach "
            "the port can act as every person in it; use 127.0.0.1, or pass --allow-remote "
            "(with --host) if you really mean to share it"
        )


def static_bytes(name: str) -> bytes:
    return (resources.files("bot.sandbox") / "static" / name).read_bytes()


# --------------------------------------------------------------------------------------------
# What the page sees


def nearest_place(lat: float, lon: float, within_m: float = 3000) -> tuple[Place, int] | None:
    best = min(PLACES, key=lambda p: haversine_m(lat, lon, p.lat, p.lon))
    metres = haversine_m(lat, lon, best.lat, best.lon)
    return (best, round(metres)) if metres <= within_m else None


def _safe_url(url: Any) -> str | None:
    return url if isinstance(url, str) and re.match(r"^https?://", url, re.I) else None


def _inline_buttons(markup: Any) -> list[list[dict]]:
    rows = (markup or {}).get("inline_keyboard") if isinstance(markup, dict) else None
    out: list[list[dict]] = []
    for row in rows or []:
        buttons = []
        for button in row:
            entry: dict[str, Any] = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                entry["type"] = "callback"
            elif "url" in button:
                entry["type"] = "url"
                entry["url"] = _safe_url(button["url"])
            else:
                entry["type"] = "unsupported"
            buttons.append(entry)
        out.append(buttons)
    return out


def reply_keyboard(markup: dict | None) -> dict | None:
    if not markup or "keyboard" not in markup:
        return None
    rows = []
    for row in markup["keyboard"]:
        buttons = []
        for button in row:
            if isinstance(button, str):
                buttons.append({"text": button, "request": None})
                continue
            request = None
            if button.get("request_location"):
                request = "location"
            elif button.get("request_contact"):
                request = "contact"
            elif any(k.startswith("request_") for k in button):
                request = "unsupported"
            buttons.append({"text": str(button.get("text", "")), "request": request})
        rows.append(buttons)
    return {
        "rows": rows,
        "one_time": bool(markup.get("one_time_keyboard")),
        "placeholder": markup.get("input_field_placeholder"),
    }


def _snippet(view: dict) -> str:
    text = view.get("text") or ""
    if text:
        line = text.strip().splitlines()[0] if text.strip() else ""
        return line[:80]
    return {
        "photo": "📷 照片 photo",
        "location": "📍 位置 location",
        "venue": "📍 " + ((view.get("venue") or {}).get("title") or "位置 location"),
        "contact": "👤 联系人 contact",
        "voice": "🎤 语音 voice",
        "video": "🎬 视频 video",
        "document": "📄 文件 file",
        "sticker": "🙂 贴纸 sticker",
    }.get(view.get("kind") or "", "…")


def render_message(
    view: dict, names: dict[int, str], by_id: dict[int, dict], bot_name: str = "bot"
) -> dict:
    """A transcript entry as the page needs it: plain text and entities, never raw HTML."""
    from_id = view.get("from_id")
    out: dict[str, Any] = {
        "id": view["message_id"],
        "from_bot": view["from_bot"],
        "from_id": from_id,
        "from_name": names.get(from_id, "") if not view["from_bot"] else "",
        "kind": view["kind"],
        "text": view.get("text") or "",
        "entities": [e for e in view.get("entities") or [] if isinstance(e, dict)],
        "buttons": _inline_buttons(view.get("reply_markup")),
        "date": view["date"],
        "edited": bool(view.get("edit_date")),
    }
    photo = view.get("photo")
    if photo:
        out["photo"] = photo[-1]["file_id"]
        # The page reserves the picture's space before it loads (chats stay scrolled down).
        out["photo_size"] = [photo[-1].get("width") or 320, photo[-1].get("height") or 240]
    location = view.get("location")
    if location:
        out["location"] = {"lat": location["latitude"], "lon": location["longitude"]}
        near = nearest_place(location["latitude"], location["longitude"])
        if near:
            out["location"]["near"] = {"zh": near[0].name_zh, "en": near[0].name_en, "m": near[1]}
    venue = view.get("venue")
    if venue:
        out["venue"] = {"title": venue.get("title", ""), "address": venue.get("address", "")}
    contact = view.get("contact")
    if contact:
        out["contact"] = {
            "name": contact.get("first_name", ""),
            "phone": contact.get("phone_number", ""),
        }
    reply_id = view.get("reply_to_message_id")
    if reply_id is not None:
        target = by_id.get(reply_id)
        out["reply_to"] = {
            "id": reply_id,
            "name": (
                bot_name
                if target and target["from_bot"]
                else names.get((target or {}).get("from_id"))
            )
            or "",
            "snippet": _snippet(target) if target else "…",
        }
    return out


# --------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    web: WebChat

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse DNS lookup (slow in a sandbox without DNS).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the browser went away
            return
        log.exception("web chat: error while handling a request")


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "warmline-demo/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("web: " + format, *args)

    # -- plumbing --------------------------------------------------------------------------
    def _headers(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self._headers(status, content_type, len(body))
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _check_host(self) -> None:
        web = self.server.web
        if web.allow_remote:
            return
        host = (self.headers.get("Host") or "").lower()
        if host not in web.allowed_hosts:
            raise RequestError(403, "unexpected Host header (open the address the demo printed)")

    def _body(self) -> dict:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise RequestError(415, "send JSON (Content-Type: application/json)")
        origin = self.headers.get("Origin")
        if origin and not self.server.web.allow_remote:
            if urlsplit(origin).netloc.lower() not in self.server.web.allowed_hosts:
                raise RequestError(403, "cross-origin request refused")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise RequestError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise RequestError(413, "request too large")
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise RequestError(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "the body must be a JSON object")
        return body

    def _route(self, method: str) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            web = self.server.web
            if method == "GET":
                if path in ("/", "/index.html"):
                    self._send(200, static_bytes("index.html"), STATIC_FILES["index.html"])
                elif path.startswith("/static/") and path[8:] in STATIC_FILES:
                    name = path[8:]
                    self._send(200, static_bytes(name), STATIC_FILES[name])
                elif path == "/api/state":
                    self._json(200, web.state())
                elif m := re.fullmatch(r"/api/chat/(-?\d+)", path):
                    self._json(200, web.chat(int(m.group(1))))
                elif m := re.fullmatch(r"/api/file/([A-Za-z0-9_-]{1,100})", path):
                    data, ctype = web.file(m.group(1))
                    self._send(200, data, ctype)
                elif path == "/api/events":
                    self._events()
                else:
                    raise RequestError(404, "not found")
            elif method == "POST":
                if path == "/api/send":
                    self._json(200, web.send(self._body()))
                elif path == "/api/press":
                    self._json(200, web.press(self._body()))
                else:
                    raise RequestError(404, "not found")
            else:  # pragma: no cover - only GET and POST are routed here
                raise RequestError(405, "method not allowed")
        except RequestError as err:
            if method == "POST":
                self.close_connection = True  # the body may not have been read
            self._json(err.status, {"error": err.message})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _events(self) -> None:
        """Server-sent events: one ``change`` event per batch of changes (the first at once)."""
        web = self.server.web
        self.close_connection = True
        self._headers(200, "text/event-stream; charset=utf-8", None)
        web._track(self.connection, add=True)
        try:
            self.wfile.write(b"retry: 1000\n\n")
            last: dict | None = None
            last_write = time.monotonic()
            while not web.stopping:
                snapshot = web.snapshot()
                if snapshot != last:
                    data = json.dumps(snapshot, separators=(",", ":"))
                    self.wfile.write(f"event: change\ndata: {data}\n\n".encode())
                    last, last_write = snapshot, time.monotonic()
                elif time.monotonic() - last_write > HEARTBEAT:
                    self.wfile.write(b": ping\n\n")
                    last_write = time.monotonic()
                # Wake on the emulator's next change; a short timeout notices the demo's own
                # changes (people, status) and a stop. Then let a burst settle into one event.
                if (
                    web.demo.emu.wait_change(snapshot["version"], timeout=0.5)
                    != snapshot["version"]
                ):
                    time.sleep(0.02)
        except OSError:
            pass
        finally:
            web._track(self.connection, add=False)


# --------------------------------------------------------------------------------------------
# The web chat


class WebChat:
    """The page and its API for a :class:`~bot.sandbox.demo.Demo`. Binds in the constructor."""

    def __init__(
        self, demo: Demo, *, host: str = "127.0.0.1", port: int = 8080, allow_remote: bool = False
    ) -> None:
        check_listen_host(host, allow_remote)
        self.demo = demo
        self.host = host
        self.allow_remote = allow_remote
        self.stopping = False
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        server_cls = _Server6 if ":" in host else _Server
        self._server = server_cls((host, port), _Handler, bind_and_activate=True)
        self._server.web = self
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None
        self.allowed_hosts = {
            f"{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]", host.lower())
        }
        if self.port == 80:
            self.allowed_hosts |= {"127.0.0.1", "localhost", "[::1]"}

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> WebChat:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"warmline-web:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # end the event streams now, not at their next wake-up
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> dict[int, str]:
        return {p.user_id: p.name for p in self.demo.people}

    def snapshot(self) -> dict:
        emu = self.demo.emu
        version = emu.version
        return {
            "version": version,
            "chats": {str(k): v for k, v in emu.chat_versions().items()},
            "world": self.demo.revision,
        }

    def state(self) -> dict:
        demo = self.demo
        assert demo.config is not None
        config = demo.config
        on_duty = demo.on_duty()
        return {
            "bot": {"name": demo.emu.bot_user["first_name"], "username": demo.emu.bot_username},
            "station": {"name": config.station.name, "timezone": config.station.timezone},
            "people": [
                {
                    "id": p.user_id,
                    "name": p.name,
                    "role": p.role,
                    "note": p.note,
                    "group": p.group,
                    "phone": p.phone,
                }
                for p in demo.people
            ],
            "groups": [
                {"key": g.key, "name": g.name, "chat_id": g.chat_id, "title": g.title}
                for g in demo.groups
            ],
            "on_duty": on_duty,
            "status": demo.status,
            "world": demo.revision,
            "places": [
                {
                    "key": p.key,
                    "zh": p.name_zh,
                    "en": p.name_en,
                    "lat": p.lat,
                    "lon": p.lon,
                    "kind": p.kind,
                }
                for p in sorted(PLACES, key=lambda p: p.kind != "landmark")
            ],
        }

    def chat(self, chat_id: int) -> dict:
        emu = self.demo.emu
        version = emu.chat_versions().get(chat_id, 0)
        transcript = emu.transcript(chat_id)
        if not transcript and not self._known_chat(chat_id):
            raise RequestError(404, f"no chat {chat_id}")
        names = self.names()
        by_id = {m["message_id"]: m for m in transcript}
        return {
            "chat_id": chat_id,
            "version": version,
            "messages": [
                render_message(m, names, by_id, emu.bot_user["first_name"]) for m in transcript
            ],
            "keyboard": reply_keyboard(emu.reply_keyboard(chat_id)),
            "commands": self._commands(chat_id),
        }

    def _known_chat(self, chat_id: int) -> bool:
        return self.demo.person(chat_id) is not None or any(
            g.chat_id == chat_id for g in self.demo.groups
        )

    def _commands(self, chat_id: int) -> list[dict]:
        """The command menu Telegram would show in this chat (most specific scope first)."""
        emu = self.demo.emu
        person = self.demo.person(chat_id)
        lang = ""
        if person is not None and person.language_code.startswith("en"):
            lang = "en"
        kind = "all_private_chats" if chat_id > 0 else "all_group_chats"
        for scope in ({"type": "chat", "chat_id": chat_id}, {"type": kind}, None):
            for code in dict.fromkeys((lang, "")):
                commands = emu.my_commands(scope, code)
                if commands:
                    return commands
        return []

    def file(self, file_id: str) -> tuple[bytes, str]:
        try:
            data = self.demo.emu.file_bytes(file_id)
        except KeyError:
            raise RequestError(404, "no such file") from None
        if data[:2] == b"\xff\xd8":
            return data, "image/jpeg"
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return data, "image/png"
        if data[:4] == b"GIF8":
            return data, "image/gif"
        return data, "application/octet-stream"

    # -- acting --------------------------------------------------------------------------------
    def _actor(self, body: dict) -> tuple[int, int]:
        """(user id, chat id): a known person, in their own private chat or a patrol group."""
        try:
            user = int(body["user"])
            chat = int(body.get("chat", user))
        except (KeyError, TypeError, ValueError):
            raise RequestError(400, "user and chat must be numbers") from None
        if self.demo.person(user) is None:
            raise RequestError(403, f"nobody with id {user} in this demo")
        if chat != user and all(g.chat_id != chat for g in self.demo.groups):
            raise RequestError(403, f"{user} cannot write in chat {chat}")
        return user, chat

    def send(self, body: dict) -> dict:
        user, chat = self._actor(body)
        emu = self.demo.emu
        kind = body.get("kind", "text")
        reply_to = body.get("reply_to")
        if reply_to is not None:
            if not isinstance(reply_to, int) or emu.message(chat, reply_to) is None:
                raise RequestError(400, "the message to reply to is not in this chat")
        group = None if chat == user else chat
        if kind == "text":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise RequestError(400, "text is empty")
            if len(text) > MAX_TEXT:
                raise RequestError(400, f"text is longer than {MAX_TEXT} characters")
            view = emu.send_text(user, text, chat_id=group, reply_to=reply_to)
        elif kind in ("location", "venue"):
            lat, lon, title, address = self._place(body)
            if kind == "venue":
                view = emu.send_venue(user, lat, lon, title, address, chat_id=group)
            else:
                view = emu.send_location(user, lat, lon, chat_id=group, reply_to=reply_to)
        elif kind == "photo":
            data = self._photo(body.get("data"))
            caption = body.get("caption")
            if caption is not None and (not isinstance(caption, str) or len(caption) > 1024):
                raise RequestError(400, "caption must be text of at most 1024 characters")
            view = emu.send_photo(
                user, data, chat_id=group, caption=caption or None, reply_to=reply_to
            )
        elif kind == "contact":
            person = self.demo.person(user)
            assert person is not None
            phone = person.phone.replace(" ", "")
            view = emu.send_contact(
                user, phone, chat_id=group, first_name=person.name, contact_user_id=user
            )
        else:
            raise RequestError(400, f"unknown kind {kind!r}")
        return {"message_id": view["message_id"]}

    @staticmethod
    def _place(body: dict) -> tuple[float, float, str, str]:
        key = body.get("place")
        if key is not None:
            place = next((p for p in PLACES if p.key == key), None)
            if place is None:
                raise RequestError(400, f"no place {key!r} in the gazetteer")
            return place.lat, place.lon, place.name_zh, place.name_en
        try:
            lat, lon = float(body["lat"]), float(body["lon"])
        except (KeyError, TypeError, ValueError):
            raise RequestError(400, "give a place key, or lat and lon") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RequestError(400, "lat must be within ±90 and lon within ±180")
        title = str(body.get("title") or "").strip()[:100] or f"{lat:.5f}, {lon:.5f}"
        address = str(body.get("address") or "").strip()[:100] or title
        return lat, lon, title, address

    @staticmethod
    def _photo(data: Any) -> bytes:
        if data is None:
            return static_bytes("sample.jpg")
        if not isinstance(data, str):
            raise RequestError(400, "photo data must be base64 text")
        if data.startswith("data:"):
            data = data.split(",", 1)[-1]
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(400, "photo data is not valid base64") from None
        if not (raw[:2] == b"\xff\xd8" or raw[:8] == b"\x89PNG\r\n\x1a\n"):
            raise RequestError(400, "the photo must be a JPEG or PNG")
        return raw

    def press(self, body: dict) -> dict:
        """Press the inline button at (row, col) of a message; waits for the bot's answer."""
        user, chat = self._actor(body)
        emu = self.demo.emu
        try:
            message_id, row, col = int(body["message"]), int(body["row"]), int(body["col"])
        except (KeyError, TypeError, ValueError):
            raise RequestError(400, "message, row and col must be numbers") from None
        view = emu.message(chat, message_id)
        if view is None or view["deleted"]:
            raise RequestError(404, "no such message")
        rows = (view.get("reply_markup") or {}).get("inline_keyboard") or []
        try:
            button = rows[row][col]
        except IndexError:
            raise RequestError(409, "that button is gone (the message has changed)") from None
        if "callback_data" not in button:
            raise RequestError(400, "not a callback button")
        expected = body.get("text")
        if expected is not None and expected != button.get("text"):
            raise RequestError(409, "that button has changed; look again")
        query_id = emu.press_button(user, chat, message_id, button["callback_data"])
        deadline = time.monotonic() + PRESS_TIMEOUT
        answer = emu.callback_answer(query_id)
        while answer is None and time.monotonic() < deadline:
            version = emu.version
            answer = emu.callback_answer(query_id)
            if answer is None:
                emu.wait_change(version, timeout=0.25)
                answer = emu.callback_answer(query_id)
        return {"answered": answer is not None, "answer": answer}
