"""The demo's web chat in a real browser: Debian's Chromium, headless, driven by Playwright.

The demo runs in-process on free ports (emulator, bot, web chat). A reporter reports a person
from the reporter pane (a landmark location from the chooser, the answers, a sample photo); a
patrol member claims it, goes, attaches evidence by replying to the card and records the
outcome in the group pane; the duty officer sees it with /open. Every change must reach the
other panes live: the reporter is told "claimed" and "closed", the officer's copy of the card
follows the group's. Screenshots are saved under the test's tmp_path.

Chromium must be at /usr/bin/chromium (``apt-get install chromium``); without it this test
fails, on purpose: the page is part of the product.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.i18n import t
from bot.sandbox.demo import Demo
from bot.sandbox.emulator import parse_html

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
CODE_RE = re.compile(r"HS-\d{4}")
# Markup a reporter might type: it must show as text everywhere and never run.
HOSTILE = '<img src=x onerror="window.__pwned=1"><b>不是粗体</b>'


def zh(key: str, **params: object) -> str:
    """A message of the bot's catalog as the page shows it (plain text, no markup)."""
    return parse_html(t("zh", key, **params))[0]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with Demo(port=0, database=tmp_path / "demo.sqlite3") as running:
        yield running


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: install Debian's package "
            "(apt-get install -y chromium; .ci/run does it). Do not run `playwright install`."
        )


def test_debian_chromium_is_installed() -> None:
    """Not a skip: without the browser the page is untested, and that is a failure."""
    require_chromium()


@pytest.fixture
def page(demo: Demo, tmp_path: Path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    outside: list[str] = []
    errors: list[str] = []

    def local_only(route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 950},
        )
        try:
            context.route("**/*", local_only)
            tab = context.new_page()
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.on(
                "console",
                lambda msg: errors.append(msg.text) if msg.type == "error" else None,
            )
            tab.goto(demo.url)
            expect(tab.locator("#live")).to_have_attribute("data-state", "live")
            yield tab
        finally:
            context.close()
    assert outside == [], f"the page reached beyond this machine: {outside}"
    assert errors == [], f"errors in the page: {errors}"


class Pane:
    """One of the three phones on the page."""

    def __init__(self, page, key: str) -> None:
        self.page = page
        self.root = page.locator(f"[data-pane={key}]")

    def act_as(self, user_id: int) -> None:
        self.root.locator(".as-select").select_option(str(user_id))

    def send(self, text: str) -> None:
        box = self.root.locator(".input")
        box.fill(text)
        box.press("Enter")

    def bot(self, contains: str | re.Pattern):
        """The latest bot message whose text contains ``contains`` (buttons not counted)."""
        text = self.page.locator(".bubble > .text", has_text=contains)
        return self.root.locator(".msg.bot").filter(has=text).last

    def card(self, code: str):
        """A tip's card: its first line starts with the urgency mark and carries the code."""
        return self.bot(re.compile(rf"^(🔴|🟠)[^\n]*{re.escape(code)}"))

    def expect_bot(self, contains: str | re.Pattern):
        from playwright.sync_api import expect

        message = self.bot(contains)
        expect(message).to_be_visible()
        return message

    def press(self, message, button: str) -> None:
        message.locator(".ikb-btn", has_text=button).click()

    def attach(self, what: str) -> None:
        self.root.locator(".attach-toggle").click()
        self.root.locator(f"[data-attach={what}]").click()


