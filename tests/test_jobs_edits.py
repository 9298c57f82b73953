"""bot/jobs/edits.py: one rule for the outbox's edits (cards, digests, revisit cards) — "message
is not modified" means the message already shows it, any other refusal is the caller's."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, Forbidden

from bot.jobs.edits import edit_text, unchanged


class FakeBot:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.calls: list[dict] = []

    async def edit_message_text(self, text: str, **kwargs: object) -> None:
        self.calls.append({"text": text, **kwargs})
        if self.error is not None:
            raise self.error


async def test_an_edit_is_made_with_its_text_and_buttons() -> None:
    bot = FakeBot(None)
    await edit_text(bot, -100, 7, "卡片", {"inline_keyboard": []})  # type: ignore[arg-type]
    assert bot.calls == [
        {"text": "卡片", "chat_id": -100, "message_id": 7, "reply_markup": {"inline_keyboard": []}}
    ]


async def test_not_modified_is_a_done_edit() -> None:
    error = BadRequest(
        "Message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    assert unchanged(error)
    await edit_text(FakeBot(error), -100, 7, "卡片", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        BadRequest("Message to edit not found"),
        BadRequest("Message can't be edited"),
        Forbidden("Forbidden: bot was kicked from the group chat"),
    ],
)
async def test_any_other_refusal_reaches_the_caller(error: Exception) -> None:
    with pytest.raises(type(error)):
        await edit_text(FakeBot(error), -100, 7, "卡片", None)  # type: ignore[arg-type]
