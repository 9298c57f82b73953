"""What the dashboard's pages read (issue 14): a tip's card and its whole timeline as plain
text (the page shows them as text, never as markup), and the words of the marker states."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from html import escape, unescape

from bot.domain.dashboard import MarkerState
from bot.domain.tips import Outcome, Tip
from bot.i18n import keys, t
from bot.services.cards import CardContext
from bot.views.cards import render_card, state_label
from bot.views.people import label

_TAG = re.compile(r"<[^>]+>")


def plain(html: str) -> str:
    """Telegram HTML as the text a chat shows (tags dropped, entities decoded)."""
    return unescape(_TAG.sub("", html))


def card_text(tip: Tip, ctx: CardContext, lang: str, tz: zoneinfo.ZoneInfo) -> str:
    return plain(render_card(tip, ctx, lang, tz))


def timeline(ctx: CardContext, lang: str, tz: zoneinfo.ZoneInfo) -> list[dict[str, str]]:
    """Every entry of the tip's timeline, oldest first: its time and what happened."""
    entries = []
    for entry in ctx.timeline:
        actor = label(entry.actor, lang) if entry.actor else ""
        what = t(lang, keys.TIMELINE[entry.action], name=escape(actor))
        if entry.outcome:
            what += f" · {t(lang, keys.OUTCOME[Outcome(entry.outcome)])}"
        local = entry.at.astimezone(tz)
        entries.append({"at": local.strftime("%m-%d %H:%M"), "what": plain(what)})
    return entries


def state_words(tip: Tip, lang: str) -> str:
    return plain(state_label(tip, lang))


def marker_words(lang: str) -> dict[str, str]:
    """The legend: each marker state's words."""
    return {state.value: t(lang, keys.MARKER[state]) for state in MarkerState}


def local_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")
