"""How a person is named in a message: their name, else the word for their role."""

from __future__ import annotations

from html import escape

from bot.domain.outbox import Mention
from bot.i18n import keys, t
from bot.services.people import Person


def label(who: Person | Mention, lang: str) -> str:
    """The name to show (plain text; escape it for HTML)."""
    return who.name or t(lang, keys.ROLE[who.role])


def mention(who: Person | Mention, lang: str) -> str:
    """An HTML mention that notifies the person in a group; its text is a name or a role."""
    return f'<a href="tg://user?id={who.user_id}">{escape(label(who, lang))}</a>'


def join(lang: str, items: list[str]) -> str:
    """Items listed as the language lists them: "老人、衣着单薄", "elderly, underdressed"."""
    return ("、" if lang == "zh" else ", ").join(items)
