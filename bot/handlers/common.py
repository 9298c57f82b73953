"""Commands for everyone (/start, /help, /whoami, /language, /cancel) and shared helpers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ContextTypes

from bot.domain.events import Attempt
from bot.domain.tips import Role
from bot.i18n import keys, t
from bot.services.registry import Services
from bot.services.result import Refusal
from bot.views import reporter as rv
from bot.views.commands import render_help

log = logging.getLogger(__name__)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    if chat is not None and chat.type != ChatType.PRIVATE:
        return svc.config.station.language
    return await svc.users.language(user.id if user else None, user.language_code if user else None)


async def reply(update: Update, text: str, markup=None) -> Message | None:
    """Answer in the chat the update came from (HTML; links never unfurl).

    A direct reply: on a timeout the transport sends it again (a duplicated prompt is
    harmless, a lost one is not; see bot/transport.py).
    """
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


# Why an edit of the message a button was on can fail without anything being wrong: the press
# was repeated or came from an old copy (nothing to change), or the message is gone.
_HARMLESS_EDIT_ERRORS = (
    "not modified",
    "message to edit not found",
    "message can't be edited",
    "there is no text in the message to edit",
)


async def edit_pressed(query: CallbackQuery, text: str | None = None, markup=None) -> bool:
    """Edit the message a button was on (its text, or else only its buttons); see
    ``edit_shown``."""
    if query.message is None or not query.message.is_accessible:
        return False
    return await edit_shown(query.message, text, markup)


async def edit_shown(message: Message, text: str | None = None, markup=None) -> bool:
    """Edit a message the bot sent (its text, or else only its buttons).

    Cosmetic: handlers save the change first, so an edit that cannot be made must never stop
    the handler before it says what happened next — whether the press was repeated or stale,
    the message deleted or too old (``InaccessibleMessage``), or Telegram failing (5xx,
    timeouts, a flood wait) after the transport's retries. The old buttons may then stay; a
    press on them gets the current step's prompt. A refusal that means a bug of ours (say,
    bad HTML) is logged as an error, and the handler still goes on.

    True if the message shows it now (edited, or it already did: "not modified"); False if
    it may not (a caller whose edit carries the next question then sends it anew).
    """
    message_id = message.message_id
    try:
        if text is None:
            await message.edit_reply_markup(markup)
        else:
            await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        reason = str(exc).lower()
        if any(harmless in reason for harmless in _HARMLESS_EDIT_ERRORS):
            log.info("left message %s as it was: %s", message_id, exc)
            return "not modified" in reason
        log.error("could not edit message %s (carrying on): %s", message_id, exc)
        return False
    except TelegramError as exc:
        log.warning(
            "could not edit message %s (%s: %s); carrying on", message_id, type(exc).__name__, exc
        )
        return False
    return True


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def officer_language(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    what: Attempt,
    detail: dict[str, object] | None = None,
) -> str | None:
    """The one check of "duty officers only, in their private chat": the officer's language,
    or ``None`` once anyone else was told so politely (and the attempt recorded)."""
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    if user is None or not svc.users.is_officer(user.id):
        if user is not None:
            await svc.audit.refused(user.id, what, reason=Refusal.NOT_OFFICER, detail=detail)
        await _say(update, t(lang, "refused.officer_only"))
        return None
    if not is_private(update):
        # Replies go where the button was: a phone number or a payment never goes to a group.
        await _say(update, t(lang, "private_only"))
        return None
    return lang


async def _say(update: Update, text: str) -> None:
    """A refusal: a button's alert, or a reply in the chat."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


OfficerHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, str], Awaitable[None]]


def officers_only(what: Attempt) -> Callable[[OfficerHandler], Callable]:
    """A command for duty officers only (see :func:`officer_language`); the handler is
    called with the officer's language as its third argument."""

    def decorate(handler: OfficerHandler) -> Callable:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            lang = await officer_language(update, context, what)
            if lang is not None:
                await handler(update, context, lang)

        return guarded

    return decorate


