"""The tip's live card in the patrol group (and officers' copies): text and buttons.

Nothing here may identify the reporter: the card is built from a :class:`Tip` (which carries
no reporter fields) and from staff names only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.amendments import Amendment
from bot.domain.draft import Source
from bot.domain.privacy import mask_known, mask_phones
from bot.domain.tips import (
    FLAG_ORDER,
    SUPPLY_ORDER,
    Outcome,
    State,
    Supply,
    Tip,
    supplies_from_mask,
    supplies_to_mask,
)
from bot.geo.coords import map_links
from bot.i18n import keys, t
from bot.services.cards import CardContext
from bot.views.callbacks import TipButton, TipOp
from bot.views.field import card_lines as field_lines
from bot.views.field import eta_rows
from bot.views.live import card_lines as live_lines
from bot.views.people import join, label
from bot.views.places import pin_place, tip_place

DUPLICATES_SHOWN = 10  # possible duplicates listed on a card (nearest first)


def _hm(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def shown_words(text: str, lang: str, known: tuple[str | None, ...] = ()) -> str:
    """A reporter's own words as a group may see them: escaped, with phone numbers and the
    reporter's own name, username and phone (``known``) masked."""
    masked = mask_known(text, known, t(lang, "privacy.name_hidden"))
    return escape(mask_phones(masked, t(lang, "privacy.phone_hidden")))


def state_label(tip: Tip, lang: str) -> str:
    if tip.state is State.CLOSED and tip.outcome is not None:
        return t(lang, "card.state_closed", outcome=t(lang, keys.OUTCOME[tip.outcome]))
    return t(lang, keys.STATE[tip.state])


def _place(tip: Tip, lang: str, known: tuple[str | None, ...] = ()) -> str:
    """The exact spot first, then the district; with no spot: district, the place's name and
    the typed address. A bare pin: the nearest known place and how far (the map links below
    carry the exact point)."""
    return tip_place(tip, lang, lambda part: shown_words(part, lang, known))


def open_place(tip: Tip, lang: str) -> str:
    """The place on an officer's /open line (staff: the exact spot, phone numbers masked)."""
    return _place(tip, lang)


AMENDMENTS_SHOWN = 3  # the reporter's latest additions on a card (keeps it under 4096)


def _amendment(amendment: Amendment, lang: str, tz: zoneinfo.ZoneInfo, known: tuple) -> str:
    """ "➕ 补充 13:35：往磁湖方向走了 · 照片 · 像是儿童" (what the reporter added)."""
    what = [shown_words(amendment.words, lang, known)] if amendment.words else []
    if amendment.photo:
        what.append(t(lang, "card.amended_photo"))
    what += [t(lang, keys.FLAG[f]) for f in FLAG_ORDER if f in amendment.flags]
    return t(lang, "card.amended", at=_hm(amendment.at, tz), what=" · ".join(what) or "—")


