"""What the duty officer sees of rewards: the pending list, pickers and the ledger."""

from __future__ import annotations

import datetime as dt
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.rewards import (
    LedgerReport,
    PayMethod,
    Reward,
    RewardAction,
    RewardState,
    already_done,
)
from bot.i18n import keys, t
from bot.services.result import Refusal, Result
from bot.services.rewards import RewardLine
from bot.views.callbacks import RewardButton, RwOp
from bot.views.people import label
from bot.views.refusals import Topic, refusal_text


def _b(lang: str, key: str, button: RewardButton, **params: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(lang, key, **params), callback_data=button.data())


def reward_list(
    lines: list[RewardLine], lang: str, now: dt.datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not lines:
        return t(lang, "rewards.none"), None
    text = [t(lang, "rewards.head", count=len(lines))]
    rows: list[list[InlineKeyboardButton]] = []
    for line in lines:
        reward, tip = line.reward, line.tip
        hours = max(0, int((now - reward.created_at).total_seconds() // 3600))
        text.append(
            t(
                lang,
                "rewards.line",
                code=tip.code,
                state=t(lang, keys.REWARD_STATE[reward.state]),
                amount=reward.amount,
                outcome=t(lang, keys.OUTCOME[tip.outcome]) if tip.outcome else "—",
                verifier=escape(label(line.verifier, lang)) if line.verifier else "—",
                evidence=line.evidence,
                hours=hours,
                contact=t(lang, "rewards.phone" if line.has_phone else "rewards.anonymous"),
            )
        )
        if reward.state is RewardState.PENDING:
            rows.append(
                [
                    _b(
                        lang,
                        "btn.reward_approve",
                        RewardButton(RwOp.APPROVE, reward.id),
                        code=tip.code,
                    ),
                    _b(lang, "btn.reward_reject", RewardButton(RwOp.REJECT, reward.id)),
                ]
            )
        elif reward.state is RewardState.APPROVED:
            row = [_b(lang, "btn.reward_pay", RewardButton(RwOp.PAY, reward.id), code=tip.code)]
            if line.has_phone:
                row.append(_b(lang, "btn.reward_phone", RewardButton(RwOp.PHONE, reward.id)))
            row.append(_b(lang, "btn.reward_reject", RewardButton(RwOp.REJECT, reward.id)))
            rows.append(row)
    return "\n".join(text), InlineKeyboardMarkup(rows) if rows else None


def method_keyboard(reward_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_b(lang, keys.PAY[m], RewardButton(RwOp.METHOD, reward_id, m.value))] for m in PayMethod]
    )


def amount_keyboard(reward_id: int, amount: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_b(lang, "btn.reward_amount", RewardButton(RwOp.AMOUNT, reward_id), amount=amount)]]
    )


def _pair(lang: str, pair: tuple[int, int]) -> str:
    return t(lang, "ledger.cell", count=pair[0], yuan=pair[1])


def ledger_text(report: LedgerReport, lang: str) -> str:
    """The state now (each reward once) and, apart and labelled, the period's movements."""
    state = report.state
    lines = [
        t(lang, "ledger.head"),
        t(lang, "ledger.state_head"),
        t(
            lang,
            "ledger.state_line",
            pending=_pair(lang, state.pending),
            approved=_pair(lang, state.approved),
            paid=_pair(lang, state.paid),
            rejected=_pair(lang, state.rejected),
        ),
        "",
        t(lang, "ledger.moves_head"),
    ]
    for name, moves in report.movements.items():
        lines.append(
            t(
                lang,
                "ledger.moves_line",
                period=t(lang, keys.PERIOD[name]),
                created=_pair(lang, moves.created),
                approved=_pair(lang, moves.approved),
                rejected=_pair(lang, moves.rejected),
                paid=_pair(lang, moves.paid),
                reversed=_pair(lang, moves.reversed),
                net=moves.net_paid,
            )
        )
    return "\n".join(lines)


def paid_params(reward: Reward, lang: str, tz: dt.tzinfo) -> dict[str, object]:
    """How a paid reward was paid, for "already paid" answers: amount, date, method."""
    return {
        "amount": reward.paid_amount if reward.paid_amount is not None else reward.amount,
        "date": reward.paid_at.astimezone(tz).strftime("%Y-%m-%d") if reward.paid_at else "—",
        "method": t(lang, keys.PAY[reward.method]) if reward.method else "—",
    }


def chosen(text: str, choice: str) -> str:
    """A prompt once answered: the question, then the choice (its buttons are gone)."""
    return f"{text}\n✓ {choice}"


def step_refused(
    lang: str, action: RewardAction, result: Result[Reward], code: str, tz: dt.tzinfo
) -> str:
    """Why an officer's step did nothing: "already approved / rejected / paid (when, how)"
    for a step already taken, else the refusal (with the reward's state now)."""
    reward = result.value
    if result.refusal is Refusal.WRONG_STATE and reward is not None:
        if reward.state is RewardState.PAID:
            return t(lang, "reward.already.paid", code=code, **paid_params(reward, lang, tz))
        if already_done(action, reward.state):
            if reward.state is RewardState.REJECTED:
                return t(lang, "reward.already.rejected", code=code)
            state = t(lang, keys.REWARD_STATE[reward.state])
            return t(lang, "reward.already.approved", code=code, state=state)
    state = t(lang, keys.REWARD_STATE[reward.state]) if reward else "—"
    assert result.refusal is not None
    return refusal_text(lang, Topic.REWARD, result.refusal, state=state)
