"""The field flow in words: the card's arrival-time lines and buttons, the reporter's
"still there?" buttons, the lines of an earlier attempt (bot/domain/arrival.py)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.arrival import ETA_STATES, FieldFacts, Presence
from bot.domain.tips import Outcome, State, Tip
from bot.i18n import keys, t
from bot.views.callbacks import TipButton, TipOp, still_there_data

#: The answers a reporter may tap, in the order shown.
PRESENCE_ORDER = (Presence.HERE, Presence.LEFT, Presence.AWAY)


def still_there_keyboard(tip_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, keys.PRESENCE[p]), callback_data=still_there_data(tip_id, p.value)
                )
                for p in PRESENCE_ORDER
            ]
        ]
    )


#: At most this many times in one row of the card (a phone's width).
ETA_PER_ROW = 4


def eta_rows(tip: Tip, choices: Sequence[int], lang: str) -> list[list[InlineKeyboardButton]]:
    """ "多久能到？" as rows of times, while the claim has none (or it has passed and the
    claimer was asked: a new time is the answer "still on the way")."""
    if tip.state not in ETA_STATES or not choices:
        return []
    if tip.eta_at is not None and tip.eta_asked_at is None:
        return []
    key = "eta.btn" if tip.eta_at is None else "eta.btn_more"
    buttons = [
        InlineKeyboardButton(
            t(lang, key, minutes=m), callback_data=TipButton(TipOp.ETA, tip.id, number=m).data()
        )
        for m in choices
    ]
    return [buttons[i : i + ETA_PER_ROW] for i in range(0, len(buttons), ETA_PER_ROW)]


def _hm(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def card_lines(
    tip: Tip,
    facts: FieldFacts | None,
    lang: str,
    tz: zoneinfo.ZoneInfo,
    words: Callable[[str], str],
) -> list[str]:
    """The card's field-flow lines (``words``: renders a reporter's words, masked)."""
    if facts is None:
        return []
    lines: list[str] = []
    if tip.attempt > 1:
        earlier = "；".join(
            t(
                lang,
                "reopen.card_earlier",
                attempt=n,
                outcome=t(lang, keys.OUTCOME[Outcome(o)]),
                at=_hm(at, tz),
            )
            for n, o, at in facts.earlier
        )
        lines.append(t(lang, "reopen.card", attempt=tip.attempt, earlier=earlier))
        if facts.first_card_url:
            lines.append(t(lang, "reopen.card_link", url=escape(facts.first_card_url, quote=True)))
        if facts.added is not None and facts.added.words:
            lines.append(
                t(
                    lang,
                    "reopen.card_words",
                    at=_hm(facts.added.at, tz),
                    words=words(facts.added.words),
                )
            )
    if tip.state in ETA_STATES:
        if tip.eta_at is None:
            lines.append(t(lang, "eta.card_ask"))
        elif tip.eta_asked_at is None:
            lines.append(t(lang, "eta.card", at=_hm(tip.eta_at, tz)))
        else:
            lines.append(t(lang, "eta.card_late", at=_hm(tip.eta_at, tz)))
    if tip.state is State.DISPATCHED and facts.released_at is not None:
        lines.append(t(lang, "eta.card_released", at=_hm(facts.released_at, tz)))
    if facts.presence is not None and facts.presence.answer:
        said = t(lang, keys.PRESENCE[Presence(facts.presence.answer)])
        if facts.presence.words:
            said = t(lang, "still.card_words", answer=said, words=words(facts.presence.words))
        lines.append(t(lang, "still.card", at=_hm(facts.presence.at, tz), said=said))
    return lines
