"""Chats the bot is in or was thrown out of: unknown groups, lost patrol groups."""

from __future__ import annotations

from bot.db.database import Database
from bot.domain.events import Act
from bot.domain.outbox import Msg
from bot.domain.tips import Role
from bot.services.audit import Audit
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach


class ChatService:
    def __init__(
        self, db: Database, reach: Reach, notifier: Notifier, audit: Audit, clock: StationClock
    ) -> None:
        self.db = db
        self.reach = reach
        self.notifier = notifier
        self.audit = audit
        self.clock = clock
        self._left: set[int] = set()

    def is_patrol_group(self, chat_id: int) -> bool:
        return self.reach.directory.team_by_chat(chat_id) is not None

    async def leave_unknown_group(self, chat_id: int, title: str | None, by: int | None) -> bool:
        """Record leaving a group that is not configured; ``False`` if already done."""
        if chat_id in self._left:
            return False
        self._left.add(chat_id)
        now = self.clock.now()
        async with self.db.write() as tx:
            detail = {"chat_id": chat_id, "title": (title or "")[:100]}
            await self.audit.record(
                tx, Act.LEFT_UNKNOWN_GROUP, actor_id=by, role=Role.SYSTEM, detail=detail, now=now
            )
            text = Msg("chat.unknown_group_left", {"title": title or "—", "chat_id": chat_id})
            await self.notifier.tell_officers(tx, text, now=now)
        return True

    async def group_membership_changed(self, chat_id: int, *, present: bool) -> None:
        """Removed from a patrol group: an emergency. Added back: reachable again."""
        now = self.clock.now()
        team = self.reach.directory.team_by_chat(chat_id)
        async with self.db.write() as tx:
            note = None if present else "removed from the group"
            await self.reach.set_reachable(tx, chat_id, present, note, now)
            await self.audit.record(
                tx,
                Act.GROUP_BACK if present else Act.GROUP_LOST,
                role=Role.SYSTEM,
                detail={"chat_id": chat_id},
                now=now,
            )
            if not present and team is not None:
                await self.notifier.tell_officers(tx, Msg("chat.group_lost", {"group": team.name}))
