"""Guards that run before every other handler (group -1 in the composition root)."""

from __future__ import annotations

import time
from collections import deque

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.common import language, services
from bot.i18n import t


async def ignore_edits(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited messages (and live-location updates, which arrive as edits) are not new input:
    a report is built from what people send, not from what they later change."""
    if update.edited_message is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop


class FloodGuard:
    """At most ``limit`` updates per user in ``window`` seconds; the rest are dropped.

    The first dropped update in a burst gets one polite reply; the others get none, so a
    flood cannot make the bot flood back.
    """

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, should_warn)."""
        now = self.clock()
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return True, False
        warned_at = self._warned.get(user_id)
        warn = warned_at is None or now - warned_at > self.window
        if warn:
            self._warned[user_id] = now
        return False, warn

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        allowed, warn = self.allow(user.id)
        if allowed:
            return
        if warn:
            lang = await language(update, context)
            if update.callback_query is not None:
                await update.callback_query.answer(t(lang, "flood"), show_alert=True)
            elif (
                update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
            ):
                await update.effective_chat.send_message(t(lang, "flood"))
        raise ApplicationHandlerStop


async def unknown_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Only configured patrol groups are served. Anywhere else the bot says which chat this is
    (so a station setting up can put its id into the config), leaves, and tells the officers.
    """
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if chat.type == ChatType.CHANNEL:
        raise ApplicationHandlerStop
    svc = services(context)
    if svc.deps.directory.team_by_chat(chat.id) is not None:
        return
    lang = svc.deps.config.station.language
    if update.callback_query is not None:
        # No button of ours belongs here (forged, or a card from when the group was
        # configured): answer it, or the client keeps spinning.
        await update.callback_query.answer(t(lang, "button.invalid"), show_alert=True)
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in ("left", "kicked"):
        raise ApplicationHandlerStop  # we are already out
    user = update.effective_user
    if await svc.chats.leave_unknown_group(chat.id, chat.title, user.id if user else None):
        await chat.send_message(t(lang, "group.unknown", chat_id=chat.id))
        await chat.leave()
    raise ApplicationHandlerStop


async def group_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from (or added back to) a configured patrol group."""
    member = update.my_chat_member
    chat = update.effective_chat
    if member is None or chat is None:
        return
    svc = services(context)
    if svc.deps.directory.team_by_chat(chat.id) is None:
        return
    gone = member.new_chat_member.status in ("left", "kicked")
    await svc.chats.group_membership_changed(chat.id, present=not gone)
