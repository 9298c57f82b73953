"""Chats the bot is in or was thrown out of: unknown groups, lost patrol groups."""

from __future__ import annotations

from bot.services import notify
from bot.services.base import Deps


class ChatService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self._left: set[int] = set()

    async def leave_unknown_group(self, chat_id: int, title: str | None, by: int | None) -> bool:
        """Record leaving a group that is not configured; ``False`` if already done."""
        if chat_id in self._left:
            return False
        self._left.add(chat_id)
        now = self.d.now()
        async with self.d.db.write() as tx:
            await self.d.repo.add_event(
                tx,
                tip_id=None,
                actor_id=by,
                actor_role="system",
                action="left_unknown_group",
                from_state=None,
                to_state=None,
                now=now,
                detail={"chat_id": chat_id, "title": (title or "")[:100]},
            )
            await notify.tell_officers(
                self.d, tx, "chat.unknown_group_left", {"title": title or "—", "chat_id": chat_id}
            )
        self.d.wake()
        return True

    async def group_membership_changed(self, chat_id: int, *, present: bool) -> None:
        """Removed from a patrol group: an emergency. Added back: reachable again."""
        now = self.d.now()
        team = self.d.directory.team_by_chat(chat_id)
        async with self.d.db.write() as tx:
            await self.d.repo.set_chat_active(
                tx, chat_id, present, None if present else "removed from the group", now
            )
            await self.d.repo.add_event(
                tx,
                tip_id=None,
                actor_id=None,
                actor_role="system",
                action="group_back" if present else "group_lost",
                from_state=None,
                to_state=None,
                now=now,
                detail={"chat_id": chat_id},
            )
            if not present and team is not None:
                await notify.tell_officers(self.d, tx, "chat.group_lost", {"group": team.name})
        if present:
            self.d.inactive_chats.discard(chat_id)
        else:
            self.d.inactive_chats.add(chat_id)
        self.d.wake()
