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

from bot import replay
from bot.db.database import Database
from bot.db.drafts import DraftStore
from bot.db.events import EventStore
from bot.db.messages import MessageStore
from bot.db.people import PeopleStore
from bot.db.questions import QuestionStore
from bot.db.tips import TipStore
from bot.domain.events import Act, Attempt
from bot.domain.outbox import Keyboard, MessageKind, Msg, Words
from bot.domain.privacy import known_parts
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
from bot.domain.tips import Role, Tip
from bot.services.audit import Audit
from bot.services.clock import StationClock
from bot.services.field import FieldService
from bot.services.notify import Notifier
from bot.services.people import Naming
from bot.services.result import Refusal, Result, done, refused
from bot.services.tips import Tips

MAX_TEXT = 500


@dataclass(frozen=True)
class Relayed:
    """A text relayed: a member's question (to the reporter) or a reporter's answer."""

    tip: Tip
    question: Question | None = None
    answered: bool = False  # True: a reporter's answer; False: a member's question
    plain: bool = False  # taken from plain text (not a Telegram reply): offer a way out
    others: int = 0  # other open questions the reporter has (another tip)


#: What :meth:`RelayService.ask` and :meth:`RelayService.answer` return for a text that is
#: no question and no answer (it belongs elsewhere: the group's talk, a report).
NOT_OURS = None


