"""The duty officer's commands: /newtip (a tip phoned in to the hotline), /open, /coldmode."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.domain.draft import Source
from bot.domain.events import Attempt
from bot.handlers.common import officers_only, reply, services
from bot.handlers.reporter import begin
from bot.i18n import t
from bot.views import live as live_view
from bot.views.callbacks import TipButton, TipOp
from bot.views.cards import open_place, state_label
from bot.views.people import label

OPEN_LIST_LIMIT = 40
OPEN_TEXT_MAX = 3800  # characters of the list (Telegram takes 4096), the "more" line besides


@officers_only(Attempt.NEWTIP)
async def newtip(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    await begin(update, context, Source.HOTLINE)


@officers_only(Attempt.OPEN)
async def open_tips(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    tips = await svc.field.open_tips()
    if not tips:
        await reply(update, t(lang, "open.none"))
        return
    now = svc.clock.now()
    names = await svc.naming.people(tip.claimed_by for tip in tips)
    tracked = await svc.live.tracking(tips[:OPEN_LIST_LIMIT])  # live positions (issue 13)
    lines = [t(lang, "open.head", count=len(tips))]
    buttons = []
    size = len(lines[0])
    for tip in tips[:OPEN_LIST_LIMIT]:
        entry = (
            t(
                lang,
                "open.line",
                mark="🔴" if tip.urgent else "⚪️",
                code=tip.code,
                age=tip.age_minutes(now),
                state=escape(state_label(tip, lang)),
                group=escape(svc.field.group_name(tip)),
                who=escape(label(names[tip.claimed_by], lang) if tip.claimed_by else "—"),
            )
            + "\n"
            + t(lang, "open.place", place=open_place(tip, lang))  # the exact spot first
        )
        size += len(entry) + 1
        if size > OPEN_TEXT_MAX:  # long places: the rest counted below, not cut off
            break
        lines.append(entry)
        lines.extend(live_view.open_lines(tracked.get(tip.id), now, lang, svc.clock.tz))
        buttons.append(
            InlineKeyboardButton(
                t(lang, "btn.show", code=tip.code),
                callback_data=TipButton(TipOp.SHOW, tip.id).data(),
            )
        )
    if len(tips) > len(buttons):
        lines.append(t(lang, "open.more", count=len(tips) - len(buttons)))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await reply(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@officers_only(Attempt.COLDMODE)
async def coldmode(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    """/coldmode on|off — extreme-cold mode: reminders round the clock."""
    svc = services(context)
    args = [a.lower() for a in context.args or []]
    if args not in (["on"], ["off"]):
        state = await svc.patrols.cold_state()
        await reply(
            update,
            t(lang, "coldmode.usage", state=t(lang, "coldmode.on" if state.on else "coldmode.off")),
        )
        return
    on = args[0] == "on"
    changed = await svc.schedules.switch_cold(on, update.effective_user.id)
    key = "coldmode.changed" if changed else "coldmode.unchanged"
    await reply(update, t(lang, key, state=t(lang, "coldmode.on" if on else "coldmode.off")))
