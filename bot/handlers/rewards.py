"""Rewards: the officer's /rewards, /ledger, /claim, /reverse and buttons; the reporter's phone.

Typed answers (a reject reason, a payment reference, an amount) are remembered in the
database as a *pending input*; the composition root routes that officer's next text here.
"""

from __future__ import annotations

from html import escape

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.domain.rewards import PayMethod, parse_amount
from bot.domain.tips import parse_tip_code
from bot.handlers import reporter
from bot.handlers.common import is_private, language, reply, services
from bot.i18n import t
from bot.services.rewards import ClaimCheck, RewardError, RewardResult
from bot.views import rewards as rv
from bot.views.callbacks import RwOp, parse_reward

_ERROR_KEYS = {
    RewardError.NOT_OFFICER: "refused.officer_only",
    RewardError.SELF_APPROVAL: "reward.err.self_approval",
    RewardError.WRONG_STATE: "reward.err.wrong_state",
    RewardError.NO_REWARD: "reward.err.no_reward",
    RewardError.BAD_REASON: "reward.err.bad_reason",
    RewardError.BAD_AMOUNT: "reward.err.bad_amount",
    RewardError.BAD_REFERENCE: "reward.err.bad_reference",
    RewardError.NO_PHONE: "reward.err.no_phone",
}


async def _officer_lang(
    update: Update, context: ContextTypes.DEFAULT_TYPE, what: str
) -> str | None:
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    if not svc.deps.directory.is_officer(user.id):
        await svc.rewards.record_refusal(None, user.id, what, RewardError.NOT_OFFICER)
        await reply(update, t(lang, "refused.officer_only"))
        return None
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return None
    return lang


async def rewards_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _officer_lang(update, context, "rewards")
    if lang is None:
        return
    svc = services(context)
    text, markup = rv.reward_list(await svc.rewards.pending_lines(), lang, svc.deps.now())
    await reply(update, text, markup)


async def ledger_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _officer_lang(update, context, "ledger")
    if lang is None:
        return
    svc = services(context)
    periods = {
        name: await svc.rewards.totals_between(since, until)
        for name, (since, until) in svc.rewards.periods().items()
    }
    await reply(update, rv.ledger_text(periods, lang))


async def claim_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/claim HS-0042 SECRET — an anonymous reporter at the counter."""
    lang = await _officer_lang(update, context, "claim")
    if lang is None:
        return
    svc = services(context)
    args = context.args or []
    tip_id = parse_tip_code(args[0], svc.deps.config.station.code_prefix) if args else None
    tip = await svc.deps.repo.get_tip(tip_id) if tip_id else None
    if tip is None or len(args) != 2:
        await reply(update, t(lang, "claim.usage"))
        return
    result, reward, left = await svc.rewards.check_claim(tip, args[1], update.effective_user.id)
    if result is ClaimCheck.OK and reward is not None:
        markup = rv.method_keyboard(reward.id, lang)
        await reply(update, t(lang, "claim.ok", code=tip.code, amount=reward.amount), markup)
    elif result is ClaimCheck.WRONG:
        await reply(update, t(lang, "claim.wrong", left=left))
    elif result is ClaimCheck.LOCKED:
        await reply(update, t(lang, "claim.locked", code=tip.code))
    else:
        await reply(update, t(lang, "reward.err.no_reward"))


async def reverse_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reverse HS-0042 reason — take back a recorded payment with a reversing entry."""
    lang = await _officer_lang(update, context, "reverse")
    if lang is None:
        return
    svc = services(context)
    args = context.args or []
    tip_id = parse_tip_code(args[0], svc.deps.config.station.code_prefix) if args else None
    reward = await svc.deps.repo.reward_for_tip(tip_id) if tip_id else None
    if reward is None or len(args) < 2:
        await reply(update, t(lang, "reverse.usage"))
        return
    result = await svc.rewards.reverse(reward.id, update.effective_user.id, " ".join(args[1:]))
    if result.ok:
        await reply(update, t(lang, "reverse.done", code=args[0].upper()))
    else:
        await reply(update, t(lang, _ERROR_KEYS[result.error]))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    svc = services(context)
    lang = await language(update, context)
    button = parse_reward(query.data)
    if button is None:
        await svc.rewards.record_refusal(None, user.id, "reward_button", RewardError.NO_REWARD)
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    if not svc.deps.directory.is_officer(user.id):
        await svc.rewards.record_refusal(
            button.reward_id, user.id, f"reward_{button.op.name.lower()}", RewardError.NOT_OFFICER
        )
        await query.answer(t(lang, "refused.officer_only"), show_alert=True)
        return
    if not is_private(update):
        # Replies go where the button was: a phone number or a payment never goes to a group.
        await query.answer(t(lang, "private_only"), show_alert=True)
        return
    reward = await svc.deps.repo.get_reward(button.reward_id)
    if reward is None:
        await query.answer(t(lang, "button.invalid"), show_alert=True)
        return
    code = (await svc.deps.repo.codes([reward.tip_id]))[reward.tip_id]
    if button.op is RwOp.APPROVE:
        result = await svc.rewards.approve(reward.id, user.id)
        await _answer(update, lang, result, t(lang, "reward.done.approved", code=code))
    elif button.op is RwOp.REJECT:
        await svc.rewards.expect_input(user.id, "reject_reason", {"reward": reward.id})
        await query.answer()
        await reply(update, t(lang, "reward.ask.reason", code=code))
    elif button.op is RwOp.PAY:
        await query.answer()
        await reply(
            update, t(lang, "reward.ask.method", code=code), rv.method_keyboard(reward.id, lang)
        )
    elif button.op is RwOp.METHOD:
        await svc.rewards.expect_input(
            user.id, "pay_reference", {"reward": reward.id, "method": button.method}
        )
        await query.answer()
        await reply(update, t(lang, "reward.ask.reference", code=code))
    elif button.op is RwOp.AMOUNT:
        pending = await svc.rewards.take_input(user.id)
        if pending is None or pending[0] != "pay_amount" or pending[1].get("reward") != reward.id:
            await query.answer(t(lang, "button.stale"), show_alert=True)
            return
        await _record_payment(update, context, lang, pending[1], reward.amount)
    elif button.op is RwOp.PHONE:
        phone, error = await svc.rewards.view_phone(reward.id, user.id)
        await query.answer()
        if error is not None:
            await reply(update, t(lang, _ERROR_KEYS[error]))
        else:
            await reply(update, t(lang, "reward.phone", code=code, phone=escape(phone or "")))


