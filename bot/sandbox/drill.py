"""``warmline demo --drill``: a scripted cold night, for a team to practise on.

Invented reporters send tips from Huangshi landmarks the way people do — a location or a typed
place name, the answers, sometimes a photo — through the emulator's user side, with short
pauses so the page shows it happening. One tip is urgent (a child); one is a second report of
a person already reported nearby (a likely duplicate). Then the page is the team's: claim, go,
record outcomes.

Button labels come from the bot's own message catalog, so the script follows the bot's wording.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.spots import Spot
from bot.domain.tips import Flag, People, Seen
from bot.geo import gazetteer
from bot.i18n import keys, t
from bot.sandbox.assets import SAMPLE_PHOTO, static_bytes
from bot.sandbox.cast import Person
from bot.sandbox.stage import Stage

log = logging.getLogger(__name__)

LANG = "zh"
WAIT = 10.0  # seconds to wait for each answer of the bot


@dataclass(frozen=True)
class DrillTip:
    reporter: Person
    place: str | None = None  # a gazetteer key: the reporter shares a location there
    offset_m: tuple[float, float] = (0.0, 0.0)  # metres north and east of the place
    address: str | None = None  # or types a place name instead
    spot: str | None = None  # the exact spot's quick choice (bot/domain/spots.py), or none
    seen: str = "now"
    people: str = "1"
    flags: tuple[str, ...] = ()
    description: str | None = None
    photo: bool = False


def _reporter(user_id: int, name: str, phone: str, note: str) -> Person:
    return Person(user_id, name, "reporter", phone, note)


SCRIPT: tuple[DrillTip, ...] = (
    DrillTip(
        _reporter(5101, "陈师傅", "+86 138 0000 0031", "出租车司机 taxi driver"),
        place="huangshi_station",
        spot="station_hospital",
        flags=("elderly", "underdressed"),
        description="车站东侧出口台阶上，一位老人裹着旧被子躺着，身边没有行李。",
        photo=True,
    ),
    DrillTip(
        _reporter(5102, "小刘", "+86 138 0000 0032", "外卖骑手 delivery rider"),
        place="cihu",
        offset_m=(-150.0, 120.0),
        spot="park_bench",
        flags=("child", "underdressed"),
        description="湖边长椅上坐着一个小孩，大约十岁，没穿外套，一直在哭，周围没看到大人。",
    ),
    DrillTip(
        _reporter(5103, "张阿姨", "+86 138 0000 0033", "市民 resident"),
        address="万达广场",
        seen="hour",
        people="2",
        flags=("elderly",),
        description="商场北门外的通风口旁，有两个人睡在纸板上。",
    ),
    DrillTip(
        _reporter(5104, "老周", "+86 138 0000 0034", "夜班保安 night guard"),
        place="huangshi_station",
        offset_m=(80.0, 60.0),  # ~100 m from the first tip: the card names it as a duplicate
        seen="hour",
        flags=("elderly",),
        description="火车站广场东边，一个老人睡在长椅上，盖着一床旧被子。",
        photo=True,
    ),
)


class DrillStopped(Exception):
    pass


class DrillError(Exception):
    pass


def shifted(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / 111_320.0,
        lon + east_m / (111_320.0 * math.cos(math.radians(lat))),
    )


class Drill:
    """Plays :data:`SCRIPT` against a running :class:`~bot.sandbox.stage.Stage` (from any
    thread but the bot's); stops when told (``stop``) or when the stage stops."""

    def __init__(
        self,
        stage: Stage,
        *,
        pause: float = 1.0,
        stop: threading.Event | None = None,
        script: tuple[DrillTip, ...] = SCRIPT,
    ) -> None:
        self.stage = stage
        self.emu = stage.emu
        self.pause = pause
        self.stop_event = stop or threading.Event()
        self.script = script
        self.codes: list[str] = []

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="warmline-drill", daemon=True)
        thread.start()
        return thread

    def run(self) -> list[str]:
        total = len(self.script)
        try:
            self._sleep(self.pause * 2)
            for number, tip in enumerate(self.script, 1):
                who = f"{tip.reporter.name}（{tip.reporter.note}）"
                self.stage.set_status(f"演练 drill {number}/{total}：{who} 正在报告 reporting…")
                try:
                    self.codes.append(self.report(tip))
                except DrillError as exc:
                    log.warning("drill: the tip of %s did not go through: %s", who, exc)
                self._sleep(self.pause * 2)
        except DrillStopped:
            return self.codes
        self.stage.set_status(
            f"演练 drill：{len(self.codes)} 条报告已发出（{', '.join(self.codes)}），"
            "请在巡查小组群里认领处理 · work them in the patrol group"
        )
        return self.codes

    # -- one tip, step by step -------------------------------------------------------------
    def report(self, tip: DrillTip) -> str:
        user = tip.reporter.user_id
        self.stage.add_reporter(tip.reporter)
        after = self._last_id(user)
        place = None
        if tip.address is not None:
            self.emu.send_text(user, tip.address)
            place = self._wait_button(user, after, t(LANG, "btn.place_none"))
            self._sleep(self.pause)
            first = place["reply_markup"]["inline_keyboard"][0][0]
            self._answered(
                self.emu.press_button(user, user, place["message_id"], first["callback_data"])
            )
            after = place["message_id"]
        else:
            if tip.place is None:
                raise ValueError("a drill tip needs a place or an address")
            p = gazetteer.get(tip.place)
            self.emu.send_location(user, *shifted(p.lat, p.lon, *tip.offset_m))
        # The message after the place: the exact spot (or none), then the full path. A press
        # makes the pressed message the next question (an edit); a typed answer gets a new one.
        more = t(LANG, "btn.spot_more" if tip.spot else "btn.spot_skip")
        hub = self._wait_button(user, after, t(LANG, "btn.spot_skip"), place)
        if tip.spot:
            self._press(user, hub, t(LANG, keys.SPOT[Spot(tip.spot)]))
            hub = self._wait_button(user, hub["message_id"], more, hub)  # the choice ticked
        self._press(user, hub, more)
        seen_label = t(LANG, keys.SEEN[Seen(tip.seen)])
        seen = self._wait_button(user, hub["message_id"], seen_label, hub)
        self._press(user, seen, seen_label)
        people_label = t(LANG, keys.PEOPLE[People(tip.people)])
        people = self._wait_button(user, seen["message_id"], people_label, seen)
        self._press(user, people, people_label)
        flags = self._wait_button(user, people["message_id"], t(LANG, "btn.flags_done"), people)
        for flag in tip.flags:
            self._press(user, flags, t(LANG, keys.FLAG[Flag(flag)]))
        self._press(user, flags, t(LANG, "btn.flags_done"))
        skip = t(LANG, "btn.skip")
        description = t(LANG, "ask.description").split("\n")[0]
        ask_description = self._wait_button(user, flags["message_id"], skip, flags, description)
        self._sleep(self.pause)
        if tip.description:
            self.emu.send_text(user, tip.description)
        else:
            self._press(user, ask_description, skip)
        ask_photo = self._wait_button(
            user, ask_description["message_id"], skip, ask_description, t(LANG, "ask.photo")
        )
        self._sleep(self.pause)
        if tip.photo:
            self.emu.send_photo(user, static_bytes(SAMPLE_PHOTO))
        else:
            self._press(user, ask_photo, skip)
        review = self._wait_button(user, ask_photo["message_id"], t(LANG, "btn.submit"), ask_photo)
        self._press(user, review, t(LANG, "btn.submit"))
        done = self._wait(
            lambda: next(
                (
                    m
                    for m in self.emu.bot_messages(user)
                    if m["message_id"] > review["message_id"] and _code(m.get("text"))
                ),
                None,
            ),
            "the reporter's receipt with a code",
        )
        return _code(done["text"]) or "?"

    # -- helpers ---------------------------------------------------------------------------
    def _stopped(self) -> bool:
        return self.stop_event.is_set() or self.stage.stopping.is_set()

    def _sleep(self, seconds: float) -> None:
        if self.stop_event.wait(seconds) or self.stage.stopping.is_set():
            raise DrillStopped

    def _wait(self, found: Callable[[], dict | None], what: str) -> dict:
        value = self.emu.wait_until(found, WAIT, cancelled=self._stopped)
        if value:
            return value
        if self._stopped():
            raise DrillStopped
        raise DrillError(f"no {what} within {WAIT:.0f} s")

    def _last_id(self, chat: int) -> int:
        messages = self.emu.transcript(chat)
        return messages[-1]["message_id"] if messages else 0

    def _wait_button(
        self,
        chat: int,
        after: int,
        label: str,
        pressed: dict | None = None,
        text: str | None = None,
    ) -> dict:
        """The first bot message after ``after`` — or the ``pressed`` one, made the next
        question — with a button whose text contains ``label`` (and ``text`` in it)."""
        mine = pressed["message_id"] if pressed is not None else None

        def found() -> dict | None:
            for message in self.emu.bot_messages(chat):
                if (
                    (message["message_id"] > after or message["message_id"] == mine)
                    and (text is None or text in (message.get("text") or ""))
                    and any(
                        label in button.get("text", "")
                        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                        for button in row
                    )
                ):
                    return message
            return None

        return self._wait(found, f"question with a {label!r} button")

    def _press(self, user: int, message: dict, label: str) -> None:
        self._sleep(self.pause)
        try:
            query = self.emu.press(user, message["chat_id"], message["message_id"], text=label)
        except AssertionError as exc:
            raise DrillError(str(exc)) from None
        self._answered(query)

    def _answered(self, query_id: str) -> None:
        self._wait(lambda: self.emu.callback_answer(query_id), "answer to a button")


def _code(text: str | None) -> str | None:
    match = re.search(r"\b([A-Z]{1,4}-\d{4,})\b", text or "")
    return match.group(1) if match else None
