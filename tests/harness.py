"""End-to-end harness: the real PTB Application over HTTP against the Bot API emulator.

Everything here is invented: users, ids, names, phone numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

from bot.app import Overrides, Station, build_application
from bot.config import Config, parse_config
from bot.db.database import Database
from bot.db.repo import Repo
from bot.db.tips import tip_of
from bot.domain import outbox as outbox_codec
from bot.domain.tips import Tip
from bot.geo.area import HUANGSHI
from bot.geo.geocoder import Geocoder
from bot.i18n import t
from bot.lifecycle import ALLOWED_UPDATES
from bot.sandbox.emulator import BotApiEmulator, parse_html
from bot.sandbox.runner import serving
from bot.services.notify import Notifier
from bot.services.registry import Services
from tests.clock import FakeClock as MovedClock
from tests.startproc import free_port

# -- the cast (all invented) ----------------------------------------------------------------
REPORTER = 5001  # 李小梅, a courier
REPORTER_EN = 5002  # Alex Doe
STRANGER = 5009
G1_CHAT, G2_CHAT = -1001000000111, -1001000000222
G1_LEADER, G1_MEMBER, G1_MEMBER2 = 7101, 7102, 7103
G2_LEADER, G2_MEMBER = 7201, 7202
OFFICER = 7901

NAMES = {
    REPORTER: ("小梅", "li_xiaomei_courier", "zh-hans"),
    REPORTER_EN: ("Alex", "alex_doe_rider", "en"),
    STRANGER: ("路人甲", "passerby_a", "zh-hans"),
    G1_LEADER: ("王组长", None, "zh-hans"),
    G1_MEMBER: ("赵队员", None, "zh-hans"),
    G1_MEMBER2: ("钱队员", None, "zh-hans"),
    G2_LEADER: ("孙组长", None, "zh-hans"),
    G2_MEMBER: ("周队员", None, "zh-hans"),
    OFFICER: ("吴值班", None, "zh-hans"),
}

#: How long a test waits for something that should happen (a reply, an edit, an idle outbox).
#: A bound on being stuck, not a speed check: on a busy 2-core machine a reply that takes
#: 50 ms when quiet can take seconds, and a wait that is met returns at once.
WAIT_S = 30.0

# A duty day anchor such that g1 is on duty on 2026-12-01 (after the 08:30 hand-over).
T0 = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)  # 21:00 in Huangshi

CENTRE = (30.2000, 115.0400)  # central Huangshi
OUTSIDE = (31.2304, 121.4737)  # Shanghai: outside the service area


def config_text(emu: BotApiEmulator, db_path: Path, **extra: str) -> str:
    return f"""
[telegram]
token = "{emu.token}"
base_url = "{extra.get("base_url", emu.base_url)}"
base_file_url = "{extra.get("base_file_url", emu.base_file_url)}"
rate_limiter = false
poll_timeout = 1
mode = "{extra.get("mode", "polling")}"
proxy = "{extra.get("proxy", "")}"

[web]
listen = "127.0.0.1"
# Any free port unless a test needs a known one (webhook mode: the address Telegram POSTs to).
port = {extra.get("web_port", "0")}
public_url = "{extra.get("public_url", "")}"

[station]
name = "黄石市救助管理站"
hotline = "0714-0000000"
database = "{db_path}"
language = "{extra.get("language", "zh")}"

[[groups]]
key = "g1"
name = "第一小组"
chat_id = {G1_CHAT}
leader = {G1_LEADER}
members = [{G1_MEMBER}, {G1_MEMBER2}]
{extra.get("g1", "")}

[[groups]]
key = "g2"
name = "第二小组"
chat_id = {G2_CHAT}
leader = {G2_LEADER}
members = [{G2_MEMBER}]

[roster]
anchor = 2026-12-01
handover = "08:30"
order = ["g1", "g2"]

[officers]
user_ids = [{OFFICER}]

