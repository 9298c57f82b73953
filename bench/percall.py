"""What one Bot API call costs PTB + httpx, by payload and by how many calls are in flight.

A PTB ``Bot`` with warmline's transport (bot/transport.py) sends ``sendMessage`` to the
emulator, which runs in this process's other threads; the CPU time of the calling thread
(``time.thread_time``) per call is reported. warmline handles up to 64 updates at once, the
echo bot one: this shows what that concurrency costs per call.

    .venv/bin/python bench/percall.py [--calls 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchEmulator, load, table
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.transport import RetryingRequest

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(f"选项 {i}", callback_data=f"r:seen:{i}")] for i in range(3)]
)


async def cost(pool: int, concurrency: int, keyboard: bool, calls: int) -> float:
    emu = BenchEmulator().start()
    emu.add_user(1, "x", started=True)
    bot = Bot(emu.token, base_url=emu.base_url, request=RetryingRequest(connection_pool_size=pool))
    await bot.initialize()

    async def one(i: int) -> None:
        if keyboard:
            await bot.send_message(1, f"<b>什么时候看到的？</b> {i}", reply_markup=KEYBOARD)
        else:
            await bot.send_message(1, f"hello {i}")

    await asyncio.gather(*(one(i) for i in range(concurrency)))  # open the connections
    gate = asyncio.Semaphore(concurrency)

    async def limited(i: int) -> None:
        async with gate:
            await one(i)

    started = time.thread_time()
    await asyncio.gather(*(limited(i) for i in range(calls)))
    spent = time.thread_time() - started
    await bot.shutdown()
    emu.stop()
    return spent / calls * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1500)
    args = parser.parse_args()
    rows = []
    for keyboard in (False, True):
        for pool, concurrency in ((1, 1), (72, 1), (72, 8), (72, 64), (16, 64)):
            ms = asyncio.run(cost(pool, concurrency, keyboard, args.calls))
            rows.append(
                [
                    "HTML + 3-button keyboard" if keyboard else "plain text",
                    pool,
                    concurrency,
                    f"{ms:.2f}",
                    load(),
                ]
            )
    print(
        table(
            ["sendMessage", "connection pool", "calls in flight", "CPU ms/call", "load 1/5/15"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
