"""Outbox notices in words: a notice's text (bot/domain/outbox.py) rendered in the reader's
language when it is sent, and the keyboards a notice may carry."""

from __future__ import annotations

from html import escape

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.domain.outbox import Html, Keyboard, Lines, Listing, Mention, Msg, Text, Value, Words
from bot.i18n import t
from bot.views.callbacks import ReporterButton, ROp
from bot.views.cards import shown_words
from bot.views.field import still_there_keyboard
from bot.views.people import join, mention


def render(text: Text, lang: str, secret: str | None = None) -> str:
    """HTML. Plain strings among the values are escaped; catalog texts are not (they are
    HTML already). ``secret`` is offered to every catalog message as ``{secret}``."""
    if isinstance(text, Lines):
        return ("\n\n" if text.gap else "\n").join(render(p, lang, secret) for p in text.parts)
    if isinstance(text, Html):
        return text.html
    params = {name: _value(value, lang, secret) for name, value in text.params.items()}
    if secret is not None:
        params["secret"] = escape(secret)
    return t(lang, text.key, **params)


def _value(value: Value, lang: str, secret: str | None) -> object:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Msg | Html):
        return render(value, lang, secret)
    if isinstance(value, Mention):
        return mention(value, lang)
    if isinstance(value, Listing):
        return join(lang, [str(_value(item, lang, secret)) for item in value.items])
    if isinstance(value, Words):
        hidden = t(lang, "privacy.name_hidden")
        return shown_words("".join(hidden if p is None else p for p in value.parts), lang)
    return value


def amend_keyboard(tip_id: int, lang: str) -> InlineKeyboardMarkup:
    """Under the offer to add to a submitted tip: the button that opens the additions."""
    data = ReporterButton(ROp.AMEND, str(tip_id)).data()
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "btn.amend"), callback_data=data)]])


def keyboard(
    kind: Keyboard | None, lang: str, tip_id: int | None = None
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply | InlineKeyboardMarkup | None:
    """The keyboard a notice carries (``tip_id``: the notice's tip, for inline buttons)."""
    if kind is Keyboard.STILL_THERE and tip_id is not None:
        return still_there_keyboard(tip_id, lang)
    if kind is Keyboard.SHARE_PHONE:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(t(lang, "btn.share_phone"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if kind is Keyboard.FORCE_REPLY:
        return ForceReply(input_field_placeholder=t(lang, "placeholder.answer"))
    if kind is Keyboard.REMOVE:  # e.g. the receipt: no 📍 keyboard may outlive the report
        return ReplyKeyboardRemove()
    return None
