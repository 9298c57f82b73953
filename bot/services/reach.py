"""Who the bot can reach now: the one owner of the chat state that changes while it runs.

Two things change: a patrol group that became a supergroup has a new chat id (Telegram's
``ChatMigrated``), and chats block the bot or remove it (``Forbidden``) and come back. The
directory (staff and groups, from the configuration) is kept with the new ids; the chats
that cannot be reached are kept as a set. Both are written through to the database in the
caller's transaction, and the copy here changes once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt

from bot.db.chats import ChatStore
from bot.db.database import Database
from bot.db.sql import Tx
from bot.domain.roster import Directory, Team


class Reach:
    def __init__(self, directory: Directory, store: ChatStore, db: Database) -> None:
        self._directory = directory
        self._store = store
        self._db = db
        self._inactive: set[int] = set()

    async def load(self) -> Reach:
        """At start: the chats found unreachable and the group ids that moved, as recorded."""
        self._inactive = await self._store.inactive()
        for old, new in (await self._store.migrations()).items():
            self._directory = self._directory.replace_chat_id(old, new)
        return self

    @property
    def directory(self) -> Directory:
        return self._directory

    def reachable(self, chat_id: int) -> bool:
        return chat_id not in self._inactive

    def officers(self) -> list[int]:
        """The duty officers the bot can still write to, in order."""
        return sorted(self._directory.officers - self._inactive)

    async def set_reachable(
        self, tx: Tx, chat_id: int, reachable: bool, note: str | None, now: dt.datetime
    ) -> bool:
        """Record that the bot can (or can no longer) write to a chat; whether that is news."""
        news = self.reachable(chat_id) != reachable
        await self._store.set_active(tx, chat_id, reachable, note, now)

        def apply() -> None:
            if reachable:
                self._inactive.discard(chat_id)
            else:
                self._inactive.add(chat_id)

        self._db.after_commit(apply)
        return news

    async def migrate(self, tx: Tx, old: int, new: int, now: dt.datetime) -> Team | None:
        """A patrol group's chat moved to ``new``: its cards follow it from now on. Returns
        the group (``None``: not a patrol group's chat, nothing to remember)."""
        team = self._directory.team_by_chat(old)
        if team is None:
            return None
        await self._store.record_migration(tx, old, new, now)

        def apply() -> None:
            self._directory = self._directory.replace_chat_id(old, new)

        self._db.after_commit(apply)
        return team
