"""The reporter's private flow: location → when → how many → flags → words → photo → review.

The draft lives in the database; this module only reads the update, calls the report service
and renders the next prompt. Any message at any step gets a reply that fits the step.
"""

from __future__ import annotations

from html import escape

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot import replay
from bot.domain.draft import Draft, Source, Step
from bot.domain.events import Attempt
from bot.domain.tips import Flag, People, Seen, is_urgent
from bot.handlers.common import (
    edit_pressed,
    is_private,
    language,
    reply,
    services,
    set_language,
)
from bot.i18n import keys, t
from bot.services.media import MAX_IMAGE_BYTES, NotAnImage, strip_metadata
from bot.services.reports import LocationVerdict
from bot.services.result import Refusal
from bot.views import reporter as rv
from bot.views.callbacks import ROp, parse_reporter
from bot.views.refusals import Topic, refusal_text


async def send_prompt(update: Update, draft: Draft, lang: str) -> None:
    text, markup = rv.prompt(draft, lang)
    await reply(update, text, markup)


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE, source: Source) -> None:
    """Start a fresh report (``/report``, the start button, an officer's ``/newtip``)."""
    lang = await language(update, context)
    svc = services(context)
    if svc.users.is_officer(update.effective_user.id):
        # A new report supersedes a reward question left open (its text would be taken first).
        await svc.rewards.drop_input(update.effective_user.id)
    draft = await svc.reports.start(update.effective_user.id, source)
    await send_prompt(update, draft, lang)


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not is_private(update):
        await reply(update, t(await language(update, context), "private_only"))
        return
    await begin(update, context, Source.REPORTER)


# -- messages -----------------------------------------------------------------------------------


def _location_of(message: Message) -> tuple[float, float, str | None, str | None] | None:
    if message.venue is not None:
        venue = message.venue
        return venue.location.latitude, venue.location.longitude, venue.title, venue.address
    if message.location is not None:
        return message.location.latitude, message.location.longitude, None, None
    return None


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every non-command message in a private chat."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    if await _relayed(update, context):
        return  # a question for a reporter, or an answer to the patrol's question
    svc = services(context)
    lang = await language(update, context)
    draft = await svc.reports.draft(user.id)
    location = _location_of(message)

    if draft is None:
        if svc.users.is_staff(user.id):
            # Staff start a report only on purpose (/report, /newtip): a stray text or pin in
            # their private chat (a "200" typed once too often) gets a pointer, not a draft.
            officer = svc.users.is_officer(user.id)
            key = "staff.pointer.officer" if officer else "staff.pointer.patrol"
            await reply(update, t(lang, key))
            return
        if location is None and not message.text:
            # Not something a report can start from: say how to report.
            await reply(update, t(lang, "hint.start"), rv.location_keyboard(lang))
            return
        draft = await svc.reports.start(user.id)

    step = draft.step
    if step in (Step.LOCATION, Step.CONFIRM_PLACE) and location is not None:
        await _take_location(update, context, draft, lang, *location)
    elif step in (Step.LOCATION, Step.CONFIRM_PLACE) and message.text:
        await _take_address(update, context, draft, lang, message.text)
    elif step is Step.DESCRIPTION and message.text:
        draft, cut = await svc.reports.set_description(draft, message.text)
        if cut:
            limit = svc.config.reporting.description_max_chars
            await reply(update, t(lang, "description.cut", limit=limit))
        await send_prompt(update, draft, lang)
    elif step in (Step.DESCRIPTION, Step.PHOTO) and message.photo:
        await _take_photo(update, context, draft, lang, message)
    elif step in (Step.DESCRIPTION, Step.PHOTO) and _is_image_document(message):
        await _take_image_file(update, context, draft, lang, message)
    elif replay.replaying():
        # Handled again after a crash: this message moved the draft past the step it fits
        # (every step saves absolute values and moves on), so it is not "the wrong kind" —
        # only the question the reporter is at is asked again.
        await send_prompt(update, draft, lang)
    elif location is not None:
        await reply(update, t(lang, "location.already"))
        await send_prompt(update, draft, lang)
    else:
        await reply(update, t(lang, keys.WRONG[step]))
        await send_prompt(update, draft, lang)