[geocoder]
provider = "{extra.get("provider", "offline")}"
domain = "{extra.get("domain", "127.0.0.1:9")}"
scheme = "http"
timeout = 1.0

[reporting]
max_open_tips_per_hour = {extra.get("max_per_hour", "3")}
flood_max_updates = {extra.get("flood_max", "200")}
# Off unless a test is about digests: most tests look for one card per tip.
digest_threshold = {extra.get("digest", "0")}
{extra.get("sections", "")}
"""


def notice_key(payload: str | dict) -> str:
    """The catalog key a queued notice opens with (its first message)."""
    data = json.loads(payload) if isinstance(payload, str) else payload
    text = outbox_codec.decode("notice", data).text
    while isinstance(text, outbox_codec.Lines):
        text = text.parts[0]
    assert isinstance(text, outbox_codec.Msg), text
    return text.key


class FakeClock(MovedClock):
    def __init__(self, start: dt.datetime = T0) -> None:
        super().__init__(start)


@dataclass
class World:
    emu: BotApiEmulator
    config: Config
    clock: FakeClock
    app: Any
    db_path: Path
    marks: dict[int, int] = field(default_factory=dict)
    #: Per chat, how many times each bot message had been edited when last looked at: a press
    #: makes the pressed message the next question (an edit), so :meth:`next_bot` follows
    #: edits made after the mark as well as new messages.
    edits_seen: dict[int, dict[int, int]] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        """The bot's own web server (``/telegram``, ``/healthz``), once listening."""
        return self.app.bot_data["web"].url

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    @property
    def station(self) -> Station:
        return self.app.bot_data["station"]

    @property
    def repo(self) -> Repo:
        return self.station.repo

    @property
    def notifier(self) -> Notifier:
        """To queue a message as a service would (the commit wakes the sender)."""
        station = self.station
        return Notifier(station.repo.outbox, station.reach, station.clock, "zh")

    # -- reading the database (what only tests ask) --------------------------------------------
    async def tip_by_code(self, code: str) -> Tip | None:
        row = await self.station.db.fetchone("SELECT * FROM tips WHERE code = ?", (code,))
        return tip_of(row) if row else None

    async def schedule_log(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM schedule_log", ()
        if kind is not None:
            sql, params = sql + " WHERE kind = ?", (kind,)
        rows = await self.station.db.fetchall(sql + " ORDER BY done_at, slot", params)
        return [dict(r) for r in rows]

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self.station.db.fetchall(
            "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"
        )
        return {r["status"]: r["n"] for r in rows}

    async def chat_active(self, chat_id: int) -> bool:
        row = await self.station.db.fetchone(
            "SELECT active FROM chats WHERE chat_id = ?", (chat_id,)
        )
        return bool(row["active"]) if row else True

    # -- reading the chats ---------------------------------------------------------------------
    def bot_msgs(self, chat_id: int) -> list[dict]:
        return self.emu.bot_messages(chat_id)

    def mark(self, chat_id: int) -> None:
        """Remember how many bot messages a chat has and how often each was edited, to wait
        for the next ones (a new message, or one edited into the next question)."""
        messages = self.bot_msgs(chat_id)
        self.marks[chat_id] = len(messages)
        self.edits_seen[chat_id] = {m["message_id"]: len(m["edits"]) for m in messages}

    async def next_bot(
        self,
        chat_id: int,
        contains: str | None = None,
        timeout: float = WAIT_S,  # noqa: ASYNC109
    ) -> dict:
        """The first bot message after the mark (that contains ``contains``); else an older
        one edited since the mark that does (the pressed message made the next question)."""
        start = self.marks.get(chat_id, 0)
        seen = self.edits_seen.setdefault(chat_id, {})

        def fits(message: dict) -> bool:
            return contains is None or contains in (message.get("text") or "")

        def found() -> dict | None:
            messages = self.bot_msgs(chat_id)
            for message in messages[start:]:
                if fits(message):
                    return message
            for message in messages[:start]:
                edited = len(message["edits"]) > seen.get(message["message_id"], 0)
                # (with buttons: an older message merely losing its buttons is no question)
                if edited and message.get("reply_markup") and fits(message):
                    return message
            return None

        try:
            message = await self.emu.until(found, timeout=timeout)
        except TimeoutError:
            texts = [m.get("text") for m in self.bot_msgs(chat_id)[start:]]
            edited = [
                m.get("text")
                for m in self.bot_msgs(chat_id)[:start]
                if len(m["edits"]) > seen.get(m["message_id"], 0)
            ]
            raise AssertionError(
                f"no bot message with {contains!r} in {chat_id}: {texts} (edited: {edited})"
            ) from None
        seen[message["message_id"]] = len(message["edits"])
        index = next(
            i
            for i, m in enumerate(self.bot_msgs(chat_id))
            if m["message_id"] == message["message_id"]
        )
        self.marks[chat_id] = max(start, index + 1)
        return message

    async def until(self, predicate: Callable[[], Any], timeout: float = WAIT_S) -> Any:  # noqa: ASYNC109
        return await self.emu.until(predicate, timeout=timeout)

    def message(self, chat_id: int, message_id: int) -> dict:
        message = self.emu.message(chat_id, message_id)
        assert message is not None
        return message

    async def settle(self) -> None:
        """Wait until the bot has consumed every update and the outbox is empty."""
        sender = self.app.bot_data["outbox"]
        await self.emu.until(lambda: self.emu.pending_updates() == 0, timeout=WAIT_S)
        await sender.flush()

    def buttons(self, message: dict) -> list[str]:
        markup = message.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    async def press(self, user: int, chat_id: int, message: dict, text: str) -> dict | None:
        """Press a button by its text; returns the callback answer."""
        qid = self.emu.press(user, chat_id, message["message_id"], text=text)
        return await self.emu.until(lambda: self.emu.callback_answer(qid), timeout=WAIT_S)

    async def press_data(self, user: int, chat_id: int, message_id: int, data: str) -> dict:
        qid = self.emu.press_button(user, chat_id, message_id, data)
        return await self.emu.until(lambda: self.emu.callback_answer(qid), timeout=WAIT_S)

    def card(self, chat_id: int, code: str) -> dict | None:
        for message in self.bot_msgs(chat_id):
            if (message.get("text") or "").startswith(("🔴", "🟠")) and code in message["text"]:
                return message
        return None

    async def wait_card(self, chat_id: int, code: str, contains: str | None = None) -> dict:
        def ready() -> dict | None:
            card = self.card(chat_id, code)
            if card and (contains is None or contains in card["text"]):
                return card
            return None

        try:
            return await self.emu.until(ready, timeout=WAIT_S)
        except TimeoutError:
            raise AssertionError(
                f"card {code} with {contains!r} not in {chat_id}: {self.card(chat_id, code)}"
            ) from None

    # -- helpers added for the role-by-role end-to-end tests -----------------------------------
    async def roundtrip(self, user: int, chat_id: int | None = None) -> dict:
        """Send /whoami and wait for its answer. One person's updates are handled in order
        (see bot/handlers/processor.py), so once it is answered every update *this user* sent
        before has been handled too. Returns the /whoami answer."""
        chat = chat_id if chat_id is not None else user
        before = len(self.bot_msgs(chat))
        self.emu.send_text(user, "/whoami", chat_id=chat_id)

        def answered() -> dict | None:
            for message in self.bot_msgs(chat)[before:]:
                if f"{user}" in (message.get("text") or "") and f"{chat}" in message["text"]:
                    return message
            return None

        return await self.emu.until(answered, timeout=WAIT_S)

    async def idle(self, timeout: float = WAIT_S) -> None:  # noqa: ASYNC109
        """Wait until every update sent so far has been handled (by whichever user) and the
        outbox has delivered everything. ``timeout`` bounds each wait (a big burst on a busy
        2-core machine needs longer; this is a bound on waiting, not a speed check)."""
        await self.emu.until(lambda: self.emu.pending_updates() == 0, timeout=timeout)
        # The updater confirms a batch (next getUpdates offset) only after queueing it, and
        # each update is marked done once its handlers have finished.
        await asyncio.wait_for(self.app.update_queue.join(), timeout=timeout)
        await self.outbox_idle(timeout)

    async def next_of_kind(self, chat_id: int, kind: str) -> dict:
        """The first bot message of ``kind`` (venue, location, photo...) after the mark."""
        start = self.marks.get(chat_id, 0)

        def found() -> dict | None:
            for message in self.bot_msgs(chat_id)[start:]:
                if message["kind"] == kind:
                    return message
            return None

        try:
            message = await self.emu.until(found, timeout=WAIT_S)
        except TimeoutError:
            kinds = [m["kind"] for m in self.bot_msgs(chat_id)[start:]]
            raise AssertionError(f"no bot {kind} in {chat_id}: {kinds}") from None
        self.marks[chat_id] = self.bot_msgs(chat_id).index(message) + 1
        return message

    async def outbox_idle(self, timeout: float = WAIT_S) -> None:  # noqa: ASYNC109
        """Wait until the outbox has delivered everything it holds."""

        async def idle() -> bool:
            counts = await self.outbox_counts()
            # "sending": claimed by the sender and on its way, not delivered yet.
            return counts.get("pending", 0) + counts.get("sending", 0) == 0

        await self.emu.until(idle, timeout=timeout)

    async def quiet(self, chat_id: int) -> list[dict]:
        """Bot messages in the chat after the mark, once everything sent so far was handled.
        ``[]`` proves the bot said nothing."""
        await self.idle()
        return self.bot_msgs(chat_id)[self.marks.get(chat_id, 0) :]

    async def answer_text(self, user: int, chat_id: int, message_id: int, data: str) -> str:
        """Press a (possibly forged) button by its data; the callback answer's text."""
        answer = await self.press_data(user, chat_id, message_id, data)
        return answer.get("text") or ""

    async def events_named(self, prefix: str) -> list[dict[str, Any]]:
        return [e for e in await self.repo.events.of() if e["action"].startswith(prefix)]

    def api_faults(self) -> list[dict]:
        """Bot API calls the emulator refused, except the harmless "not modified" edits."""
        return [
            e for e in self.emu.api_errors if "not modified" not in e["description"].lower()
        ] + self.emu.internal_errors


def plain(html: str) -> str:
    """What a chat shows for an HTML message (tags dropped, entities decoded)."""
    return parse_html(html)[0]


def tr(lang: str, key: str, /, **params: object) -> str:
    """A catalog message as the chat shows it."""
    return plain(t(lang, key, **params))


CODE = re.compile(r"HS-\d{4}")


async def submit_tip(
    w: World,
    user: int,
    *,
    lang: str = "zh",
    where: tuple[float, float] = CENTRE,
    seen: str = "now",
    people: str = "1",
    flags: tuple[str, ...] = (),
    description: str | None = None,
    photo: bool = False,
    spot: str | None = None,
) -> str:
    """Play a reporter's whole flow from a bare location, using catalog texts; the tip's code."""
    w.mark(user)
    w.emu.send_location(user, *where)
    await w.next_bot(user, tr(lang, "location.ok"))
    review = await answer_questions(
        w,
        user,
        lang=lang,
        seen=seen,
        people=people,
        flags=flags,
        description=description,
        photo=photo,
        spot=spot,
    )
    return await send_review(w, user, review, lang=lang)


async def answer_questions(
    w: World,
    user: int,
    *,
    lang: str = "zh",
    seen: str = "now",
    people: str = "1",
    flags: tuple[str, ...] = (),
    description: str | None = None,
    photo: bool = False,
    spot: str | None = None,
) -> dict:
    """From the message after the place (the exact spot: ``spot``, a choice's value, or
    skipped) through the "when" question to the review; returns the review message."""
    await pass_spot(w, user, lang=lang, spot=spot)
    ask = await w.next_bot(user, tr(lang, "ask.seen"))
    await w.press(user, user, ask, tr(lang, f"seen.{seen}"))
    ask = await w.next_bot(user, tr(lang, "ask.people"))
    await w.press(user, user, ask, tr(lang, f"people.{people}"))
    ask = await w.next_bot(user, tr(lang, "ask.flags"))
    for flag in flags:
        await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, f"flag.{flag}"))
    await w.press(user, user, w.message(user, ask["message_id"]), tr(lang, "btn.flags_done"))
    ask = await w.next_bot(user, tr(lang, "ask.description"))
    if description is None:
        await w.press(user, user, ask, tr(lang, "btn.skip"))
    else:
        w.emu.send_text(user, description)
    ask = await w.next_bot(user, tr(lang, "ask.photo"))
    if photo:
        w.emu.send_photo(user)
        await w.next_bot(user, tr(lang, "photo.ok"))
    else:
        await w.press(user, user, ask, tr(lang, "btn.skip"))
    return await w.next_bot(user, review_head(lang))


