"""The whole story over HTTP, in Chinese and in English:
location → review → submit → card in the right group → claim → on scene → outcome with a photo
→ reporter told. The real PTB Application talks to the Bot API emulator on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.tips import Outcome, State
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    G2_CHAT,
    NAMES,
    REPORTER,
    REPORTER_EN,
    World,
    pass_spot,
    world,
)


async def report_by_pin(
    w: World,
    user: int,
    lang: str,
    *,
    photo: bool = True,
    flags=("ill",),
    description: str | None = None,
) -> str:
    """Play the reporter's whole flow from a bare location; returns the tip code."""
    zh = lang == "zh"
    w.mark(user)
    w.emu.send_location(user, *CENTRE)
    await w.next_bot(user, "位置已收到" if zh else "Location received")
    await pass_spot(w, user, lang="zh" if zh else "en")
    seen = await w.next_bot(user, "什么时候看到" if zh else "When did you see")
    await w.press(user, user, seen, "刚刚看到" if zh else "Just now")
    people = await w.next_bot(user, "有几个人" if zh else "How many people")
    await w.press(user, user, people, "1 人" if zh else "1 person")
    flags_msg = await w.next_bot(user, "可多选" if zh else "Tick all")
    labels = {"ill": ("看起来生病或受伤", "Looks ill or injured"), "elderly": ("老人", "Elderly")}
    for flag in flags:
        await w.press(user, user, flags_msg, labels[flag][0 if zh else 1])
        flags_msg = w.message(user, flags_msg["message_id"])
    if "ill" in flags:
        await w.next_bot(user, "120 / 110")
    await w.press(user, user, flags_msg, "完成" if zh else "Done")
    await w.next_bot(user, "简单描述" if zh else "A few words")
    words = "穿着单薄，躺在长椅上" if zh else "Thin jacket, lying on a bench"
    w.emu.send_text(user, description or words)
    ask_photo = await w.next_bot(user, "照片" if zh else "photo")
    if photo:
        w.emu.send_photo(user)
        await w.next_bot(user, "照片已收到" if zh else "Photo received")
    else:
        await w.press(user, user, ask_photo, "跳过" if zh else "Skip")
    review = await w.next_bot(user, "请确认" if zh else "Please check")
    assert (description or words)[:4] in review["text"]
    await w.press(user, user, review, "提交报告" if zh else "Send report")
    done = await w.next_bot(user, "已收到" if zh else "Received")
    code = done["text"].split("HS-")[1][:4]
    return f"HS-{code}"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_whole_story(tmp_path: Path, lang: str, mode: str) -> None:
    """The same story whether updates are polled or POSTed to the bot's webhook."""
    reporter = REPORTER if lang == "zh" else REPORTER_EN
    zh = lang == "zh"
    async with world(tmp_path, language=lang, mode=mode) as w:
        code = await report_by_pin(w, reporter, lang)
        assert code == "HS-0001"

        # Saved before said: the tip is in the database, assigned to the on-duty group (g1).
        tip = await w.tip_by_code(code)
        assert tip is not None and tip.state is State.DISPATCHED
        assert tip.group_key == "g1" and tip.urgent

        card = await w.wait_card(G1_CHAT, code)
        assert w.card(G2_CHAT, code) is None  # only the on-duty group gets it
        assert ("紧急" if zh else "URGENT") in card["text"]
        assert "uri.amap.com" in (card["raw_text"] or "")
        # The location follows as a real Telegram location, replying to the card.
        pins = await w.until(
            lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] in ("location", "venue")]
        )
        assert pins[0]["reply_to_message_id"] == card["message_id"]
        assert await w.until(lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] == "photo"])

        # Claim: everyone sees who; the reporter is told in plain words.
        w.mark(reporter)
        answer = await w.press(G1_MEMBER, G1_CHAT, card, "认领" if zh else "Claim")
        assert code in answer["text"]
        card = await w.wait_card(G1_CHAT, code, NAMES[G1_MEMBER][0])
        await w.next_bot(reporter, "认领" if zh else "taken by a patrol member")

        await w.press(G1_MEMBER, G1_CHAT, card, "出发" if zh else "On my way")
        card = await w.wait_card(G1_CHAT, code, "前往中" if zh else "on the way")
        await w.press(G1_MEMBER, G1_CHAT, card, "已到现场" if zh else "On scene")
        card = await w.wait_card(G1_CHAT, code, "已到现场" if zh else "on scene")

        # Evidence: a photo sent as a reply to the card.
        w.mark(G1_CHAT)
        w.emu.send_photo(G1_MEMBER, chat_id=G1_CHAT, reply_to=card["message_id"])
        await w.next_bot(G1_CHAT, code)
        card = await w.wait_card(G1_CHAT, code, "记录 1 件" if zh else "1 evidence")

        # Outcome, with a confirmation step.
        await w.press(G1_MEMBER, G1_CHAT, card, "带回站内" if zh else "Brought in")
        confirm = w.message(G1_CHAT, card["message_id"])
        await w.press(G1_MEMBER, G1_CHAT, confirm, "确认" if zh else "Confirm")
        card = await w.wait_card(G1_CHAT, code, "已结案" if zh else "closed")
        assert w.buttons(card) == []
        await w.next_bot(reporter, "找到" if zh else "found the person")

        tip = await w.tip_by_code(code)
        assert tip.state is State.CLOSED and tip.outcome is Outcome.BROUGHT_IN
        assert tip.claimed_by == G1_MEMBER and tip.closed_by == G1_MEMBER
        events = [
            (e["action"], e["from_state"], e["to_state"]) for e in await w.repo.events.of(tip.id)
        ]
        assert events == [
            ("submit", None, "new"),
            ("dispatch", "new", "dispatched"),
            ("claim", "dispatched", "claimed"),
            ("go", "claimed", "en_route"),
            ("arrive", "en_route", "on_scene"),
            ("evidence", "on_scene", "on_scene"),
            ("close", "on_scene", "closed"),
            ("reward_pending", None, "pending"),  # verified: the reward is on its way
        ]
        media = await w.repo.media.of(tip.id)
        assert [m["kind"] for m in media] == ["report_photo", "photo"]

        # The reporter's view: /mytips shows the outcome in plain words.
        w.mark(reporter)
        w.emu.send_text(reporter, "/mytips")
        mine = await w.next_bot(reporter, "我的报告" if zh else "My reports")
        assert ("已找到并提供帮助" if zh else "found and helped") in mine["text"]

        if mode == "webhook":  # every update came by POST, with the secret, none refused
            assert w.emu.calls("setWebhook") and not w.emu.calls("getUpdates")
            assert w.emu.webhook_posts and {s for _, s in w.emu.webhook_posts} == {200}
            assert w.app.bot_data["webhook"].refused == 0

        # Privacy: nothing in any group identifies the reporter.
        first, username, _ = NAMES[reporter]
        for chat in (G1_CHAT, G2_CHAT):
            for message in w.emu.transcript(chat):
                text = (message.get("raw_text") or "") + (message.get("text") or "")
                assert first not in text and username not in text
                assert str(reporter) not in text
