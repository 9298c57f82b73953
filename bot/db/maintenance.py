"""Administration in SQL: purging personal data of old tips (the backup copy: backups.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.db.database import Database, to_db_time
from bot.db.sql import Tx
from bot.domain.tips import FINAL_STATES


class MaintenanceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def purge_candidates(self, before: dt.datetime) -> list[dict[str, Any]]:
        """Closed or withdrawn tips, finished before ``before``, not purged yet."""
        final = ",".join(f"'{s.value}'" for s in sorted(FINAL_STATES))
        rows = await self.db.fetchall(
            f"""SELECT tips.id, tips.code, tips.reporter_id, rewards.state AS reward_state
                FROM tips LEFT JOIN rewards ON rewards.tip_id = tips.id
                WHERE tips.state IN ({final}) AND tips.closed_at < ?
                  AND tips.purged_at IS NULL
                ORDER BY tips.id""",
            (to_db_time(before),),
        )
        return [dict(r) for r in rows]

    async def purge_tip(self, tx: Tx, tip_id: int, now: dt.datetime) -> None:
        """Drop a tip's personal data; keep what anonymous statistics need.

        The position is rounded to about a kilometre (0.01°) and the district kept; free text,
        the typed address and spot, the words added later, every photo/voice/video reference
        and any live position go.
        """
        await tx.execute(
            """UPDATE tips SET description = NULL, address = NULL, place_label = NULL,
                   spot_text = NULL, lat = ROUND(lat, 2), lon = ROUND(lon, 2),
                   claim_salt = NULL, claim_hash = NULL,
                   purged_at = ?
               WHERE id = ?""",
            (to_db_time(now), tip_id),
        )
        # A web reporter's notices, and a photo of theirs not uploaded yet (issue 15).
        await tx.execute("DELETE FROM web_notices WHERE tip_id = ?", (tip_id,))
        await tx.execute(
            """DELETE FROM web_photos WHERE ref IN (SELECT substr(file_id, 5) FROM media
                   WHERE tip_id = ? AND file_id LIKE 'web:%')""",
            (tip_id,),
        )
        await tx.execute(
            "DELETE FROM web_uploads WHERE file_id IN (SELECT file_id FROM media WHERE tip_id = ?)",
            (tip_id,),
        )
        await tx.execute("DELETE FROM media WHERE tip_id = ?", (tip_id,))
        # The reporter's own words to "still there?" and "not found" (issue 13).
        await tx.execute("UPDATE reporter_asks SET words = NULL WHERE tip_id = ?", (tip_id,))
        await tx.execute("UPDATE amendments SET words = NULL WHERE tip_id = ?", (tip_id,))
        # A reporter's live pin is an exact position too (issue 13).
        await tx.execute("DELETE FROM live_positions WHERE tip_id = ?", (tip_id,))

    async def forget_reporter_if_done(self, tx: Tx, user_id: int) -> bool:
        """Clear a reporter's name, username and phone once none of their tips needs them."""
        row = await (
            await tx.execute(
                """SELECT COUNT(*) AS n FROM tips
                   WHERE reporter_id = ? AND purged_at IS NULL""",
                (user_id,),
            )
        ).fetchone()
        if row["n"]:
            return False
        staff = await (
            await tx.execute("SELECT 1 FROM staff WHERE user_id = ?", (user_id,))
        ).fetchone()
        if staff is not None:
            return False
        await tx.execute(
            """UPDATE users SET first_name = '', username = NULL, phone = NULL
               WHERE user_id = ?""",
            (user_id,),
        )
        return True
