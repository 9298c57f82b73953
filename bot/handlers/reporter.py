"""The reporter's private flow: location → when → how many → flags → words → photo → review.

The draft lives in the database; this module only reads the update, calls the report service
and renders the next prompt. Any message at any step gets a reply that fits the step.
"""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import CallbackQuery, Message, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot import replay
from bot.domain.draft import (
    Address,
    AmendDone,
    Choose,
    ChooseSpot,
    Draft,
    Event,
    FlagsDone,
    ImageFile,
    NoneOfThese,
    Other,
    Photo,
    Pin,
    Refusal,
    SendNow,
    SetPeople,
    SetSeen,
    SkipPhoto,
    SkipWords,
    Source,
    SpotBack,
    SpotDone,
    Step,
    ToggleFlag,
    Typed,
)
from bot.domain.events import Attempt
from bot.domain.spots import SPOT_MAX_CHARS, Spot
from bot.domain.tips import Flag, People, Seen, is_urgent
from bot.handlers import followup
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
from bot.services.registry import Services
from bot.services.reports import Taken
from bot.services.result import Refusal as Refused
from bot.views import reporter as rv
from bot.views.callbacks import ReporterButton, ROp, parse_reporter
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
        await svc.answers.drop(update.effective_user.id)
    draft = await svc.reports.start(update.effective_user.id, source)
    await send_prompt(update, draft, lang)


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not is_private(update):
        await reply(update, t(await language(update, context), "private_only"))
        return
    await begin(update, context, Source.REPORTER)


# -- messages -----------------------------------------------------------------------------------


def _event_of(message: Message) -> Event | Typed:
    """The message as an event of the report (what typed text is depends on the step)."""
    if message.venue is not None:
        venue = message.venue
        return Pin(venue.location.latitude, venue.location.longitude, venue.title, venue.address)
    if message.location is not None:
        return Pin(message.location.latitude, message.location.longitude)
    if message.text:
        return Typed(message.text)
    if message.photo:
        largest = message.photo[-1]
        return Photo(largest.file_id, largest.file_unique_id, message.caption)
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("image/"):
        return ImageFile()
    return Other()


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every non-command message in a private chat."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    if await _relayed(update, context):
        return  # a question for a reporter, or an answer to the patrol's question
    if await followup.on_reporter_message(update, context):
        return  # a pin or words for the field flow ("not found", "still there?"; issue 13)
    svc = services(context)
    lang = await language(update, context)
    taken = await svc.reports.take(user.id, _event_of(message))
    if isinstance(taken.pending, Address):
        await update.effective_chat.send_action("find_location")  # a lookup takes a moment
        taken = await svc.reports.look_up(user.id, taken.pending, lang)
    elif isinstance(taken.pending, ImageFile):
        photo = await _clean_copy(update, message, lang)
        if photo is None:
            return
        taken = await svc.reports.take(user.id, photo)
        if taken.refusal is None and taken.amended is None:
            await send_prompt(update, taken.draft, lang)  # the clean copy says it was taken
            return
    await _answer_message(update, context, taken, lang)


async def _answer_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, taken: Taken, lang: str
) -> None:
    """What the reporter is told after a message: what it did, or why not, and the question
    they are at."""
    svc = services(context)
    station = svc.config.station
    refusal, draft, event = taken.refusal, taken.draft, taken.event
    if refusal is Refusal.STAFF:
        officer = svc.users.is_officer(update.effective_user.id)
        key = "staff.pointer.officer" if officer else "staff.pointer.patrol"
        await reply(update, t(lang, key))
        return
    if refusal is Refusal.NO_REPORT:
        await reply(update, t(lang, "hint.start"), rv.location_keyboard(lang))
        return
    if refusal is Refusal.OUTSIDE:
        await reply(
            update, t(lang, "location.outside", hotline=station.hotline, station=station.name)
        )
        return
    if refusal in (Refusal.INVALID, Refusal.ADDRESS_BAD):
        await reply(update, t(lang, _SAID[refusal]))
        return
    if taken.amended is not None:
        await _answer_amended(update, context, taken, lang)
        return
    if taken.fell_back:
        await reply(update, t(lang, "address.offline"))
    assert draft is not None
    if refusal is Refusal.NOT_FOUND:
        await reply(
            update,
            t(lang, "address.not_found", hotline=station.hotline),
            rv.place_keyboard(draft.source, lang),
        )
        return
    if refusal is Refusal.SPOT_BAD:
        if not taken.replayed:
            await reply(update, t(lang, "spot.bad", limit=SPOT_MAX_CHARS))
    elif refusal is Refusal.PLACED and isinstance(event, Pin):
        # A pin once the place is settled: the 📍 keyboard has no use any more and goes with
        # the answer. On a replay after a crash, the pin of the draft's place is the one that
        # settled it, and its answer (the keyboard's removal) may never have been sent.
        settled = taken.replayed and (event.lat, event.lon) == (draft.lat, draft.lon)
        said = t(lang, "location.ok" if settled else "location.already")
        await _keyboard_off(update, context, reply(update, said, ReplyKeyboardRemove()))
    elif refusal is not None:
        # WRONG_KIND / PLACED. On a replay after a crash this message moved the draft past
        # the step it fits the first time (every step saves absolute values and moves on), so
        # it is not "the wrong kind": only the question the reporter is at is asked again.
        if not taken.replayed:
            key = _SAID.get(refusal) or keys.WRONG[draft.step]
            await reply(update, t(lang, key))
    elif isinstance(event, Pin):
        said = reply(update, t(lang, "location.ok"), ReplyKeyboardRemove())
        await _keyboard_off(update, context, said)
    elif isinstance(event, Address):
        # Show the best match back as a pin, then ask whether that is the place.
        lat, lon, label = draft.candidates[0]
        address = (draft.address or "")[:100]
        # The 📍 keyboard goes with it: a press of "that is the place" then makes its message
        # the next question in one edit, which cannot carry a reply-keyboard removal ("none of
        # these" asks for the place again with the keyboard).
        shown = update.effective_chat.send_venue(
            lat, lon, title=label[:100], address=address, reply_markup=ReplyKeyboardRemove()
        )
        await _keyboard_off(update, context, shown)
    elif taken.cut:
        limit = svc.config.reporting.description_max_chars
        await reply(update, t(lang, "description.cut", limit=limit))
    elif isinstance(event, Photo):
        await reply(update, t(lang, "photo.ok"))
    await send_prompt(update, draft, lang)


