"""The words for every refusal a service returns (bot/services/result.py), in one place.

Where a refusal is said decides which words: the same ``NOT_ALLOWED`` reads differently on a
tip's button and on "ask the reporter". Each topic lists its refusals; one it does not list
gets the topic's default. The catalog keys are written out (tests/test_i18n.py).
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import t
from bot.services.result import Refusal


class Topic(StrEnum):
    TIP = "tip"  # a tip's buttons and evidence
    ASK = "ask"  # asking the reporter (relayed questions)
    REWARD = "reward"  # an officer's step on a reward
    CLAIM = "claim"  # /claim: an anonymous claim at the counter
    PATROL = "patrol"  # /patrol_start, /patrol_end
    SUBMIT = "submit"  # the reporter's submit
    WITHDRAW = "withdraw"  # the reporter's withdraw


_KEYS: dict[Topic, dict[Refusal, str]] = {
    Topic.TIP: {
        Refusal.NOT_ALLOWED: "refused.not_allowed",  # {group}
        Refusal.NOT_OFFICER: "refused.officer_only",
        Refusal.WRONG_STATE: "refused.stale",  # {code}, {state}
        Refusal.RACE: "refused.stale",
        Refusal.BAD_DUPLICATE: "refused.bad_duplicate",
    },
    Topic.ASK: {
        Refusal.NOT_ALLOWED: "ask.refused.not_allowed",
        Refusal.NO_REPORTER: "ask.refused.no_reporter",
        Refusal.CLOSED: "ask.refused.closed",
        Refusal.TOO_LONG: "ask.refused.too_long",
    },
    Topic.REWARD: {
        Refusal.NOT_OFFICER: "refused.officer_only",
        Refusal.SELF_APPROVAL: "reward.err.self_approval",
        Refusal.WRONG_STATE: "reward.err.wrong_state",  # {state}
        Refusal.NO_REWARD: "reward.err.no_reward",
        Refusal.BAD_REASON: "reward.err.bad_reason",
        Refusal.BAD_AMOUNT: "reward.err.bad_amount",
        Refusal.BAD_REFERENCE: "reward.err.bad_reference",
        Refusal.NO_PHONE: "reward.err.no_phone",
    },
    Topic.CLAIM: {
        Refusal.WRONG_SECRET: "claim.wrong",  # {left}
        Refusal.LOCKED: "claim.locked",  # {code}
        Refusal.NOT_APPROVED: "claim.not_approved",
        Refusal.REJECTED: "claim.rejected",  # {code}, {reason}
        Refusal.PAID: "claim.paid",  # {code}, {amount}, {date}, {method}
        Refusal.NO_REWARD: "claim.no_reward",
    },
    Topic.PATROL: {
        Refusal.NOT_A_GROUP: "patrol.group_only",
        Refusal.NOT_MEMBER: "patrol.not_member",  # {group}
        Refusal.ALREADY: "patrol.already",
        Refusal.BAD_COUNTS: "patrol.usage_end",
        Refusal.NONE_OPEN: "patrol.none_open",
    },
    Topic.SUBMIT: {Refusal.TOO_MANY: "submit.too_many"},  # {limit}, {hotline}
    Topic.WITHDRAW: {Refusal.TOO_LATE: "withdraw.too_late"},
}

#: What a topic says of a refusal it does not list.
_DEFAULT: dict[Topic, str] = {
    Topic.TIP: "button.invalid",
    Topic.ASK: "button.invalid",
    Topic.REWARD: "button.invalid",
    Topic.CLAIM: "claim.no_reward",
    Topic.PATROL: "patrol.group_only",
    Topic.SUBMIT: "button.stale",
    Topic.WITHDRAW: "button.invalid",
}


def refusal_key(topic: Topic, refusal: Refusal | None) -> str:
    return _KEYS[topic].get(refusal, _DEFAULT[topic]) if refusal else _DEFAULT[topic]


def refusal_text(lang: str, topic: Topic, refusal: Refusal | None, **params: object) -> str:
    """Why nothing was done, in words (``params``: the placeholders of that message)."""
    return t(lang, refusal_key(topic, refusal), **params)