def render_card(tip: Tip, ctx: CardContext, lang: str, tz: zoneinfo.ZoneInfo) -> str:
    lines: list[str] = []
    head = t(lang, "card.urgent") if tip.urgent else t(lang, "card.normal")
    lines.append(
        t(lang, "card.head", mark=head, code=escape(tip.code), state=escape(state_label(tip, lang)))
    )
    people = t(lang, keys.PEOPLE[tip.people])
    flags = [t(lang, keys.FLAG[f]) for f in FLAG_ORDER if f in tip.flags]
    lines.append(t(lang, "card.people", people=people, flags=escape(join(lang, flags)) or "—"))
    lines.append(
        t(
            lang,
            "card.seen",
            seen=t(lang, keys.SEEN[tip.seen]),
            at=_hm(tip.created_at, tz),
            source=t(lang, keys.SOURCE[Source(tip.source)]),
        )
    )
    lines.append(t(lang, "card.place", place=_place(tip, lang, ctx.reporter_known) or "—"))
    if tip.description:
        words = shown_words(tip.description, lang, ctx.reporter_known)
        lines.append(t(lang, "card.description", text=words))
    for amendment in ctx.amendments[-AMENDMENTS_SHOWN:]:
        lines.append(_amendment(amendment, lang, tz, ctx.reporter_known))
    links = " · ".join(
        f'<a href="{escape(link.url)}">{t(lang, keys.MAP[link.key])}</a>'
        for link in map_links(tip.lat, tip.lon, tip.code)
    )
    lines.append(t(lang, "card.maps", links=links))
    lines.extend(live_lines(ctx.live, tip.code, lang, tz))  # issue 13: live positions
    if ctx.duplicates:
        # The nearest few: a busy spot must not push the card past Telegram's 4096 characters.
        shown = ctx.duplicates[:DUPLICATES_SHOWN]
        dups = ", ".join(f"{escape(code)} ({metres} m)" for code, metres in shown)
        if len(ctx.duplicates) > DUPLICATES_SHOWN:
            dups += f", … (+{len(ctx.duplicates) - DUPLICATES_SHOWN})"
        lines.append(t(lang, "card.duplicates", tips=dups))
    lines.append(t(lang, "card.group", group=escape(ctx.group_name)))
    if ctx.claimer and tip.state in (State.CLAIMED, State.EN_ROUTE, State.ON_SCENE):
        lines.append(t(lang, "card.claimed_by", name=escape(label(ctx.claimer, lang))))
    if tip.state is State.CLOSED:
        closer = label(ctx.closer, lang) if ctx.closer else "—"
        lines.append(t(lang, "card.closed_by", name=escape(closer)))
        if tip.outcome is Outcome.SUPPLIES_ONLY and tip.supplies:
            given = [t(lang, keys.SUPPLY[s]) for s in SUPPLY_ORDER if s in tip.supplies]
            lines.append(t(lang, "card.supplies", items=escape(join(lang, given))))
        if tip.outcome is Outcome.DUPLICATE and ctx.duplicate_of:
            lines.append(t(lang, "card.duplicate_of", code=escape(ctx.duplicate_of)))
    known = ctx.reporter_known
    lines += field_lines(tip, ctx.arrival, lang, tz, lambda w: shown_words(w, lang, known))
    lines.append(t(lang, "card.evidence", count=ctx.evidence))
    if ctx.timeline:
        lines.append("")
        for entry in ctx.timeline[-6:]:
            actor = label(entry.actor, lang) if entry.actor else ""
            what = t(lang, keys.TIMELINE[entry.action], name=escape(actor))
            if entry.outcome:
                what += f" · {t(lang, keys.OUTCOME[Outcome(entry.outcome)])}"
            lines.append(f"<i>{_hm(entry.at, tz)} {what}</i>")
    if tip.is_open:
        lines.append("")
        lines.append(t(lang, "card.reply_hint"))
    return "\n".join(lines)


def _button(lang: str, key: str, button: TipButton, **params: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(lang, key, **params), callback_data=button.data())


def card_keyboard(
    tip: Tip, lang: str, eta_choices: Sequence[int] = ()
) -> InlineKeyboardMarkup | None:
    """The buttons for the tip's current state (everyone in the group sees the same ones);
    ``eta_choices``: "多久能到？" while the claim has no arrival time (bot/views/field.py)."""
    i = tip.id
    rows: list[list[InlineKeyboardButton]] = []
    rows += eta_rows(tip, eta_choices, lang)
    if tip.state in (State.NEW, State.DISPATCHED):
        rows.append([_button(lang, "btn.claim", TipButton(TipOp.CLAIM, i))])
        rows.append(
            [
                _button(lang, "btn.duplicate", TipButton(TipOp.DUPS, i)),
                _button(lang, "btn.invalid", TipButton(TipOp.ASK, i, Outcome.INVALID)),
            ]
        )
    elif tip.state is State.CLAIMED:
        rows.append(
            [
                _button(lang, "btn.go", TipButton(TipOp.GO, i)),
                _button(lang, "btn.arrive", TipButton(TipOp.ARRIVE, i)),
            ]
        )
        rows.append(
            [
                _button(lang, "btn.release", TipButton(TipOp.RELEASE, i)),
                _button(lang, "btn.duplicate", TipButton(TipOp.DUPS, i)),
                _button(lang, "btn.invalid", TipButton(TipOp.ASK, i, Outcome.INVALID)),
            ]
        )
    elif tip.state is State.EN_ROUTE:
        rows.append([_button(lang, "btn.arrive", TipButton(TipOp.ARRIVE, i))])
        rows.append(
            [
                _button(lang, "outcome.not_found", TipButton(TipOp.ASK, i, Outcome.NOT_FOUND)),
                _button(lang, "outcome.gone", TipButton(TipOp.ASK, i, Outcome.GONE)),
            ]
        )
        rows.append([_button(lang, "btn.release", TipButton(TipOp.RELEASE, i))])
    elif tip.state is State.ON_SCENE:
        rows.append(
            [
                _button(lang, "outcome.brought_in", TipButton(TipOp.ASK, i, Outcome.BROUGHT_IN)),
                _button(lang, "outcome.hospital", TipButton(TipOp.ASK, i, Outcome.HOSPITAL)),
            ]
        )
        rows.append(
            [
                _button(lang, "outcome.supplies_only", TipButton(TipOp.SUPPLIES, i, number=0)),
                _button(lang, "outcome.family", TipButton(TipOp.ASK, i, Outcome.FAMILY)),
            ]
        )
        rows.append(
            [
                _button(lang, "outcome.not_found", TipButton(TipOp.ASK, i, Outcome.NOT_FOUND)),
                _button(lang, "outcome.gone", TipButton(TipOp.ASK, i, Outcome.GONE)),
            ]
        )
        rows.append(
            [
                _button(lang, "btn.duplicate", TipButton(TipOp.DUPS, i)),
                _button(lang, "btn.invalid", TipButton(TipOp.ASK, i, Outcome.INVALID)),
            ]
        )
    if tip.is_open and tip.has_reporter:
        rows.append([_button(lang, "btn.ask_reporter", TipButton(TipOp.ASK_REPORTER, i))])
    return InlineKeyboardMarkup(rows) if rows else None


