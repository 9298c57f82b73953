"""Issue 10, "Field-ready", the rewards items (13, 15–19), end to end over the Bot API emulator.

* 13 — every notice to the reporter along the reward's life says only what its state supports;
* 15 — /ledger (and the export) show the state now and, apart, the period's movements;
* 16 — /claim refuses at once whatever reward is not approved, saying why;
* 17 — every button of the officer's reward flow (and /language's) leaves its message showing
  the new state, and an old button pressed again is answered "already done";
* 18 — staff's stray private text does not start a report;
* 19 — the flood guard does not drop staff's taps, and a dropped press says nothing was done.
"""

from __future__ import annotations

import asyncio
import csv
import zoneinfo
from dataclasses import replace
from pathlib import Path

from bot.cli import main as cli_main
from bot.domain.draft import Draft, Step
from bot.domain.officer_input import Ask, Awaiting
from bot.domain.rewards import Campaign, PayMethod, Reward, RewardState
from bot.domain.tips import Action, Outcome, People, Seen, Tip
from bot.handlers.guards import FloodGuard
from bot.i18n import t
from bot.views import rewards as rv
from tests.harness import (
    CENTRE,
    G1_LEADER,
    G1_MEMBER,
    G1_MEMBER2,
    NAMES,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    World,
    pass_spot,
    plain,
    tr,
    world,
)

# Many tips per reporter, and a flood window no slow machine can outlast.
ROOMY = {"max_per_hour": "100", "sections": "[reward]\nmonthly_cap = 1000\n"}


def zh(key: str, **params: object) -> str:
    return tr("zh", key, **params)


async def opened(w: World) -> None:
    """Everyone has opened a chat with the bot (so notices can reach them)."""
    for user in NAMES:
        w.emu.send_text(user, "/start")
    await w.idle()


async def submitted(w: World, reporter: int) -> tuple[Tip, str]:
    """A tip from ``reporter`` (dispatched to group 1) and its claim secret."""
    w.clock.advance(minutes=1)
    draft = replace(
        Draft(user_id=reporter).with_location(*CENTRE, None, None),
        step=Step.REVIEW,
        seen=Seen.NOW,
        people=People.ONE,
    )
    await w.services.reports.save(draft)
    result = await w.services.reports.submit(reporter)
    assert result.value is not None and result.value.secret
    return result.value.tip, result.value.secret


async def verified(w: World, reporter: int = REPORTER) -> tuple[Tip, Reward, str]:
    """A tip from ``reporter``, closed "brought in" by G1_MEMBER2 (so the officer may approve
    its reward); returns the tip, its pending reward and the claim secret."""
    tip, secret = await submitted(w, reporter)
    field = w.services.field
    assert (await field.act(tip.id, Action.CLAIM, G1_MEMBER2)).ok
    assert (await field.act(tip.id, Action.ARRIVE, G1_MEMBER2)).ok
    assert (await field.act(tip.id, Action.CLOSE, G1_MEMBER2, outcome=Outcome.BROUGHT_IN)).ok
    await w.idle()
    reward = await w.repo.rewards.for_tip(tip.id)
    assert reward is not None and reward.state is RewardState.PENDING
    return tip, reward, secret


async def says(w: World, user: int, text: str, expect: str | None = None) -> dict:
    w.mark(user)
    w.emu.send_text(user, text)
    return await w.next_bot(user, expect)