def spot_head(lang: str) -> str:
    """The first line of the message after the place ("具体在哪个位置？…")."""
    return tr(lang, "ask.spot").split("\n")[0]


async def pass_spot(w: World, user: int, *, lang: str = "zh", spot: str | None = None) -> dict:
    """At the message after the place: choose ``spot`` (a quick choice's value) or not, then
    "more details" (the full path); returns that message."""
    hub = await w.next_bot(user, spot_head(lang))
    if spot is not None:
        await w.press(user, user, hub, tr(lang, f"spot.{spot}"))
        await w.until(lambda: "✅" in str(w.message(user, hub["message_id"])["reply_markup"]))
    key = "btn.spot_more" if spot is not None else "btn.spot_skip"
    await w.press(user, user, w.message(user, hub["message_id"]), tr(lang, key))
    return hub


def asked(record: list[str] | tuple[str, ...], question: str) -> str:
    """What a pressed message of the report shows once it has become the next question (as
    the chat shows it): the record of the answers given on it ("✓ 刚刚看到"), a blank line,
    the next question (plain text)."""
    return "\n".join(record) + "\n\n" + question if record else question


def review_head(lang: str) -> str:
    """The first line of the review ("请确认：")."""
    blank = dict.fromkeys(("place", "seen", "people", "flags", "description", "photo"), "")
    return tr(lang, "review", **blank).split("\n")[0]


