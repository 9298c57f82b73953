"""Text people type is bounded before it is echoed back: no reply can exceed Telegram's limit.

The fuzzer found ``/patrol_start <3,600 characters>`` answered with the raw area, which
Telegram refuses ("message is too long"), so the member got no answer at all. The class: every
command, from every kind of chat that has a menu, with an absurdly long argument, and long
text at every step of a report, gets an answer Telegram accepts.
"""

from __future__ import annotations

from pathlib import Path

from bot.views.commands import COMMANDS
from tests.drivers import FLOW, buttons
from tests.harness import CENTRE, G1_CHAT, G1_MEMBER, OFFICER, REPORTER, world

LONG = "长" * 3000 + " " + "x" * 3000  # two words of 3,000 characters each

#: (who, in which chat): a member of the public and an officer privately, a member in a group.
SEATS = ((REPORTER, None), (OFFICER, None), (G1_MEMBER, G1_CHAT))

TELEGRAM_MAX = 4096


async def test_every_command_with_a_huge_argument_gets_an_answer(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for command in COMMANDS:
            for user, chat in SEATS:
                where = chat if chat is not None else user
                before = len(w.bot_msgs(where))
                w.emu.send_text(user, f"/{command.name} {LONG}", chat_id=chat)
                await w.roundtrip(user, chat)  # handled in order: the command was too
                answers = w.bot_msgs(where)[before:]
                # At least the roundtrip's own answer, and nothing Telegram refused.
                assert answers, (command.name, user)
                assert w.api_faults() == [], (command.name, user, w.api_faults())
                too_long = [m for m in answers if len(m.get("text") or "") > TELEGRAM_MAX]
                assert too_long == [], command.name
        # /cancel what the huge /report and /newtip started.
        for user in (REPORTER, OFFICER):
            w.emu.send_text(user, "/cancel")
        await w.idle(30)
        assert w.api_faults() == []


async def test_a_huge_message_at_every_report_step_gets_an_answer(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        # No draft yet: the text is an address (far too long) — refused politely, not echoed.
        w.emu.send_text(REPORTER, LONG)
        answer = await w.next_bot(REPORTER)
        assert len(answer["text"]) < TELEGRAM_MAX
        assert LONG[:200] not in answer["text"]
        w.emu.send_location(REPORTER, *CENTRE)
        for data, _following in (*FLOW, ("r:submit", None)):
            prompt = await w.until(lambda d=data: _last_with(w, REPORTER, d), timeout=30)
            w.emu.send_text(REPORTER, LONG)  # at this step: words, or the wrong kind of thing
            await w.roundtrip(REPORTER)
            assert w.api_faults() == [], data
            sent = [m for m in w.bot_msgs(REPORTER) if len(m.get("text") or "") > TELEGRAM_MAX]
            assert sent == [], data
            prompt = _last_with(w, REPORTER, data) or prompt
            await w.press_data(REPORTER, REPORTER, prompt["message_id"], data)
        await w.idle(30)
        assert w.api_faults() == []


def _last_with(w, chat: int, data: str) -> dict | None:
    """The newest bot message in ``chat`` carrying a button with callback ``data``."""
    for message in reversed(w.bot_msgs(chat)):
        if data in buttons(message):
            return message
    return None
