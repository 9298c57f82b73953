"""Loopback Telegram Bot API emulator.

``BotApiEmulator`` is a small HTTP server that speaks the Telegram Bot API over plain HTTP on a
loopback address. A real python-telegram-bot ``Application`` built with
``.base_url(emu.base_url).base_file_url(emu.base_file_url)`` talks to it exactly as it would talk
to ``api.telegram.org``: ``getMe``, long-polling ``getUpdates``, ``sendMessage``, file uploads
(multipart) and downloads, edits, callback answers and so on.

The test side plays the users: ``add_user`` / ``add_group`` create the world, ``send_text``,
``send_location``, ``send_photo``, ``press_button``/``press`` ... queue updates for the bot, and
``transcript`` / ``bot_messages`` / ``calls`` / ``callback_answer`` show what the bot did.
``api_errors`` lists every non-ok answer the bot received and ``internal_errors`` any emulator
crash, so a test can assert both are empty. ``fault`` is a hook to inject failures (429, 5xx...).
``version`` / ``chat_versions`` / ``wait_change`` tell a watcher (the demo's web chat) that
something a person could see has changed.
All public methods are thread-safe; the HTTP server runs in a background daemon thread, so
tests may drive it from the bot's own event loop (use the async ``until``) or from a thread.

Like Telegram, the bot cannot write first to a user: a private chat exists once the user has
sent something (or ``add_user(..., started=True)``); before that the bot gets 403.

What is emulated faithfully enough to catch real bugs:

* Bot API envelopes (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": ...,
  "description": ...}``) and the common error texts (chat not found, message is too long,
  can't parse entities, BUTTON_DATA_INVALID, message is not modified, message to edit not found,
  query is too old, wrong file identifier, bot was blocked by the user, ...).
* Telegram's HTML ``parse_mode``: only the allowed tags, balanced nesting, the four named
  entities plus numeric ones; entity offsets are computed in UTF-16 code units.
* ``getUpdates`` offset/limit/timeout semantics (long poll on a condition variable; a newer
  ``getUpdates`` terminates an older waiting one with 409 Conflict, as Telegram does).
* Editing semantics: editing the text without ``reply_markup`` removes the inline keyboard; an
  edit that changes nothing is a 400; only the bot's own messages can be edited.

Limits (deliberate simplifications):

* ``Markdown``/``MarkdownV2`` are not parsed: the text is stored as sent, without entities.
* No image processing: photo "sizes" share the uploaded bytes; dimensions are read from the
  JPEG/PNG/GIF header. URLs given as file are accepted but their content is empty.
* No inline mode, payments, games, polls, forum topics, business connections, webhooks
  (``setWebhook`` only stores the URL; while one is set ``getUpdates`` answers 409, as
  Telegram does), privacy mode (the bot sees every group message), rate limits (inject them
  with the ``fault`` hook), or message age limits. Methods not implemented answer 404.
* Cross-chat replies (``reply_parameters.chat_id`` of another chat) are ignored.
* Text is not trimmed of surrounding whitespace as Telegram does.

It binds only loopback addresses unless ``allow_non_loopback=True``. It is a test tool: no
authentication beyond the bot token, no persistence, everything lives in memory.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import html
import ipaddress
import json
import mimetypes
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "TINY_JPEG",
    "ApiError",
    "BotApiEmulator",
    "HtmlParseError",
    "parse_html",
]

#: A valid 16x12 baseline JPEG (286 bytes), the default picture of ``send_photo``.
TINY_JPEG: bytes = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4"
    "UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAMABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAUEAEA"
    "AAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABf/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhED"
    "EQA/AJgBh5//2Q=="
)

_DEFAULT_VOICE = b"OggS\x00\x02" + bytes(58)
_DEFAULT_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40)
_DEFAULT_STICKER = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """A Bot API error answer (``{"ok": false, ...}``)."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def _bad(description: str, parameters: dict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {description}", parameters)


def _forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------------------------
# Telegram HTML