async def send_review(w: World, user: int, review: dict, *, lang: str = "zh") -> str:
    """Press "send" on the review; the code the bot answers with."""
    await w.press(user, user, review, tr(lang, "btn.submit"))
    done = await w.next_bot(user, "HS-")
    match = CODE.search(done["text"])
    assert match, done["text"]
    return match.group(0)


async def dispatched(
    w: World, reporter: int = REPORTER, chat_id: int = G1_CHAT, **kwargs: Any
) -> tuple[Tip, dict]:
    """A tip reported by ``reporter`` (see :func:`submit_tip`) and its card in ``chat_id``."""
    code = await submit_tip(w, reporter, **kwargs)
    card = await w.wait_card(chat_id, code)
    tip = await w.tip_by_code(code)
    assert tip is not None
    return tip, card


@pytest.fixture
def clean_log(caplog: pytest.LogCaptureFixture):
    """Fail a test that logged an error (an unhandled exception in a handler, a card the
    outbox could not deliver...)."""
    caplog.set_level(logging.WARNING)
    yield caplog
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def cast(emu: BotApiEmulator) -> None:
    for user_id, (first, username, lang) in NAMES.items():
        emu.add_user(user_id, first, username=username, language_code=lang)
    emu.add_group(G1_CHAT, "第一小组 巡查")
    emu.add_group(G2_CHAT, "第二小组 巡查")


