"""``warmline demo`` shows the web report form too (issue 15): its page links to the form on
the demo's own bot. Debian's Chromium via Playwright, as tests/test_browser.py."""

from __future__ import annotations

from bot.i18n import t
from tests.test_browser import demo, page  # noqa: F401  (the demo and its page, fixtures)


def test_the_demo_links_to_the_form_of_its_own_bot(demo, page) -> None:  # noqa: F811
    """``warmline demo``: a "网页报告" link opens the form against the demo's bot."""
    from playwright.sync_api import expect

    link = page.locator("#web-report")
    expect(link).to_be_visible()
    expect(link).to_contain_text("网页报告")
    href = link.get_attribute("href")
    assert href == demo.report_url and href.endswith("/report/")
    with page.context.expect_page() as opened:
        link.click()
    form = opened.value
    # The form speaks the browser's language (this headless one says en-US).
    expect(form.locator("h1")).to_have_text(t("en", "web.title"))
    expect(form.locator("#send")).to_be_visible()
