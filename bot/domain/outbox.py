"""The outbox's messages as values, and the one codec between them and the stored JSON. Pure.

Services queue a :class:`CardPost`, a :class:`CardEdit` or a :class:`Notice` (bot/services/
notify.py); bot/jobs/outbox.py decodes and sends it; bot/views renders it, in the reader's
language, when it is sent. A notice's text is data — catalog keys and their values — never
text a service rendered:

* :class:`Msg` — a catalog message: its key and its values (a value is a plain string or
  number, escaped when rendered, or again a :class:`Msg`, a :class:`Mention` or a
  :class:`Listing`);
* :class:`Lines` — texts one under another (``gap``: with a blank line between);
* :class:`Mention` — a staff member named in a group message (and notified);
* :class:`Listing` — values listed the way the language lists them ("、" or ", ");
* :class:`Words` — a reporter's own words, their phone numbers masked where shown.

:class:`Html` only carries what rows queued before messages were typed hold (already
rendered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.tips import Role


class Kind(StrEnum):
    """An outbox row's kind."""

    CARD = "card"  # post a tip's card (text, pin, photo) in a chat
    CARD_EDIT = "card_edit"  # bring every copy of a tip's card up to date
    NOTICE = "notice"  # any other message
    REVISIT = "revisit"  # post a revisit's light card (issue 13)
    REVISIT_EDIT = "revisit_edit"  # bring a revisit's card up to date


class MessageKind(StrEnum):
    """What the ``messages`` table remembers a sent message as (to edit it, or to know what
    a reply to it answers)."""

    CARD = "card"
    LOCATION = "location"
    PHOTO = "photo"
    DIGEST = "digest"
    ASK_PROMPT = "ask_prompt"  # "type your question" where the patrol asked
    QUESTION = "question"  # the relayed question in the reporter's chat
    ANSWER = "answer"  # the relayed answer where the patrol asked


class Keyboard(StrEnum):
    """A keyboard a notice carries."""

    SHARE_PHONE = "share_phone"  # the reporter's "share my phone number" button
    FORCE_REPLY = "force_reply"  # the reporter's app opens a reply (a relayed question)
    REMOVE = "remove"  # no 📍 keyboard may outlive the report (the receipt)
    STILL_THERE = "still_there"  # the reporter's 还在 / 已经离开 / 不在现场了 (the notice's tip)


@dataclass(frozen=True)
class Msg:
    key: str
    params: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Mention:
    user_id: int
    name: str | None  # None: named by the role word
    role: Role


@dataclass(frozen=True)
class Listing:
    items: tuple[Value, ...]


@dataclass(frozen=True)
class Words:
    """A reporter's own words where the reporter stays anonymous (a patrol group): shown with
    every phone number in them masked, and their own name, username and phone where ``None``
    stands (bot/domain/privacy.py ``known_parts``: the identity itself is never stored)."""

    parts: tuple[str | None, ...]


@dataclass(frozen=True)
class Lines:
    parts: tuple[Text, ...]
    gap: bool = False  # a blank line between the parts


@dataclass(frozen=True)
class Html:
    html: str


Value = str | int | float | None | Msg | Mention | Listing | Html | Words
Text = Msg | Lines | Html


@dataclass(frozen=True)
class CardPost:
    copy: bool = False  # another copy, even if the chat has the card


@dataclass(frozen=True)
class CardEdit:
    pass


@dataclass(frozen=True)
class Notice:
    text: Text
    keyboard: Keyboard | None = None
    record: MessageKind | None = None  # keep the sent message's id (to know replies to it)
    reply_to_card: bool = False  # sent as a reply to the tip's card in that chat
    #: A claim secret, offered to every :class:`Msg` as ``{secret}``: its one plaintext copy,
    #: kept in the row only until it is delivered or given up (bot/db/outbox.py scrubs it).
    secret: str | None = None
    lang: str | None = None  # None: the reader's language
    photo: str | None = None  # a photo (Telegram file id) sent with the text as its caption
    #: AMEND: the reporter's "add to this tip" button (for the notice's tip)
    amend_button: bool = False


@dataclass(frozen=True)
class RevisitPost:
    revisit_id: int


@dataclass(frozen=True)
class RevisitEdit:
    revisit_id: int


Message = CardPost | CardEdit | Notice | RevisitPost | RevisitEdit

#: The payload key of the claim secret (scrubbed from the row once delivered).
SECRET = "secret"


def kind_of(message: Message) -> Kind:
    if isinstance(message, CardPost):
        return Kind.CARD
    if isinstance(message, CardEdit):
        return Kind.CARD_EDIT
    if isinstance(message, RevisitPost):
        return Kind.REVISIT
    if isinstance(message, RevisitEdit):
        return Kind.REVISIT_EDIT
    return Kind.NOTICE


