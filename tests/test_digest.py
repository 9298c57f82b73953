"""A burst of tips for one group: a digest instead of a card each; urgent ones still alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.domain.draft import Draft
from bot.domain.tips import Flag, People, Seen, State
from bot.i18n import t
from tests.harness import G1_CHAT, G1_MEMBER, STRANGER, World, world


async def submit(w: World, user: int, lat: float, urgent: bool = False) -> str:
    w.emu.add_user(user, "测试", language_code="zh-hans", started=True)
    draft = replace(
        Draft(user_id=user).with_location(lat, 115.04, None, None),
        seen=Seen.NOW,
        people=People.ONE,
        flags=frozenset({Flag.CHILD}) if urgent else frozenset(),
    )
    await w.services.reports.save(draft)
    result = await w.services.reports.submit(user)
    assert result.value is not None
    return result.value.tip.code


async def test_burst_goes_out_as_a_digest_and_claiming_brings_the_full_card(tmp_path: Path) -> None:
    async with world(tmp_path, digest="4") as w:
        sender = w.app.bot_data["outbox"]
        await sender.stop()  # hold delivery: the burst arrives faster than the group can read
        codes = [await submit(w, 800001 + n, 30.10 + n * 0.01) for n in range(6)]
        urgent = await submit(w, 800099, 30.30, urgent=True)
        before = len(w.bot_msgs(G1_CHAT))
        await sender.flush()
        sender.start()
        sent = w.bot_msgs(G1_CHAT)[before:]
        digests = [m for m in sent if "6 条新报告" in (m["text"] or "")]
        assert len(digests) == 1
        digest = digests[0]
        for code in codes:
            assert code in digest["text"]
            assert w.card(G1_CHAT, code) is None  # no card of its own yet
        # The urgent tip was not held back in the digest: it has its full card.
        assert w.card(G1_CHAT, urgent) is not None and urgent not in digest["text"]
        # 1 digest + the urgent card with its pin: far fewer messages than 7 cards × 2.
        assert len(sent) == 3

        # Claiming from the digest: the line shows it, and the full card follows.
        answer = await w.press(G1_MEMBER, G1_CHAT, digest, f"认领 {codes[0]}")
        assert codes[0] in answer["text"]
        card = await w.wait_card(G1_CHAT, codes[0], t("zh", "state.claimed"))
        assert w.buttons(card)  # the claimer can go on from the full card
        digest = w.message(G1_CHAT, digest["message_id"])
        await w.until(
            lambda: t("zh", "state.claimed") in w.message(G1_CHAT, digest["message_id"])["text"]
        )
        digest = w.message(G1_CHAT, digest["message_id"])
        assert f"✋ 认领 {codes[0]}" not in w.buttons(digest)
        assert f"✋ 认领 {codes[1]}" in w.buttons(digest)
        tip = await w.tip_by_code(codes[0])
        assert tip.state is State.CLAIMED and tip.claimed_by == G1_MEMBER

        # "Details" posts a tip's full card without claiming it; strangers may not.
        answer = await w.press(STRANGER, G1_CHAT, digest, f"详情 {codes[1]}")
        assert answer["show_alert"]
        await w.press(G1_MEMBER, G1_CHAT, digest, f"详情 {codes[1]}")
        await w.wait_card(G1_CHAT, codes[1], t("zh", "state.dispatched"))
        assert (await w.tip_by_code(codes[1])).state is State.DISPATCHED


async def test_a_few_tips_still_get_cards(tmp_path: Path) -> None:
    async with world(tmp_path, digest="4") as w:
        sender = w.app.bot_data["outbox"]
        await sender.stop()
        codes = [await submit(w, 810001 + n, 30.10 + n * 0.01) for n in range(3)]
        await sender.flush()
        sender.start()
        for code in codes:
            assert w.card(G1_CHAT, code) is not None
        assert not any("新报告" in (m["text"] or "") for m in w.bot_msgs(G1_CHAT))


def test_a_digest_line_names_the_exact_spot_first() -> None:
    """A tip with an exact spot reads the same on its digest line as on its card (issue 13):
    the spot before the district."""
    import zoneinfo

    from bot.domain.spots import Spot
    from bot.views.cards import open_place, render_digest
    from tests.test_dashboard import a_tip

    plain = a_tip(State.DISPATCHED, address="团城山公园", district="下陆区")
    spotted = replace(plain, spot=Spot.PARK_BENCH, spot_text="东侧入口")
    for lang in ("zh", "en"):
        text = render_digest([spotted], lang, zoneinfo.ZoneInfo("Asia/Shanghai"))
        place = open_place(spotted, lang)
        assert place in text and "东侧入口" in place and t(lang, "spot.park_bench") in place
        assert place.index("东侧入口") < place.index("下陆区")
        # A tip without a spot keeps its old line.
        assert "下陆区 · 团城山公园" in render_digest([plain], lang, zoneinfo.ZoneInfo("UTC"))
