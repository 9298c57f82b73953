"""Sending messages: text, locations, venues, chat actions, copies, forwards, reactions."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.emulator.errors import bad
from bot.sandbox.emulator.formatting import caption_content, format_caption, format_text
from bot.sandbox.emulator.keyboards import check_markup
from bot.sandbox.emulator.world import Record, World

_CHAT_ACTIONS = frozenset(
    (
        "typing upload_photo record_video upload_video record_voice upload_voice "
        "upload_document choose_sticker find_location record_video_note upload_video_note"
    ).split()
)
#: The keys of a message that are its content (what a copy or a forward repeats).
CONTENT_KEYS = tuple(
    (
        "text entities caption caption_entities photo document voice video audio animation "
        "sticker location venue contact"
    ).split()
)


class MessagesApi(World):
    def _api_sendMessage(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad("message text is empty")
        plain, ents = format_text(
            raw, params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = check_markup(params.get("reply_markup"))
        reply = self._reply_snapshot(chat["id"], params)
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
            raise bad("latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad("wrong location specified")
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
            raise bad("venue title and address must be non-empty")
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

    def _api_sendChatAction(self, params: dict, uploads: dict) -> bool:
        self._chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _source_record(self, params: dict) -> Record:
        from_cid = self._resolve_chat_id(params.get("from_chat_id"))
        if from_cid not in self._chats:
            raise bad("chat not found")
        try:
            rec = self._index.get((from_cid, int(params.get("message_id"))))
        except (TypeError, ValueError):
            rec = None
        if rec is None or rec.deleted:
            raise bad("message to copy not found")
        return rec

    def _api_copyMessage(self, params: dict, uploads: dict) -> dict:
        chat, markup, reply = self._prepare(params)
        src = self._source_record(params)
        content = {k: copy.deepcopy(v) for k, v in src.message.items() if k in CONTENT_KEYS}
        raw, plain = src.raw_text, src.text
        if "caption" in params and src.kind not in ("text", "location", "venue"):
            raw, plain, ents = format_caption(params)
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(caption_content(plain, ents))
        msg = self._post_bot_message(
            chat, params, src.kind, content, raw, plain, markup=markup, reply=reply
        )
        return {"message_id": msg["message_id"]}

    def _api_forwardMessage(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        src = self._source_record(params)
        content = {k: copy.deepcopy(v) for k, v in src.message.items() if k in CONTENT_KEYS}
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

    def _api_setMessageReaction(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to react not found")
        reaction = params.get("reaction") or []
        rec.reactions = list(reaction) if isinstance(reaction, list) else []
        self._changed(rec.chat_id)
        return True
