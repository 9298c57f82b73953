"""Sending and editing a revisit's light card (issue 13), for the outbox sender.

A card already sent (its message id is on the revisit's row) is not sent again; an edit
before the card went out has nothing to do (the card, when sent, shows the state then).
"""

from __future__ import annotations

import logging

from telegram import Bot

from bot.db.database import Database
from bot.db.revisits import RevisitStore
from bot.db.tips import TipStore
from bot.domain.outbox import RevisitEdit, RevisitPost
from bot.domain.revisits import Revisit
from bot.jobs.edits import edit_text
from bot.services.clock import StationClock
from bot.services.people import Naming
from bot.services.reach import Reach
from bot.views.revisits import render_revisit, revisit_keyboard

log = logging.getLogger(__name__)


class RevisitCards:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        revisits: RevisitStore,
        tips: TipStore,
        naming: Naming,
        reach: Reach,
        clock: StationClock,
        language: str,
    ) -> None:
        self.bot = bot
        self.db = db
        self.revisits = revisits
        self.tips = tips
        self.naming = naming
        self.reach = reach
        self.clock = clock
        self.language = language

    async def _render(self, revisit: Revisit) -> tuple[str, object] | None:
        tip = await self.tips.get(revisit.tip_id)
        if tip is None:
            return None
        names = await self.naming.people([revisit.claimed_by, revisit.closed_by])
        text = render_revisit(
            revisit,
            tip,
            group=self.reach.directory.team_name(revisit.group_key or tip.group_key),
            claimer=names.get(revisit.claimed_by) if revisit.claimed_by else None,
            closer=names.get(revisit.closed_by) if revisit.closed_by else None,
            now=self.clock.now(),
            lang=self.language,
            tz=self.clock.tz,
        )
        return text, revisit_keyboard(revisit, self.language)

    async def post(self, chat_id: int, post: RevisitPost) -> None:
        revisit = await self.revisits.get(post.revisit_id)
        if revisit is None or revisit.message_id is not None:
            return  # gone, or sent already
        rendered = await self._render(revisit)
        if rendered is None:
            return
        text, keyboard = rendered
        message = await self.bot.send_message(chat_id, text, reply_markup=keyboard)
        async with self.db.write() as tx:
            await self.revisits.set_card(tx, revisit.id, message.chat_id, message.message_id)

    async def edit(self, edit: RevisitEdit) -> None:
        revisit = await self.revisits.get(edit.revisit_id)
        if revisit is None or revisit.message_id is None or revisit.chat_id is None:
            return
        rendered = await self._render(revisit)
        if rendered is None:
            return
        text, keyboard = rendered
        await edit_text(self.bot, revisit.chat_id, revisit.message_id, text, keyboard)
