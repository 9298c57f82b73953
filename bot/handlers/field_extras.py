"""Issue 13's handlers: live locations (first message and moves), a revisit's buttons, and
/hotspots. Thin: parse → call a service → answer."""

from __future__ import annotations

import datetime as dt
import warnings

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.domain.events import Attempt
from bot.handlers.common import is_private, language, reply, services
from bot.i18n import t
from bot.services.live import Followed
from bot.services.result import Refusal
from bot.views.callbacks import RvOp, parse_revisit
from bot.views.revisits import render_hotspots

_REVISIT_DONE = {RvOp.CLAIM: "revisit.done.claim", RvOp.RELEASE: "revisit.done.release"}
_REVISIT_REFUSED = {
    Refusal.NOT_ALLOWED: "revisit.refused.not_allowed",
    Refusal.CLOSED: "revisit.refused.closed",
    Refusal.RACE: "revisit.refused.race",
}


async def on_live_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The first message of a live location (a reporter's, or a staff member's in a group).
    Runs beside the reporter's own handling of the pin (a later handler group)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.location is None:
        return
    with warnings.catch_warnings():  # PTB 22 is moving this from int to timedelta
        warnings.simplefilter("ignore")
        period = message.location.live_period
    seconds = period.total_seconds() if isinstance(period, dt.timedelta) else period
    if not seconds:
        return
    svc = services(context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    what, tip = await svc.live.started(
        chat_id=message.chat_id,
        message_id=message.message_id,
        user_id=user.id,
        lat=message.location.latitude,
        lon=message.location.longitude,
        live_period=int(seconds),
        private=is_private(update),
        reply_to=reply_to,
    )
    lang = await language(update, context)
    if what is Followed.TIP and tip is not None:
        await reply(update, t(lang, "live.following_tip", code=tip.code))
    elif what is Followed.POSITION:
        await reply(update, t(lang, "live.following"))


async def on_live_moved(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A live location moved: Telegram edits its message. Nothing else reads edits."""
    message = update.edited_message
    if message is not None and message.location is not None:
        await services(context).live.moved(
            message.chat_id,
            message.message_id,
            message.location.latitude,
            message.location.longitude,
        )
    raise ApplicationHandlerStop


async def on_revisit_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    lang = await language(update, context)
    button = parse_revisit(query.data)
    if button is None:
        await query.answer(t(lang, "revisit.refused.stale"), show_alert=True)
        return
    if button.op is RvOp.CLAIM:
        result = await svc.revisits.claim(button.revisit_id, user.id)
    elif button.op is RvOp.RELEASE:
        result = await svc.revisits.release(button.revisit_id, user.id)
    else:
        assert button.outcome is not None
        result = await svc.revisits.close(button.revisit_id, user.id, button.outcome)
    if result.ok:
        await query.answer(t(lang, _REVISIT_DONE.get(button.op, "revisit.done.close")))
        return
    key = _REVISIT_REFUSED.get(result.refusal, "revisit.refused.stale")  # type: ignore[arg-type]
    await query.answer(t(lang, key), show_alert=True)


async def hotspots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hotspots — where people were found lately: exact spots, for staff only."""
    svc = services(context)
    user = update.effective_user
    lang = await language(update, context)
    if user is None or not svc.hotspots.may_see(user.id):
        await svc.audit.refused(user.id if user else 0, Attempt.HOTSPOTS)
        await reply(update, t(lang, "hotspot.refused"))
        return
    found = await svc.hotspots.hotspots()
    await reply(update, render_hotspots(found, svc.hotspots.days, lang, svc.clock.tz))
