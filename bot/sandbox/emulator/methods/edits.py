"""Editing and deleting the bot's messages.

Editing the text or caption without ``reply_markup`` removes the inline keyboard; an edit that
changes nothing is a 400 (``message is not modified``); only the bot's own messages can be
edited. Every edit keeps the previous version in the message's history (``edits``).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.sandbox.emulator.errors import NOT_MODIFIED, bad
from bot.sandbox.emulator.formatting import format_text
from bot.sandbox.emulator.keyboards import check_inline_markup
from bot.sandbox.emulator.world import Record, World

_NO_CAPTION = ("text", "location", "venue", "contact", "sticker")


class EditsApi(World):
    def _api_editMessageText(self, params: dict, uploads: dict) -> dict:
        rec = self._own_message(params)
        if "text" not in rec.message:
            raise bad("there is no text in the message to edit")
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad("message text is empty")
        return self._edit_content(rec, params, "text", raw)

    def _api_editMessageCaption(self, params: dict, uploads: dict) -> dict:
        rec = self._own_message(params)
        if rec.kind in _NO_CAPTION:
            raise bad("there is no caption in the message to edit")
        return self._edit_content(rec, params, "caption", params.get("caption"))

    def _api_editMessageReplyMarkup(self, params: dict, uploads: dict) -> dict:
        rec = self._own_message(params)
        markup = check_inline_markup(params.get("reply_markup"))
        if markup == rec.message.get("reply_markup"):
            raise bad(NOT_MODIFIED)
        rec.edits.append(self._view(rec, with_history=False))
        return self._set_markup(rec, markup)

    def _api_deleteMessage(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to delete not found")
        rec.deleted = True
        self._changed(rec.chat_id)
        return True

    def _api_deleteMessages(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message_ids must contain 1-100 identifiers")
        for mid in ids:
            rec = self._index.get((chat["id"], int(mid)))
            if rec is not None:
                rec.deleted = True
                self._changed(rec.chat_id)
        return True

    # ---------------------------------------------------------------- helpers

    def _own_message(self, params: dict) -> Record:
        rec = self._rec_for(params, "message to edit not found")
        if not rec.from_bot:
            raise bad("message can't be edited")
        return rec

    def _edit_content(self, rec: Record, params: dict, field_name: str, raw: Any) -> dict:
        """Replace the text or the caption (``field_name``) and its entities, and the inline
        keyboard (removed when ``reply_markup`` is not given)."""
        caption = field_name == "caption"
        ent_key = "caption_entities" if caption else "entities"
        plain, ents = format_text(
            raw, params.get("parse_mode"), params.get(ent_key), caption=caption
        )
        plain = plain or None
        markup = check_inline_markup(params.get("reply_markup"))
        msg = rec.message
        if (
            plain == msg.get(field_name)
            and ents == (msg.get(ent_key) or [])
            and markup == msg.get("reply_markup")
        ):
            raise bad(NOT_MODIFIED)
        rec.edits.append(self._view(rec, with_history=False))
        for key, value in ((field_name, plain), (ent_key, ents)):
            if value:
                msg[key] = value
            else:
                msg.pop(key, None)
        msg["edit_date"] = int(time.time())
        rec.raw_text = str(raw) if raw is not None else None
        rec.text, rec.parse_mode = plain, params.get("parse_mode")
        return self._set_markup(rec, markup)

    def _set_markup(self, rec: Record, markup: dict | None) -> dict:
        if markup is not None:
            rec.message["reply_markup"] = copy.deepcopy(markup)
        else:
            rec.message.pop("reply_markup", None)
        rec.markup = copy.deepcopy(markup)
        self._changed(rec.chat_id)
        return copy.deepcopy(rec.message)
