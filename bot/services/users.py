"""People talking to the bot: their language and their (staff) display names."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import normalize_language
from bot.services import notify
from bot.services.base import Deps


class UserService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        # user id → (first name, username, Telegram language) as last stored
        self._known: dict[int, tuple[str, str | None, str | None]] = {}
        # user id → (chosen language, Telegram language)
        self._language: dict[int, tuple[str | None, str | None]] = {}

    async def touch(
        self, user_id: int, first_name: str, username: str | None, tg_language: str | None
    ) -> None:
        """Remember a user's current name and app language (no write when nothing changed)."""
        current = (first_name, username, tg_language)
        if user_id in self.d.inactive_chats:
            # They wrote again (unblocked the bot): their chat is reachable once more.
            async with self.d.db.write() as tx:
                await self.d.repo.set_chat_active(tx, user_id, True, None, self.d.now())
            self.d.inactive_chats.discard(user_id)
        if self._known.get(user_id) == current:
            return
        async with self.d.db.write() as tx:
            await self.d.repo.upsert_user(
                tx, user_id, first_name, username, tg_language, self.d.now()
            )
        self._known[user_id] = current
        chosen = self._language.get(user_id, (None, None))[0]
        if user_id in self._language:
            self._language[user_id] = (chosen, tg_language)

    async def language(self, user_id: int | None, telegram_code: str | None = None) -> str:
        """The user's chosen language, else their Telegram app's, else the station's."""
        default = self.d.config.station.language
        if user_id is None:
            return normalize_language(telegram_code, default)
        if user_id not in self._language:
            self._language[user_id] = await self.d.repo.user_languages(user_id)
        chosen, stored_tg = self._language[user_id]
        return chosen or normalize_language(telegram_code or stored_tg, default)

    async def chosen_language(self, user_id: int) -> str | None:
        """The language the user picked with /language (None: never picked one)."""
        await self.language(user_id)
        return self._language[user_id][0]

    async def set_language(self, user_id: int, language: str) -> None:
        async with self.d.db.write() as tx:
            await self.d.repo.set_user_language(tx, user_id, language, self.d.now())
        previous = self._language.get(user_id, (None, None))
        self._language[user_id] = (language, previous[1])

    async def tell_officers(self, render: Callable[[str], str]) -> None:
        """One message (``render(lang)``, HTML) to every duty officer the bot can reach, each
        in their language, through the outbox."""
        now = self.d.now()
        officers = sorted(self.d.directory.officers - self.d.inactive_chats)
        texts = {officer: render(await self.language(officer)) for officer in officers}
        async with self.d.db.write() as tx:
            for officer, text in texts.items():
                await notify.say(self.d, tx, officer, text, now=now)
        self.d.wake()

    async def sync_staff(self) -> None:
        """The staff table from the directory: one row per person, in their group role if
        they have one (a leader also listed among the members is the leader; an officer who
        is in a group keeps the group role), whatever shape the configuration has."""
        roles: dict[int, tuple[str, str | None]] = {}
        for team in self.d.directory.teams:
            for member in sorted(team.members):
                roles.setdefault(member, ("member", team.key))
            roles[team.leader] = ("leader", team.key)
        for officer in sorted(self.d.directory.officers):
            roles.setdefault(officer, ("officer", None))
        entries = [(user_id, role, group) for user_id, (role, group) in roles.items()]
        async with self.d.db.write() as tx:
            await self.d.repo.sync_staff(tx, entries, self.d.now())
