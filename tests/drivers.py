"""Many invented people using the bot at once, through the Bot API emulator, as users would.

Used by the robustness tests (``test_crash``, ``test_faults``): reporters go through the whole
private flow by pressing the buttons of the bot's latest prompt; patrol members work every
card that appears in their group (claim → arrive → brought in, with its confirmation). Both
retry like people do when the bot goes quiet (it was killed, or Telegram lost a reply): press
the button again, or /cancel and start the report over; press an unanswered button again.
The drivers only poll the emulator, so they work with a bot in this process or another one.
A press makes the pressed message the next question (an edit), a typed answer gets a new
message: the drivers look for the next question in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.i18n import t
from bot.sandbox.emulator import BotApiEmulator
from tests.harness import plain

TOLD = re.compile(r"已收到，编号 (HS-\d{4})")  # the code in "submit.received" (zh)
CARD_HEAD = re.compile(r"^(?:🔴|🟠)\s.*?(HS-\d{4}) · ")
CANCELLED = {plain(t("zh", "cancel.done")), plain(t("zh", "cancel.nothing"))}
# The reporter's flow: the button pressed on a prompt → the button of the prompt that follows.
FLOW = (
    ("r:spotok", "r:seen:now"),  # the message after the place: no spot, more details
    ("r:seen:now", "r:ppl:1"),
    ("r:ppl:1", "r:flagsok"),
    ("r:flagsok", "r:nodesc"),
    ("r:nodesc", "r:nophoto"),
    ("r:nophoto", "r:submit"),
)
ACTIONS = ("claim", "arrive", "close")


def buttons(message: dict | None) -> list[str]:
    markup = (message or {}).get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def until_done(
    work: Awaitable[Any], progress: Callable[[], object], *, stall_s: float, cap_s: float
) -> Any:
    """Await ``work``; fail only if ``progress()`` stops changing for ``stall_s`` seconds (or,
    as a last resort against a livelock, after ``cap_s``). A busy machine makes a run slow,
    not stuck: bounds here are on being stuck."""
    task = asyncio.ensure_future(work)
    began = last_change = time.monotonic()
    seen = progress()
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=1.0)
            now = time.monotonic()
            current = progress()
            if current != seen:
                seen, last_change = current, now
            if now - last_change > stall_s:
                raise AssertionError(f"no progress for {stall_s:.0f} s (at {seen})")
            if now - began > cap_s:
                raise AssertionError(f"not done after {cap_s:.0f} s (at {seen})")
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def poll(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:  # noqa: ASYNC109
    """``predicate()`` once it is truthy, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(interval)


def card_code(message: dict) -> str | None:
    """The tip code if ``message`` is a bot's card (as the chat shows it)."""
    match = CARD_HEAD.match(message.get("text") or "")
    if message.get("from_bot") and message.get("kind") == "text" and match:
        return match.group(1)
    return None


