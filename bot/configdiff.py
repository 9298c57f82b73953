"""What a new configuration changes, in the terms a duty officer reads (pure: configs in,
a :class:`Changes` out). Used by a reload (bot/reload.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Config

#: Sections whose change takes effect only at the next restart of the process.
RESTART_ONLY = ("logging",)


@dataclass(frozen=True)
class GroupChange:
    name: str
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    leader: int | None = None  # the new leader, if the leader changed


@dataclass(frozen=True)
class Changes:
    """What a new configuration changes, in the terms a duty officer reads."""

    groups_added: tuple[str, ...] = ()
    groups_removed: tuple[str, ...] = ()
    groups: tuple[GroupChange, ...] = ()
    officers_added: tuple[int, ...] = ()
    officers_removed: tuple[int, ...] = ()
    #: Other sections that changed and apply now (``roster``, ``patrol``, ``escalation``…).
    sections: tuple[str, ...] = ()
    #: Sections that changed but apply at the next restart.
    later: tuple[str, ...] = ()
    people: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (
            self.groups_added
            or self.groups_removed
            or self.groups
            or self.officers_added
            or self.officers_removed
            or self.sections
            or self.later
        )


class ReloadRefused(Exception):
    """The new configuration cannot be taken while running (the message says why and how)."""


def config_changes(old: Config, new: Config) -> Changes:
    """What changes from ``old`` to ``new``; :class:`ReloadRefused` if it cannot apply."""
    if old.station.database != new.station.database:
        raise ReloadRefused(
            f"station.database changed ({old.station.database} → {new.station.database}): "
            "the running bot keeps its database → restart warmline to use another one"
        )
    before = {g.key: g for g in old.groups}
    after = {g.key: g for g in new.groups}
    groups: list[GroupChange] = []
    for key in (k for k in after if k in before):
        was, now = before[key], after[key]
        was_staff, now_staff = {was.leader, *was.members}, {now.leader, *now.members}
        change = GroupChange(
            name=now.name,
            added=tuple(sorted(now_staff - was_staff)),
            removed=tuple(sorted(was_staff - now_staff)),
            leader=now.leader if now.leader != was.leader else None,
        )
        if change.added or change.removed or change.leader is not None:
            groups.append(change)
    officers_before, officers_after = set(old.officers.user_ids), set(new.officers.user_ids)
    sections = []
    later = []
    for name in type(new).model_fields:
        if name in ("groups", "officers"):
            continue
        if getattr(old, name) != getattr(new, name):
            (later if name in RESTART_ONLY else sections).append(name)
    if any(
        (g.key in before and (g.name, g.chat_id, g.leader_name) != (
            before[g.key].name, before[g.key].chat_id, before[g.key].leader_name
        ))
        for g in new.groups
    ):
        sections.append("groups")
    touched = {p for g in groups for p in (*g.added, *g.removed)}
    touched |= {g.leader for g in groups if g.leader is not None}
    touched |= officers_before ^ officers_after
    return Changes(
        groups_added=tuple(after[k].name for k in after if k not in before),
        groups_removed=tuple(before[k].name for k in before if k not in after),
        groups=tuple(groups),
        officers_added=tuple(sorted(officers_after - officers_before)),
        officers_removed=tuple(sorted(officers_before - officers_after)),
        sections=tuple(sections),
        later=tuple(later),
        people=frozenset(touched),
    )
