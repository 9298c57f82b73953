"""How staff are named in messages: by a name, never by a bare user id.

One rule for every message that names a person (escalations, patrol-log warnings, cards'
"claimed by" and timeline, the officer's open list, refusals): the name the configuration
gives them (``[[groups]] leader_name``), else the Telegram first name the bot has seen, else
the role word ("组长", "巡查队员", "值班人员"). Only staff are ever named: a Telegram name seen
for anyone else (a reporter) is never looked up here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from bot.i18n import t
from bot.services.base import Deps


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str | None  # None: no name known (the role word stands in)
    role: str  # officer | leader | member | staff (no longer on the staff list)

    def label(self, lang: str) -> str:
        """The name to show (plain text; escape it for HTML)."""
        return self.name or t(lang, f"role.{self.role}")


async def people(d: Deps, user_ids: Iterable[int | None]) -> dict[int, Person]:
    """Every given id (``None`` skipped) → how to name them."""
    ids = sorted({i for i in user_ids if i is not None})
    staff = [i for i in ids if d.directory.is_staff(i)]
    seen = await d.repo.first_names(staff) if staff else {}
    found: dict[int, Person] = {}
    for user_id in ids:
        role = d.directory.role(user_id)
        if role == "reporter":
            found[user_id] = Person(user_id, None, "staff")
            continue
        name = d.directory.configured_name(user_id) or (seen.get(user_id) or "").strip()
        found[user_id] = Person(user_id, name or None, role)
    return found


async def person(d: Deps, user_id: int) -> Person:
    return (await people(d, [user_id]))[user_id]


def mention(who: Person, lang: str) -> str:
    """An HTML mention that notifies the person in a group; its text is a name or a role."""
    return f'<a href="tg://user?id={who.user_id}">{escape(who.label(lang))}</a>'
