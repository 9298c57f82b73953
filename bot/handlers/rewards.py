"""Rewards: the officer's /rewards, /ledger, /claim, /reverse and buttons; the reporter's phone.

Typed answers (a reject reason, a payment reference, an amount) are remembered in the
database as a *pending input*; the composition root routes that officer's next text here.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import CallbackQuery, Message, ReplyKeyboardRemove, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.domain.events import Attempt
from bot.domain.officer_input import Pay, Reject, ask_method, ask_reason
from bot.domain.officer_input import Refusal as InputRefusal
from bot.domain.rewards import PayMethod, Reward, RewardAction, RewardState
from bot.handlers import reporter
from bot.handlers.common import (
    edit_pressed,
    edit_shown,
    language,
    officer_language,
    officers_only,
    reply,
    services,
)
from bot.i18n import keys, t
from bot.services.answers import Answered
from bot.services.result import Refusal, Result
from bot.views import rewards as rv
from bot.views.callbacks import RwOp, parse_reward
from bot.views.refusals import Topic, refusal_text

log = logging.getLogger(__name__)

#: What a refused reward button is recorded as.
_ATTEMPTS = {
    RwOp.APPROVE: Attempt.REWARD_APPROVE,
    RwOp.REJECT: Attempt.REWARD_REJECT,
    RwOp.PAY: Attempt.REWARD_PAY,
    RwOp.METHOD: Attempt.REWARD_METHOD,
    RwOp.AMOUNT: Attempt.REWARD_AMOUNT,
    RwOp.PHONE: Attempt.REWARD_PHONE,
}


@officers_only(Attempt.REWARDS)
async def rewards_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    await reply(update, *await _list(context, lang))


async def _list(context: ContextTypes.DEFAULT_TYPE, lang: str) -> tuple[str, object]:
    svc = services(context)
    return rv.reward_list(await svc.rewards.pending_lines(), lang, svc.clock.now())


@officers_only(Attempt.LEDGER)
async def ledger_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    await reply(update, rv.ledger_text(await svc.rewards.ledger_report(), lang))


@officers_only(Attempt.CLAIM)
async def claim_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    """/claim HS-0042 SECRET — an anonymous reporter at the counter."""
    svc = services(context)
    args = context.args or []
    tip = await svc.field.tip_for_code(args[0], svc.config.station.code_prefix) if args else None
    if tip is None or len(args) != 2:
        await reply(update, t(lang, "claim.usage"))
        return
    officer = update.effective_user.id
    result = await svc.rewards.check_claim(tip, args[1], officer)
    claim = result.value
    reward = claim.reward if claim else None
    if result.ok and reward is not None:
        await svc.answers.expect(officer, ask_method(reward.id))
        markup = rv.method_keyboard(reward.id, lang)
        await reply(update, t(lang, "claim.ok", code=tip.code, amount=reward.amount), markup)
        return
    params: dict[str, object] = {"code": tip.code, "left": claim.tries_left if claim else 0}
    if result.refusal is Refusal.REJECTED and reward is not None:
        params["reason"] = escape(reward.reject_reason or "—")
    elif result.refusal is Refusal.PAID and reward is not None:
        params |= rv.paid_params(reward, lang, svc.clock.tz)
    elif reward is None:
        result = Result(refusal=Refusal.NO_REWARD)
    await reply(update, refusal_text(lang, Topic.CLAIM, result.refusal, **params))


@officers_only(Attempt.REVERSE)
async def reverse_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    """/reverse HS-0042 reason — take back a recorded payment with a reversing entry."""
    svc = services(context)
    args = context.args or []
    tip = await svc.field.tip_for_code(args[0], svc.config.station.code_prefix) if args else None
    reward = await svc.rewards.reward_of(tip.id) if tip else None
    if reward is None or len(args) < 2:
        await reply(update, t(lang, "reverse.usage"))
        return
    result = await svc.rewards.reverse(reward.id, update.effective_user.id, " ".join(args[1:]))
    if result.ok:
        await reply(update, t(lang, "reverse.done", code=args[0].upper()))
        return
    now = result.value
    state = t(lang, keys.REWARD_STATE[now.state]) if now else "—"
    await reply(update, refusal_text(lang, Topic.REWARD, result.refusal, state=state))


# -- buttons ------------------------------------------------------------------------------------
#
# Rule: a message whose action is done shows the new state. The /rewards list is edited to the
# list as it is now after every press on it (and after the typed reason or the payment its
# button started); a method or amount prompt loses its buttons and echoes the choice; a second
# press of an old button is answered "already done" and changes nothing.


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    button = parse_reward(query.data)
    if button is None:
        lang = await language(update, context)
        await svc.audit.refused(user.id, Attempt.REWARD_BUTTON, reason=Refusal.NO_REWARD)
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    attempt = _ATTEMPTS[button.op]
    lang = await officer_language(update, context, attempt, {"reward": button.reward_id})
    if lang is None:
        return
    reward = await svc.rewards.reward(button.reward_id)
    if reward is None:
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    code = await svc.rewards.code(reward)
    # The /rewards list the button is on (None: pressed elsewhere, e.g. a forged press).
    pressed = query.message.message_id if _shown(query) and query.message.text else None
    if button.op is RwOp.APPROVE:
        result = await svc.rewards.approve(reward.id, user.id)
        if result.ok:
            await query.answer(t(lang, "reward.done.approved", code=code))
        else:
            await _refuse(update, context, lang, RewardAction.APPROVE, result, code)
        await _show_list(query, context, lang)
    elif button.op in (RwOp.REJECT, RwOp.PAY):
        # The action's first question, if it fits the reward now.
        reject = button.op is RwOp.REJECT
        first = ask_reason(reward.id, pressed) if reject else ask_method(reward.id, pressed)
        check = await svc.answers.begin(reward, user.id, first)
        if not check.ok:
            action = RewardAction.REJECT if reject else RewardAction.PAY
            await _refuse(update, context, lang, action, check, code)
            await _show_list(query, context, lang)
            return
        await query.answer()
        if reject:
            await reply(update, t(lang, "reward.ask.reason", code=code))
        else:
            markup = rv.method_keyboard(reward.id, lang)
            await reply(update, t(lang, "reward.ask.method", code=code), markup)
    elif button.op is RwOp.METHOD:
        await _choose_method(update, context, lang, reward, code, PayMethod(button.method))
    elif button.op is RwOp.AMOUNT:
        answered = await svc.answers.confirm_amount(user.id, reward)
        if answered.done is None and answered.error is not None:
            await _refuse(update, context, lang, RewardAction.PAY, answered.result, code)
            await _done(query)  # a paid reward's amount prompt offers nothing more
        elif answered.refusal is InputRefusal.STALE:
            await query.answer(t(lang, "button.stale"), show_alert=True)
        else:
            await _paid(update, context, lang, answered)
    elif button.op is RwOp.PHONE:
        phone = await svc.rewards.view_phone(reward.id, user.id)
        await query.answer()
        if not phone.ok:
            await reply(update, refusal_text(lang, Topic.REWARD, phone.refusal, state="—"))
        else:
            await reply(update, t(lang, "reward.phone", code=code, phone=escape(phone.value or "")))


async def _choose_method(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    lang: str,
    reward: Reward,
    code: str,
    method: PayMethod,
) -> None:
    query = update.callback_query
    answered = await services(context).answers.choose_method(
        update.effective_user.id, reward, method
    )
    if answered.error is not None:
        await _refuse(update, context, lang, RewardAction.PAY, answered.result, code)
        await _done(query)  # nothing left to choose on this prompt
        return
    if answered.refusal is InputRefusal.METHOD_CHOSEN and answered.was is not None:
        # A second press (or another method on the same prompt): the method is chosen.
        chosen = t(lang, keys.PAY[answered.was.method])
        await query.answer(
            t(lang, "reward.already.method", code=code, method=chosen), show_alert=True
        )
        await _done(query)
        return
    await query.answer()
    await reply(update, t(lang, "reward.ask.reference", code=code))
    await _done(query, _echo(query, t(lang, keys.PAY[method])))


def _shown(query: CallbackQuery) -> bool:
    """Whether the pressed message still shows the pressed button (a /rewards list or a
    prompt of ours). Only such a message is edited: a forged press, or one on a message
    already brought up to date, leaves every message as it is."""
    message = query.message
    if message is None or not message.is_accessible or message.reply_markup is None:
        return False
    return any(
        button.callback_data == query.data
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def _show_list(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    """Edit the pressed /rewards list to the list as it is now."""
    if _shown(query) and query.message.text:
        await edit_pressed(query, *await _list(context, lang))


#: chat_data key: the amount prompt last sent in this chat, (reward id, message). Its button
#: is dropped when the amount is typed instead. Held in memory only, as it is cosmetic: after
#: a restart the old button stays, and a press on it says the payment is already recorded.
_AMOUNT_PROMPT = "reward_amount_prompt"


async def _close_amount_prompt(
    context: ContextTypes.DEFAULT_TYPE, reward: Reward | None, *, typed: bool, echo: str | None
) -> None:
    """The amount is answered. Typed: the prompt's button goes, with ``echo`` under its text
    if the payment was recorded (a pressed prompt is edited by the press itself)."""
    held = context.chat_data.pop(_AMOUNT_PROMPT, None) if context.chat_data is not None else None
    if not typed or held is None or reward is None or held[0] != reward.id:
        return
    prompt: Message = held[1]
    shown = rv.chosen(prompt.text_html, escape(echo)) if echo and prompt.text else None
    await edit_shown(prompt, shown)


async def _done(query: CallbackQuery, text: str | None = None) -> None:
    """The pressed prompt is answered: drop its buttons (and echo the choice, if given)."""
    if _shown(query):
        await edit_pressed(query, text)


def _echo(query: CallbackQuery, choice: str) -> str | None:
    """The pressed prompt's own text with the choice under it (None: only drop its buttons)."""
    message = query.message
    if message is None or not message.is_accessible or not message.text:
        return None
    return rv.chosen(message.text_html, escape(choice))


