"""The test side, acting: build the world (users, groups, blocks, migrations, member
statuses) and play its users — they send texts, locations, venues, photos, files, contacts and
raw updates, and press inline buttons. Each act is queued as an update for the bot.

Like Telegram, the bot cannot write first to a user: a private chat exists once the user has
sent something (or ``add_user(..., started=True)``); before that the bot gets 403.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.sandbox.emulator.formatting import u16
from bot.sandbox.emulator.media import (
    DEFAULT_STICKER,
    DEFAULT_VIDEO,
    DEFAULT_VOICE,
    TINY_JPEG,
    describe_file,
)
from bot.sandbox.emulator.world import Record, World, snapshot


class Driver(World):
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
        """The private chat with ``user``, as Telegram describes it."""
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
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": u16(token)}]
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
        return self._send_file(
            user_id,
            chat_id,
            reply_to,
            "document",
            data,
            caption,
            file_name=file_name,
            mime=mime_type,
        )

    def send_voice(
        self,
        user_id: int,
        data: bytes = DEFAULT_VOICE,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        duration: int = 3,
    ) -> dict:
        return self._send_file(user_id, chat_id, reply_to, "voice", data, duration=duration)

    def send_video(
        self,
        user_id: int,
        data: bytes = DEFAULT_VIDEO,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        duration: int = 3,
    ) -> dict:
        return self._send_file(user_id, chat_id, reply_to, "video", data, duration=duration)

    def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> dict:
        return self._send_file(user_id, chat_id, None, "sticker", DEFAULT_STICKER)

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

    # ---------------------------------------------------------------- internals

    def _send_file(
        self,
        user_id: int,
        chat_id: int | None,
        reply_to: int | None,
        kind: str,
        data: bytes,
        caption: str | None = None,
        *,
        file_name: str | None = None,
        mime: str | None = None,
        **params: Any,
    ) -> dict:
        """The user sends a file of ``kind`` (``params``: its duration, width, height)."""
        with self._lock:
            entry = self._store_file(kind, data, file_name=file_name)
            entry["object"] = describe_file(kind, entry, file_name, mime, params)
            content: dict[str, Any] = {kind: entry["object"]}
        if caption is not None:
            content["caption"] = caption
        return self._user_post(user_id, chat_id, reply_to, content, kind, caption)

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
            msg = self._new_message(chat, copy.deepcopy(user))
            if reply_to is not None:
                target = self._index.get((cid, reply_to))
                if target is None:
                    raise KeyError(f"message {reply_to} not found in chat {cid}")
                msg["reply_to_message"] = snapshot(target.message)
            msg.update(copy.deepcopy(content))
            rec = self._store(
                Record(
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
