"""Buttons on a tip's card (``tip:…``) and evidence sent as replies to it.

Stateless: the tip id is in the button, the truth is in the database. Whoever presses is
checked against the transition table for that tip; a refusal is answered and recorded.
"""

from __future__ import annotations

from html import escape

from telegram import ForceReply, Message, Update
from telegram.ext import ContextTypes

from bot.domain.patrol import clean_area
from bot.domain.tips import Action, Outcome, supplies_from_mask
from bot.handlers import reporter
from bot.handlers.common import edit_pressed, is_private, language, reply, services
from bot.i18n import t
from bot.services.field import ActError, EvidenceResult
from bot.services.patrols import PatrolError
from bot.services.people import mention, person
from bot.services.relay import RelayResult
from bot.views import cards as cv
from bot.views.callbacks import OP_ACTIONS, TipOp, parse_tip

_DONE_KEYS = {
    Action.CLAIM: "done.claim",
    Action.RELEASE: "done.release",
    Action.GO: "done.go",
    Action.ARRIVE: "done.arrive",
    Action.CLOSE: "done.close",
}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    lang = await language(update, context)
    button = parse_tip(query.data)
    tip = await svc.deps.repo.get_tip(button.tip_id) if button else None
    if button is None or tip is None:
        await svc.field.record_denied(button.tip_id if button else None, user.id, "tip_button")
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return

    if button.op is TipOp.SHOW:
        # The live copy goes to the officer's own chat, wherever the button was pressed.
        if await svc.field.show_card(tip.id, user.id, user.id):
            await query.answer(t(lang, "open.sent", code=tip.code))
        else:
            await svc.field.record_denied(tip.id, user.id, "show")
            await query.answer(t(lang, "refused.officer_only"), show_alert=True)
        return

    if button.op is TipOp.FULL:
        if await svc.field.post_full_card(tip, update.effective_chat.id, user.id):
            await query.answer(t(lang, "open.sent", code=tip.code))
        else:
            await query.answer(
                t(lang, "refused.not_allowed", group=_group_name(svc, tip)), show_alert=True
            )
        return

    if button.op is TipOp.ASK_REPORTER:
        await _ask_reporter(update, context, lang, tip)
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
            tip.id,
            action,
            user.id,
            outcome=button.outcome,
            supplies=supplies,
            duplicate_of=duplicate_of,
        )
        if result.ok:
            await query.answer(t(lang, _DONE_KEYS[action], code=tip.code))
        else:
            await _refuse(update, context, lang, result.error, result.tip or tip)
        return

    # The remaining operations only change which buttons the card shows (no state change);
    # they are checked against the table first so that nobody sees buttons they cannot use.
    outcome = {
        TipOp.ASK: button.outcome,
        TipOp.SUPPLIES: Outcome.SUPPLIES_ONLY,
        TipOp.DUPS: Outcome.DUPLICATE,
        TipOp.BACK: None,
    }[button.op]
    if outcome is not None:
        error = await svc.field.check(tip, user.id, Action.CLOSE, outcome)
        if error is not None:
            await _refuse(update, context, lang, error, tip)
            return
    elif not (await svc.field.actor_now(tip, user.id)).is_staff:
        # "Back" changes no state, but only those who may act on a tip may reset its card.
        await svc.field.record_denied(tip.id, user.id, "back")
        await _refuse(update, context, lang, ActError.NOT_ALLOWED, tip)
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
        markup = cv.card_keyboard(tip, lang)
    await edit_pressed(query, markup=markup)
    await query.answer()


def _group_name(svc, tip) -> str:
    try:
        return svc.deps.directory.team(tip.group_key).name
    except KeyError:
        return tip.group_key


