"""Chats and their members: ``getChat``, ``getChatMember``, ``leaveChat`` and pinned messages."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.emulator.errors import bad
from bot.sandbox.emulator.world import World


class ChatsApi(World):
    def _api_getChat(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"), for_write=False)
        return {
            **copy.deepcopy(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getChatMember(self, params: dict, uploads: dict) -> dict:
        chat = self._chat(params.get("chat_id"), for_write=False)
        try:
            user_id = int(params.get("user_id"))
        except (TypeError, ValueError):
            raise bad("user not found") from None
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise bad("user not found")
        status = self._member_status.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"user": copy.deepcopy(user), "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    key: key in ("can_manage_chat", "can_delete_messages", "can_invite_users")
                    for key in (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    )
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _api_leaveChat(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise bad("chat member status can't be changed in private chats")
        self._left.append(chat["id"])
        return True

    def _api_pinChatMessage(self, params: dict, uploads: dict) -> bool:
        rec = self._rec_for(params, "message to pin not found")
        pins = self._pinned.setdefault(rec.chat_id, [])
        if rec.message_id in pins:
            pins.remove(rec.message_id)
        pins.append(rec.message_id)
        return True

    def _api_unpinChatMessage(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        pins = self._pinned.get(chat["id"], [])
        mid = params.get("message_id")
        if mid is None:
            if pins:
                pins.pop()
        elif int(mid) in pins:
            pins.remove(int(mid))
        return True

    def _api_unpinAllChatMessages(self, params: dict, uploads: dict) -> bool:
        chat = self._chat(params.get("chat_id"))
        self._pinned.pop(chat["id"], None)
        return True