def report_from_reporter_pane(reporter: Pane, page) -> str:
    """The reporter's whole flow, tapping like a person; returns the tip's code."""
    reporter.send("/report")
    reporter.expect_bot(zh("ask.location").splitlines()[0])
    # The 📍 reply-keyboard button asks for a location: the chooser opens; pick a landmark.
    reporter.root.locator(".kbd-btn[data-request=location]").click()
    page.locator("#place-dialog .place[data-place=huangshi_station]").click()
    reporter.expect_bot(zh("location.ok"))
    reporter.press(reporter.expect_bot(zh("ask.spot").split("\n")[0]), zh("btn.spot_skip"))
    reporter.press(reporter.expect_bot(zh("ask.seen")), zh("seen.now"))
    reporter.press(reporter.expect_bot(zh("ask.people")), zh("people.1"))
    flags = reporter.expect_bot(zh("ask.flags"))
    reporter.press(flags, zh("flag.elderly"))
    from playwright.sync_api import expect

    expect(flags.locator(".ikb-btn", has_text="✅ " + zh("flag.elderly"))).to_be_visible()
    reporter.press(flags, zh("btn.flags_done"))
    reporter.expect_bot(zh("ask.description")[:10])
    reporter.send("穿着单薄，躺在候车室外的长椅上 " + HOSTILE)
    reporter.expect_bot(zh("ask.photo")[:10])
    reporter.attach("photo")
    reporter.expect_bot(zh("photo.ok"))
    review = reporter.expect_bot(zh("review").splitlines()[0])
    # 黄石站, as chosen: named, not as raw numbers (issue 10 #12)
    expect(review).to_contain_text(zh("pin.at", place="黄石站", metres=0) + " · 下陆区")
    reporter.press(review, zh("btn.submit"))
    receipt = reporter.expect_bot(CODE_RE)
    match = CODE_RE.search(receipt.locator(".text").inner_text())
    assert match is not None
    return match.group(0)


def officer_follow_up(officer: Pane, reporter: Pane, code: str) -> None:
    """The duty officer's part once the patrol has closed the tip: their live copy of the card
    shows it closed, /open no longer lists it; the reporter shares a phone number for the
    reward, the officer approves it and records a WeChat payment; the reporter is told."""
    from playwright.sync_api import expect

    copy = officer.card(code)
    expect(copy).to_contain_text(zh("state.closed"))
    officer.send("/open")
    expect(officer.root.locator(".msg.bot").last).not_to_contain_text(code + " ·")

    # The reporter is offered the reward and shares their (invented) number with the button.
    reporter.expect_bot(zh("reward.pending", code=code, amount=200).splitlines()[0][:14])
    reporter.root.locator(".kbd-btn[data-request=contact]").click()
    reporter.expect_bot(zh("phone.saved")[:12])

    officer.send("/rewards")
    listing = officer.expect_bot(zh("rewards.head", count=1))
    expect(listing).to_contain_text(zh("rewards.phone"))
    officer.press(listing, zh("btn.reward_approve", code=code))
    expect(officer.root.locator(".toast")).to_contain_text(zh("reward.done.approved", code=code))
    reporter.expect_bot(zh("reward.approved", code=code, amount=200)[:12])

    officer.send("/rewards")
    listing = officer.expect_bot(zh("reward_state.approved"))
    officer.press(listing, zh("btn.reward_pay", code=code))
    methods = officer.expect_bot(zh("reward.ask.method", code=code))
    officer.press(methods, zh("pay.wechat"))
    officer.expect_bot(zh("reward.ask.reference", code=code)[:10])
    officer.send("4200000000202612010001")
    ask_amount = officer.expect_bot(zh("reward.ask.amount", code=code, amount=200)[:8])
    officer.press(ask_amount, zh("btn.reward_amount", amount=200))
    officer.expect_bot(zh("reward.done.paid", code=code, amount=200, method=zh("pay.wechat")))
    paid = reporter.expect_bot(re.compile(re.escape(code) + ".*" + re.escape(zh("pay.wechat"))))
    expect(paid).not_to_contain_text("4200000000")  # no payment details beyond method and date


