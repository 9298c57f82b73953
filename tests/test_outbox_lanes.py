"""The outbox sends each chat's messages in its own lane (bot/jobs/outbox.py): a group whose
message hangs (at Telegram's per-group ceiling, or slow) holds up neither a reporter's
messages nor anything else; and a card edit still waits for the card it edits."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

from bot.db.database import to_db_time
from bot.domain.draft import Draft
from bot.domain.outbox import Msg
from bot.domain.tips import People, Seen
from bot.i18n import t
from tests.harness import G1_CHAT, G1_MEMBER, World, world

REPORTER = 830001
HOLD_S = 60.0  # a last resort (the test releases it): below the read timeout set below
READ_TIMEOUT = 90.0  # so that a held request still succeeds however slow the machine


class HoldGroup:
    """A fault hook: the first card message to the group hangs until released (or HOLD_S)."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.holding = False  # the card's request is hanging right now
        self.reporter_got_while_held: list[bool] = []

    def __call__(self, method: str, params: dict) -> None:
        chat = int(params.get("chat_id") or 0)
        if method == "sendMessage" and chat == G1_CHAT and not self.held.is_set():
            self.holding = True
            self.held.set()
            self.release.wait(HOLD_S)
            self.holding = False
        elif method == "sendMessage" and chat == REPORTER and self.held.is_set():
            self.reporter_got_while_held.append(self.holding)
        return None


async def submit(w: World) -> str:
    w.emu.add_user(REPORTER, "测试", language_code="zh-hans", started=True)
    draft = replace(
        Draft(user_id=REPORTER).with_location(30.2, 115.04, None, None),
        seen=Seen.NOW,
        people=People.ONE,
    )
    await w.services.reports.save(draft)
    result = await w.services.reports.submit(REPORTER)
    assert result.value is not None
    return result.value.tip.code


async def test_a_hanging_group_message_does_not_hold_up_a_reporters_message(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, overrides={"read_timeout": READ_TIMEOUT}) as w:
        sender = w.app.bot_data["outbox"]
        await sender.stop()
        code = await submit(w)
        hold = HoldGroup()
        w.emu.fault = hold
        sender.start()
        await w.until(hold.held.is_set)
        before = len(w.bot_msgs(REPORTER))
        async with w.station.db.write() as tx:
            await w.notifier.tell(tx, REPORTER, Msg("chat.user_blocked", {"code": code}))
        await w.until(lambda: len(w.bot_msgs(REPORTER)) > before)
        hold.release.set()
        # Every message to the reporter (the notice, and the receipt with its offer to add to
        # the tip if it had not gone yet) went while the group's card was still hanging.
        assert hold.reporter_got_while_held and all(hold.reporter_got_while_held)
        await w.wait_card(G1_CHAT, code)


async def test_a_card_edit_waits_for_the_card_it_edits(tmp_path: Path) -> None:
    async with world(tmp_path, overrides={"read_timeout": READ_TIMEOUT}) as w:
        sender = w.app.bot_data["outbox"]
        await sender.stop()
        code = await submit(w)
        hold = HoldGroup()
        w.emu.fault = hold
        sender.start()
        await w.until(hold.held.is_set)  # the card, rendered as dispatched, hangs
        tip = await w.tip_by_code(code)
        assert tip is not None
        now = to_db_time(w.clock.now + dt.timedelta(minutes=1))
        async with w.station.db.write() as tx:
            await tx.execute(
                """UPDATE tips SET state = 'claimed', claimed_by = ?, claimed_at = ?,
                       updated_at = ? WHERE id = ?""",
                (G1_MEMBER, now, now, tip.id),
            )
            await w.notifier.refresh_card(tx, tip.id)
        hold.release.set()
        # The edit came after the card was posted and recorded: the card shows the claim.
        await w.wait_card(G1_CHAT, code, t("zh", "state.claimed"))
