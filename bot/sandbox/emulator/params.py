"""A Bot API request's parameters, decoded as Telegram does: from the query string and from a
JSON, urlencoded or ``multipart/form-data`` body (with file uploads)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.emulator.errors import bad
from bot.sandbox.httpd import Upload, parse_multipart

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
INT_RE = re.compile(r"-?\d+")


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
            if INT_RE.fullmatch(value):
                params[key] = int(value)
    return params


def parse_params(
    query: str, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """``(params, uploads)`` of a request; ApiError (400) for a body that cannot be read."""
    params: dict[str, Any] = {
        k: _coerce_form_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
    }
    uploads: dict[str, Upload] = {}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body.decode("utf-8"))
            except ValueError as exc:
                raise bad("can't parse JSON body") from exc
            if not isinstance(decoded, dict):
                raise bad("JSON body must be an object")
            params.update(_normalise_json_params(decoded))
        elif ctype == "multipart/form-data":
            try:
                fields, uploads = parse_multipart(body, content_type)
            except ValueError as exc:
                raise bad(str(exc)) from None
            params.update({k: _coerce_form_value(k, v) for k, v in fields.items()})
        else:  # application/x-www-form-urlencoded and anything else
            text = body.decode("utf-8", "replace")
            for k, v in parse_qsl(text, keep_blank_values=True):
                params[k] = _coerce_form_value(k, v)
    return params, uploads
