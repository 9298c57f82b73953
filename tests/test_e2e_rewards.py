"""Rewards end to end over the Bot API emulator: verified tip → phone → approve → pay → told."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.domain.rewards import PayMethod, RewardState
from bot.i18n import t
from tests.harness import (
    G1_CHAT,
    G1_MEMBER,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    World,
    world,
)
from tests.test_e2e_story import report_by_pin


def secret_of(w: World, user: int) -> str:
    for message in reversed(w.bot_msgs(user)):
        found = re.search(
            r"(?:领奖密码|Claim secret)：?:?\s*([A-Z0-9]{6})", message.get("text") or ""
        )
        if found:
            return found.group(1)
    raise AssertionError("no claim secret sent to the reporter")


async def close_as(w: World, code: str, actor: int, outcome_zh: str, chat: int = G1_CHAT) -> None:
    """Claim → on scene → outcome (confirmed), pressed by ``actor`` on the card in ``chat``."""
    card = await w.wait_card(chat, code)
    await w.press(actor, chat, card, "认领")
    card = await w.wait_card(chat, code, "已认领")
    await w.press(actor, chat, card, "已到现场")
    card = await w.wait_card(chat, code, "已到现场")
    await w.press(actor, chat, card, outcome_zh)
    confirm = w.message(chat, card["message_id"])
    await w.press(actor, chat, confirm, "确认")
    await w.wait_card(chat, code, "已结案")


async def officer_says(w: World, text: str, expect: str) -> dict:
    w.mark(OFFICER)
    w.emu.send_text(OFFICER, text)
    return await w.next_bot(OFFICER, expect)


async def test_verified_tip_to_wechat_payment(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")  # the officer has opened a chat with the bot
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        secret = secret_of(w, REPORTER)
        w.mark(REPORTER)
        await close_as(w, code, G1_MEMBER, "带回站内")

        # The reporter is told the amount and the two ways, with a contact button.
        pending = await w.next_bot(REPORTER, "200 元")
        keyboard = pending["reply_markup"]["keyboard"]
        assert keyboard[0][0].get("request_contact") is True

        # They share their own (invented) number.
        w.mark(REPORTER)
        w.emu.send_contact(REPORTER, "+8613800000001", contact_user_id=REPORTER)
        await w.next_bot(REPORTER, "手机号")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PENDING and reward.verified_by == G1_MEMBER
        assert await w.repo.people.phone(REPORTER) == "+8613800000001"

        # The officer sees it in /rewards, approves, records a WeChat transfer.
        listing = await officer_says(w, "/rewards", code)
        assert NAMES[G1_MEMBER][0] in listing["text"] and "已留电话" in listing["text"]
        assert "+86138" not in listing["text"]  # the number is shown only on request
        w.mark(REPORTER)
        answer = await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        assert code in answer["text"]
        await w.next_bot(REPORTER, "已审核通过")

        listing = await officer_says(w, "/rewards", code)
        w.mark(OFFICER)
        await w.press(OFFICER, OFFICER, listing, "查看电话")
        shown = await w.next_bot(OFFICER, "+8613800000001")
        assert code in shown["text"]
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {code}")
        methods = await w.next_bot(OFFICER, "什么方式")
        await w.press(OFFICER, OFFICER, methods, "微信转账")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "4200001234202612010001")
        ask_amount = await w.next_bot(OFFICER, "多少元")
        w.mark(REPORTER)
        await w.press(OFFICER, OFFICER, ask_amount, "200 元")
        await w.next_bot(OFFICER, "已记录")
        paid = await w.next_bot(REPORTER, "已于")
        assert "微信转账" in paid["text"] and "2026-12-01" in paid["text"]
        assert "4200001234" not in paid["text"]  # no payment details beyond method and date

        reward = await w.repo.rewards.get(reward.id)
        assert reward.state is RewardState.PAID and reward.method is PayMethod.WECHAT
        assert reward.paid_by == OFFICER and reward.paid_amount == 200
        actions = [e["action"] for e in await w.repo.events.of(reward.tip_id)]
        for expected in (
            "reward_pending",
            "phone_shared",
            "reward_approve",
            "phone_viewed",
            "reward_pay",
        ):
            assert expected in actions
        # The claim secret was never stored in the clear.
        rows = await w.station.db.fetchall("SELECT payload FROM outbox")
        assert all(secret not in r["payload"] for r in rows)

        ledger = await officer_says(w, "/ledger", "奖励台账")
        assert "已发放 1 笔 / 200 元" in ledger["text"]


async def test_self_approval_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        # The officer works the tip from a live copy of the card in their own chat.
        listing = await officer_says(w, "/open", code)
        await w.press(OFFICER, OFFICER, listing, f"查看 {code}")
        await w.until(lambda: w.card(OFFICER, code))
        await close_as(w, code, OFFICER, "送医", chat=OFFICER)
        listing = await officer_says(w, "/rewards", code)
        answer = await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        assert answer["text"] == t("zh", "reward.err.self_approval")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PENDING
        refused = [
            e
            for e in await w.repo.events.of(reward.tip_id)
            if e["action"] == "refused:reward_approve"
        ]
        assert len(refused) == 1 and '"self_approval"' in refused[0]["detail"]


async def test_anonymous_claim_wrong_then_right_secret(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        secret = secret_of(w, REPORTER)
        card = await w.wait_card(G1_CHAT, code)
        await w.press(G1_MEMBER, G1_CHAT, card, "认领")
        card = await w.wait_card(G1_CHAT, code, "已认领")
        await w.press(G1_MEMBER, G1_CHAT, card, "已到现场")
        card = await w.wait_card(G1_CHAT, code, "已到现场")
        await w.press(G1_MEMBER, G1_CHAT, card, "仅发放物资")
        picker = w.message(G1_CHAT, card["message_id"])
        await w.press(G1_MEMBER, G1_CHAT, picker, "棉被")
        picker = w.message(G1_CHAT, card["message_id"])
        await w.press(G1_MEMBER, G1_CHAT, picker, "确认发放并结案")
        await w.wait_card(G1_CHAT, code, "已结案")

        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        wrong = "AAAAAA" if secret != "AAAAAA" else "BBBBBB"
        await officer_says(w, f"/claim {code} {wrong}", "还可以再试 4 次")
        ok = await officer_says(w, f"/claim {code} {secret.lower()}", "密码正确")
        await w.press(OFFICER, OFFICER, ok, "站内现金")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "收据 0001")
        ask_amount = await w.next_bot(OFFICER, "多少元")
        w.emu.send_text(OFFICER, "200元")
        await w.next_bot(OFFICER, "已记录")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PAID and reward.method is PayMethod.CASH
        assert reward.claim_tries == 1 and reward.claim_verified_by == OFFICER
        assert ask_amount is not None


async def test_five_wrong_secrets_lock_the_claim_and_tell_the_officers(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        secret = secret_of(w, REPORTER)
        await close_as(w, code, G1_MEMBER, "联系家属")
        # Only an approved reward is claimed at the counter (see test_fr16_*).
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
        wrong = "AAAAAA" if secret != "AAAAAA" else "BBBBBB"
        for left in (4, 3, 2, 1):
            await officer_says(w, f"/claim {code} {wrong}", f"还可以再试 {left} 次")
        await officer_says(w, f"/claim {code} {wrong}", "已锁定")
        await w.next_bot(OFFICER, "连续输错 5 次")
        # Even the right secret is refused now.
        await officer_says(w, f"/claim {code} {secret}", "已锁定")


async def test_duplicate_reporter_is_thanked_without_reward(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        first = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        second = await report_by_pin(w, REPORTER_EN, "en", photo=False, flags=())
        # The second card names the first as a possible duplicate; close it as one.
        card = await w.wait_card(G1_CHAT, second, first)
        await w.press(G1_MEMBER, G1_CHAT, card, "重复")
        picker = w.message(G1_CHAT, card["message_id"])
        w.mark(REPORTER_EN)
        await w.press(G1_MEMBER, G1_CHAT, picker, f"与 {first} 重复")
        await w.wait_card(G1_CHAT, second, "已结案")
        await w.next_bot(REPORTER_EN, "someone else had already reported")
        # The first is verified: its reporter earns the reward; the second is told why not.
        await close_as(w, first, G1_MEMBER, "带回站内")
        await w.next_bot(REPORTER_EN, "the reward goes to the first report")
        first_tip = await w.tip_by_code(first)
        second_tip = await w.tip_by_code(second)
        assert (await w.repo.rewards.for_tip(first_tip.id)).reporter_id == REPORTER
        assert await w.repo.rewards.for_tip(second_tip.id) is None
        refused = [
            e for e in await w.repo.events.of(second_tip.id) if e["action"] == "reward_refused"
        ]
        assert len(refused) == 1 and '"duplicate"' in refused[0]["detail"]


async def test_non_officers_cannot_touch_rewards(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        await close_as(w, code, G1_MEMBER, "带回站内")
        tip = await w.tip_by_code(code)
        reward = await w.repo.rewards.for_tip(tip.id)
        for command in ("/rewards", "/ledger", f"/claim {code} AAAAAA", f"/reverse {code} x"):
            w.mark(G1_MEMBER)
            w.emu.send_text(G1_MEMBER, command)
            await w.next_bot(G1_MEMBER, t("zh", "refused.officer_only"))
        for data in (f"rw:ok:{reward.id}", f"rw:m:{reward.id}:cash", f"rw:tel:{reward.id}"):
            answer = await w.press_data(G1_MEMBER, G1_MEMBER, 1, data)
            assert answer["text"] == t("zh", "refused.officer_only")
        forged = await w.press_data(OFFICER, OFFICER, 1, "rw:ok:99999")
        assert forged["text"] == t("zh", "button.invalid")
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.PENDING
        refusals = [
            e["action"] for e in await w.repo.events.of() if e["action"].startswith("refused:")
        ]
        assert len(refusals) >= 7


async def test_bad_amount_and_reference_are_refused_politely(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        await close_as(w, code, G1_MEMBER, "带回站内")
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {code}")
        methods = await w.next_bot(OFFICER, "什么方式")
        await w.press(OFFICER, OFFICER, methods, "支付宝")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "x" * 65)
        await w.next_bot(OFFICER, t("zh", "reward.err.bad_reference"))
        w.emu.send_text(OFFICER, "2026120100001")
        await w.next_bot(OFFICER, "多少元")
        for bad in ("-200", "12.5", "两百"):
            w.emu.send_text(OFFICER, bad)
            await w.next_bot(OFFICER, t("zh", "reward.err.bad_amount"))
        w.emu.send_text(OFFICER, "200")
        await w.next_bot(OFFICER, "已记录")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PAID and reward.method is PayMethod.ALIPAY


async def test_a_reference_the_ledger_refuses_is_refused_when_typed(tmp_path: Path) -> None:
    """One rule for a reference (bot/domain/rewards.py): one the payment would refuse — here
    with an invisible character pasted in — is refused at once and asked again, not after the
    amount (which used to end the payment with nothing recorded)."""
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        await close_as(w, code, G1_MEMBER, "带回站内")
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        listing = await officer_says(w, "/rewards", code)
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {code}")
        methods = await w.next_bot(OFFICER, "什么方式")
        await w.press(OFFICER, OFFICER, methods, "微信")
        await w.next_bot(OFFICER, "参考号")
        await officer_says(w, "4200\u200b0012", t("zh", "reward.err.bad_reference"))
        pending = await w.repo.inputs.get(OFFICER)
        assert pending is not None and pending[0] == "pay_reference"  # asked again
        await officer_says(w, "4200  0012", "多少元")
        await officer_says(w, "200", "已记录")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PAID and reward.reference == "4200 0012"


async def test_two_officers_paying_at_once_record_one_payment(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        await close_as(w, code, G1_MEMBER, "带回站内")
        rewards = w.services.rewards
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        # Two officers (the same configured officer id twice is enough to race the state).
        results = await asyncio.gather(
            rewards.pay(reward.id, OFFICER, PayMethod.WECHAT, "A-1", 200),
            rewards.pay(reward.id, OFFICER, PayMethod.CASH, "B-2", 200),
        )
        assert sorted(r.ok for r in results) == [False, True]
        paid = [e for e in await w.repo.ledger.entries() if e["entry"] == "paid"]
        assert len(paid) == 1


# The ledger and its export: tests/test_fr_rewards.py::test_fr15_* (state now, movements).
