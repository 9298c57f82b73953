"""The one scheduled job: PTB's JobQueue (APScheduler 3) runs the schedule service's tick.

Reminders, escalations, hand-overs and summaries are not separate APScheduler jobs: what is
due is computed from the clock and the database on every tick, so nothing needs persisting,
a restart rebuilds everything, and a tick missed during an outage is simply the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram.ext import Application, ContextTypes

from bot.services.schedules import ScheduleService

log = logging.getLogger(__name__)

JOB_NAME = "warmline-tick"


def install(
    app: Application,
    schedules: ScheduleService,
    interval_s: float,
    first_s: float = 1.0,
    also: tuple[Callable[[], Awaitable[object]], ...] = (),
) -> None:
    """``also``: more periodic checks (e.g. the relay's follow-up of unanswered prompts)."""

    async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        await schedules.tick()
        for check in also:
            try:
                await check()
            except Exception:  # one failing check must not stop the others
                log.exception("periodic check %s failed", getattr(check, "__qualname__", check))

    assert app.job_queue is not None, "python-telegram-bot[job-queue] is required"
    app.job_queue.run_repeating(
        tick,
        interval=interval_s,
        first=first_s,
        name=JOB_NAME,
        # Never two ticks at once; a tick that could not run on time runs once, late.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
    )
