"""The bot itself: ``getMe``, ``logOut``/``close``, its command menus and descriptions."""

from __future__ import annotations

import copy
import re

from bot.sandbox.emulator.errors import bad
from bot.sandbox.emulator.world import World, scope_key

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class BotApi(World):
    def _api_getMe(self, params: dict, uploads: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_close(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setMyCommands(self, params: dict, uploads: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("commands must be an array of at most 100 BotCommand")
        clean = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise bad("BOT_COMMAND_INVALID")
            name = str(cmd.get("command", ""))
            desc = str(cmd.get("description", ""))
            if not _COMMAND_RE.fullmatch(name):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = (scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = clean
        return True

    def _api_getMyCommands(self, params: dict, uploads: dict) -> list[dict]:
        key = (scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: dict, uploads: dict) -> bool:
        key = (scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _api_setMyDescription(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setMyShortDescription(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setMyName(self, params: dict, uploads: dict) -> bool:
        return True

    def _api_setChatMenuButton(self, params: dict, uploads: dict) -> bool:
        return True
