"""The bot tells the duty officers about its own trouble (issue 12, bot/services/outages.py).

Over the emulator, with a TCP relay (tests/netcut.py) between the bot and the Bot API for
the outages, and the world's fake clock for how long they last: told once after an outage
longer than ``[health] outage_notice_minutes`` (with the tips that came in meanwhile), never
after a short blip; a restart after a long stop counts too (the heartbeat); a message the
outbox cannot deliver for ``[health] undeliverable_minutes`` is reported once.
"""

from __future__ import annotations

from pathlib import Path

from bot.i18n import t
from bot.sandbox.emulator import BotApiEmulator
from tests.harness import (
    CENTRE,
    G1_CHAT,
    OFFICER,
    REPORTER,
    WAIT_S,
    World,
    cast,
    pass_spot,
    plain,
    world,
)
from tests.netcut import Relay

HEALTH = "[health]\noutage_notice_minutes = 5\nundeliverable_minutes = 10\n"


def zh(key: str, **params: object) -> str:
    return plain(t("zh", key, **params))


def notices(w: World, key: str = "ops.cause.api") -> list[str]:
    words = zh(key)
    return [m["text"] for m in w.bot_msgs(OFFICER) if words in (m.get("text") or "")]


async def to_review(w: World, user: int = REPORTER) -> dict:
    """The reporter's flow up to the review (not sent yet)."""
    w.mark(user)
    w.emu.send_location(user, *CENTRE)
    await pass_spot(w, user)
    seen = await w.next_bot(user, "什么时候看到")
    await w.press(user, user, seen, "刚刚看到")
    people = await w.next_bot(user, "有几个人")
    await w.press(user, user, people, "1 人")
    flags = await w.next_bot(user, "可多选")
    await w.press(user, user, flags, "完成")
    await w.next_bot(user, "简单描述")
    w.emu.send_text(user, "穿着单薄，坐在路边")
    ask_photo = await w.next_bot(user, "照片")
    await w.press(user, user, ask_photo, "跳过")
    return await w.next_bot(user, "请确认")


async def one_pass(w: World) -> None:
    """One more pass of the watch (it runs by itself every minute and on every change of the
    API's reachability), then let its messages go out."""
    await w.app.bot_data["outage_watch"].check()
    await w.outbox_idle()


