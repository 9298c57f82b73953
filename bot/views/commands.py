"""The one table of commands: who sees which in their Telegram menu, and /help.

Everything about a command that people read comes from here and the catalogs, so the menus
(``bot/app.py`` ``set_command_menus``), the handlers registered for them (``bot/app.py``
``register_handlers`` builds one per row and refuses a row without a handler) and /help
cannot drift apart. Each row names its catalog keys: the menu's one-line description
(``cmd.<name>``), its line in /help (``help.cmd.<name>``) and, for a command that takes
arguments, how they are written (``usage.<name>``, e.g. "[区域]").
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
    menu_key: str | None = None  # its description in a menu
    help_key: str | None = None  # its line in /help
    usage_key: str | None = None  # how its arguments are written


_OFFICER = frozenset({Menu.OFFICER})
_GROUP = frozenset({Menu.GROUP})

# In menu order: each menu lists its commands in the order of this table.
COMMANDS: tuple[Command, ...] = (
    Command("start", frozenset()),
    # The duty officer.
    Command("newtip", _OFFICER, "cmd.newtip", "help.cmd.newtip"),
    Command("open", _OFFICER, "cmd.open", "help.cmd.open"),
    Command("rewards", _OFFICER, "cmd.rewards", "help.cmd.rewards"),
    Command("ledger", _OFFICER, "cmd.ledger", "help.cmd.ledger"),
    Command("claim", _OFFICER, "cmd.claim", "help.cmd.claim", "usage.claim"),
    Command("reverse", _OFFICER, "cmd.reverse", "help.cmd.reverse", "usage.reverse"),
    Command("coldmode", _OFFICER, "cmd.coldmode", "help.cmd.coldmode", "usage.coldmode"),
    # The patrol log, in a patrol group.
    Command(
        "patrol_start", _GROUP, "cmd.patrol_start", "help.cmd.patrol_start", "usage.patrol_start"
    ),
    Command("patrol_end", _GROUP, "cmd.patrol_end", "help.cmd.patrol_end", "usage.patrol_end"),
    # Where people were found lately (issue 13): staff only, in a group or an officer's chat.
    Command(
        "hotspots", frozenset({Menu.GROUP, Menu.OFFICER}), "cmd.hotspots", "help.cmd.hotspots"
    ),
    # Everyone in private (officers too).
    Command("report", _ALL_PRIVATE, "cmd.report", "help.cmd.report"),
    Command("mytips", _ALL_PRIVATE, "cmd.mytips", "help.cmd.mytips"),
    Command("cancel", _ALL_PRIVATE, "cmd.cancel", "help.cmd.cancel"),
    Command("language", _ALL_PRIVATE, "cmd.language", "help.cmd.language"),
    Command(
        "help", frozenset({Menu.PRIVATE, Menu.GROUP, Menu.OFFICER}), "cmd.help", "help.cmd.help"
    ),
    Command("whoami", frozenset({Menu.GROUP, Menu.OFFICER}), "cmd.whoami", "help.cmd.whoami"),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


def menu(which: Menu) -> tuple[str, ...]:
    """The command names of one menu, in order."""
    return tuple(c.name for c in COMMANDS if which in c.menus)


def menu_entries(names: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    """(command, its description) of each of these commands, in order."""
    return [(name, t(lang, BY_NAME[name].menu_key or "")) for name in names]


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
    usage = f" {t(lang, command.usage_key)}" if command.usage_key else ""
    return f"/{command.name}{usage} — {t(lang, command.help_key or '')}"


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
