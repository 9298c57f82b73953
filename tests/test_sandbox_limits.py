"""The emulator's flood-limit hook (bench/flood.py): Telegram's limits as sliding windows."""

from __future__ import annotations

from bot.sandbox.limits import FloodLimits

GROUP, OTHER, USER = -100111, -100222, 5001


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send(limits: FloodLimits, chat: int, method: str = "sendMessage"):
    return limits(method, {"chat_id": chat, "text": "x"})


def test_twenty_a_minute_per_group_then_429_with_retry_after() -> None:
    clock = Clock()
    limits = FloodLimits(clock=clock)
    for _ in range(20):
        assert send(limits, GROUP) is None
        clock.now += 0.1  # well under 30/s
    status, body = send(limits, GROUP)
    assert status == 429 and body["error_code"] == 429 and not body["ok"]
    # The first of the 20 leaves the window 60 s after it was sent (at 1000.0).
    assert body["parameters"]["retry_after"] == 58  # now is 1002.0: ceil(1060 - 1002)
    assert send(limits, OTHER) is None  # another group has its own window
    assert send(limits, GROUP, "editMessageText") is not None  # edits count too
    clock.now = 1060.0
    assert send(limits, GROUP) is None
    assert limits.refused == {"sendMessage": 1, "editMessageText": 1}


def test_thirty_a_second_overall() -> None:
    clock = Clock()
    limits = FloodLimits(clock=clock)
    for i in range(30):
        assert send(limits, USER + i) is None
    status, body = send(limits, USER + 99)
    assert status == 429 and body["parameters"]["retry_after"] == 1
    clock.now += 1.0
    assert send(limits, USER + 99) is None


def test_only_message_writes_count() -> None:
    limits = FloodLimits(per_second=1, per_group_minute=1, clock=Clock())
    assert send(limits, GROUP) is None
    for method in ("getUpdates", "answerCallbackQuery", "getMe", "deleteMessage"):
        assert limits(method, {"chat_id": GROUP}) is None
    assert send(limits, GROUP) is not None
    assert limits.total_refused == 1