async def _refuse(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    lang: str,
    action: RewardAction,
    result: Result[Reward],
    code: str,
) -> None:
    """Answer a press that did nothing, saying why (an alert, so it cannot be missed)."""
    text = rv.step_refused(lang, action, result, code, services(context).clock.tz)
    await update.callback_query.answer(text, show_alert=True)


async def _refresh_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, message_id: object
) -> None:
    """Edit the /rewards list an action started from (now finished by typing) to the list as
    it is now. Cosmetic: it runs after the answer, and a failure is only logged."""
    chat = update.effective_chat
    if not isinstance(message_id, int) or chat is None:
        return
    text, markup = await _list(context, lang)
    try:
        await context.bot.edit_message_text(text, chat.id, message_id, reply_markup=markup)
    except TelegramError as exc:
        log.info("left the reward list %s as it was: %s", message_id, exc)


#: Typed answers that were not taken, told as the action's refusal would be.
_INPUT_ERRORS = {
    InputRefusal.BAD_REASON: (RewardAction.REJECT, Refusal.BAD_REASON),
    InputRefusal.BAD_REFERENCE: (RewardAction.PAY, Refusal.BAD_REFERENCE),
    InputRefusal.BAD_AMOUNT: (RewardAction.PAY, Refusal.BAD_AMOUNT),
}


