"""Reloading the configuration without a restart (SIGHUP, ``systemctl reload``,
``warmline reload``).

The run loop (bot/lifecycle.py) asks a :class:`Reloader` for the new configuration. If the
file is wrong, the reload is refused with the same plain-words message ``check-config``
gives; the running configuration stays in force and the duty officers are told. If it is
right, the running Application is stopped in order (what it was doing is in the database:
drafts, outbox, the inbound journal), a new one is built from the new configuration — staff,
groups, roster, officers and schedule settings all take effect at once — and the officers are
told what changed. The process, its database lock and its log stay.

What cannot change while running: the database (the lock is held on it) and the logging
(configured once per process). A change of the database refuses the reload; a change of the
logging is applied at the next restart, and the officers' message says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from telegram.ext import Application

from bot.config import Config, ConfigError, load_config
from bot.configdiff import Changes, ReloadRefused, config_changes
from bot.services.registry import Services
from bot.views import reload as views

log = logging.getLogger(__name__)

class Reloader:
    """What the run loop needs to reload: read the file again, build, tell the officers."""

    def __init__(
        self,
        path: Path | str,
        config: Config,
        build: Callable[[Config], Application],
        *,
        read: Callable[[Path | str], Config] = load_config,
    ) -> None:
        self.path = path
        self.config = config
        self._build = build
        self._read = read

    def build(self) -> Application:
        return self._build(self.config)

    def reread(self) -> tuple[Config, Changes] | str:
        """The new configuration and what it changes, or why it is refused (plain words)."""
        try:
            new = self._read(self.path)
            return new, config_changes(self.config, new)
        except (ConfigError, ReloadRefused) as exc:
            return str(exc)

    def take(self, config: Config) -> None:
        self.config = config

    async def tell_changed(self, app: Application, changes: Changes) -> None:
        svc: Services = app.bot_data["services"]
        names = await svc.naming.people(changes.people)
        await svc.users.tell_officers(lambda lang: views.changed(changes, names, lang))

    async def tell_refused(self, app: Application, reason: str) -> None:
        svc: Services = app.bot_data["services"]
        await svc.users.tell_officers(lambda lang: views.refused(reason, lang))
