"""The web report form in a real browser (issue 15): Debian's Chromium, headless, driven by
Playwright, on a phone's viewport (390×844), against the real bot and the Bot API emulator.

Every test also proves: no request left the bot's origin, and the page logged no error.
Chromium must be at /usr/bin/chromium (see tests/test_browser.py); without it these fail.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from bot.i18n import t
from tests.harness import CENTRE, G1_CHAT, G1_MEMBER, OFFICER, OUTSIDE, World, world
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.test_web_report import jpeg_with_gps, let_time_pass, tips_count

TIMEOUT_MS = 20_000
PHONE = {"width": 390, "height": 844}
CODE = re.compile(r"HS-\d{4}")
SECRET = re.compile(r"[A-Z0-9]{6}$")


@asynccontextmanager
async def phone(
    w: World, tmp_path: Path, *, where: tuple[float, float] | None = CENTRE
) -> AsyncIterator:
    """A phone's browser on the form; ``where``: the position it gives (None: refused)."""
    require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    origin = urlsplit(w.web_url).netloc
    outside: list[str] = []
    errors: list[str] = []

    async def same_origin(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == origin:
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        options: dict = {"viewport": PHONE, "locale": "zh-CN", "is_mobile": True}
        if where is not None:
            options |= {
                "geolocation": {"latitude": where[0], "longitude": where[1]},
                "permissions": ["geolocation"],
            }
        context = await browser.new_context(**options)
        try:
            await context.route("**/*", same_origin)
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await page.goto(f"{w.web_url}/report/")
            yield page
            await page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        finally:
            await context.close()
            await browser.close()
    assert outside == [], f"the page reached beyond the bot's origin: {outside}"
    assert errors == [], f"errors in the page: {errors}"


async def fill_the_rest(w: World, page, *, flags: tuple[str, ...] = ()) -> None:
    """Spot, when, how many, flags, a few words: a person's choices, by their words."""
    await page.get_by_label(t("zh", "spot.park_bench")).check()
    await page.get_by_label(t("zh", "seen.now")).check()
    await page.get_by_label(t("zh", "people.1")).check()
    for flag in flags:
        await page.get_by_label(t("zh", f"flag.{flag}")).check()
    await page.locator("#words").fill("穿灰色棉衣，躺在长椅上")
    let_time_pass(w)  # the minimum fill time, without waiting for it


async def receipt(page) -> tuple[str, str]:
    from playwright.async_api import expect

    await expect(page.locator("#code")).to_contain_text("HS-")
    code = CODE.search(await page.locator("#code").inner_text())
    secret = SECRET.search((await page.locator("#secret").inner_text()).strip())
    assert code and secret
    await expect(page.locator(".save")).to_contain_text("只显示这一次")
    return code.group(0), secret.group(0)


async def test_a_phone_reports_and_follows_the_tip_to_the_reward(tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with world(tmp_path) as w, phone(w, tmp_path) as page:
        await page.locator("#locate").click()
        await expect(page.locator("#geo-status")).to_have_text(t("zh", "web.location_set"))
        await expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
        assert await page.locator("#lat").input_value() == f"{CENTRE[0]:.6f}"
        # Not quite there: the reporter drags the marker a little east.
        box = await page.locator("#map .leaflet-marker-icon").bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
        await page.mouse.move(x, y)
        await page.mouse.down()
        await page.mouse.move(x + 60, y, steps=8)
        await page.mouse.up()
        await expect(page.locator("#lon")).not_to_have_value(f"{CENTRE[1]:.6f}")
        moved_lon = float(await page.locator("#lon").input_value())
        assert CENTRE[1] < moved_lon < CENTRE[1] + 0.01
        advice = page.locator("#urgent-advice")
        await expect(advice).to_be_hidden()
        await fill_the_rest(w, page, flags=("child",))
        await expect(advice).to_be_visible()  # the 120/110 advice, at once, on ticking
        await expect(advice).to_contain_text("120 / 110")
        await page.locator("#photo").set_input_files(
            {"name": "street.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
        )
        await page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
        await page.locator("#send").click()
        code, secret = await receipt(page)
        await page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)

        # The card reaches the on-duty group; the photo there carries no EXIF at all.
        card = await w.wait_card(G1_CHAT, code)
        tip = await w.tip_by_code(code)
        assert tip is not None and tip.lon == round(moved_lon, 6)  # where the marker was left
        assert "网页报告" in card["text"] and "公园长椅" in card["text"]
        photo = await w.until(
            lambda: next((m for m in w.bot_msgs(G1_CHAT) if m.get("photo")), None)
        )
        with Image.open(io.BytesIO(w.emu.file_bytes(photo["photo"][-1]["file_id"]))) as image:
            assert not image.getexif()

        # The status link asks for the secret, then shows the state in /mytips' words.
        await page.locator("#status-link").click()
        await page.locator("#secret").fill(secret.lower())
        await page.get_by_role("button", name=t("zh", "web.open")).click()
        await expect(page.locator("#state")).to_contain_text(t("zh", "reporter_state.dispatched"))

        await w.press(G1_MEMBER, G1_CHAT, card, "认领")
        card = await w.wait_card(G1_CHAT, code, "已认领")
        await page.locator("#refresh").click()
        await expect(page.locator("#state")).to_contain_text(t("zh", "reporter_state.claimed"))

        await w.press(G1_MEMBER, G1_CHAT, card, "已到现场")
        card = await w.wait_card(G1_CHAT, code, "已到现场")
        await w.press(G1_MEMBER, G1_CHAT, card, "带回站内")
        await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, card["message_id"]), "确认")
        await w.wait_card(G1_CHAT, code, "已结案")
        await page.locator("#refresh").click()
        await expect(page.locator("#state")).to_contain_text(t("zh", "reporter_outcome.brought_in"))
        await expect(page.locator("#reward")).to_contain_text(t("zh", "reward_state.pending"))
        await expect(page.locator("#reward")).to_contain_text(t("zh", "web.reward_counter"))

        # Approved by an officer in Telegram, then paid at the counter by the anonymous claim.
        tip = await w.tip_by_code(code)
        reward = await w.repo.rewards.for_tip(tip.id)
        assert (await w.services.rewards.approve(reward.id, OFFICER)).ok
        await page.locator("#refresh").click()
        await expect(page.locator("#reward")).to_contain_text(t("zh", "reward_state.approved"))
        w.emu.send_text(OFFICER, "/start")
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, f"/claim {code} {secret}")
        ok = await w.next_bot(OFFICER, "密码正确")
        await w.press(OFFICER, OFFICER, ok, "站内现金")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "收据 0042")
        await w.next_bot(OFFICER, "多少元")
        w.emu.send_text(OFFICER, "200元")
        await w.next_bot(OFFICER, "已记录")
        await page.locator("#refresh").click()
        await expect(page.locator("#reward")).to_contain_text(t("zh", "reward_state.paid"))


