"""People talking to the bot: their language, their names, the staff table."""

from __future__ import annotations

from collections.abc import Callable

from bot.db.database import Database
from bot.db.people import PeopleStore
from bot.domain.outbox import Html
from bot.domain.tips import Role
from bot.i18n import normalize_language
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach


class UserService:
    def __init__(
        self,
        db: Database,
        people: PeopleStore,
        reach: Reach,
        notifier: Notifier,
        clock: StationClock,
        station_language: str,
    ) -> None:
        self.db = db
        self.store = people
        self.reach = reach
        self.notifier = notifier
        self.clock = clock
        self.station_language = station_language
        # user id → (first name, username, Telegram language) as last stored
        self._known: dict[int, tuple[str, str | None, str | None]] = {}
        # user id → (chosen language, Telegram language)
        self._language: dict[int, tuple[str | None, str | None]] = {}

    def role(self, user_id: int) -> Role:
        """OFFICER, LEADER, MEMBER or REPORTER (everyone not on the staff list)."""
        return self.reach.directory.role(user_id)

    def is_staff(self, user_id: int) -> bool:
        return self.reach.directory.is_staff(user_id)

    def is_officer(self, user_id: int) -> bool:
        return self.reach.directory.is_officer(user_id)

    async def touch(
        self, user_id: int, first_name: str, username: str | None, tg_language: str | None
    ) -> None:
        """Remember a user's current name and app language (no write when nothing changed)."""
        current = (first_name, username, tg_language)
        if not self.reach.reachable(user_id):
            # They wrote again (unblocked the bot): their chat is reachable once more.
            async with self.db.write() as tx:
                await self.reach.set_reachable(tx, user_id, True, None, self.clock.now())
        if self._known.get(user_id) == current:
            return
        async with self.db.write() as tx:
            await self.store.upsert(
                tx, user_id, first_name, username, tg_language, self.clock.now()
            )
        self._known[user_id] = current
        chosen = self._language.get(user_id, (None, None))[0]
        if user_id in self._language:
            self._language[user_id] = (chosen, tg_language)

    async def language(self, user_id: int | None, telegram_code: str | None = None) -> str:
        """The user's chosen language, else their Telegram app's, else the station's."""
        default = self.station_language
        if user_id is None:
            return normalize_language(telegram_code, default)
        if user_id not in self._language:
            self._language[user_id] = await self.store.languages(user_id)
        chosen, stored_tg = self._language[user_id]
        return chosen or normalize_language(telegram_code or stored_tg, default)

    async def chosen_language(self, user_id: int) -> str | None:
        """The language the user picked with /language (None: never picked one)."""
        await self.language(user_id)
        return self._language[user_id][0]

    async def set_language(self, user_id: int, language: str) -> None:
        async with self.db.write() as tx:
            await self.store.set_language(tx, user_id, language, self.clock.now())
        previous = self._language.get(user_id, (None, None))
        self._language[user_id] = (language, previous[1])

    async def tell_officers(self, render: Callable[[str], str]) -> None:
        """One message (``render(lang)``, HTML) to every duty officer the bot can reach, each
        in their language, through the outbox."""
        now = self.clock.now()
        officers = self.reach.officers()
        texts = {officer: render(await self.language(officer)) for officer in officers}
        async with self.db.write() as tx:
            for officer, text in texts.items():
                await self.notifier.say(tx, officer, Html(text), now=now)

    async def sync_staff(self) -> None:
        """The staff table from the directory: one row per person, in their group role if
        they have one (a leader also listed among the members is the leader; an officer who
        is in a group keeps the group role), whatever shape the configuration has."""
        roles: dict[int, tuple[Role, str | None]] = {}
        directory = self.reach.directory
        for team in directory.teams:
            for member in sorted(team.members):
                roles.setdefault(member, (Role.MEMBER, team.key))
            roles[team.leader] = (Role.LEADER, team.key)
        for officer in sorted(directory.officers):
            roles.setdefault(officer, (Role.OFFICER, None))
        entries = [(user_id, role.value, group) for user_id, (role, group) in roles.items()]
        async with self.db.write() as tx:
            await self.store.sync_staff(tx, entries, self.clock.now())
