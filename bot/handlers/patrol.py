"""Buttons on a tip's card (``tip:…``) and evidence sent as replies to it.

Stateless: the tip id is in the button, the truth is in the database. Whoever presses is
checked against the transition table for that tip; a refusal is answered and recorded.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.domain.tips import Action, Outcome, supplies_from_mask
from bot.handlers.common import language, services
from bot.i18n import t
from bot.services.field import ActError, EvidenceResult
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
        if await svc.field.show_card(tip.id, update.effective_chat.id, user.id):
            await query.answer(t(lang, "open.sent", code=tip.code))
        else:
            await svc.field.record_denied(tip.id, user.id, "show")
            await query.answer(t(lang, "refused.officer_only"), show_alert=True)
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
    await query.edit_message_reply_markup(markup)
    await query.answer()


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
            group = svc.deps.directory.team(tip.group_key).name
        except KeyError:
            group = tip.group_key
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
        return  # an ordinary reply in the group chat: not ours to comment on
    if result is EvidenceResult.NOT_ALLOWED:
        await message.reply_text(t(lang, "evidence.not_allowed"))
        return
    await message.reply_text(t(lang, "evidence.added", code=tip.code, count=count))