async def test_location_refused_a_typed_landmark_is_looked_up_and_confirmed(
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async with world(tmp_path) as w, phone(w, tmp_path, where=None) as page:
        await page.locator("#locate").click()
        await expect(page.locator("#geo-status")).to_have_text(t("zh", "web.location_denied"))
        await page.locator("#address").fill("黄石站")
        await page.locator("#lookup").click()
        places = page.locator("#places")
        await expect(places).to_contain_text("黄石站")
        first = places.locator("input[name=place]").first
        await expect(first).to_be_checked()
        await fill_the_rest(w, page)
        await page.locator("#send").click()
        code, _ = await receipt(page)
        tip = await w.tip_by_code(code)
        assert tip is not None and abs(tip.lat - 30.1565) < 0.01  # the station's position
        card = await w.wait_card(G1_CHAT, code)
        assert "黄石站" in card["text"]


async def test_the_form_works_without_javascript(tmp_path: Path) -> None:
    require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with world(tmp_path) as w, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport=PHONE, locale="zh-CN", java_script_enabled=False
        )
        page = await context.new_page()
        await page.goto(f"{w.web_url}/report/")
        await expect(page.locator("#locate")).to_be_hidden()  # nothing that needs a script
        await page.locator("#address").fill("磁湖")
        await page.locator("#lookup").click()
        await expect(page.locator("#places")).to_contain_text("磁湖")
        await page.get_by_label(t("zh", "flag.ill")).check()
        await expect(page.locator("#urgent-advice")).to_be_visible()  # CSS alone
        await fill_the_rest(w, page)
        await page.locator("#send").click()
        code, _ = await receipt(page)
        await w.wait_card(G1_CHAT, code)
        await browser.close()


async def test_a_position_outside_the_area_gets_the_hotline_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async with world(tmp_path) as w, phone(w, tmp_path, where=OUTSIDE) as page:
        await page.locator("#locate").click()
        await expect(page.locator("#geo-status")).to_have_text(t("zh", "web.location_set"))
        await fill_the_rest(w, page)
        await page.locator("#send").click()
        await expect(page.locator(".message")).to_contain_text("0714-0000000")
        await expect(page.locator(".message")).to_contain_text("没有保存")
        assert await tips_count(w) == 0


async def test_english_by_the_link(tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with world(tmp_path) as w, phone(w, tmp_path) as page:
        await page.get_by_role("link", name="English").click()
        await expect(page.locator("h1")).to_have_text(t("en", "web.title"))
        await expect(page.locator("html")).to_have_attribute("lang", "en")