@asynccontextmanager
async def world(
    tmp_path: Path,
    *,
    geocoder: Geocoder | None = None,
    emu: BotApiEmulator | None = None,
    overrides: dict | None = None,
    db_path: Path | None = None,
    clock: FakeClock | None = None,
    mode: str = "polling",
    **extra: str,
) -> AsyncIterator[World]:
    """``sections``: more TOML appended to the config (e.g. ``[campaign]`` or ``[patrol]``).
    ``db_path`` and ``clock``: reuse a database and a clock across worlds (a restart).
    ``mode``: how updates arrive — "polling" (getUpdates) or "webhook" (the emulator POSTs
    them to the bot's ``/telegram`` on a free loopback port)."""
    overrides = overrides or {}
    if mode == "webhook" and "web_port" not in extra:
        port = free_port()
        extra = {**extra, "web_port": str(port), "public_url": f"http://127.0.0.1:{port}"}
    extra = {**extra, "mode": mode}
    own_emu = emu is None
    emu = emu or BotApiEmulator().start()
    cast(emu)
    db_path = db_path or tmp_path / "warmline.sqlite3"
    config = parse_config(config_text(emu, db_path, **extra), tmp_path / "config.toml", env={})
    clock = clock or FakeClock()
    # The ticker is off unless a test asks for it (overrides={"tick_seconds": ...}).
    seams = {"clock": clock, "geocoder": geocoder, "tick_seconds": None, **overrides}
    app = build_application(config, Overrides(**seams))
    try:
        # (webhook mode: serving() returns once setWebhook is done; updates are POSTed then)
        allowed = list(ALLOWED_UPDATES) if mode == "webhook" else None
        async with serving(app, allowed_updates=allowed):
            yield World(emu, config, clock, app, db_path)
        # Every end-to-end test also proves the privacy promise on its own transcripts.
        assert_no_reporter_identity_in_groups(emu, config)
    finally:
        if own_emu:
            emu.stop()


PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")


def assert_no_reporter_identity_in_groups(emu: BotApiEmulator, config: Config) -> None:
    """No group chat ever received a reporter's name, username, user id or phone number."""
    staff = {o for o in config.officers.user_ids}
    for group in config.groups:
        staff |= {group.leader, *group.members}
    with emu._lock:  # the emulator's own world: users and chats it knows
        users = dict(emu._users)
        groups = [cid for cid, chat in emu._chats.items() if chat.get("type") != "private"]
    reporters = {uid: u for uid, u in users.items() if uid not in staff}
    for chat_id in groups:
        for message in emu.transcript(chat_id, include_deleted=True):
            if not message.get("from_bot"):
                continue
            versions = [message, *message.get("edits", [])]
            for version in versions:
                parts = [version.get("text") or "", version.get("raw_text") or ""]
                markup = version.get("reply_markup") or {}
                for row in markup.get("inline_keyboard", []):
                    parts += [b.get("text", "") + " " + b.get("url", "") for b in row]
                blob = "\n".join(parts)
                assert not PHONE.search(blob), (chat_id, blob)
                for uid, user in reporters.items():
                    assert not re.search(rf"(?<!\d){uid}(?!\d)", blob), (chat_id, uid, blob)
                    for name in (user.get("first_name"), user.get("username")):
                        if name:
                            assert name not in blob, (chat_id, name, blob)


async def open_db(path: Path) -> tuple[Database, Repo]:
    db = await Database(path).open()
    return db, Repo(db)


def offline_geocoder() -> Geocoder:
    return Geocoder(provider="offline", area=HUANGSHI)