async def on_officer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An officer's text in private: the typed answer the bot waits for, if it waits for one
    (the pending input in the database); otherwise it is part of their report, like anyone's."""
    if await services(context).answers.waiting(update.effective_user.id):
        await on_input(update, context)
    else:
        await reporter.on_message(update, context)


async def on_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An officer's typed answer to the question the bot asked last."""
    svc = services(context)
    lang = await language(update, context)
    text = update.effective_message.text or ""
    answered = await svc.answers.answer(update.effective_user.id, text)
    reward = answered.reward
    if answered.refusal is InputRefusal.NOTHING_ASKED:
        await reply(update, t(lang, "reward.input_expired"))
        return
    if reward is None:
        await reply(update, t(lang, "reward.err.no_reward"))
        return
    code = await svc.rewards.code(reward)
    tz = svc.clock.tz
    if answered.refusal is InputRefusal.METHOD_FIRST:
        # The method is chosen with the buttons; text here is not taken for anything else.
        await reply(update, t(lang, "reward.ask.method_first", code=code))
    elif answered.refusal is not None:
        action, refusal = _INPUT_ERRORS[answered.refusal]
        await reply(update, rv.step_refused(lang, action, Result(reward, refusal), code, tz))
    elif isinstance(answered.done, Reject):
        if answered.error is None:
            await reply(update, t(lang, "reward.done.rejected", code=code))
            await _refresh_list(update, context, lang, answered.done.list_id)
        else:
            text = rv.step_refused(lang, RewardAction.REJECT, answered.result, code, tz)
            await reply(update, text)
    elif isinstance(answered.done, Pay):
        await _paid(update, context, lang, answered)
    elif answered.asked is not None:  # the reference is in: the amount
        prompt = await reply(
            update,
            t(lang, "reward.ask.amount", code=code, amount=reward.amount),
            rv.amount_keyboard(reward.id, reward.amount, lang),
        )
        if prompt is not None:
            context.chat_data[_AMOUNT_PROMPT] = (reward.id, prompt)
    else:  # e.g. another officer recorded the payment meanwhile
        await reply(update, rv.step_refused(lang, RewardAction.PAY, answered.result, code, tz))