async def _keyboard_off(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sending: Awaitable[object]
) -> None:
    """Send a message that removes the 📍 keyboard. If it fails, the draft remembers that the
    keyboard may still show, so that the receipt removes it (then the error goes on as any)."""
    try:
        await sending
    except Exception:
        await services(context).reports.keyboard_not_removed(update.effective_user.id)
        raise


#: What a refusal says, where it is one message (WRONG_KIND: the step's own "wrong.<step>").
_SAID = {
    Refusal.INVALID: "location.invalid",
    Refusal.ADDRESS_BAD: "address.bad",
    Refusal.PLACED: "location.already",
}


async def _answer_amended(
    update: Update, context: ContextTypes.DEFAULT_TYPE, taken: Taken, lang: str
) -> None:
    """What adding to a submitted tip did: added (the card shows it), or why not."""
    svc = services(context)
    result = taken.amended
    assert result is not None
    if result.ok and result.value is not None:
        added = t(lang, "amend.added", code=result.value.tip.code)
        await reply(update, added, rv.amend_keyboard(lang))
        if result.value.became_urgent:
            await reply(update, t(lang, "urgent.advice"))
        return
    go_on = result.refusal in (Refused.INCOMPLETE, Refused.RACE)  # still adding
    markup = rv.amend_keyboard(lang) if go_on else None
    await reply(update, _amend_refusal(svc, result.refusal, lang), markup)


def _amend_refusal(svc: Services, refusal: Refused | None, lang: str) -> str:
    """Why nothing was added (the tip is closed to additions: the hotline instead)."""
    hotline = svc.config.station.hotline
    if refusal is Refused.TOO_LATE:
        minutes = svc.config.reporting.amend_minutes
        return t(lang, "amend.too_late", minutes=minutes, hotline=hotline)
    if refusal is Refused.CLOSED:
        return t(lang, "amend.closed", hotline=hotline)
    if refusal is Refused.INCOMPLETE:
        return t(lang, "amend.nothing")
    if refusal is Refused.RACE:
        return t(lang, "amend.again")
    return t(lang, "button.invalid")


async def _clean_copy(update: Update, message: Message, lang: str) -> Photo | None:
    """An image sent as a file: strip its metadata (GPS!) and use only the clean copy, which
    the reporter is shown (its file id is what the patrol will see). None: not usable."""
    document = message.document
    if document.file_size and document.file_size > MAX_IMAGE_BYTES:
        await reply(update, t(lang, "photo.too_big"))
        return None
    try:
        file = await document.get_file()
        clean = strip_metadata(bytes(await file.download_as_bytearray()))
    except NotAnImage:
        await reply(update, t(lang, "photo.not_image"))
        return None
    sent = await update.effective_chat.send_photo(clean, caption=t(lang, "photo.cleaned"))
    largest = sent.photo[-1]
    return Photo(largest.file_id, largest.file_unique_id, message.caption)


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
        await reply(update, refusal_text(lang, Topic.ASK, Refused.TOO_LONG))
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


# -- buttons ------------------------------------------------------------------------------------


def _press_event(button: ReporterButton) -> Event:
    """A press of one of the report's buttons as an event (the payload is already checked)."""
    arg = button.arg or ""
    match button.op:
        case ROp.PLACE:
            return NoneOfThese() if arg == "none" else Choose(int(arg or 0))
        case ROp.SEEN:
            return SetSeen(Seen(arg))
        case ROp.PEOPLE:
            return SetPeople(People(arg))
        case ROp.FLAG:
            return ToggleFlag(Flag(arg))
        case ROp.FLAGS_DONE:
            return FlagsDone()
        case ROp.SKIP_DESC:
            return SkipWords()
        case ROp.SKIP_PHOTO:
            return SkipPhoto()
        case ROp.SPOT:
            return ChooseSpot(Spot(arg))
        case ROp.SPOT_BACK:
            return SpotBack()
        case ROp.SPOT_DONE:
            return SpotDone()
        case ROp.AMEND_DONE:
            return AmendDone()
    raise ValueError(f"not a button of the report: {button.op}")


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

    if button.op in (ROp.SUBMIT, ROp.NOW):
        await _submit(update, context, lang, now=button.op is ROp.NOW)
        return
    if button.op is ROp.AMEND:
        await _begin_amend(update, context, lang, int(button.arg or 0))
        return
    taken = await svc.reports.take(user.id, _press_event(button))
    await _answer_press(update, context, taken, lang)