async def _answer(update: Update, lang: str, result: RewardResult, done: str) -> None:
    query = update.callback_query
    if result.ok:
        await query.answer(done)
        return
    key = _ERROR_KEYS[result.error]
    state = t(lang, f"reward_state.{result.reward.state.value}") if result.reward else "—"
    await query.answer(t(lang, key, state=state), show_alert=True)


async def on_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An officer's typed answer to the question the bot asked last."""
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    text = update.effective_message.text or ""
    pending = await svc.rewards.take_input(user.id)
    if pending is None:
        await reply(update, t(lang, "reward.input_expired"))
        return
    kind, data = pending
    reward = await svc.deps.repo.get_reward(int(data["reward"]))
    if reward is None:
        await reply(update, t(lang, "reward.err.no_reward"))
        return
    code = (await svc.deps.repo.codes([reward.tip_id]))[reward.tip_id]
    if kind == "reject_reason":
        result = await svc.rewards.reject(reward.id, user.id, text)
        if result.ok:
            await reply(update, t(lang, "reward.done.rejected", code=code))
        else:
            if result.error is RewardError.BAD_REASON:
                await svc.rewards.expect_input(user.id, kind, data)  # ask again
            await reply(update, _error_text(lang, result))
    elif kind == "pay_reference":
        reference = text.strip()
        if not reference or len(reference) > 64:
            await svc.rewards.expect_input(user.id, kind, data)
            await reply(update, t(lang, "reward.err.bad_reference"))
            return
        await svc.rewards.expect_input(user.id, "pay_amount", {**data, "reference": reference})
        await reply(
            update,
            t(lang, "reward.ask.amount", code=code, amount=reward.amount),
            rv.amount_keyboard(reward.id, reward.amount, lang),
        )
    elif kind == "pay_amount":
        amount = parse_amount(text)
        if amount is None:
            await svc.rewards.expect_input(user.id, kind, data)
            await reply(update, t(lang, "reward.err.bad_amount"))
            return
        await _record_payment(update, context, lang, data, amount)


async def _record_payment(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, data: dict, amount: int
) -> None:
    svc = services(context)
    reward_id = int(data["reward"])
    result = await svc.rewards.pay(
        reward_id,
        update.effective_user.id,
        PayMethod(data["method"]),
        str(data.get("reference", "")),
        amount,
    )
    reward = result.reward
    code = (await svc.deps.repo.codes([reward.tip_id]))[reward.tip_id] if reward else "—"
    if update.callback_query is not None:
        await update.callback_query.answer()
    if result.ok:
        await reply(
            update,
            t(
                lang,
                "reward.done.paid",
                code=code,
                amount=amount,
                method=t(lang, f"pay.{data['method']}"),
            ),
        )
    else:
        await reply(update, _error_text(lang, result))


def _error_text(lang: str, result: RewardResult) -> str:
    state = t(lang, f"reward_state.{result.reward.state.value}") if result.reward else "—"
    return t(lang, _ERROR_KEYS[result.error], state=state)


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
    await reply(update, t(lang, "phone.saved"), ReplyKeyboardRemove())
