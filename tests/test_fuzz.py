"""Fuzzing the real handlers: well over 10,000 generated updates through the real PTB
Application over HTTP against the Bot API emulator (see tests/harness.py).

What is generated (hypothesis, no example database, no shrinking: the world is shared and
changes with every example, so a shrunk replay would not mean the same thing):

* every message type — text (random, huge up to 10k chars, odd unicode: RTL/bidi marks,
  zero-width, combining marks, astral characters, NUL, HTML-looking text), commands with junk
  arguments, locations (poles, antimeridian, 0/0, outside China, subnormal and huge finite
  floats), venues, photos (also ``"photo": []``), documents (image/jpeg too), voice, video,
  stickers, contacts (own / someone else's / no user id), edited messages, channel posts,
  ``my_chat_member``, messages with fields the bot does not know (polls, dice, stories, a
  future field), whole updates of an unknown kind;
* at every step of the reporter's flow: the reporter (a member of the public, a patrol
  member or the duty officer logging a hotline tip) is first put at the step — the draft is
  stored through the report service exactly as the handlers store it — then fuzzed;
* button presses: random data up to 64 chars, valid-looking ``tip:``/``r:``/``rw:`` data with
  wrong ids, ops and arguments, and real buttons harvested from the bot's messages, pressed on
  the bot's messages or on a message that is gone (``InaccessibleMessage``);
* the patrol's and the officer's side on real tips: claim, release, go, arrive, outcomes,
  supplies, duplicates (of real and of made-up tips), evidence sent as replies to cards,
  reward approval / rejection / payment / phone views, /claim and /reverse with real codes,
  typed answers — by every kind of person (strangers, the other group, members, leaders,
  the officer), in private chats, in both patrol groups and in a group that is not configured.

After the run (and after every example, to stop at the first bad one):

* nothing was logged at ERROR by the ``telegram`` or ``bot`` loggers (the app's error handler
  logs "unhandled error …" for any exception a handler lets through);
* the emulator had no internal error, and the bot made no Bot API call that Telegram would
  refuse — the only acceptable API error is "message is not modified" and only where the bot
  handles it (the outbox's card edits, a repeated button press): anything the bot does not
  handle is logged and caught by the first check anyway;
* every message the bot sent is non-empty and under 4096 characters, and every text it sent
  in a private chat comes from the catalogs (it starts as some catalog message does);
* the database is consistent (see :func:`check_invariants`).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import itertools
import json
import logging
import re
import sqlite3
import time
import zoneinfo
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import CommandHandler

from bot.domain.draft import Draft, Source, Step
from bot.domain.tips import (
    OPEN_STATES,
    VERIFIED_OUTCOMES,
    Flag,
    Outcome,
    People,
    Seen,
    State,
    Tip,
)
from bot.i18n import CATALOGS
from bot.sandbox.emulator import TINY_JPEG, parse_html
from bot.services.cards import CardContext
from bot.views.cards import render_card
from tests.harness import (
    CENTRE,
    CODE,
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_LEADER,
    G2_MEMBER,
    NAMES,
    OFFICER,
    OUTSIDE,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by the regression tests
    dispatched,
    pass_spot,
    review_head,
    tr,
    world,
)

UNKNOWN_CHAT = -1001000000999  # a group the bot was added to but that is not configured
CHANNEL_CHAT = -1002000000888  # a channel (the bot never answers there)
MIN_UPDATES = 10_000

PUBLIC = (REPORTER, REPORTER_EN, STRANGER)
STAFF = (G1_LEADER, G1_MEMBER, G1_MEMBER2, G2_LEADER, G2_MEMBER, OFFICER)
EVERYONE = PUBLIC + STAFF
GROUP_CHATS = {"g1": G1_CHAT, "g2": G2_CHAT, "unknown": UNKNOWN_CHAT}

# Bot API errors that are not a fault of the bot when the bot deals with them itself: the
# outbox edits every copy of a card after each change and skips copies already showing it,
# and a repeated press (a second "back", the same answer twice) leaves its message as it is
# (handlers.common.edit_pressed). Nothing else is acceptable.
ACCEPTABLE_API_ERRORS = ("message is not modified",)


# -- strategies -----------------------------------------------------------------------------

ODD = (
    "\u200f\u200e\u202e\u202d\u202c\u2066\u2067\u2069"  # bidi marks and isolates
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width
    "\u0301\u0336\u20dd\u0489"  # combining marks
    "\x00\x07\x1b\t\n\r\x7f\u2028\u2029"  # NUL, controls, line/paragraph separators
    "𝕏😀🧊🏳️‍🌈👩🏽‍⚕️𠀀\U0010fffd\U000e0041"  # astral (no lone surrogates: JSON forbids them)
    "字黄石救助 <>&\"'/#@:；，。"
)
HTMLISH = ("<b>", "</b>", "<i>x</i>", "<a href='x'>", "&amp;", "&lt;", "&#0;", "<tg-spoiler>", "&")

texts_small = st.text(max_size=40)
texts_odd = st.text(alphabet=st.sampled_from(ODD), max_size=80)
texts_html = st.lists(st.sampled_from(HTMLISH) | texts_small, max_size=6).map("".join)
texts_huge = st.builds(
    lambda chunk, n: (chunk * (n // len(chunk) + 1))[:n],
    st.text(min_size=1, max_size=8),
    st.integers(1_000, 10_000),
)
texts = st.one_of(texts_small, texts_small, texts_odd, texts_html, texts_huge)

JUNK_ARGS = (
    "HS-0001",
    "hs1",
    "#2",
    "3",
    "0",
    "-1",
    "HS-",
    "HS-99999",
    "99999999999999999999",
    "AAAAAA",
    "abc234",
    "<b>",
    "&amp;",
    "\x00",
    "200",
    "理由",
    "🧊",
    "@warmline_test_bot",
)
args = st.one_of(
    st.just(""),
    st.lists(st.sampled_from(JUNK_ARGS) | texts_small, max_size=4).map(" ".join),
    texts_odd,
    texts_huge,
)
SUFFIXES = ("", "", "", "@warmline_test_bot", "@other_bot", "@")


def commands(names: list[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(names) | st.sampled_from(("foo", "Start", "CLAIM", "x" * 40))
    return st.builds(
        lambda n, s, a: f"/{n}{s}" + (f" {a}" if a else ""), name, st.sampled_from(SUFFIXES), args
    )


EDGE_COORDS = (
    (90.0, 0.0),
    (-90.0, 0.0),
    (90.0, 180.0),
    (-90.0, -180.0),
    (0.0, 180.0),
    (0.0, -180.0),
    (30.2, 180.0),
    (30.2, -180.0),
    (0.0, 0.0),
    (-0.0, -0.0),
    (5e-324, -5e-324),
    (1e308, 1e308),
    (-1e308, 0.0),
    (90.0000001, 0.0),
    (0.0, 180.0000001),
    OUTSIDE,  # Shanghai
    (39.9042, 116.4074),  # Beijing: in China, outside the service area
    (51.5072, -0.1276),  # London
    (-33.8688, 151.2093),  # Sydney
    CENTRE,
    (30.17, 114.98),
)
finite = st.floats(allow_nan=False, allow_infinity=False)
coords = st.one_of(
    st.sampled_from(EDGE_COORDS),
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    st.tuples(st.floats(29.9, 30.4), st.floats(114.8, 115.3)),  # around Huangshi
    st.tuples(finite, finite),
)
inside = st.tuples(st.floats(30.15, 30.25), st.floats(114.98, 115.10))

# Callback data: random, valid-looking with wrong parts, and a marker for "a real button".
TIP_OPS = (
    "claim",
    "release",
    "go",
    "arrive",
    "ask",
    "sup",
    "dups",
    "close",
    "back",
    "show",
    "askr",
)
WORDS = (*(o.value for o in Outcome), "n", "x", "supplies", "")
ids = st.one_of(st.integers(-2, 12), st.integers(0, 10**12), st.sampled_from(("", "01", "1e3")))
tip_data = st.builds(
    lambda op, i, word, n: ":".join(str(p) for p in ("tip", op, i, word, n) if p != ""),
    st.sampled_from((*TIP_OPS, "CLAIM", "xx", "claimx")),
    ids,
    st.sampled_from(WORDS),
    st.one_of(st.just(""), st.integers(-1, 40), st.integers(0, 10**10)),
)
R_OPS = ("report", "place", "seen", "ppl", "flag", "flagsok", "nodesc", "nophoto", "submit")
R_OPS += ("spot", "spotback", "spotok", "now", "amend", "amendok")  # issue 13
R_ARGS = ("", "now", "hour", "today", "1", "2", "3+", "child", "ill", "elderly", "0", "none")
R_ARGS += ("park_bench", "other", "station_hospital")
r_data = st.builds(
    lambda op, arg: f"r:{op}" + (f":{arg}" if arg else ""),
    st.sampled_from((*R_OPS, "cancel", "wd", "lang", "zz")),
    st.sampled_from((*R_ARGS, "underdressed", "zh", "en", "fr", "5", "999999", "-1", "99")),
)
rw_data = st.builds(
    lambda op, i, m: f"rw:{op}:{i}" + (f":{m}" if m else ""),
    st.sampled_from(("ok", "no", "pay", "m", "amt", "tel", "zz", "OK")),
    ids,
    st.sampled_from(("", "wechat", "alipay", "bank", "cash", "paypal")),
)
callback_data = st.one_of(
    st.just("@real"),
    st.just("@real"),
    st.text(min_size=1, max_size=64),
    st.text(alphabet=st.sampled_from(ODD), min_size=1, max_size=64),
    tip_data,
    r_data,
    rw_data,
)
# Where a press happens: on one of the bot's messages (picked by position), or on a message
# that is gone.
press_on = st.one_of(st.floats(0, 1), st.just(-1.0))

MIMES = ("image/jpeg", "image/png", "application/pdf", "text/plain", "", "image/", "video/mp4")
UNKNOWN_CONTENT = ("poll", "dice", "story", "video_note", "audio", "future", "members", "left")


def message_kinds(cmds: st.SearchStrategy[str]) -> st.SearchStrategy[tuple]:
    """One update (without who/where): a tuple naming its kind and its contents."""
    return st.one_of(
        st.tuples(st.just("text"), texts),
        st.tuples(st.just("text"), cmds),
        st.tuples(st.just("location"), coords, st.sampled_from((None, None, 60, 86400))),
        st.tuples(st.just("location"), inside, st.none()),
        st.tuples(st.just("venue"), coords, texts, texts),
        st.tuples(st.just("venue"), inside, texts, texts),
        st.tuples(st.just("photo"), st.booleans(), st.one_of(st.none(), texts)),
        st.tuples(
            st.just("document"),
            st.sampled_from(MIMES),
            st.sampled_from(("IMG_0001.jpg", "a.pdf", "", "x" * 200, "名.png")),
        ),
        st.tuples(st.just("voice")),
        st.tuples(st.just("video")),
        st.tuples(st.just("sticker")),
        st.tuples(
            st.just("contact"),
            st.sampled_from(("+8613800000001", "13800000000", "", "+", "abc", "\x00" * 5)),
            st.sampled_from(("self", "other", "none")),
        ),
        st.tuples(st.just("edited"), texts),
        st.tuples(st.just("channel_post"), texts),
        st.tuples(st.just("my_chat_member"), st.sampled_from(("member", "kicked", "left"))),
        st.tuples(st.just("unknown"), st.sampled_from(UNKNOWN_CONTENT)),
        st.tuples(st.just("update_of_unknown_kind")),
        st.tuples(st.just("press"), callback_data, press_on),
    )


# -- the driver -----------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Collects ERROR records of the ``telegram`` and ``bot`` loggers."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self, start: int = 0) -> list[str]:
        out = []
        for record in self.records[start:]:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {record.exc_info[1]!r}"
            out.append(text)
        return out


def _user(uid: int) -> dict:
    first, username, lang = NAMES[uid]
    user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first}
    if username:
        user["username"] = username
    user["language_code"] = lang
    return user


def _chat(chat_id: int, uid: int) -> dict:
    if chat_id == uid:
        return {"id": uid, "type": "private", "first_name": NAMES[uid][0]}
    return {"id": chat_id, "type": "supergroup", "title": f"group {chat_id}"}


class Fuzzer:
    """Sends generated updates from the hypothesis thread; waits on the bot's loop."""

    def __init__(self, w: World, loop: asyncio.AbstractEventLoop, errors: ErrorLog) -> None:
        self.w = w
        self.emu = w.emu
        self.loop = loop
        self.errors = errors
        self.sent = 0
        self.examples = 0
        self.raw_id = 1_000_000  # message ids of raw updates: far above the emulator's own
        self.last_mid: dict[int, int] = {}  # chat → highest message id seen there
        self.commands = sorted(
            {c for h in w.app.handlers[0] if isinstance(h, CommandHandler) for c in h.commands}
        )
        self._db: sqlite3.Connection | None = None
        self._seen_errors = (0, 0, 0)

    # -- plumbing -----------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def settle(self) -> None:
        # Generous: after a 1,100-update burst a loaded CI machine can need well over 5 s.
        self.run(self.w.idle(timeout=120))

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(
                f"file:{self.w.db_path}?mode=ro", uri=True, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def _note(self, view: dict) -> None:
        chat = view["chat_id"]
        self.last_mid[chat] = max(self.last_mid.get(chat, 0), view["message_id"])

    def bot_message(self, chat_id: int, where: float) -> int | None:
        """A bot message in the chat, about ``where`` (0..1) along it; None if there is none."""
        top = self.last_mid.get(chat_id, 0) + 40
        start = max(1, int(top * where))
        for mid in [*range(start, 0, -1), *range(start + 1, top)][:80]:
            message = self.emu.message(chat_id, mid)
            if message is None:
                continue
            self.last_mid[chat_id] = max(self.last_mid.get(chat_id, 0), mid)
            if message["from_bot"] and not message["deleted"]:
                return mid
        return None

    # -- sending one update ---------------------------------------------------------------
    def send(self, uid: int, chat_id: int, update: tuple) -> None:
        kind, *rest = update
        emu = self.emu
        if chat_id == UNKNOWN_CHAT:
            # The bot leaves a group that is not configured; someone keeps adding it back.
            emu.add_group(UNKNOWN_CHAT, "未配置的群")
        view: dict | None = None
        if kind == "text":
            view = emu.send_text(uid, rest[0], chat_id=chat_id)
        elif kind == "location":
            (lat, lon), live = rest
            view = emu.send_location(uid, lat, lon, chat_id=chat_id, live_period=live)
        elif kind == "venue":
            (lat, lon), title, address = rest
            view = emu.send_venue(uid, lat, lon, title, address, chat_id=chat_id)
        elif kind == "photo":
            sizes, caption = rest
            view = emu.send_photo(uid, chat_id=chat_id, caption=caption, sizes=sizes)
        elif kind == "document":
            mime, name = rest
            view = emu.send_document(uid, TINY_JPEG, name, mime, chat_id=chat_id)
        elif kind == "voice":
            view = emu.send_voice(uid, chat_id=chat_id)
        elif kind == "video":
            view = emu.send_video(uid, chat_id=chat_id)
        elif kind == "sticker":
            view = emu.send_sticker(uid, chat_id=chat_id)
        elif kind == "contact":
            phone, whose = rest
            owner = {"self": uid, "other": STRANGER if uid != STRANGER else REPORTER}.get(whose)
            view = emu.send_contact(uid, phone, chat_id=chat_id, contact_user_id=owner)
        elif kind == "press":
            data, where = rest
            self.press(uid, chat_id, data, where)
            return
        else:
            self.send_raw(uid, chat_id, kind, rest)
            return
        self.sent += 1
        if view is not None:
            self._note(view)

    def press(self, uid: int, chat_id: int, data: str, where: float) -> None:
        mid = self.bot_message(chat_id, where) if where >= 0 else None
        if data == "@real":
            real = self.real_buttons(chat_id, mid) if mid else []
            data = real[int(where * 997) % len(real)] if real else "tip:claim:1"
        self.emu.press_button(uid, chat_id, mid or 999_999, data)
        self.sent += 1

    def real_buttons(self, chat_id: int, mid: int) -> list[str]:
        message = self.emu.message(chat_id, mid) or {}
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def send_raw(self, uid: int, chat_id: int, kind: str, rest: list) -> None:
        self.raw_id += 1
        now = int(time.time())
        base = {
            "message_id": self.raw_id,
            "from": _user(uid),
            "chat": _chat(chat_id, uid),
            "date": now,
        }
        if kind == "edited":
            update = {"edited_message": {**base, "edit_date": now, "text": rest[0] or "x"}}
        elif kind == "channel_post":
            chat = {"id": CHANNEL_CHAT, "type": "channel", "title": "某频道"}
            update = {
                "channel_post": {
                    "message_id": self.raw_id,
                    "chat": chat,
                    "date": now,
                    "text": rest[0] or "x",
                }
            }
        elif kind == "my_chat_member":
            bot = {"id": self.emu.bot_id, "is_bot": True, "first_name": "Warmline Test Bot"}
            new: dict[str, Any] = {"user": bot, "status": rest[0]}
            if rest[0] == "kicked":
                new["until_date"] = 0
            update = {
                "my_chat_member": {
                    "chat": base["chat"],
                    "from": base["from"],
                    "date": now,
                    "old_chat_member": {"user": bot, "status": "member"},
                    "new_chat_member": new,
                }
            }
        elif kind == "unknown":
            update = {"message": {**base, **_unknown_content(rest[0], base)}}
        else:  # an update of a kind this version of the Bot API does not have
            update = {"future_update": {"from": base["from"], "payload": [1, "两", None]}}
        # A test that sends what Telegram never would proves nothing (and PTB retries a batch
        # it cannot parse forever): check the update against this PTB's Bot API first.
        Update.de_json({"update_id": 0, **copy.deepcopy(update)}, self.w.app.bot)
        self.emu.send_raw_update(update)
        self.sent += 1

    # -- state set-up ---------------------------------------------------------------------
    def put_at_step(self, uid: int, step: Step, source: Source) -> None:
        """Store a draft at ``step`` with what the earlier steps would have filled in."""
        draft = Draft(user_id=uid, source=source)
        order = list(Step)
        if step is Step.CONFIRM_PLACE:
            draft = Draft(
                user_id=uid,
                source=source,
                step=Step.CONFIRM_PLACE,
                address="黄石广场",
                candidates=((30.2001, 115.0402, "黄石广场"), (30.21, 115.05, "磁湖")),
            )
        elif step is Step.AMEND:
            draft = draft.amending(1)  # adding to the first tip (refused if it is not theirs)
        elif order.index(step) >= order.index(Step.SPOT):
            draft = draft.with_location(*CENTRE, None, None)
            fields: dict[str, Any] = {}
            if order.index(step) > order.index(Step.SEEN):
                fields["seen"] = Seen.NOW
            if order.index(step) > order.index(Step.PEOPLE):
                fields["people"] = People.ONE
            if order.index(step) > order.index(Step.FLAGS):
                fields["flags"] = frozenset({Flag.ELDERLY})
            if order.index(step) > order.index(Step.DESCRIPTION):
                fields["description"] = "长椅上"
            draft = replace(draft, **fields, step=step)
        self.run(self.w.services.reports.save(draft))

    def finish_report(self, uid: int) -> None:
        """Answer what is left of the user's report (keeping what they gave) and submit it."""
        draft = self.run(self.w.services.reports.draft(uid))
        if draft is None or draft.lat is None or draft.lon is None:
            return
        draft = replace(
            draft,
            step=Step.REVIEW,
            seen=draft.seen or Seen.TODAY,
            people=draft.people or People.MORE,
        )
        self.run(self.w.services.reports.save(draft))
        self.press(uid, uid, "r:submit", 1.0)

    # -- checking as we go -----------------------------------------------------------------
    def api_faults(self, start: int = 0) -> list[dict]:
        return [
            e
            for e in self.emu.api_errors[start:]
            if not any(ok in e["description"].lower() for ok in ACCEPTABLE_API_ERRORS)
        ]

    def check_clean(self, what: object) -> None:
        errors, internal, api = self._seen_errors
        new_errors = self.errors.texts(errors)
        new_internal = self.emu.internal_errors[internal:]
        new_api = self.api_faults(api)
        self._seen_errors = (
            len(self.errors.records),
            len(self.emu.internal_errors),
            len(self.emu.api_errors),
        )
        if new_errors or new_internal or new_api:
            api = [(e["method"], e["description"], brief(str(e["params"]))) for e in new_api]
            raise AssertionError(
                f"after {brief(what)}:\nlogged errors: {new_errors}\n"
                f"emulator internal errors: {new_internal}\n"
                f"API errors: {api}"
            )

    def example(self, what: object, body: Callable[[], None]) -> None:
        body()
        self.settle()
        self.examples += 1
        self.check_clean(what)


def brief(value: object) -> str:
    """A generated example, readable: long strings cut short."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 300 else f"{value[:40]!r}…({len(value)} chars)"
    if isinstance(value, tuple | list):
        inner = ", ".join(brief(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)


def _unknown_content(kind: str, base: dict) -> dict:
    file = {"file_id": "BQACAgQAAxkBAAI", "file_unique_id": "AgAD"}
    if kind == "poll":
        return {
            "poll": {
                "id": "5001",
                "question": "冷吗？",
                "options": [{"text": "冷", "voter_count": 0, "persistent_id": "o1"}],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        }
    if kind == "dice":
        return {"dice": {"emoji": "🎲", "value": 6}}
    if kind == "story":
        return {"story": {"chat": base["chat"], "id": 7}}
    if kind == "video_note":
        return {"video_note": {**file, "length": 240, "duration": 2}}
    if kind == "audio":
        return {"audio": {**file, "duration": 2}}
    if kind == "members":
        return {"new_chat_members": [base["from"]]}
    if kind == "left":
        return {"left_chat_member": base["from"]}
    return {"future_field": {"nested": [1, {"x": "两"}]}, "text": "and a text"}


# -- database invariants ---------------------------------------------------------------------

TIP_STATES = {s.value for s in State}
CLAIMED_STATES = {State.CLAIMED.value, State.EN_ROUTE.value, State.ON_SCENE.value}


def check_invariants(db_path: Path, group_keys: set[str]) -> list[str]:
    """Every way the stored data could contradict itself; ``[]`` when consistent."""
    problems: list[str] = []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append(f"integrity_check: {integrity}")
        fk = [tuple(r) for r in con.execute("PRAGMA foreign_key_check")]
        if fk:
            problems.append(f"foreign_key_check: {fk}")
        tips = {r["id"]: dict(r) for r in con.execute("SELECT * FROM tips")}
        events: dict[int | None, list[dict]] = {}
        for r in con.execute("SELECT * FROM events ORDER BY id"):
            events.setdefault(r["tip_id"], []).append(dict(r))
        for tid, tip in tips.items():
            problems += _tip_problems(tip, events.get(tid, []), tips, group_keys)
        for tid in events:
            if tid is not None and tid not in tips:
                problems.append(f"events of a tip that does not exist: {tid}")
        for e in (e for es in events.values() for e in es):
            if e["action"].startswith("refused:") and e["to_state"] is not None:
                problems.append(f"a refusal changed a state: {e}")
        problems += _reward_problems(con, tips)
        for r in con.execute("SELECT * FROM drafts"):
            if r["step"] not in {s.value for s in Step}:
                problems.append(f"draft of {r['user_id']} at an unknown step {r['step']}")
            json.loads(r["data"])
        failed = [dict(r) for r in con.execute("SELECT * FROM outbox WHERE status = 'failed'")]
        if failed:
            problems.append(f"outbox items Telegram refused: {failed[:5]}")
    finally:
        con.close()
    return problems


def _tip_problems(tip: dict, events: list[dict], tips: dict, group_keys: set[str]) -> list[str]:
    p: list[str] = []
    code, state, outcome = tip["code"], tip["state"], tip["outcome"]
    if state not in TIP_STATES:
        p.append(f"{code}: unknown state {state}")
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        p.append(f"{code}: unknown outcome {outcome}")
    if (state == State.CLOSED.value) != (outcome is not None):
        p.append(f"{code}: state {state} with outcome {outcome}")
    if state == State.CLOSED.value and (tip["closed_at"] is None or tip["closed_by"] is None):
        p.append(f"{code}: closed without closed_at/closed_by")
    if state in {s.value for s in OPEN_STATES} and tip["closed_at"] is not None:
        p.append(f"{code}: open ({state}) with closed_at")
    if tip["group_key"] not in group_keys:
        p.append(f"{code}: group {tip['group_key']!r} is not configured")
    if (outcome == Outcome.DUPLICATE.value) != (tip["duplicate_of"] is not None):
        p.append(f"{code}: outcome {outcome} with duplicate_of {tip['duplicate_of']}")
    if tip["duplicate_of"] is not None:
        seen, cur = {tip["id"]}, tips.get(tip["duplicate_of"])
        while cur is not None and cur["duplicate_of"] is not None:
            if cur["id"] in seen:
                p.append(f"{code}: duplicate_of chain has a cycle")
                break
            seen.add(cur["id"])
            cur = tips.get(cur["duplicate_of"])
    if tip["supplies"] and outcome != Outcome.SUPPLIES_ONLY.value:
        p.append(f"{code}: supplies {tip['supplies']} with outcome {outcome}")

    # The state events (submit, dispatch, claim, …, evidence) chain from "new" to the state.
    moves = [e for e in events if e["to_state"] in TIP_STATES]
    if len(moves) < 2 or [(m["action"], m["from_state"], m["to_state"]) for m in moves[:2]] != [
        ("submit", None, "new"),
        ("dispatch", "new", "dispatched"),
    ]:
        p.append(f"{code}: does not start with submit, dispatch: {moves[:2]}")
    else:
        for before, after in itertools.pairwise(moves):
            if after["from_state"] != before["to_state"]:
                p.append(f"{code}: event {after['id']} {after['action']} leaves the chain")
        if moves[-1]["to_state"] != state:
            p.append(f"{code}: last event ends in {moves[-1]['to_state']}, tip is {state}")

    # Claimed ⇔ in a claimed state, or closed straight from one (then by its last claimer).
    claims = [m for m in moves if m["action"] in ("claim", "release")]
    last_claim = claims[-1] if claims and claims[-1]["action"] == "claim" else None
    close = next((m for m in reversed(moves) if m["action"] == "close"), None)
    held = state in CLAIMED_STATES or (
        state == State.CLOSED.value and close is not None and close["from_state"] in CLAIMED_STATES
    )
    if held != (tip["claimed_by"] is not None):
        p.append(f"{code}: state {state} with claimed_by {tip['claimed_by']}")
    if held and (last_claim is None or last_claim["actor_id"] != tip["claimed_by"]):
        p.append(f"{code}: claimed_by {tip['claimed_by']} is not the last claimer")
    if state == State.WITHDRAWN.value and outcome is not None:
        p.append(f"{code}: withdrawn with an outcome")
    return p


def _incident_root(tips: dict, tid: int) -> dict | None:
    seen: set[int] = set()
    tip = tips.get(tid)
    while tip is not None and tip["duplicate_of"] is not None and tip["id"] not in seen:
        seen.add(tip["id"])
        tip = tips.get(tip["duplicate_of"])
    return tip


def _reward_problems(con: sqlite3.Connection, tips: dict) -> list[str]:
    p: list[str] = []
    verified = {o.value for o in VERIFIED_OUTCOMES}
    rewards = {r["id"]: dict(r) for r in con.execute("SELECT * FROM rewards")}
    ledger: dict[int, list[dict]] = {}
    for r in con.execute("SELECT * FROM ledger ORDER BY id"):
        ledger.setdefault(r["reward_id"], []).append(dict(r))
    for rid, rw in rewards.items():
        tip = tips.get(rw["tip_id"])
        root = _incident_root(tips, rw["tip_id"])
        if tip is None or root is None:
            p.append(f"reward {rid} of a tip that does not exist")
            continue
        if tip["state"] != State.CLOSED.value or root["outcome"] not in verified:
            p.append(f"reward {rid} for {tip['code']} whose incident is not verified")
        if tip["reporter_id"] != rw["reporter_id"] or rw["reporter_id"] is None:
            p.append(f"reward {rid} is not for the tip's reporter")
        entries = [e["entry"] for e in ledger.get(rid, [])]
        if entries[:1] != ["pending"] or entries.count("pending") != 1:
            p.append(f"reward {rid}: ledger does not start with one pending entry: {entries}")
        net_paid = entries.count("paid") - entries.count("reversal")
        if net_paid != (1 if rw["state"] == "paid" else 0):
            p.append(f"reward {rid} is {rw['state']} with ledger {entries}")
        if rw["state"] in ("approved", "paid") and "approved" not in entries:
            p.append(f"reward {rid} is {rw['state']} without an approval entry")
        if (rw["state"] == "rejected") != ("rejected" in entries):
            p.append(f"reward {rid} is {rw['state']} with ledger {entries}")
        if rw["state"] not in ("pending", "approved", "paid", "rejected"):
            p.append(f"reward {rid} in an unknown state {rw['state']}")
    for rid, entries in ledger.items():
        if rid not in rewards:
            p.append(f"ledger entries without a reward: {rid}")
            continue
        if any(e["tip_id"] != rewards[rid]["tip_id"] for e in entries):
            p.append(f"ledger entries of reward {rid} name another tip")
    return p


# -- catalog check ---------------------------------------------------------------------------


def _catalog_patterns() -> re.Pattern[str]:
    """Every catalog message as a regex (placeholders match anything), alternated."""
    alternatives = set()
    for catalog in CATALOGS.values():
        for template in catalog.values():
            parts = re.split(r"\{[a-z_]+\}", template)
            literal = "".join(parts)
            if len(re.sub(r"[\W_]", "", literal)) < 2:
                continue  # nothing to recognise it by (e.g. "{place} ({district})", a fragment)
            alternatives.add(".*?".join(re.escape(part) for part in parts))
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile("(?:" + "|".join(ordered) + ")", re.DOTALL)


def from_catalog(raw: str, pattern: re.Pattern[str]) -> bool:
    return pattern.match(raw) is not None


def check_transcripts(w: World) -> list[str]:
    """Bot messages: non-empty, short enough; private texts from the catalogs."""
    problems = []
    pattern = _catalog_patterns()
    checked: set[str] = set()
    for chat_id in (*EVERYONE, G1_CHAT, G2_CHAT, UNKNOWN_CHAT):
        for message in w.bot_msgs(chat_id):
            if message["kind"] != "text":
                if message["kind"] not in ("venue", "location", "photo"):
                    problems.append(f"{chat_id}: unexpected {message['kind']} message")
                continue
            text = message["text"] or ""
            if not text.strip() or len(text) >= 4096:
                problems.append(f"{chat_id}: bad text of {len(text)} chars: {text[:80]!r}")
            raw = message["raw_text"] or ""
            raw = raw.removeprefix("✓ ")  # an answered question (views.reporter.choice_echo)
            if chat_id > 0 and raw not in checked:
                checked.add(raw)
                if not from_catalog(raw, pattern):
                    problems.append(f"{chat_id}: not from the catalogs: {raw[:200]!r}")
    return problems


# -- the test --------------------------------------------------------------------------------

FLOW_USERS = (REPORTER, REPORTER_EN, STRANGER, G1_MEMBER, G2_LEADER, OFFICER)
CHAT_KEYS = ("private", "private", "private", "g1", "g2", "unknown")


def chat_of(uid: int, key: str) -> int:
    return uid if key == "private" else GROUP_CHATS[key]


async def test_fuzz_the_real_handlers(tmp_path: Path) -> None:
    errors = ErrorLog()
    loggers = [logging.getLogger("telegram"), logging.getLogger("bot")]
    for logger in loggers:
        logger.addHandler(errors)
    started = time.monotonic()
    try:
        # The schedule ticker stays off (the harness default): with hundreds of open fuzz tips,
        # each hand-over re-sends them all and the run would be about the outbox, not input.
        async with world(tmp_path, flood_max="1000", max_per_hour="100") as w:
            w.emu.add_group(UNKNOWN_CHAT, "未配置的群")
            for uid in EVERYONE:  # everyone has opened a private chat with the bot
                w.emu.send_text(uid, "/start")
            await w.idle()
            fuzz = Fuzzer(w, asyncio.get_running_loop(), errors)
            try:
                await asyncio.to_thread(run_all_phases, fuzz)
                await w.idle()
            finally:
                fuzz.close()
            elapsed = time.monotonic() - started
            group_keys = {g.key for g in w.config.groups}
            print(
                f"\nfuzz: {fuzz.sent} updates in {fuzz.examples} examples, {elapsed:.1f} s; "
                f"{len(w.emu.api_errors)} acceptable API errors "
                f"({sorted({e['description'][:40] for e in w.emu.api_errors})}); "
                f"{statistics(w.db_path)}"
            )
            assert errors.texts() == []
            assert w.emu.internal_errors == []
            assert fuzz.api_faults() == []
            assert check_transcripts(w) == []
            assert check_invariants(w.db_path, group_keys) == []
            assert fuzz.sent >= MIN_UPDATES
    finally:
        for logger in loggers:
            logger.removeHandler(errors)


def statistics(db_path: Path) -> str:
    """What the fuzz left behind (printed with -s): tips, rewards, refusals."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tips = dict(con.execute("SELECT state, COUNT(*) FROM tips GROUP BY state").fetchall())
        outcomes = dict(
            con.execute("SELECT outcome, COUNT(*) FROM tips GROUP BY outcome").fetchall()
        )
        rewards = dict(con.execute("SELECT state, COUNT(*) FROM rewards GROUP BY state").fetchall())
        refused = con.execute(
            "SELECT COUNT(*) FROM events WHERE action LIKE 'refused:%'"
        ).fetchone()[0]
        ledger = con.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    finally:
        con.close()
    return (
        f"tips {tips}, outcomes {outcomes}, rewards {rewards}, "
        f"{ledger} ledger entries, {refused} refusals recorded"
    )


def run_all_phases(fuzz: Fuzzer) -> None:
    sweep_every_kind_at_every_step(fuzz)
    fuzz_reporter_flow(fuzz)
    fuzz_anyone_anywhere(fuzz)
    fuzz_patrol_and_rewards(fuzz)
    burst(fuzz)


def burst(fuzz: Fuzzer) -> None:
    """One person sends more than the flood guard lets through: the excess is dropped and
    the bot says so once, instead of answering every message."""
    start = len(fuzz.w.bot_msgs(STRANGER))

    def body() -> None:
        for i in range(1_100):
            fuzz.send(STRANGER, STRANGER, ("sticker",) if i % 2 else ("text", "冷"))

    fuzz.example(("burst", 1_100), body)
    said = [m["raw_text"] for m in fuzz.w.bot_msgs(STRANGER)[start:]]
    assert 0 < said.count(CATALOGS["zh"]["flood"]) <= 2, said.count(CATALOGS["zh"]["flood"])
    assert len(said) < 1_100 * 2  # not an answer (and a prompt) for every dropped message


SETTINGS = {
    "deadline": None,
    "database": None,
    "derandomize": False,
    "phases": (Phase.explicit, Phase.generate),
    "suppress_health_check": list(HealthCheck),
}

SWEEP_KINDS: tuple[tuple, ...] = (
    ("text", "一个人躺在长椅上"),
    ("text", "\u202e\u200b\x00" + "𝕏" * 5 + "e\u0301"),
    ("text", "字" * 10_000),
    ("text", "<b>&amp;</i>"),
    ("text", "/report junk"),
    ("location", CENTRE, None),
    ("location", (90.0, 180.0), None),
    ("location", (-90.0, -180.0), 60),
    ("location", OUTSIDE, None),
    ("location", (1e308, -1e308), None),
    ("venue", CENTRE, "黄石广场" * 300, "<b>" * 300),
    ("photo", True, None),
    ("photo", False, None),
    ("photo", True, "说明" * 600),
    ("document", "image/jpeg", "IMG_0001.jpg"),
    ("document", "application/pdf", "a.pdf"),
    ("voice",),
    ("video",),
    ("sticker",),
    ("contact", "+8613800000001", "self"),
    ("contact", "13800000000", "other"),
    ("edited", "改过的字"),
    ("channel_post", "频道消息"),
    ("my_chat_member", "kicked"),
    ("document", "image/png", "名.png"),
    ("unknown", "poll"),
    ("unknown", "dice"),
    ("unknown", "story"),
    ("unknown", "video_note"),
    ("unknown", "audio"),
    ("unknown", "members"),
    ("unknown", "future"),
    ("update_of_unknown_kind",),
    ("press", "@real", 1.0),
    ("press", "r:submit", 1.0),
    ("press", "tip:claim:1", -1.0),
)


def sweep_every_kind_at_every_step(fuzz: Fuzzer) -> None:
    """Deterministic: each message type at each step, for a reporter and a hotline officer."""
    for uid, source in ((REPORTER, Source.REPORTER), (OFFICER, Source.HOTLINE)):
        for step in Step:
            for update in SWEEP_KINDS:

                def body(
                    uid: int = uid, source: Source = source, step: Step = step, update=update
                ) -> None:
                    fuzz.put_at_step(uid, step, source)
                    fuzz.send(uid, uid, update)

                fuzz.example((uid, step, update), body)


def fuzz_reporter_flow(fuzz: Fuzzer) -> None:
    kinds = message_kinds(commands(fuzz.commands))

    @settings(max_examples=800, **SETTINGS)
    @given(
        uid=st.sampled_from(FLOW_USERS),
        step=st.sampled_from(list(Step)),
        updates=st.lists(kinds, min_size=2, max_size=16),
        finish=st.sampled_from((True, False, False)),
    )
    def flow(uid: int, step: Step, updates: list[tuple], finish: bool) -> None:
        source = Source.HOTLINE if uid == OFFICER else Source.REPORTER

        def body() -> None:
            fuzz.put_at_step(uid, step, source)
            for update in updates:
                fuzz.send(uid, uid, update)
            if finish:  # whatever the fuzz put in the report goes all the way to a card
                fuzz.settle()
                fuzz.finish_report(uid)

        fuzz.example((uid, step, updates, finish), body)

    flow()


def fuzz_anyone_anywhere(fuzz: Fuzzer) -> None:
    kinds = message_kinds(commands(fuzz.commands))
    who_where = st.tuples(st.sampled_from(EVERYONE), st.sampled_from(CHAT_KEYS))

    @settings(max_examples=400, **SETTINGS)
    @given(updates=st.lists(st.tuples(who_where, kinds), min_size=6, max_size=24))
    def anywhere(updates: list[tuple]) -> None:
        def body() -> None:
            for (uid, key), update in updates:
                fuzz.send(uid, chat_of(uid, key), update)

        fuzz.example(updates, body)

    anywhere()


# The patrol's and the officer's side, on real tips and rewards. Who acts is a role relative
# to the tip (its group's member or leader, its claimer, the officer, the other group, a
# stranger, its reporter); most actions go to the few newest tips, so that tips really move
# through claim → go → arrive → outcome and rewards through approve → pay → reverse.
picks = st.floats(0, 1, exclude_max=True)
ROLES = ("member", "member", "leader", "claimer", "claimer", "officer", "other", "stranger")
OUTCOMES = [o.value for o in Outcome]
tip_op = st.one_of(
    st.tuples(st.just("next"), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("next"), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("progress"), st.sampled_from([o.value for o in VERIFIED_OUTCOMES])),
    st.tuples(st.just("progress"), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("tip"), st.sampled_from(("claim", "release", "go", "arrive"))),
    st.tuples(st.just("tip"), st.sampled_from(("back", "show", "dups", "askr"))),
    st.tuples(st.just("ask"), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("close"), st.sampled_from(OUTCOMES), st.integers(0, 40)),
    st.tuples(st.just("dup_of"), picks),
    st.tuples(st.just("sup"), st.integers(-1, 40)),
    st.tuples(
        st.just("evidence"), st.sampled_from(("photo", "voice", "video", "document", "sticker"))
    ),
)
reward_op = st.one_of(
    st.tuples(st.just("rw"), st.sampled_from(("ok", "ok", "no", "pay", "amt", "tel"))),
    st.tuples(st.just("rw_m"), st.sampled_from(("wechat", "alipay", "bank", "cash", "x"))),
    st.tuples(st.just("pay"), st.sampled_from(("wechat", "cash")), texts_small | st.just("T-1")),
    st.tuples(st.just("claim_cmd"), st.sampled_from(("AAAAAA", "", "a b", "ABC234")) | texts),
    st.tuples(st.just("reverse_cmd"), st.sampled_from(("", "打错了账户")) | texts),
)
field_action = st.one_of(
    st.tuples(st.just("submit"), inside, st.sets(st.sampled_from(list(Flag))), texts_small),
    st.tuples(st.just("act"), st.sampled_from(ROLES), picks, tip_op),
    st.tuples(st.just("act"), st.sampled_from(ROLES), picks, tip_op),
    st.tuples(st.just("act"), st.sampled_from(ROLES), picks, tip_op),
    st.tuples(st.just("act"), st.sampled_from(ROLES), picks, tip_op),
    st.tuples(
        st.just("reward"), st.sampled_from((OFFICER, OFFICER, OFFICER, G1_LEADER, STRANGER)), picks
    ).flatmap(lambda head: reward_op.map(lambda op: (*head, op))),
    st.tuples(st.just("typed"), st.sampled_from((OFFICER, G1_MEMBER)), texts | st.just("200")),
    st.tuples(st.just("withdraw"), st.sampled_from(PUBLIC), picks),
    st.tuples(st.just("mytips"), st.sampled_from(PUBLIC)),
    st.tuples(st.just("officer_cmd"), st.sampled_from(("/open", "/rewards", "/ledger"))),
)


def fuzz_patrol_and_rewards(fuzz: Fuzzer) -> None:
    for _ in range(4):  # a few tips to start with
        submit_real_tip(fuzz, REPORTER, *CENTRE, set(), "长椅上")

    @settings(max_examples=300, **SETTINGS)
    @given(
        advance=st.sampled_from((0, 0, 0, 0, 7, 90, 60 * 24, 60 * 24 * 40)),
        actions=st.lists(field_action, min_size=4, max_size=16),
    )
    def field(advance: int, actions: list[tuple]) -> None:
        def body() -> None:
            if advance:
                fuzz.run(_advance(fuzz.w, advance))
            for action in actions:
                field_step(fuzz, action)

        fuzz.example((advance, actions), body)

    field()


async def _advance(w: World, minutes: int) -> None:
    w.clock.advance(minutes=minutes)


def _pick(rows: list, where: float) -> Any:
    """Mostly one of the newest rows (so that they progress), sometimes any."""
    if not rows:
        return None
    if where < 0.8:
        recent = rows[-6:]
        return recent[int(where / 0.8 * len(recent))]
    return rows[int((where - 0.8) / 0.2 * len(rows))]


def _person(fuzz: Fuzzer, role: str, tip: dict, where: float) -> int:
    groups = {g.key: g for g in fuzz.w.config.groups}
    team = groups.get(tip["group_key"])
    other = next((g for k, g in groups.items() if k != tip["group_key"]), None)
    members = sorted(team.members) if team else [G1_MEMBER]
    if role == "member":
        return members[int(where * 1000) % len(members)]
    if role == "leader":
        return team.leader if team else G1_LEADER
    if role == "claimer":
        return tip["claimed_by"] or members[0]
    if role == "officer":
        return OFFICER
    if role == "other":
        return sorted(other.members)[0] if other else G2_MEMBER
    if role == "reporter":
        return tip["reporter_id"] or REPORTER
    return STRANGER


NEXT_OP = {
    State.NEW.value: "claim",
    State.DISPATCHED.value: "claim",
    State.CLAIMED.value: "arrive",
    State.EN_ROUTE.value: "arrive",
}


def field_step(fuzz: Fuzzer, action: tuple) -> None:
    emu = fuzz.emu
    head = action[0]
    if head == "submit":
        _, (lat, lon), flags, words = action
        submit_real_tip(fuzz, REPORTER if len(words) % 2 else REPORTER_EN, lat, lon, flags, words)
        return
    if head == "typed":
        fuzz.send(action[1], action[1], ("text", action[2]))
        return
    if head == "mytips":
        fuzz.send(action[1], action[1], ("text", "/mytips"))
        return
    if head == "officer_cmd":
        fuzz.send(OFFICER, OFFICER, ("text", action[1]))
        return
    tips = [dict(r) for r in fuzz.db.execute("SELECT * FROM tips ORDER BY id")]
    if head == "withdraw":
        _, uid, where = action
        tip = _pick(tips, where)
        fuzz.press(uid, uid, f"r:wd:{tip['id'] if tip else 1}", 1.0)
        return
    if head == "reward":
        reward_step(fuzz, tips, *action[1:])
        return
    _, role, where, (op, *rest) = action
    tip = _pick(tips, where)
    if tip is None:
        return
    if op == "progress":  # the next step, by someone allowed to take it
        op, role = "next", ("member" if tip["claimed_by"] is None else "claimer")
    uid = _person(fuzz, role, tip, where)
    tid = tip["id"]
    cards = [
        (r["chat_id"], r["message_id"])
        for r in fuzz.db.execute(
            "SELECT chat_id, message_id FROM messages WHERE tip_id = ? AND kind = 'card'"
            " ORDER BY chat_id",
            (tid,),
        )
    ]
    # The group's card (the officer sometimes uses a copy in their own chat).
    chat_id, mid = cards[0] if cards else (uid, None)
    if uid == OFFICER and len(cards) > 1 and where > 0.5:
        chat_id, mid = cards[-1]
    if chat_id > 0 and chat_id != uid:
        chat_id, mid = uid, fuzz.bot_message(uid, 1.0)
    if op == "evidence":
        if mid is None:
            return
        kind = rest[0]
        if kind == "photo":
            emu.send_photo(uid, chat_id=chat_id, reply_to=mid)
        elif kind == "voice":
            emu.send_voice(uid, chat_id=chat_id, reply_to=mid)
        elif kind == "video":
            emu.send_video(uid, chat_id=chat_id, reply_to=mid)
        elif kind == "document":
            emu.send_document(
                uid, b"%PDF-1.4", "report.pdf", "application/pdf", chat_id=chat_id, reply_to=mid
            )
        else:
            emu.send_sticker(uid, chat_id=chat_id)
        fuzz.sent += 1
        return
    if op == "next":
        data = f"tip:{NEXT_OP.get(tip['state'], 'close')}:{tid}"
        if tip["state"] == State.ON_SCENE.value:
            data = f"tip:close:{tid}:{rest[0]}"
            if rest[0] == Outcome.SUPPLIES_ONLY.value:
                data += ":3"
            elif rest[0] == Outcome.DUPLICATE.value:
                data += f":{tips[0]['id']}"
    elif op == "tip":
        data = f"tip:{rest[0]}:{tid}"
    elif op == "ask":
        data = f"tip:ask:{tid}:{rest[0]}"
    elif op == "sup":
        data = f"tip:sup:{tid}:n:{rest[0]}"
    elif op == "dup_of":
        other = _pick(tips, rest[0])
        data = f"tip:close:{tid}:duplicate:{other['id']}"
    else:  # close
        outcome, number = rest
        data = f"tip:close:{tid}:{outcome}"
        if outcome in (Outcome.SUPPLIES_ONLY.value, Outcome.DUPLICATE.value):
            data += f":{number}"
    emu.press_button(uid, chat_id, mid or 999_999, data)
    fuzz.sent += 1


def reward_step(fuzz: Fuzzer, tips: list[dict], uid: int, where: float, op: tuple) -> None:
    rewards = [dict(r) for r in fuzz.db.execute("SELECT id, tip_id FROM rewards ORDER BY id")]
    reward = _pick(rewards, where)
    rid = reward["id"] if reward else 1
    code = next((t["code"] for t in tips if reward and t["id"] == reward["tip_id"]), "HS-0001")
    kind, *rest = op
    if kind == "rw":
        fuzz.press(uid, uid, f"rw:{rest[0]}:{rid}", 1.0)
    elif kind == "rw_m":
        fuzz.press(uid, uid, f"rw:m:{rid}:{rest[0]}", 1.0)
    elif kind == "pay":  # the whole payment: method, typed reference, the promised amount
        method, reference = rest
        fuzz.press(uid, uid, f"rw:m:{rid}:{method}", 1.0)
        fuzz.send(uid, uid, ("text", reference))
        fuzz.press(uid, uid, f"rw:amt:{rid}", 1.0)
    elif kind == "claim_cmd":
        fuzz.send(uid, uid, ("text", f"/claim {code} {rest[0]}"))
    else:
        fuzz.send(uid, uid, ("text", f"/reverse {code} {rest[0]}"))


def submit_real_tip(
    fuzz: Fuzzer, uid: int, lat: float, lon: float, flags: set[Flag], words: str
) -> None:
    """A whole report, submitted with the review's own button (so there are real tips)."""
    draft = Draft(user_id=uid).with_location(lat, lon, None, None)
    draft = replace(
        draft,
        step=Step.REVIEW,
        seen=Seen.HOUR,
        people=People.TWO,
        flags=frozenset(flags),
        description=" ".join(words.split())[:200] or None,
    )
    fuzz.run(fuzz.w.services.reports.save(draft))
    fuzz.send(uid, uid, ("sticker",))  # the review is shown again, with its buttons
    fuzz.settle()
    mid = fuzz.bot_message(uid, 1.0)
    while mid and "r:submit" not in fuzz.real_buttons(uid, mid):
        mid -= 1
    if mid:
        fuzz.emu.press_button(uid, uid, mid, "r:submit")
        fuzz.sent += 1
        fuzz.settle()


def test_catalog_pattern_recognises_catalog_messages_only() -> None:
    pattern = _catalog_patterns()
    assert from_catalog(CATALOGS["zh"]["button.invalid"], pattern)
    assert from_catalog(CATALOGS["en"]["private_only"] + "\n\nmore", pattern)
    assert not from_catalog("Traceback (most recent call last):", pattern)
    assert not from_catalog("一个人躺在长椅上", pattern)


def test_invariants_catch_inconsistent_data(tmp_path: Path) -> None:
    """The checker itself: a hand-made inconsistent database is reported."""
    db = tmp_path / "bad.sqlite3"
    con = sqlite3.connect(db)
    con.executescript(
        """
        CREATE TABLE tips (id INTEGER PRIMARY KEY, code TEXT, state TEXT, outcome TEXT,
            closed_at TEXT, closed_by INTEGER, group_key TEXT, duplicate_of INTEGER,
            supplies TEXT, claimed_by INTEGER, reporter_id INTEGER);
        CREATE TABLE events (id INTEGER PRIMARY KEY, tip_id INTEGER, actor_id INTEGER,
            action TEXT, from_state TEXT, to_state TEXT);
        CREATE TABLE rewards (id INTEGER PRIMARY KEY, tip_id INTEGER, reporter_id INTEGER,
            state TEXT);
        CREATE TABLE ledger (id INTEGER PRIMARY KEY, reward_id INTEGER, tip_id INTEGER,
            entry TEXT);
        CREATE TABLE drafts (user_id INTEGER, step TEXT, data TEXT);
        CREATE TABLE outbox (id INTEGER PRIMARY KEY, status TEXT);
        INSERT INTO tips VALUES (1, 'HS-0001', 'closed', NULL, NULL, NULL, 'g9', NULL, NULL,
            7, 5);
        INSERT INTO events VALUES (1, 1, 5, 'submit', NULL, 'new');
        INSERT INTO events VALUES (2, 1, 7, 'claim', 'new', 'claimed');
        INSERT INTO rewards VALUES (1, 1, 5, 'paid');
        INSERT INTO ledger VALUES (1, 2, 1, 'paid');
        """
    )
    con.commit()
    con.close()
    problems = check_invariants(db, {"g1", "g2"})
    text = "\n".join(problems)
    for expected in (
        "state closed with outcome None",
        "not configured",
        "does not start with submit",
        "whose incident is not verified",
        "ledger entries without a reward",
    ):
        assert expected in text, problems


# -- what the fuzz found, pinned down ------------------------------------------------------


@pytest.mark.usefixtures("clean_log")
async def test_submit_pressed_where_there_is_no_keyboard_still_gives_the_code(
    tmp_path: Path,
) -> None:
    """The tip is saved before the buttons are tidied: a tidy-up that cannot happen (no
    keyboard left to remove) must not swallow the receipt with the code and claim secret."""
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "/help")
        plain_message = await w.next_bot(REPORTER)
        assert not w.buttons(plain_message)
        fuzzer = Fuzzer(w, asyncio.get_running_loop(), ErrorLog())
        draft = replace(
            Draft(user_id=REPORTER).with_location(*CENTRE, None, None),
            step=Step.REVIEW,
            seen=Seen.NOW,
            people=People.ONE,
        )
        await w.services.reports.save(draft)
        await w.press_data(REPORTER, REPORTER, plain_message["message_id"], "r:submit")
        done = await w.next_bot(REPORTER, "HS-0001")
        assert re.search(r"[A-Z2-9]{6}", done["text"])  # the claim secret came with it
        await w.idle()
        assert fuzzer.api_faults() == []