def confirm_keyboard(tip: Tip, outcome: Outcome, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    lang,
                    "btn.confirm_outcome",
                    TipButton(TipOp.CLOSE, tip.id, outcome),
                    outcome=t(lang, keys.OUTCOME[outcome]),
                )
            ],
            [_button(lang, "btn.back", TipButton(TipOp.BACK, tip.id))],
        ]
    )


def supplies_keyboard(tip: Tip, mask: int, lang: str) -> InlineKeyboardMarkup:
    chosen = supplies_from_mask(mask)
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for supply in SUPPLY_ORDER:
        toggled = supplies_to_mask(set(chosen) ^ {supply})
        mark = "✅ " if supply in chosen else "▫️ "
        row.append(
            InlineKeyboardButton(
                mark + t(lang, keys.SUPPLY[supply]),
                callback_data=TipButton(TipOp.SUPPLIES, tip.id, number=toggled).data(),
            )
        )
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append(
        [
            _button(
                lang,
                "btn.supplies_done",
                TipButton(TipOp.CLOSE, tip.id, Outcome.SUPPLIES_ONLY, mask),
            )
        ]
    )
    rows.append([_button(lang, "btn.back", TipButton(TipOp.BACK, tip.id))])
    return InlineKeyboardMarkup(rows)


def duplicates_keyboard(
    tip: Tip, candidates: list[tuple[int, str]], lang: str
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                lang,
                "btn.duplicate_of",
                TipButton(TipOp.CLOSE, tip.id, Outcome.DUPLICATE, other_id),
                code=code,
            )
        ]
        for other_id, code in candidates[:5]
    ]
    rows.append([_button(lang, "btn.back", TipButton(TipOp.BACK, tip.id))])
    return InlineKeyboardMarkup(rows)


def supplies_counts_text(counts: dict[str, int], lang: str) -> str:
    """``{"coat": 2}`` → "棉衣 ×2" (what a patrol handed out)."""
    parts = [f"{t(lang, keys.SUPPLY[Supply(item)])} ×{n}" for item, n in counts.items() if n]
    return escape(join(lang, parts)) or "—"


#: At most this many tips in one digest message (keeps the keyboard short on a phone).
DIGEST_MAX = 8


def render_digest(tips: list[Tip], lang: str, tz: zoneinfo.ZoneInfo) -> str:
    """Several new tips in one message: a line each; claim one to get its full card."""
    lines = [t(lang, "digest.head", count=len(tips))]
    for tip in tips:
        if tip.spot or tip.spot_text:  # the exact spot first, as on the card (issue 13)
            place = _place(tip, lang)
        elif tip.place_label or tip.address:
            place = " · ".join(
                shown_words(p, lang) for p in (tip.district, tip.place_label or tip.address) if p
            )
        else:
            place = pin_place(tip.lat, tip.lon, lang)
        lines.append(
            t(
                lang,
                "digest.line",
                code=escape(tip.code),
                people=t(lang, keys.PEOPLE[tip.people]),
                seen=t(lang, keys.SEEN[tip.seen]),
                at=_hm(tip.created_at, tz),
                place=place or "—",
                state=escape(state_label(tip, lang)),
            )
        )
    lines.append(t(lang, "digest.hint"))
    return "\n".join(lines)


def digest_keyboard(tips: list[Tip], lang: str) -> InlineKeyboardMarkup | None:
    rows = []
    for tip in tips:
        row = [_button(lang, "btn.full", TipButton(TipOp.FULL, tip.id), code=tip.code)]
        if tip.state in (State.NEW, State.DISPATCHED):
            row.insert(
                0, _button(lang, "btn.claim_code", TipButton(TipOp.CLAIM, tip.id), code=tip.code)
            )
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None
