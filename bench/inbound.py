"""What the inbound journal (bot/inbound.py) costs per update, in CPU.

The journal's work for one update, exactly as the bot does it: ``receive`` (the getUpdates
batch stored in one statement), ``begin`` (the processor's check) and ``done`` (one
statement), on a database file with WAL, as in production. CPU time of the whole process
(``time.process_time``: the event loop and aiosqlite's thread) per update, for batches of 1
(a quiet night: every getUpdates brings one update — the worst case) and of 10 (a burst).
Target: ≤ 0.3 ms per update.

    .venv/bin/python bench/inbound.py [--updates 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load, table  # also puts the bot's checkout on sys.path
from telegram import Bot, Update

from bot.db.database import Database
from bot.inbound import InboundJournal

TARGET_MS = 0.3


def press(update_id: int) -> dict:
    """A callback query as Telegram sends it (the reporter pressing a step's button)."""
    user = {
        "id": 600_000 + update_id % 50,
        "is_bot": False,
        "first_name": "小梅",
        "username": "courier_xiaomei",
        "language_code": "zh-hans",
    }
    chat = {"id": user["id"], "type": "private", "first_name": "小梅", "username": "x"}
    message = {
        "message_id": 1000 + update_id,
        "from": {"id": 424242, "is_bot": True, "first_name": "warmline", "username": "wl_bot"},
        "chat": chat,
        "date": 1796000000,
        "text": "🕒 什么时候看到的？",
        "entities": [{"type": "bold", "offset": 3, "length": 7}],
        "reply_markup": {
            "inline_keyboard": [
                [{"text": label, "callback_data": f"r:seen:{data}"}]
                for label, data in (("刚刚看到", "now"), ("1 小时内", "1h"), ("更早", "earlier"))
            ]
        },
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(4_611_686_018_427_387_904 + update_id),
            "from": user,
            "message": message,
            "chat_instance": "1234567",
            "data": "r:seen:now",
        },
    }


async def per_update_ms(updates: int, batch: int) -> float:
    with tempfile.TemporaryDirectory(prefix="warmline-inbound-") as folder:
        db = await Database(Path(folder) / "bench.sqlite3").open()
        journal = InboundJournal()
        journal.attach(db)
        bot = Bot("424242:BENCH-TOKEN")
        raws = [press(i + 1) for i in range(updates)]
        parsed = [Update.de_json(raw, bot) for raw in raws]  # PTB's own work, not timed
        await journal.receive(raws[:batch])  # warm up: statements prepared, pages cached
        for update in parsed[:batch]:
            await journal.done(journal.begin(update))
        started = time.process_time()
        for start in range(batch, updates, batch):
            await journal.receive(raws[start : start + batch])
            for update in parsed[start : start + batch]:
                await journal.done(journal.begin(update))
        spent = time.process_time() - started
        await db.close()
        return spent / (updates - batch) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for batch in (1, 10):
        figures = [asyncio.run(per_update_ms(args.updates, batch)) for _ in range(args.rounds)]
        median = statistics.median(figures)
        rows.append(
            [
                f"journal CPU per update, batches of {batch}",
                f"**{median:.3f} ms** ({', '.join(f'{f:.3f}' for f in figures)})",
                f"≤ {TARGET_MS} ms",
                "met" if median <= TARGET_MS else "MISSED",
                load(),
            ]
        )
    print(table(["measure", "median (rounds)", "target", "", "load 1/5/15"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
