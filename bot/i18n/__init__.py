"""Message catalogs. Every user-facing string lives in ``zh.py`` or ``en.py``.

``t(lang, key, **params)`` formats a message with ``str.format`` placeholders. Values that come
from users are HTML-escaped by the caller (messages are sent with ``parse_mode=HTML``).
"""

from __future__ import annotations

from string import Formatter

from bot.i18n import en, zh

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

CATALOGS: dict[str, dict[str, str]] = {"zh": zh.MESSAGES, "en": en.MESSAGES}


def normalize_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map a Telegram ``language_code`` (``zh-hans``, ``en-GB``…) onto a catalog."""
    if not code:
        return default
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in CATALOGS else default


def t(lang: str, key: str, /, **params: object) -> str:
    catalog = CATALOGS.get(lang) or CATALOGS[DEFAULT_LANGUAGE]
    template = catalog.get(key)
    if template is None:  # a missing key is a bug; the catalog test keeps both in step
        template = CATALOGS[DEFAULT_LANGUAGE][key]
    return template.format(**params) if params else template


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}