class People:
    """Reporters and patrol members, driven concurrently."""

    def __init__(
        self,
        emu: BotApiEmulator,
        members: dict[int, tuple[int, ...]],
        *,
        step_timeout: float = 8.0,
        budget: float = 170.0,
    ) -> None:
        self.emu = emu
        self.members = members  # group chat id → the members who work its cards
        self.step_timeout = step_timeout  # a prompt or an answer not there by then: retry
        # How long a card may go without any answer to a press before its patrol gives up:
        # a bound on being stuck, not on being slow (each answer starts it again).
        self.budget = budget
        self.attempts = 0
        self.cancels = 0
        self.represses = 0
        self.presses: list[tuple[str, int, str, str, int]] = []  # qid, tip id, code, action, user
        self.cards_seen: dict[str, list[int]] = {}  # code → card message ids, oldest first
        self.patrols: list[asyncio.Task[None]] = []
        self.stop_patrol = False

    # -- reading a chat -------------------------------------------------------------------
    def last_id(self, chat: int) -> int:
        messages = self.emu.transcript(chat)
        return messages[-1]["message_id"] if messages else 0

    def bot_after(self, chat: int, mark: int) -> list[dict]:
        return [m for m in self.emu.bot_messages(chat) if m["message_id"] > mark]

    def prompt_after(
        self, chat: int, mark: int, data: str, pressed: dict | None = None
    ) -> dict | None:
        """The bot's latest message after ``mark`` that shows a button with ``data``; else
        the ``pressed`` message if it does now (a press makes it the next question)."""
        found = [m for m in self.bot_after(chat, mark) if data in buttons(m)]
        if found:
            return found[-1]
        if pressed is not None:
            current = self.emu.message(chat, pressed["message_id"])
            if data in buttons(current):
                return current
        return None

    def told(self, user: int, mark: int = 0) -> set[str]:
        """Tip codes the bot gave ``user`` (after message ``mark``)."""
        codes = set()
        for message in self.bot_after(user, mark):
            match = TOLD.search(message.get("text") or "")
            if match:
                codes.add(match.group(1))
        return codes

    # -- reporters ------------------------------------------------------------------------
    async def reporter(
        self, user: int, tips: int, place: Callable[[int, int], tuple[float, float]]
    ) -> None:
        """Report until the bot has given ``user`` ``tips`` codes (``place(user, attempt)``)."""
        attempt = 0
        while len(self.told(user)) < tips and attempt < 4 * tips:
            attempt += 1
            self.attempts += 1
            await self.report_once(user, place(user, attempt))

    async def report_once(self, user: int, where: tuple[float, float]) -> None:
        """location → no spot → when → how many → flags done → skip words → skip photo → send."""
        mark = self.last_id(user)
        self.emu.send_location(user, *where)
        prompt = await poll(lambda: self.prompt_after(user, mark, FLOW[0][0]), self.step_timeout)
        if prompt is None:
            await self.cancel(user)
            return
        for data, following in FLOW:
            prompt = await self.press_step(user, prompt, data, following)
            if prompt is None:
                await self.cancel(user)
                return
        mark = self.last_id(user)
        for _ in range(2):
            if "r:submit" not in buttons(self.emu.message(user, prompt["message_id"])):
                break  # the press was handled; only the answer is missing
            self.emu.press_button(user, user, prompt["message_id"], "r:submit")
            if await poll(lambda: self.told(user, mark), self.step_timeout):
                return
            self.represses += 1
        if not await poll(lambda: self.told(user, mark), 1.0):
            await self.cancel(user)

    async def press_step(self, user: int, prompt: dict, data: str, following: str) -> dict | None:
        """Press ``data`` on ``prompt``; the next prompt (pressing again if it does not come)."""
        mark = self.last_id(user)
        for tries in range(2):
            if data not in buttons(self.emu.message(user, prompt["message_id"])):
                break  # handled, but the bot did not get to ask the next question
            if tries:
                self.represses += 1
            self.emu.press_button(user, user, prompt["message_id"], data)
            found = await poll(
                lambda: self.prompt_after(user, mark, following, prompt), self.step_timeout
            )
            if found:
                return found
        return await poll(lambda: self.prompt_after(user, mark, following, prompt), 0.5)

    async def cancel(self, user: int) -> None:
        """Start over, as a user would after the bot went quiet: /cancel until it answers."""
        self.cancels += 1
        for _ in range(5):
            mark = self.last_id(user)
            self.emu.send_text(user, "/cancel")
            answered = await poll(
                lambda mark=mark: any(
                    m.get("text") in CANCELLED for m in self.bot_after(user, mark)
                ),
                self.step_timeout,
            )
            if answered:
                return

    # -- patrol members -------------------------------------------------------------------
    async def patrol(self) -> None:
        """Watch the groups; work every new card (until ``stop_patrol``)."""
        next_id = dict.fromkeys(self.members, 1)
        while not self.stop_patrol:
            for chat in self.members:
                while (message := self.emu.message(chat, next_id[chat])) is not None:
                    next_id[chat] += 1
                    code = card_code(message)
                    if code is None:
                        continue
                    if code in self.cards_seen:
                        # A second card for the same tip (the tests count those): the members
                        # go on with the newest one, the one the bot keeps up to date.
                        self.cards_seen[code].append(message["message_id"])
                        continue
                    self.cards_seen[code] = [message["message_id"]]
                    self.patrols.append(asyncio.create_task(self.work_card(chat, code)))
            await asyncio.sleep(0.2)

    async def stop(self, patrol: asyncio.Task[None]) -> None:
        self.stop_patrol = True
        await patrol
        for task in self.patrols:
            task.cancel()
        await asyncio.gather(*self.patrols, return_exceptions=True)

    async def work_card(self, chat: int, code: str) -> None:
        """Claim → arrive → brought in (with its confirmation), pressing the card's buttons."""
        card = self.emu.message(chat, self.cards_seen[code][0])
        tip_id = int(next(d for d in buttons(card) if d.startswith("tip:")).split(":")[2])
        members = self.members[chat]
        user = members[tip_id % len(members)]
        steps = (
            (f"tip:claim:{tip_id}",),
            (f"tip:arrive:{tip_id}",),
            (f"tip:close:{tip_id}:brought_in", f"tip:ask:{tip_id}:brought_in"),
        )
        done = [t("zh", f"done.{action}", code=code) for action in ACTIONS]
        step = 0
        deadline = time.monotonic() + self.budget
        while step < len(steps) and time.monotonic() < deadline:
            message_id = self.cards_seen[code][-1]
            shown = buttons(self.emu.message(chat, message_id))
            if not shown:
                return  # closed: the card has no buttons any more
            for later in range(len(steps) - 1, step, -1):
                if any(d in shown for d in steps[later]):
                    step = later  # an earlier press was handled but its answer was lost
                    break
            data = next((d for d in steps[step] if d in shown), None)
            if data is None:
                await asyncio.sleep(0.1)  # the card's edit is still on its way
                continue
            qid = self.emu.press_button(user, chat, message_id, data)
            self.presses.append((qid, tip_id, code, data.split(":")[1], user))
            answer = await poll(lambda qid=qid: self.emu.callback_answer(qid), self.step_timeout)
            if answer is None:
                continue  # no answer (the bot was down, or the answer was lost): press again
            deadline = time.monotonic() + self.budget  # progress: a slow bot is not a stuck one
            if answer.get("text") == done[step]:
                step += 1
            elif answer.get("text"):
                await asyncio.sleep(0.2)  # stale: the card is being refreshed

    def acknowledged(self) -> set[tuple[int, str, int]]:
        """(tip id, action, user) of every change whose button was answered "done"."""
        found = set()
        for qid, tip_id, code, action, user in self.presses:
            if action not in ACTIONS:
                continue  # "brought in?" only shows the confirmation
            answer = self.emu.callback_answer(qid) or {}
            if answer.get("text") == t("zh", f"done.{action}", code=code):
                found.add((tip_id, action, user))
        return found

    def cards(self, chats: tuple[int, ...] | list[int]) -> dict[str, list[int]]:
        """code → the chat of each card for it, from the transcripts."""
        found: dict[str, list[int]] = {}
        for chat in chats:
            for message in self.emu.bot_messages(chat):
                code = card_code(message)
                if code:
                    found.setdefault(code, []).append(chat)
        return found
