"""How staff are named in messages: by a name, never by a bare user id.

One rule for every message that names a person (escalations, patrol-log warnings, cards'
"claimed by" and timeline, the officer's open list, refusals): the name the configuration
gives them (``[[groups]] leader_name``), else the Telegram first name the bot has seen, else
the role word ("组长", "巡查队员", "值班人员"; bot/views/people.py). Only staff are ever named:
a Telegram name seen for anyone else (a reporter) is never looked up here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.db.people import PeopleStore
from bot.domain.outbox import Mention
from bot.domain.tips import Role
from bot.services.reach import Reach


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str | None  # None: no name known (the role word stands in)
    role: Role  # OFFICER | LEADER | MEMBER | STAFF (no longer on the staff list)

    def mention(self) -> Mention:
        """How a group message names (and notifies) them."""
        return Mention(self.user_id, self.name, self.role)


class Naming:
    def __init__(self, people: PeopleStore, reach: Reach) -> None:
        self.store = people
        self.reach = reach

    async def people(self, user_ids: Iterable[int | None]) -> dict[int, Person]:
        """Every given id (``None`` skipped) → how to name them."""
        directory = self.reach.directory
        ids = sorted({i for i in user_ids if i is not None})
        staff = [i for i in ids if directory.is_staff(i)]
        seen = await self.store.first_names(staff) if staff else {}
        found: dict[int, Person] = {}
        for user_id in ids:
            role = directory.role(user_id)
            if role is Role.REPORTER:
                found[user_id] = Person(user_id, None, Role.STAFF)
                continue
            name = directory.configured_name(user_id) or (seen.get(user_id) or "").strip()
            found[user_id] = Person(user_id, name or None, role)
        return found

    async def person(self, user_id: int) -> Person:
        return (await self.people([user_id]))[user_id]
