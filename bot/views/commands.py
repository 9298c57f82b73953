"""The one table of commands: who sees which in their Telegram menu, and /help.

Everything about a command that people read comes from here and the catalogs, so the menus
(``bot/app.py`` ``set_command_menus``), the handlers registered for them (``bot/app.py``
``register_handlers`` builds one per row and refuses a row without a handler) and /help
cannot drift apart. Catalog keys per command: ``cmd.<name>`` (the menu's one-line
description), ``help.cmd.<name>`` (its line in /help) and, for a command that takes
arguments, ``usage.<name>`` (how they are written, e.g. "[区域]").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import t


class Menu(StrEnum):
    """A command menu (a Telegram BotCommandScope)."""

    PRIVATE = "private"  # every private chat: members of the public, and staff in private
    GROUP = "group"  # each configured patrol group's chat
    OFFICER = "officer"  # each duty officer's private chat


_ALL_PRIVATE = frozenset({Menu.PRIVATE, Menu.OFFICER})


@dataclass(frozen=True)
class Command:
    name: str
    menus: frozenset[Menu]  # empty: not in any menu (e.g. /start, Telegram's START button)
    usage: bool = False  # takes arguments, written as the catalog's usage.<name>


# In menu order: each menu lists its commands in the order of this table.
COMMANDS: tuple[Command, ...] = (
    Command("start", frozenset()),
    # The duty officer.
    Command("newtip", frozenset({Menu.OFFICER})),
    Command("open", frozenset({Menu.OFFICER})),
    Command("rewards", frozenset({Menu.OFFICER})),
    Command("ledger", frozenset({Menu.OFFICER})),
    Command("claim", frozenset({Menu.OFFICER}), usage=True),
    Command("reverse", frozenset({Menu.OFFICER}), usage=True),
    Command("coldmode", frozenset({Menu.OFFICER}), usage=True),
    # The patrol log, in a patrol group.
    Command("patrol_start", frozenset({Menu.GROUP}), usage=True),
    Command("patrol_end", frozenset({Menu.GROUP}), usage=True),
    # Everyone in private (officers too).
    Command("report", _ALL_PRIVATE),
    Command("mytips", _ALL_PRIVATE),
    Command("cancel", _ALL_PRIVATE),
    Command("language", _ALL_PRIVATE),
    Command("help", frozenset({Menu.PRIVATE, Menu.GROUP, Menu.OFFICER})),
    Command("whoami", frozenset({Menu.GROUP, Menu.OFFICER})),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


def menu(which: Menu) -> tuple[str, ...]:
    """The command names of one menu, in order."""
    return tuple(c.name for c in COMMANDS if which in c.menus)


#: What /help shows, by where and who asks: sections of (intro key, menu listed under it).
#: A command already listed in an earlier section is not listed again.
HELP_PAGES: dict[str, tuple[tuple[str, Menu | None], ...]] = {
    "reporter": (("help.reporter", Menu.PRIVATE),),
    "member": (("help.reporter", Menu.PRIVATE), ("help.patrol", Menu.GROUP)),
    "leader": (
        ("help.reporter", Menu.PRIVATE),
        ("help.patrol", Menu.GROUP),
        ("help.leader", None),
    ),
    "officer": (("help.reporter", Menu.PRIVATE), ("help.officer", Menu.OFFICER)),
    "group": (("help.group", Menu.GROUP),),
}

#: The menu a person sees where they ask for /help (what /help must cover).
MENU_OF: dict[str, Menu] = {
    "reporter": Menu.PRIVATE,
    "member": Menu.PRIVATE,
    "leader": Menu.PRIVATE,
    "officer": Menu.OFFICER,
    "group": Menu.GROUP,
}


def help_line(command: Command, lang: str) -> str:
    usage = f" {t(lang, f'usage.{command.name}')}" if command.usage else ""
    return f"/{command.name}{usage} — {t(lang, f'help.cmd.{command.name}')}"


def render_help(page: str, lang: str, *, hotline: str) -> str:
    """/help for ``page`` (reporter | member | leader | officer | group), HTML."""
    listed: set[str] = set()
    sections = []
    for intro, which in HELP_PAGES[page]:
        lines = [t(lang, intro, hotline=hotline)]
        if which is not None:
            for command in COMMANDS:
                if which in command.menus and command.name not in listed:
                    listed.add(command.name)
                    lines.append(help_line(command, lang))
        sections.append("\n".join(lines))
    return "\n\n".join(sections)
