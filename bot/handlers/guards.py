"""Guards that run before every other handler (groups -4 … -1 in the composition root)."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

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

    A message counts at the time it was *sent* (its Telegram ``date``), not when the bot gets
    to it: on a busy machine a flood is still a flood, and after an outage a backlog of
    messages sent minutes apart is not one. Other updates (button presses have no date) count
    when they are handled.

    Configured staff (duty officers, leaders, members) get ``staff_factor`` times the limit:
    an officer recording payments or a member working cards on a busy night taps far more
    than any reporter, and must never lose a confirmation to the guard; the higher limit
    (well beyond human tapping) still stops a runaway client on a staff account.

    A dropped button press is always answered, with an alert saying that nothing was
    recorded (an unanswered press spins, and a mere toast could be read as "done"). Of other
    dropped updates only the first in a burst gets a reply, so a flood cannot make the bot
    flood back into the chat.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.time,  # the same scale as Telegram's dates
        *,
        is_staff: Callable[[int], bool] = lambda user_id: False,
        staff_factor: int = 10,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.is_staff = is_staff
        self.staff_factor = staff_factor
        self._seen: dict[int, list[float]] = {}  # accepted updates' times, sorted
        self._warned: dict[int, float] = {}

    def limit_for(self, user_id: int) -> int:
        return self.limit * self.staff_factor if self.is_staff(user_id) else self.limit

    def allow(
        self, user_id: int, *, at: float | None = None, chat_reply: bool = True
    ) -> tuple[bool, bool]:
        """(allowed, should_warn) for an update of ``user_id`` sent ``at`` (default: now).

        ``chat_reply``: whether a refusal would be a message in the chat (the one warning of
        a burst); a button press is answered on its own.
        """
        now = self.clock() if at is None else at
        times = self._seen.setdefault(user_id, [])
        # Forget what no window around the newest update can reach.
        newest = max(now, times[-1]) if times else now
        del times[: bisect.bisect_right(times, newest - 2 * self.window)]
        # Accepted updates within the window either side (handled out of order: a backlog).
        near = bisect.bisect_left(times, now + self.window) - bisect.bisect_right(
            times, now - self.window
        )
        if near < self.limit_for(user_id):
            bisect.insort(times, now)
            return True, False
        if not chat_reply:
            return False, False
        warned_at = self._warned.get(user_id)
        warn = warned_at is None or abs(now - warned_at) > self.window
        if warn:
            self._warned[user_id] = now
        return False, warn

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        press = update.callback_query is not None
        message = None if press else update.effective_message
        sent = message.date.timestamp() if message is not None and message.date else None
        allowed, warn = self.allow(user.id, at=sent, chat_reply=not press)
        if allowed:
            return
        if press:
            lang = await language(update, context)
            await update.callback_query.answer(t(lang, "flood.button"), show_alert=True)
        elif warn and (
            update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
        ):
            lang = await language(update, context)
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
    if svc.chats.is_patrol_group(chat.id):
        return
    lang = svc.config.station.language
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
    if not svc.chats.is_patrol_group(chat.id):
        return
    gone = member.new_chat_member.status in ("left", "kicked")
    await svc.chats.group_membership_changed(chat.id, present=not gone)