async def _ask_reporter(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, tip) -> None:
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    refusal = await svc.relay.may_ask(tip, user.id)
    if refusal is not None:
        await query.answer(t(lang, f"ask.refused.{refusal.value}"), show_alert=True)
        return
    await query.answer()
    # Named, with a selective ForceReply: the member's own app opens the reply to the prompt.
    prompt = await update.effective_chat.send_message(
        t(
            lang,
            "ask.prompt",
            code=tip.code,
            member=mention(await person(svc.deps, user.id), lang),
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
    if done.result is RelayResult.NOT_OURS:
        return  # an ordinary conversation in the group
    lang = await language(update, context)
    key = "ask.sent" if done.result is RelayResult.SENT else f"ask.refused.{done.result.value}"
    await message.reply_text(t(lang, key, code=done.tip.code if done.tip else ""))


async def _refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, error: ActError | None, tip
) -> None:
    svc = services(context)
    query = update.callback_query
    if error in (ActError.WRONG_STATE, ActError.RACE):
        # A stale card: say what happened and make sure the card shows the truth.
        await svc.field.refresh_card(tip.id)
        text = t(lang, "refused.stale", code=tip.code, state=cv.state_label(tip, lang))
        await query.answer(text, show_alert=True)
        return
    if error is ActError.NOT_ALLOWED:
        try:
            team = svc.deps.directory.team(tip.group_key)
        except KeyError:
            team = None
        if team is not None and tip.claimed_by and team.includes(update.effective_user.id):
            # A member of the right group who is not the claimer: say who has it.
            name = (await person(svc.deps, tip.claimed_by)).label(lang)
            await query.answer(t(lang, "refused.not_claimer", name=name), show_alert=True)
            return
        group = team.name if team is not None else tip.group_key
        await query.answer(t(lang, "refused.not_allowed", group=group), show_alert=True)
        return
    key = "refused.bad_duplicate" if error is ActError.BAD_DUPLICATE else "button.invalid"
    await query.answer(t(lang, key), show_alert=True)


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
    result, tip, count = await svc.field.attach_evidence(
        message.chat_id, message.reply_to_message.message_id, user.id, kind, file_id, unique_id
    )
    if result is EvidenceResult.NOT_A_CARD:
        if is_private(update):
            # An officer's reply to one of their own report's questions (e.g. the photo for
            # /newtip): it belongs to that flow, like any other private message.
            await reporter.on_message(update, context)
        return  # an ordinary reply in the group chat: not ours to comment on
    if result is EvidenceResult.NOT_ALLOWED:
        await message.reply_text(t(lang, "evidence.not_allowed"))
        return
    await message.reply_text(t(lang, "evidence.added", code=tip.code, count=count))


# -- the patrol log -------------------------------------------------------------------------


async def patrol_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patrol_start [area] in a patrol group."""
    svc = services(context)
    lang = await language(update, context)
    area = clean_area(" ".join(context.args or []))  # as stored: bounded, so echoing it is safe
    error, group, area_set = await svc.patrols.start(
        update.effective_chat.id, update.effective_user.id, area
    )
    if error is PatrolError.NOT_A_GROUP:
        await reply(update, t(lang, "patrol.group_only"))
    elif error is PatrolError.NOT_MEMBER:
        await reply(update, t(lang, "patrol.not_member", group=escape(group or "")))
    elif error is PatrolError.ALREADY:
        await reply(update, t(lang, "patrol.already"))
    elif area_set:
        await reply(update, t(lang, "patrol.area_set", area=escape(area or "")))
    elif area is None:
        example = (svc.deps.config.patrol.areas or [t(lang, "usage.patrol_start")])[0]
        text = t(lang, "patrol.started_no_area", group=escape(group or ""), example=escape(example))
        await reply(update, text)
    else:
        await reply(update, t(lang, "patrol.started", group=escape(group or ""), area=escape(area)))


async def patrol_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patrol_end PEOPLE [COATS] [QUILTS] [FOOD] in a patrol group."""
    svc = services(context)
    lang = await language(update, context)
    error, done = await svc.patrols.end(
        update.effective_chat.id, update.effective_user.id, list(context.args or [])
    )
    if error is PatrolError.NOT_A_GROUP:
        await reply(update, t(lang, "patrol.group_only"))
    elif error is PatrolError.NOT_MEMBER:
        await reply(update, t(lang, "patrol.not_member", group=""))
    elif error is PatrolError.BAD_COUNTS:
        await reply(update, t(lang, "patrol.usage_end"))
    elif error is PatrolError.NONE_OPEN:
        await reply(update, t(lang, "patrol.none_open"))
    else:
        assert done is not None
        given = cv.supplies_counts_text(done["supplies"], lang)
        await reply(
            update,
            t(lang, "patrol.ended", minutes=done["minutes"], people=done["people"], supplies=given),
        )