async def test_a_long_outage_is_told_once_with_the_tips_that_came_in(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    relay = Relay(emu.port).start()
    try:
        cast(emu)
        async with world(
            tmp_path, emu=emu, base_url=relay.base_url, base_file_url=relay.base_file_url,
            sections=HEALTH,
        ) as w:
            status = w.app.bot_data["api_status"]
            await w.roundtrip(OFFICER)  # the officer has opened a chat with the bot
            review = await to_review(w)
            start = w.clock().astimezone(w.station.clock.tz)

            relay.cut()
            await w.until(lambda: status.reachable is False)
            w.clock.advance(minutes=30)
            # The reporter sends the report while the bot cannot reach Telegram.
            w.mark(REPORTER)
            w.emu.press(REPORTER, REPORTER, review["message_id"], text="提交报告")
            relay.restore()

            await w.next_bot(REPORTER, "已收到")  # handled once the bot is back
            notice = await w.until(lambda: (notices(w) or [None])[0], timeout=WAIT_S * 3)
            end = w.clock().astimezone(w.station.clock.tz)
            assert notice == zh(
                "ops.outage",
                cause=zh("ops.cause.api"),
                start=f"{start:%H:%M}",
                end=f"{end:%H:%M}",
                minutes=30,
                tips=1,
                status=zh("ops.status.all"),
            )
            assert w.card(G1_CHAT, "HS-0001") is not None  # "dispatched" was true
            # Once: later passes (and the next start) say nothing more.
            await one_pass(w)
            await one_pass(w)
            assert len(notices(w)) == 1
        async with world(tmp_path, emu=emu, base_url=relay.base_url,
                         base_file_url=relay.base_file_url, sections=HEALTH,
                         db_path=w.db_path, clock=w.clock) as again:
            await one_pass(again)
            assert len(notices(again)) == 1
    finally:
        relay.stop()
        emu.stop()


async def test_a_short_blip_is_not_told(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    relay = Relay(emu.port).start()
    try:
        cast(emu)
        async with world(
            tmp_path, emu=emu, base_url=relay.base_url, base_file_url=relay.base_file_url,
            sections=HEALTH,
        ) as w:
            status = w.app.bot_data["api_status"]
            watch = w.app.bot_data["outage_watch"]
            w.emu.send_text(OFFICER, "/start")
            await w.idle()
            relay.cut()
            await w.until(lambda: status.reachable is False)
            await w.until(lambda: watch.down_at is not None)
            w.clock.advance(minutes=4)  # under the 5-minute threshold
            relay.restore()
            await w.until(lambda: status.reachable is True, timeout=WAIT_S * 3)
            await w.until(lambda: watch.down_at is None and watch.pending is None)
            w.mark(OFFICER)
            await w.roundtrip(OFFICER)  # the bot answers again: any notice would be out
            await one_pass(w)
            assert notices(w) == []
    finally:
        relay.stop()
        emu.stop()


async def test_a_restart_after_a_long_stop_is_told(tmp_path: Path) -> None:
    """Down = also the bot not running: the heartbeat says since when."""
    emu = BotApiEmulator().start()
    try:
        cast(emu)
        async with world(tmp_path, emu=emu, sections=HEALTH) as w:
            await w.roundtrip(OFFICER)
            db_path, clock = w.db_path, w.clock
            stopped = clock().astimezone(w.station.clock.tz)
        clock.advance(minutes=40)  # the bot was not running
        async with world(tmp_path, emu=emu, sections=HEALTH, db_path=db_path, clock=clock) as w:
            notice = await w.until(
                lambda: (notices(w, "ops.cause.stopped") or [None])[0], timeout=WAIT_S * 3
            )
            back = clock().astimezone(w.station.clock.tz)
            assert f"{stopped:%H:%M}–{back:%H:%M}" in notice and "40" in notice
            assert zh("ops.status.none") in notice
            await one_pass(w)
            assert len(notices(w, "ops.cause.stopped")) == 1
        # A quick restart (a minute) is not told.
        clock.advance(minutes=1)
        async with world(tmp_path, emu=emu, sections=HEALTH, db_path=db_path, clock=clock) as w:
            await w.roundtrip(OFFICER)
            await one_pass(w)
            assert len(notices(w, "ops.cause.stopped")) == 1  # still only the one above
    finally:
        emu.stop()


async def test_an_undeliverable_message_is_reported_once(tmp_path: Path) -> None:
    """The patrol group's card cannot be sent (flood control for that chat, for ten minutes
    every time, while the API answers everything else): after ``undeliverable_minutes`` the
    officers are told, once, with the error."""

    def fault(method: str, params: dict):
        if method == "sendMessage" and str(params.get("chat_id")) == str(G1_CHAT):
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 600",
                "parameters": {"retry_after": 600},
            }
        return None

    async with world(tmp_path, sections=HEALTH) as w:
        await w.roundtrip(OFFICER)
        w.emu.fault = fault
        review = await to_review(w)
        await w.press(REPORTER, REPORTER, review, "提交报告")
        await w.next_bot(REPORTER, "已收到")

        async def tried() -> bool:
            row = await w.station.db.fetchone(
                "SELECT attempts FROM outbox WHERE chat_id = ? AND kind = 'card'", (G1_CHAT,)
            )
            return bool(row and row[0] > 0)

        await w.until(tried)
        await w.app.bot_data["outage_watch"].check()
        assert notices(w, "ops.status.none") == []  # (nothing about an outage either)
        undeliverable = [m for m in w.bot_msgs(OFFICER) if "未能送达" in (m.get("text") or "")]
        assert undeliverable == []  # not yet: under 10 minutes
        w.clock.advance(minutes=11)
        await w.app.bot_data["outage_watch"].check()
        found = await w.until(
            lambda: [m for m in w.bot_msgs(OFFICER) if "未能送达" in (m.get("text") or "")]
        )
        assert len(found) == 1
        assert "1 条消息超过 10 分钟" in found[0]["text"]
        assert "发往巡查群 1 条" in found[0]["text"]
        w.clock.advance(minutes=30)
        await w.app.bot_data["outage_watch"].check()
        await w.app.bot_data["outage_watch"].check()
        await w.roundtrip(OFFICER)  # anything told would be out before this answer
        again = [m for m in w.bot_msgs(OFFICER) if "未能送达" in (m.get("text") or "")]
        assert len(again) == 1
        w.emu.fault = None
