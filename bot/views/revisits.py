"""A revisit's light card (issue 13) and the /hotspots list."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.hotspots import Hotspot
from bot.domain.revisits import REVISIT_OUTCOMES, Revisit, RevisitState
from bot.domain.tips import SUPPLY_ORDER, Tip
from bot.geo.coords import map_links
from bot.i18n import keys, t
from bot.services.people import Person
from bot.views.callbacks import RevisitButton, RvOp
from bot.views.people import join, label
from bot.views.places import pin_place


def when_text(moment: dt.datetime, now: dt.datetime, lang: str, tz: zoneinfo.ZoneInfo) -> str:
    """ "今天 21:10", "昨天 23:10", or "11-28 23:10" (station time)."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    hm = local.strftime("%H:%M")
    if local.date() == today:
        return t(lang, "revisit.today", time=hm)
    if local.date() == today - dt.timedelta(days=1):
        return t(lang, "revisit.yesterday", time=hm)
    return local.strftime("%m-%d ") + hm


def place_text(tip: Tip, lang: str) -> str:
    """The spot: its place name, else the nearest known place (escaped)."""
    return escape(tip.place_label) if tip.place_label else pin_place(tip.lat, tip.lon, lang)


def render_revisit(
    revisit: Revisit,
    tip: Tip,
    *,
    group: str,
    claimer: Person | None,
    closer: Person | None,
    now: dt.datetime,
    lang: str,
    tz: zoneinfo.ZoneInfo,
) -> str:
    given = [t(lang, keys.SUPPLY[s]) for s in SUPPLY_ORDER if s in revisit.supplies]
    reason = t(
        lang,
        keys.REVISIT_REASON[revisit.reason],
        supplies=escape(join(lang, given)) if given else t(lang, "revisit.no_supplies"),
    )
    lines = [
        t(
            lang,
            "revisit.head",
            code=escape(tip.code),
            when=when_text(revisit.reason_at, now, lang, tz),
            place=place_text(tip, lang),
            reason=reason,
        )
    ]
    if revisit.state is RevisitState.CLAIMED and claimer is not None:
        lines.append(t(lang, "revisit.claimed", name=escape(label(claimer, lang))))
    elif revisit.state is RevisitState.CLOSED and revisit.outcome is not None:
        lines.append(
            t(
                lang,
                "revisit.closed",
                outcome=t(lang, keys.REVISIT_OUTCOME[revisit.outcome]),
                name=escape(label(closer, lang)) if closer else "—",
            )
        )
    else:
        lines.append(t(lang, "revisit.waiting", group=escape(group)))
    links = " · ".join(
        f'<a href="{escape(link.url)}">{t(lang, keys.MAP[link.key])}</a>'
        for link in map_links(tip.lat, tip.lon, tip.code)
    )
    lines.append(t(lang, "card.maps", links=links))
    return "\n".join(lines)


def revisit_keyboard(revisit: Revisit, lang: str) -> InlineKeyboardMarkup | None:
    def button(key: str, data: RevisitButton) -> InlineKeyboardButton:
        return InlineKeyboardButton(t(lang, key), callback_data=data.data())

    i = revisit.id
    if revisit.state is RevisitState.POSTED:
        return InlineKeyboardMarkup([[button("revisit.btn.claim", RevisitButton(RvOp.CLAIM, i))]])
    if revisit.state is RevisitState.CLAIMED:
        outcomes = [
            button(keys.REVISIT_OUTCOME[o], RevisitButton(RvOp.CLOSE, i, o))
            for o in REVISIT_OUTCOMES
        ]
        return InlineKeyboardMarkup(
            [
                outcomes[:2],
                outcomes[2:],
                [button("revisit.btn.release", RevisitButton(RvOp.RELEASE, i))],
            ]
        )
    return None


def render_hotspots(found: list[Hotspot], days: int, lang: str, tz: zoneinfo.ZoneInfo) -> str:
    """/hotspots: where people were found in the last ``days`` days (staff only)."""
    if days <= 0:
        return t(lang, "hotspot.off")
    if not found:
        return t(lang, "hotspot.none", days=days)
    lines = [t(lang, "hotspot.reminder", days=days)]
    for n, spot in enumerate(found, 1):
        place = escape(spot.label) if spot.label else pin_place(spot.lat, spot.lon, lang)
        lines.append(
            t(
                lang,
                "hotspot.line",
                n=n,
                place=place,
                count=spot.count,
                last=spot.last_at.astimezone(tz).strftime("%m-%d %H:%M"),
            )
        )
    return "\n".join(lines)