async def _paid(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, answered: Answered
) -> None:
    """A payment recorded (or refused) after its amount was typed or its button pressed."""
    svc = services(context)
    query = update.callback_query
    pay, reward = answered.done, answered.reward
    assert isinstance(pay, Pay)
    code = await svc.rewards.code(reward) if reward else "—"
    typed = query is None
    if answered.error is not None:
        await _close_amount_prompt(context, reward, typed=typed, echo=None)
        text = rv.step_refused(lang, RewardAction.PAY, answered.result, code, svc.clock.tz)
        if query is not None:
            await query.answer(text, show_alert=True)
            await _done(query)
        else:
            await reply(update, text)
        return
    if query is not None:
        await query.answer()
    method = t(lang, keys.PAY[pay.method])
    amount = pay.amount
    await reply(update, t(lang, "reward.done.paid", code=code, amount=amount, method=method))
    echo = t(lang, "btn.reward_amount", amount=amount)
    await _close_amount_prompt(context, reward, typed=typed, echo=echo)
    if query is not None:
        await _done(query, _echo(query, echo))
    await _refresh_list(update, context, lang, pay.list_id)


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reporter shares their own number with the contact button, to be paid by transfer."""
    svc = services(context)
    lang = await language(update, context)
    contact = update.effective_message.contact
    user = update.effective_user
    if contact.user_id != user.id:
        await reply(update, t(lang, "phone.not_yours"))
        return
    waiting = await svc.rewards.share_phone(user.id, contact.phone_number)
    if not waiting:
        if await svc.reports.draft(user.id) is not None:
            # Mid-report: not what this step asks for, so the step's own prompt answers it.
            await reporter.on_message(update, context)
            return
        await reply(update, t(lang, "phone.not_needed"), ReplyKeyboardRemove())
        return
    # Promise only what stands: "once approved" while any is still pending.
    approved = all(r.state is RewardState.APPROVED for r in waiting)
    await reply(
        update,
        t(lang, "phone.saved_approved" if approved else "phone.saved"),
        ReplyKeyboardRemove(),
    )
