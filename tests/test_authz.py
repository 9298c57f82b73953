"""Who may do what: every command and every button, against every kind of person, over HTTP.

The tables below are the expectation, written out by hand from the rules — the transition
table ``bot/domain/tips.py`` RULES (claim: anyone of the tip's group; release/go/arrive and the
outcomes of a claimed tip: its claimer, the leader, the duty officer; duplicate/invalid of an
unclaimed tip: anyone of the group), ``bot/domain/rewards.py`` (every reward step: duty
officers only), the officer-only commands (``/newtip /open /rewards /ledger /claim /reverse
/coldmode``) and the patrol log (``/patrol_start /patrol_end``: the group's own people and
officers, in the group's chat) and ``/hotspots`` (staff only). There is no separate admin
role in the code: the duty officer is the most trusted role a person can have in a chat.

People ("seats"): a stranger (a member of the public) in a private chat and inside the patrol
group's chat, a member of the *other* group, a member, the claimer of the tip, the leader and
the duty officer. Group seats are in group 1's chat, where group 1's tips are.

Each cell is checked end to end and means:

* ``A`` allowed — the expected reply arrives, and the expected change is in the database;
* ``D`` refused — a polite reply (or button answer) from the catalog, a ``refused:*`` event for
  that person, and nothing changed (tips, rewards, ledger, drafts, patrols, settings, typed
  answers awaited, phone numbers);
* ``P`` / ``G`` wrong kind of chat — the command works only in private chats (``P``: the
  catalog's ``private_only``) or only in a patrol group (``G``: ``patrol.group_only``); nothing
  changed. Using a command in the wrong chat is not an attempt on anything, so it is answered
  but not written to the audit log as a refusal.

One world for the module; every case that changes something gets fresh tips / rewards.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import CommandHandler

from bot.domain.draft import Draft, Source, Step
from bot.domain.officer_input import Ask, Awaiting
from bot.domain.rewards import PayMethod, RewardState
from bot.domain.tips import Action, Outcome, People, Seen, State, Tip
from bot.i18n import t
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    world,
)
from tests.test_fuzz import ErrorLog, check_invariants

# The async tests share one world (and so one event loop) for the module.
shared_world = pytest.mark.asyncio(loop_scope="module")

GROUP = "第一小组"  # group 1's name, as refusals name it
CLAIMER_NAME = NAMES[G1_MEMBER2][0]


@dataclass(frozen=True)
class Seat:
    user: int
    in_group: bool  # in group 1's chat; otherwise the person's private chat

    @property
    def chat(self) -> int:
        return G1_CHAT if self.in_group else self.user


SEATS = {
    "stranger.private": Seat(STRANGER, False),
    "stranger.group": Seat(STRANGER, True),
    "other.private": Seat(G2_MEMBER, False),
    "other.group": Seat(G2_MEMBER, True),
    "member.private": Seat(G1_MEMBER, False),
    "member.group": Seat(G1_MEMBER, True),
    "claimer.group": Seat(G1_MEMBER2, True),
    "leader.private": Seat(G1_LEADER, False),
    "leader.group": Seat(G1_LEADER, True),
    "officer.private": Seat(OFFICER, False),
    "officer.group": Seat(OFFICER, True),
}

# -- the tables ------------------------------------------------------------------------------

COMMAND_SEATS = (
    "stranger.private",
    "stranger.group",
    "other.private",
    "other.group",
    "member.private",
    "member.group",
    "leader.private",
    "leader.group",
    "officer.private",
    "officer.group",
)
# fmt: off
COMMANDS = {
    #                stranger   other      member     leader     officer
    #                priv grp   priv grp   priv grp   priv grp   priv grp
    "start":        "A    A     A    A     A    A     A    A     A    A",
    "help":         "A    A     A    A     A    A     A    A     A    A",
    "whoami":       "A    A     A    A     A    A     A    A     A    A",
    "language":     "A    P     A    P     A    P     A    P     A    P",
    "cancel":       "A    P     A    P     A    P     A    P     A    P",
    "report":       "A    P     A    P     A    P     A    P     A    P",
    "mytips":       "A    P     A    P     A    P     A    P     A    P",
    "newtip":       "D    D     D    D     D    D     D    D     A    P",
    "open":         "D    D     D    D     D    D     D    D     A    P",
    "rewards":      "D    D     D    D     D    D     D    D     A    P",
    "ledger":       "D    D     D    D     D    D     D    D     A    P",
    "claim":        "D    D     D    D     D    D     D    D     A    P",
    "reverse":      "D    D     D    D     D    D     D    D     A    P",
    "coldmode":     "D    D     D    D     D    D     D    D     A    P",
    "stats":        "D    D     D    D     D    D     D    D     A    P",
    "dashboard":    "D    P     D    P     D    P     A    P     A    P",
    "patrol_start": "G    D     G    D     G    A     G    A     G    A",
    "patrol_end":   "G    D     G    D     G    A     G    A     G    A",
    "hotspots":     "D    D     A    A     A    A     A    A     A    A",
}
# fmt: on
OFFICER_COMMANDS = (
    "newtip", "open", "rewards", "ledger", "claim", "reverse", "coldmode", "stats"
)
#: The refusal of a command refused to someone ("D"; else the patrol log's).
REFUSED_KEY = {
    **dict.fromkeys(OFFICER_COMMANDS, "refused.officer_only"),
    "hotspots": "hotspot.refused",  # staff only (issue 13)
    "dashboard": "dashboard.refused",  # officers (and leaders) only (issue 14)
}

TIP_SEATS = (
    "stranger.private",
    "stranger.group",
    "other.group",
    "member.group",
    "claimer.group",
    "leader.group",
    "officer.group",
)
# The tip's state before the press; the claimer (G1_MEMBER2) claimed it if it is claimed.
# fmt: off
TIP_BUTTONS = [
    # op                      state         str.p str.g other member claimer leader officer  event
    ("claim",                 "dispatched", "D    D     D     A      A       A      A", "claim"),
    ("release",               "claimed",    "D    D     D     D      A       A      A", "release"),
    ("go",                    "claimed",    "D    D     D     D      A       A      A", "go"),
    ("arrive",                "claimed",    "D    D     D     D      A       A      A", "arrive"),
    ("arrive",                "en_route",   "D    D     D     D      A       A      A", "arrive"),
    ("release",               "en_route",   "D    D     D     D      A       A      A", "release"),
    ("ask:brought_in",        "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("ask:hospital",          "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("ask:family",            "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("ask:not_found",         "en_route",   "D    D     D     D      A       A      A", "close"),
    ("ask:gone",              "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("ask:invalid",           "dispatched", "D    D     D     A      A       A      A", "close"),
    ("ask:invalid",           "claimed",    "D    D     D     D      A       A      A", "close"),
    ("sup",                   "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("dups",                  "dispatched", "D    D     D     A      A       A      A", "close"),
    ("dups",                  "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:brought_in",      "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:hospital",        "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:supplies_only",   "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:family",          "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:not_found",       "en_route",   "D    D     D     D      A       A      A", "close"),
    ("close:gone",            "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("close:duplicate",       "dispatched", "D    D     D     A      A       A      A", "close"),
    ("close:duplicate",       "claimed",    "D    D     D     D      A       A      A", "close"),
    ("close:invalid",         "dispatched", "D    D     D     A      A       A      A", "close"),
    ("close:invalid",         "on_scene",   "D    D     D     D      A       A      A", "close"),
    ("back",                  "on_scene",   "D    D     D     A      A       A      A", "back"),
    ("show",                  "dispatched", "D    D     D     D      D       D      A", "show"),
    ("askr",                  "dispatched", "D    D     D     A      A       A      A",
     "ask_reporter"),
]
# fmt: on

REWARD_SEATS = (
    "stranger.private",
    "stranger.group",
    "other.private",
    "member.private",
    "leader.private",
    "officer.private",
    "officer.group",
)
# Every reward step is the duty officer's, in their private chat (a phone number or a payment
# must never be asked for, or shown, in a group).
# fmt: off
REWARD_BUTTONS = [
    # op        reward state  str.p str.g other member leader off.p off.g   event
    ("ok",      "pending",    "D    D     D     D      D      A     P", "reward_approve"),
    ("no",      "pending",    "D    D     D     D      D      A     P", "reward_reject"),
    ("pay",     "approved",   "D    D     D     D      D      A     P", "reward_pay"),
    ("m:cash",  "approved",   "D    D     D     D      D      A     P", "reward_method"),
    ("amt",     "approved",   "D    D     D     D      D      A     P", "reward_amount"),
    ("tel",     "approved",   "D    D     D     D      D      A     P", "reward_phone"),
]
# fmt: on


def _cells(row: str, seats: tuple[str, ...]) -> dict[str, str]:
    cells = row.split()
    assert len(cells) == len(seats) and set(cells) <= {"A", "D", "P", "G"}, row
    return dict(zip(seats, cells, strict=True))


def test_tables_are_well_formed() -> None:
    for row in COMMANDS.values():
        _cells(row, COMMAND_SEATS)
    for _, state, row, _ in TIP_BUTTONS:
        assert state in {s.value for s in State}
        _cells(row, TIP_SEATS)
    for _, _, row, _ in REWARD_BUTTONS:
        _cells(row, REWARD_SEATS)


# -- the world -------------------------------------------------------------------------------


@dataclass
class Stage:
    """The shared world, and what the cases need from it."""

    w: World
    errors: ErrorLog
    tips_made: int = 0

    # -- reading the database (committed data only, like an auditor) -----------------------
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.w.db_path}?mode=ro", uri=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def fingerprint(self) -> dict[str, Any]:
        """Everything a refused attempt must leave as it was."""
        return {
            "tips": self.query("SELECT * FROM tips ORDER BY id"),
            "rewards": self.query("SELECT * FROM rewards ORDER BY id"),
            "ledger": self.query("SELECT COUNT(*) FROM ledger"),
            "drafts": self.query("SELECT user_id, source, step, data FROM drafts ORDER BY 1"),
            "patrols": self.query("SELECT * FROM patrols ORDER BY id"),
            # Not the "ops:" rows: the heartbeat and outage bookkeeping the clock writes
            # every minute (bot/db/ops.py), whoever presses what.
            "settings": self.query(
                "SELECT key, value FROM settings WHERE key NOT LIKE 'ops:%' ORDER BY key"
            ),
            "inputs": self.query("SELECT user_id, kind, data FROM pending_inputs ORDER BY 1"),
            "phones": self.query("SELECT user_id, phone FROM users ORDER BY 1"),
            "media": self.query("SELECT COUNT(*) FROM media"),
        }

    def last_event_id(self) -> int:
        return self.query("SELECT COALESCE(MAX(id), 0) FROM events")[0][0]

    def refusals_since(self, event_id: int, user: int) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT action FROM events WHERE id > ? AND actor_id = ? AND action LIKE "
                "'refused:%' ORDER BY id",
                (event_id, user),
            )
        ]

    # -- making things ---------------------------------------------------------------------
    async def tip(self, state: str, reporter: int | None = None) -> Tip:
        """A fresh tip in group 1, brought to ``state`` (claimed by G1_MEMBER2)."""
        w = self.w
        self.tips_made += 1
        reporter = reporter or (REPORTER if self.tips_made % 2 else REPORTER_EN)
        w.clock.advance(minutes=1)  # (the hourly cap of tips per reporter)
        draft = replace(
            Draft(user_id=reporter).with_location(*CENTRE, None, None),
            step=Step.REVIEW,
            seen=Seen.NOW,
            people=People.ONE,
        )
        await w.services.reports.save(draft)
        result = await w.services.reports.submit(reporter)
        assert result.value is not None, result
        tip = result.value.tip
        steps = {
            "claimed": [Action.CLAIM],
            "en_route": [Action.CLAIM, Action.GO],
            "on_scene": [Action.CLAIM, Action.ARRIVE],
        }.get(state, [])
        for action in steps:
            assert (await w.services.field.act(tip.id, action, G1_MEMBER2)).ok
        await w.idle()
        tip = await w.repo.tips.get(tip.id)
        assert tip is not None and tip.state.value == state
        return tip

    async def card(self, tip: Tip) -> int:
        cards = await self.w.repo.messages.of(tip.id, kind="card", chat_id=G1_CHAT)
        assert cards, f"no card for {tip.code}"
        return cards[-1].message_id

    async def reward(self, state: str, phone: bool = False) -> tuple[Any, Tip]:
        """A fresh reward (verified by G1_MEMBER2, so the officer may approve it)."""
        tip = await self.tip("on_scene")
        result = await self.w.services.field.act(
            tip.id, Action.CLOSE, G1_MEMBER2, outcome=Outcome.BROUGHT_IN
        )
        assert result.ok
        rewards = self.w.services.rewards
        reward = await self.w.repo.rewards.for_tip(tip.id)
        assert reward is not None and reward.state is RewardState.PENDING
        if state in ("approved", "paid"):
            assert (await rewards.approve(reward.id, OFFICER)).ok
        if state == "paid":
            assert (await rewards.pay(reward.id, OFFICER, PayMethod.BANK, "TX-7", 200)).ok
        if phone:
            await rewards.share_phone(reward.reporter_id, "+8613800000002")
        await self.w.idle()
        return await self.w.repo.rewards.get(reward.id), tip

    async def bot_message_in(self, chat: int) -> int:
        """Some message of the bot's in the chat (for presses where no card is)."""
        messages = self.w.bot_msgs(chat)
        assert messages
        return messages[-1]["message_id"]

    # -- checking --------------------------------------------------------------------------
    def clean_since(self, errors_before: int, api_before: int) -> None:
        logged = self.errors.texts(errors_before)
        api = [
            (e["method"], e["description"])
            for e in self.w.emu.api_errors[api_before:]
            if "not modified" not in e["description"].lower()
        ]
        assert logged == [] and api == [] and self.w.emu.internal_errors == []


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stage]:
    errors = ErrorLog()
    loggers = [logging.getLogger("telegram"), logging.getLogger("bot")]
    for logger in loggers:
        logger.addHandler(errors)
    try:
        async with world(
            tmp_path_factory.mktemp("authz"),
            max_per_hour="100",
            sections="[reward]\nmonthly_cap = 1000\n",
        ) as w:
            for user in NAMES:  # everyone has opened a chat with the bot
                w.emu.send_text(user, "/start")
            await w.idle()
            stage = Stage(w, errors)
            yield stage
            await w.idle()
            assert check_invariants(w.db_path, {g.key for g in w.config.groups}) == []
    finally:
        for logger in loggers:
            logger.removeHandler(errors)


