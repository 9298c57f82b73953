"""What `warmline export` reads: the tips received in a period and the event log of a period.

The column lists are explicit: no reporter id, no officer who logged a hotline call, no claim
secret ever leaves through here (a ``SELECT *`` would carry any column added later too). The
reporter's name, username and phone are read under ``scrub_*`` names for one use only: to be
removed from the free text beside them (bot/domain/open311.py ``redact``). Both reads are
whole periods of rows: ``heavy=True`` (the analytics connection).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.db.database import Database, to_db_time


class ExportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tips(self, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
        """Tips received in ``[since, until)``, oldest first, with their evidence count
        (media the patrol attached: not the reporter's photo), reward state and the code of
        the tip each duplicate was merged into."""
        rows = await self.db.fetchall(
            """SELECT t.id, t.code, t.source, t.lat, t.lon, t.address, t.place_label,
                      t.district, t.seen, t.people, t.flags, t.urgent, t.description, t.state,
                      t.outcome, original.code AS duplicate_of, t.group_key, t.created_at,
                      t.updated_at, t.claimed_at, t.arrived_at, t.closed_at, t.purged_at,
                      (SELECT COUNT(*) FROM media m
                        WHERE m.tip_id = t.id AND m.kind != 'report_photo') AS evidence,
                      r.state AS reward_state, u.first_name AS scrub_name,
                      u.username AS scrub_username, u.phone AS scrub_phone
               FROM tips t
               LEFT JOIN tips original ON original.id = t.duplicate_of
               LEFT JOIN rewards r ON r.tip_id = t.id
               LEFT JOIN users u ON u.user_id = t.reporter_id
               WHERE t.created_at >= ? AND t.created_at < ?
               ORDER BY t.created_at, t.id""",
            (to_db_time(since), to_db_time(until)),
            heavy=True,
        )
        return [dict(r) for r in rows]

    async def events(self, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
        """Events recorded in ``[since, until)``, in order, with their tip's code and position
        and whether the actor is that tip's reporter (the reporter's id itself stays here)."""
        rows = await self.db.fetchall(
            """SELECT e.id, e.at, e.tip_id, t.code, t.lat, t.lon, e.action, e.from_state,
                      e.to_state, e.actor_role, e.actor_id, e.detail,
                      (e.actor_id IS NOT NULL AND e.actor_id IS t.reporter_id)
                          AS actor_is_reporter,
                      u.first_name AS scrub_name, u.username AS scrub_username,
                      u.phone AS scrub_phone
               FROM events e LEFT JOIN tips t ON t.id = e.tip_id
               LEFT JOIN users u ON u.user_id = t.reporter_id
               WHERE e.at >= ? AND e.at < ?
               ORDER BY e.id""",
            (to_db_time(since), to_db_time(until)),
            heavy=True,
        )
        return [dict(r) for r in rows]
