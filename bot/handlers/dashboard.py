"""Issue 14 in Telegram: `/stats` (the campaign's figures and chart, for duty officers) and
`/dashboard` (a one-time sign-in link to the web dashboard; `/dashboard off`)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from bot.domain.events import Attempt
from bot.handlers.common import is_private, language, officers_only, reply, services
from bot.i18n import t
from bot.services.result import Refusal
from bot.views.charts import campaign_chart
from bot.views.stats import render_stats


@officers_only(Attempt.STATS)
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    """The figures in words, then the campaign's chart."""
    svc = services(context)
    await reply(update, render_stats(await svc.campaign.figures(), lang))
    png = await campaign_chart(svc.campaign, lang)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(png, caption=t(lang, "chart.caption"))


async def dashboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/dashboard`: a one-time sign-in link, privately, for an officer (or a group leader
    when ``[dashboard] leaders``); `/dashboard off`: an officer ends every session."""
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    if user is None:
        return
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    args = [a.lower() for a in context.args or []]
    if args == ["off"]:
        ended = await svc.dashboard.end_all(user.id)
        if ended.ok:
            await reply(update, t(lang, "dashboard.off", count=ended.value))
        else:
            await reply(update, t(lang, "refused.officer_only"))
        return
    link = await svc.dashboard.issue_link(user.id)
    if link.ok:
        await reply(update, t(lang, "dashboard.link", url=escape(link.value or "")))
    elif link.refusal is Refusal.CLOSED:
        await reply(update, t(lang, "dashboard.no_url"))
    else:
        await reply(update, t(lang, "dashboard.refused"))
