"""Anonymous questions: a patrol member asks the reporter, the answer comes back to the group.

Both directions are bot messages: the reporter never learns who asked, the group never learns
who answered. Which bot message belongs to which tip is kept in the ``messages`` table
(``ask_prompt`` in the group, ``question`` in the reporter's chat). The texts themselves are
not written to the append-only event log (they may hold personal details and must stay
purgeable); the log records only that a question was asked and answered.
"""

from __future__ import annotations

from enum import StrEnum
from html import escape

from bot.db import journal
from bot.domain.tips import Tip
from bot.i18n import t
from bot.services import notify
from bot.services.base import Deps
from bot.services.field import FieldService

MAX_TEXT = 500


class RelayResult(StrEnum):
    SENT = "sent"
    NOT_ALLOWED = "not_allowed"
    NO_REPORTER = "no_reporter"
    CLOSED = "closed"
    NOT_OURS = "not_ours"  # not a reply to one of our relay messages
    TOO_LONG = "too_long"


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

    async def remember_prompt(self, chat_id: int, message_id: int, tip_id: int) -> None:
        async with self.d.db.write() as tx:
            await self.d.repo.add_message(
                tx, chat_id, message_id, tip_id, "ask_prompt", self.d.now()
            )

    async def ask(
        self, chat_id: int, reply_to: int, user_id: int, text: str
    ) -> tuple[RelayResult, Tip | None]:
        """A member's reply to an ask prompt: relay it to the reporter."""
        tip = await self._tip_for(chat_id, reply_to, "ask_prompt")
        if tip is None:
            return RelayResult.NOT_OURS, None
        if journal.applied("relay") is not None:
            return RelayResult.SENT, tip  # a replay: relayed before the crash, not again
        refusal = await self.may_ask(tip, user_id)
        if refusal is not None:
            return refusal, tip
        text = " ".join(text.split())
        if len(text) > MAX_TEXT:
            return RelayResult.TOO_LONG, tip
        reporter = await self.d.repo.reporter_of(tip.id)
        assert reporter is not None
        now = self.d.now()
        async with self.d.db.write() as tx:
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
            await journal.record(tx, "relay", tip.id)
        self.d.wake()
        return RelayResult.SENT, tip

    async def answer(
        self, chat_id: int, reply_to: int, user_id: int, text: str
    ) -> tuple[RelayResult, Tip | None]:
        """The reporter's reply to a relayed question: relay it to the tip's group."""
        tip = await self._tip_for(chat_id, reply_to, "question")
        if tip is None or await self.d.repo.reporter_of(tip.id) != user_id:
            return RelayResult.NOT_OURS, None
        if journal.applied("relay") is not None:
            return RelayResult.SENT, tip  # a replay: relayed before the crash, not again
        text = " ".join(text.split())
        if len(text) > MAX_TEXT:
            return RelayResult.TOO_LONG, tip
        team = self.d.directory.team(tip.group_key)
        now = self.d.now()
        async with self.d.db.write() as tx:
            answer = t(
                self.d.config.station.language, "ask.answer", code=tip.code, answer=escape(text)
            )
            await notify.say(
                self.d, tx, team.chat_id, answer, tip_id=tip.id, reply_to_card=True, now=now
            )
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
            await journal.record(tx, "relay", tip.id)
        self.d.wake()
        return RelayResult.SENT, tip

    async def _tip_for(self, chat_id: int, message_id: int, kind: str) -> Tip | None:
        sent = await self.d.repo.message_kind(chat_id, message_id)
        if sent is None or sent[1] != kind:
            return None
        return await self.d.repo.get_tip(sent[0])