class HtmlParseError(ValueError):
    """Markup that Telegram would refuse with ``can't parse entities``."""


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"}
_TAG_NAME_RE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)")
_ATTR_RE = re.compile(
    r"""\s*([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _u16(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for offsets and limits)."""
    return len(text.encode("utf-16-le")) // 2


def _parse_attrs(rest: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    pos = 0
    rest = rest.rstrip().removesuffix("/")
    while pos < len(rest):
        m = _ATTR_RE.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = next((g for g in m.groups()[1:] if g is not None), "")
        attrs[m.group(1).lower()] = html.unescape(value)
        pos = m.end()
    return attrs


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Raises :class:`HtmlParseError` with a Telegram-like message for unsupported tags,
    unbalanced tags or an unterminated tag.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[dict] = []
    entities: list[dict] = []
    i = 0
    n = len(text)

    def byte_offset(idx: int) -> int:
        return len(text[:idx].encode("utf-8"))

    while i < n:
        ch = text[i]
        if ch == "<":
            end = text.find(">", i + 1)
            if end == -1:
                raise HtmlParseError(f"Can't find end of the tag at byte offset {byte_offset(i)}")
            inner = text[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(i)}")
                top = stack.pop()
                if name != top["tag"]:
                    raise HtmlParseError(
                        f"Unmatched end tag at byte offset {byte_offset(i)}, "
                        f'expected "</{top["tag"]}>", found "</{name}>"'
                    )
                entity = top["entity"]
                length = pos16 - top["start"]
                if entity is not None and length > 0:
                    entity.update(offset=top["start"], length=length)
                    entities.append(entity)
            else:
                m = _TAG_NAME_RE.match(inner)
                if not m:
                    raise HtmlParseError(
                        f'Unsupported start tag "{inner}" at byte offset {byte_offset(i)}'
                    )
                name = m.group(1).lower()
                if name not in _ALLOWED_TAGS:
                    raise HtmlParseError(
                        f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}'
                    )
                attrs = _parse_attrs(inner[m.end() :])
                entity = _entity_for_tag(name, attrs, stack, pos16)
                stack.append({"tag": name, "start": pos16, "entity": entity})
            i = end + 1
        elif ch == "&":
            m = _CHAR_REF_RE.match(text, i)
            if m:
                ref = m.group(1)
                if ref.startswith("#"):
                    code = int(ref[2:], 16) if ref[1:2] in ("x", "X") else int(ref[1:])
                    try:
                        piece = chr(code)
                    except (ValueError, OverflowError):
                        piece = "\ufffd"
                else:
                    piece = _NAMED_REFS[ref]
                i = m.end()
            else:
                piece = "&"
                i += 1
            out.append(piece)
            pos16 += _u16(piece)
        else:
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            piece = text[i:j]
            out.append(piece)
            pos16 += _u16(piece)
            i = j
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for_tag(name: str, attrs: dict[str, str], stack: list[dict], pos16: int) -> dict | None:
    if name in _SIMPLE_TAGS:
        if name == "code" and stack and stack[-1]["tag"] == "pre" and stack[-1]["start"] == pos16:
            # <pre><code class="language-python"> sets the language of the pre block.
            lang = attrs.get("class", "")
            pre = stack[-1]["entity"]
            if lang.startswith("language-") and pre is not None:
                pre["language"] = lang.removeprefix("language-")
                return None
        return {"type": _SIMPLE_TAGS[name]}
    if name == "a":
        href = attrs.get("href")
        return {"type": "text_link", "url": href} if href else None
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler"}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise HtmlParseError("Custom emoji identifier must be non-empty")
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    return None  # pragma: no cover - every allowed tag is handled above


# --------------------------------------------------------------------------------------------
# Request parsing


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


# Parameters that are always strings even when they look like JSON numbers.
_STRING_PARAMS = frozenset(
    (
        "text caption parse_mode callback_query_id inline_message_id url title address "
        "foursquare_id foursquare_type google_place_id google_place_type photo document voice "
        "video audio animation sticker video_note thumbnail file_id action language_code data "
        "secret_token description short_description name phone_number first_name last_name "
        "vcard emoji business_connection_id message_effect_id question custom_title invite_link "
        "cover start_parameter payload provider_token currency ip_address certificate"
    ).split()
)
_JSON_PARAMS = frozenset(
    (
        "reply_markup commands scope entities caption_entities media reply_parameters "
        "link_preview_options allowed_updates reaction results menu_button rights message_ids "
        "permissions options"
    ).split()
)
_INT_RE = re.compile(r"-?\d+")


def _coerce_form_value(name: str, value: str) -> Any:
    """Turn a form/query string value back into the JSON value PTB serialised."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _normalise_json_params(params: dict[str, Any]) -> dict[str, Any]:
    """JSON bodies: decode JSON-in-string fields and numeric chat ids."""
    for key, value in list(params.items()):
        if key in _JSON_PARAMS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
        elif key in ("chat_id", "message_id", "from_chat_id", "user_id") and isinstance(value, str):
            if _INT_RE.fullmatch(value):
                params[key] = int(value)
    return params


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, _Upload]]:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise _bad("multipart boundary is missing")
    delimiter = b"\r\n--" + m.group(1).strip().encode("latin-1")
    params: dict[str, Any] = {}
    uploads: dict[str, _Upload] = {}
    chunks = (b"\r\n" + body).split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                key, _, val = line.partition(":")
                headers[key.strip()] = val.strip()
        name_param = headers.get_param("name", header="content-disposition")
        if name_param is None:
            continue
        name = collapse_rfc2231_value(name_param)
        filename = headers.get_filename()
        if filename is not None:
            uploads[name] = _Upload(
                filename=filename,
                content_type=headers.get_content_type()
                if headers.get("content-type")
                else "application/octet-stream",
                data=data,
            )
        else:
            params[name] = _coerce_form_value(name, data.decode("utf-8", "replace"))
    return params, uploads


def _parse_params(
    query: str, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, _Upload]]:
    params: dict[str, Any] = {
        k: _coerce_form_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
    }
    uploads: dict[str, _Upload] = {}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body.decode("utf-8"))
            except ValueError as exc:
                raise _bad("can't parse JSON body") from exc
            if not isinstance(decoded, dict):
                raise _bad("JSON body must be an object")
            params.update(_normalise_json_params(decoded))
        elif ctype == "multipart/form-data":
            fields, uploads = _parse_multipart(body, content_type)
            params.update(fields)
        else:  # application/x-www-form-urlencoded and anything else
            text = body.decode("utf-8", "replace")
            for k, v in parse_qsl(text, keep_blank_values=True):
                params[k] = _coerce_form_value(k, v)
    return params, uploads


# --------------------------------------------------------------------------------------------
# Media helpers


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG, PNG or GIF from its header, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    if data[:4] == b"GIF8" and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return w, h
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + seg_len
    return None


def _scaled(w: int, h: int, box: int) -> tuple[int, int]:
    biggest = max(w, h, 1)
    if biggest <= box:
        return max(1, w // 2), max(1, h // 2)
    return max(1, round(w * box / biggest)), max(1, round(h * box / biggest))


_KIND_DIRS = {
    "photo": ("photos", "AgACAgUAAxkBAAI"),
    "document": ("documents", "BQACAgUAAxkBAAI"),
    "voice": ("voice", "AwACAgUAAxkBAAI"),
    "video": ("videos", "BAACAgUAAxkBAAI"),
    "sticker": ("stickers", "CAACAgUAAxkBAAI"),
    "audio": ("music", "CQACAgUAAxkBAAI"),
    "animation": ("animations", "CgACAgUAAxkBAAI"),
}
_KIND_EXT = {
    "photo": "jpg",
    "voice": "oga",
    "video": "mp4",
    "sticker": "webp",
    "audio": "mp3",
    "animation": "mp4",
}
_CHAT_ACTIONS = frozenset(
    (
        "typing upload_photo record_video upload_video record_voice upload_voice "
        "upload_document choose_sticker find_location record_video_note upload_video_note"
    ).split()
)
_INLINE_ACTIONS = frozenset(
    (
        "url callback_data web_app login_url switch_inline_query "
        "switch_inline_query_current_chat switch_inline_query_chosen_chat copy_text "
        "callback_game pay"
    ).split()
)
_CONTENT_KEYS = tuple(
    (
        "text entities caption caption_entities photo document voice video audio animation "
        "sticker location venue contact"
    ).split()
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


@dataclass
class _Record:
    """A stored message: the Telegram-shaped dict plus what the tests want to see."""

    message: dict
    from_bot: bool
    kind: str
    raw_text: str | None
    text: str | None
    parse_mode: str | None
    markup: Any
    edits: list[dict] = field(default_factory=list)
    deleted: bool = False
    reactions: list[dict] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.message["chat"]["id"]

    @property
    def message_id(self) -> int:
        return self.message["message_id"]


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: BotApiEmulator

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS lookup that can stall
        # for seconds in a sandbox without DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # client went away, connection reset, shutdown...
            return
        self.emulator._record_internal_error("<http>", exc)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "warmline-bot-api-emulator/1.0"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track_connection(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body)

    def _dispatch(self) -> None:
        emu = self.server.emulator
        body = self._read_body()
        split = urlsplit(self.path)
        path = unquote(split.path)  # PTB percent-encodes file URLs (the token's ':' too)
        m = _FILE_ROUTE.match(path)
        if m and self.command == "GET":
            status, data = emu._download(m.group(1), m.group(2))
            if isinstance(data, bytes):
                self._send(status, data, "application/octet-stream")
            else:
                self._send_json(status, data)
            return
        m = _METHOD_ROUTE.match(path)
        if not m:
            self._send_json(404, _NOT_FOUND)
            return
        try:
            params, uploads = _parse_params(split.query, self.headers.get("Content-Type", ""), body)
        except ApiError as err:
            self._send_json(err.status, err.body())
            return
        status, payload = emu._handle_api(
            m.group(1), m.group(2), params, uploads, peer_gone=self._peer_gone
        )
        self._send_json(status, payload)

    def _peer_gone(self) -> bool:
        """True if the client closed the connection (e.g. PTB cancelled a long poll)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


_METHOD_ROUTE = re.compile(r"^/bot([^/]+)/([A-Za-z_][A-Za-z0-9_]*)/?$")
_FILE_ROUTE = re.compile(r"^/file/bot([^/]+)/(.+)$")
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}

FaultHook = Callable[[str, dict], tuple[int, dict] | None]


# --------------------------------------------------------------------------------------------
# The emulator


