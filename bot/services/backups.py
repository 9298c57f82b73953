"""The daily backup: once a station day, at ``[backup] time`` or at the first tick after it
(the bot was down then), a checked online copy of the database into ``[backup] dir`` as
``warmline-YYYY-MM-DD.sqlite3``, and the daily copies older than ``keep_days`` deleted. A
copy that fails (no room, no permission, a failed integrity check) is told to the duty
officers; either way the day is recorded (``schedule_log``, kind ``backup``), so it is tried
once a day, not on every tick. The work on files is bot/db/backups.py, in a thread (a copy of
a big database takes a while; the bot keeps serving meanwhile).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from bot.config import BackupConfig
from bot.db import backups
from bot.db.database import Database
from bot.db.schedule import ScheduleStore
from bot.domain.outbox import Msg
from bot.domain.schedule import parse_hhmm
from bot.services.notify import Notifier

log = logging.getLogger(__name__)

KIND = "backup"


class BackupService:
    def __init__(
        self, db: Database, schedule: ScheduleStore, notifier: Notifier, config: BackupConfig
    ) -> None:
        self.db = db
        self.schedule = schedule
        self.notifier = notifier
        self.config = config

    async def run_due(self, now: dt.datetime, local: dt.datetime) -> bool:
        """Back up if today's backup is due and not done; whether one was attempted."""
        cfg = self.config
        database = self.db.path
        if database == ":memory:" or local.time() < parse_hhmm(cfg.time):
            return False
        day = local.date()
        if await self.schedule.is_done(KIND, day.isoformat()):
            return False
        target = backups.daily_path(cfg.dir, day)
        try:
            info, deleted = await asyncio.to_thread(self._copy, database, day)
        except backups.COPY_ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("the daily backup to %s failed: %s", target, reason)
            async with self.db.write() as tx:
                if await self.schedule.mark_done(tx, KIND, day.isoformat(), now, "failed"):
                    text = Msg(
                        "backup.failed",
                        {
                            "day": day.isoformat(),
                            "reason": reason,
                            "folder": str(cfg.dir),
                            "time": cfg.time,
                        },
                    )
                    await self.notifier.tell_officers(tx, text, now=now)
            return True
        async with self.db.write() as tx:
            await self.schedule.mark_done(tx, KIND, day.isoformat(), now, "ok")
        log.info(
            "daily backup %s: %d tip(s), integrity check ok; %d old backup(s) deleted",
            info.path,
            info.tips,
            len(deleted),
        )
        return True

    def _copy(self, database: str, day: dt.date) -> tuple[backups.CopyInfo, list[Path]]:
        cfg = self.config
        Path(cfg.dir).mkdir(parents=True, exist_ok=True)
        info = backups.online_copy(database, backups.daily_path(cfg.dir, day), overwrite=True)
        return info, backups.prune(cfg.dir, cfg.keep_days, day)