def datas(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def now_shows(w: World, chat: int, message_id: int, check) -> dict:
    """The message once ``check(message)`` holds (an edit may still be on its way)."""
    try:
        return await w.until(lambda: (m := w.message(chat, message_id)) and check(m) and m)
    except TimeoutError:
        raise AssertionError(f"message {message_id} still: {w.message(chat, message_id)}") from None


async def events(w: World, tip_id: int, action: str) -> int:
    return sum(e["action"] == action for e in await w.repo.events.of(tip_id))


async def ledger_count(w: World, reward_id: int, entry: str) -> int:
    return sum(
        e["reward_id"] == reward_id and e["entry"] == entry for e in await w.repo.ledger.entries()
    )


# -- 13: promise only what the reward's state supports ----------------------------------------


async def test_fr13_reporter_is_told_only_what_the_reward_state_supports(tmp_path: Path) -> None:
    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        rewards = w.services.rewards
        # An anonymous reporter (zh) and one who shares a number (en).
        w.mark(REPORTER)
        w.mark(REPORTER_EN)
        tip, reward, _ = await verified(w, REPORTER)
        pending = await w.next_bot(REPORTER, "🎁")
        # Verified, yes; the reward is not theirs yet: it waits for the duty officer's review.
        assert "等待值班人员审核" in pending["text"] and "可获得" not in pending["text"]
        assert pending["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        _tip_en, reward_en, _ = await verified(w, REPORTER_EN)
        pending_en = await w.next_bot(REPORTER_EN, "🎁")
        assert "waiting for the duty officer's review" in pending_en["text"]
        assert "earns a" not in pending_en["text"]

        # They are told on approval — and what really happens next, without "paid soon".
        assert (await rewards.approve(reward.id, OFFICER)).ok
        approved = await w.next_bot(REPORTER, "审核通过")
        assert tip.code in approved["text"] and "即将发放" not in approved["text"]
        assert "领奖密码" in approved["text"]  # anonymous: the two ways to receive it
        w.emu.send_contact(REPORTER_EN, "+8613800000003", contact_user_id=REPORTER_EN)
        saved = await w.next_bot(REPORTER_EN, "number")
        assert "once approved" in saved["text"]  # still pending: "once approved" is true
        assert (await rewards.approve(reward_en.id, OFFICER)).ok
        approved_en = await w.next_bot(REPORTER_EN, "approved")
        assert "paid soon" not in approved_en["text"]
        assert "number you gave" in approved_en["text"]

        # Rejected (after approval): with the reason, as before.
        assert (await rewards.reject(reward_en.id, OFFICER, "reported from outside the city")).ok
        rejected = await w.next_bot(REPORTER_EN, "not approved")
        assert "reported from outside the city" in rejected["text"]

        # Paid: when and how. Reversed: the "paid" they were told no longer stands — say so.
        assert (await rewards.pay(reward.id, OFFICER, PayMethod.CASH, "R-1", 200)).ok
        paid = await w.next_bot(REPORTER, "已于")
        assert zh("pay.cash") in paid["text"] and "2026-12-01" in paid["text"]
        assert (await rewards.reverse(reward.id, OFFICER, "wrong receipt number")).ok
        reversed_ = await w.next_bot(REPORTER, "更正")
        assert tip.code in reversed_["text"] and "wrong receipt" not in reversed_["text"]
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.APPROVED


# -- 15: the ledger: state now, movements apart -----------------------------------------------


def _cell(count: int, yuan: int) -> str:
    return zh("ledger.cell", count=count, yuan=yuan)


def _state_line(pending, approved, paid, rejected) -> str:
    return zh(
        "ledger.state_line",
        pending=_cell(*pending),
        approved=_cell(*approved),
        paid=_cell(*paid),
        rejected=_cell(*rejected),
    )


def _moves_line(period: str, created, approved, rejected, paid, reversed_) -> str:
    return zh(
        "ledger.moves_line",
        period=zh(f"ledger.{period}"),
        created=_cell(*created),
        approved=_cell(*approved),
        rejected=_cell(*rejected),
        paid=_cell(*paid),
        reversed=_cell(*reversed_),
        net=paid[1] + reversed_[1],
    )


def _export_figures(rows: list[list]) -> tuple[dict, dict]:
    """(state label → (count, yuan), (movement label, period) → (count, yuan)) read back."""
    from bot.services.exports import MOVE_ROWS, NET_PAID, STATE_ROWS

    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    state = {
        row[0]: (int(row[1]), int(row[2]))
        for row in cells
        if row and row[0] in dict(STATE_ROWS).values()
    }
    moves = {}
    for row in cells:
        if row and row[0] in dict(MOVE_ROWS).values():
            for i, period in enumerate(("today", "month", "campaign")):
                moves[(row[0], period)] = (int(row[1 + 2 * i]), int(row[2 + 2 * i]))
        elif row and row[0] == NET_PAID:
            for i, period in enumerate(("today", "month", "campaign")):
                moves[(NET_PAID, period)] = int(row[2 + 2 * i])
    return state, moves


async def test_fr15_ledger_shows_state_now_and_labelled_movements(tmp_path: Path) -> None:
    from bot.services.exports import MOVE_ROWS, NET_PAID, STATE_ROWS, ledger_export, summary_rows

    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        rewards = w.services.rewards
        _tip, reward, _ = await verified(w)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        assert (await rewards.pay(reward.id, OFFICER, PayMethod.WECHAT, "TX-1", 200)).ok

        # One reward, pending → approved → paid: it is counted once, as paid.
        text = plain((await says(w, OFFICER, "/ledger", "奖励台账"))["text"])
        lines = text.splitlines()
        assert _state_line((0, 0), (0, 0), (1, 200), (0, 0)) in lines
        state_block = text.split("\n\n")[0]
        assert "待批准 1 笔" not in state_block and "已批准 1 笔" not in state_block
        # Apart, and labelled as such: what happened today / this month / in the campaign.
        assert zh("ledger.moves_head") in lines
        for period in ("today", "month", "campaign"):
            expected = _moves_line(period, (1, 200), (1, 200), (0, 0), (1, 200), (0, 0))
            assert expected in lines, (expected, lines)
        assert lines.index(zh("ledger.state_head")) < lines.index(zh("ledger.moves_head"))

        # A reversal: the reward is owed again (approved, not yet paid); the movements keep
        # the payment and show its reversal.
        assert (await rewards.reverse(reward.id, OFFICER, "wrong account")).ok
        lines = plain((await says(w, OFFICER, "/ledger", "奖励台账"))["text"]).splitlines()
        assert _state_line((0, 0), (1, 200), (0, 0), (0, 0)) in lines
        expected = _moves_line("campaign", (1, 200), (1, 200), (0, 0), (1, 200), (1, -200))
        assert expected in lines

        # Paid again with another amount, and a second reward rejected.
        assert (await rewards.pay(reward.id, OFFICER, PayMethod.BANK, "TX-2", 180)).ok
        _tip2, reward2, _ = await verified(w, REPORTER_EN)
        assert (await rewards.reject(reward2.id, OFFICER, "not in our city")).ok
        state = ((0, 0), (0, 0), (1, 180), (1, 200))
        moves = ((2, 400), (1, 200), (1, 200), (2, 380), (1, -200))
        ledger_msg = await says(w, OFFICER, "/ledger", "奖励台账")
        lines = plain(ledger_msg["text"]).splitlines()
        assert _state_line(*state) in lines
        for period in ("today", "month", "campaign"):
            assert _moves_line(period, *moves) in lines

        # The export computed at the bot's "now" is exactly what /ledger showed.
        export = await ledger_export(
            w.repo.ledger,
            w.repo.rewards,
            zoneinfo.ZoneInfo(w.config.station.timezone),
            Campaign(w.config.campaign.start, w.config.campaign.end),
            now=w.clock.now,
        )
        assert export.report == await rewards.ledger_report()
        assert (
            rv.ledger_text(export.report, "zh")
            == (w.emu.message(OFFICER, ledger_msg["message_id"])["raw_text"])
        )
        exported_state, exported_moves = _export_figures(summary_rows(export))
        assert exported_state == dict(zip(dict(STATE_ROWS).values(), state, strict=True))
        for period in ("today", "month", "campaign"):
            for (_, label), figure in zip(MOVE_ROWS, moves, strict=True):
                assert exported_moves[(label, period)] == figure
            assert exported_moves[(NET_PAID, period)] == 180

        config_path = tmp_path / "config.toml"
        config_path.write_text(
            f'[station]\ndatabase = "{w.db_path}"\n[[groups]]\nkey = "g1"\nname = "x"\n'
            f'chat_id = -1\nleader = 1\n[roster]\norder = ["g1"]\n',
            encoding="utf-8",
        )
    # The command the finance office runs (its own clock: the campaign block and the state
    # are the same whatever day it runs in the campaign's aftermath).
    out_csv, out_xlsx = tmp_path / "ledger.csv", tmp_path / "ledger.xlsx"
    for out in (out_csv, out_xlsx):
        args = ["ledger-export", "-c", str(config_path), "--out", str(out)]
        assert await asyncio.to_thread(cli_main, args) == 0
    with out_csv.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    from openpyxl import load_workbook

    book = load_workbook(out_xlsx)
    sheet_rows = [list(r) for r in book["totals"].iter_rows(values_only=True)]
    for summary in (rows, sheet_rows):
        got_state, got_moves = _export_figures(summary)
        assert got_state == dict(zip(dict(STATE_ROWS).values(), state, strict=True))
        for (_, label), figure in zip(MOVE_ROWS, moves, strict=True):
            assert got_moves[(label, "campaign")] == figure
        assert got_moves[(NET_PAID, "campaign")] == 180
    entries = [row for row in rows[1:] if row and row[0].isdigit()]
    assert [row[4] for row in entries] == [
        "pending",
        "approved",
        "paid",
        "reversal",
        "paid",
        "pending",
        "rejected",
    ]
    assert book["ledger"].max_row == len(entries) + 1


# -- 16: /claim says at once why it cannot pay ------------------------------------------------

CLAIM_STATES = ("none", "pending", "approved", "rejected", "paid", "locked")


async def test_fr16_claim_answers_every_reward_state_at_once(tmp_path: Path) -> None:
    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        rewards = w.services.rewards
        for state in CLAIM_STATES:
            if state == "none":  # an open tip: nothing verified, no reward
                tip, secret = await submitted(w, REPORTER_EN)
            else:
                tip, reward, secret = await verified(w)
            if state in ("approved", "paid", "locked"):
                assert (await rewards.approve(reward.id, OFFICER)).ok
            if state == "rejected":
                assert (await rewards.reject(reward.id, OFFICER, "拍摄地点不在本市")).ok
            if state == "paid":
                assert (await rewards.pay(reward.id, OFFICER, PayMethod.ALIPAY, "A-9", 200)).ok
            if state == "locked":
                wrong = "AAAAAA" if secret != "AAAAAA" else "BBBBBB"
                for _ in range(5):
                    await rewards.check_claim(tip, wrong, OFFICER)
            await w.idle()
            before = await w.repo.rewards.for_tip(tip.id)

            answer = await says(w, OFFICER, f"/claim {tip.code} {secret}")
            text = answer["text"]
            expected = {
                "none": zh("claim.no_reward", code=tip.code),
                "pending": zh("claim.not_approved", code=tip.code),
                "approved": zh("claim.ok", code=tip.code, amount=200),
                "rejected": zh("claim.rejected", code=tip.code, reason="拍摄地点不在本市"),
                "paid": zh(
                    "claim.paid",
                    code=tip.code,
                    amount=200,
                    date="2026-12-01",
                    method=zh("pay.alipay"),
                ),
                "locked": zh("claim.locked", code=tip.code),
            }[state]
            assert text == expected, (state, text)
            after = await w.repo.rewards.for_tip(tip.id)
            if state == "approved":
                # Only an approved reward goes on to the method (and is ready for it).
                assert {d.split(":")[1] for d in datas(answer)} == {"m"}
                assert after.claim_verified_by == OFFICER
                pending = await w.repo.inputs.get(OFFICER)
                assert pending is not None and pending[0] == "pay_method"
            else:
                assert datas(answer) == [], state  # nothing to walk through
                assert after == before, state  # no try used up, nothing changed
                assert "密码正确" not in text and zh("reward.err.no_reward") != text
            await w.services.answers.drop(OFFICER)


# -- 17: a message whose action is done shows the new state -----------------------------------


async def test_fr17_every_reward_button_shows_the_new_state_and_refuses_a_second_press(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        rewards = w.services.rewards

        # -- approve: the list is edited to the new state (and now offers the payment).
        tip, reward, _ = await verified(w)
        listing = await says(w, OFFICER, "/rewards", tip.code)
        approve = f"rw:ok:{reward.id}"
        assert approve in datas(listing)
        answer = await w.press(OFFICER, OFFICER, listing, f"批准 {tip.code}")
        assert answer["text"] == zh("reward.done.approved", code=tip.code)
        edited = await now_shows(
            w, OFFICER, listing["message_id"], lambda m: approve not in datas(m)
        )
        assert f"rw:pay:{reward.id}" in datas(edited)
        assert f"{tip.code} · {zh('reward_state.approved')}" in edited["text"]
        again = await w.press_data(OFFICER, OFFICER, listing["message_id"], approve)
        assert again["show_alert"] and "已经批准过了" in again["text"]
        await w.idle()
        assert await ledger_count(w, reward.id, "approved") == 1
        assert await events(w, tip.id, "reward_approve") == 1

        # -- reject: the list shows it gone once the reason is in; the old button does nothing.
        tip, reward, _ = await verified(w)
        listing = await says(w, OFFICER, "/rewards", tip.code)
        reject = f"rw:no:{reward.id}"
        await w.press_data(OFFICER, OFFICER, listing["message_id"], reject)
        await w.next_bot(OFFICER, zh("reward.ask.reason", code=tip.code))
        w.emu.send_text(OFFICER, "同一人重复报告")
        await w.next_bot(OFFICER, zh("reward.done.rejected", code=tip.code))
        await now_shows(
            w,
            OFFICER,
            listing["message_id"],
            lambda m: not {reject, f"rw:ok:{reward.id}"} & set(datas(m)),
        )
        w.mark(OFFICER)
        again = await w.press_data(OFFICER, OFFICER, listing["message_id"], reject)
        assert again["show_alert"] and "已经驳回" in again["text"]
        assert await w.quiet(OFFICER) == []  # no second question
        assert await w.repo.inputs.get(OFFICER) is None
        assert await ledger_count(w, reward.id, "rejected") == 1

        # -- pay, each method, the amount: every prompt ends showing what was done.
        for method in PayMethod:
            tip, reward, _ = await verified(w)
            assert (await rewards.approve(reward.id, OFFICER)).ok
            listing = await says(w, OFFICER, "/rewards", tip.code)
            pay = f"rw:pay:{reward.id}"
            await w.press_data(OFFICER, OFFICER, listing["message_id"], pay)
            methods = await w.next_bot(OFFICER, zh("reward.ask.method", code=tip.code))
            chosen = f"rw:m:{reward.id}:{method.value}"
            assert chosen in datas(methods)
            await w.press(OFFICER, OFFICER, methods, zh(f"pay.{method.value}"))
            await w.next_bot(OFFICER, zh("reward.ask.reference", code=tip.code))
            shown = await now_shows(w, OFFICER, methods["message_id"], lambda m: not datas(m))
            assert f"✓ {zh(f'pay.{method.value}')}" in shown["text"], shown["text"]
            # The method pressed again (or another one on the same prompt): already chosen.
            for data in (chosen, f"rw:m:{reward.id}:cash"):
                again = await w.press_data(OFFICER, OFFICER, methods["message_id"], data)
                assert again["show_alert"] and zh(f"pay.{method.value}") in again["text"]
                pending = await w.repo.inputs.get(OFFICER)
                assert pending[0] == "pay_reference" and pending[1]["method"] == method.value
            w.emu.send_text(OFFICER, f"REF-{method.value}")
            amount = await w.next_bot(OFFICER, "多少元")
            confirm = f"rw:amt:{reward.id}"
            await w.press(OFFICER, OFFICER, amount, zh("btn.reward_amount", amount=200))
            await w.next_bot(
                OFFICER,
                zh("reward.done.paid", code=tip.code, amount=200, method=zh(f"pay.{method.value}")),
            )
            shown = await now_shows(w, OFFICER, amount["message_id"], lambda m: not datas(m))
            assert "✓ " + zh("btn.reward_amount", amount=200) in shown["text"]
            # The list the payment started from no longer offers it.
            await now_shows(
                w, OFFICER, listing["message_id"], lambda m, pay=pay: pay not in datas(m)
            )
            # Every old button of this payment, pressed again: "already paid", nothing more.
            w.mark(OFFICER)
            for message, data in (
                (amount, confirm),
                (methods, chosen),
                (listing, pay),
            ):
                again = await w.press_data(OFFICER, OFFICER, message["message_id"], data)
                assert again["show_alert"], data
                assert again["text"] == zh(
                    "reward.already.paid",
                    code=tip.code,
                    amount=200,
                    date="2026-12-01",
                    method=zh(f"pay.{method.value}"),
                ), data
            assert await w.quiet(OFFICER) == []
            assert await w.repo.inputs.get(OFFICER) is None
            assert await ledger_count(w, reward.id, "paid") == 1
            assert (await w.repo.rewards.get(reward.id)).method is method

        # -- the amount typed instead of pressed: its prompt shows it too, no button left.
        tip, reward, _ = await verified(w)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        listing = await says(w, OFFICER, "/rewards", tip.code)
        await w.press_data(OFFICER, OFFICER, listing["message_id"], f"rw:pay:{reward.id}")
        methods = await w.next_bot(OFFICER, zh("reward.ask.method", code=tip.code))
        await w.press(OFFICER, OFFICER, methods, zh("pay.cash"))
        await w.next_bot(OFFICER, zh("reward.ask.reference", code=tip.code))
        w.emu.send_text(OFFICER, "REF-typed")
        amount = await w.next_bot(OFFICER, "多少元")
        assert f"rw:amt:{reward.id}" in datas(amount)
        w.emu.send_text(OFFICER, "200")
        await w.next_bot(
            OFFICER, zh("reward.done.paid", code=tip.code, amount=200, method=zh("pay.cash"))
        )
        shown = await now_shows(w, OFFICER, amount["message_id"], lambda m: not datas(m))
        assert "✓ 200" in shown["text"], shown["text"]
        assert await ledger_count(w, reward.id, "paid") == 1

        # -- /language: the picker shows the choice; its button pressed again does nothing.
        for user in (OFFICER, REPORTER):
            picker = await says(w, user, "/language", "Choose your language")
            await w.press(user, user, picker, "English")
            await w.next_bot(user, tr("en", "language.set"))
            shown = await now_shows(w, user, picker["message_id"], lambda m: not datas(m))
            assert "✓ English" in shown["text"]
            w.mark(user)
            again = await w.press_data(user, user, picker["message_id"], "r:lang:en")
            assert again["text"] == tr("en", "language.already")
            assert await w.quiet(user) == []  # no second "Language set"


# -- 18: staff's stray text is not a report --------------------------------------------------


async def test_fr18_staff_stray_text_gets_a_pointer_not_a_draft(tmp_path: Path) -> None:
    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        rewards = w.services.rewards
        _tip, reward, _ = await verified(w)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        # The officer records a payment by typing the amount…
        await w.services.answers.expect(
            OFFICER, Awaiting(Ask.AMOUNT, reward.id, None, PayMethod.CASH, "R-7")
        )
        await says(w, OFFICER, "200", "已记录")
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.PAID
        # …and types it once more: a pointer, not an address lookup and an open draft.
        pointer = await says(w, OFFICER, "200")
        assert pointer["text"] == zh("staff.pointer.officer")
        assert "/newtip" in pointer["text"] and "/report" in pointer["text"]
        w.mark(OFFICER)
        w.emu.send_location(OFFICER, *CENTRE)
        assert (await w.next_bot(OFFICER))["text"] == zh("staff.pointer.officer")
        assert await w.repo.drafts.get(OFFICER) is None
        # Text while the bot waits for a payment method chosen with buttons: said so.
        tip, reward, _ = await verified(w)
        assert (await rewards.approve(reward.id, OFFICER)).ok
        listing = await says(w, OFFICER, "/rewards", tip.code)
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {tip.code}")
        await w.next_bot(OFFICER, zh("reward.ask.method", code=tip.code))
        answer = await says(w, OFFICER, "200")
        assert answer["text"] == zh("reward.ask.method_first", code=tip.code)
        assert await w.repo.drafts.get(OFFICER) is None
        await says(w, OFFICER, "/cancel", zh("cancel.done"))

        # Leaders and members too (their own reports start on purpose, with /report).
        for user in (G1_LEADER, G1_MEMBER):
            pointer = await says(w, user, "桥下有人")
            assert pointer["text"] == zh("staff.pointer.patrol")
            assert await w.repo.drafts.get(user) is None
            await says(w, user, "/report", zh("ask.location").split("\n")[0])
            w.mark(user)
            w.emu.send_location(user, *CENTRE)
            await w.next_bot(user, zh("location.ok"))
            assert (await w.repo.drafts.get(user)).step is Step.SPOT

        # A member of the public still reports by simply typing where.
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await w.next_bot(REPORTER, zh("location.ok"))
        assert await w.repo.drafts.get(REPORTER) is not None


async def test_fr18_a_new_report_supersedes_an_open_reward_question(tmp_path: Path) -> None:
    """The other way round: an officer who left a payment half-way (the bot waits for a
    reference) and then logs a hotline call has the address taken for the call."""
    async with world(tmp_path, **ROOMY) as w:
        await opened(w)
        tip, reward, _ = await verified(w)
        assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
        listing = await says(w, OFFICER, "/rewards", tip.code)
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {tip.code}")
        methods = await w.next_bot(OFFICER, zh("reward.ask.method", code=tip.code))
        await w.press(OFFICER, OFFICER, methods, zh("pay.wechat"))
        await w.next_bot(OFFICER, zh("reward.ask.reference", code=tip.code))
        await says(w, OFFICER, "/newtip", zh("ask.location_hotline").split("\n")[0])
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "黄石站门口")
        await w.next_of_kind(OFFICER, "venue")  # looked up as the caller's place
        assert (await w.repo.drafts.get(OFFICER)).step is Step.CONFIRM_PLACE
        assert await w.repo.inputs.get(OFFICER) is None
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.APPROVED


# -- 19: the flood guard: staff are not flooders; a dropped press says so ---------------------


def test_fr19_flood_guard_gives_staff_a_much_higher_limit() -> None:
    now = [0.0]
    guard = FloodGuard(20, 10, clock=lambda: now[0], is_staff={OFFICER}.__contains__)
    assert all(guard.allow(OFFICER)[0] for _ in range(200))  # ten times a reporter's limit
    assert guard.allow(OFFICER) == (False, True)
    assert all(guard.allow(REPORTER)[0] for _ in range(20))
    assert guard.allow(REPORTER) == (False, True)
    now[0] = 11.0
    assert guard.allow(REPORTER)[0] and guard.allow(OFFICER)[0]


def test_fr19_flood_guard_counts_messages_by_when_they_were_sent() -> None:
    """A backlog handled at once after an outage is not a flood; a flood handled slowly (a
    busy machine) still is."""
    guard = FloodGuard(20, 10, clock=lambda: 1_000.0)  # "now", when the bot gets to them
    # 30 messages a reporter sent over five minutes while the bot was down.
    assert all(guard.allow(REPORTER, at=700.0 + 10 * i)[0] for i in range(30))
    # 30 messages another sent within two seconds, handled over a minute: 20 pass.
    allowed = [guard.allow(REPORTER_EN, at=900.0 + i / 15)[0] for i in range(30)]
    assert allowed == [True] * 20 + [False] * 10


FLOOD = {"flood_max": "5", "sections": "flood_window_seconds = 600\n[reward]\nmonthly_cap = 99\n"}


async def test_fr19_officers_confirmation_is_not_dropped_by_the_flood_guard(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, max_per_hour="100", **FLOOD) as w:
        await opened(w)
        tip, reward, _ = await verified(w)
        assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
        await w.services.answers.expect(
            OFFICER, Awaiting(Ask.AMOUNT, reward.id, None, PayMethod.WECHAT, "W-1")
        )
        for _ in range(8):  # a busy officer: more updates than a reporter may send
            await w.roundtrip(OFFICER)
        amount = await says(w, OFFICER, "/rewards", tip.code)  # (any message to press on)
        answer = await w.press_data(OFFICER, OFFICER, amount["message_id"], f"rw:amt:{reward.id}")
        assert answer["text"] != t("zh", "flood.button")
        await w.next_bot(OFFICER, "已记录")
        assert (await w.repo.rewards.get(reward.id)).state is RewardState.PAID


async def test_fr19_a_dropped_press_says_nothing_was_recorded(tmp_path: Path) -> None:
    async with world(tmp_path, **FLOOD) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        seen = await w.next_bot(REPORTER, zh("ask.seen"))
        for _ in range(3):  # five updates with the location and the spot: the limit
            await w.roundtrip(REPORTER)
        for _ in range(3):  # every dropped press is answered, and says it was NOT done
            answer = await w.press(REPORTER, REPORTER, seen, zh("seen.now"))
            assert answer["show_alert"] is True
            assert "没有记录" in answer["text"] and "再按" in answer["text"], answer
        await w.idle()
        draft = await w.repo.drafts.get(REPORTER)
        assert draft.step is Step.SEEN and draft.seen is None  # nothing was recorded
        # A message dropped after them still gets the burst's one reply, which says so too.
        flood = await says(w, REPORTER, "刚刚看到的")
        assert "没有处理" in flood["text"]
        assert await w.quiet(REPORTER) == []  # and only that one


async def test_fr18_an_officers_reply_to_the_bots_question_is_the_answer(tmp_path: Path) -> None:
    """Sibling of #18: answering the bot's question with Telegram's "reply" (the natural way
    on a phone) is the answer too — not a stray text that falls to the report flow."""
    async with world(tmp_path) as w:
        await opened(w)
        tip, reward, _ = await verified(w)
        listing = await says(w, OFFICER, "/rewards", tip.code)
        await w.press_data(OFFICER, OFFICER, listing["message_id"], f"rw:no:{reward.id}")
        question = await w.next_bot(OFFICER, zh("reward.ask.reason", code=tip.code))
        w.emu.send_text(OFFICER, "同一人重复报告", reply_to=question["message_id"])
        await w.next_bot(OFFICER, zh("reward.done.rejected", code=tip.code))
        rejected = await w.repo.rewards.get(reward.id)
        assert rejected.state is RewardState.REJECTED and rejected.reject_reason == "同一人重复报告"
        assert await w.repo.drafts.get(OFFICER) is None
        # The pay flow's reference, answered by reply too.
        tip, reward, _ = await verified(w)
        assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
        listing = await says(w, OFFICER, "/rewards", tip.code)
        await w.press_data(OFFICER, OFFICER, listing["message_id"], f"rw:pay:{reward.id}")
        methods = await w.next_bot(OFFICER)
        await w.press(OFFICER, OFFICER, methods, zh("pay.wechat"))
        ask = await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "4200009999", reply_to=ask["message_id"])
        await w.next_bot(OFFICER, "多少元")
        assert await w.repo.drafts.get(OFFICER) is None


async def test_fr13_a_reward_without_a_claim_secret_points_to_mytips(tmp_path: Path) -> None:
    """A tip sent at the monthly cap got no claim secret (#14); if a rejection frees a place
    and it earns after all, the reporter is not told to bring "the secret you got"."""
    sections = "[reward]\nmonthly_cap = 1\n"
    async with world(tmp_path, max_per_hour="100", sections=sections) as w:
        await opened(w)
        _first, reward, _ = await verified(w)
        w.clock.advance(minutes=1)
        draft = replace(
            Draft(user_id=REPORTER).with_location(30.21, 115.05, None, None),
            step=Step.REVIEW,
            seen=Seen.NOW,
            people=People.ONE,
        )
        await w.services.reports.save(draft)
        result = await w.services.reports.submit(REPORTER)
        assert result.value is not None and result.value.secret is None  # at the cap
        second = result.value.tip
        assert (await w.services.rewards.reject(reward.id, OFFICER, "同一人重复报告")).ok
        # The receipt and the rejection notice (both mention /mytips) are delivered first.
        await w.outbox_idle()
        w.mark(REPORTER)
        field = w.services.field
        assert (await field.act(second.id, Action.CLAIM, G1_MEMBER2)).ok
        assert (await field.act(second.id, Action.ARRIVE, G1_MEMBER2)).ok
        closed = await field.act(second.id, Action.CLOSE, G1_MEMBER2, outcome=Outcome.BROUGHT_IN)
        assert closed.ok
        pending = await w.next_bot(REPORTER, "/mytips")
        expected = plain(zh("reward.pending_no_secret", code=second.code, amount=200))
        assert pending["text"] == expected
        owed = await w.repo.rewards.for_tip(second.id)
        assert (await w.services.rewards.approve(owed.id, OFFICER)).ok
        approved = await w.next_bot(REPORTER, "/mytips")
        assert approved["text"] == plain(
            zh("reward.approved_anonymous_no_secret", code=second.code, amount=200)
        )


async def test_fr20_rewards_list_names_an_unseen_verifier_by_role(tmp_path: Path) -> None:
    """Sibling of #20: /rewards names who recorded the outcome; before the bot has seen that
    member's name it says their role, not "—" (and never a bare id)."""
    async with world(tmp_path) as w:
        w.emu.send_text(OFFICER, "/start")
        await w.idle()
        tip, _reward, _ = await verified(w)  # recorded by G1_MEMBER2, who never wrote to the bot
        listing = await says(w, OFFICER, "/rewards", tip.code)
        assert zh("role.member") in listing["text"]
        assert str(G1_MEMBER2) not in listing["text"]
