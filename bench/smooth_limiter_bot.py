"""`warmline run` with PTB's AIORateLimiter tuned so that it can never exceed Telegram's
limits as a sliding window (bench/flood.py --limiter smooth): no bursts, at most one message
per 3.05 s per group (19.7/min) and one per 35 ms overall (28.6/s). An experiment for the
README, not the bot's configuration (which is bot/ratelimit.py's FloodGuard since issue 16).

    python bench/smooth_limiter_bot.py -c config.toml
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram.ext import AIORateLimiter

import bot.app
from bot.cli import main


def smooth(max_retries: int = 3) -> AIORateLimiter:
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=0.035,
        group_max_rate=1,
        group_time_period=3.05,
        max_retries=max_retries,
    )


if __name__ == "__main__":
    bot.app.FloodGuard = smooth  # type: ignore[assignment,misc]  # instead of the bot's own
    sys.exit(main(["run", *sys.argv[1:]]))
