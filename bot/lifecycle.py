"""Running the bot: wait for the Bot API, serve, ride out outages, stop cleanly.

``warmline run`` goes through these stages (:func:`serving`), in PTB's own order:

1. **Connect** (:func:`connect`): ``Application.initialize()`` asks the Bot API who the bot
   is (getMe). While the API cannot be reached — the station's network is down, a proxy is
   still starting, Telegram is blocked — it is asked again for ever, with a growing wait
   capped at a minute (:data:`BACKOFF_S`), one log line per attempt and no traceback; the bot
   serves as soon as the API answers, without a restart. A token the API refuses is not
   retried: one line, exit status 2.
2. **Start**: ``post_init`` (database, services, the outbox sender, the ticker), then the
   Application itself.
3. **Receive**: long polling. PTB's updater retries getUpdates by itself during an outage;
   its error callback here logs one line per retry (with when it retries), and
   :class:`~bot.transport.ApiStatus` logs one line when the API answers again.
4. **Stop** on SIGINT/SIGTERM — or when the API starts refusing the token while running (it
   was revoked in @BotFather): one line, exit status 2.

Webhook mode (``[telegram] mode = "webhook"``) is another stage 3 beside
:func:`_start_polling`: :func:`_start_webhook` sets the webhook, and the bot's web server
(bot/web/, listening from stage 1 on) receives the updates; everything else stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.transport import ApiStatus, duration, mask_token
from bot.web.server import WebServer

log = logging.getLogger(__name__)

#: Waits between start-up attempts, in seconds; the last one repeats for ever.
BACKOFF_S = (1, 2, 5, 10, 30, 60)
#: The update types the handlers in bot/app.py use.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
EXIT_OK = 0
EXIT_TOKEN = 2  # the same status as any other configuration problem


class Stopped(Exception):
    """Told to stop before the Bot API ever answered."""


class TokenRejected(Exception):
    """The Bot API refuses the token: the message says what to check."""


def backoff(attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (0-based)."""
    return float(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])


def api_status(app: Application) -> ApiStatus:
    """The application's :class:`ApiStatus` (bot/app.py creates it; a bare one otherwise)."""
    status = app.bot_data.get("api_status")
    if status is None:
        status = ApiStatus(mask_token(app.bot.base_url, app.bot.token), app.bot.token)
        app.bot_data["api_status"] = status
    return status


def _reason(exc: BaseException, token: str) -> str:
    if isinstance(exc, RetryAfter):
        return "flood control"
    text = str(exc) or type(exc).__name__
    return mask_token("timed out" if text == "Timed out" else text, token)


def _rejected(status: ApiStatus, exc: InvalidToken) -> TokenRejected:
    # PTB's own message repeats the token; the server's answer is its cause.
    answer = mask_token(str(exc.__cause__ or "") or "Unauthorized", status.token)
    where = "check telegram.base_url (it ends in /bot) and " if "Not Found" in answer else ""
    return TokenRejected(
        f"the Bot API at {status.url} refused the token ({answer}) → {where}set the bot's "
        "current token from @BotFather in telegram.token or WARMLINE_TOKEN"
    )


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 is moving retry_after from int to timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> None:
    """``work``, cancelled (and :class:`Stopped` raised) if ``stop`` is set meanwhile."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopper), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Stopped
    task.result()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def connect(
    app: Application,
    stop: asyncio.Event,
    *,
    delay: Callable[[int], float] = backoff,
) -> None:
    """``app.initialize()``, retried for ever while the Bot API cannot be reached.

    Raises :class:`Stopped` if ``stop`` is set first, :class:`TokenRejected` if the API
    refuses the token.
    """
    status = api_status(app)
    attempt = 0
    while not stop.is_set():
        try:
            await _unless_stopped(app.initialize(), stop)
            return
        except InvalidToken as exc:
            raise _rejected(status, exc) from None
        except TelegramError as exc:  # unreachable, timed out, 5xx, flood control...
            wait = delay(attempt)
            reason = _reason(exc, status.token)
            if isinstance(exc, RetryAfter):  # flood control: it did answer
                wait = max(wait, _seconds(exc) + 0.5)
                message = "the Bot API at %s asks the bot to wait (%s): retrying in %s"
            else:
                status.failed(reason)
                status.announce_down()
                message = "cannot reach the Bot API at %s (%s): retrying in %s"
            log.warning(message, status.url, reason, duration(wait))
        attempt += 1
        await _wait(stop, wait)
    raise Stopped


def _polling_error_callback(status: ApiStatus) -> Callable[[TelegramError], None]:
    """PTB's updater calls this once per failed getUpdates, then waits and retries."""

    def on_error(exc: TelegramError) -> None:
        try:
            wait = duration(status.next_poll_retry())
            reason = _reason(exc, status.token)
            if isinstance(exc, Conflict):  # 409: someone else polls with this token
                log.warning(
                    "another process is getting this bot's updates (%s) → stop the other "
                    "warmline (or bot) using this token; retrying in %s",
                    reason,
                    wait,
                )
                return
            status.announce_down()
            if isinstance(exc, NetworkError):
                log.warning(
                    "cannot reach the Bot API at %s (%s): retrying in %s", status.url, reason, wait
                )
            else:
                log.warning(
                    "the Bot API at %s answered getUpdates with an error (%s): retrying in %s",
                    status.url,
                    reason,
                    wait,
                )
        except Exception:  # PTB: the callback must never raise
            log.warning("could not log a polling error", exc_info=True)

    return on_error


