"""Callback data: the one place that builds and parses button payloads.

Patrol buttons are stateless and keyed by tip id (``tip:claim:42``); the truth is in the
database. Anything that does not parse is treated as a forged or stale button.
Telegram allows 1–64 bytes of callback data; every builder here stays far below that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from bot.domain.revisits import RevisitOutcome
from bot.domain.spots import Spot
from bot.domain.tips import Action, Flag, Outcome, People, Seen, supplies_from_mask


class TipOp(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    GO = "go"
    ARRIVE = "arrive"
    ASK = "ask"  # show the confirmation for an outcome
    SUPPLIES = "sup"  # show / toggle the supplies picker (mask)
    DUPS = "dups"  # show the duplicate picker
    CLOSE = "close"  # close with outcome (+ supplies mask or duplicate-of id)
    BACK = "back"  # back to the card's normal buttons
    SHOW = "show"  # officer: send me a live copy of this card
    ASK_REPORTER = "askr"  # put a question to the reporter (relayed; identities hidden)
    FULL = "full"  # post this tip's full card here (from a digest)
    ETA = "eta"  # the claimer's arrival time: tip:eta:42:n:<minutes>


OP_ACTIONS: dict[TipOp, Action] = {
    TipOp.CLAIM: Action.CLAIM,
    TipOp.RELEASE: Action.RELEASE,
    TipOp.GO: Action.GO,
    TipOp.ARRIVE: Action.ARRIVE,
}

_TIP = re.compile(r"^tip:([a-z]{2,8}):(\d{1,9})(?::([a-z_]{1,16}))?(?::(\d{1,9}))?$")
_MAX_ID = 999_999_999
_Op = TypeVar("_Op", bound=StrEnum)


def _head(pattern: re.Pattern[str], data: str | None, ops: type[_Op]) -> tuple[_Op, list]:
    """A button's operation and the rest of its fields, as ``pattern``'s groups; raises
    ValueError if the data does not match or names no operation of ``ops`` (forged)."""
    match = pattern.fullmatch(data or "")
    if not match:
        raise ValueError("no match")
    op_text, *rest = match.groups()
    return ops(op_text), rest


def _row_id(text: str | None) -> int:
    """A row id carried by a button (1…_MAX_ID); raises ValueError otherwise (forged)."""
    if text is None or not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise ValueError("not a row id")
    return int(text)


@dataclass(frozen=True)
class TipButton:
    op: TipOp
    tip_id: int
    outcome: Outcome | None = None
    number: int | None = None  # supplies mask (SUPPLIES / CLOSE supplies_only) or duplicate-of id

    def data(self) -> str:
        parts = ["tip", self.op.value, str(self.tip_id)]
        if self.outcome is not None:
            parts.append(self.outcome.value)
        if self.number is not None:
            if self.outcome is None:
                parts.append("n")  # keeps positions unambiguous: tip:sup:42:n:5
            parts.append(str(self.number))
        return ":".join(parts)


def parse_tip(data: str | None) -> TipButton | None:
    try:
        op, (id_text, word, number_text) = _head(_TIP, data, TipOp)
        tip_id = _row_id(id_text)
    except ValueError:
        return None
    outcome = None
    if word is not None and word != "n":
        try:
            outcome = Outcome(word)
        except ValueError:
            return None
    number = int(number_text) if number_text is not None else None
    # Shape checks per operation: anything else is forged.
    if op in OP_ACTIONS or op in (
        TipOp.BACK,
        TipOp.SHOW,
        TipOp.DUPS,
        TipOp.ASK_REPORTER,
        TipOp.FULL,
    ):
        ok = outcome is None and number is None and word is None
    elif op is TipOp.ASK:
        ok = outcome is not None and number is None
    elif op in (TipOp.SUPPLIES, TipOp.ETA):
        ok = word == "n" and number is not None
    else:  # CLOSE
        ok = outcome is not None and (
            (outcome is Outcome.SUPPLIES_ONLY and number is not None)
            or (outcome is Outcome.DUPLICATE and number is not None)
            or (outcome not in (Outcome.SUPPLIES_ONLY, Outcome.DUPLICATE) and number is None)
        )
    if ok and number is not None and (op is TipOp.SUPPLIES or outcome is Outcome.SUPPLIES_ONLY):
        try:
            supplies_from_mask(number)
        except ValueError:
            ok = False
    return TipButton(op, tip_id, outcome, number) if ok else None


# -- the reporter's buttons ----------------------------------------------------------------


class ROp(StrEnum):
    REPORT = "report"
    PLACE = "place"  # r:place:<index> | r:place:none
    SEEN = "seen"
    PEOPLE = "ppl"
    FLAG = "flag"
    FLAGS_DONE = "flagsok"
    SKIP_DESC = "nodesc"
    SKIP_PHOTO = "nophoto"
    SUBMIT = "submit"
    CANCEL = "cancel"
    WITHDRAW = "wd"  # r:wd:<tip id>
    SECRET = "key"  # r:key:<tip id> — a fresh claim secret (the old one stops working)
    NOT_ANSWER = "notans"  # r:notans:<question id> — "my text was not an answer"
    LANG = "lang"
    SPOT = "spot"  # r:spot:<spot> — the exact spot's quick choice
    SPOT_BACK = "spotback"  # from typing the spot back to the choices
    SPOT_DONE = "spotok"  # "more details" (also the spot's skip)
    NOW = "now"  # "send now": just now, one person
    AMEND = "amend"  # r:amend:<tip id> — add words, a photo or flags to a submitted tip
    AMEND_DONE = "amendok"  # no more additions


_R = re.compile(r"^r:([a-z]{2,8})(?::([a-z0-9+_]{1,16}))?$")


@dataclass(frozen=True)
class ReporterButton:
    op: ROp
    arg: str | None = None

    def data(self) -> str:
        return f"r:{self.op.value}" + (f":{self.arg}" if self.arg is not None else "")


_ARGS = {
    ROp.SEEN: {s.value for s in Seen},
    ROp.PEOPLE: {p.value for p in People},
    ROp.FLAG: {f.value for f in Flag},
    ROp.LANG: {"zh", "en"},
    ROp.SPOT: {s.value for s in Spot},
}


def parse_reporter(data: str | None) -> ReporterButton | None:
    try:
        op, (arg,) = _head(_R, data, ROp)
    except ValueError:
        return None
    if op in _ARGS:
        return ReporterButton(op, arg) if arg in _ARGS[op] else None
    if op is ROp.PLACE:
        return ReporterButton(op, arg) if arg in {"0", "1", "2", "none"} else None
    if op in (ROp.WITHDRAW, ROp.SECRET, ROp.NOT_ANSWER, ROp.AMEND):
        try:
            _row_id(arg)
        except ValueError:
            return None
        return ReporterButton(op, arg)
    return ReporterButton(op) if arg is None else None


# -- the duty officer's reward buttons -----------------------------------------------------------


class RwOp(StrEnum):
    APPROVE = "ok"
    REJECT = "no"
    PAY = "pay"  # choose a payment method
    METHOD = "m"  # rw:m:<id>:<method>
    AMOUNT = "amt"  # use the promised amount for the payment being recorded
    PHONE = "tel"  # show the reporter's phone number (logged)


_RW = re.compile(r"^rw:([a-z]{1,4}):(\d{1,9})(?::([a-z]{3,8}))?$")
_METHODS = {"wechat", "alipay", "bank", "cash"}


@dataclass(frozen=True)
class RewardButton:
    op: RwOp
    reward_id: int
    method: str | None = None

    def data(self) -> str:
        return f"rw:{self.op.value}:{self.reward_id}" + (f":{self.method}" if self.method else "")


def parse_reward(data: str | None) -> RewardButton | None:
    try:
        op, (id_text, method) = _head(_RW, data, RwOp)
        reward_id = _row_id(id_text)
    except ValueError:
        return None
    if op is RwOp.METHOD:
        return RewardButton(op, reward_id, method) if method in _METHODS else None
    return RewardButton(op, reward_id) if method is None else None


# -- the reporter's answer to "still there?" (st:<tip id>:<answer>) ------------------------------

_ST = re.compile(r"^st:(\d{1,9}):([a-z]{2,8})$")


def still_there_data(tip_id: int, answer: str) -> str:
    return f"st:{tip_id}:{answer}"


def parse_still_there(data: str | None) -> tuple[int, str] | None:
    """(tip id, answer); the answer is checked by the service (a forged one is refused)."""
    match = _ST.fullmatch(data or "")
    if not match or not 0 < int(match.group(1)) <= _MAX_ID:
        return None
    return int(match.group(1)), match.group(2)
# -- a revisit's light card (issue 13) -----------------------------------------------------------


class RvOp(StrEnum):
    CLAIM = "c"
    RELEASE = "r"
    CLOSE = "x"  # rv:x:<id>:<outcome>


_RV = re.compile(r"^rv:([a-z]):(\d{1,9})(?::([a-z_]{1,16}))?$")


@dataclass(frozen=True)
class RevisitButton:
    op: RvOp
    revisit_id: int
    outcome: RevisitOutcome | None = None

    def data(self) -> str:
        tail = f":{self.outcome.value}" if self.outcome else ""
        return f"rv:{self.op.value}:{self.revisit_id}{tail}"


def parse_revisit(data: str | None) -> RevisitButton | None:
    try:
        op, (id_text, outcome_text) = _head(_RV, data, RvOp)
        revisit_id = _row_id(id_text)
        outcome = RevisitOutcome(outcome_text) if outcome_text else None
    except ValueError:
        return None
    if (op is RvOp.CLOSE) != (outcome is not None):
        return None
    return RevisitButton(op, revisit_id, outcome)
