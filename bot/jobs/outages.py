"""The bot tells the duty officers about its own trouble (issue 12).

* **Outages.** When the Bot API could not be reached for at least ``[health]
  outage_notice_minutes`` — or the bot was not running that long (the gap after its last
  heartbeat, so a restart after a long stop counts too) — the officers get one message once
  it is over: when, how long, and the tips that came in since it began (Telegram keeps what
  people sent meanwhile; they are handled first), dispatched or still being sent. The start of
  an outage is written down at once, so a restart in the middle does not forget it.
* **Undeliverable messages.** An outbox message that was tried and is still not delivered
  after ``[health] undeliverable_minutes`` (or was given up) is reported once, with how many
  and the last error — while the API answers (during an outage, the outage message says it).

Runs as one small task beside the outbox sender (a job: it watches the transport and the
inbound journal); :meth:`OutageWatch.check` is one pass (the task calls it on every change of
the API's reachability and every ``interval_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time

from bot.config import HealthConfig
from bot.db.database import Database, to_db_time
from bot.db.ops import (
    HEARTBEAT,
    OUTAGE_SINCE,
    UNDELIVERABLE_KEY,
    UNDELIVERABLE_REPORTED,
    OpsStore,
)
from bot.domain.outage import Cause, Outage, at_start, span
from bot.domain.outbox import Msg
from bot.i18n import keys
from bot.inbound import InboundJournal
from bot.jobs.tasks import cancel
from bot.services.clock import StationClock
from bot.services.notify import Notifier
from bot.transport import ApiStatus

log = logging.getLogger(__name__)

#: Seconds between passes (heartbeat, undeliverable check) when nothing happens.
INTERVAL_S = 60.0
#: Seconds between passes while an outage waits to be told (the backlog being handled).
PENDING_RECHECK_S = 1.0
#: Seconds the message waits for the cards of the tips that came in to go out, at most.
CARDS_GRACE_S = 60.0
ERROR_CHARS = 160


class OutageWatch:
    def __init__(
        self,
        db: Database,
        store: OpsStore,
        notifier: Notifier,
        clock: StationClock,
        config: HealthConfig,
        status: ApiStatus,
        journal: InboundJournal,
        *,
        polling: bool = True,
        queue_size=lambda: 0,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.db = db
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.config = config
        self.status = status
        self.journal = journal
        self.polling = polling
        self.queue_size = queue_size  # updates queued but not yet taken by the processor
        self.interval_s = interval_s
        self.down_at: dt.datetime | None = None  # the Bot API unreachable since (bot's clock)
        self._down_saved = False
        self._back_at: dt.datetime | None = None
        self.pending: Outage | None = None  # over, long enough, not told yet
        self._polls_mark = 0
        self._caught_at: float | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._beat_at: dt.datetime | None = None

    @property
    def threshold(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.config.outage_notice_minutes)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """At start-up (post_init): what the previous run left, then listen and beat."""
        now = self.clock.now()
        heartbeat = await self.store.get_time(HEARTBEAT)
        since = await self.store.get_time(OUTAGE_SINCE)
        outage = at_start(now, heartbeat, since, self.threshold)
        if outage is not None:
            log.info("warmline was down %s min (%s); the officers will be told", outage.minutes,
                     outage.cause.value)
            self._tell_later(outage)
            self._down_saved = since is not None
        elif since is not None:
            await self._clear_outage()
        await self._beat(now)
        self.status.on_down(self._down)
        self.status.on_back(self._back)
        if self.status.reachable is False:  # it went away during post_init already
            self._down()
        self._task = asyncio.create_task(self._run(), name="warmline-outage-watch")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        with contextlib.suppress(Exception):  # the last moment the bot was running
            await self._beat(self.clock.now())

    def _down(self) -> None:
        if self.down_at is None:
            self.down_at = self.clock.now()
            self._down_saved = False
        self._back_at = None
        self._changed.set()

    def _back(self) -> None:
        if self.down_at is not None:
            self._back_at = self.clock.now()
        self._changed.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a full disk, a locked database: try again next pass
                log.warning("outage watch pass failed: %s", exc)
            self._changed.clear()
            # An outage to tell waits for the backlog: look again soon.
            wait = min(PENDING_RECHECK_S, self.interval_s) if self.pending else self.interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=wait)

    # -- one pass ---------------------------------------------------------------------------
    async def check(self) -> None:
        async with self._lock:
            now = self.clock.now()
            if self.down_at is not None and not self._down_saved:
                # Kept if an earlier outage is still on record (the bot was restarted in it).
                await self.store.put_if_absent(OUTAGE_SINCE, to_db_time(self.down_at), now)
                self._down_saved = True
            if self.down_at is not None and self._back_at is not None:
                outage = Outage(self.down_at, self._back_at, Cause.API)
                self.down_at = self._back_at = None
                if outage.long_enough(self.threshold) or self.pending is not None:
                    self._tell_later(outage)
                else:
                    await self._clear_outage()
            if self.pending is not None and await self._caught_up():
                await self._tell(self.pending)
                self.pending = None
            if self.status.reachable is True and self.down_at is None and self.pending is None:
                await self._undeliverable(now)
            if self._beat_at is None or now - self._beat_at >= dt.timedelta(
                seconds=self.interval_s
            ):
                await self._beat(now)

    def _tell_later(self, outage: Outage) -> None:
        self.pending = outage if self.pending is None else self.pending.joined(outage)
        self._polls_mark = self.status.polls
        self._caught_at = None

    async def _caught_up(self) -> bool:
        """Has the bot handled what people sent during the outage? Telegram hands it over
        with the first getUpdates after it; the second one begins only once that batch is
        journaled and queued."""
        if self.status.reachable is not True:
            return False
        if self.polling and self.status.polls < self._polls_mark + 2:
            return False
        if self.queue_size() or await self.journal.unfinished():
            return False
        # Handled; their cards go out through the outbox: say "dispatched" once they have
        # (or, after a grace, say which are still being sent).
        assert self.pending is not None
        _tips, waiting = await self.store.tips_since(self.pending.start)
        if self._caught_at is None:
            self._caught_at = time.monotonic()
        return not waiting or time.monotonic() - self._caught_at >= CARDS_GRACE_S

    async def _tell(self, outage: Outage) -> None:
        start, end = span(outage, self.clock.tz)
        tips, waiting = await self.store.tips_since(outage.start)
        status = "ops.status.none" if not tips else (
            "ops.status.waiting" if waiting else "ops.status.all"
        )
        text = Msg(
            "ops.outage",
            {
                "start": start,
                "end": end,
                "minutes": outage.minutes,
                "cause": Msg(keys.CAUSE[outage.cause]),
                "tips": tips,
                "status": Msg(status),
            },
        )
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.notifier.tell_officers(tx, text, now=now)
            await self.store.delete(tx, OUTAGE_SINCE)
        self._down_saved = False
        log.info("told the officers: warmline %s %s–%s", outage.cause.value, start, end)

    async def _clear_outage(self) -> None:
        async with self.db.write() as tx:
            await self.store.delete(tx, OUTAGE_SINCE)
        self._down_saved = False

    async def _beat(self, now: dt.datetime) -> None:
        await self.store.put(HEARTBEAT, to_db_time(now), now)
        self._beat_at = now

    async def _undeliverable(self, now: dt.datetime) -> None:
        minutes = self.config.undeliverable_minutes
        reported = int(await self.store.get(UNDELIVERABLE_REPORTED) or 0)
        found = await self.store.undeliverable(now - dt.timedelta(minutes=minutes), reported)
        if not found.count:
            return
        text = Msg(
            UNDELIVERABLE_KEY,
            {
                "count": found.count,
                "minutes": minutes,
                "groups": found.to_groups,
                "people": found.to_people,
                "error": (found.last_error or "—")[:ERROR_CHARS],
            },
        )
        async with self.db.write() as tx:
            await self.notifier.tell_officers(tx, text, now=now)
            await self.store.put_in(tx, UNDELIVERABLE_REPORTED, str(found.max_id), now)
        log.warning(
            "%d outbox message(s) undeliverable for more than %d min; the officers were told",
            found.count,
            minutes,
        )