async def on_private_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text reply in a private chat: to a relayed question, to an ask prompt (an officer's
    copy of a card), or else part of a report like any other message."""
    await on_message(update, context)


async def _relayed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Relay a private text that is a staff member's question or a reporter's answer (see
    bot/domain/relay.py); True if it was one (and the sender was told)."""
    message = update.effective_message
    user = update.effective_user
    if not message.text or message.text.startswith("/"):
        return False
    svc = services(context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    result = None
    if svc.users.is_staff(user.id):
        result = await svc.relay.ask(message.chat_id, user.id, message.text, reply_to)
    if result is None:
        result = await svc.relay.answer(user.id, message.text, reply_to)
    if result is None or result.value is None:
        return False
    done = result.value
    lang = await language(update, context)
    code = done.tip.code
    if not done.answered:
        if result.ok:
            await reply(update, t(lang, "ask.sent", code=code))
        else:
            await reply(update, refusal_text(lang, Topic.ASK, result.refusal, code=code))
        return True
    if not result.ok:
        await reply(update, refusal_text(lang, Topic.ASK, Refusal.TOO_LONG))
        return True
    text = t(lang, "ask.answered", code=code)
    if done.others:
        text += "\n" + t(lang, "ask.answered_which", code=code, count=done.others + 1)
    markup = None
    if done.plain and done.question is not None:
        # Typed without "reply": perhaps it was meant for something else.
        in_progress = await svc.reports.draft(user.id) is not None
        markup = rv.not_an_answer_keyboard(done.question.id, in_progress, lang)
    await reply(update, text, markup)
    return True


def _is_image_document(message: Message) -> bool:
    doc = message.document
    return doc is not None and (doc.mime_type or "").startswith("image/")


async def _take_location(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: Draft,
    lang: str,
    lat: float,
    lon: float,
    label: str | None,
    address: str | None,
) -> None:
    svc = services(context)
    verdict, draft = await svc.reports.set_location(draft, lat, lon, label, address)
    if verdict is LocationVerdict.OUTSIDE:
        station = svc.config.station
        await reply(
            update, t(lang, "location.outside", hotline=station.hotline, station=station.name)
        )
        return
    if verdict is LocationVerdict.INVALID:
        await reply(update, t(lang, "location.invalid"))
        return
    await reply(update, t(lang, "location.ok"), ReplyKeyboardRemove())
    await send_prompt(update, draft, lang)


async def _take_address(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, lang: str, text: str
) -> None:
    svc = services(context)
    text = text.strip()
    if len(text) < 2 or len(text) > 200:
        await reply(update, t(lang, "address.bad"))
        return
    chat = update.effective_chat
    await chat.send_action("find_location")
    lookup, draft = await svc.reports.lookup_address(draft, text, lang)
    if lookup.fell_back:
        await reply(update, t(lang, "address.offline"))
    if not lookup.results:
        station = svc.config.station
        await reply(
            update,
            t(lang, "address.not_found", hotline=station.hotline),
            rv.place_keyboard(draft.source, lang),
        )
        return
    best = lookup.results[0]
    # Show the best match back as a pin, then ask whether that is the place.
    await chat.send_venue(best.lat, best.lon, title=best.label[:100], address=text[:100])
    await send_prompt(update, draft, lang)


async def _take_photo(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, lang: str, message: Message
) -> None:
    svc = services(context)
    if draft.step is Step.DESCRIPTION:
        # A photo instead of words: keep its caption as the description.
        draft, _ = await svc.reports.set_description(draft, message.caption)
    largest = message.photo[-1]
    draft = await svc.reports.set_photo(draft, largest.file_id, largest.file_unique_id)
    await reply(update, t(lang, "photo.ok"))
    await send_prompt(update, draft, lang)


async def _take_image_file(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, lang: str, message: Message
) -> None:
    """An image sent as a file: strip its metadata (GPS!) and use only the clean copy."""
    svc = services(context)
    document = message.document
    if document.file_size and document.file_size > MAX_IMAGE_BYTES:
        await reply(update, t(lang, "photo.too_big"))
        return
    try:
        file = await document.get_file()
        clean = strip_metadata(bytes(await file.download_as_bytearray()))
    except NotAnImage:
        await reply(update, t(lang, "photo.not_image"))
        return
    # Show the reporter exactly what the patrol will see; its file id is the clean image.
    sent = await update.effective_chat.send_photo(clean, caption=t(lang, "photo.cleaned"))
    if draft.step is Step.DESCRIPTION:
        draft, _ = await svc.reports.set_description(draft, message.caption)
    largest = sent.photo[-1]
    draft = await svc.reports.set_photo(draft, largest.file_id, largest.file_unique_id)
    await send_prompt(update, draft, lang)


# -- buttons ------------------------------------------------------------------------------------

_STEP_OF = {
    ROp.PLACE: Step.CONFIRM_PLACE,
    ROp.SEEN: Step.SEEN,
    ROp.PEOPLE: Step.PEOPLE,
    ROp.FLAG: Step.FLAGS,
    ROp.FLAGS_DONE: Step.FLAGS,
    ROp.SKIP_DESC: Step.DESCRIPTION,
    ROp.SKIP_PHOTO: Step.PHOTO,
    ROp.SUBMIT: Step.REVIEW,
}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons with ``r:`` data (the reporter's flow, /mytips, /language)."""
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    lang = await language(update, context)
    button = parse_reporter(query.data)
    if button is None or not is_private(update):
        await svc.audit.refused(user.id, Attempt.REPORTER_BUTTON)
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    if button.op is ROp.LANG:
        await set_language(update, context, button.arg or "zh")  # answers the press
        return
    if button.op is ROp.REPORT:
        await query.answer()
        await begin(update, context, Source.REPORTER)
        return
    if button.op is ROp.WITHDRAW:
        await _withdraw(update, context, lang, int(button.arg or 0))
        return
    if button.op is ROp.SECRET:
        await _new_secret(update, context, lang, int(button.arg or 0))
        return
    if button.op is ROp.NOT_ANSWER:
        await _not_an_answer(update, context, lang, int(button.arg or 0))
        return
    if button.op is ROp.CANCEL:
        await query.answer()
        await svc.reports.cancel(user.id)
        await edit_pressed(query)
        await reply(update, t(lang, "cancel.done"), ReplyKeyboardRemove())
        return

    draft = await svc.reports.draft(user.id)
    if button.op is ROp.SUBMIT and replay.applied("submit") is not None:
        # Handled again after a crash that came after the tip was committed: the receipt.
        await query.answer()
        await _submit(update, context, lang)
        return
    if draft is None or draft.step is not _STEP_OF[button.op]:
        if replay.replaying():
            # Handled again after a crash: this press was saved and moved the draft on
            # (state check: each step moves ``step`` forward). Ask where the reporter is.
            await query.answer()
        else:
            # A button from an earlier step or an older report.
            await query.answer(t(lang, "button.stale"))
        if draft is not None:
            await send_prompt(update, draft, lang)
        return
    await query.answer()

    if button.op is ROp.PLACE:
        if button.arg == "none":
            draft = await svc.reports.reject_candidates(draft)
            await edit_pressed(query, rv.choice_echo(lang, "place.none"))
            await send_prompt(update, draft, lang)
            return
        chosen = await svc.reports.choose_candidate(draft, int(button.arg or 0))
        if chosen is None:
            await send_prompt(update, draft, lang)
            return
        await edit_pressed(
            query, rv.choice_echo(lang, "place.chosen") + f" {escape(chosen.place_label or '')}"
        )
        # The place is settled: the 📍 keyboard goes now, as after a pin (an edit cannot
        # carry a reply-keyboard removal, so it rides on this short confirmation).
        await reply(update, t(lang, "location.ok"), ReplyKeyboardRemove())
        await send_prompt(update, chosen, lang)
    elif button.op is ROp.SEEN:
        draft = await svc.reports.set_seen(draft, Seen(button.arg))
        await edit_pressed(query, rv.choice_echo(lang, keys.SEEN[Seen(button.arg)]))
        await send_prompt(update, draft, lang)
    elif button.op is ROp.PEOPLE:
        draft = await svc.reports.set_people(draft, People(button.arg))
        await edit_pressed(query, rv.choice_echo(lang, keys.PEOPLE[People(button.arg)]))
        await send_prompt(update, draft, lang)
    elif button.op is ROp.FLAG:
        flag = Flag(button.arg)
        # On a replay of a toggle that was saved, the draft already has it: compare with the
        # flags before this press, so that the urgent advice is not lost to the crash.
        before = draft.flags ^ {flag} if replay.applied("flag") is not None else draft.flags
        was_urgent = is_urgent(before)
        draft = await svc.reports.toggle_flag(draft, flag)
        await edit_pressed(query, markup=rv.flags_keyboard(draft, lang))
        if is_urgent(draft.flags) and not was_urgent:
            await reply(update, t(lang, "urgent.advice"))
    elif button.op is ROp.FLAGS_DONE:
        draft = await svc.reports.flags_done(draft)
        await edit_pressed(query, rv.flags_echo(draft, lang))
        await send_prompt(update, draft, lang)
    elif button.op is ROp.SKIP_DESC:
        draft, _ = await svc.reports.set_description(draft, None)
        await edit_pressed(query, rv.choice_echo(lang, "description.skipped"))
        await send_prompt(update, draft, lang)
    elif button.op is ROp.SKIP_PHOTO:
        draft = await svc.reports.set_photo(draft, None, None)
        await edit_pressed(query, rv.choice_echo(lang, "photo.skipped"))
        await send_prompt(update, draft, lang)
    elif button.op is ROp.SUBMIT:
        await _submit(update, context, lang)


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    query = update.callback_query
    result = await svc.reports.submit(update.effective_user.id)
    if not result.ok or result.value is None:
        limit = svc.config.reporting.max_open_tips_per_hour
        hotline = svc.config.station.hotline
        text = refusal_text(lang, Topic.SUBMIT, result.refusal, limit=limit, hotline=hotline)
        await reply(update, text)
        return
    # The tip is committed with its card and the receipt (code, claim secret) in the outbox.
    # The receipt goes now, from here; if it cannot, the outbox delivers it (after a crash, on
    # restart). Only then are the review's buttons taken off (cosmetic).
    await svc.reports.send_receipt(result.value)
    await edit_pressed(query)


async def _not_an_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, question_id: int
) -> None:
    """"This was not an answer": the patrol is told; back to the report in progress, or a
    new one."""
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    if await svc.relay.not_an_answer(user.id, question_id) is None:
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    await query.answer(t(lang, "ask.dismissed"))
    await edit_pressed(query)
    draft = await svc.reports.draft(user.id)
    if draft is not None:
        await send_prompt(update, draft, lang)
    else:
        await begin(update, context, Source.REPORTER)


# -- after submitting ---------------------------------------------------------------------------


async def mytips(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    await reply(update, *await _my_tips_view(context, update.effective_user.id, lang))


async def _my_tips_view(context: ContextTypes.DEFAULT_TYPE, user_id: int, lang: str):
    svc = services(context)
    tips = await svc.reports.my_tips(user_id)
    renewable = frozenset(tip.id for tip in await svc.awards.reissuable(user_id, tips))
    return rv.my_tips(tips, lang, svc.clock.tz, renewable)


async def _new_secret(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, tip_id: int
) -> None:
    """/mytips → "new claim secret": the message with the old one was lost or deleted."""
    tip = await services(context).awards.reissue_secret(update.effective_user.id, tip_id)
    key = "secret.sent" if tip is not None else "secret.not_available"
    await update.callback_query.answer(t(lang, key), show_alert=tip is None)


async def _withdraw(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, tip_id: int
) -> None:
    svc = services(context)
    query = update.callback_query
    result = await svc.reports.withdraw(update.effective_user.id, tip_id)
    if not result.ok:
        await query.answer(refusal_text(lang, Topic.WITHDRAW, result.refusal), show_alert=True)
        return
    await query.answer(t(lang, "withdraw.done"))
    text, markup = await _my_tips_view(context, update.effective_user.id, lang)
    await edit_pressed(query, text, markup)
