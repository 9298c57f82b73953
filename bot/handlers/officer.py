"""The duty officer's commands: /newtip (a tip phoned in to the hotline) and /open."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.domain.draft import Source
from bot.handlers.common import is_private, language, reply, services
from bot.handlers.reporter import begin
from bot.i18n import t
from bot.services.people import people
from bot.views.callbacks import TipButton, TipOp
from bot.views.cards import state_label

OPEN_LIST_LIMIT = 40


async def _officer_only(
    update: Update, context: ContextTypes.DEFAULT_TYPE, what: str
) -> str | None:
    """The officer's language if allowed here; otherwise refuse politely (and record it)."""
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    if not svc.deps.directory.is_officer(user.id):
        await svc.field.record_denied(None, user.id, what)
        await reply(update, t(lang, "refused.officer_only"))
        return None
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return None
    return lang


async def newtip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _officer_only(update, context, "newtip") is None:
        return
    await begin(update, context, Source.HOTLINE)


async def open_tips(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _officer_only(update, context, "open")
    if lang is None:
        return
    svc = services(context)
    tips = await svc.field.open_tips()
    if not tips:
        await reply(update, t(lang, "open.none"))
        return
    now = svc.deps.now()
    names = await people(svc.deps, (tip.claimed_by for tip in tips))
    lines = [t(lang, "open.head", count=len(tips))]
    buttons = []
    for tip in tips[:OPEN_LIST_LIMIT]:
        try:
            group = svc.deps.directory.team(tip.group_key).name
        except KeyError:
            group = tip.group_key
        minutes = max(0, int((now - tip.created_at).total_seconds() // 60))
        lines.append(
            t(
                lang,
                "open.line",
                mark="🔴" if tip.urgent else "⚪️",
                code=tip.code,
                age=minutes,
                state=escape(state_label(tip, lang)),
                group=escape(group),
                who=escape(names[tip.claimed_by].label(lang) if tip.claimed_by else "—"),
            )
        )
        buttons.append(
            InlineKeyboardButton(
                t(lang, "btn.show", code=tip.code),
                callback_data=TipButton(TipOp.SHOW, tip.id).data(),
            )
        )
    if len(tips) > OPEN_LIST_LIMIT:
        lines.append(t(lang, "open.more", count=len(tips) - OPEN_LIST_LIMIT))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await reply(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def coldmode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coldmode on|off — extreme-cold mode: reminders round the clock."""
    lang = await _officer_only(update, context, "coldmode")
    if lang is None:
        return
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
