"""End to end, the patrol's side: the live card in the group, who may press what, stale and
forged buttons, release and re-claim, outcomes, duplicates and evidence. Also the group-side
commands for everyone and what the bot does in a group it does not know.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.tips import Outcome, State, Supply
from bot.views.commands import render_help
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    G2_CHAT,
    G2_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    dispatched,
    plain,
    tr,
    world,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_log")]

G1_NAME = "第一小组"


def zh(key: str, **params: object) -> str:
    return tr("zh", key, **params)


async def claimed(w: World, member: int = G1_MEMBER, **kwargs):
    """A dispatched tip claimed by ``member``; (tip, card) with the card showing the claim."""
    tip, card = await dispatched(w, **kwargs)
    answer = await w.press(member, G1_CHAT, card, zh("btn.claim"))
    assert answer["text"] == zh("done.claim", code=tip.code)
    card = await w.wait_card(G1_CHAT, tip.code, zh("card.claimed_by", name=NAMES[member][0]))
    return await w.repo.tips.get(tip.id), card


async def unchanged(w: World, tip) -> None:
    """The tip is exactly as it was (same version: nothing was written to it)."""
    assert await w.repo.tips.get(tip.id) == tip


# -- who may press ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [STRANGER, G2_MEMBER], ids=["stranger", "other_group"])
async def test_outsider_pressing_claim_is_refused_politely(tmp_path: Path, who: int) -> None:
    async with world(tmp_path) as w:
        tip, card = await dispatched(w)
        answer = await w.press(who, G1_CHAT, card, zh("btn.claim"))
        assert answer["text"] == zh("refused.not_allowed", group=G1_NAME)
        assert answer["show_alert"] is True
        await unchanged(w, tip)
        assert tip.state is State.DISPATCHED and tip.claimed_by is None
        refused = await w.events_named("refused:")
        assert [(e["action"], e["actor_id"], e["tip_id"]) for e in refused] == [
            ("refused:claim", who, tip.id)
        ]
        assert '"not_allowed"' in refused[0]["detail"]
        # The card still offers the claim to those who may take it.
        assert w.message(G1_CHAT, card["message_id"])["text"] == card["text"]
        assert zh("btn.claim") in w.buttons(w.message(G1_CHAT, card["message_id"]))
        # Outsiders cannot open the outcome pickers either.
        answer = await w.press(who, G1_CHAT, card, zh("btn.invalid"))
        assert answer["text"] == zh("refused.not_allowed", group=G1_NAME)
        assert w.buttons(w.message(G1_CHAT, card["message_id"])) == w.buttons(card)
        await unchanged(w, tip)


async def test_forged_callbacks_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await dispatched(w)
        mid = card["message_id"]
        for user, data, key in [
            (G1_MEMBER, "tip:claim:999999", "button.invalid"),
            (G1_MEMBER, f"tip:close:{tip.id}:teleported", "button.invalid"),
            (G1_MEMBER, "garbage", "button.invalid"),
            (G1_MEMBER, f"tip:sup:{tip.id}:n:4096", "button.invalid"),  # mask out of range
            (G1_MEMBER, f"tip:claim:{tip.id}:brought_in", "button.invalid"),
            (G1_MEMBER, "r:seen:now", "button.invalid"),  # a reporter's button, in a group
            (STRANGER, f"tip:close:{tip.id}:invalid", "refused.not_allowed"),
            (G1_MEMBER, f"tip:close:{tip.id}:duplicate:{tip.id}", "refused.bad_duplicate"),
            (G1_MEMBER, f"tip:close:{tip.id}:duplicate:424242", "refused.bad_duplicate"),
            (G1_MEMBER, f"tip:close:{tip.id}:brought_in", "button.invalid"),  # not on scene
        ]:
            answer = await w.press_data(user, G1_CHAT, mid, data)
            assert answer["text"] == zh(key, group=G1_NAME), data
            await unchanged(w, tip)
        assert w.message(G1_CHAT, mid)["text"] == card["text"]
        actions = [e["action"] for e in await w.events_named("refused:")]
        assert actions.count("refused:tip_button") == 4
        assert "refused:button" in actions and "refused:reporter_button" in actions
        assert w.api_faults() == []
        # Still answering afterwards, and the real button still works.
        answer = await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.claim"))
        assert answer["text"] == zh("done.claim", code=tip.code)


async def test_second_claim_on_the_same_card_is_stale(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await dispatched(w)
        data = f"tip:claim:{tip.id}"
        # Both press at (almost) the same time, on the same card.
        first = w.emu.press_button(G1_MEMBER, G1_CHAT, card["message_id"], data)
        second = w.emu.press_button(G1_MEMBER2, G1_CHAT, card["message_id"], data)
        a1 = await w.until(lambda: w.emu.callback_answer(first))
        a2 = await w.until(lambda: w.emu.callback_answer(second))
        assert a1["text"] == zh("done.claim", code=tip.code)
        assert a2["text"] == zh("refused.stale", code=tip.code, state=zh("state.claimed"))
        assert a2["show_alert"] is True
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.CLAIMED and tip.claimed_by == G1_MEMBER
        card = await w.wait_card(G1_CHAT, tip.code, zh("card.claimed_by", name="赵队员"))
        assert "钱队员" not in card["text"]
        assert zh("btn.claim") not in w.buttons(card)
        claims = [e for e in await w.repo.events.of(tip.id) if e["action"] == "claim"]
        assert [e["actor_id"] for e in claims] == [G1_MEMBER]
        # The reporter hears about the claim once.
        await w.idle()
        notices = [m for m in w.bot_msgs(REPORTER) if "认领" in m["text"]]
        assert [m["text"] for m in notices] == [zh("notice.claimed", code=tip.code)]


async def test_release_then_another_member_claims(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await claimed(w, G1_MEMBER)
        answer = await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.release"))
        assert answer["text"] == zh("done.release", code=tip.code)
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.DISPATCHED and tip.claimed_by is None and tip.claimed_at is None
        card = await w.wait_card(G1_CHAT, tip.code, zh("timeline.release", name="赵队员"))
        assert zh("btn.claim") in w.buttons(card)
        assert zh("card.claimed_by", name="赵队员") not in card["text"]

        answer = await w.press(G1_MEMBER2, G1_CHAT, card, zh("btn.claim"))
        assert answer["text"] == zh("done.claim", code=tip.code)
        card = await w.wait_card(G1_CHAT, tip.code, zh("card.claimed_by", name="钱队员"))
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.CLAIMED and tip.claimed_by == G1_MEMBER2
        # The one who let go is no longer the claimer: "on my way" is not theirs to press.
        answer = await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.go"))
        assert answer["text"] == zh("refused.not_claimer", name="钱队员")
        assert answer["show_alert"] is True
        await unchanged(w, tip)
        moves = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert moves == ["submit", "dispatch", "claim", "release", "claim", "refused:go"]
        await w.idle()
        notices = [m for m in w.bot_msgs(REPORTER) if m["text"].startswith("🚶")]
        assert len(notices) == 1  # a re-claim is not news to the reporter


# -- outcomes -----------------------------------------------------------------------------------


async def test_supplies_only_outcome(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await claimed(w)
        mid = card["message_id"]
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.arrive"))
        card = await w.wait_card(G1_CHAT, tip.code, f"{tip.code} · {zh('state.on_scene')}")
        tip = await w.repo.tips.get(tip.id)

        # Open the picker, go back, open it again.
        await w.press(G1_MEMBER, G1_CHAT, card, zh("outcome.supplies_only"))
        picker = w.message(G1_CHAT, mid)
        assert "▫️ " + zh("supply.coat") in w.buttons(picker)
        await w.press(G1_MEMBER, G1_CHAT, picker, zh("btn.back"))
        assert w.buttons(w.message(G1_CHAT, mid)) == w.buttons(card)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("outcome.supplies_only"))

        for supply in ("coat", "quilt"):
            await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, mid), zh(f"supply.{supply}"))
        picker = w.message(G1_CHAT, mid)
        ticked = [b for b in w.buttons(picker) if b.startswith("✅ ") and "结案" not in b]
        assert ticked == ["✅ " + zh("supply.coat"), "✅ " + zh("supply.quilt")]
        # Untick and tick again: the mask really toggles.
        await w.press(G1_MEMBER, G1_CHAT, picker, zh("supply.food"))
        await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, mid), zh("supply.food"))
        await unchanged(w, tip)  # picking writes nothing; only the final button does
        assert tip.state is State.ON_SCENE

        answer = await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, mid), zh("btn.supplies_done"))
        assert answer["text"] == zh("done.close", code=tip.code)
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.CLOSED and tip.outcome is Outcome.SUPPLIES_ONLY
        assert tip.supplies == frozenset({Supply.COAT, Supply.QUILT})
        assert tip.closed_by == G1_MEMBER
        card = await w.wait_card(G1_CHAT, tip.code, zh("card.supplies", items="棉衣、棉被"))
        assert w.buttons(card) == []
        [close] = [e for e in await w.repo.events.of(tip.id) if e["action"] == "close"]
        assert '"supplies": ["coat", "quilt"]' in close["detail"]
        await w.next_bot(REPORTER, zh("notice.closed_helped", code=tip.code))


async def test_not_found_from_en_route(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await claimed(w)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.go"))
        card = await w.wait_card(G1_CHAT, tip.code, zh("state.en_route"))
        await w.press(G1_MEMBER, G1_CHAT, card, zh("outcome.not_found"))
        confirm = w.message(G1_CHAT, card["message_id"])
        assert w.buttons(confirm) == [
            zh("btn.confirm_outcome", outcome=zh("outcome.not_found")),
            zh("btn.back"),
        ]
        await w.press(
            G1_MEMBER, G1_CHAT, confirm, zh("btn.confirm_outcome", outcome=zh("outcome.not_found"))
        )
        card = await w.wait_card(G1_CHAT, tip.code, zh("state.closed"))
        assert zh("outcome.not_found") in card["text"] and w.buttons(card) == []
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.CLOSED and tip.outcome is Outcome.NOT_FOUND
        assert tip.arrived_at is None
        await w.next_bot(REPORTER, zh("notice.closed_not_found", code=tip.code))
        # A helped-outcome is not possible without having arrived.
        answer = await w.press_data(
            G1_MEMBER, G1_CHAT, card["message_id"], f"tip:close:{tip.id}:brought_in"
        )
        assert answer["show_alert"] is True
        await unchanged(w, tip)


async def test_duplicate_flagged_and_closed_via_picker(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        first, first_card = await dispatched(w, REPORTER)
        assert "附近可能重复" not in first_card["text"]
        second, card = await dispatched(w, REPORTER_EN, lang="en", where=(30.2001, 115.0401))
        assert zh("card.duplicates", tips=f"{first.code} (15 m)") in card["text"]
        assert "附近可能重复" in card["text"]

        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.duplicate"))
        picker = w.message(G1_CHAT, card["message_id"])
        assert w.buttons(picker) == [zh("btn.duplicate_of", code=first.code), zh("btn.back")]
        answer = await w.press(G1_MEMBER, G1_CHAT, picker, zh("btn.duplicate_of", code=first.code))
        assert answer["text"] == zh("done.close", code=second.code)
        second = await w.repo.tips.get(second.id)
        assert second.state is State.CLOSED and second.outcome is Outcome.DUPLICATE
        assert second.duplicate_of == first.id
        card = await w.wait_card(G1_CHAT, second.code, zh("card.duplicate_of", code=first.code))
        assert w.buttons(card) == []
        await w.next_bot(REPORTER_EN, tr("en", "notice.closed_duplicate", code=second.code))
        # The first tip goes on; with the second closed there is nothing left to merge with.
        assert (await w.repo.tips.get(first.id)).state is State.DISPATCHED
        answer = await w.press(G1_MEMBER, G1_CHAT, first_card, zh("btn.duplicate"))
        assert answer["text"] == zh("dups.none")
        # Nor can the first now be closed as a duplicate of the second (a loop).
        answer = await w.press_data(
            G1_MEMBER,
            G1_CHAT,
            first_card["message_id"],
            f"tip:close:{first.id}:duplicate:{second.id}",
        )
        assert answer["text"] == zh("refused.bad_duplicate")
        assert (await w.repo.tips.get(first.id)).state is State.DISPATCHED


async def test_member_who_did_not_claim_cannot_close(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await claimed(w, G1_MEMBER)
        await w.press(G1_MEMBER, G1_CHAT, card, zh("btn.go"))
        card = await w.wait_card(G1_CHAT, tip.code, zh("state.en_route"))
        tip = await w.repo.tips.get(tip.id)

        answer = await w.press(G1_MEMBER2, G1_CHAT, card, zh("outcome.not_found"))
        # Told who has it (not that only the group's members may act: they are one).
        assert answer["text"] == zh("refused.not_claimer", name="赵队员")
        assert answer["show_alert"] is True
        assert w.buttons(w.message(G1_CHAT, card["message_id"])) == w.buttons(card)
        for data in (
            f"tip:close:{tip.id}:not_found",
            f"tip:arrive:{tip.id}",
            f"tip:release:{tip.id}",
        ):
            answer = await w.press_data(G1_MEMBER2, G1_CHAT, card["message_id"], data)
            assert answer["text"] == zh("refused.not_claimer", name="赵队员"), data
        await unchanged(w, tip)
        refused = [e["action"] for e in await w.events_named("refused:")]
        assert refused == ["refused:close", "refused:close", "refused:arrive", "refused:release"]

        # The group's leader may (those who oversee), and it is recorded as theirs.
        await w.press(G1_LEADER, G1_CHAT, card, zh("outcome.gone"))
        confirm = w.message(G1_CHAT, card["message_id"])
        await w.press(
            G1_LEADER, G1_CHAT, confirm, zh("btn.confirm_outcome", outcome=zh("outcome.gone"))
        )
        tip = await w.repo.tips.get(tip.id)
        assert tip.state is State.CLOSED and tip.outcome is Outcome.GONE
        assert tip.closed_by == G1_LEADER and tip.claimed_by == G1_MEMBER


# -- evidence -----------------------------------------------------------------------------------


async def test_voice_and_video_replies_become_evidence(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await claimed(w)
        pin = await w.until(
            lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] in ("location", "venue")]
        )
        w.mark(G1_CHAT)
        w.emu.send_voice(G1_MEMBER, chat_id=G1_CHAT, reply_to=card["message_id"])
        added = await w.next_bot(G1_CHAT, zh("evidence.added", code=tip.code, count=1))
        assert added["reply_to_message_id"] is not None
        # A reply to the pin that belongs to the card counts too.
        w.emu.send_video(G1_MEMBER2, chat_id=G1_CHAT, reply_to=pin[0]["message_id"])
        await w.next_bot(G1_CHAT, zh("evidence.added", code=tip.code, count=2))
        media = await w.repo.media.of(tip.id)
        assert [(m["kind"], m["added_by"]) for m in media] == [
            ("voice", G1_MEMBER),
            ("video", G1_MEMBER2),
        ]
        await w.wait_card(G1_CHAT, tip.code, zh("card.evidence", count=2))
        kinds = [e["detail"] for e in await w.repo.events.of(tip.id) if e["action"] == "evidence"]
        assert kinds == ['{"kind": "voice"}', '{"kind": "video"}']


async def test_evidence_from_a_stranger_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, card = await dispatched(w)
        w.mark(G1_CHAT)
        w.emu.send_photo(STRANGER, chat_id=G1_CHAT, reply_to=card["message_id"])
        await w.next_bot(G1_CHAT, zh("evidence.not_allowed"))
        assert await w.repo.media.of(tip.id) == []
        assert [e["actor_id"] for e in await w.events_named("refused:")] == [STRANGER]
        assert zh("card.evidence", count=0) in w.message(G1_CHAT, card["message_id"])["text"]
        await unchanged(w, tip)


async def test_reply_to_a_message_that_is_not_a_card_is_ignored(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tip, _ = await dispatched(w)
        chat_line = w.emu.send_text(G1_MEMBER, "今晚降温，大家多穿点", chat_id=G1_CHAT)
        w.emu.send_text(G1_MEMBER, "/help", chat_id=G1_CHAT)
        help_msg = await w.next_bot(G1_CHAT, zh("help.group").split("\n")[0])
        w.mark(G1_CHAT)
        w.emu.send_photo(G1_MEMBER2, chat_id=G1_CHAT, reply_to=chat_line["message_id"])
        w.emu.send_voice(G1_MEMBER, chat_id=G1_CHAT, reply_to=help_msg["message_id"])
        w.emu.send_text(G1_MEMBER, "收到", chat_id=G1_CHAT, reply_to=chat_line["message_id"])
        assert await w.quiet(G1_CHAT) == []
        assert await w.repo.media.of(tip.id) == []
        assert await w.events_named("evidence") == [] and await w.events_named("refused") == []


# -- commands in groups -------------------------------------------------------------------------


async def test_whoami_and_help_in_a_patrol_group(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(G1_CHAT)
        w.emu.send_text(G1_MEMBER, "/whoami", chat_id=G1_CHAT)
        answer = await w.next_bot(G1_CHAT, str(G1_CHAT))
        assert answer["text"] == zh(
            "whoami",
            user_id=G1_MEMBER,
            chat_id=G1_CHAT,
            chat_type="supergroup",
            role=zh("role.member"),
        )
        w.emu.send_text(G1_LEADER, "/whoami@warmline_test_bot", chat_id=G1_CHAT)
        answer = await w.next_bot(G1_CHAT, str(G1_LEADER))
        assert answer["text"].endswith(zh("role.leader"))
        w.emu.send_text(G1_MEMBER, "/help", chat_id=G1_CHAT)
        group_help = plain(render_help("group", "zh", hotline=w.config.station.hotline))
        assert (await w.next_bot(G1_CHAT, "巡查小组群"))["text"] == group_help
        # Private-only commands say so in a group, and start nothing.
        w.emu.send_text(G1_MEMBER, "/report", chat_id=G1_CHAT)
        await w.next_bot(G1_CHAT, zh("private_only"))
        assert await w.repo.drafts.get(G1_MEMBER) is None


async def test_unconfigured_group_is_told_its_id_and_left(tmp_path: Path) -> None:
    """A group that is not a patrol group gets its id once (to put into the config), the bot
    leaves and tells the officers; nothing there starts anything. (This replaced "ignore
    everything but /whoami": the announcement carries the id /whoami would have shown.)"""
    other = -1001000000999
    async with world(tmp_path) as w:
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/start")  # the officer's private chat is open
        await w.next_bot(OFFICER)
        w.emu.add_group(other, "随便聊聊")
        w.mark(other)
        w.emu.send_text(G1_MEMBER, "有人在吗", chat_id=other)
        w.emu.send_location(STRANGER, *CENTRE, chat_id=other)
        w.emu.send_text(STRANGER, "/report", chat_id=other)
        notice = await w.next_bot(other, zh("group.unknown", chat_id=other))
        await w.until(lambda: other in w.emu.left_chats())
        await w.next_bot(OFFICER, zh("chat.unknown_group_left", title="随便聊聊", chat_id=other))
        assert await w.quiet(other) == []
        assert w.bot_msgs(other) == [notice]  # said once, not once per message
        assert await w.repo.drafts.get(STRANGER) is None
        left = await w.events_named("left_unknown_group")
        assert len(left) == 1 and str(other) in left[0]["detail"]

        # A button pressed there (forged, or a card from when it was configured) is answered
        # and refused without touching any tip.
        tip, _ = await dispatched(w)
        answer = await w.press_data(G1_MEMBER, other, 424242, f"tip:claim:{tip.id}")
        assert answer["text"] == zh("button.invalid")
        await unchanged(w, tip)
        assert await w.quiet(other) == []
        assert w.bot_msgs(G2_CHAT) == []
