"""Loopback Telegram Bot API emulator.

``BotApiEmulator`` is a small HTTP server that speaks the Telegram Bot API over plain HTTP on a
loopback address. A real python-telegram-bot ``Application`` built with
``.base_url(emu.base_url).base_file_url(emu.base_file_url)`` talks to it exactly as it would talk
to ``api.telegram.org``: ``getMe``, long-polling ``getUpdates``, ``sendMessage``, file uploads
(multipart) and downloads, edits, callback answers and so on.

The test side plays the users: ``add_user`` / ``add_group`` create the world, ``send_text``,
``send_location``, ``send_photo``, ``press_button``/``press`` ... queue updates for the bot, and
``transcript`` / ``bot_messages`` / ``calls`` / ``callback_answer`` show what the bot did.
``api_errors`` lists every non-ok answer the bot received and ``internal_errors`` any emulator
crash, so a test can assert both are empty. ``fault`` is a hook to inject failures (429, 5xx...;
``bot.sandbox.limits.FloodLimits`` is Telegram's flood limits as one). ``version`` /
``chat_versions`` / ``wait_change`` tell a watcher (the demo's web chat) that something a
person could see has changed.
All public methods are thread-safe; the HTTP server runs in a background daemon thread, so
tests may drive it from the bot's own event loop (use the async ``until``) or from a thread.

What is emulated faithfully enough to catch real bugs:

* Bot API envelopes (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": ...,
  "description": ...}``) and the common error texts (chat not found, message is too long,
  can't parse entities, BUTTON_DATA_INVALID, message is not modified, message to edit not found,
  query is too old, wrong file identifier, bot was blocked by the user, ...).
* Telegram's HTML ``parse_mode`` (``formatting``); entity offsets in UTF-16 code units.
* ``getUpdates`` offset/limit/timeout semantics and its 409 Conflicts (``methods/updates``);
  webhook delivery with the secret header, retried until the bot answers 2xx (``webhook``).
* TLS, with ``ssl_context`` (a test certificate): ``https://`` base URLs (the proxy tests).
* Editing semantics (``methods/edits``).
* The bot cannot write first to a user (403 until the user has written, ``driver``).

Limits (deliberate simplifications):

* ``Markdown``/``MarkdownV2`` are not parsed: the text is stored as sent, without entities.
* No image processing (``media``); URLs given as file are accepted but their content is empty.
* No inline mode, payments, games, polls, forum topics, business connections, webhook
  certificates or IP addresses (``webhook`` POSTs to the URL as given), privacy mode (the
  bot sees every group message), rate limits (inject them with the ``fault`` hook), or
  message age limits. Methods not implemented answer 404.
* Cross-chat replies (``reply_parameters.chat_id`` of another chat) are ignored.
* Text is not trimmed of surrounding whitespace as Telegram does.

It binds only loopback addresses unless ``allow_non_loopback=True``. It is a test tool: no
authentication beyond the bot token, no persistence, everything lives in memory.

The package, one job a module: ``world`` (the state and the rules every method shares),
``methods/`` (the Bot API methods, by group), ``driver`` and ``watch`` (the test side),
``server`` (HTTP, on ``bot.sandbox.httpd``), and the pure parts ``formatting``, ``keyboards``,
``media``, ``params`` and ``errors``.
"""

from __future__ import annotations

from bot.sandbox.emulator.driver import Driver
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.formatting import HtmlParseError, parse_html
from bot.sandbox.emulator.media import TINY_JPEG
from bot.sandbox.emulator.methods.bot import BotApi
from bot.sandbox.emulator.methods.callbacks import CallbacksApi
from bot.sandbox.emulator.methods.chats import ChatsApi
from bot.sandbox.emulator.methods.edits import EditsApi
from bot.sandbox.emulator.methods.files import FilesApi
from bot.sandbox.emulator.methods.messages import MessagesApi
from bot.sandbox.emulator.methods.updates import UpdatesApi
from bot.sandbox.emulator.server import ApiServer
from bot.sandbox.emulator.watch import Watch
from bot.sandbox.emulator.webhook import WebhookDelivery

__all__ = [
    "TINY_JPEG",
    "ApiError",
    "BotApiEmulator",
    "HtmlParseError",
    "parse_html",
]


class BotApiEmulator(
    ApiServer,
    Driver,
    Watch,
    WebhookDelivery,
    BotApi,
    UpdatesApi,
    MessagesApi,
    EditsApi,
    CallbacksApi,
    FilesApi,
    ChatsApi,
):
    """A loopback Telegram Bot API server with a test-side API to play users.

    ``BotApiEmulator(token, host, port, *, bot_username, allow_non_loopback)``; use it as a
    context manager or call :meth:`start` / :meth:`stop`.
    """