async def _answer_press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, taken: Taken, lang: str
) -> None:
    query = update.callback_query
    draft, event = taken.draft, taken.event
    if (draft is None and not isinstance(event, AmendDone)) or taken.refusal is Refusal.STALE:
        # A button from an earlier step or an older report; on a replay after a crash, this
        # press was saved and moved the draft on: only the question the reporter is at.
        await query.answer(None if taken.replayed else t(lang, "button.stale"))
        if draft is not None:
            await send_prompt(update, draft, lang)
        return
    if taken.amended is not None:  # a flag added to the submitted tip
        await query.answer()
        await _answer_amended(update, context, taken, lang)
        return
    await query.answer()
    if isinstance(event, AmendDone):
        await edit_pressed(query)
        await reply(update, t(lang, "amend.done"))
        return
    if draft is None:
        return
    if taken.refusal is not None:  # NO_SUCH_PLACE: a place the draft does not offer
        await send_prompt(update, draft, lang)
        return
    if isinstance(event, ToggleFlag) and draft.step is Step.FLAGS:
        await edit_pressed(query, markup=rv.flags_keyboard(draft, lang))  # ticked or not
    elif not await _ask_in_pressed(update, event, draft, lang):
        # The next question needs a reply keyboard (the 📍 button again, after "none of
        # these"), which an edit cannot carry: the answer stays on the pressed message and
        # the question comes as a new one.
        await edit_pressed(query, rv.answered(_shown(query), event, draft, lang))
        await send_prompt(update, draft, lang)
    if isinstance(event, ToggleFlag):
        assert taken.before is not None
        if is_urgent(draft.flags) and not is_urgent(taken.before.flags):
            # Its own message, on purpose: the 120/110 advice stays in the chat.
            await reply(update, t(lang, "urgent.advice"))


def _shown(query: CallbackQuery) -> str | None:
    """The pressed message's text as HTML (its record of answers is kept), if it has one."""
    message = query.message
    return message.text_html if message is not None and message.is_accessible else None


async def _ask_in_pressed(update: Update, event: Event, draft: Draft, lang: str) -> bool:
    """Make the pressed message the next question (its answers kept, this one added) in one
    edit; if that edit cannot be made (the message is gone or too old, Telegram failing), the
    question comes as a new message. False: the question cannot ride on an edit."""
    question = rv.next_question(_shown(update.callback_query), event, draft, lang)
    if question is None:
        return False
    if not await edit_pressed(update.callback_query, *question):
        await reply(update, *question)
    return True


async def _submit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, *, now: bool = False
) -> None:
    """The review's "submit", or "send now" on the message after the place."""
    svc = services(context)
    query = update.callback_query
    user_id = update.effective_user.id
    before = await svc.reports.draft(user_id) if now else None
    if now:
        result = await svc.reports.submit_now(user_id)
    else:
        result = await svc.reports.submit_review(user_id)
    if result.refusal is Refused.STALE:
        # The review's button while the report is at another step: that step again.
        await query.answer(None if replay.replaying() else t(lang, "button.stale"))
        draft = await svc.reports.draft(update.effective_user.id)
        if draft is not None:
            await send_prompt(update, draft, lang)
        return
    await query.answer()
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
    if before is not None:  # the message after the place reads as a record of the spot
        await edit_pressed(query, rv.answered(_shown(query), SendNow(), before, lang))
    else:
        await edit_pressed(query)


async def _begin_amend(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, tip_id: int
) -> None:
    """ "Add to this tip" under the offer after submitting."""
    svc = services(context)
    query = update.callback_query
    result = await svc.reports.begin_amend(update.effective_user.id, tip_id)
    if result.refusal is Refused.ALREADY:  # a report in progress: its question again
        await query.answer(t(lang, "amend.busy"), show_alert=True)
        draft = await svc.reports.draft(update.effective_user.id)
        if draft is not None:
            await send_prompt(update, draft, lang)
        return
    if not result.ok:
        text = _amend_refusal(svc, result.refusal, lang)
        if result.refusal in (Refused.TOO_LATE, Refused.CLOSED):
            await query.answer()
            await edit_pressed(query)  # the offer is over
            await reply(update, text)
        else:
            await svc.audit.refused(update.effective_user.id, Attempt.REPORTER_BUTTON)
            await query.answer(text, show_alert=True)
        return
    await query.answer()
    assert result.value is not None
    await reply(update, t(lang, "amend.ask_code", code=result.value.code), rv.amend_keyboard(lang))


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
