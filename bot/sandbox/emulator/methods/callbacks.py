"""Answering the callback queries that presses of inline buttons send the bot."""

from __future__ import annotations

from bot.sandbox.emulator.errors import QUERY_INVALID, bad
from bot.sandbox.emulator.world import World


class CallbacksApi(World):
    def _api_answerCallbackQuery(self, params: dict, uploads: dict) -> bool:
        qid = str(params.get("callback_query_id") or "")
        if qid not in self._callbacks or self._callbacks[qid] is not None:
            raise bad(QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self._callbacks[qid] = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        self._changed(None)
        return True
