"""Buttons on a tip's card (``tip:…``) and evidence sent as replies to it.

Stateless: the tip id is in the button, the truth is in the database. Whoever presses is
checked against the transition table for that tip; a refusal is answered and recorded.
"""

from __future__ import annotations

from html import escape

from telegram import ForceReply, Message, Update
from telegram.ext import ContextTypes

from bot.domain.events import Attempt
from bot.domain.patrol import clean_area
from bot.domain.tips import Action, Outcome, Tip, supplies_from_mask
from bot.handlers import reporter
from bot.handlers.common import edit_pressed, is_private, language, reply, services
from bot.i18n import t
from bot.services.result import Refusal, Result
from bot.views import cards as cv
from bot.views.callbacks import OP_ACTIONS, TipOp, parse_tip
from bot.views.people import label, mention
from bot.views.refusals import Topic, refusal_text

_DONE_KEYS = {
    Action.CLAIM: "done.claim",
    Action.RELEASE: "done.release",
    Action.GO: "done.go",
    Action.ARRIVE: "done.arrive",
    Action.CLOSE: "done.close",
}

#: The outcome a picker button shows the card for (None: back to the card's buttons).
_PICKERS = {TipOp.SUPPLIES: Outcome.SUPPLIES_ONLY, TipOp.DUPS: Outcome.DUPLICATE, TipOp.BACK: None}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    lang = await language(update, context)
    button = parse_tip(query.data)
    if button is None:
        await _refuse(update, context, lang, Result(refusal=Refusal.NO_TIP))
        return

    if button.op in (TipOp.SHOW, TipOp.FULL):
        if button.op is TipOp.SHOW:
            # The live copy goes to the officer's own chat, wherever the button was pressed.
            sent = await svc.field.show_card(button.tip_id, user.id, user.id)
        else:
            chat_id = update.effective_chat.id
            sent = await svc.field.post_full_card(button.tip_id, chat_id, user.id)
        if sent.ok and sent.value is not None:
            await query.answer(t(lang, "open.sent", code=sent.value.code))
        else:
            await _refuse(update, context, lang, sent)
        return

    if button.op is TipOp.ETA:
        result = await svc.arrival.set_eta(button.tip_id, user.id, button.number or 0)
        if result.ok and result.value is not None and result.value.eta_at is not None:
            at = svc.clock.local(result.value.eta_at).strftime("%H:%M")
            await query.answer(t(lang, "eta.done", code=result.value.code, at=at))
        else:
            await _refuse(update, context, lang, result)
        return

    if button.op is TipOp.ASK_REPORTER:
        await _ask_reporter(update, context, lang, button.tip_id)
        return

    if button.op in OP_ACTIONS or button.op is TipOp.CLOSE:
        action = OP_ACTIONS.get(button.op, Action.CLOSE)
        supplies = frozenset()
        duplicate_of = None
        if button.outcome is Outcome.SUPPLIES_ONLY:
            supplies = supplies_from_mask(button.number or 0)
        elif button.outcome is Outcome.DUPLICATE:
            duplicate_of = button.number
        result = await svc.field.act(
            button.tip_id,
            action,
            user.id,
            outcome=button.outcome,
            supplies=supplies,
            duplicate_of=duplicate_of,
        )
        if result.ok and result.value is not None:
            await query.answer(t(lang, _DONE_KEYS[action], code=result.value.code))
        else:
            await _refuse(update, context, lang, result)
        return

    # The remaining operations only change which buttons the card shows (no state change);
    # they are checked against the table first so that nobody sees buttons they cannot use.
    outcome = button.outcome if button.op is TipOp.ASK else _PICKERS[button.op]
    if outcome is not None:
        checked = await svc.field.check(button.tip_id, user.id, Action.CLOSE, outcome)
    else:
        # "Back" changes no state, but only those who may act on a tip may reset its card.
        checked = await svc.field.may_act(button.tip_id, user.id, Attempt.BACK)
    tip = checked.value
    if not checked.ok or tip is None:
        await _refuse(update, context, lang, checked)
        return
    if button.op is TipOp.ASK:
        markup = cv.confirm_keyboard(tip, outcome, lang)
    elif button.op is TipOp.SUPPLIES:
        markup = cv.supplies_keyboard(tip, button.number or 0, lang)
    elif button.op is TipOp.DUPS:
        candidates = await svc.cards.duplicate_candidates(tip)
        if not candidates:
            await query.answer(t(lang, "dups.none"), show_alert=True)
            return
        markup = cv.duplicates_keyboard(tip, candidates, lang)
    else:
        markup = cv.card_keyboard(tip, lang, svc.config.field.eta_choices)
    await edit_pressed(query, markup=markup)
    await query.answer()


async def _ask_reporter(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, tip_id: int
) -> None:
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    allowed = await svc.relay.may_ask(tip_id, user.id)
    tip = allowed.value
    if allowed.refusal is Refusal.NO_TIP or tip is None:
        await _refuse(update, context, lang, allowed)
        return
    if not allowed.ok:
        await query.answer(refusal_text(lang, Topic.ASK, allowed.refusal), show_alert=True)
        return
    await query.answer()
    # Named, with a selective ForceReply: the member's own app opens the reply to the prompt.
    prompt = await update.effective_chat.send_message(
        t(
            lang,
            "ask.prompt",
            code=tip.code,
            member=mention(await svc.naming.person(user.id), lang),
        ),
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=t(lang, "placeholder.question")
        ),
    )
    await svc.relay.remember_prompt(prompt.chat_id, prompt.message_id, tip.id, user.id)


