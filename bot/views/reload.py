"""The duty officers' messages about a configuration reload (bot/reload.py)."""

from __future__ import annotations

from html import escape

from bot.configdiff import Changes
from bot.i18n import t
from bot.services.people import Person
from bot.views.people import mention


def _who(ids: tuple[int, ...], names: dict[int, Person], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(mention(names[i], lang) if i in names else t(lang, "role.staff") for i in ids)


def changed(changes: Changes, names: dict[int, Person], lang: str) -> str:
    lines = [t(lang, "reload.done")]
    for name in changes.groups_added:
        lines.append(t(lang, "reload.group_added", group=escape(name)))
    for name in changes.groups_removed:
        lines.append(t(lang, "reload.group_removed", group=escape(name)))
    for group in changes.groups:
        if group.added:
            who = _who(group.added, names, lang)
            lines.append(t(lang, "reload.members_added", group=escape(group.name), people=who))
        if group.removed:
            who = _who(group.removed, names, lang)
            lines.append(t(lang, "reload.members_removed", group=escape(group.name), people=who))
        if group.leader is not None:
            who = _who((group.leader,), names, lang)
            lines.append(t(lang, "reload.leader", group=escape(group.name), person=who))
    if changes.officers_added:
        who = _who(changes.officers_added, names, lang)
        lines.append(t(lang, "reload.officers_added", people=who))
    if changes.officers_removed:
        who = _who(changes.officers_removed, names, lang)
        lines.append(t(lang, "reload.officers_removed", people=who))
    if changes.sections:
        lines.append(t(lang, "reload.sections", sections=escape(", ".join(changes.sections))))
    if changes.later:
        lines.append(t(lang, "reload.later", sections=escape(", ".join(changes.later))))
    if changes.empty:
        lines.append(t(lang, "reload.nothing"))
    return "\n".join(lines)


def refused(reason: str, lang: str) -> str:
    return t(lang, "reload.refused", reason=escape(reason))
