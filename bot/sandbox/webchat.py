"""The demo's web chat without HTTP: what the page shows of a
:class:`~bot.sandbox.stage.Stage` (people, groups, chats as plain text plus entities — never
the bot's raw HTML) and what a person on the page may do (send, press a button).

``bot.sandbox.web`` serves it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from starlette.exceptions import HTTPException

from bot.geo.coords import haversine_m
from bot.geo.gazetteer import PLACES, Place
from bot.sandbox.assets import SAMPLE_PHOTO, static_bytes
from bot.sandbox.stage import Stage

MAX_TEXT = 4096
PRESS_TIMEOUT = 5.0


class RequestError(HTTPException):
    """A request the web chat refuses: answered ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


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
# The web chat: reading and acting for the page


class WebChat:
    """The page's API over a running :class:`~bot.sandbox.stage.Stage`, without HTTP.

    Each method answers one API call (a JSON-able dict) or raises :class:`RequestError`.
    """

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> dict[int, str]:
        return {p.user_id: p.name for p in self.stage.people}

    def snapshot(self) -> dict:
        emu = self.stage.emu
        version = emu.version
        return {
            "version": version,
            "chats": {str(k): v for k, v in emu.chat_versions().items()},
            "world": self.stage.revision,
        }

    def state(self) -> dict:
        stage = self.stage
        assert stage.config is not None
        config = stage.config
        on_duty = stage.on_duty()
        return {
            "bot": {"name": stage.emu.bot_user["first_name"], "username": stage.emu.bot_username},
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
                for p in stage.people
            ],
            "groups": [
                {"key": g.key, "name": g.name, "chat_id": g.chat_id, "title": g.title}
                for g in stage.groups
            ],
            "on_duty": on_duty,
            "status": stage.status,
            "report_url": stage.report_url,  # the web report form (issue 15)
            "world": stage.revision,
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
        emu = self.stage.emu
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
        return self.stage.person(chat_id) is not None or any(
            g.chat_id == chat_id for g in self.stage.groups
        )

    def _commands(self, chat_id: int) -> list[dict]:
        """The command menu Telegram would show in this chat (most specific scope first)."""
        emu = self.stage.emu
        person = self.stage.person(chat_id)
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
            data = self.stage.emu.file_bytes(file_id)
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
        if self.stage.person(user) is None:
            raise RequestError(403, f"nobody with id {user} in this demo")
        if chat != user and all(g.chat_id != chat for g in self.stage.groups):
            raise RequestError(403, f"{user} cannot write in chat {chat}")
        return user, chat

    def send(self, body: dict) -> dict:
        user, chat = self._actor(body)
        emu = self.stage.emu
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
            person = self.stage.person(user)
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
            return static_bytes(SAMPLE_PHOTO)
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
        emu = self.stage.emu
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
        answer = emu.wait_until(
            lambda: emu.callback_answer(query_id),
            PRESS_TIMEOUT,
            cancelled=self.stage.stopping.is_set,
        )
        return {"answered": answer is not None, "answer": answer}
