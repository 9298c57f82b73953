"""The outbox sender: delivers what services recorded, survives Telegram faults and restarts.

Services write an ``outbox`` row in the same transaction as the change it announces. This
task sends due rows in order and marks them sent. A card is sent in parts (card text, pin,
photo) and each sent part is recorded at once, so a retry after a fault or a restart sends
only what is missing. Card edits render the tip's *current* state at send time, so pending
edits coalesce into one.

Faults: ``RetryAfter`` waits as told; timeouts and network errors back off exponentially;
``Forbidden`` (blocked / removed) marks the chat inactive; ``ChatMigrated`` follows the group
to its new id; an edit of a card that is gone re-posts the card.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import warnings
from collections import deque

from telegram import Bot, InputFile, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.db.database import Database
from bot.db.messages import MediaStore, MessageStore
from bot.db.outbox import OutboxItem, OutboxStore
from bot.db.tips import TipStore
from bot.domain.outbox import (
    CardEdit,
    CardPost,
    Kind,
    MessageKind,
    Msg,
    Notice,
    Photo,
    RevisitEdit,
    RevisitPost,
)
from bot.domain.tips import Tip
from bot.domain.webreport import WEB_PHOTO
from bot.jobs.digests import Digests
from bot.jobs.edits import edit_text
from bot.jobs.lanes import Lane, Pass
from bot.jobs.revisit_cards import RevisitCards
from bot.jobs.tasks import cancel
from bot.services.cards import CardService
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.users import UserService
from bot.views import notices
from bot.views.cards import (
    DIGEST_MAX,
    card_keyboard,
    render_card,
)

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
LANES_AT_ONCE = 16
MAX_ATTEMPTS = 50  # ~4 hours of retries with the capped backoff


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        outbox: OutboxStore,
        tips: TipStore,
        messages: MessageStore,
        media: MediaStore,
        notifier: Notifier,
        reach: Reach,
        users: UserService,
        cards: CardService,
        clock: StationClock,
        *,
        station_language: str,
        digest_threshold: int,
        revisit_cards: RevisitCards | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        self.outbox = outbox
        self.tips = tips
        self.messages = messages
        self.media = media
        self.notifier = notifier
        self.reach = reach
        self.users = users
        self.cards = cards
        self.clock = clock
        self.station_language = station_language
        self.digest_threshold = digest_threshold
        self.revisit_cards = revisit_cards  # a revisit's light card (issue 13)
        self.digests = Digests(
            bot, db, outbox, tips, messages, clock, self._card_language, digest_threshold
        )
        # Every committed transaction that queued a message wakes the sender.
        outbox.listen(self.wake)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One pass at a time: two overlapping passes (the task and a caller of flush) would
        # both read the same pending rows and send each message twice.
        self._flushing = asyncio.Lock()
        # How many lanes send at once (each holds a claimed item and a database write or two).
        self._slots = asyncio.Semaphore(LANES_AT_ONCE)
        self._uploading = asyncio.Lock()  # a web reporter's photo goes up once (see below)
        self.idle_poll_s = 1.0
        self._scrubbed = False  # a claim secret left a row since the last WAL truncation
        self._api_back = False

    # -- lifecycle --------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def api_back(self) -> None:
        """The Bot API answers again after an outage: what waits only because it could not
        connect goes now, not after its (up to 5 minutes) backoff."""
        self._api_back = True
        self.wake()

    async def recover(self) -> int:
        """At start-up: put back whatever a crash left half-sent."""
        async with self.db.write() as tx:
            return await self.outbox.requeue_in_flight(tx)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="warmline-outbox")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.flush()
                if self._scrubbed:
                    # Delivered receipts took their claim secrets with them; now make sure no
                    # older copy of those rows stays behind in the write-ahead log either.
                    self._scrubbed = not await self.db.forget_old_pages()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one bad row stop all delivery
                log.exception("outbox pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll_s)

    async def flush(self) -> int:
        """Deliver every due item; returns how many were handled.

        Each chat has its own lane: its items go one at a time, in the order they were
        written, while other chats' lanes go at the same time — a group at Telegram's
        per-group ceiling (bot/ratelimit.py) holds up only that group, never a reporter's
        messages or another group. An item for no one chat (a card edit, which brings every
        copy of the card up to date) waits until the items written before it about the same
        tip are done (the card it edits must be posted and recorded first)."""
        async with self._flushing:
            if self._api_back:
                self._api_back = False
                async with self.db.write() as tx:
                    await self.outbox.retry_unreached_now(tx, self.clock.now())
            run = Pass()
            try:
                while True:
                    self._wake.clear()
                    items = await self.outbox.due(
                        self.clock.now(), limit=200, skip=sorted(run.unfinished)
                    )
                    for item in items:
                        run.add(item, self._lane)
                    running = run.running()
                    if not running:
                        if run.error is not None:
                            raise run.error
                        if not items:
                            return run.handled
                        continue
                    # Until a lane is done or something new is written (or becomes due).
                    woken = asyncio.ensure_future(self._wake.wait())
                    try:
                        await asyncio.wait(
                            [*running, woken],
                            timeout=self.idle_poll_s,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    finally:
                        woken.cancel()
            finally:
                left = run.running()
                for task in left:
                    task.cancel()
                await asyncio.gather(*left, return_exceptions=True)

    async def _lane(self, run: Pass, lane: Lane) -> None:
        """Deliver one chat's queued items in order (see :meth:`flush`)."""
        while lane.queue:
            head = lane.queue[0]
            try:
                if head.chat_id is None:
                    await run.after_earlier_of_tip(head)  # (before taking a slot: no deadlock)
                async with self._slots:
                    if isinstance(lane.key, int) and lane.key < 0 and self.digest_threshold:
                        # A backlog of new cards for a group: digests (at most two a step).
                        cards = [i for i in lane.queue if i.kind is Kind.CARD][: 2 * DIGEST_MAX]
                        if len(cards) >= self.digest_threshold:
                            done = await self.digests.send(cards)
                            if done:
                                lane.queue = deque(i for i in lane.queue if i.id not in done)
                                await run.finished(done)
                                continue
                    lane.queue.popleft()
                    await self.deliver(head)
                await run.finished({head.id})
            except Exception as exc:
                # As a failed pass did before lanes: the rest waits for the next pass.
                log.exception("outbox lane %s failed", lane.key)
                await run.finished({head.id, *(i.id for i in lane.queue)})
                lane.queue.clear()
                run.error = run.error or exc
                return

    # -- digests ----------------------------------------------------------------------------
    # -- one item ---------------------------------------------------------------------------
    async def deliver_now(self, item_id: int) -> None:
        """Send one committed item at once, from the caller's task (a receipt the reporter is
        waiting for, not queued behind other people's notices). It is claimed like any other,
        so the sender never sends it twice; if it cannot go now it stays in the outbox (and a
        crash mid-way is recovered at start-up, like any item in flight)."""
        item = await self.outbox.item(item_id)
        if item is not None:
            await self.deliver(item)

    async def deliver(self, item: OutboxItem) -> None:
        async with self.db.write() as tx:
            if not await self.outbox.claim(tx, item.id):
                return  # already handled
        message = item.message
        if isinstance(message, Notice) and message.secret is not None:
            self._scrubbed = True  # done or given up, the row loses it: see _run
        finished = False  # recorded as done with the card's last part (one transaction less)
        try:
            if isinstance(message, CardPost):
                finished = await self._send_card(item, message)
            elif isinstance(message, Notice):
                await self._send_notice(item, message)
            elif isinstance(message, RevisitPost) and self.revisit_cards is not None:
                assert item.chat_id is not None
                await self.revisit_cards.post(item.chat_id, message)
            elif isinstance(message, RevisitEdit) and self.revisit_cards is not None:
                await self.revisit_cards.edit(message)
            elif isinstance(message, Photo):
                await self._send_photo(item, message)
            elif isinstance(message, CardEdit):
                await self._edit_cards(item)
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 is moving this from int to timedelta
                warnings.simplefilter("ignore")
                delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)
            await self._retry(item, seconds, f"RetryAfter {seconds}")
        except Forbidden as exc:
            await self._chat_gone(item, str(exc))
        except ChatMigrated as exc:
            await self._migrated(item, exc.new_chat_id)
        except BadRequest as exc:
            log.error("outbox item %s refused by Telegram: %s", item.id, exc)
            async with self.db.write() as tx:
                await self.outbox.failed(tx, item.id, f"BadRequest: {exc}")
        except NetworkError as exc:  # includes TimedOut
            backoff = min(MAX_BACKOFF_S, 2.0 ** min(item.attempts, 9))
            # A request that could not reach Telegram is kept for as long as the outage
            # lasts (the station's network can be down all night); after a timeout it may
            # have been carried out, so those are not retried for ever.
            await self._retry(
                item,
                backoff,
                f"{type(exc).__name__}: {exc}",
                give_up=isinstance(exc, TimedOut),
            )
        except Exception as exc:  # a bug of ours: keep the item, try again later, say so loudly
            log.exception("outbox item %s failed unexpectedly", item.id)
            await self._retry(item, MAX_BACKOFF_S, f"{type(exc).__name__}: {exc}")
        else:
            if not finished:
                async with self.db.write() as tx:
                    await self.outbox.done(tx, item.id, self.clock.now())

    async def _retry(
        self, item: OutboxItem, seconds: float, error: str, *, give_up: bool = True
    ) -> None:
        async with self.db.write() as tx:
            if give_up and item.attempts + 1 >= MAX_ATTEMPTS:
                await self.outbox.failed(tx, item.id, error)
            else:
                next_at = self.clock.now() + dt.timedelta(seconds=seconds)
                await self.outbox.retry(tx, item.id, next_at, error)

    async def _chat_gone(self, item: OutboxItem, error: str) -> None:
        """Blocked by a user or removed from a group: mark the chat inactive, tell the officers.

        A patrol group the bot can no longer post to is an emergency: its cards go to the
        officers instead, so no tip waits unseen.
        """
        chat = item.chat_id
        log.warning("chat %s is unreachable (%s); outbox item %s dropped", chat, error, item.id)
        now = self.clock.now()
        directory = self.reach.directory
        async with self.db.write() as tx:
            await self.outbox.failed(tx, item.id, f"Forbidden: {error}")
            if chat is None:
                return
            newly = await self.reach.set_reachable(tx, chat, False, error[:200], now)
            team = directory.team_by_chat(chat)
            if team is not None and item.kind is Kind.CARD and item.tip_id is not None:
                for officer in self.reach.officers():
                    if officer != chat:
                        await self.notifier.post_card(tx, officer, item.tip_id, copy=True, now=now)
            if not newly or directory.is_officer(chat):
                return
            if team is not None:
                text = Msg("chat.group_lost", {"group": team.name})
            else:
                code = (
                    (await self.tips.codes([item.tip_id])).get(item.tip_id) if item.tip_id else None
                )
                text = Msg("chat.user_blocked", {"code": code or "—"})
            for officer in self.reach.officers():
                if officer != chat:
                    await self.notifier.tell(tx, officer, text, tip_id=item.tip_id, now=now)

    async def _migrated(self, item: OutboxItem, new_chat_id: int) -> None:
        """A group became a supergroup: follow it, remember it, and tell the officers."""
        old = item.chat_id
        log.warning("group %s migrated to %s; update chat_id in the config file", old, new_chat_id)
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.outbox.failed(tx, item.id, f"ChatMigrated to {new_chat_id}")
            await self.outbox.enqueue(
                tx, item.message, chat_id=new_chat_id, tip_id=item.tip_id, now=now
            )
            if old is None:
                return
            team = await self.reach.migrate(tx, old, new_chat_id, now)
            if team is not None:
                text = Msg("chat.migrated", {"group": team.name, "old": old, "new": new_chat_id})
                await self.notifier.tell_officers(tx, text, now=now)

    # -- cards ------------------------------------------------------------------------------
    async def _card_language(self, chat_id: int) -> str:
        if chat_id > 0:  # an officer's private copy: their language
            return await self.users.language(chat_id)
        return self.station_language

    async def _render(self, tip: Tip, lang: str) -> tuple[str, object]:
        ctx = await self.cards.context(tip)
        choices = ctx.arrival.eta_choices if ctx.arrival else ()
        return render_card(tip, ctx, lang, self.clock.tz), card_keyboard(tip, lang, choices)

    async def _record(
        self, message: Message, tip_id: int, kind: MessageKind, done: OutboxItem | None = None
    ) -> None:
        """Remember a sent message (at once: a retry sends only what is missing); with
        ``done``, the item is marked delivered in the same transaction."""
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.messages.add(tx, message.chat_id, message.message_id, tip_id, kind, now)
            if done is not None:
                await self.outbox.done(tx, done.id, now)

    async def _send_card(self, item: OutboxItem, post: CardPost) -> bool:
        """Post the parts of the card not sent yet; True if the last one recorded the item
        as delivered."""
        assert item.chat_id is not None and item.tip_id is not None
        chat = item.chat_id
        # The independent reads at once (each is a round trip to the database's thread).
        tip, parts, media = await asyncio.gather(
            self.tips.get(item.tip_id),
            self.messages.of(item.tip_id, chat_id=chat),
            self.media.of(item.tip_id),
        )
        if tip is None:
            return False
        lang = await self._card_language(chat)
        copy = post.copy
        sent = {m.kind: m for m in parts}
        photos = [m for m in media if m["kind"] == "report_photo"]
        owed = [
            kind
            for kind, wanted in (
                (MessageKind.CARD, copy or MessageKind.CARD not in sent),
                (MessageKind.LOCATION, copy or MessageKind.LOCATION not in sent),
                (MessageKind.PHOTO, bool(photos) and (copy or MessageKind.PHOTO not in sent)),
            )
            if wanted
        ]
        if not owed:
            return False

        def last(kind: MessageKind) -> OutboxItem | None:
            return item if kind is owed[-1] else None

        card = None if copy else sent.get(MessageKind.CARD)
        if card is None:
            text, keyboard = await self._render(tip, lang)
            message = await self.bot.send_message(chat, text, reply_markup=keyboard)
            await self._record(message, tip.id, MessageKind.CARD, last(MessageKind.CARD))
            card_id = message.message_id
        else:
            card_id = card.message_id
        if MessageKind.LOCATION in owed:
            if tip.place_label or tip.address:
                title = tip.place_label or tip.code
                address = tip.address or tip.district or tip.code
                message = await self.bot.send_venue(
                    chat,
                    tip.lat,
                    tip.lon,
                    title=title[:100],
                    address=address[:100],
                    reply_to_message_id=card_id,
                )
            else:
                message = await self.bot.send_location(
                    chat, tip.lat, tip.lon, reply_to_message_id=card_id
                )
            await self._record(message, tip.id, MessageKind.LOCATION, last(MessageKind.LOCATION))
        if MessageKind.PHOTO in owed:
            message = await self._send_report_photo(  # the newest (a reopened attempt's)
                chat, photos[-1]["file_id"], caption=tip.code, reply_to_message_id=card_id
            )
            if message is None:  # a web reporter's photo, purged meanwhile: the item is done
                return False
            await self._record(message, tip.id, MessageKind.PHOTO, last(MessageKind.PHOTO))
        return True

    async def _send_report_photo(self, chat: int, file_id: str, **kwargs: object) -> Message | None:
        """Send a reporter's photo: a Telegram file id as it is; a web reporter's (bytes until
        the first chat's copy uploads it) one upload at a time, so that every later copy
        sends Telegram's file id for it. None: a web photo purged meanwhile."""
        if not file_id.startswith(WEB_PHOTO):
            return await self.bot.send_photo(chat, file_id, **kwargs)  # type: ignore[arg-type]
        async with self._uploading:  # (lanes run at once: two chats, one upload)
            photo = await self._photo_of(file_id)
            if photo is None:
                return None
            message = await self.bot.send_photo(chat, photo, **kwargs)  # type: ignore[arg-type]
            await self._uploaded(file_id, message)
            return message

    async def _photo_of(self, file_id: str) -> str | bytes | None:
        """A Telegram file id, or the bytes of a web reporter's photo not uploaded yet (once
        uploaded: Telegram's file id for it; None: purged)."""
        if not file_id.startswith(WEB_PHOTO):
            return file_id
        ref = file_id.removeprefix(WEB_PHOTO)
        return await self.notifier.web.photo(ref) or await self.notifier.web.uploaded_as(ref)

    async def _uploaded(self, file_id: str, message: Message) -> None:
        """A web photo went up: later copies of the card send Telegram's file id, and our copy
        of the bytes goes."""
        if file_id.startswith(WEB_PHOTO) and message.photo:
            sent = message.photo[-1]
            async with self.db.write() as tx:
                ref = file_id.removeprefix(WEB_PHOTO)
                await self.notifier.web.uploaded(
                    tx, ref, sent.file_id, sent.file_unique_id, self.clock.now()
                )

    async def _edit_cards(self, item: OutboxItem) -> None:
        """Edit every copy of the tip's card to show the tip as it is now."""
        assert item.tip_id is not None
        tip, digests, cards = await asyncio.gather(  # at once: one round trip's wait
            self.tips.get(item.tip_id),
            self.messages.of(item.tip_id, kind=MessageKind.DIGEST),
            self.messages.of(item.tip_id, kind=MessageKind.CARD),
        )
        if tip is None:
            return
        for digest in digests:
            await self.digests.edit(digest.chat_id, digest.message_id)
        rendered: dict[str, tuple[str, object]] = {}
        for message in cards:
            lang = await self._card_language(message.chat_id)
            if lang not in rendered:
                rendered[lang] = await self._render(tip, lang)
            text, keyboard = rendered[lang]
            try:
                await edit_text(self.bot, message.chat_id, message.message_id, text, keyboard)
            except Forbidden as exc:
                # The bot may no longer write there (removed from the group): the other
                # copies (an officer's) must still be edited.
                log.warning("card of tip %s in %s not edited: %s", tip.id, message.chat_id, exc)
                continue
            except (BadRequest, ChatMigrated) as exc:
                reason = str(exc).lower()
                if (
                    isinstance(exc, ChatMigrated)
                    or "not found" in reason
                    or "can't be edited" in reason
                ):
                    # The card was deleted, or its group became a supergroup (whose old
                    # messages cannot be edited): post it again so the chat shows the truth.
                    # Sent to the old id, the card follows the group (see _migrated).
                    async with self.db.write() as tx:
                        await self.messages.forget(tx, message.chat_id, message.message_id)
                        await self.notifier.post_card(tx, message.chat_id, tip.id)
                    continue
                raise

    # -- notices ----------------------------------------------------------------------------
    async def _send_notice(self, item: OutboxItem, notice: Notice) -> None:
        """A message, rendered now: in the notice's language if it names one (what the patrol
        side is told, in the station's), else in the reader's."""
        assert item.chat_id is not None
        lang = notice.lang or await self.users.language(item.chat_id)
        # A claim secret rides in the row only until delivery (Notifier.tell).
        text = notices.render(notice.text, lang, notice.secret)
        reply_to = None
        if notice.reply_to_card and item.tip_id is not None:
            cards = await self.messages.of(item.tip_id, kind=MessageKind.CARD, chat_id=item.chat_id)
            reply_to = cards[0].message_id if cards else None
        markup = notices.keyboard(notice.keyboard, lang, item.tip_id)
        if notice.amend_button and item.tip_id is not None:
            markup = notices.amend_keyboard(item.tip_id, lang)
        # A photo a reporter added, its text the caption (a web one: its bytes, or Telegram's
        # file id once another chat's copy uploaded it; gone with a purge: the text alone).
        message = None
        if notice.photo is not None:
            message = await self._send_report_photo(
                item.chat_id, notice.photo, caption=text, reply_to_message_id=reply_to
            )
        if message is None:
            message = await self.bot.send_message(
                item.chat_id, text, reply_markup=markup, reply_to_message_id=reply_to
            )
        if notice.record is not None and item.tip_id is not None:
            await self._record(message, item.tip_id, notice.record)

    async def _send_photo(self, item: OutboxItem, photo: Photo) -> None:
        """An image warmline drew (the summary chart), from the bytes kept in the row."""
        assert item.chat_id is not None
        lang = photo.lang or await self.users.language(item.chat_id)
        caption = notices.render(photo.caption, lang, None) if photo.caption else None
        await self.bot.send_photo(
            item.chat_id, InputFile(photo.png, filename="warmline.png"), caption=caption
        )
