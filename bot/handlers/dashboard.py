"""Issue 14 in Telegram: `/stats` (the campaign's figures and chart, for duty officers)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.domain.events import Attempt
from bot.handlers.common import officers_only, reply, services
from bot.i18n import t
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