def test_whole_story_across_the_three_panes(demo: Demo, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    reporter, group, officer = (Pane(page, key) for key in ("reporter", "group", "officer"))
    on_duty = demo.on_duty()
    member = next(p for p in demo.people if p.group == on_duty and p.role == "member")
    expect(group.root.locator(".group-select")).to_have_value(on_duty)

    # -- the reporter reports -------------------------------------------------------------------
    code = report_from_reporter_pane(reporter, page)
    assert code == "HS-0001"
    page.screenshot(path=str(tmp_path / "01-reported.png"))

    # -- the card reaches the on-duty group: location and photo follow as replies --------------
    group.act_as(member.user_id)
    card = group.card(code)
    expect(card).to_contain_text(zh("state.dispatched"))
    # What the reporter typed is shown as typed: no tag was interpreted, nothing ran.
    expect(card.locator(".text")).to_contain_text(HOSTILE)
    expect(card.locator(".text b, .text img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    expect(group.root.locator(".msg.bot .location")).to_contain_text("黄石站")
    expect(group.root.locator(".msg.bot img.photo")).to_be_visible()
    # The reporter is never named in the group.
    expect(group.root.locator(".messages")).not_to_contain_text("小梅")

    # -- the officer sees it with /open and takes a live copy of the card ----------------------
    officer.send("/open")
    listing = officer.expect_bot(zh("open.head", count=1))
    expect(listing).to_contain_text(code)
    officer.press(listing, zh("btn.show", code=code))
    expect(officer.root.locator(".toast")).to_contain_text(zh("open.sent", code=code))
    officer_copy = officer.card(code)
    expect(officer_copy).to_contain_text(zh("state.dispatched"))
    page.screenshot(path=str(tmp_path / "02-dispatched.png"))

    # -- a member claims: the card, the officer's copy and the reporter all follow --------------
    group.press(card, zh("btn.claim"))
    expect(group.root.locator(".toast")).to_contain_text(zh("done.claim", code=code))
    claimed_by = zh("card.claimed_by", name=member.name)
    expect(card).to_contain_text(claimed_by)
    expect(officer_copy).to_contain_text(claimed_by)
    reporter.expect_bot(zh("notice.claimed", code=code))
    page.screenshot(path=str(tmp_path / "03-claimed.png"))

    group.press(card, zh("btn.go"))
    expect(card).to_contain_text(zh("state.en_route"))
    group.press(card, zh("btn.arrive"))
    expect(card).to_contain_text(zh("state.on_scene"))

    # -- evidence: click the card to reply to it, then send a photo -----------------------------
    card.locator(".bubble").click()
    expect(group.root.locator(".replybar")).to_be_visible()
    expect(group.root.locator(".replybar")).to_contain_text(code)
    group.attach("photo")
    expect(group.root.locator(".msg.mine .quote")).to_contain_text(code)
    group.expect_bot(zh("evidence.added", code=code, count=1))
    expect(card).to_contain_text(zh("card.evidence", count=1))

    # -- the outcome, confirmed: closed everywhere ----------------------------------------------
    group.press(card, zh("outcome.brought_in"))
    group.press(card, zh("btn.confirm_outcome", outcome=zh("outcome.brought_in")))
    expect(card).to_contain_text(zh("state.closed"))
    expect(card.locator(".ikb-btn")).to_have_count(0)
    reporter.expect_bot(zh("notice.closed_helped", code=code)[:12])
    officer_follow_up(officer, reporter, code)
    page.screenshot(path=str(tmp_path / "04-closed.png"))

    # -- a phone-sized screen: one chat at a time, tabs to switch -------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#tabs")).to_be_visible()
    expect(reporter.root).to_be_visible()
    expect(group.root).to_be_hidden()
    page.locator(".tab[data-tab=group]").click()
    expect(group.root).to_be_visible()
    expect(reporter.root).to_be_hidden()
    expect(group.card(code)).to_contain_text(zh("state.closed"))
    page.screenshot(path=str(tmp_path / "05-phone.png"))


# -- issue 10, items 24 and 25: the demo's own defects ---------------------------------------

# Records every text drawn on a canvas (the sample photo is drawn in the page).
RECORD_DRAWN_TEXT = """() => {
  window.__drawn = [];
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ["fillText", "strokeText"]) {
    const original = proto[name];
    proto[name] = function (text, ...rest) {
      window.__drawn.push(String(text));
      return original.call(this, text, ...rest);
    };
  }
}"""

# Whether the last message of a pane is wholly inside the visible box of its scroll area.
NEWEST_IN_VIEW = """(key) => {
  const list = document.querySelector(`[data-pane=${key}] .messages`);
  const last = list.querySelector(".msg:last-child");
  if (!last || list.clientHeight === 0) return false;
  const box = list.getBoundingClientRect();
  const msg = last.getBoundingClientRect();
  return msg.top >= box.top - 1 && msg.bottom <= box.bottom + 1;
}"""

OVERFLOWS = """(key) => {
  const list = document.querySelector(`[data-pane=${key}] .messages`);
  return list.scrollHeight > list.clientHeight + 50;
}"""


def api_send(page, body: dict) -> None:
    """Send as a person through the page's own API (as the page does), e.g. into a chat
    whose pane is hidden."""
    status = page.evaluate(
        """async (body) => (await fetch("/api/send", {method: "POST",
             headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})).status""",
        body,
    )
    assert status == 200, status


def test_fr24_sample_photo_shows_no_identity_and_the_reporter_is_cued_to_start(
    demo: Demo, page
) -> None:
    from playwright.sync_api import expect

    reporter, group = Pane(page, "reporter"), Pane(page, "group")
    # The reporter's chat opens as Telegram's does: a cue and a START button, not a blank.
    cue = reporter.root.locator(".messages .start-cue")
    expect(cue).to_contain_text("/start")
    cue.locator("button").click()
    reporter.expect_bot("寒冬送温暖")
    expect(cue).to_have_count(0)
    expect(group.root.locator(".messages .start-cue")).to_have_count(0)  # a group: no START

    # The sample photo, sent by the reporter and by a patrol member: a scene and a time.
    page.evaluate(RECORD_DRAWN_TEXT)
    reporter.attach("photo")
    on_duty = demo.on_duty()
    member = next(p for p in demo.people if p.group == on_duty and p.role == "member")
    group.act_as(member.user_id)
    group.attach("photo")
    expect(group.root.locator(".msg.mine img.photo")).to_be_visible()
    drawn = page.evaluate("window.__drawn")
    assert drawn, "the sample photo was not drawn in the page"
    names = [p.name for p in demo.people] + [p.phone for p in demo.people]
    assert not [text for text in drawn if any(name in text for name in names)], drawn
    label = page.evaluate("LABELS.samplePhoto")
    assert all(text == label or re.fullmatch(r"\d\d:\d\d", text) for text in drawn), drawn


def test_fr25_the_newest_message_stays_in_view(demo: Demo, page) -> None:
    """A reply keyboard or the "/" menu opening takes room from the messages: the newest
    stays wholly visible. On a phone-sized screen, opening a tab shows that chat's newest
    message, although it arrived while the tab was hidden."""
    from playwright.sync_api import expect

    reporter = Pane(page, "reporter")
    for _ in range(3):  # enough to scroll
        reporter.send("/help")
    expect(reporter.root.locator(".msg.bot")).to_have_count(3)
    reporter.send("/report")  # asks for the place, with a 📍 reply keyboard
    expect(reporter.root.locator(".kbd-btn[data-request=location]")).to_be_visible()
    reporter.expect_bot(zh("ask.location").splitlines()[0])
    assert page.evaluate(OVERFLOWS, "reporter")
    page.wait_for_function(NEWEST_IN_VIEW, arg="reporter", timeout=TIMEOUT_MS)
    reporter.root.locator(".commands-toggle").click()
    expect(reporter.root.locator(".commands-menu")).to_be_visible()
    page.wait_for_function(NEWEST_IN_VIEW, arg="reporter", timeout=TIMEOUT_MS)
    reporter.root.locator(".commands-toggle").click()

    # A phone: one chat at a time. Messages reach the group and the officer while hidden.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("[data-pane=group]")).to_be_hidden()
    on_duty = demo.on_duty()
    member = next(p for p in demo.people if p.group == on_duty and p.role == "member")
    chat = next(g.chat_id for g in demo.groups if g.key == on_duty)
    officer = next(p for p in demo.people if p.role == "officer")
    for _ in range(3):
        api_send(page, {"user": member.user_id, "chat": chat, "kind": "text", "text": "/help"})
        api_send(page, {"user": officer.user_id, "kind": "text", "text": "/help"})
    for key in ("group", "officer"):
        expect(Pane(page, key).root.locator(".msg.bot")).to_have_count(3)
        page.locator(f".tab[data-tab={key}]").click()
        expect(page.locator(f"[data-pane={key}]")).to_be_visible()
        assert page.evaluate(OVERFLOWS, key)
        page.wait_for_function(NEWEST_IN_VIEW, arg=key, timeout=TIMEOUT_MS)
