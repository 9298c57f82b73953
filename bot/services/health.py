"""``GET /healthz``: is the bot well, in a few numbers (issue 12).

Healthy when the Bot API answers, the database takes a write, and the outbox is not stuck
(nothing pending for longer than ``[health] undeliverable_minutes``). The answer has counts
and times only — no chat, no name, no text: it may be polled by anything that can reach it.
Each report costs one tiny write and two indexed reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

from bot.config import Config
from bot.db.ops import OpsStore
from bot.services.clock import StationClock

#: Seconds the database may take for the probe write before it counts as not writable.
PROBE_TIMEOUT_S = 5.0


def version() -> str:
    try:
        return metadata.version("warmline")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error_kind(error: str | None) -> str | None:
    """The kind of the last failure ("httpx.ConnectError", "HTTP 502"), not its whole text."""
    if not error:
        return None
    return error.split(":", 1)[0][:60]


class Reachability(Protocol):
    """What the transport knows of the Bot API (bot/transport.py ``ApiStatus``)."""

    reachable: bool | None
    since: dt.datetime | None
    last_error: str | None


#: The bot's operation store and clock, once the bot has opened its database (post_init);
#: None before.
Opened = Callable[[], tuple[OpsStore, StationClock] | None]


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    body: dict[str, Any]


class HealthService:
    def __init__(self, config: Config, status: Reachability, opened: Opened) -> None:
        self.config = config
        self.status = status
        self.opened = opened  # None until the bot has opened its database (post_init)
        self.version = version()

    async def report(self) -> HealthReport:
        reasons: list[str] = []
        status = self.status
        if status.reachable is False:
            reasons.append("bot_api_unreachable")
        elif status.reachable is None:
            reasons.append("bot_api_not_reached_yet")
        body: dict[str, Any] = {
            "ok": False,
            "reasons": reasons,
            "version": self.version,
            "mode": self.config.telegram.mode,
            "bot_api": {
                "reachable": status.reachable,
                "since": _iso(status.since),
                "error": _error_kind(status.last_error) if status.reachable is False else None,
            },
            "last_update_at": None,
            "outbox": {"pending": None, "oldest_pending_age_s": None},
            "database": {"writable": None},
        }
        opened = self.opened()
        if opened is None:
            reasons.append("starting")
        else:
            await self._database(*opened, body, reasons)
        body["ok"] = not reasons
        return HealthReport(not reasons, body)

    async def _database(
        self, store: OpsStore, clock: StationClock, body: dict[str, Any], reasons: list[str]
    ) -> None:
        now = clock.now()
        try:
            await asyncio.wait_for(store.probe_write(now), PROBE_TIMEOUT_S)
            body["database"]["writable"] = True
        except Exception:  # locked past the timeout, read-only, disk full, closed…
            body["database"]["writable"] = False
            reasons.append("database_not_writable")
        try:
            outbox = await store.outbox_health()
            body["last_update_at"] = _iso(await store.last_update_at())
        except Exception:
            reasons.append("database_not_readable")
            return
        age = None
        if outbox.oldest_pending_at is not None:
            age = max(0, round((now - outbox.oldest_pending_at).total_seconds()))
        body["outbox"] = {"pending": outbox.pending, "oldest_pending_age_s": age}
        if age is not None and age > self.config.health.undeliverable_minutes * 60:
            reasons.append("outbox_stuck")
