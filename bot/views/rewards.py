"""What the duty officer sees of rewards: the pending list, pickers and the ledger."""

from __future__ import annotations

import datetime as dt
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.rewards import PayMethod, RewardState, Totals
from bot.i18n import t
from bot.services.rewards import RewardLine
from bot.views.callbacks import RewardButton, RwOp


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
                state=t(lang, f"reward_state.{reward.state.value}"),
                amount=reward.amount,
                outcome=t(lang, f"outcome.{tip.outcome.value}") if tip.outcome else "—",
                verifier=escape(line.verifier or "—"),
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
        [
            [_b(lang, f"pay.{m.value}", RewardButton(RwOp.METHOD, reward_id, m.value))]
            for m in PayMethod
        ]
    )


def amount_keyboard(reward_id: int, amount: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_b(lang, "btn.reward_amount", RewardButton(RwOp.AMOUNT, reward_id), amount=amount)]]
    )


def _pair(lang: str, pair: tuple[int, int]) -> str:
    return t(lang, "ledger.cell", count=pair[0], yuan=pair[1])


def ledger_text(periods: dict[str, Totals], lang: str) -> str:
    lines = [t(lang, "ledger.head")]
    for name, totals in periods.items():
        lines.append(
            t(
                lang,
                "ledger.line",
                period=t(lang, f"ledger.{name}"),
                pending=_pair(lang, totals.pending),
                approved=_pair(lang, totals.approved),
                paid=_pair(lang, totals.paid),
                rejected=_pair(lang, totals.rejected),
            )
        )
    return "\n".join(lines)
