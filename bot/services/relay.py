"""Anonymous questions: a patrol member asks the reporter, the answer comes back to the patrol.

Both directions are bot messages: the reporter never learns who asked, the group never learns
who answered. When typed text counts as a question or an answer is decided in
:mod:`bot.domain.relay`; the ``questions`` table keeps who asked about which tip and when (no
texts). Which bot message belongs to which tip is kept in the ``messages`` table
(``ask_prompt`` and ``answer`` where the patrol asks, ``question`` in the reporter's chat). The
texts themselves are not written to the append-only event log (they may hold personal details
and must stay purgeable); the log records only that a question was asked and answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from html import escape

from bot.db import journal
from bot.domain.privacy import mask_known, mask_phones
from bot.domain.relay import (
    NUDGE_AFTER,
    PROMPT_OPEN,
    QUESTION_OPEN,
    QState,
    Question,
    answer_target,
    needs_nudge,
    open_for_answer,
    prompt_open,
)
from bot.domain.tips import Tip
from bot.i18n import t
from bot.services import notify
from bot.services.base import Deps
from bot.services.field import FieldService
from bot.services.people import mention, people

MAX_TEXT = 500


class RelayResult(StrEnum):
    SENT = "sent"
    NOT_ALLOWED = "not_allowed"
    NO_REPORTER = "no_reporter"
    CLOSED = "closed"
    NOT_OURS = "not_ours"  # not a question or an answer: the text belongs elsewhere
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Relayed:
    """What became of a text: asked (a member's question) or answered (a reporter's)."""

    result: RelayResult
    tip: Tip | None = None
    question: Question | None = None
    answered: bool = False  # True: a reporter's answer; False: a member's question
    plain: bool = False  # taken from plain text (not a Telegram reply): offer a way out
    others: int = 0  # other open questions the reporter has (another tip)


NOT_OURS = Relayed(RelayResult.NOT_OURS)


class RelayService:
    def __init__(self, deps: Deps, field: FieldService) -> None:
        self.d = deps
        self.field = field

    async def may_ask(self, tip: Tip, user_id: int) -> RelayResult | None:
        """``None`` if this user may put a question to the tip's reporter now."""
        if not tip.is_open:
            return RelayResult.CLOSED
        if not tip.has_reporter:
            return RelayResult.NO_REPORTER
        actor = await self.field.actor_now(tip, user_id)
        if not actor.is_staff:
            await self.field.record_denied(tip.id, user_id, "ask_reporter")
            return RelayResult.NOT_ALLOWED
        return None

    async def remember_prompt(
        self, chat_id: int, message_id: int, tip_id: int, member_id: int
    ) -> None:
        """The bot asked ``member_id`` (in ``chat_id``) to type their question."""
        now = self.d.now()
        async with self.d.db.write() as tx:
            await self.d.repo.add_message(tx, chat_id, message_id, tip_id, "ask_prompt", now)
            await self.d.repo.add_question(
                tx,
                tip_id=tip_id,
                chat_id=chat_id,
                member_id=member_id,
                prompt_id=message_id,
                state=QState.PROMPTED,
                now=now,
            )

    # -- the patrol's side ------------------------------------------------------------------
    async def ask(self, chat_id: int, user_id: int, text: str, reply_to: int | None) -> Relayed:
        """A member's text where the patrol works (a group, an officer's chat): is it a
        question for a reporter? It is when it replies to an ask prompt or to a relayed answer
        (a follow-up), or when the member was prompted for that tip and has not asked yet (a
        reply to any of the tip's messages, or plain text)."""
        now = self.d.now()
        question: Question | None = None
        tip: Tip | None = None
        kind = await self.d.repo.message_kind(chat_id, reply_to) if reply_to else None
        if kind is not None and kind[1] == "ask_prompt":
            question = await self.d.repo.question_for_prompt(chat_id, reply_to or 0)
            tip = await self.d.repo.get_tip(kind[0])
            if question is not None and (
                question.member_id != user_id or question.state is not QState.PROMPTED
            ):
                question = None  # someone else's prompt, or already used: a question of its own
        elif kind is not None and kind[1] == "answer":
            tip = await self.d.repo.get_tip(kind[0])  # a follow-up question
        else:
            prompted = await self.d.repo.prompted_question(
                user_id, chat_id, now - PROMPT_OPEN, tip_id=kind[0] if kind else None
            )
            if prompted is None or not prompt_open(prompted, now):
                return NOT_OURS  # an ordinary conversation
            question = prompted
            tip = await self.d.repo.get_tip(prompted.tip_id)
        if tip is None:
            return NOT_OURS
        if journal.applied("relay") is not None:
            return Relayed(RelayResult.SENT, tip, question)  # a replay: relayed before a crash
        refusal = await self.may_ask(tip, user_id)
        if refusal is not None:
            return Relayed(refusal, tip)
        text = " ".join(text.split())
        if not text:
            return NOT_OURS
        if len(text) > MAX_TEXT:
            return Relayed(RelayResult.TOO_LONG, tip)
        reporter = await self.d.repo.reporter_of(tip.id)
        assert reporter is not None
        async with self.d.db.write() as tx:
            if question is None:
                question_id = await self.d.repo.add_question(
                    tx,
                    tip_id=tip.id,
                    chat_id=chat_id,
                    member_id=user_id,
                    prompt_id=None,
                    state=QState.ASKED,
                    now=now,
                )
            else:
                question_id = question.id
                await self.d.repo.update_question(
                    tx, question_id, state=QState.ASKED, asked_at=now
                )
            await journal.record(tx, "relay", tip.id)
            await notify.tell(
                self.d,
                tx,
                reporter,
                "ask.question",
                {"code": tip.code, "question": text},
                tip_id=tip.id,
                keyboard="force_reply",
                record="question",
                now=now,
            )
            await self.d.repo.add_event(
                tx,
                tip_id=tip.id,
                actor_id=user_id,
                actor_role="member",
                action="ask_reporter",
                from_state=tip.state.value,
                to_state=tip.state.value,
                now=now,
            )
        self.d.wake()
        return Relayed(RelayResult.SENT, tip, await self.d.repo.question(question_id))

    async def nudge(self) -> int:
        """Follow up, once, a group prompt that got no question: in a group the bot sees only
        replies to its own messages, so a question typed without "reply" never reached it.
        Called on every schedule tick; returns how many were sent."""
        now = self.d.now()
        lang = self.d.config.station.language
        due = [
            q
            for q in await self.d.repo.prompts_to_nudge(now - PROMPT_OPEN, now - NUDGE_AFTER)
            if needs_nudge(q, now)
        ]
        if not due:
            return 0
        named = await people(self.d, (q.member_id for q in due))
        async with self.d.db.write() as tx:
            for q in due:
                who = mention(named[q.member_id], lang)
                text = t(lang, "ask.nudge", member=who, code=q.code)
                await notify.say(self.d, tx, q.chat_id, text, tip_id=q.tip_id, reply_to_card=True)
                await self.d.repo.update_question(tx, q.id, nudged_at=now)
        self.d.wake()
        return len(due)

    # -- the reporter's side ----------------------------------------------------------------
    async def answer(self, user_id: int, text: str, reply_to: int | None) -> Relayed:
        """A reporter's text in their private chat: is it an answer? It is when it replies to
        a relayed question, or — plain text — while a question is open for them
        (:func:`bot.domain.relay.answer_target`)."""
        now = self.d.now()
        question: Question | None = None
        questions: list[Question] = []
        if reply_to is not None:
            kind = await self.d.repo.message_kind(user_id, reply_to)
            if kind is not None and kind[1] == "question":
                if await self.d.repo.reporter_of(kind[0]) != user_id:
                    return NOT_OURS
                question = await self.d.repo.last_asked_question(kind[0])
                if question is None:
                    return NOT_OURS
        plain = question is None
        if question is None:
            questions = await self.d.repo.questions_for_reporter(user_id, now - QUESTION_OPEN)
            if not questions:
                return NOT_OURS  # the common case: one indexed query, nothing else
            touched = await self.d.repo.draft_updated_at(user_id)
            question = answer_target(questions, touched, now)
            if question is None:
                return NOT_OURS
        tip = await self.d.repo.get_tip(question.tip_id)
        assert tip is not None
        if journal.applied("relay") is not None:  # a replay: relayed before a crash
            return Relayed(RelayResult.SENT, tip, question, answered=True, plain=plain)
        text = " ".join(text.split())
        if not text:
            return NOT_OURS
        if len(text) > MAX_TEXT:
            return Relayed(RelayResult.TOO_LONG, tip, question, answered=True)
        others = len([q for q in open_for_answer(questions, now) if q.tip_id != tip.id])
        lang = self.d.config.station.language
        async with self.d.db.write() as tx:
            known = await self.d.repo.identity_of(user_id)
            answer = t(lang, "ask.answer", code=tip.code, answer=_masked(text, lang, known))
            await notify.say(
                self.d,
                tx,
                question.chat_id,
                answer,
                tip_id=tip.id,
                reply_to_card=True,
                record="answer",  # a reply to it is a follow-up question
                now=now,
            )
            await self.d.repo.update_question(tx, question.id, answered_at=now)
            await journal.record(tx, "relay", tip.id)
            await self.d.repo.add_event(
                tx,
                tip_id=tip.id,
                actor_id=user_id,
                actor_role="reporter",
                action="reporter_answer",
                from_state=tip.state.value,
                to_state=tip.state.value,
                now=now,
            )
        self.d.wake()
        return Relayed(RelayResult.SENT, tip, question, answered=True, plain=plain, others=others)

    async def not_an_answer(self, user_id: int, question_id: int) -> Question | None:
        """The reporter says their last text was not an answer: the patrol is told, and plain
        text is no longer taken as an answer to that question (a reply still is)."""
        question = await self.d.repo.question(question_id)
        if question is None or await self.d.repo.reporter_of(question.tip_id) != user_id:
            return None
        if question.state is QState.CLOSED:
            return question  # pressed twice
        now = self.d.now()
        lang = self.d.config.station.language
        async with self.d.db.write() as tx:
            await self.d.repo.update_question(tx, question.id, state=QState.CLOSED)
            await notify.say(
                self.d,
                tx,
                question.chat_id,
                t(lang, "ask.not_an_answer", code=question.code),
                tip_id=question.tip_id,
                reply_to_card=True,
                now=now,
            )
            await self.d.repo.add_event(
                tx,
                tip_id=question.tip_id,
                actor_id=user_id,
                actor_role="reporter",
                action="reporter_not_an_answer",
                from_state=None,
                to_state=None,
                now=now,
            )
        self.d.wake()
        return question


def _masked(text: str, lang: str, known: tuple[str | None, ...]) -> str:
    """A reporter's answer as the group reads it: escaped, phone numbers and the reporter's
    own name, username and phone masked (they stay anonymous there; bot/domain/privacy.py)."""
    masked = mask_known(text, known, t(lang, "privacy.name_hidden"))
    return escape(mask_phones(masked, t(lang, "privacy.phone_hidden")))
