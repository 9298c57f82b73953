"""The emulator's world: the bot, users, chats, messages, files and queued updates, in memory.

:class:`World` holds all of the emulator's state under one lock (``_lock``; ``_cond`` on it
wakes long polls and watchers) and the rules every Bot API method shares: which chat the bot
may write to, how a message is stored and shown to tests, how a file is stored, how a change
is announced. The method groups (``methods/``), the test-side driver and the HTTP server are
subclasses that add behaviour, never state of their own.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.errors import bad, forbidden
from bot.sandbox.emulator.keyboards import check_markup
from bot.sandbox.emulator.media import KIND_DIRS, KIND_EXT, file_ref, image_size, scaled
from bot.sandbox.emulator.params import INT_RE

#: ``fault(method, params) -> (status, body) | None``: an answer to send instead (see
#: ``BotApiEmulator.fault``).
FaultHook = Callable[[str, dict], tuple[int, dict] | None]


@dataclass
class Record:
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


class World:
    """All the emulator's state, and the rules the Bot API methods share."""

    def __init__(self, token: str, *, bot_username: str) -> None:
        self.token = token
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
        self._stopping = False  # set once by stop(): long polls and watchers return

        self._users: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._blocked: set[int] = set()
        self._left: list[int] = []
        self._migrated: dict[int, int] = {}
        self._member_status: dict[tuple[int, int], str] = {}
        self._messages: dict[int, list[Record]] = {}
        self._index: dict[tuple[int, int], Record] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, dict] = {}
        self._pinned: dict[int, list[int]] = {}

        self._updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""
        self._webhook_secret = ""
        self._webhook_error: tuple[int, str] | None = None  # (unix time, message)
        self._webhook_thread: threading.Thread | None = None
        #: Every webhook delivery attempt: (update_id, HTTP status; 0 = not reachable).
        self.webhook_posts: list[tuple[int, int]] = []

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

    # ---------------------------------------------------------------- messages

    def _view(self, rec: Record, *, with_history: bool = True) -> dict:
        """A message as the test side sees it (``transcript``): its current state, what was
        sent (``raw_text``, ``parse_mode``), its keyboard and, with history, its ``edits``."""
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

    def _new_message(self, chat: dict, sender: dict) -> dict[str, Any]:
        """A new message of ``sender`` in ``chat``, with the chat's next message id, before its
        content (call with the lock held)."""
        message_id = self._next_message_id.get(chat["id"], 1)
        self._next_message_id[chat["id"]] = message_id + 1
        return {
            "message_id": message_id,
            "from": sender,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }

    def _store(self, rec: Record) -> Record:
        """Add a new message to its chat (call with the lock held)."""
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
        """Queue an update for the bot (call with the lock held); returns its ``update_id``."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **body})
        self._cond.notify_all()
        return update_id

    # ---------------------------------------------------------------- files

    def _new_file_ids(self, kind: str) -> tuple[int, str, str]:
        self._file_counter += 1
        n = self._file_counter
        prefix = KIND_DIRS[kind][1]
        return n, f"{prefix}{n:07d}", f"AQAD{n:06d}"

    def _store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime: str | None = None
    ) -> dict:
        n, file_id, unique_id = self._new_file_ids(kind)
        ext = KIND_EXT.get(kind)
        if kind == "photo" and data[:4] == b"\x89PNG":
            ext = "png"
        if kind == "document":
            ext = None
            if file_name and "." in file_name:
                ext = file_name.rsplit(".", 1)[1][:10]
            elif mime:
                ext = (mimetypes.guess_extension(mime) or "").lstrip(".") or None
        directory = KIND_DIRS[kind][0]
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

    def _store_photo(self, data: bytes) -> list[dict]:
        """Store a photo as two PhotoSize entries (thumbnail, full) sharing the bytes."""
        w, h = image_size(data) or (1280, 960)
        tw, th = scaled(w, h, 90)
        sizes = []
        for width, height in ((tw, th), (w, h)):
            entry = self._store_file("photo", data)
            sizes.append({**file_ref(entry), "width": width, "height": height})
        for size in sizes:
            self._files[size["file_id"]]["object"] = sizes
        return copy.deepcopy(sizes)

    # ---------------------------------------------------------------- the bot's side

    def _resolve_chat_id(self, chat_id: Any) -> int:
        """A ``chat_id`` parameter (number, numeric text or ``@username``) as a chat id."""
        if chat_id is None or chat_id == "":
            raise bad("chat_id is empty")
        if isinstance(chat_id, bool):
            raise bad("chat not found")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str):
            if INT_RE.fullmatch(chat_id):
                return int(chat_id)
            if chat_id.startswith("@"):
                uname = chat_id[1:].lower()
                for cid, chat in self._chats.items():
                    if (chat.get("username") or "").lower() == uname:
                        return cid
        raise bad("chat not found")

    def _chat(self, chat_id: Any, *, for_write: bool = True) -> dict:
        """The chat a method names, if the bot may use it (``for_write``: post to it)."""
        cid = self._resolve_chat_id(chat_id)
        if cid in self._migrated:
            raise bad(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[cid]},
            )
        chat = self._chats.get(cid)
        if chat is None:
            if cid in self._users:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad("chat not found")
        if for_write:
            if chat["type"] == "private" and cid in self._blocked:
                raise forbidden("bot was blocked by the user")
            if cid in self._left:
                raise forbidden(f"bot is not a member of the {chat['type']} chat")
        return chat

    def _rec_for(self, params: dict, missing: str) -> Record:
        """The message that ``chat_id`` + ``message_id`` name; 400 ``missing`` if there is none."""
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        chat = self._chat(params.get("chat_id"))
        if params.get("message_id") is None:
            raise bad("message identifier is not specified")
        try:
            rec = self._index.get((chat["id"], int(params["message_id"])))
        except (TypeError, ValueError):
            rec = None
        if rec is None or rec.deleted:
            raise bad(missing)
        return rec

    def _reply_snapshot(self, cid: int, params: dict) -> dict | None:
        """The ``reply_to_message`` of a send (``reply_parameters`` or ``reply_to_message_id``)."""
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
            raise bad("message to be replied not found")
        return snapshot(rec.message)

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
        """Store a message of the bot's in ``chat``; a reply keyboard in ``markup`` becomes the
        chat's (until removed). Returns the Message as the Bot API answers it."""
        cid = chat["id"]
        msg = self._new_message(chat, dict(self.bot_user))
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
            Record(
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
        markup = check_markup(params.get("reply_markup"))
        reply = self._reply_snapshot(chat["id"], params)
        return chat, markup, reply


def snapshot(message: dict) -> dict:
    """A message as embedded in ``reply_to_message`` (no nested reply)."""
    snap = copy.deepcopy(message)
    snap.pop("reply_to_message", None)
    return snap


def scope_key(scope: Any) -> str:
    """A ``BotCommandScope`` (dict or JSON text; None is the default scope) as a stable key."""
    if not scope:
        scope = {"type": "default"}
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            return scope
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))
