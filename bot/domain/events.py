"""What the append-only event log records, as data. Pure.

An event's ``action`` is one of: a tip's transition (:class:`bot.domain.tips.Action`), an
escalation level (:class:`bot.domain.schedule.Level`), one of the acts below, or a refused
attempt (:func:`refused`). Its ``actor_role`` is a :class:`bot.domain.tips.Role`.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.tips import Action


class Act(StrEnum):
    """Everything else the log records."""

    SUBMIT = "submit"  # a tip was reported (its dispatch follows)
    EVIDENCE = "evidence"  # a photo / voice / video attached to a tip
    AMEND = "amend"  # the reporter added words, a photo or flags after submitting
    HANDOVER = "handover"  # an unclaimed tip moved to the on-coming group
    ASK_REPORTER = "ask_reporter"  # a member's question relayed to the reporter
    REPORTER_ANSWER = "reporter_answer"
    REPORTER_NOT_AN_ANSWER = "reporter_not_an_answer"
    CLAIM_SECRET_REISSUED = "claim_secret_reissued"
    REWARD_PENDING = "reward_pending"
    REWARD_REFUSED = "reward_refused"  # a closed tip earns nothing (the reason in the detail)
    REWARD_APPROVE = "reward_approve"
    REWARD_REJECT = "reward_reject"
    REWARD_PAY = "reward_pay"
    REWARD_REVERSE = "reward_reverse"
    REWARD_CLAIM_OK = "reward_claim_ok"
    REWARD_CLAIM_WRONG = "reward_claim_wrong"
    PHONE_SHARED = "phone_shared"
    PHONE_VIEWED = "phone_viewed"
    PATROL_START = "patrol_start"
    PATROL_AREA = "patrol_area"
    PATROL_END = "patrol_end"
    PATROL_MISSING = "patrol_missing"
    COLD_ON = "cold_on"
    COLD_OFF = "cold_off"
    LEFT_UNKNOWN_GROUP = "left_unknown_group"
    GROUP_LOST = "group_lost"
    GROUP_BACK = "group_back"
    PURGE = "purge"


class Attempt(StrEnum):
    """What someone tried that was refused, besides a tip's transitions (``refused:claim``…)."""

    TIP_BUTTON = "tip_button"  # a tip button that names no tip
    SHOW = "show"
    FULL_CARD = "full_card"
    BACK = "back"
    ASK_REPORTER = "ask_reporter"
    BUTTON = "button"  # a button no handler knows
    REPORTER_BUTTON = "reporter_button"
    NOT_AN_ANSWER = "not_an_answer"
    WITHDRAW = "withdraw"
    NEWTIP = "newtip"
    OPEN = "open"
    COLDMODE = "coldmode"
    REWARDS = "rewards"
    LEDGER = "ledger"
    CLAIM = "claim"  # the /claim command
    REVERSE = "reverse"
    REWARD_BUTTON = "reward_button"
    REWARD_APPROVE = "reward_approve"
    REWARD_REJECT = "reward_reject"
    REWARD_PAY = "reward_pay"
    REWARD_METHOD = "reward_method"
    REWARD_AMOUNT = "reward_amount"
    REWARD_PHONE = "reward_phone"
    REWARD_REVERSE = "reward_reverse"
    REWARD_CLAIM = "reward_claim"
    PHONE_VIEW = "phone_view"
    PATROL_START = "patrol_start"
    PATROL_END = "patrol_end"
    HOTSPOTS = "hotspots"  # /hotspots by someone who is not staff (issue 13)


def refused(what: Action | Attempt) -> str:
    """The event action of a refused attempt: ``refused:claim``, ``refused:open``…"""
    return f"refused:{what.value}"