async def touch_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is not None and not user.is_bot:
        await services(context).users.touch(
            user.id, user.first_name or "", user.username, user.language_code
        )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = await language(update, context)
    if not is_private(update):
        await help_command(update, context)
        return
    station = svc.config.station
    # Speak of the reward only to someone whose report could earn one now (not to staff,
    # not outside the campaign): never promise what the rules cannot give.
    user = update.effective_user
    can_earn = user is not None and await svc.awards.prospect(user.id, svc.clock.now()) is None
    await reply(
        update,
        t(
            lang,
            "start.welcome",
            station=station.name,
            hotline=station.hotline,
            reward=t(lang, "start.reward") if can_earn else "",
        ),
        rv.start_keyboard(lang),
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every command of the asker's menu, from the one command table (views/commands.py)."""
    svc = services(context)
    lang = await language(update, context)
    user = update.effective_user
    if not is_private(update):
        page = "group"
    else:
        page = svc.users.role(user.id).value if user else "reporter"
    await reply(update, render_help(page, lang, hotline=svc.config.station.hotline))


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    role = svc.users.role(user.id) if user else Role.REPORTER
    # In a group only staff ids are shown: a member of the public's id never goes to a group.
    shown = user is not None and (is_private(update) or svc.users.is_staff(user.id))
    await reply(
        update,
        t(
            lang,
            "whoami",
            user_id=user.id if shown else "—",
            chat_id=chat.id if chat else "—",
            chat_type=chat.type if chat else "—",
            role=t(lang, keys.ROLE[role]),
        ),
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    await reply(update, t(lang, "language.choose"), rv.language_keyboard())


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE, choice: str) -> None:
    """A /language button: the pressed picker then shows the choice and has no buttons; a
    second press of the same choice is answered "already" and changes nothing."""
    user = update.effective_user
    query = update.callback_query
    users = services(context).users
    message = query.message
    # Edit only the picker that still shows the button (not a message a forged press names).
    picker = (
        message is not None
        and message.is_accessible
        and bool(message.text)
        and message.reply_markup is not None
        and any(
            b.callback_data == query.data
            for row in message.reply_markup.inline_keyboard
            for b in row
        )
    )
    echo = f"{message.text_html}\n{rv.choice_echo(choice, 'lang.name')}" if picker else None
    if await users.chosen_language(user.id) == choice:
        await query.answer(t(choice, "language.already"))
    else:
        await users.set_language(user.id, choice)
        await query.answer()
        await reply(update, t(choice, "language.set"))
    if picker:
        await edit_pressed(query, echo)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    svc = services(context)
    user_id = update.effective_user.id
    had = await svc.reports.cancel(user_id)
    if svc.users.is_officer(user_id):
        had = await svc.answers.drop(user_id) or had
    await reply(update, t(lang, "cancel.done" if had else "cancel.nothing"), ReplyKeyboardRemove())


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    await reply(update, t(lang, "unknown_command"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any callback no other handler recognised: forged, or from an old version."""
    query = update.callback_query
    lang = await language(update, context)
    if update.effective_user is not None:
        await services(context).audit.refused(update.effective_user.id, Attempt.BUTTON)
    await query.answer(t(lang, "button.invalid"), show_alert=True)


def telegram_unavailable(error: BaseException | None) -> bool:
    """Did Telegram fail us (no answer in time, unreachable, 5xx, flood wait, a blocked or
    migrated chat) rather than the bot having a bug? ``BadRequest`` is a request of ours that
    Telegram refused: a bug."""
    if isinstance(error, BadRequest):
        return False
    return isinstance(error, NetworkError | RetryAfter | Forbidden | ChatMigrated)


def _kind(update: object) -> str:
    if isinstance(update, Update):
        for kind in ("callback_query", "message", "my_chat_member", "edited_message"):
            if getattr(update, kind, None) is not None:
                return f"{kind} {update.update_id}"
        return f"update {update.update_id}"
    return type(update).__name__


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unhandled error; on a bug of ours, tell the user, in their language.

    When Telegram did not answer in time or could not be reached, what the person asked may
    well have been done (their change is saved before any reply is sent; a timed-out message
    may have arrived): telling them "something went wrong, try again" would mislead, and could
    make them do it twice. That is one WARNING line, no traceback and no error message; their
    next message or press gets the prompt of the step they are at.
    """
    error = context.error
    if telegram_unavailable(error):
        log.warning(
            "Telegram failed while handling %s (%s: %s); not reported to the user",
            _kind(update),
            type(error).__name__,
            error,
        )
        return
    log.error("unhandled error while handling %s", _kind(update), exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        lang = await language(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer(t(lang, "error.generic"), show_alert=True)
        elif update.effective_chat is not None and is_private(update):
            await reply(update, t(lang, "error.generic"))
    except Exception:  # the error reply itself failed (e.g. Telegram unreachable)
        log.warning("could not tell the user about the error", exc_info=True)
