"""Commands for everyone (/start, /help, /whoami, /language, /cancel) and shared helpers."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, ReplyKeyboardRemove, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.services.registry import Services
from bot.transport import CONNECT_ERROR
from bot.views import reporter as rv

log = logging.getLogger(__name__)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    if chat is not None and chat.type != ChatType.PRIVATE:
        return svc.deps.config.station.language
    return await svc.users.language(user.id if user else None, user.language_code if user else None)


async def reply(update: Update, text: str, markup=None) -> None:
    """Answer in the chat the update came from (HTML; links never unfurl)."""
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
    )


# Why an edit of the message a button was on can fail without anything being wrong: the press
# was repeated or came from an old copy (nothing to change), or the message is gone.
_HARMLESS_EDIT_ERRORS = (
    "not modified",
    "message to edit not found",
    "message can't be edited",
    "there is no text in the message to edit",
)


async def edit_pressed(query: CallbackQuery, text: str | None = None, markup=None) -> None:
    """Edit the message a button was on (its text, or else only its buttons).

    Cosmetic: handlers save the change first, so an edit that cannot be made — a repeated or
    stale press, a message that was deleted or is too old (``InaccessibleMessage``) — must not
    stop the handler before it says what happened next.
    """
    if query.message is None or not query.message.is_accessible:
        return
    try:
        if text is None:
            await query.edit_message_reply_markup(markup)
        else:
            await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if not any(reason in str(exc).lower() for reason in _HARMLESS_EDIT_ERRORS):
            raise
        log.info("left message %s as it was: %s", query.message.message_id, exc)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def role_of(svc: Services, user_id: int) -> str:
    directory = svc.deps.directory
    if directory.is_officer(user_id):
        return "officer"
    if directory.is_leader(user_id):
        return "leader"
    if directory.team_of(user_id) is not None:
        return "member"
    return "reporter"


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
    station = svc.deps.config.station
    await reply(
        update,
        t(lang, "start.welcome", station=station.name, hotline=station.hotline),
        rv.start_keyboard(lang),
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = await language(update, context)
    station = svc.deps.config.station
    user = update.effective_user
    if not is_private(update):
        await reply(update, t(lang, "help.group"))
        return
    role = role_of(svc, user.id) if user else "reporter"
    text = t(lang, "help.reporter", hotline=station.hotline)
    if role in ("member", "leader"):
        text += "\n\n" + t(lang, "help.patrol")
    if role == "officer":
        text += "\n\n" + t(lang, "help.officer")
    await reply(update, text)


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    role = role_of(svc, user.id) if user else "reporter"
    # In a group only staff ids are shown: a member of the public's id never goes to a group.
    shown = user is not None and (is_private(update) or svc.deps.directory.is_staff(user.id))
    await reply(
        update,
        t(
            lang,
            "whoami",
            user_id=user.id if shown else "—",
            chat_id=chat.id if chat else "—",
            chat_type=chat.type if chat else "—",
            role=t(lang, f"role.{role}"),
        ),
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    await reply(update, t(lang, "language.choose"), rv.language_keyboard())


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE, choice: str) -> None:
    user = update.effective_user
    await services(context).users.set_language(user.id, choice)
    await reply(update, t(choice, "language.set"))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    if not is_private(update):
        await reply(update, t(lang, "private_only"))
        return
    svc = services(context)
    had = await svc.reports.cancel(update.effective_user.id)
    if svc.deps.directory.is_officer(update.effective_user.id):
        had = bool(await svc.deps.repo.pending_input(update.effective_user.id)) or had
        await svc.rewards.drop_input(update.effective_user.id)
    await reply(update, t(lang, "cancel.done" if had else "cancel.nothing"), ReplyKeyboardRemove())


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    await reply(update, t(lang, "unknown_command"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any callback no other handler recognised: forged, or from an old version."""
    query = update.callback_query
    lang = await language(update, context)
    if update.effective_user is not None:
        await services(context).field.record_denied(None, update.effective_user.id, "button")
    await query.answer(t(lang, "button.invalid"), show_alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unhandled error; tell the user something went wrong, in their language."""
    error = context.error
    if isinstance(error, NetworkError) and str(error).startswith(CONNECT_ERROR):
        # Telegram could not be reached even after the transport waited for it (an outage,
        # logged by the run loop): the reply never left, and telling the user would not
        # either. One line, no traceback.
        log.warning("a reply could not reach Telegram (%s)", error)
        return
    log.error("unhandled error while handling an update", exc_info=context.error)
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