async def _start_polling(
    app: Application, poll_timeout: int, allowed_updates: Sequence[str] | None
) -> None:
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0.0,
        timeout=poll_timeout,
        allowed_updates=list(allowed_updates) if allowed_updates is not None else None,
        bootstrap_retries=-1,  # deleteWebhook: retried for ever, quietly
        error_callback=_polling_error_callback(api_status(app)),
    )


@asynccontextmanager
async def serving(
    app: Application,
    *,
    poll_timeout: int = 1,
    allowed_updates: Sequence[str] | None = None,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[Application]:
    """The application, connected, started and receiving updates, until the block ends.

    Also used by the tests and the demo (through bot/sandbox/runner.py), so that they run
    the same stages as ``warmline run``. The bot's web server (bot/web/) listens from the
    very start — /healthz answers while the Bot API is still being waited for — and stops
    first.
    """
    stop = stop or asyncio.Event()
    web: WebServer | None = app.bot_data.get("web")
    try:
        # The web server binds while getMe is on its way (issue 16: the cold start); it is
        # listening (or retrying its port in the background) before the start goes on.
        listening = asyncio.ensure_future(web.start()) if web is not None else None
        try:
            await connect(app, stop)
        finally:
            if listening is not None:
                await listening
        if app.post_init:
            await app.post_init(app)
        await app.start()
        if _mode(app) == "webhook":
            await _start_webhook(app, allowed_updates, stop)
        else:
            await _start_polling(app, poll_timeout, allowed_updates)
        log.info("serving as @%s (Bot API %s)", app.bot.username, api_status(app).url)
        try:
            yield app
        finally:
            await _stop_web(app)  # no update accepted once stopping has begun
            if app.updater is not None and app.updater.running:
                # Re-raises what ended the polling task (e.g. a refused token): said already.
                await _quietly("the updater", app.updater.stop())
            if app.running:
                await _quietly("the application", app.stop())
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await _stop_web(app)
        await app.shutdown()  # returns at once if it never initialized
        await app.bot.shutdown()  # the HTTP clients of a bot that never got an answer
        if app.post_shutdown:
            await app.post_shutdown(app)


# -- webhook mode (issue 12): another stage 3 ----------------------------------------------


def _mode(app: Application) -> str:
    config = app.bot_data.get("config")
    return config.telegram.mode if config is not None else "polling"


async def _start_webhook(
    app: Application, allowed_updates: Sequence[str] | None, stop: asyncio.Event
) -> None:
    """Open ``POST /telegram`` and tell Telegram to send updates there (setWebhook with the
    secret token and the update types the bot handles), retried like the start-up while
    the API cannot be reached. Going back to polling deletes the webhook (PTB's
    ``start_polling`` does, before its first getUpdates)."""
    from bot import redact
    from bot.services.webhook import webhook_secret

    config = app.bot_data["config"]
    status = api_status(app)
    station = app.bot_data["station"]
    secret = await webhook_secret(
        config.telegram.webhook_secret, station.repo.ops, station.clock.now()
    )
    redact.register(secret)  # PTB logs setWebhook's parameters at DEBUG
    app.bot_data["webhook"].open(app, secret)
    url = config.web.public_url + "/telegram"
    attempt = 0
    while True:
        try:
            await _unless_stopped(
                app.bot.set_webhook(
                    url=url,
                    secret_token=secret,
                    allowed_updates=list(allowed_updates) if allowed_updates is not None else None,
                ),
                stop,
            )
            break
        except InvalidToken as exc:
            raise _rejected(status, exc) from None
        except TelegramError as exc:
            wait = backoff(attempt)
            log.warning(
                "could not set the webhook %s (%s): retrying in %s",
                url,
                _reason(exc, status.token),
                duration(wait),
            )
        attempt += 1
        await _wait(stop, wait)
        if stop.is_set():
            raise Stopped
    log.info("webhook set: Telegram sends updates to %s", url)


async def _stop_web(app: Application) -> None:
    webhook = app.bot_data.get("webhook")
    if webhook is not None:
        webhook.close()
    web: WebServer | None = app.bot_data.get("web")
    if web is not None:
        await web.stop()


async def _quietly(what: str, step: Awaitable[None]) -> None:
    """A stop step whose Telegram error must not keep the rest from stopping."""
    try:
        await step
    except TelegramError as exc:
        log.warning("while stopping %s: %s", what, exc)


class Reloading(Protocol):
    """What the run loop needs to reload the configuration (bot/reload.py's Reloader)."""

    def build(self) -> Application: ...

    def reread(self) -> tuple[Any, Any] | str: ...

    def take(self, config: Any) -> None: ...

    async def tell_changed(self, app: Application, changes: Any) -> None: ...

    async def tell_refused(self, app: Application, reason: str) -> None: ...


#: :func:`_until_stopped`'s answer when a reload was accepted: build again, serve on.
RELOAD = -1


async def _until_stopped(
    app: Application,
    stop: asyncio.Event,
    *,
    reload: asyncio.Event | None = None,
    reloader: Reloading | None = None,
    changes: Any = None,
    **polling: Any,
) -> int:
    """Serve ``app`` until told to stop (an exit status) or until a reload is accepted
    (:data:`RELOAD`: this application is stopped in order, the caller builds the next)."""
    status = api_status(app)
    reload = reload or asyncio.Event()
    try:
        async with serving(app, stop=stop, **polling):
            if reloader is not None and changes is not None:
                await _tell("the reload", reloader.tell_changed(app, changes))
            while True:
                waits = [
                    asyncio.ensure_future(status.token_rejected.wait()),
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(reload.wait()),
                ]
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()
                if status.token_rejected.is_set() and not stop.is_set():
                    log.error(
                        "the Bot API at %s refuses the token now (revoked?) → set the bot's "
                        "current token from @BotFather in telegram.token or WARMLINE_TOKEN; "
                        "stopping",
                        status.url,
                    )
                    return EXIT_TOKEN
                if stop.is_set():
                    break
                reload.clear()
                if reloader is None:
                    _no_reload()
                    continue
                taken = reloader.reread()
                if isinstance(taken, str):
                    log.error(
                        "SIGHUP: the new configuration is refused, the running one stays in "
                        "force: %s",
                        taken,
                    )
                    await _tell("the refusal", reloader.tell_refused(app, taken))
                    continue
                new, accepted = taken
                log.info("SIGHUP: reloading the configuration (the bot restarts its parts)")
                reloader.take(new)
                app.bot_data["reload_changes"] = accepted
                return RELOAD
    except Stopped:
        log.info("stopped before the Bot API answered")
    except TokenRejected as exc:
        log.error("%s", exc)
        return EXIT_TOKEN
    return EXIT_OK


async def _tell(what: str, step: Awaitable[None]) -> None:
    """Telling the officers about a reload must not stop the bot (it is logged already)."""
    try:
        await step
    except Exception:
        log.warning("could not tell the duty officers about %s", what, exc_info=True)


def _stopping(stop: asyncio.Event, name: str) -> None:
    if not stop.is_set():
        log.info("%s received: stopping (what is in hand is finished and saved first)", name)
    stop.set()


def _no_reload() -> None:
    log.warning(
        "SIGHUP received: this bot was started without its configuration file's path, so it "
        "cannot reload; it runs on → restart it to apply a changed configuration"
    )


def run(
    app: Application | None = None,
    *,
    poll_timeout: int,
    allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    reloader: Reloading | None = None,
) -> int:
    """``warmline run``: serve until SIGINT or SIGTERM; the process's exit status.

    SIGHUP (``systemctl reload``, ``warmline reload``) reloads the configuration through
    ``reloader``: a wrong file is refused and the running configuration stays; a right one
    stops the running application in order and starts one built from it (bot/reload.py).
    """
    if app is None and reloader is None:
        raise ValueError("run() needs an application or a reloader")

    async def main() -> int:
        stop = asyncio.Event()
        reload = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows' loops
                loop.add_signal_handler(sig, _stopping, stop, sig.name)
        with contextlib.suppress(NotImplementedError, AttributeError):  # no SIGHUP on Windows
            # Python's default for SIGHUP ends the process, and systemd counts that as a clean
            # stop (not restarted): `systemctl reload` must never stop the bot.
            loop.add_signal_handler(signal.SIGHUP, reload.set)
        current = app if app is not None else reloader.build()
        changes = None
        while True:
            outcome = await _until_stopped(
                current,
                stop,
                reload=reload,
                reloader=reloader,
                changes=changes,
                poll_timeout=poll_timeout,
                allowed_updates=allowed_updates,
            )
            if outcome != RELOAD or reloader is None:
                return outcome
            changes = current.bot_data.pop("reload_changes", None)
            current = reloader.build()
            log.info("configuration reloaded; serving with it")

    return asyncio.run(main())
