"""Reply markup as Telegram checks it: inline keyboards (button actions, ``callback_data`` of
1-64 bytes, button URLs), reply keyboards, keyboard removal and forced replies."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.sandbox.emulator.errors import bad

CALLBACK_DATA_LIMIT = 64

_INLINE_ACTIONS = frozenset(
    (
        "url callback_data web_app login_url switch_inline_query "
        "switch_inline_query_current_chat switch_inline_query_chosen_chat copy_text "
        "callback_game pay"
    ).split()
)


def check_markup(markup: Any) -> dict | None:
    """The markup as a dict (it may come as JSON text), or None; ApiError (400) if Telegram
    would refuse it."""
    if markup is None:
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup, "inline_keyboard"):
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad("can't parse inline keyboard button: Text must be a String")
                actions = _INLINE_ACTIONS & button.keys()
                if not actions:
                    raise bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not (
                        1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT
                    ):
                        raise bad("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                    raise bad("BUTTON_URL_INVALID")
    elif "keyboard" in markup:
        for row in _rows(markup, "keyboard"):
            for button in row:
                if not (
                    isinstance(button, str)
                    or (isinstance(button, dict) and isinstance(button.get("text"), str))
                ):
                    raise bad("can't parse keyboard button: Text must be a String")
    elif not ("remove_keyboard" in markup or "force_reply" in markup):
        raise bad("can't parse reply keyboard markup JSON object")
    return markup


def _rows(markup: dict, field: str) -> list[list]:
    rows = markup[field]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad(f'field "{field}" must be an Array of Arrays')
    return rows


def check_inline_markup(markup: Any) -> dict | None:
    """:func:`check_markup` for an edit, where only an inline keyboard (or none) may be given."""
    checked = check_markup(markup)
    if checked is not None and "inline_keyboard" not in checked:
        raise bad("inline keyboard expected")
    return checked