@pytest.mark.usefixtures("clean_log")
async def test_a_button_on_a_message_that_is_gone_still_moves_the_report_on(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(REPORTER, "/start")
        await w.idle()
        placed = Draft(user_id=REPORTER).with_location(*CENTRE, None, None)
        await w.services.reports.save(replace(placed, step=Step.SEEN))
        w.mark(REPORTER)
        answer = await w.press_data(REPORTER, REPORTER, 999_999, "r:seen:now")
        assert answer.get("text") is None  # answered quietly, not with an error
        await w.next_bot(REPORTER, tr("zh", "ask.people"))
        assert (await w.repo.drafts.get(REPORTER)).step is Step.PEOPLE


@pytest.mark.usefixtures("clean_log")
async def test_pressing_back_twice_is_harmless(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await dispatched(w)
        for _ in range(2):
            answer = await w.press_data(
                G1_MEMBER, G1_CHAT, card["message_id"], f"tip:back:{tip.id}"
            )
            assert not answer.get("show_alert")
        assert (await w.repo.tips.get(tip.id)).state is State.DISPATCHED


@pytest.mark.usefixtures("clean_log")
async def test_duplicates_never_form_a_loop(tmp_path: Path) -> None:
    """A duplicate of B, B of C: C may not then be marked a duplicate of A."""
    async with world(tmp_path) as w:
        a, card_a = await dispatched(w)
        b, card_b = await dispatched(w)
        c, card_c = await dispatched(w)
        for tip, card, original in ((a, card_a, b), (b, card_b, c)):
            answer = await w.press_data(
                G1_MEMBER,
                G1_CHAT,
                card["message_id"],
                f"tip:close:{tip.id}:duplicate:{original.id}",
            )
            assert tip.code in answer["text"]
        answer = await w.press_data(
            G1_MEMBER, G1_CHAT, card_c["message_id"], f"tip:close:{c.id}:duplicate:{a.id}"
        )
        assert answer["text"] == CATALOGS["zh"]["refused.bad_duplicate"]
        assert (await w.repo.tips.get(c.id)).state is State.DISPATCHED
        assert check_invariants(w.db_path, {"g1", "g2"}) == []


@pytest.mark.usefixtures("clean_log")
async def test_a_venue_with_an_endless_title_still_reaches_the_patrol(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_venue(REPORTER, *CENTRE, "标" * 5000, "<b>址</b>" * 1000)
        await pass_spot(w, REPORTER)
        await w.next_bot(REPORTER, tr("zh", "ask.seen"))
        draft = await w.repo.drafts.get(REPORTER)
        assert len(draft.place_label) <= 200 and len(draft.address) <= 200
        await w.services.reports.save(
            replace(draft, step=Step.REVIEW, seen=Seen.NOW, people=People.ONE)
        )
        w.emu.send_sticker(REPORTER)  # the review again, with its buttons
        review = await w.next_bot(REPORTER, review_head("zh"))
        await w.press_data(REPORTER, REPORTER, review["message_id"], "r:submit")
        code = CODE.search((await w.next_bot(REPORTER, "HS-"))["text"]).group(0)
        card = await w.wait_card(G1_CHAT, code)
        assert len(card["text"]) < 4096
        assert check_invariants(w.db_path, {"g1", "g2"}) == []  # no outbox item failed


def test_a_card_in_a_busy_spot_stays_within_telegrams_limit() -> None:
    """Hundreds of open tips within 250 m: the card names the nearest few."""
    tip = _pinned_tip()
    ctx = CardContext(group_name="第一小组", duplicates=[(f"HS-{i:04d}", 3) for i in range(400)])
    text = render_card(tip, ctx, "zh", zoneinfo.ZoneInfo("Asia/Shanghai"))
    shown, _ = parse_html(text)
    assert len(shown) < 4096 and "HS-0009" in shown and "HS-0010" not in shown
    assert "(+390)" in shown


def _pinned_tip() -> Tip:
    """A tip with every field as long as warmline lets it be."""
    return Tip(
        id=401,
        code="HS-0401",
        source="reporter",
        lat=CENTRE[0],
        lon=CENTRE[1],
        address="黄石广场" * 50,
        place_label="标" * 200,
        district="黄石港区",
        seen=Seen.NOW,
        people=People.ONE,
        flags=frozenset(Flag),
        description="长" * 500,
        state=State.DISPATCHED,
        outcome=None,
        duplicate_of=None,
        supplies=frozenset(),
        group_key="g1",
        claimed_by=None,
        closed_by=None,
        created_at=dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC),
        dispatched_at=dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC),
        claimed_at=None,
        arrived_at=None,
        closed_at=None,
        version=1,
    )
