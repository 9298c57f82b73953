"""The bot's own trouble, told to the officers (bot/jobs/outages.py, bot/db/ops.py), on the
outbox as the services write it: typed notices (bot/domain/outbox.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.domain.outbox import Msg, Notice
from tests.services.kit import G1_CHAT, OFFICER, kit


async def failed_notice(k, chat_id: int, key: str) -> int:
    """A notice queued as the services queue them, then given up by the sender."""
    async with k.station.db.write() as tx:
        item_id = await k.repo.outbox.enqueue(
            tx, Notice(Msg(key, {"count": 1})), chat_id=chat_id, tip_id=None, now=k.clock()
        )
        assert item_id is not None
        await k.repo.outbox.failed(tx, item_id, "BadRequest: chat not found")
    return item_id


async def test_the_report_of_undeliverable_messages_is_not_counted_itself(
    tmp_path: Path,
) -> None:
    """An officer's chat that cannot take the report must not make it report itself for
    ever: the report is left out by its catalog key, whatever the payload's format."""
    async with kit(tmp_path) as k:
        ops = k.repo.ops
        later = k.clock() + dt.timedelta(hours=1)
        stuck = await failed_notice(k, G1_CHAT, "notice.claimed")
        found = await ops.undeliverable(later, 0)
        assert (found.count, found.max_id, found.to_groups) == (1, stuck, 1)
        await failed_notice(k, OFFICER, "ops.undeliverable")
        found = await ops.undeliverable(later, 0)
        assert (found.count, found.max_id) == (1, stuck)  # the report itself: not counted
        assert (await ops.undeliverable(later, stuck)).count == 0
