"""The inbound journal: an update Telegram delivered is never lost to a crash.

Telegram forgets an update once the bot confirms it — in polling mode by asking for the next
``getUpdates`` offset, which python-telegram-bot's updater does as soon as it has *queued* a
batch, long before the handlers have finished with it. A kill in between used to lose the
reporter's press or message without a reply. So every update is written to the ``inbound``
table (``bot/db/journal.py``) *before* it can be confirmed, and marked done when its handlers
have finished; on the next start whatever is still unfinished is handled again, before any
new update and in the original order (the update processor keeps one person's updates in
order).

Where each path journals (one API for both)::

    polling   InboundRequest.do_request — the getUpdates request (ApplicationBuilder's
              documented get_updates_request): the batch is stored before PTB even sees it,
              so before the next getUpdates can carry the higher offset.
    webhook   the endpoint calls ``await journal.receive([body])`` before answering 200, then
              ``await application.update_queue.put(Update.de_json(body, application.bot))``.
    both      PerUserUpdateProcessor calls ``begin`` and ``done`` around the handlers;
              ``replay`` (at start, in post_init) queues ``unfinished`` entries first.

An update Telegram sends again (it was journaled but not confirmed when the bot died) is
handled once: the journal already has it, so ``begin`` tells the processor to skip the copy.

**Replays are idempotent.** A replay re-runs the handlers on the state the crash left; what
makes each kind of handler safe (details beside the code):

* Reporter draft steps (buttons and messages): state checks suffice — every step writes
  absolute values and moves the draft's ``step`` on, so a replayed step finds the draft past
  it; the replay then only sends the prompt of the step the reporter is at (no "stale button"
  or "wrong kind of message"). The flag toggle is not absolute: it records the ``flag`` effect.
* Submit: the tip insert and the draft's deletion are one transaction (a replay finds no
  draft); it records ``submit`` with the tip id, so the replay repeats the receipt's code
  instead of calling the button stale.
* Withdraw and patrol buttons: compare-and-set on the tip's state and version applies them
  once; they record ``withdraw`` / ``act`` so that the replay answers "done", not "stale".
* Evidence media: stored once per file (``file_unique_id``); a replay answers the same count.
* Relayed questions and answers: not idempotent (a second copy would reach the other side):
  they record ``relay``.
* Rewards: approve / reject / pay / reverse are compare-and-set (a payment is recorded once);
  a wrong claim secret is a counter and records ``claim_attempt``; typed answers are consumed
  by the first attempt (a replay finds nothing pending and says so).
* Commands: read-only ones answer again; /report, /newtip, /cancel, /language and /coldmode
  set absolute values; /patrol_start and /patrol_end are guarded by the open patrol.

An update whose handling was cut short by ``MAX_STARTS`` starts in a row (a poison update
that kills the process) is given up with a warning. Handled entries lose their body at once
(it may hold personal data) and are deleted after ``KEEP``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application

from bot.db.database import Database
from bot.db.journal import JournalStore
from bot.replay import Handling
from bot.transport import RetryingRequest

log = logging.getLogger(__name__)

#: Starts that may find an update unfinished before it is given up.
MAX_STARTS = 3
#: Handled entries are kept this long (Telegram re-sends an unconfirmed update for 24 hours).
KEEP = dt.timedelta(hours=24)
PRUNE_EVERY = dt.timedelta(hours=1)

#: ``InboundJournal.begin``'s answer for an update that was handled (or queued) already.
SKIP: Any = object()


def _now() -> dt.datetime:
    # Wall-clock time: the journal's own bookkeeping, independent of the station's clock.
    return dt.datetime.now(dt.UTC)


class InboundJournal:
    """The mechanism around the ``inbound`` table. Inert until :meth:`attach` (no database:
    nothing is journaled, every update is handled as it comes)."""

    def __init__(self) -> None:
        self.store: JournalStore | None = None
        # Update ids Telegram sent again while the journal already had them.
        self._duplicates: set[int] = set()
        # Replayed updates (by identity: the copy Telegram may send again is skipped).
        self._replaying: dict[int, tuple[Update, dict[str, str]]] = {}
        self._pruned_at: dt.datetime | None = None

    def attach(self, db: Database) -> None:
        self.store = JournalStore(db)

    def detach(self) -> None:
        self.store = None

    # -- both paths -------------------------------------------------------------------------
    async def receive(self, updates: Iterable[dict]) -> set[int]:
        """Store updates (JSON objects as Telegram sent them) durably; returns the new ids.

        Must complete before the updates are confirmed to Telegram. Raises if the database
        cannot take them: then they must not be confirmed (Telegram will send them again).
        """
        if self.store is None:
            return set()
        entries = []
        for raw in updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if isinstance(update_id, int):
                body = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
                entries.append((update_id, body))
        new = await self.store.receive(entries, _now())
        self._duplicates.update(update_id for update_id, _ in entries if update_id not in new)
        return new

    def begin(self, update: object) -> Handling | None:
        """Called by the update processor before the handlers: the update's handling context
        (``None``: not journaled), or :data:`SKIP` for a copy that must not be handled."""
        if self.store is None or not isinstance(update, Update):
            return None
        update_id = update.update_id
        replaying = self._replaying.get(update_id)
        if replaying is not None and replaying[0] is update:
            del self._replaying[update_id]
            return Handling(update_id, replay=True, effects=replaying[1])
        if update_id in self._duplicates or update_id in self._replaying:
            self._duplicates.discard(update_id)
            log.info("update %s was received before; not handled twice", update_id)
            return SKIP
        return Handling(update_id)

    async def done(self, handling: Handling) -> None:
        """The update's handlers have finished (or failed for good): nothing to replay."""
        store = self.store
        if store is None:
            return
        now = _now()
        try:
            await store.done(handling.update_id, now)
            if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
                self._pruned_at = now
                await store.prune(now - KEEP)
        except Exception as exc:  # the update is handled; at worst it is replayed, harmlessly
            log.warning("could not mark update %s done: %s", handling.update_id, exc)

    async def unfinished(self) -> int:
        """How many journaled updates are waiting to be (re)handled."""
        if self.store is None:
            return 0
        return (await self.store.counts()).get("pending", 0)

    # -- at start ---------------------------------------------------------------------------
    async def replay(self, app: Application) -> int:
        """Queue what a crash left unfinished, ahead of any new update; returns how many.

        Call after :meth:`attach` and before the updater starts polling (``post_init``).
        """
        if self.store is None:
            return 0
        now = _now()
        entries, dropped = await self.store.begin_replays(MAX_STARTS, now)
        for update_id in dropped:
            log.warning(
                "update %s was given up: %d starts in a row did not finish handling it",
                update_id,
                MAX_STARTS,
            )
        queued = 0
        for entry in entries:
            try:
                update = Update.de_json(json.loads(entry.body), app.bot)
            except Exception as exc:  # not readable any more (e.g. a library upgrade)
                log.warning("update %s cannot be replayed (%s); dropped", entry.update_id, exc)
                await self.done(Handling(entry.update_id))
                continue
            self._replaying[entry.update_id] = (update, entry.effects)
            app.update_queue.put_nowait(update)
            queued += 1
        if queued:
            log.info("handling %d update(s) a previous run did not finish", queued)
        self._pruned_at = now
        await self.store.prune(now - KEEP)
        return queued


class InboundRequest(RetryingRequest):
    """The getUpdates request: journals each batch before python-telegram-bot sees it (and,
    as every request, reports the API's reachability to the :class:`~bot.transport.ApiStatus`).

    PTB confirms a batch with its next getUpdates call, which it makes only after this one
    has returned, so what it confirms is already in the journal. If the journal cannot store
    the batch, the call fails like a network error: PTB's polling loop asks again with the
    same offset, and Telegram sends the same updates.
    """

    def __init__(self, journal: InboundJournal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal

    async def do_request(
        self, url: str, method: str, request_data=None, **timeouts: Any
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, request_data, **timeouts)
        if status != 200 or not url.endswith("/getUpdates"):
            return status, body
        try:
            updates = json.loads(body).get("result")
        except (ValueError, AttributeError):
            return status, body  # PTB reports an unreadable answer itself
        if updates and isinstance(updates, list):
            try:
                await self.journal.receive(updates)
            except Exception as exc:
                log.warning("could not journal %d update(s): %s; not confirmed", len(updates), exc)
                raise NetworkError(f"inbound journal unavailable: {exc}") from exc
        return status, body
