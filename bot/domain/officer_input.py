"""The duty officer's typed answers: what the bot waits for, and what each answer does. Pure.

A reward action that needs words or numbers asks for them one at a time. The question open
(:class:`Awaiting`) is kept in the database as a *pending input*, so a restart loses none;
``answer(awaiting, event)`` is the next question, the action to record, or a :class:`Refusal`
(the question then stays open, asked again).

```
reject:  the reject button ──▶ REASON ─text─▶ reject(reason)
pay:     the pay button, or a right /claim ──▶ METHOD ─a method button─▶ REFERENCE ─text─▶
         AMOUNT ─text, or the promised amount's button─▶ pay(method, reference, amount)
```
Text while the method is asked is refused: the method is chosen with the buttons. A method
button of a payment whose method is chosen is refused (it says which); any other method
button starts the payment's questions afresh. The amount button counts only while that
payment's amount is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.domain.rewards import PayMethod, parse_amount, valid_reason, valid_reference


class Ask(StrEnum):
    """What the bot is waiting for (the values are stored)."""

    METHOD = "pay_method"  # how it is paid: chosen with the buttons only
    REASON = "reject_reason"
    REFERENCE = "pay_reference"
    AMOUNT = "pay_amount"


@dataclass(frozen=True)
class Awaiting:
    """A question an officer owes the bot an answer to."""

    ask: Ask
    reward_id: int
    list_id: int | None = None  # the /rewards list the action started from (shown anew)
    method: PayMethod | None = None  # REFERENCE, AMOUNT: the method chosen
    reference: str | None = None  # AMOUNT: the reference given

    def stored(self) -> tuple[str, dict[str, Any]]:
        """As a pending input row: (kind, data)."""
        data: dict[str, Any] = {"reward": self.reward_id}
        if self.list_id is not None:
            data["list"] = self.list_id
        if self.method is not None:
            data["method"] = self.method.value
        if self.reference is not None:
            data["reference"] = self.reference
        return self.ask.value, data

    @staticmethod
    def from_stored(kind: str, data: dict[str, Any]) -> Awaiting | None:
        """From a pending input row; None if it is not one this version understands."""
        try:
            ask = Ask(kind)
            awaiting = Awaiting(
                ask,
                int(data["reward"]),
                int(data["list"]) if data.get("list") is not None else None,
                PayMethod(data["method"]) if data.get("method") else None,
                str(data["reference"]) if data.get("reference") is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            return None
        needs_method = ask in (Ask.REFERENCE, Ask.AMOUNT)
        if needs_method != (awaiting.method is not None):
            return None
        if (ask is Ask.AMOUNT) != (awaiting.reference is not None):
            return None
        return awaiting


# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """What the officer typed."""

    text: str


@dataclass(frozen=True)
class MethodChosen:
    """A payment method's button."""

    reward_id: int
    method: PayMethod


@dataclass(frozen=True)
class AmountConfirmed:
    """The button "paid the promised amount"."""

    reward_id: int
    amount: int


Event = Text | MethodChosen | AmountConfirmed


# -- outcomes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reject:
    reward_id: int
    reason: str
    list_id: int | None = None


@dataclass(frozen=True)
class Pay:
    reward_id: int
    method: PayMethod
    reference: str
    amount: int
    list_id: int | None = None


class Refusal(StrEnum):
    """Why an answer was not taken (the question it met stays open)."""

    NOTHING_ASKED = "nothing_asked"  # no question is open (or it expired)
    METHOD_FIRST = "method_first"  # text while the method is chosen with the buttons
    BAD_REASON = "bad_reason"
    BAD_REFERENCE = "bad_reference"
    BAD_AMOUNT = "bad_amount"
    METHOD_CHOSEN = "method_chosen"  # a method button once this payment's method is chosen
    STALE = "stale"  # the amount button of a payment whose amount is not being asked


def ask_reason(reward_id: int, list_id: int | None = None) -> Awaiting:
    return Awaiting(Ask.REASON, reward_id, list_id)


def ask_method(reward_id: int, list_id: int | None = None) -> Awaiting:
    return Awaiting(Ask.METHOD, reward_id, list_id)


def answer(awaiting: Awaiting | None, event: Event) -> Awaiting | Reject | Pay | Refusal:
    """What ``event`` does to the question open (None: none is)."""
    match event:
        case MethodChosen(reward_id=reward_id, method=method):
            same = awaiting is not None and awaiting.reward_id == reward_id
            if same and awaiting.ask in (Ask.REFERENCE, Ask.AMOUNT):
                return Refusal.METHOD_CHOSEN
            # The list this payment started from, if its method question was the one open.
            list_id = awaiting.list_id if same and awaiting.ask is Ask.METHOD else None
            return Awaiting(Ask.REFERENCE, reward_id, list_id, method)
        case AmountConfirmed(reward_id=reward_id, amount=amount):
            if (
                awaiting is None
                or awaiting.ask is not Ask.AMOUNT
                or awaiting.reward_id != reward_id
            ):
                return Refusal.STALE
            return _pay(awaiting, amount)
        case Text(text=text):
            if awaiting is None:
                return Refusal.NOTHING_ASKED
            return _typed(awaiting, text)
    raise TypeError(f"not an answer: {event!r}")


def _typed(awaiting: Awaiting, text: str) -> Awaiting | Reject | Pay | Refusal:
    match awaiting.ask:
        case Ask.METHOD:
            return Refusal.METHOD_FIRST
        case Ask.REASON:
            reason = valid_reason(text)
            if reason is None:
                return Refusal.BAD_REASON
            return Reject(awaiting.reward_id, reason, awaiting.list_id)
        case Ask.REFERENCE:
            reference = valid_reference(text)
            if reference is None:
                return Refusal.BAD_REFERENCE
            return replace(awaiting, ask=Ask.AMOUNT, reference=reference)
        case Ask.AMOUNT:
            amount = parse_amount(text)
            if amount is None:
                return Refusal.BAD_AMOUNT
            return _pay(awaiting, amount)


def _pay(awaiting: Awaiting, amount: int) -> Pay:
    assert awaiting.method is not None and awaiting.reference is not None
    return Pay(awaiting.reward_id, awaiting.method, awaiting.reference, amount, awaiting.list_id)
