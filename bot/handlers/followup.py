"""The reporter's side of the field flow: the "still there?" buttons (``st:…``) and their
pin or words after "not found" (or after answering "still there?"). Thin: parse → the
follow-up service (bot/services/followup.py) → words."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from bot.domain.arrival import Presence, clean_words
from bot.handlers.common import edit_pressed, language, reply, services
from bot.i18n import keys, t
from bot.services.followup import Taken
from bot.services.result import Refusal
from bot.views.callbacks import parse_still_there

#: What a refused press on "still there?" is answered.
_REFUSED = {
    Refusal.ALREADY: "still.already",
    Refusal.CLOSED: "still.closed",
}


async def on_still_there(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    svc = services(context)
    lang = await language(update, context)
    parsed = parse_still_there(query.data)
    result = None
    if parsed is not None:
        result = await svc.followup.still_there(parsed[0], update.effective_user.id, parsed[1])
    if result is None or not result.ok:
        why = result.refusal if result is not None else None
        await query.answer(t(lang, _REFUSED.get(why, "still.invalid")), show_alert=True)
        if why in _REFUSED:
            await edit_pressed(query, markup=None)
        return
    assert parsed is not None and result.value is not None
    said = t(lang, keys.PRESENCE[Presence(parsed[1])])
    await query.answer()
    await edit_pressed(query, t(lang, "still.echo", code=result.value.code, said=said))
    await reply(update, t(lang, "still.thanks"))


async def on_reporter_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A private message from a reporter with no report in progress that answers the field
    flow: a pin or words after "not found", or words after "still there?". True if taken
    (and the reporter told); False: the report flow takes it as before."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or (message.text or "").startswith("/"):
        return False
    svc = services(context)
    if not await svc.followup.wants(user.id):
        return False
    point = message.venue.location if message.venue else message.location
    text = message.text or message.caption
    photo = None
    if message.photo:  # (a photo sent as a file goes to the report flow, which cleans it)
        largest = message.photo[-1]
        photo = (largest.file_id, largest.file_unique_id)
    if point is None and clean_words(text) is None and photo is None:
        return False  # a sticker, a contact…: the report flow answers it as before
    taken, tip = await svc.followup.take(
        user.id,
        text=text,
        lat=point.latitude if point else None,
        lon=point.longitude if point else None,
        photo=photo,
    )
    if taken is Taken.NONE or tip is None:
        return False
    lang = await language(update, context)
    station = svc.config.station
    if taken is Taken.OUTSIDE:
        await reply(
            update, t(lang, "location.outside", hotline=station.hotline, station=station.name)
        )
    elif taken is Taken.REOPENED:
        pass  # the receipt goes through the outbox with the new card
    elif taken is Taken.WORDS:
        await reply(update, t(lang, "still.words_sent", code=escape(tip.code)))
    return taken is not Taken.EMPTY