# -- the codec ------------------------------------------------------------------------------


def encode(message: Message) -> dict[str, Any]:
    """The JSON object stored as the row's payload."""
    if isinstance(message, CardPost):
        return {"copy": True} if message.copy else {}
    if isinstance(message, CardEdit):
        return {}
    if isinstance(message, RevisitPost | RevisitEdit):
        return {"revisit": message.revisit_id}
    payload: dict[str, Any] = {"notice": _text_out(message.text)}
    if message.keyboard is not None:
        payload["keyboard"] = message.keyboard.value
    if message.record is not None:
        payload["record"] = message.record.value
    if message.reply_to_card:
        payload["reply_to_card"] = True
    if message.secret is not None:
        payload[SECRET] = message.secret
    if message.lang is not None:
        payload["lang"] = message.lang
    if message.photo is not None:
        payload["photo"] = message.photo
    if message.amend_button:
        payload["amend_button"] = True
    return payload


def decode(kind: str, payload: Mapping[str, Any]) -> Message:
    """The message a row holds (rows written before messages were typed too)."""
    if kind == Kind.CARD:
        return CardPost(copy=bool(payload.get("copy")))
    if kind == Kind.CARD_EDIT:
        return CardEdit()
    if kind == Kind.REVISIT:
        return RevisitPost(int(payload["revisit"]))
    if kind == Kind.REVISIT_EDIT:
        return RevisitEdit(int(payload["revisit"]))
    if kind != Kind.NOTICE:
        raise ValueError(f"unknown outbox kind {kind!r}")
    keyboard = Keyboard(payload["keyboard"]) if payload.get("keyboard") else None
    record = MessageKind(payload["record"]) if payload.get("record") else None
    if "notice" in payload:
        text = _text_in(payload["notice"])
    else:
        text = _legacy_text(payload)
    return Notice(
        text=text,
        keyboard=keyboard,
        record=record,
        reply_to_card=bool(payload.get("reply_to_card")),
        secret=payload.get(SECRET),
        lang=payload.get("lang"),
        photo=payload.get("photo"),
        amend_button=bool(payload.get("amend_button")),
    )


def _text_out(text: Text) -> dict[str, Any]:
    if isinstance(text, Lines):
        return {"lines": [_text_out(part) for part in text.parts], "gap": text.gap}
    if isinstance(text, Html):
        return {"html": text.html}
    return {"key": text.key, "params": {k: _value_out(v) for k, v in text.params.items()}}


def _value_out(value: Value) -> Any:
    if isinstance(value, Msg):
        return _text_out(value)
    if isinstance(value, Mention):
        return {"mention": value.user_id, "name": value.name, "role": value.role.value}
    if isinstance(value, Listing):
        return {"list": [_value_out(item) for item in value.items]}
    if isinstance(value, Html):
        return {"html": value.html}
    if isinstance(value, Words):
        return {"words": list(value.parts)}
    return value


def _text_in(data: Mapping[str, Any]) -> Text:
    if "lines" in data:
        return Lines(tuple(_text_in(part) for part in data["lines"]), bool(data.get("gap")))
    if "html" in data:
        return Html(data["html"])
    return Msg(data["key"], {k: _value_in(v) for k, v in data.get("params", {}).items()})


def _value_in(data: Any) -> Value:
    if not isinstance(data, dict):
        return data
    if "mention" in data:
        return Mention(data["mention"], data.get("name"), Role(data["role"]))
    if "list" in data:
        return Listing(tuple(_value_in(item) for item in data["list"]))
    if "html" in data:
        return Html(data["html"])
    if "words" in data:
        words = data["words"]
        return Words(tuple(words) if isinstance(words, list) else (words,))
    return Msg(data["key"], {k: _value_in(v) for k, v in data.get("params", {}).items()})


def _legacy_text(payload: Mapping[str, Any]) -> Text:
    """A notice row in the format before messages were typed: pre-rendered ``text``, or a
    catalog ``key`` with ``params`` (``*_key`` values: catalog keys; ``*_html``: rendered),
    ``more`` paragraphs and a ``text_suffix`` line."""
    if "text" in payload:
        return Html(payload["text"])

    def msg(part: Mapping[str, Any]) -> Msg:
        params: dict[str, Value] = {}
        for name, value in part.get("params", {}).items():
            if name.endswith("_key"):
                params[name[: -len("_key")]] = Msg(value)
            elif name.endswith("_html"):
                params[name[: -len("_html")]] = Html(value)
            else:
                params[name] = value
        return Msg(part["key"], params)

    parts = [msg(payload), *(msg(more) for more in payload.get("more", []))]
    text: Text = parts[0] if len(parts) == 1 else Lines(tuple(parts), gap=True)
    if payload.get("text_suffix"):
        text = Lines((text, Html(payload["text_suffix"])))
    return text
