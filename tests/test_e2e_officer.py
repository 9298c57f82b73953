"""End to end, the duty officer's side: hotline tips (/newtip), the open list (/open) and its
live card copies, the roster's hand-over; and the per-scope command menus everyone sees.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import GROUP_COMMANDS, OFFICER_COMMANDS, REPORTER_COMMANDS
from bot.domain.draft import Source
from bot.domain.tips import Outcome, State
from bot.i18n import t
from bot.views.places import pin_place
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G2_CHAT,
    G2_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    answer_questions,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    dispatched,
    notice_key,
    pass_spot,
    plain,
    review_head,
    send_review,
    submit_tip,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

HOTLINE = "0714-0000000"
CIHU = (30.2030, 115.0480)


def zh(key: str, **params: object) -> str:
    return tr("zh", key, **params)


async def test_newtip_logs_a_hotline_tip(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/newtip")
        ask = await w.next_bot(OFFICER, zh("ask.location_hotline").split("\n")[0])
        assert ask["text"] == zh("ask.location_hotline")
        draft = await w.repo.drafts.get(OFFICER)
        assert draft.source is Source.HOTLINE

        w.emu.send_text(OFFICER, "黄石站门口")
        pin = await w.next_of_kind(OFFICER, "venue")
        assert pin["venue"]["title"] == "黄石站"
        confirm = await w.next_bot(OFFICER, zh("ask.confirm_place"))
        await w.press(OFFICER, OFFICER, confirm, zh("btn.place_yes", label="黄石站"))
        review = await answer_questions(
            w, OFFICER, people="2", flags=("elderly",), description="来电：两位老人在候车厅外"
        )
        code = await send_review(w, OFFICER, review)
        assert code == "HS-0001"
        logged = w.bot_msgs(OFFICER)[w.marks[OFFICER] - 1]
        assert logged["text"] == zh("submit.logged", code=code, group="第一小组")
        assert w.emu.reply_keyboard(OFFICER) is None  # the location keyboard is gone

        tip = await w.tip_by_code(code)
        assert tip.source == "hotline" and not tip.has_reporter
        assert await w.repo.tips.reporter_of(tip.id) is None
        assert tip.group_key == "g1" and tip.state is State.DISPATCHED
        assert tip.address == "黄石站门口" and tip.place_label == "黄石站"
        assert await w.repo.drafts.get(OFFICER) is None
        submit = (await w.repo.events.of(tip.id))[0]
        assert (submit["action"], submit["actor_id"], submit["actor_role"]) == (
            "submit",
            OFFICER,
            "officer",
        )
        assert json.loads(submit["detail"])["source"] == "hotline"

        card = await w.wait_card(G1_CHAT, code)
        assert zh("source.hotline") in card["text"] and "来电：两位老人在候车厅外" in card["text"]
        assert w.card(G2_CHAT, code) is None
        # Nobody to notify when it is claimed: the caller is not on Telegram.
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        await w.wait_card(G1_CHAT, code, NAMES[G1_MEMBER][0])
        await w.idle()
        assert w.bot_msgs(OFFICER)[w.marks[OFFICER] :] == []
        outbox = await w.repo.db.fetchall(
            "SELECT chat_id, payload FROM outbox WHERE kind = 'notice'"
        )
        # Only the officer's own receipt ("logged HS-0001"): no notice for the caller.
        assert [(r["chat_id"], notice_key(r["payload"])) for r in outbox] == [
            (OFFICER, "submit.logged")
        ]


@pytest.mark.parametrize("who", [REPORTER, G1_LEADER, STRANGER], ids=["public", "leader", "x"])
async def test_officer_commands_refused_for_everyone_else(tmp_path: Path, who: int) -> None:
    async with world(tmp_path) as w:
        w.mark(who)
        for command in ("/newtip", "/open"):
            w.emu.send_text(who, command)
            await w.next_bot(who, zh("refused.officer_only"))
        assert await w.quiet(who) == []
        assert await w.repo.drafts.get(who) is None
        refused = [(e["action"], e["actor_id"]) for e in await w.events_named("refused:")]
        assert refused == [("refused:newtip", who), ("refused:open", who)]
        # Nor may they ask for a card copy with a forged "show" button.
        tip, _ = await dispatched(w, REPORTER_EN, lang="en")
        w.mark(who)
        w.emu.send_text(who, "/help")
        anchor = await w.next_bot(who)
        answer = await w.press_data(who, who, anchor["message_id"], f"tip:show:{tip.id}")
        assert answer["text"] == zh("refused.officer_only")
        assert await w.quiet(who) == []
        assert w.card(who, tip.code) is None


async def test_open_list_and_live_card_copy(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        first, card1 = await dispatched(w, REPORTER)
        await w.press(G1_MEMBER, G1_CHAT, card1, zh("btn.claim"))
        await w.wait_card(G1_CHAT, first.code, NAMES[G1_MEMBER][0])
        w.clock.advance(minutes=5)
        second, _ = await dispatched(
            w, REPORTER_EN, lang="en", flags=("ill",), where=(30.21, 115.06)
        )
        w.clock.advance(minutes=10)

        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/open")
        listing = await w.next_bot(OFFICER, zh("open.head", count=2))
        assert listing["text"].split("\n") == [
            zh("open.head", count=2),
            zh(
                "open.line",
                mark="🔴",
                code=second.code,
                age=10,
                state=zh("state.dispatched"),
                group="第一小组",
                who="—",
            ),
            zh("open.place", place=plain(pin_place(second.lat, second.lon, "zh"))),
            zh(
                "open.line",
                mark="⚪️",
                code=first.code,
                age=15,
                state=zh("state.claimed"),
                group="第一小组",
                who=NAMES[G1_MEMBER][0],
            ),
            zh("open.place", place=plain(pin_place(first.lat, first.lon, "zh"))),
        ]
        assert w.buttons(listing) == [
            zh("btn.show", code=second.code),
            zh("btn.show", code=first.code),
        ]

        answer = await w.press(OFFICER, OFFICER, listing, zh("btn.show", code=first.code))
        assert answer["text"] == zh("open.sent", code=first.code)
        copy = await w.wait_card(OFFICER, first.code)
        assert NAMES[G1_MEMBER][0] in copy["text"]
        assert w.buttons(copy) == w.buttons(w.card(G1_CHAT, first.code))
        pin = await w.until(lambda: [m for m in w.bot_msgs(OFFICER) if m["kind"] == "location"])
        assert pin[0]["reply_to_message_id"] == copy["message_id"]

        # The officer acts from the copy; the group's card follows (and the copy too).
        answer = await w.press(OFFICER, OFFICER, copy, zh("btn.arrive"))
        assert answer["text"] == zh("done.arrive", code=first.code)
        copy = await w.wait_card(OFFICER, first.code, zh("state.on_scene"))
        await w.press(OFFICER, OFFICER, copy, zh("outcome.brought_in"))
        confirm = w.message(OFFICER, copy["message_id"])
        await w.press(
            OFFICER,
            OFFICER,
            confirm,
            zh("btn.confirm_outcome", outcome=zh("outcome.brought_in")),
        )
        closed = zh("card.state_closed", outcome=zh("outcome.brought_in"))
        group_card = await w.wait_card(G1_CHAT, first.code, closed)
        assert w.buttons(group_card) == []
        assert zh("card.closed_by", name=NAMES[OFFICER][0]) in group_card["text"]
        copy = await w.wait_card(OFFICER, first.code, closed)
        assert w.buttons(copy) == []
        tip = await w.repo.tips.get(first.id)
        assert tip.state is State.CLOSED and tip.outcome is Outcome.BROUGHT_IN
        assert tip.closed_by == OFFICER and tip.claimed_by == G1_MEMBER
        await w.next_bot(REPORTER, zh("notice.closed_helped", code=first.code))

        # The list now has only the other one; with none open it says so.
        w.emu.send_text(OFFICER, "/open")
        listing = await w.next_bot(OFFICER, zh("open.head", count=1))
        assert first.code not in listing["text"] and second.code in listing["text"]
        copy_b = await w.press(OFFICER, OFFICER, listing, zh("btn.show", code=second.code))
        assert copy_b["text"] == zh("open.sent", code=second.code)
        copy_b = await w.wait_card(OFFICER, second.code)
        await w.press(OFFICER, OFFICER, copy_b, zh("btn.invalid"))
        await w.press(
            OFFICER,
            OFFICER,
            w.message(OFFICER, copy_b["message_id"]),
            zh("btn.confirm_outcome", outcome=zh("outcome.invalid")),
        )
        await w.wait_card(G1_CHAT, second.code, zh("outcome.invalid"))
        w.emu.send_text(OFFICER, "/open")
        await w.next_bot(OFFICER, zh("open.none"))


async def test_roster_hand_over_sends_new_tips_to_the_next_group(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.clock.advance(hours=11, minutes=29)  # 08:29 next morning: still g1's duty day
        before, _ = await dispatched(w, REPORTER)
        assert before.group_key == "g1"

        w.clock.advance(minutes=2)  # 08:31: g2 has taken over
        code = await submit_tip(w, REPORTER_EN, lang="en", where=(30.10, 115.00))
        card = await w.wait_card(G2_CHAT, code)
        tip = await w.tip_by_code(code)
        assert tip.group_key == "g2"
        assert "第二小组" in card["text"]
        await w.idle()
        assert w.card(G1_CHAT, code) is None

        answer = await w.press(G1_MEMBER, G2_CHAT, card, zh("btn.claim"))
        assert answer["text"] == zh("refused.not_allowed", group="第二小组")
        answer = await w.press(G2_MEMBER, G2_CHAT, card, zh("btn.claim"))
        assert answer["text"] == zh("done.claim", code=code)
        assert (await w.repo.tips.get(tip.id)).claimed_by == G2_MEMBER
        # The tip from before the hand-over stays with g1.
        assert (await w.repo.tips.get(before.id)).group_key == "g1"


async def test_officer_photos_as_replies_in_private(tmp_path: Path) -> None:
    """The officer's private chat also takes evidence (replies to a card copy); a reply to
    anything else there is part of their /newtip, not swallowed as "not a card"."""
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/newtip")
        await w.next_bot(OFFICER, zh("ask.location_hotline").split("\n")[0])
        w.emu.send_location(OFFICER, *CIHU)
        await pass_spot(w, OFFICER)
        seen = await w.next_bot(OFFICER, zh("ask.seen"))
        await w.press(OFFICER, OFFICER, seen, zh("seen.today"))
        people = await w.next_bot(OFFICER, zh("ask.people"))
        await w.press(OFFICER, OFFICER, people, zh("people.1"))
        flags = await w.next_bot(OFFICER, zh("ask.flags"))
        await w.press(OFFICER, OFFICER, flags, zh("btn.flags_done"))
        description = await w.next_bot(OFFICER, zh("ask.description"))
        await w.press(OFFICER, OFFICER, description, zh("btn.skip"))
        ask_photo = await w.next_bot(OFFICER, zh("ask.photo"))
        # Telegram's "reply" on the question, with the photo the caller sent over WeChat.
        w.emu.send_photo(OFFICER, reply_to=ask_photo["message_id"])
        await w.next_bot(OFFICER, zh("photo.ok"))
        review = await w.next_bot(OFFICER, review_head("zh"))
        assert zh("yes") in review["text"]
        code = await send_review(w, OFFICER, review)
        tip = await w.tip_by_code(code)
        assert [m["kind"] for m in await w.repo.media.of(tip.id)] == ["report_photo"]

        # A reply to the officer's copy of the card is evidence, as in the group.
        w.emu.send_text(OFFICER, "/open")
        listing = await w.next_bot(OFFICER, zh("open.head", count=1))
        await w.press(OFFICER, OFFICER, listing, zh("btn.show", code=code))
        copy = await w.wait_card(OFFICER, code)
        await w.settle()  # the copy is on screen and recorded (a person is never faster)
        w.mark(OFFICER)
        w.emu.send_voice(OFFICER, reply_to=copy["message_id"])
        await w.next_bot(OFFICER, zh("evidence.added", code=code, count=1))
        assert [m["kind"] for m in await w.repo.media.of(tip.id)] == ["report_photo", "voice"]
        await w.wait_card(G1_CHAT, code, zh("card.evidence", count=1))


# -- for everyone ------------------------------------------------------------------------------


async def test_officer_help_and_whoami(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/help")
        text = (await w.next_bot(OFFICER, zh("help.reporter", hotline=HOTLINE)[:4]))["text"]
        assert text.startswith(zh("help.reporter", hotline=HOTLINE))
        assert zh("help.officer") in text
        w.emu.send_text(OFFICER, "/whoami")
        answer = await w.next_bot(OFFICER, str(OFFICER))
        assert answer["text"].endswith(zh("role.officer"))


@pytest.mark.parametrize("station", ["zh", "en"])
async def test_command_menus_per_scope_and_language(tmp_path: Path, station: str) -> None:
    other = "en" if station == "zh" else "zh"
    async with world(tmp_path, language=station) as w:
        scopes = [
            ({"type": "all_private_chats"}, REPORTER_COMMANDS),
            ({"type": "chat", "chat_id": G1_CHAT}, GROUP_COMMANDS),
            ({"type": "chat", "chat_id": G2_CHAT}, GROUP_COMMANDS),
            ({"type": "chat", "chat_id": OFFICER}, OFFICER_COMMANDS),
        ]
        for scope, names in scopes:
            for code, lang in (("", station), (other, other)):
                menu = w.emu.my_commands(scope, code)
                assert menu == [
                    {"command": name, "description": t(lang, f"cmd.{name}")} for name in names
                ], (scope, code)
            assert w.emu.my_commands(scope, station) == []  # the default already is that
        assert "newtip" not in REPORTER_COMMANDS and "newtip" in OFFICER_COMMANDS
        assert w.emu.my_commands() == []  # nothing for the default scope (other groups)
        assert len(w.emu.calls("setMyCommands")) == 2 * len(scopes)
