import datetime as dt, time
from pathlib import Path
import pytest
from tests.harness import world, G1_CHAT, G2_CHAT, OFFICER, T0

async def test_speed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        await w.settle()
        w.clock.now = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
        t = time.perf_counter()
        for i in range(289):
            await w.services.schedules.tick()
            w.clock.advance(minutes=5)
        print("ticks", time.perf_counter() - t)
        await w.settle()
        print("total", time.perf_counter() - t)
        for chat in (G1_CHAT, G2_CHAT, OFFICER):
            for m in w.bot_msgs(chat):
                print(chat, repr(m.get("text"))[:150])
        for r in await w.repo.schedule_log():
            print(r)