class RelayService:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        tips: Tips,
        questions: QuestionStore,
        messages: MessageStore,
        drafts: DraftStore,
        people: PeopleStore,
        events: EventStore,
        notifier: Notifier,
        naming: Naming,
        field: FieldService,
        audit: Audit,
        clock: StationClock,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.questions = questions
        self.messages = messages
        self.drafts = drafts
        self.people = people
        self.events = events
        self.notifier = notifier
        self.naming = naming
        self.field = field
        self.audit = audit
        self.clock = clock

    async def may_ask(self, tip_id: int, user_id: int) -> Result[Tip]:
        """May this user put a question to the tip's reporter now?"""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        return await self._may_ask(tip, user_id)

    async def _may_ask(self, tip: Tip, user_id: int) -> Result[Tip]:
        if not tip.is_open:
            return refused(Refusal.CLOSED, tip)
        if not tip.has_reporter:
            return refused(Refusal.NO_REPORTER, tip)
        if not await self.field.allowed(tip, user_id, Attempt.ASK_REPORTER):
            return refused(Refusal.NOT_ALLOWED, tip)
        return done(tip)

    async def remember_prompt(
        self, chat_id: int, message_id: int, tip_id: int, member_id: int
    ) -> None:
        """The bot asked ``member_id`` (in ``chat_id``) to type their question."""
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.messages.add(tx, chat_id, message_id, tip_id, MessageKind.ASK_PROMPT, now)
            await self.questions.add(
                tx,
                tip_id=tip_id,
                chat_id=chat_id,
                member_id=member_id,
                prompt_id=message_id,
                state=QState.PROMPTED,
                now=now,
            )

    # -- the patrol's side ------------------------------------------------------------------
    async def ask(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None
    ) -> Result[Relayed] | None:
        """A member's text where the patrol works (a group, an officer's chat): is it a
        question for a reporter? It is when it replies to an ask prompt or to a relayed answer
        (a follow-up), or when the member was prompted for that tip and has not asked yet (a
        reply to any of the tip's messages, or plain text). ``None``: it is not."""
        now = self.clock.now()
        question: Question | None = None
        tip: Tip | None = None
        kind = await self.messages.kind(chat_id, reply_to) if reply_to else None
        if kind is not None and kind[1] == MessageKind.ASK_PROMPT:
            question = await self.questions.for_prompt(chat_id, reply_to or 0)
            tip = await self.store.get(kind[0])
            if question is not None and (
                question.member_id != user_id or question.state is not QState.PROMPTED
            ):
                question = None  # someone else's prompt, or already used: a question of its own
        elif kind is not None and kind[1] == MessageKind.ANSWER:
            tip = await self.store.get(kind[0])  # a follow-up question
        else:
            prompted = await self.questions.prompted(
                user_id, chat_id, now - PROMPT_OPEN, tip_id=kind[0] if kind else None
            )
            if prompted is None or not prompt_open(prompted, now):
                return NOT_OURS  # an ordinary conversation
            question = prompted
            tip = await self.store.get(prompted.tip_id)
        if tip is None:
            return NOT_OURS
        if replay.applied("relay") is not None:
            return done(Relayed(tip, question))  # a replay: relayed before a crash
        allowed = await self._may_ask(tip, user_id)
        if not allowed.ok:
            return refused(allowed.refusal or Refusal.NOT_ALLOWED, Relayed(tip))
        text = " ".join(text.split())
        if not text:
            return NOT_OURS
        if len(text) > MAX_TEXT:
            return refused(Refusal.TOO_LONG, Relayed(tip))
        reporter = await self.store.reporter_of(tip.id)
        assert reporter is not None
        async with self.db.write() as tx:
            if question is None:
                question_id = await self.questions.add(
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
                await self.questions.update(tx, question_id, state=QState.ASKED, asked_at=now)
            await replay.record(tx, "relay", tip.id)
            await self.notifier.tell(
                tx,
                reporter,
                Msg("ask.question", {"code": tip.code, "question": text}),
                tip_id=tip.id,
                keyboard=Keyboard.FORCE_REPLY,
                record=MessageKind.QUESTION,
                now=now,
            )
            await self.tips.note(tx, tip, user_id, Role.MEMBER, Act.ASK_REPORTER, now)
        return done(Relayed(tip, await self.questions.get(question_id)))

    async def nudge(self) -> int:
        """Follow up, once, a group prompt that got no question: in a group the bot sees only
        replies to its own messages, so a question typed without "reply" never reached it.
        Called on every schedule tick; returns how many were sent."""
        now = self.clock.now()
        due = [
            q
            for q in await self.questions.to_nudge(now - PROMPT_OPEN, now - NUDGE_AFTER)
            if needs_nudge(q, now)
        ]
        if not due:
            return 0
        named = await self.naming.people(q.member_id for q in due)
        async with self.db.write() as tx:
            for q in due:
                text = Msg("ask.nudge", {"member": named[q.member_id].mention(), "code": q.code})
                await self.notifier.say(tx, q.chat_id, text, tip_id=q.tip_id, reply_to_card=True)
                await self.questions.update(tx, q.id, nudged_at=now)
        return len(due)

    # -- the reporter's side ----------------------------------------------------------------
    async def answer(self, user_id: int, text: str, reply_to: int | None) -> Result[Relayed] | None:
        """A reporter's text in their private chat: is it an answer? It is when it replies to
        a relayed question, or — plain text — while a question is open for them
        (:func:`bot.domain.relay.answer_target`). ``None``: it is not."""
        now = self.clock.now()
        question: Question | None = None
        questions: list[Question] = []
        if reply_to is not None:
            kind = await self.messages.kind(user_id, reply_to)
            if kind is not None and kind[1] == MessageKind.QUESTION:
                if await self.store.reporter_of(kind[0]) != user_id:
                    return NOT_OURS
                question = await self.questions.last_asked(kind[0])
                if question is None:
                    return NOT_OURS
        plain = question is None
        if question is None:
            questions = await self.questions.for_reporter(user_id, now - QUESTION_OPEN)
            if not questions:
                return NOT_OURS  # the common case: one indexed query, nothing else
            touched = await self.drafts.updated_at(user_id)
            question = answer_target(questions, touched, now)
            if question is None:
                return NOT_OURS
        tip = await self.store.get(question.tip_id)
        assert tip is not None
        if replay.applied("relay") is not None:  # a replay: relayed before a crash
            return done(Relayed(tip, question, answered=True, plain=plain))
        text = " ".join(text.split())
        if not text:
            return NOT_OURS
        if len(text) > MAX_TEXT:
            return refused(Refusal.TOO_LONG, Relayed(tip, question, answered=True))
        others = len([q for q in open_for_answer(questions, now) if q.tip_id != tip.id])
        # The group reads the reporter's words with phone numbers and the reporter's own
        # name, username and phone masked (the identity is not kept in the message).
        words = Words(known_parts(text, await self.people.identity_of(user_id)))
        async with self.db.write() as tx:
            await self.notifier.say(
                tx,
                question.chat_id,
                Msg("ask.answer", {"code": tip.code, "answer": words}),
                tip_id=tip.id,
                reply_to_card=True,
                record=MessageKind.ANSWER,  # a reply to it is a follow-up question
                now=now,
            )
            await self.questions.update(tx, question.id, answered_at=now)
            await replay.record(tx, "relay", tip.id)
            await self.tips.note(tx, tip, user_id, Role.REPORTER, Act.REPORTER_ANSWER, now)
        return done(Relayed(tip, question, answered=True, plain=plain, others=others))

    async def not_an_answer(self, user_id: int, question_id: int) -> Question | None:
        """The reporter says their last text was not an answer: the patrol is told, and plain
        text is no longer taken as an answer to that question (a reply still is). ``None``:
        not their question (the refusal is recorded)."""
        question = await self.questions.get(question_id)
        if question is None or await self.store.reporter_of(question.tip_id) != user_id:
            await self.audit.refused(user_id, Attempt.NOT_AN_ANSWER)
            return None
        if question.state is QState.CLOSED:
            return question  # pressed twice
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.questions.update(tx, question.id, state=QState.CLOSED)
            await self.notifier.say(
                tx,
                question.chat_id,
                Msg("ask.not_an_answer", {"code": question.code}),
                tip_id=question.tip_id,
                reply_to_card=True,
                now=now,
            )
            act = Act.REPORTER_NOT_AN_ANSWER
            await self.events.note(tx, question.tip_id, user_id, Role.REPORTER, act, now)
        return question