class BotApiEmulator:
    """A loopback Telegram Bot API server with a test-side API to play users.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_username: str = "warmline_test_bot",
        allow_non_loopback: bool = False,
    ) -> None:
        if not allow_non_loopback and not _is_loopback(host):
            raise ValueError(
                f"refusing to bind non-loopback address {host!r}; pass allow_non_loopback=True"
            )
        self.token = token
        self.host = host
        self.port = port
        self.bot_username = bot_username
        head = token.split(":", 1)[0]
        self.bot_id: int = int(head) if head.isdigit() else 123456
        self.bot_user: dict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Warmline Test Bot",
            "username": bot_username,
        }
        #: Optional fault injection: ``fault(method, params) -> (status, body) | None``.
        self.fault: FaultHook | None = None
        #: ``(monotonic_time, method, params)`` of every authorised Bot API call.
        self.requests: deque[tuple[float, str, dict]] = deque(maxlen=100_000)
        #: Every non-ok answer: ``{"method", "params", "status", "description"}``.
        self.api_errors: list[dict] = []
        #: Unexpected exceptions inside the emulator (answered with HTTP 500).
        self.internal_errors: list[dict] = []

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._connections: set[socket.socket] = set()

        self._users: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._blocked: set[int] = set()
        self._left: list[int] = []
        self._migrated: dict[int, int] = {}
        self._member_status: dict[tuple[int, int], str] = {}
        self._messages: dict[int, list[_Record]] = {}
        self._index: dict[tuple[int, int], _Record] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, dict] = {}
        self._pinned: dict[int, list[int]] = {}

        self._updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""

        self._files: dict[str, dict] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = 0
        self._media_group_counter = 0

        self._callbacks: dict[str, dict | None] = {}
        self._callback_counter = 0
        self._commands: dict[tuple[str, str], list[dict]] = {}

        # Change notification: grows with every change a person could see (a message sent,
        # edited or deleted, a button answered, the world extended), overall and per chat.
        self._version = 0
        self._chat_versions: dict[int, int] = {}

        self._methods: dict[str, tuple[str, Callable[[dict, dict], Any]]] = {}
        for attr in dir(self):
            if attr.startswith("_api_"):
                name = attr[len("_api_") :]
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> BotApiEmulator:
        """Bind and serve in a background daemon thread. Returns ``self``."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server_cls = _Server6 if ":" in self.host else _Server
        server = server_cls((self.host, self.port), _Handler)
        server.emulator = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"bot-api-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release waiting long polls and close every connection."""
        server = self._server
        if server is None or self._stopping:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with self._cond:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        with self._cond:
            while self._connections and time.monotonic() < deadline:
                self._cond.wait(0.05)
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def base_url(self) -> str:
        """``http://host:port/bot`` - PTB appends the token."""
        self._require_started()
        return f"http://{self._host_for_url}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://host:port/file/bot`` - PTB appends the token and the file path."""
        self._require_started()
        return f"http://{self._host_for_url}:{self.port}/file/bot"

    def _require_started(self) -> None:
        if self._server is None:
            raise RuntimeError("emulator not started; call start() first")

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
                self._cond.notify_all()

    # ---------------------------------------------------------------- world building

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
        started: bool = False,
    ) -> dict:
        """Register a Telegram user. ``started=True`` also opens the private chat, as if the
        user had pressed Start (otherwise the bot gets 403 until the user writes first)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        with self._lock:
            self._users[user_id] = user
            if started or user_id in self._chats:
                self._chats[user_id] = self._private_chat(user)
            self._changed(None)
            return copy.deepcopy(user)

    def add_group(
        self, chat_id: int, title: str, *, kind: str = "supergroup", username: str | None = None
    ) -> dict:
        """Register a group the bot is a member of."""
        if kind not in ("group", "supergroup"):
            raise ValueError("kind must be 'group' or 'supergroup'")
        chat: dict[str, Any] = {"id": chat_id, "title": title, "type": kind}
        if username is not None:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
            if chat_id in self._left:
                self._left.remove(chat_id)
            self._changed(chat_id)
            return copy.deepcopy(chat)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to the private chat get 403 until the user writes."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        with self._lock:
            self._blocked.discard(user_id)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> dict:
        """Upgrade a group to a supergroup: calls to the old id answer 400 with
        ``parameters.migrate_to_chat_id``. Returns the new chat."""
        with self._lock:
            old = self._chats.pop(old_chat_id)
            self._migrated[old_chat_id] = new_chat_id
            new = {"id": new_chat_id, "title": old["title"], "type": "supergroup"}
            self._chats[new_chat_id] = new
            return copy.deepcopy(new)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What ``getChatMember`` answers: member, administrator, creator, left, kicked."""
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ValueError(f"unsupported status {status!r}")
        with self._lock:
            self._member_status[(chat_id, user_id)] = status

    @staticmethod
    def _private_chat(user: dict) -> dict:
        chat: dict[str, Any] = {"id": user["id"], "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        chat["type"] = "private"
        return chat

    # ---------------------------------------------------------------- user side: messages

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict:
        """The user sends a text. A leading ``/command`` (or ``/command@bot``) gets a
        ``bot_command`` entity."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            token = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(token)}]
        return self._user_post(user_id, chat_id, reply_to, content, "text", text)

    def send_location(
        self,
        user_id: int,
        lat: float,
        lon: float,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        live_period: int | None = None,
    ) -> dict:
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if live_period is not None:
            location["live_period"] = live_period
        return self._user_post(user_id, chat_id, reply_to, {"location": location}, "location")

    def edit_location(
        self, user_id: int, chat_id: int | None, message_id: int, lat: float, lon: float
    ) -> dict:
        """A live location moves: updates the stored message and queues ``edited_message``."""
        with self._lock:
            cid = user_id if chat_id is None else chat_id
            rec = self._index.get((cid, message_id))
            if rec is None or rec.kind != "location" or rec.from_bot:
                raise KeyError(f"no user location message {message_id} in chat {cid}")
            rec.edits.append(self._view(rec, with_history=False))
            rec.message["location"].update(latitude=lat, longitude=lon)
            rec.message["edit_date"] = int(time.time())
            self._changed(cid)
            self._queue({"edited_message": copy.deepcopy(rec.message)})
            return self._view(rec)

    def send_venue(
        self,
        user_id: int,
        lat: float,
        lon: float,
        title: str,
        address: str,
        *,
        chat_id: int | None = None,
    ) -> dict:
        location = {"latitude": lat, "longitude": lon}
        venue = {"location": dict(location), "title": title, "address": address}
        content = {"location": location, "venue": venue}
        return self._user_post(user_id, chat_id, None, content, "venue")

    def send_photo(
        self,
        user_id: int,
        data: bytes = TINY_JPEG,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        sizes: bool = True,
    ) -> dict:
        """The user sends a photo. ``sizes=False`` sends ``"photo": []`` (edge case)."""
        with self._lock:
            photo = self._store_photo(data) if sizes else []
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self._user_post(user_id, chat_id, reply_to, content, "photo", caption)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> dict:
        with self._lock:
            entry = self._store_file("document", data, file_name=file_name)
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            **self._file_ref(entry),
        }
        entry["object"] = copy.deepcopy(document)
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._user_post(user_id, chat_id, reply_to, content, "document", caption)

    def send_voice(
        self,
        user_id: int,
        data: bytes = _DEFAULT_VOICE,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        duration: int = 3,
    ) -> dict:
        with self._lock:
            entry = self._store_file("voice", data)
        voice = {"duration": duration, "mime_type": "audio/ogg", **self._file_ref(entry)}
        entry["object"] = copy.deepcopy(voice)
        return self._user_post(user_id, chat_id, reply_to, {"voice": voice}, "voice")

    def send_video(
        self,
        user_id: int,
        data: bytes = _DEFAULT_VIDEO,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        duration: int = 3,
    ) -> dict:
        with self._lock:
            entry = self._store_file("video", data)
        video = {
            "width": 640,
            "height": 360,
            "duration": duration,
            "mime_type": "video/mp4",
            **self._file_ref(entry),
        }
        entry["object"] = copy.deepcopy(video)
        return self._user_post(user_id, chat_id, reply_to, {"video": video}, "video")

    def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> dict:
        with self._lock:
            entry = self._store_file("sticker", _DEFAULT_STICKER)
        sticker = {
            "width": 512,
            "height": 512,
            "emoji": "🙂",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            **self._file_ref(entry),
        }
        entry["object"] = copy.deepcopy(sticker)
        return self._user_post(user_id, chat_id, None, {"sticker": sticker}, "sticker")

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> dict:
        with self._lock:
            user = self._users.get(user_id)
            contact: dict[str, Any] = {
                "phone_number": phone_number,
                "first_name": first_name or (user["first_name"] if user else "Contact"),
            }
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._user_post(user_id, chat_id, None, {"contact": contact}, "contact")

    def send_raw_update(self, update: dict) -> int:
        """Queue any update dict as-is (for fuzzing); assigns ``update_id`` if missing."""
        with self._cond:
            upd = copy.deepcopy(update)
            if "update_id" not in upd:
                upd["update_id"] = self._next_update_id
            if isinstance(upd["update_id"], int):
                self._next_update_id = max(self._next_update_id, upd["update_id"] + 1)
            self._updates.append(upd)
            self._cond.notify_all()
            return upd["update_id"]

    # ---------------------------------------------------------------- user side: buttons

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """The user presses an inline button with callback ``data`` on a message.

        The button need not exist (tests may forge data). A deleted or unknown message yields an
        ``InaccessibleMessage`` (``date`` 0), as Telegram sends for old messages.
        Returns the callback query id.
        """
        with self._cond:
            user = self._users.get(user_id)
            if user is None:
                raise KeyError(f"unknown user {user_id}; call add_user() first")
            chat = self._chats.get(chat_id)
            if chat is None:
                raise KeyError(f"unknown chat {chat_id}")
            rec = self._index.get((chat_id, message_id))
            if rec is None or rec.deleted:
                message: dict = {"chat": copy.deepcopy(chat), "message_id": message_id, "date": 0}
            else:
                message = copy.deepcopy(rec.message)
            self._callback_counter += 1
            query_id = str(4_611_686_018_427_387_904 + self._callback_counter * 7919)
            self._callbacks[query_id] = None
            query = {
                "id": query_id,
                "from": copy.deepcopy(user),
                "message": message,
                "chat_instance": str((abs(chat_id) * 1_000_003 + 7) % 10**19),
                "data": data,
            }
            self._queue({"callback_query": query})
            return query_id

    def press(self, user_id: int, chat_id: int, message_id: int, *, text: str) -> str:
        """Press the inline button whose visible text is ``text`` (exact, else a unique
        substring). Raises AssertionError listing the buttons when not found."""
        with self._lock:
            rec = self._index.get((chat_id, message_id))
            if rec is None or rec.deleted:
                raise AssertionError(f"message {message_id} not found in chat {chat_id}")
            buttons = [
                b
                for row in (rec.message.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
            ]
        labels = [b.get("text") for b in buttons]
        matches = [b for b in buttons if b.get("text") == text]
        if not matches:
            matches = [b for b in buttons if text in (b.get("text") or "")]
        if len(matches) != 1:
            why = "no button" if not matches else f"{len(matches)} buttons"
            raise AssertionError(
                f"{why} matching {text!r} on message {message_id} in chat {chat_id}; "
                f"buttons: {labels}"
            )
        button = matches[0]
        if "callback_data" not in button:
            raise AssertionError(f"button {button.get('text')!r} has no callback_data: {button}")
        return self.press_button(user_id, chat_id, message_id, button["callback_data"])

    def callback_answer(self, query_id: str) -> dict | None:
        """What ``answerCallbackQuery`` said for this query (None if not answered yet)."""
        with self._lock:
            return copy.deepcopy(self._callbacks.get(query_id))

    # ---------------------------------------------------------------- test-side inspection

    def transcript(self, chat_id: int, *, include_deleted: bool = False) -> list[dict]:
        """All messages of a chat in order, user's and bot's, in their current state."""
        with self._lock:
            return [
                self._view(rec)
                for rec in self._messages.get(chat_id, [])
                if include_deleted or not rec.deleted
            ]

    def bot_messages(self, chat_id: int) -> list[dict]:
        return [m for m in self.transcript(chat_id) if m["from_bot"]]

    def last_bot_message(self, chat_id: int) -> dict | None:
        msgs = self.bot_messages(chat_id)
        return msgs[-1] if msgs else None

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """The transcript view of one message (also if deleted), or None."""
        with self._lock:
            rec = self._index.get((chat_id, message_id))
            return self._view(rec) if rec else None

    def reply_keyboard(self, chat_id: int) -> dict | None:
        """The reply keyboard the bot currently shows in a chat (None if removed/never)."""
        with self._lock:
            return copy.deepcopy(self._reply_keyboards.get(chat_id))

    def pinned(self, chat_id: int) -> list[int]:
        with self._lock:
            return list(self._pinned.get(chat_id, []))

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id]["data"]

    def my_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get((_scope_key(scope), language_code or ""), []))

    def left_chats(self) -> list[int]:
        with self._lock:
            return list(self._left)

    def calls(self, method: str) -> list[dict]:
        """Params of every call of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        with self._lock:
            return [p for _, m, p in self.requests if m.lower() == wanted]

    @property
    def version(self) -> int:
        """Grows with every visible change (see :meth:`wait_change`)."""
        with self._lock:
            return self._version

    def chat_versions(self) -> dict[int, int]:
        """``{chat_id: version of its last change}`` for every chat that has changed."""
        with self._lock:
            return dict(self._chat_versions)

    def wait_change(self, since: int, timeout: float) -> int:
        """Block until :attr:`version` differs from ``since`` (or ``timeout`` seconds pass,
        or the emulator stops); returns the current version. Thread-safe."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != since or self._stopping, timeout)
            return self._version

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by the bot (``getUpdates`` offset)."""
        with self._lock:
            return len(self._updates)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005
    ) -> Any:
        """Poll ``predicate()`` until truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(predicate, timeout, value))
            time.sleep(interval)

    async def until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors wait_for()
        interval: float = 0.005,
    ) -> Any:
        """Async :meth:`wait_for` for tests sharing the bot's event loop.

        ``predicate`` may also return an awaitable, which is awaited.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if isinstance(value, Awaitable):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(predicate, timeout, value))
            await asyncio.sleep(interval)

    def _timeout_message(self, predicate: Callable[[], Any], timeout: float, value: Any) -> str:
        name = getattr(predicate, "__qualname__", repr(predicate))
        with self._lock:
            recent = [m for _, m, _ in list(self.requests)[-8:]]
            pending = len(self._updates)
            errors = [f"{e['method']}: {e['description']}" for e in self.api_errors[-3:]]
            internal = [e["error"] for e in self.internal_errors[-3:]]
        return (
            f"{name} still {value!r} after {timeout}s; pending updates: {pending}; "
            f"recent calls: {recent}; recent API errors: {errors}; internal errors: {internal}"
        )

    # ---------------------------------------------------------------- internals: storage

    def _view(self, rec: _Record, *, with_history: bool = True) -> dict:
        msg = rec.message
        reply = msg.get("reply_to_message")
        view: dict[str, Any] = {
            "message_id": rec.message_id,
            "chat_id": rec.chat_id,
            "from_bot": rec.from_bot,
            "from_id": (msg.get("from") or {}).get("id"),
            "kind": rec.kind,
            "text": rec.text,
            "raw_text": rec.raw_text,
            "parse_mode": rec.parse_mode,
            "entities": copy.deepcopy(msg.get("entities") or msg.get("caption_entities") or []),
            "reply_markup": copy.deepcopy(rec.markup),
            "location": copy.deepcopy(msg.get("location")),
            "venue": copy.deepcopy(msg.get("venue")),
            "photo": copy.deepcopy(msg.get("photo")),
            "document": copy.deepcopy(msg.get("document")),
            "voice": copy.deepcopy(msg.get("voice")),
            "video": copy.deepcopy(msg.get("video")),
            "sticker": copy.deepcopy(msg.get("sticker")),
            "contact": copy.deepcopy(msg.get("contact")),
            "caption": msg.get("caption"),
            "reply_to_message_id": reply.get("message_id") if reply else None,
            "media_group_id": msg.get("media_group_id"),
            "date": msg["date"],
            "edit_date": msg.get("edit_date"),
            "deleted": rec.deleted,
            "reactions": copy.deepcopy(rec.reactions),
            "message": copy.deepcopy(msg),
        }
        if with_history:
            view["edits"] = copy.deepcopy(rec.edits)
        return view

    def _take_message_id(self, chat_id: int) -> int:
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    def _store(self, rec: _Record) -> _Record:
        self._messages.setdefault(rec.chat_id, []).append(rec)
        self._index[(rec.chat_id, rec.message_id)] = rec
        self._changed(rec.chat_id)
        return rec

    def _changed(self, chat_id: int | None) -> None:
        """Record a visible change (call with the lock held) and wake :meth:`wait_change`."""
        with self._cond:
            self._version += 1
            if chat_id is not None:
                self._chat_versions[chat_id] = self._version
            self._cond.notify_all()

    def _queue(self, body: dict) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **body})
        self._cond.notify_all()
        return update_id

    def _user_post(
        self,
        user_id: int,
        chat_id: int | None,
        reply_to: int | None,
        content: dict,
        kind: str,
        text: str | None = None,
    ) -> dict:
        with self._cond:
            user = self._users.get(user_id)
            if user is None:
                raise KeyError(f"unknown user {user_id}; call add_user() first")
            if chat_id is None or chat_id == user_id:
                chat = self._chats.get(user_id)
                if chat is None:
                    chat = self._chats[user_id] = self._private_chat(user)
                self._blocked.discard(user_id)  # writing to the bot unblocks it
            else:
                chat = self._chats.get(chat_id)
                if chat is None:
                    raise KeyError(f"unknown chat {chat_id}; call add_group() first")
            cid = chat["id"]
            msg: dict[str, Any] = {
                "message_id": self._take_message_id(cid),
                "from": copy.deepcopy(user),
                "chat": copy.deepcopy(chat),
                "date": int(time.time()),
            }
            if reply_to is not None:
                target = self._index.get((cid, reply_to))
                if target is None:
                    raise KeyError(f"message {reply_to} not found in chat {cid}")
                msg["reply_to_message"] = _snapshot(target.message)
            msg.update(copy.deepcopy(content))
            rec = self._store(
                _Record(
                    message=msg,
                    from_bot=False,
                    kind=kind,
                    raw_text=text,
                    text=text,
                    parse_mode=None,
                    markup=None,
                )
            )
            if cid not in self._left:
                self._queue({"message": copy.deepcopy(msg)})
            return self._view(rec)

    def _new_file_ids(self, kind: str) -> tuple[int, str, str]:
        self._file_counter += 1
        n = self._file_counter
        prefix = _KIND_DIRS[kind][1]
        return n, f"{prefix}{n:07d}", f"AQAD{n:06d}"

    def _store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime: str | None = None
    ) -> dict:
        n, file_id, unique_id = self._new_file_ids(kind)
        ext = _KIND_EXT.get(kind)
        if kind == "photo" and data[:4] == b"\x89PNG":
            ext = "png"
        if kind == "document":
            ext = None
            if file_name and "." in file_name:
                ext = file_name.rsplit(".", 1)[1][:10]
            elif mime:
                ext = (mimetypes.guess_extension(mime) or "").lstrip(".") or None
        directory = _KIND_DIRS[kind][0]
        path = f"{directory}/file_{n}.{ext}" if ext else f"{directory}/file_{n}"
        entry = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_path": path,
            "file_size": len(data),
            "data": bytes(data),
            "type": kind,
            "object": None,
        }
        self._files[file_id] = entry
        self._file_paths[path] = file_id
        return entry

    @staticmethod
    def _file_ref(entry: dict) -> dict:
        return {
            "file_id": entry["file_id"],
            "file_unique_id": entry["file_unique_id"],
            "file_size": entry["file_size"],
        }

    def _store_photo(self, data: bytes) -> list[dict]:
        """Store a photo as two PhotoSize entries (thumbnail, full) sharing the bytes."""
        w, h = _image_size(data) or (1280, 960)
        tw, th = _scaled(w, h, 90)
        sizes = []
        for width, height in ((tw, th), (w, h)):
            entry = self._store_file("photo", data)
            sizes.append({**self._file_ref(entry), "width": width, "height": height})
        for size in sizes:
            self._files[size["file_id"]]["object"] = sizes
        return copy.deepcopy(sizes)

    # ---------------------------------------------------------------- internals: HTTP entry

    def _record_internal_error(self, method: str, exc: BaseException | None) -> None:
        with self._lock:
            self.internal_errors.append({"method": method, "error": repr(exc)})

    def _handle_api(
        self,
        token: str,
        method: str,
        params: dict,
        uploads: dict[str, _Upload],
        *,
        peer_gone: Callable[[], bool] | None = None,
    ) -> tuple[int, dict]:
        if token != self.token:
            return 401, dict(_UNAUTHORIZED)
        known = self._methods.get(method.lower())
        name = known[0] if known else method
        logged = dict(params)
        for key, up in uploads.items():
            logged[key] = {
                "upload": up.filename,
                "content_type": up.content_type,
                "size": len(up.data),
            }
        with self._lock:
            self.requests.append((time.monotonic(), name, logged))
        hook = self.fault
        if hook is not None:
            injected = hook(name, logged)
            if injected is not None:
                status, body = injected
                if status != 200 or not body.get("ok", False):
                    self._record_api_error(name, logged, status, body.get("description", ""))
                return status, body
        if known is None:
            self._record_api_error(name, logged, 404, "Not Found")
            return 404, dict(_NOT_FOUND)
        try:
            with self._cond:
                result = known[1](params, uploads)
        except ApiError as err:
            # An error nobody will read (the client hung up, e.g. a cancelled long poll that
            # was then terminated by a newer getUpdates) is not worth reporting.
            if peer_gone is None or not peer_gone():
                self._record_api_error(name, logged, err.status, err.description)
            return err.status, err.body()
        except Exception as exc:
            self._record_internal_error(name, exc)
            return 500, {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
        return 200, {"ok": True, "result": result}

    def _record_api_error(self, method: str, params: dict, status: int, desc: str) -> None:
        with self._lock:
            self.api_errors.append(
                {"method": method, "params": params, "status": status, "description": desc}
            )

    def _download(self, token: str, path: str) -> tuple[int, bytes | dict]:
        if token != self.token:
            return 401, dict(_UNAUTHORIZED)
        with self._lock:
            file_id = self._file_paths.get(path)
            if file_id is None:
                return 404, dict(_NOT_FOUND)
            return 200, self._files[file_id]["data"]

    # ---------------------------------------------------------------- internals: validation

    def _resolve_chat_id(self, chat_id: Any) -> int:
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, bool):
            raise _bad("chat not found")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str):
            if _INT_RE.fullmatch(chat_id):
                return int(chat_id)
            if chat_id.startswith("@"):
                uname = chat_id[1:].lower()
                for cid, chat in self._chats.items():
                    if (chat.get("username") or "").lower() == uname:
                        return cid
        raise _bad("chat not found")

    def _chat(self, chat_id: Any, *, for_write: bool = True) -> dict:
        cid = self._resolve_chat_id(chat_id)
        if cid in self._migrated:
            raise _bad(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[cid]},
            )
        chat = self._chats.get(cid)
        if chat is None:
            if cid in self._users:
                raise _forbidden("bot can't initiate conversation with a user")
            raise _bad("chat not found")
        if for_write:
            if chat["type"] == "private" and cid in self._blocked:
                raise _forbidden("bot was blocked by the user")
            if cid in self._left:
                raise _forbidden(f"bot is not a member of the {chat['type']} chat")
        return chat

    def _format(
        self, raw: Any, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str | None, list[dict]]:
        if raw is None:
            return None, []
        raw = str(raw)
        mode = str(parse_mode or "").lower()
        if mode == "html":
            try:
                plain, ents = parse_html(raw)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif mode in ("markdown", "markdownv2"):
            plain, ents = raw, []
        elif mode == "":
            plain = raw
            ents = list(entities) if isinstance(entities, list) else []
        else:
            raise _bad(f"unsupported parse_mode {parse_mode}")
        if caption:
            if _u16(plain) > CAPTION_LIMIT:
                raise _bad("message caption is too long")
        else:
            if not plain.strip():
                raise _bad("message text is empty")
            if _u16(plain) > TEXT_LIMIT:
                raise _bad("message is too long")
        return plain, ents

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        if markup is None:
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "inline_keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad("can't parse inline keyboard button: Text must be a String")
                    actions = _INLINE_ACTIONS & button.keys()
                    if not actions:
                        raise _bad(
                            "can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = button["callback_data"]
                        if not isinstance(data, str) or not (
                            1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT
                        ):
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                        raise _bad("BUTTON_URL_INVALID")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if not (
                        isinstance(button, str)
                        or (isinstance(button, dict) and isinstance(button.get("text"), str))
                    ):
                        raise _bad("can't parse keyboard button: Text must be a String")
        elif not ("remove_keyboard" in markup or "force_reply" in markup):
            raise _bad("can't parse reply keyboard markup JSON object")
        return markup

    def _reply_snapshot(self, cid: int, params: dict) -> dict | None:
        rp = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply", False))
        mid = None
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow = bool(rp.get("allow_sending_without_reply", allow))
            other = rp.get("chat_id")
            if other is not None and self._resolve_chat_id(other) != cid:
                return None  # cross-chat replies are not emulated
        elif params.get("reply_to_message_id") is not None:
            mid = params["reply_to_message_id"]
        if mid is None:
            return None
        try:
            rec = self._index.get((cid, int(mid)))
        except (TypeError, ValueError):
            rec = None
        if rec is None or rec.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return _snapshot(rec.message)

    def _post_bot_message(
        self,
        chat: dict,
        params: dict,
        kind: str,
        content: dict,
        raw: str | None,
        plain: str | None,
        *,
        markup: dict | None = None,
        reply: dict | None = None,
        extra: dict | None = None,
    ) -> dict:
        cid = chat["id"]
        msg: dict[str, Any] = {
            "message_id": self._take_message_id(cid),
            "from": dict(self.bot_user),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        if extra:
            msg.update(extra)
        if reply is not None:
            msg["reply_to_message"] = reply
        msg.update(content)
        if markup is not None and "inline_keyboard" in markup:
            msg["reply_markup"] = copy.deepcopy(markup)
        if markup is not None:
            if "keyboard" in markup:
                self._reply_keyboards[cid] = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                self._reply_keyboards.pop(cid, None)
        self._store(
            _Record(
                message=msg,
                from_bot=True,
                kind=kind,
                raw_text=raw,
                text=plain,
                parse_mode=params.get("parse_mode"),
                markup=copy.deepcopy(markup),
            )
        )
        return copy.deepcopy(msg)

    def _prepare(self, params: dict) -> tuple[dict, dict | None, dict | None]:
        """Common checks of every send: chat, reply markup, reply target."""
        chat = self._chat(params.get("chat_id"))
        markup = self._check_markup(params.get("reply_markup"))
        reply = self._reply_snapshot(chat["id"], params)
        return chat, markup, reply

    def _input_file(
        self, params: dict, uploads: dict[str, _Upload], field_name: str, kind: str
    ) -> tuple[dict | None, _Upload | None]:
        """Resolve a file parameter: ``(stored entry, None)`` for a file_id, ``(None, upload)``
        for new content (multipart upload, ``attach://name`` or an HTTP URL)."""
        value = params.get(field_name)
        upload = uploads.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"file {value} not found in the request")
        if upload is not None:
            if kind == "photo" and _image_size(upload.data) is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            return None, upload
        if isinstance(value, str) and value:
            if re.match(r"^https?://", value):
                # The emulator cannot fetch URLs: accept them as empty files.
                name = value.rsplit("/", 1)[-1] or "file"
                return None, _Upload(filename=name, content_type="", data=b"")
            entry = self._files.get(value)
            if entry is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if entry["type"] != kind:
                raise _bad("type of file mismatch")
            return entry, None
        raise _bad(f"there is no {field_name} in the request")

    def _media_content(
        self, kind: str, entry: dict | None, upload: _Upload | None, params: dict
    ) -> dict:
        """The Telegram object (photo sizes, Document, Voice, Video...) for a file parameter."""
        if upload is None:
            assert entry is not None
            if entry.get("object") is None:
                entry["object"] = self._describe_file(kind, entry, None, None, params)
            return {kind: copy.deepcopy(entry["object"])}
        if kind == "photo":
            return {"photo": self._store_photo(upload.data)}
        mime = upload.content_type or None
        entry = self._store_file(kind, upload.data, file_name=upload.filename, mime=mime)
        entry["object"] = self._describe_file(kind, entry, upload.filename, mime, params)
        return {kind: copy.deepcopy(entry["object"])}

    def _describe_file(
        self, kind: str, entry: dict, file_name: str | None, mime: str | None, params: dict
    ) -> Any:
        ref = self._file_ref(entry)
        obj: dict[str, Any]
        if kind == "photo":
            w, h = _image_size(entry["data"]) or (1280, 960)
            return [{**ref, "width": w, "height": h}]
        if kind == "document":
            obj = {}
            if file_name:
                obj["file_name"] = file_name
            obj["mime_type"] = mime or "application/octet-stream"
            obj.update(ref)
        elif kind == "voice":
            obj = {"duration": int(params.get("duration") or 0), "mime_type": "audio/ogg", **ref}
        elif kind == "video":
            obj = {
                "width": int(params.get("width") or 640),
                "height": int(params.get("height") or 360),
                "duration": int(params.get("duration") or 0),
            }
            if file_name:
                obj["file_name"] = file_name
            obj.update(mime_type=mime or "video/mp4", **ref)
        elif kind == "sticker":
            obj = {
                "width": 512,
                "height": 512,
                "emoji": "🙂",
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                **ref,
            }
        else:  # audio
            obj = {"duration": int(params.get("duration") or 0), **ref}
            if file_name:
                obj["file_name"] = file_name
            if mime:
                obj["mime_type"] = mime
        return obj

    # ---------------------------------------------------------------- Bot API: basics

    def _api_getMe(self, params: dict, uploads: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_close(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setWebhook(self, params: dict, uploads: dict) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_deleteWebhook(self, params: dict, uploads: dict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict, uploads: dict) -> dict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_getUpdates(self, params: dict, uploads: dict) -> list[dict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        if offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        elif offset > 0:
            self._updates[:] = [u for u in self._updates if _update_id(u) >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # terminates an older waiting getUpdates
        deadline = time.monotonic() + timeout
        while True:
            if self._allowed_updates is not None:
                self._updates[:] = [
                    u for u in self._updates if _update_type(u) in self._allowed_updates
                ]
            if self._updates or self._stopping:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
        return copy.deepcopy(self._updates[:limit])

    # ---------------------------------------------------------------- Bot API: commands

    def _api_setMyCommands(self, params: dict, uploads: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        clean = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad("BOT_COMMAND_INVALID")
            name = str(cmd.get("command", ""))
            desc = str(cmd.get("description", ""))
            if not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = clean
        return True

    def _api_getMyCommands(self, params: dict, uploads: dict) -> list[dict]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: dict, uploads: dict) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _api_setMyDescription(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setMyShortDescription(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setMyName(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setChatMenuButton(self, params: dict, uploads: dict) -> bool:
        return True

    # ---------------------------------------------------------------- Bot API: sending

    def _api_sendMessage(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        raw = params.get("text")
        if raw is None or raw == "":
            raise _bad("message text is empty")
        plain, ents = self._format(
            raw, params.get("parse_mode"), params.get("entities"), caption=False
        )
        _, markup, reply = self._prepare(params)
        content: dict[str, Any] = {"text": plain}
        if ents:
            content["entities"] = ents
        return self._post_bot_message(
            chat, params, "text", content, str(raw), plain, markup=markup, reply=reply
        )

    def _location_param(self, params: dict) -> dict:
        try:
            lat = float(params["latitude"])
            lon = float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _bad("latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("wrong location specified")
        return {"latitude": lat, "longitude": lon}

    def _api_sendLocation(self, params: dict, uploads: dict) -> dict:
        chat, markup, reply = self._prepare(params)
        location = self._location_param(params)
        if params.get("live_period") is not None:
            location["live_period"] = int(params["live_period"])
        return self._post_bot_message(
            chat,
            params,
            "location",
            {"location": location},
            None,
            None,
            markup=markup,
            reply=reply,
        )

    def _api_sendVenue(self, params: dict, uploads: dict) -> dict:
        chat, markup, reply = self._prepare(params)
        location = self._location_param(params)
        title, address = params.get("title"), params.get("address")
        if not title or not address:
            raise _bad("venue title and address must be non-empty")
        venue: dict[str, Any] = {
            "location": dict(location),
            "title": str(title),
            "address": str(address),
        }
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if params.get(key):
                venue[key] = params[key]
        return self._post_bot_message(
            chat,
            params,
            "venue",
            {"location": location, "venue": venue},
            None,
            None,
            markup=markup,
            reply=reply,
        )

    def _send_media(self, params: dict, uploads: dict, kind: str) -> dict:
        chat, markup, reply = self._prepare(params)
        raw_caption = params.get("caption")
        caption, ents = self._format(
            raw_caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        entry, upload = self._input_file(params, uploads, kind, kind)
        content = self._media_content(kind, entry, upload, params)
        if caption:
            content["caption"] = caption
            if ents:
                content["caption_entities"] = ents
        return self._post_bot_message(
            chat,
            params,
            kind,
            content,
            str(raw_caption) if caption else None,
            caption or None,
            markup=markup,
            reply=reply,
        )

    def _api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "photo")

    def _api_sendDocument(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "document")

    def _api_sendVoice(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "voice")

    def _api_sendVideo(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "video")

    def _api_sendSticker(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "sticker")

    def _api_sendMediaGroup(self, params: dict, uploads: dict) -> list[dict]:
        chat, _, reply = self._prepare({**params, "reply_markup": None})
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media: an album must contain 2-10 items")
        prepared = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in (
                "photo",
                "video",
                "document",
                "audio",
            ):
                raise _bad("unsupported media type in the album")
            kind = item["type"]
            caption, ents = self._format(
                item.get("caption"),
                item.get("parse_mode"),
                item.get("caption_entities"),
                caption=True,
            )
            prepared.append((kind, item, caption, ents))
        self._media_group_counter += 1
        group_id = str(13_000_000_000_000_000 + self._media_group_counter)
        out = []
        for kind, item, caption, ents in prepared:
            entry, upload = self._input_file({kind: item.get("media")}, uploads, kind, kind)
            content = self._media_content(kind, entry, upload, item)
            if caption:
                content["caption"] = caption
                if ents:
                    content["caption_entities"] = ents
            out.append(
                self._post_bot_message(
                    chat,
                    item,
                    kind,
                    content,
                    str(item.get("caption")) if caption else None,
                    caption or None,
                    reply=reply,
                    extra={"media_group_id": group_id},
                )
            )
        return out

    def _api_sendChatAction(self, params: dict, uploads: dict) -> bool:
        self._chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _source_record(self, params: dict) -> _Record:
        from_cid = self._resolve_chat_id(params.get("from_chat_id"))
        if from_cid not in self._chats:
            raise _bad("chat not found")
        try:
            rec = self._index.get((from_cid, int(params.get("message_id"))))
        except (TypeError, ValueError):
            rec = None
        if rec is None or rec.deleted:
            raise _bad("message to copy not found")
        return rec

    def _api_copyMessage(self, params: dict, uploads: dict) -> dict:
        chat, markup, reply = self._prepare(params)
        src = self._source_record(params)
        content = {k: copy.deepcopy(v) for k, v in src.message.items() if k in _CONTENT_KEYS}
        raw, plain = src.raw_text, src.text
        if "caption" in params and src.kind not in ("text", "location", "venue"):
            plain, ents = self._format(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            raw = params.get("caption")
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if plain:
                content["caption"] = plain
                if ents:
                    content["caption_entities"] = ents
        msg = self._post_bot_message(
            chat, params, src.kind, content, raw, plain, markup=markup, reply=reply
        )
        return {"message_id": msg["message_id"]}

    def _api_forwardMessage(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        src = self._source_record(params)
        content = {k: copy.deepcopy(v) for k, v in src.message.items() if k in _CONTENT_KEYS}
        origin = {
            "type": "user",
            "sender_user": copy.deepcopy(src.message.get("from") or self.bot_user),
            "date": src.message["date"],
        }
        return self._post_bot_message(
            chat,
            params,
            src.kind,
            content,
            src.raw_text,
            src.text,
            extra={"forward_origin": origin},
        )

    # ---------------------------------------------------------------- Bot API: editing

    def _rec_for(self, params: dict, missing: str) -> _Record:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat(params.get("chat_id"))
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        try:
            rec = self._index.get((chat["id"], int(params["message_id"])))
        except (TypeError, ValueError):
            rec = None
        if rec is None or rec.deleted:
            raise _bad(missing)
        return rec

    def _apply_edit(
        self,
        rec: _Record,
        *,
        field_name: str,
        plain: str | None,
        ents: list[dict],
        raw: str | None,
        parse_mode: Any,
        markup: dict | None,
        text_changed: bool,
    ) -> dict:
        rec.edits.append(self._view(rec, with_history=False))
        msg = rec.message
        if text_changed:
            ent_key = "entities" if field_name == "text" else "caption_entities"
            if plain:
                msg[field_name] = plain
            else:
                msg.pop(field_name, None)
            if ents:
                msg[ent_key] = ents
            else:
                msg.pop(ent_key, None)
            msg["edit_date"] = int(time.time())
            rec.raw_text, rec.text, rec.parse_mode = raw, plain, parse_mode
        if markup is not None and "inline_keyboard" in markup:
            msg["reply_markup"] = copy.deepcopy(markup)
        else:
            msg.pop("reply_markup", None)
        rec.markup = copy.deepcopy(markup)
        self._changed(rec.chat_id)
        return copy.deepcopy(msg)

    def _api_editMessageText(self, params: dict, uploads: dict) -> dict:
        rec = self._rec_for(params, "message to edit not found")
        if not rec.from_bot:
            raise _bad("message can't be edited")
        if "text" not in rec.message:
            raise _bad("there is no text in the message to edit")
        raw = params.get("text")
        if raw is None or raw == "":
            raise _bad("message text is empty")
        plain, ents = self._format(
            raw, params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        old = rec.message
        if (
            plain == old.get("text")
            and ents == (old.get("entities") or [])
            and markup == old.get("reply_markup")
        ):
            raise _bad(_NOT_MODIFIED)
        return self._apply_edit(
            rec,
            field_name="text",
            plain=plain,
            ents=ents,
            raw=str(raw),
            parse_mode=params.get("parse_mode"),
            markup=markup,
            text_changed=True,
        )

    def _api_editMessageCaption(self, params: dict, uploads: dict) -> dict:
        rec = self._rec_for(params, "message to edit not found")
        if not rec.from_bot:
            raise _bad("message can't be edited")
        if rec.kind in ("text", "location", "venue", "contact", "sticker"):
            raise _bad("there is no caption in the message to edit")
        raw = params.get("caption")
        plain, ents = self._format(
            raw, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        plain = plain or None
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        old = rec.message
        if (
            plain == old.get("caption")
            and ents == (old.get("caption_entities") or [])
            and markup == old.get("reply_markup")
        ):
            raise _bad(_NOT_MODIFIED)
        return self._apply_edit(
            rec,
            field_name="caption",
            plain=plain,
            ents=ents,
            raw=str(raw) if raw is not None else None,
            parse_mode=params.get("parse_mode"),
            markup=markup,
            text_changed=True,
        )

    def _api_editMessageReplyMarkup(self, params: dict, uploads: dict) -> dict:
        rec = self._rec_for(params, "message to edit not found")
        if not rec.from_bot:
            raise _bad("message can't be edited")
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if markup == rec.message.get("reply_markup"):
            raise _bad(_NOT_MODIFIED)
        return self._apply_edit(
            rec,
            field_name="text",
            plain=None,
            ents=[],
            raw=None,
            parse_mode=None,
            markup=markup,
            text_changed=False,
        )

    def _api_deleteMessage(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to delete not found")
        rec.deleted = True
        self._changed(rec.chat_id)
        return True

    def _api_deleteMessages(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must contain 1-100 identifiers")
        for mid in ids:
            rec = self._index.get((chat["id"], int(mid)))
            if rec is not None:
                rec.deleted = True
                self._changed(rec.chat_id)
        return True

    # ---------------------------------------------------------------- Bot API: the rest

    def _api_answerCallbackQuery(self, params: dict, uploads: dict) -> bool:
        qid = str(params.get("callback_query_id") or "")
        if qid not in self._callbacks or self._callbacks[qid] is not None:
            raise _bad(_QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._callbacks[qid] = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        self._changed(None)
        return True

    def _api_getFile(self, params: dict, uploads: dict) -> dict:
        entry = self._files.get(str(params.get("file_id") or ""))
        if entry is None:
            raise _bad("invalid file_id")
        if entry["file_size"] > DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        return {
            "file_id": entry["file_id"],
            "file_unique_id": entry["file_unique_id"],
            "file_size": entry["file_size"],
            "file_path": entry["file_path"],
        }

    def _api_getChat(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"), for_write=False)
        return {
            **copy.deepcopy(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getChatMember(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"), for_write=False)
        try:
            user_id = int(params.get("user_id"))
        except (TypeError, ValueError):
            raise _bad("user not found") from None
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        status = self._member_status.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"user": copy.deepcopy(user), "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    key: key in ("can_manage_chat", "can_delete_messages", "can_invite_users")
                    for key in (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    )
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _api_leaveChat(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad("chat member status can't be changed in private chats")
        self._left.append(chat["id"])
        return True

    def _api_setMessageReaction(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to react not found")
        reaction = params.get("reaction") or []
        rec.reactions = list(reaction) if isinstance(reaction, list) else []
        self._changed(rec.chat_id)
        return True

    def _api_pinChatMessage(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to pin not found")
        pins = self._pinned.setdefault(rec.chat_id, [])
        if rec.message_id in pins:
            pins.remove(rec.message_id)
        pins.append(rec.message_id)
        return True

    def _api_unpinChatMessage(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        pins = self._pinned.get(chat["id"], [])
        mid = params.get("message_id")
        if mid is None:
            if pins:
                pins.pop()
        elif int(mid) in pins:
            pins.remove(int(mid))
        return True

    def _api_unpinAllChatMessages(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        self._pinned.pop(chat["id"], None)
        return True


# --------------------------------------------------------------------------------------------
# Small helpers


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scope_key(scope: Any) -> str:
    if not scope:
        scope = {"type": "default"}
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            return scope
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def _snapshot(message: dict) -> dict:
    """A message as embedded in ``reply_to_message`` (no nested reply)."""
    snap = copy.deepcopy(message)
    snap.pop("reply_to_message", None)
    return snap


def _update_id(update: dict) -> int:
    uid = update.get("update_id")
    return uid if isinstance(uid, int) else 0


def _update_type(update: dict) -> str:
    return next((k for k in update if k != "update_id"), "")
