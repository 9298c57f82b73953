import datetime as dt, time
from collections import Counter
from pathlib import Path
import pytest
from tests.harness import world, G1_CHAT, G2_CHAT, OFFICER, T0

async def test_race(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        await w.settle()
        w.clock.now = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
        t = time.perf_counter()
        for i in range(289):
            await w.services.schedules.tick()
            await w.settle()
            w.clock.advance(minutes=5)
        print("total", time.perf_counter() - t)
        for chat in (G1_CHAT, G2_CHAT, OFFICER):
            c = Counter(m.get("text") for m in w.bot_msgs(chat))
            print(chat, len(w.bot_msgs(chat)), [ (k[:30], v) for k, v in c.items() if v > 1])