async def on_group_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text in a patrol group: a member's question for a reporter when it replies to an ask
    prompt or to a relayed answer, or comes from a member who was just prompted (a reply to
    the card, or plain text where the bot can see it). Anything else is the group's own
    conversation. (A prompt whose question never came is followed up: RelayService.nudge.)"""
    message = update.effective_message
    svc = services(context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    done = await svc.relay.ask(
        message.chat_id, update.effective_user.id, message.text or "", reply_to
    )
    if done is None:
        return  # an ordinary conversation in the group
    lang = await language(update, context)
    code = done.value.tip.code if done.value else ""
    if done.ok:
        await message.reply_text(t(lang, "ask.sent", code=code))
    else:
        await message.reply_text(refusal_text(lang, Topic.ASK, done.refusal, code=code))


async def _refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, result: Result[Tip]
) -> None:
    """Answer a press that did nothing, saying why (an alert, so it cannot be missed)."""
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    tip, why = result.value, result.refusal
    if why is Refusal.NO_TIP or tip is None:
        # Forged, or a tip that is not there: nothing to show.
        await svc.audit.refused(user.id, Attempt.TIP_BUTTON)
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    if why in (Refusal.WRONG_STATE, Refusal.RACE):
        # A stale card: say what happened and make sure the card shows the truth.
        await svc.field.refresh_card(tip.id)
        state = cv.state_label(tip, lang)
        await query.answer(
            refusal_text(lang, Topic.TIP, why, code=tip.code, state=state), show_alert=True
        )
        return
    if why is Refusal.NOT_ALLOWED and tip.claimed_by and svc.field.in_group(tip, user.id):
        # A member of the right group who is not the claimer: say who has it.
        name = label(await svc.naming.person(tip.claimed_by), lang)
        await query.answer(t(lang, "refused.not_claimer", name=name), show_alert=True)
        return
    group = svc.field.group_name(tip)
    await query.answer(refusal_text(lang, Topic.TIP, why, group=group), show_alert=True)


_EVIDENCE_KINDS = ("photo", "video", "voice", "video_note", "audio", "document")


def _evidence_of(message: Message) -> tuple[str, str, str] | None:
    """(kind, file_id, file_unique_id) of the media in a message, if any."""
    if message.photo:
        largest = message.photo[-1]
        return "photo", largest.file_id, largest.file_unique_id
    for kind in _EVIDENCE_KINDS[1:]:
        media = getattr(message, kind)
        if media is not None:
            return kind, media.file_id, media.file_unique_id
    return None


async def on_evidence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Media sent in a patrol group (or an officer's chat) as a reply to a tip's message."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    media = _evidence_of(message)
    if media is None:
        return
    svc = services(context)
    lang = await language(update, context)
    kind, file_id, unique_id = media
    result = await svc.field.attach_evidence(
        message.chat_id, message.reply_to_message.message_id, user.id, kind, file_id, unique_id
    )
    if result.refusal is Refusal.NOT_A_CARD:
        if is_private(update):
            # An officer's reply to one of their own report's questions (e.g. the photo for
            # /newtip): it belongs to that flow, like any other private message.
            await reporter.on_message(update, context)
        return  # an ordinary reply in the group chat: not ours to comment on
    evidence = result.value
    if not result.ok or evidence is None:
        await message.reply_text(t(lang, "evidence.not_allowed"))
        return
    await message.reply_text(
        t(lang, "evidence.added", code=evidence.tip.code, count=evidence.count)
    )


# -- the patrol log -------------------------------------------------------------------------


async def patrol_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patrol_start [area] in a patrol group."""
    svc = services(context)
    lang = await language(update, context)
    area = clean_area(" ".join(context.args or []))  # as stored: bounded, so echoing it is safe
    result = await svc.patrols.start(update.effective_chat.id, update.effective_user.id, area)
    group = escape(result.value.group) if result.value else ""
    if not result.ok:
        await reply(update, refusal_text(lang, Topic.PATROL, result.refusal, group=group))
    elif result.value and result.value.area_set:
        await reply(update, t(lang, "patrol.area_set", area=escape(area or "")))
    elif area is None:
        example = (svc.config.patrol.areas or [t(lang, "usage.patrol_start")])[0]
        text = t(lang, "patrol.started_no_area", group=group, example=escape(example))
        await reply(update, text)
    else:
        await reply(update, t(lang, "patrol.started", group=group, area=escape(area)))


async def patrol_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patrol_end PEOPLE [COATS] [QUILTS] [FOOD] in a patrol group."""
    svc = services(context)
    lang = await language(update, context)
    result = await svc.patrols.end(
        update.effective_chat.id, update.effective_user.id, list(context.args or [])
    )
    done = result.value
    if not result.ok or done is None:
        await reply(update, refusal_text(lang, Topic.PATROL, result.refusal, group=""))
        return
    given = cv.supplies_counts_text(done.supplies, lang)
    text = t(lang, "patrol.ended", minutes=done.minutes, people=done.people, supplies=given)
    await reply(update, text)