def _raw_texts(w: World, chat: int, start: int) -> list[str]:
    return [m["raw_text"] or "" for m in w.bot_msgs(chat)[start:]]


def _prefix(lang: str, key: str) -> str:
    """A catalog message up to its first placeholder (how a reply is recognised)."""
    return t(lang, key).split("{")[0] if "{" in t(lang, key) else t(lang, key)


async def _reply(stage: Stage, chat: int, start: int, prefixes: tuple[str, ...]) -> str:
    """The bot's answer in ``chat`` (sent after ``start``) that starts with one of ``prefixes``.
    Called once every update sent so far has been handled."""
    await stage.w.idle()
    said = _raw_texts(stage.w, chat, start)
    found = [raw for raw in said if raw.startswith(prefixes)]
    assert found, f"no reply starting with {prefixes} in {chat}: {said}"
    return found[0]


# -- commands --------------------------------------------------------------------------------

ROLE_OF = {STRANGER: "reporter", G2_MEMBER: "member", G1_MEMBER: "member", G1_LEADER: "leader"}
ROLE_OF[OFFICER] = "officer"


@shared_world
async def test_every_registered_command_is_in_the_table(stage: Stage) -> None:
    """A new command must say who may use it: add a row to COMMANDS."""
    registered = {
        command
        for handlers in stage.w.app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert registered == set(COMMANDS)


def _command_cases() -> list[Any]:
    return [
        pytest.param(command, seat, cell, id=f"/{command}-{seat}-{cell}")
        for command, row in COMMANDS.items()
        for seat, cell in _cells(row, COMMAND_SEATS).items()
    ]


@shared_world
@pytest.mark.parametrize(("command", "seat_name", "cell"), _command_cases())
async def test_command(stage: Stage, command: str, seat_name: str, cell: str) -> None:
    w, seat = stage.w, SEATS[seat_name]
    svc = w.services
    lang = "zh"  # every seat's app is in Chinese, and so is the station
    text = f"/{command}"
    # Set the scene, so that an allowed command has something to change.
    reward = None
    if command == "cancel":
        await svc.reports.save(Draft(user_id=seat.user))
    elif command == "claim":
        reward, tip = await stage.reward("approved")  # only an approved one is claimed
        text = f"/claim {tip.code} WRONG2"
    elif command == "reverse":
        reward, tip = await stage.reward("paid")
        text = f"/reverse {tip.code} 金额录错"
    elif command == "coldmode":
        await svc.patrols.set_cold(False, source="manual", actor=OFFICER)
        text = "/coldmode on"
    elif command == "patrol_start":
        text = "/patrol_start 火车站"
    elif command == "patrol_end":
        assert (await svc.patrols.start(G1_CHAT, G1_LEADER, "火车站")).ok
        text = "/patrol_end 2 1 0 1"
    await w.idle()

    before, first_event = stage.fingerprint(), stage.last_event_id()
    errors_before, api_before = len(stage.errors.records), len(w.emu.api_errors)
    start = len(w.bot_msgs(seat.chat))
    w.emu.send_text(seat.user, text, chat_id=None if not seat.in_group else G1_CHAT)

    if cell == "A":
        raw = await _reply(stage, seat.chat, start, _allowed_prefixes(command, seat, lang))
        await w.idle()
        await _check_allowed_command(stage, command, seat, raw, reward, before)
    else:
        key = {
            "P": "private_only",
            "G": "patrol.group_only",
            "D": REFUSED_KEY.get(command, "patrol.not_member"),
        }[cell]
        raw = await _reply(stage, seat.chat, start, (t(lang, key),))
        assert raw == t(lang, key)
        await w.idle()
        assert stage.fingerprint() == before, "a refused command changed something"
        refusals = stage.refusals_since(first_event, seat.user)
        if cell == "D":
            assert refusals == [f"refused:{command}"]
        else:
            assert refusals == []  # the wrong chat is not an attempt on anything
    stage.clean_since(errors_before, api_before)

    # Leave the world as it was for the next case.
    await svc.reports.cancel(seat.user)
    if command == "patrol_start" or command == "patrol_end":
        if await w.repo.patrols.open("g1") is not None:
            assert (await svc.patrols.end(G1_CHAT, G1_LEADER, ["0"])).ok
    await w.idle()


def _allowed_prefixes(command: str, seat: Seat, lang: str) -> tuple[str, ...]:
    group = seat.in_group
    keys = {
        "start": ("help.group",) if group else ("start.welcome",),
        "help": ("help.group",) if group else ("help.reporter",),
        "whoami": ("whoami",),
        "language": ("language.choose",),
        "cancel": ("cancel.done",),
        "report": ("ask.location",),
        "mytips": ("mytips.none", "mytips.head"),
        "newtip": ("ask.location_hotline",),
        "open": ("open.none", "open.head"),
        "rewards": ("rewards.none", "rewards.head"),
        "ledger": ("ledger.head",),
        "claim": ("claim.wrong",),
        "reverse": ("reverse.done",),
        "coldmode": ("coldmode.changed",),
        "stats": ("stats.head",),
        "dashboard": ("dashboard.link", "dashboard.no_url"),  # (no public_url here)
        "patrol_start": ("patrol.started",),
        "patrol_end": ("patrol.ended",),
        "hotspots": ("hotspot.none", "hotspot.reminder"),
    }[command]
    return tuple(_prefix(lang, key) for key in keys)


async def _check_allowed_command(
    stage: Stage, command: str, seat: Seat, raw: str, reward: Any, before: dict
) -> None:
    w = stage.w
    draft = await w.repo.drafts.get(seat.user)
    if command == "whoami":
        assert t("zh", f"role.{ROLE_OF[seat.user]}") in raw
        # A member of the public's id is never posted to a group (even their own /whoami).
        public_in_group = seat.in_group and ROLE_OF[seat.user] == "reporter"
        assert (str(seat.user) in raw) is not public_in_group
    elif command == "cancel":
        assert draft is None
    elif command == "report":
        assert draft is not None and draft.source is Source.REPORTER
    elif command == "newtip":
        assert draft is not None and draft.source is Source.HOTLINE
    elif command == "claim":
        assert (await w.repo.rewards.get(reward.id)).claim_tries == reward.claim_tries + 1
    elif command == "reverse":
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.APPROVED
    elif command == "coldmode":
        assert (await w.services.patrols.cold_state()).on
    elif command == "patrol_start":
        patrol = await w.repo.patrols.open("g1")
        assert patrol is not None and patrol["started_by"] == seat.user
    elif command == "patrol_end":
        assert await w.repo.patrols.open("g1") is None
    else:  # a reply and nothing else
        assert stage.fingerprint() == before


# -- the tip's buttons -----------------------------------------------------------------------


def _tip_cases() -> list[Any]:
    return [
        pytest.param(op, state, seat, cell, event, id=f"{op}@{state}-{seat}-{cell}")
        for op, state, row, event in TIP_BUTTONS
        for seat, cell in _cells(row, TIP_SEATS).items()
    ]


def _tip_data(op: str, tip: Tip, other: Tip | None) -> str:
    name, _, arg = op.partition(":")
    if name == "sup":
        return f"tip:sup:{tip.id}:n:0"
    if name == "ask":
        return f"tip:ask:{tip.id}:{arg}"
    if name == "close":
        data = f"tip:close:{tip.id}:{arg}"
        if arg == Outcome.SUPPLIES_ONLY.value:
            data += ":3"  # coat + quilt
        elif arg == Outcome.DUPLICATE.value:
            assert other is not None
            data += f":{other.id}"
        return data
    return f"tip:{name}:{tip.id}"


@shared_world
@pytest.mark.parametrize(("op", "state", "seat_name", "cell", "event"), _tip_cases())
async def test_tip_button(
    stage: Stage, op: str, state: str, seat_name: str, cell: str, event: str
) -> None:
    w, seat = stage.w, SEATS[seat_name]
    other = await stage.tip("dispatched") if op in ("close:duplicate", "dups") else None
    tip = await stage.tip(state)
    card = await stage.card(tip)
    data = _tip_data(op, tip, other)
    chat = G1_CHAT if seat.in_group else seat.user
    message_id = card if seat.in_group else await stage.bot_message_in(seat.user)

    before, first_event = stage.fingerprint(), stage.last_event_id()
    errors_before, api_before = len(stage.errors.records), len(w.emu.api_errors)
    officer_start = len(w.bot_msgs(OFFICER))
    group_start = len(w.bot_msgs(G1_CHAT))

    answer = await w.press_data(seat.user, chat, message_id, data)
    await w.idle()
    after = await w.repo.tips.get(tip.id)
    assert after is not None

    if cell == "A":
        assert stage.refusals_since(first_event, seat.user) == []
        name, _, arg = op.partition(":")
        markup = w.message(chat, message_id).get("reply_markup") or {}
        buttons = [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]
        if name in ("claim", "release", "go", "arrive", "close"):
            done = {"close": "done.close"}.get(name, f"done.{name}")
            assert answer["text"] == t("zh", done, code=tip.code)
            expected = {
                "claim": State.CLAIMED,
                "release": State.DISPATCHED,
                "go": State.EN_ROUTE,
                "arrive": State.ON_SCENE,
                "close": State.CLOSED,
            }[name]
            assert after.state is expected
            if name == "claim":
                assert after.claimed_by == seat.user
            if name == "close":
                assert after.outcome is Outcome(arg) and after.closed_by == seat.user
        elif name in ("ask", "sup", "dups", "back"):
            assert after == tip and not answer.get("show_alert")
            wanted = {
                "ask": f"tip:close:{tip.id}:{arg}",
                "sup": f"tip:close:{tip.id}:supplies_only:0",
                "dups": f"tip:close:{tip.id}:duplicate:",
                "back": f"tip:ask:{tip.id}:brought_in",
            }[name]
            assert any(b and b.startswith(wanted) for b in buttons), buttons
        elif name == "show":
            assert answer["text"] == t("zh", "open.sent", code=tip.code)
            copies = [
                m for m in w.bot_msgs(OFFICER)[officer_start:] if tip.code in (m["text"] or "")
            ]
            assert copies, "no copy of the card in the officer's chat"
        elif name == "askr":
            prompts = _raw_texts(w, G1_CHAT, group_start)
            assert any(p.startswith(_prefix("zh", "ask.prompt")) for p in prompts), prompts
    else:
        assert cell == "D"
        member_not_claimer = seat.user in (G1_MEMBER, G1_MEMBER2) and tip.claimed_by not in (
            None,
            seat.user,
        )
        expected = {
            "show": t("zh", "refused.officer_only"),
            "ask_reporter": t("zh", "ask.refused.not_allowed"),
        }.get(
            event,
            t("zh", "refused.not_claimer", name=CLAIMER_NAME)
            if member_not_claimer
            else t("zh", "refused.not_allowed", group=GROUP),
        )
        assert answer["text"] == expected and answer["show_alert"]
        assert after == tip, "a refused press changed the tip"
        assert stage.fingerprint() == before, "a refused press changed something"
        assert stage.refusals_since(first_event, seat.user) == [f"refused:{event}"]
    stage.clean_since(errors_before, api_before)


# -- the reward buttons ----------------------------------------------------------------------


def _reward_cases() -> list[Any]:
    return [
        pytest.param(op, state, seat, cell, event, id=f"rw:{op}@{state}-{seat}-{cell}")
        for op, state, row, event in REWARD_BUTTONS
        for seat, cell in _cells(row, REWARD_SEATS).items()
    ]


@shared_world
@pytest.mark.parametrize(("op", "state", "seat_name", "cell", "event"), _reward_cases())
async def test_reward_button(
    stage: Stage, op: str, state: str, seat_name: str, cell: str, event: str
) -> None:
    w, seat = stage.w, SEATS[seat_name]
    reward, tip = await stage.reward(state, phone=op == "tel")
    if op == "amt":  # the officer has given a method and a reference: the amount is next
        await w.services.answers.expect(
            OFFICER, Awaiting(Ask.AMOUNT, reward.id, None, PayMethod.CASH, "R-1")
        )
    await w.idle()
    data = f"rw:{op.replace(':', f':{reward.id}:')}" if ":" in op else f"rw:{op}:{reward.id}"
    chat = G1_CHAT if seat.in_group else seat.user
    message_id = await stage.bot_message_in(chat)

    before, first_event = stage.fingerprint(), stage.last_event_id()
    errors_before, api_before = len(stage.errors.records), len(w.emu.api_errors)
    starts = {c: len(w.bot_msgs(c)) for c in (seat.user, G1_CHAT)}
    answer = await w.press_data(seat.user, chat, message_id, data)
    await w.idle()
    after = await w.repo.rewards.get(reward.id)
    pending = await w.repo.inputs.get(OFFICER)

    if cell == "A":
        assert stage.refusals_since(first_event, seat.user) == []
        said = _raw_texts(w, chat, starts[chat])
        if op == "ok":
            assert answer["text"] == t("zh", "reward.done.approved", code=tip.code)
            assert after.state is RewardState.APPROVED and after.approved_by == OFFICER
        elif op == "no":
            assert _said(said, _prefix("zh", "reward.ask.reason"), tip.code)
            assert pending is not None and pending[0] == "reject_reason"
        elif op == "pay":
            assert _said(said, t("zh", "reward.ask.method", code=tip.code), tip.code)
        elif op == "m:cash":
            assert _said(said, _prefix("zh", "reward.ask.reference"), tip.code)
            assert pending is not None and pending[0] == "pay_reference"
        elif op == "amt":
            assert _said(said, _prefix("zh", "reward.done.paid"), tip.code)
            assert after.state is RewardState.PAID and after.paid_amount == reward.amount
        elif op == "tel":
            assert _said(said, _prefix("zh", "reward.phone"), "+8613800000002")
            viewed = stage.query(
                "SELECT COUNT(*) FROM events WHERE id > ? AND action = 'phone_viewed'",
                (first_event,),
            )
            assert viewed == [(1,)]
    else:
        expected = t("zh", "private_only" if cell == "P" else "refused.officer_only")
        assert answer["text"] == expected and answer["show_alert"]
        assert after == reward and stage.fingerprint() == before
        refusals = stage.refusals_since(first_event, seat.user)
        assert refusals == ([f"refused:{event}"] if cell == "D" else [])
        # Nothing about the reward was said anywhere (least of all a phone number).
        for chat_id, start in starts.items():
            assert not any(tip.code in r for r in _raw_texts(w, chat_id, start)), chat_id
    stage.clean_since(errors_before, api_before)
    await w.services.answers.drop(OFFICER)


def _said(texts: list[str], prefix: str, contains: str) -> bool:
    return any(text.startswith(prefix) and contains in text for text in texts)


# -- the reporter's own buttons --------------------------------------------------------------

# fmt: off
WITHDRAW = {
    # who presses r:wd:<tip> in their private chat    the tip's reporter may; nobody else
    "reporter": (REPORTER, "A"),
    "stranger": (STRANGER, "D"),
    "member": (G1_MEMBER, "D"),
    "leader": (G1_LEADER, "D"),
    "officer": (OFFICER, "D"),
}
# fmt: on


@shared_world
@pytest.mark.parametrize(("who", "in_group"), [(w, g) for w in WITHDRAW for g in (False, True)])
async def test_withdraw_button(stage: Stage, who: str, in_group: bool) -> None:
    w = stage.w
    user, cell = WITHDRAW[who]
    tip = await stage.tip("dispatched", reporter=REPORTER)
    chat = G1_CHAT if in_group else user
    message_id = await stage.bot_message_in(chat)
    before, first_event = stage.fingerprint(), stage.last_event_id()
    errors_before, api_before = len(stage.errors.records), len(w.emu.api_errors)
    answer = await w.press_data(user, chat, message_id, f"r:wd:{tip.id}")
    await w.idle()
    after = await w.repo.tips.get(tip.id)
    if cell == "A" and not in_group:
        assert answer["text"] == t("zh", "withdraw.done")
        assert after.state is State.WITHDRAWN
    else:  # someone else's tip, or a reporter's button pressed in a group
        assert answer["text"] == t("zh", "button.invalid") and answer["show_alert"]
        assert after == tip and stage.fingerprint() == before
        assert len(stage.refusals_since(first_event, user)) == 1
    stage.clean_since(errors_before, api_before)
