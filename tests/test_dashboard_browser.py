"""Issue 14: the duty map and the figures page in a real browser (Debian's Chromium through
Playwright, as tests/test_browser.py), on a phone-sized viewport (390 × 844).

`/dashboard` from the bot → the link → signed in → the map shows exactly the open tips in
their states' colours; a claim in Telegram moves its marker live (server-sent events); late
ones are marked; the figures page shows the domain's figures; the link cannot be used twice;
an expired session is refused; no request leaves the server's origin and the page logs no
error. With ``WARMLINE_DOCS_SCREENSHOT=1`` the map's screenshot is also written to
docs/dashboard.png (README's picture).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.domain.tips import Action, Outcome
from tests.harness import (
    CENTRE,
    G1_CHAT,
    G1_MEMBER,
    OFFICER,
    REPORTER,
    STRANGER,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    submit_tip,
    tr,
)
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.test_dashboard import ask_link, dashboard_world, link_for

pytestmark = [pytest.mark.usefixtures("clean_log")]

TIMEOUT_MS = 30_000  # a bound on waiting on a busy machine, not a speed check
DOCS = Path(__file__).resolve().parent.parent / "docs"
#: The marker colours of dashboard.css, as the browser computes them.
FILL = {
    "urgent": "rgb(214, 39, 40)",
    "unclaimed": "rgb(242, 194, 0)",
    "claimed": "rgb(31, 119, 180)",
}


async def test_the_duty_map_on_a_phone(tmp_path: Path) -> None:
    require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with dashboard_world(tmp_path) as w:
        urgent = await submit_tip(w, REPORTER, flags=("child",), where=CENTRE)
        normal = await submit_tip(w, STRANGER, where=(30.2100, 115.0500))
        closed = await submit_tip(w, REPORTER, where=(30.1900, 115.0300))
        await w.idle()
        await w.services.field.act(
            (await w.tip_by_code(closed)).id, Action.CLOSE, OFFICER, outcome=Outcome.INVALID
        )
        # Anyone else's /dashboard is refused.
        assert await ask_link(w, STRANGER) == tr("zh", "dashboard.refused")
        link = await link_for(w)
        origin = w.web_url
        requests: list[str] = []
        errors: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = await browser.new_context(viewport={"width": 390, "height": 844})
                context.on("request", lambda request: requests.append(request.url))
                page = await context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on(
                    "console", lambda m: errors.append(m.text) if m.type == "error" else None
                )
                await page.goto(link)
                assert page.url == f"{origin}/dashboard/"  # the link left the address bar
                markers = page.locator("path[data-code]")
                await expect(markers).to_have_count(2)
                await expect(page.locator("#wl-live")).to_have_class("wl-on")
                assert await states(page) == {urgent: "urgent", normal: "unclaimed"}
                for code, state in ((urgent, "urgent"), (normal, "unclaimed")):
                    assert await fill(page, code) == FILL[state]
                assert await page.locator(f'path[data-code="{closed}"]').count() == 0

                # Six minutes on, a claim in Telegram: its marker moves live, and the urgent
                # tip (unclaimed past its 5 minutes) is marked late.
                w.clock.now = w.clock.now + dt.timedelta(minutes=6)
                card = await w.wait_card(G1_CHAT, normal)
                await w.press(G1_MEMBER, G1_CHAT, card, tr("zh", "btn.claim"))
                claimed = page.locator(f'path[data-code="{normal}"]')
                await expect(claimed).to_have_attribute("data-state", "claimed")
                assert await fill(page, normal) == FILL["claimed"]
                late = page.locator(f'path[data-code="{urgent}"]')
                await expect(late).to_have_attribute("data-late", "1")

                # Phone width: nothing wider than the screen.
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390
                # The screenshot once the (cached) CJK font is there from the first paint.
                await page.reload()
                await expect(markers).to_have_count(2)
                await expect(page.locator("#wl-live")).to_have_class("wl-on")
                await page.evaluate("document.fonts.ready")
                shot = await page.screenshot()
                (tmp_path / "dashboard.png").write_bytes(shot)
                if os.environ.get("WARMLINE_DOCS_SCREENSHOT") == "1":
                    DOCS.mkdir(exist_ok=True)
                    (DOCS / "dashboard.png").write_bytes(shot)

                # Its details: the card, the timeline, the officer's actions.
                await claimed.dispatch_event("click")
                await expect(page.locator("#wl-tip-code")).to_contain_text(normal)
                await expect(page.locator("#wl-timeline li")).to_have_count(2)
                await expect(page.locator("#wl-panel [data-action=release]")).to_be_visible()
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                (tmp_path / "details.png").write_bytes(await page.screenshot())

                # The figures: today's tips as the domain counts them.
                await page.goto(f"{origin}/dashboard/stats")
                await expect(page.locator("body")).to_have_attribute("data-ready", "today")
                received = page.locator('[data-figure="received"] b')
                await expect(received).to_have_text("3")
                await expect(page.locator('[data-figure="urgent"] b')).to_have_text("1")
                await expect(page.locator('[data-figure="open"] b')).to_have_text("2")
                await expect(page.locator("canvas")).to_have_count(3)
                (tmp_path / "stats.png").write_bytes(await page.screenshot(full_page=True))

                # The link again, in another browser: refused.
                other = await browser.new_context(viewport={"width": 390, "height": 844})
                other.on("request", lambda request: requests.append(request.url))
                again = await other.new_page()
                again.on("console", lambda m: None)
                answer = await again.goto(link)
                assert answer is not None and answer.status == 403
                await expect(again.locator("main")).to_contain_text(
                    tr("zh", "web.dash.link_used")
                )
                await other.close()

                # Twelve hours on, the session is over.
                w.clock.now = w.clock.now + dt.timedelta(hours=12, minutes=1)
                errors.clear()  # the 401 of the reload is expected (the browser logs it)
                expired = await page.goto(f"{origin}/dashboard/")
                assert expired is not None and expired.status == 401
                await expect(page.locator("main")).to_contain_text(
                    tr("zh", "web.dash.sign_in_needed")
                )
                errors[:] = [e for e in errors if "401" not in e]
                await context.close()
            finally:
                await browser.close()
    outside = [url for url in requests if not url.startswith((origin + "/", "data:"))]
    assert outside == [], f"requests beyond the server's origin: {outside}"
    assert errors == [], f"errors in the page: {errors}"


async def states(page) -> dict[str, str]:
    return await page.eval_on_selector_all(
        "path[data-code]",
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.code, n.dataset.state]))",
    )


async def fill(page, code: str) -> str:
    return await page.locator(f'path[data-code="{code}"]').evaluate(
        "node => getComputedStyle(node).fill"
    )



async def test_a_change_while_the_map_is_loading_is_shown_too(tmp_path: Path) -> None:
    """map.js fetches the map once per change event, and not twice at once: an event that
    arrives while a fetch is under way must bring one more fetch when it ends — that fetch
    may have read the tips before the change (here: held until the next tip's event is in)."""
    require_chromium()
    import asyncio

    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with dashboard_world(tmp_path) as w:
        await submit_tip(w, REPORTER, where=CENTRE)
        await w.idle()
        link = await link_for(w)
        fetched, release = asyncio.Event(), asyncio.Event()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = await (await browser.new_context()).new_page()
                await page.goto(link)
                markers = page.locator("path[data-code]")
                await expect(markers).to_have_count(1)
                await expect(page.locator("#wl-live")).to_have_class("wl-on")
                # A second stream of the same events, counted by the test.
                await page.evaluate(
                    "window.__changes = 0; new EventSource('events')"
                    ".addEventListener('change', () => { window.__changes += 1; })"
                )
                await changes_past(page, 0)

                async def held(route) -> None:  # answered by the server now, shown later
                    if fetched.is_set():  # the fetches after the held one go through
                        await route.continue_()
                        return
                    fetched.set()
                    response = await route.fetch()
                    await release.wait()
                    await route.fulfill(response=response)

                await page.route("**/dashboard/api/map", held)
                await submit_tip(w, STRANGER, where=(30.2100, 115.0500))
                await asyncio.wait_for(fetched.wait(), TIMEOUT_MS / 1000)
                await w.idle()
                seen = await page.evaluate("window.__changes")
                third = await submit_tip(w, REPORTER, where=(30.1900, 115.0300))
                await w.idle()
                # The third tip's event is in (while the second's fetch is still held).
                await changes_past(page, seen)
                release.set()
                await expect(markers).to_have_count(3)
                await expect(page.locator(f'path[data-code="{third}"]')).to_have_count(1)
            finally:
                release.set()
                await browser.close()


async def changes_past(page, seen: int) -> None:
    """Until the test's own event stream has counted more than ``seen`` change events (polled:
    the page's CSP allows no evaluated strings, so no wait_for_function)."""
    import asyncio

    for _ in range(int(TIMEOUT_MS / 50)):
        if await page.evaluate("window.__changes") > seen:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no change event past {seen}")
