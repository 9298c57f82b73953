"""The public web report form and the status page over HTTP (issue 15), without a browser.

The real Application against the Bot API emulator; the form posted with httpx as a phone's
browser would (its cookie, its hidden tokens). The browser tests are tests/test_browser_report.py.
Everything is invented.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import io
import re
from pathlib import Path

import httpx
from PIL import Image

from bot.domain.rewards import RewardState
from bot.domain.spots import Spot
from bot.domain.tips import Tip
from bot.domain.webreport import WEB_REPORTER_BASE, RateLimit, is_web_reporter
from bot.i18n import t
from bot.services.maintenance import purge
from bot.views.places import tip_place
from bot.web.report.guard import CSP
from tests.harness import CENTRE, G1_CHAT, G1_MEMBER, OFFICER, OUTSIDE, WAIT_S, World, world
from tests.test_e2e_rewards import close_as, officer_says

CODE = re.compile(r"HS-\d{4}")
SECRET = re.compile(r"(?:领取密码|Claim secret)：?:?\s*([A-Z0-9]{6})")
FORM_TOKEN = re.compile(r'name="form" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def client(w: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=w.web_url, trust_env=False, follow_redirects=True)


def let_time_pass(w: World, seconds: float = 10.0) -> None:
    """The form's minimum fill time, without waiting: the tokens' clock moves on."""
    web = w.app.bot_data["report_web"]
    base = web.clock
    web.clock = lambda: base() + seconds


def fields(**over: str) -> dict[str, str]:
    lat, lon = CENTRE
    base = {
        "lat": f"{lat}",
        "lon": f"{lon}",
        "address": "",
        "spot": "park_bench",
        "seen": "now",
        "people": "1",
        "words": "穿灰色棉衣，躺在长椅上",
        "phone": "",
        "website": "",
        "action": "submit",
    }
    return {**base, **over}


async def open_form(http: httpx.AsyncClient, lang: str = "zh") -> str:
    page = await http.get(f"/report/?lang={lang}")
    assert page.status_code == 200, page.text
    found = FORM_TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


async def send(
    http: httpx.AsyncClient,
    token: str | None,
    data: dict[str, str],
    *,
    flags: tuple[str, ...] = (),
    photo: bytes | None = None,
) -> httpx.Response:
    body = dict(data)
    if token is not None:
        body["form"] = token
    pairs: dict[str, str | list[str]] = {**body, "flag": list(flags)}
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo is not None else None
    if files is None:  # multipart as a browser sends it, even without a file
        files = {"photo": ("", b"", "application/octet-stream")}
    return await http.post("/report/", data=pairs, files=files)


async def report(w: World, http: httpx.AsyncClient, **over: str) -> tuple[str, str]:
    """Fill in and send the form; (code, secret) from the answer."""
    token = await open_form(http)
    let_time_pass(w)
    answer = await send(http, token, fields(**over))
    assert answer.status_code == 200, answer.text
    code, secret = CODE.search(answer.text), SECRET.search(answer.text)
    assert code and secret, answer.text
    return code.group(0), secret.group(1)


def spot_line(tip: Tip) -> str:
    """The place line of a tip's card, as for a Telegram tip (bot/views/places.py)."""
    return tip_place(tip, "zh")


async def tips_count(w: World) -> int:
    row = await w.station.db.fetchone("SELECT COUNT(*) AS n FROM tips")
    return int(row["n"])


async def open_status(http: httpx.AsyncClient, code: str, secret: str) -> httpx.Response:
    ask = await http.get(f"/t/{code}")
    token = CSRF.search(ask.text)
    assert token, ask.text
    return await http.post(f"/t/{code}", data={"csrf": token.group(1), "secret": secret})


# -- the pipeline -----------------------------------------------------------------------------


async def test_a_web_tip_goes_through_the_pipeline_to_the_status_page(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        card = await w.wait_card(G1_CHAT, code)
        assert "网页报告" in card["text"] and "公园长椅" in card["text"]
        assert "距团城山公园约 700 m 公园长椅" in card["text"]  # a bare pin keeps its landmark
        tip = await w.tip_by_code(code)
        assert tip is not None and tip.source == "web"
        # The tip's own spot (not folded into the address): the card shows it as it shows a
        # Telegram tip's.
        assert tip.spot is Spot.PARK_BENCH and tip.spot_text is None and tip.address is None
        assert spot_line(tip) in card["text"]
        reporter = await w.repo.tips.reporter_of(tip.id)
        assert is_web_reporter(reporter)
        events = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert events[:2] == ["submit", "dispatch"]

        status = await open_status(http, code, secret)
        assert status.status_code == 200
        assert t("zh", "reporter_state.dispatched") in status.text
        await close_as(w, code, G1_MEMBER, "带回站内")
        status = await http.get(f"/t/{code}")
        assert t("zh", "reporter_outcome.brought_in") in status.text
        assert t("zh", "reward_state.pending") in status.text
        # No message for this reporter went to the outbox (they have no chat).
        rows = await w.station.db.fetchall(
            "SELECT chat_id FROM outbox WHERE chat_id >= ?", (WEB_REPORTER_BASE,)
        )
        assert rows == []


async def test_the_status_page_reveals_nothing_without_the_secret(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, _ = await report(w, http)
        known = await http.get(f"/t/{code}")
        unknown = await http.get("/t/HS-9999")

        def same(html: str) -> str:  # the code itself, and the CSRF token bound to it
            return CSRF.sub("", html.replace(code, "X").replace("HS-9999", "X"))

        assert same(known.text) == same(unknown.text)
        assert t("zh", "reporter_state.dispatched") not in known.text
        assert known.headers["content-security-policy"] == CSP


async def test_outside_the_area_gets_the_hotline_and_nothing_is_stored(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)
        lat, lon = OUTSIDE
        answer = await send(http, token, fields(lat=str(lat), lon=str(lon)))
        assert "0714-0000000" in answer.text and "没有保存" in answer.text
        assert await tips_count(w) == 0


# -- abuse ------------------------------------------------------------------------------------


async def test_the_per_address_limit_answers_429_with_a_friendly_page(tmp_path: Path) -> None:
    async with world(tmp_path, max_per_hour="50") as w, client(w) as http:
        limit = w.config.web_report.per_ip_per_hour
        for _ in range(limit):
            await report(w, http, phone="")
        token = await open_form(http)
        answer = await send(http, token, fields())
        assert answer.status_code == 429
        assert t("zh", "web.busy_title") in answer.text and "0714-0000000" in answer.text
        assert await tips_count(w) == limit


async def test_honeypot_and_too_fast_store_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        too_fast = await send(http, token, fields())  # at once: no person fills it so fast
        assert too_fast.status_code == 400
        # Nothing stored; a person's words are shown back to send again (not lost).
        assert t("zh", "web.again") in too_fast.text and "躺在长椅上" in too_fast.text
        let_time_pass(w)
        trapped = await send(http, token, fields(website="http://spam.example"))
        assert trapped.status_code == 400 and t("zh", "web.refused") in trapped.text
        assert await tips_count(w) == 0


async def test_a_post_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        await open_form(http)
        let_time_pass(w)
        missing = await send(http, None, fields())
        assert missing.status_code == 403
        # A token of another browser (another cookie) is no better.
        async with client(w) as other:
            foreign = await open_form(other)
        assert (await send(http, foreign, fields())).status_code == 403
        assert await tips_count(w) == 0


async def test_an_oversized_upload_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)
        big = b"\xff" * (9 * 1024 * 1024)
        answer = await send(http, token, fields(), photo=big)
        assert answer.status_code == 413
        assert "8 MB" in answer.text
        assert await tips_count(w) == 0


async def test_five_wrong_secrets_lock_the_status_page(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        wrong = "AAAAAA" if secret != "AAAAAA" else "BBBBBB"
        token = CSRF.search((await http.get(f"/t/{code}")).text)
        assert token
        for _ in range(4):
            answer = await open_status(http, code, wrong)
            assert answer.status_code == 403 and t("zh", "web.wrong") in answer.text
        answer = await open_status(http, code, wrong)
        assert "已锁定" in answer.text
        # Even the right one, now; and the page itself says so.
        answer = await http.post(f"/t/{code}", data={"csrf": token.group(1), "secret": secret})
        assert answer.status_code == 403 and "已锁定" in answer.text
        assert t("zh", "reporter_state.dispatched") not in answer.text
        assert "已锁定" in (await http.get(f"/t/{code}")).text


def test_the_rate_limit_forgets_an_address_after_the_hour() -> None:
    limit = RateLimit(per_key=2, total=3, window_s=3600)
    assert limit.allow("a", 0) and limit.allow("a", 1)
    assert not limit.allow("a", 2)  # per address
    assert limit.allow("b", 3)
    assert not limit.allow("c", 4)  # in total
    assert limit.allow("a", 3603.5)  # the hour passed
    assert limit.keys() == 1  # "b"'s and the old "a"'s times are gone: only the new "a"


# -- photos, rewards --------------------------------------------------------------------------


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "InventedPhoneMaker"
    gps = {1: "N", 2: (30.0, 12.0, 0.0), 3: "E", 4: (115.0, 2.0, 24.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert b"InventedPhoneMaker" in data
    return data


async def test_a_photo_with_gps_exif_reaches_the_group_clean(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)
        answer = await send(http, token, fields(), photo=jpeg_with_gps())
        code = CODE.search(answer.text)
        assert code, answer.text
        await w.wait_card(G1_CHAT, code.group(0))
        photo = await w.until(
            lambda: next((m for m in w.bot_msgs(G1_CHAT) if m.get("photo")), None)
        )
        data = w.emu.file_bytes(photo["photo"][-1]["file_id"])
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
        assert b"InventedPhoneMaker" not in data

        async def forgotten() -> bool:  # uploaded: the media row has Telegram's id, ours goes
            row = await w.station.db.fetchone("SELECT file_id FROM media")
            left = await w.station.db.fetchone("SELECT COUNT(*) AS n FROM web_photos")
            return not row["file_id"].startswith("web:") and left["n"] == 0

        for _ in range(int(WAIT_S / 0.05)):
            if await forgotten():
                break
            await asyncio.sleep(0.05)
        assert await forgotten()


async def test_a_web_reporter_with_a_phone_is_paid_by_transfer(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        w.emu.send_text(OFFICER, "/start")
        code, secret = await report(w, http, phone="138 0000 0042")
        await close_as(w, code, G1_MEMBER, "带回站内")
        status = await open_status(http, code, secret)
        assert t("zh", "reward_state.pending") in status.text
        assert t("zh", "web.reward_phone") in status.text
        listing = await officer_says(w, "/rewards", code)
        assert "已留电话" in listing["text"] and "138" not in listing["text"]
        await w.press(OFFICER, OFFICER, listing, f"批准 {code}")
        status = await http.get(f"/t/{code}")
        assert t("zh", "reward_state.approved") in status.text
        listing = await officer_says(w, "/rewards", code)
        w.mark(OFFICER)
        await w.press(OFFICER, OFFICER, listing, "查看电话")
        await w.next_bot(OFFICER, "13800000042")
        await w.press(OFFICER, OFFICER, listing, f"记录发放 {code}")
        methods = await w.next_bot(OFFICER, "什么方式")
        await w.press(OFFICER, OFFICER, methods, "微信转账")
        await w.next_bot(OFFICER, "参考号")
        w.emu.send_text(OFFICER, "4200001234202612010042")
        ask_amount = await w.next_bot(OFFICER, "多少元")
        await w.press(OFFICER, OFFICER, ask_amount, "200 元")
        await w.next_bot(OFFICER, "已记录")
        reward = await w.repo.rewards.for_tip((await w.tip_by_code(code)).id)
        assert reward.state is RewardState.PAID
        status = await http.get(f"/t/{code}")
        assert t("zh", "reward_state.paid") in status.text
        assert "13800000042" not in status.text  # the number is never shown back


async def test_the_monthly_cap_counts_per_phone_number(tmp_path: Path) -> None:
    cap = "[reward]\nmonthly_cap = 1\n"
    async with world(tmp_path, sections=cap) as w, client(w) as http:
        first, _ = await report(w, http, phone="13800000043")
        await close_as(w, first, G1_MEMBER, "带回站内")
        lat, lon = CENTRE
        again = {"lat": str(lat + 0.02), "lon": str(lon + 0.02)}
        token = await open_form(http)
        let_time_pass(w)
        answer = await send(http, token, fields(phone="+86 138-0000-0043", **again))
        assert t("zh", "web.done_no_reward") in answer.text
        token = await open_form(http)
        let_time_pass(w)
        answer = await send(http, token, fields(**{"lat": str(lat - 0.02), "lon": str(lon)}))
        assert t("zh", "web.done_reward", amount=200) in answer.text  # no phone: per code


# -- the relay and adding to a tip --------------------------------------------------------------


async def test_a_patrol_question_appears_on_the_status_page_and_the_answer_reaches_the_card(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        card = await w.wait_card(G1_CHAT, code)
        w.mark(G1_CHAT)
        await w.press(G1_MEMBER, G1_CHAT, card, t("zh", "btn.ask_reporter"))
        prompt = await w.next_bot(G1_CHAT, "回复这条消息")
        await w.idle()
        w.emu.send_text(
            G1_MEMBER, "他在长椅哪一头？", chat_id=G1_CHAT, reply_to=prompt["message_id"]
        )
        await w.idle()
        status = await open_status(http, code, secret)
        assert "他在长椅哪一头？" in status.text and 'id="answer-form"' in status.text
        assert "赵队员" not in status.text  # the reporter never learns who asked
        token = CSRF.search(status.text)
        assert token
        w.mark(G1_CHAT)
        answered = await http.post(
            f"/t/{code}/answer", data={"csrf": token.group(1), "answer": "靠湖边那一头"}
        )
        assert t("zh", "web.answered") in answered.text
        relayed = await w.next_bot(G1_CHAT, "靠湖边那一头")
        assert relayed["reply_to_message_id"] == card["message_id"]
        # Without the CSRF token, nothing is relayed.
        refused = await http.post(f"/t/{code}/answer", data={"answer": "不该转达"})
        assert refused.status_code == 403
        await w.idle()
        assert not any("不该转达" in (m.get("text") or "") for m in w.bot_msgs(G1_CHAT))


async def test_every_status_page_action_needs_the_tip_opened_in_this_browser(
    tmp_path: Path,
) -> None:
    """A browser with a good CSRF token for the code but that never gave the secret (no view
    cookie) is refused each action the status page posts, and nothing is done."""
    async with world(tmp_path) as w, client(w) as http, client(w) as other:
        code, secret = await report(w, http)
        await w.wait_card(G1_CHAT, code)
        tip = await w.tip_by_code(code)
        events = len(await w.repo.events.of(tip.id))
        asking = await other.get(f"/t/{code}")
        token = CSRF.search(asking.text)
        assert token  # the secret's page: a token for this browser and this code
        posts = {
            "answer": {"answer": "不该转达"},
            "add": {"words": "不该补充"},
            "still": {"answer": "here"},
            "more": {"words": "不该转交"},
        }
        w.mark(G1_CHAT)
        for action, data in posts.items():
            answer = await other.post(
                f"/t/{code}/{action}",
                data={"csrf": token.group(1), **data},
                files={"photo": ("", b"", "application/octet-stream")},
            )
            assert answer.status_code == 403, action
        await w.idle()
        assert not any("不该" in (m.get("text") or "") for m in w.bot_msgs(G1_CHAT))
        assert len(await w.repo.events.of(tip.id)) == events
        # The same browser, once it has given the secret, may add.
        status = await open_status(other, code, secret)
        token = CSRF.search(status.text)
        assert token and 'id="add-form"' in status.text
        added = await other.post(
            f"/t/{code}/add",
            data={"csrf": token.group(1), "words": "他旁边有一只黄狗"},
            files={"photo": ("", b"", "application/octet-stream")},
        )
        assert t("zh", "web.added") in added.text


async def test_the_reporter_adds_words_within_amend_minutes(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        await w.wait_card(G1_CHAT, code)
        status = await open_status(http, code, secret)
        token = CSRF.search(status.text)
        assert token and 'id="add-form"' in status.text
        added = await http.post(
            f"/t/{code}/add",
            data={"csrf": token.group(1), "words": "他旁边有一只黄狗"},
            files={"photo": ("", b"", "application/octet-stream")},
        )
        assert t("zh", "web.added") in added.text
        await w.wait_card(G1_CHAT, code, "黄狗")
        tip = await w.tip_by_code(code)
        assert "amend" in [e["action"] for e in await w.repo.events.of(tip.id)]
        w.clock.advance(minutes=w.config.reporting.amend_minutes + 1)
        late = await http.post(
            f"/t/{code}/add",
            data={"csrf": token.group(1), "words": "太晚了"},
            files={"photo": ("", b"", "application/octet-stream")},
        )
        assert t("zh", "web.not_open") in late.text and 'id="add-form"' not in late.text


async def test_purge_drops_a_web_tips_notices_photo_and_phone(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)
        answer = await send(http, token, fields(phone="13800000044"), photo=jpeg_with_gps())
        code_match = CODE.search(answer.text)
        assert code_match, answer.text
        code = code_match.group(0)
        await w.wait_card(G1_CHAT, code)
        card = await w.wait_card(G1_CHAT, code)
        await w.press(G1_MEMBER, G1_CHAT, card, "认领")
        card = await w.wait_card(G1_CHAT, code, "已认领")
        await w.press(G1_MEMBER, G1_CHAT, card, "已到现场")
        card = await w.wait_card(G1_CHAT, code, "已到现场")
        await w.press(G1_MEMBER, G1_CHAT, card, "未找到")
        await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, card["message_id"]), "确认")
        await w.wait_card(G1_CHAT, code, "已结案")
        secret = SECRET.search(answer.text)
        assert secret
        seen = await open_status(http, code, secret.group(1))
        assert t("zh", "reporter_outcome.not_found") in seen.text
        tip = await w.tip_by_code(code)
        reporter = await w.repo.tips.reporter_of(tip.id)
        assert await w.repo.web.notices(tip.id)  # "claimed", "closed": for the status page
        assert await w.repo.people.phone(reporter) == "13800000044"
        w.clock.advance(days=2)
        report = await purge(
            w.station.db,
            w.repo.maintenance,
            w.station.audit,
            w.station.clock,
            (w.clock() + dt.timedelta(days=1)).date(),
        )
        assert report.purged == [code] and report.reporters_forgotten == 1
        assert await w.repo.web.notices(tip.id) == []
        assert await w.repo.people.phone(reporter) is None
        for table in ("web_photos", "web_uploads", "media"):
            row = await w.station.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
            assert row["n"] == 0, table
        # The status page now shows nothing, even with its cookie (the secret is gone).
        after = await http.get(f"/t/{code}")
        assert t("zh", "reporter_outcome.not_found") not in after.text
        assert t("zh", "web.status_ask") in after.text


async def test_outside_the_campaign_the_form_promises_no_reward(tmp_path: Path) -> None:
    later = "[campaign]\nstart = 2027-01-01\nend = 2027-03-15\n"
    async with world(tmp_path, sections=later) as w, client(w) as http:
        page = await http.get("/report")  # the QR code's address, without the slash
        assert page.status_code == 200 and str(page.url).endswith("/report/")
        assert t("zh", "web.reward_note", amount=200) not in page.text
        token = FORM_TOKEN.search(page.text)
        assert token
        let_time_pass(w)
        answer = await send(http, token.group(1), fields())
        assert CODE.search(answer.text) and SECRET.search(answer.text)  # the status page's key
        assert "200 元" not in answer.text
        # In the campaign the same form says it (the control of the check above).
    async with world(tmp_path / "in") as w, client(w) as http:
        assert t("zh", "web.reward_note", amount=200) in (await http.get("/report")).text


async def test_a_form_sent_twice_is_one_tip_with_the_same_receipt(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)
        first, second = await asyncio.gather(
            send(http, token, fields()), send(http, token, fields())
        )
        again = await send(http, token, fields())  # "send" pressed once more, later
        codes = {CODE.search(r.text).group(0) for r in (first, second, again)}  # type: ignore[union-attr]
        secrets = {SECRET.search(r.text).group(1) for r in (first, second, again)}  # type: ignore[union-attr]
        assert len(codes) == 1 and len(secrets) == 1
        assert await tips_count(w) == 1


PLACE = re.compile(r'name="place" value="([^"]+)" checked')


async def test_a_typed_landmark_is_confirmed_then_sent_without_waiting_again(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w)  # the person took their time once
        looked = await send(http, token, fields(lat="", lon="", address="黄石站", action="lookup"))
        assert looked.status_code == 200 and 'id="places"' in looked.text
        kept = FORM_TOKEN.search(looked.text)
        place = PLACE.search(looked.text)
        assert kept and kept.group(1) == token and place
        # At once after the lookup: taken (the fill time counts from the first page).
        value = html.unescape(place.group(1))
        answer = await send(http, token, fields(lat="", lon="", address="黄石站", place=value))
        code = CODE.search(answer.text)
        assert code, answer.text
        tip = await w.tip_by_code(code.group(0))
        assert abs(tip.lat - 30.1565) < 0.001 and tip.place_label and "黄石站" in tip.place_label


async def test_a_form_left_open_for_hours_is_shown_again_with_its_words(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        token = await open_form(http)
        let_time_pass(w, 7 * 3600)
        answer = await send(http, token, fields())
        assert answer.status_code == 400 and t("zh", "web.again") in answer.text
        assert "躺在长椅上" in answer.text
        fresh = FORM_TOKEN.search(answer.text)
        assert fresh and fresh.group(1) != token
        assert await tips_count(w) == 0


async def test_a_typed_spot_is_the_tips_own_spot_first_on_its_card(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, _ = await report(w, http, spot="other", spot_text="桥洞下 第三根柱子")
        card = await w.wait_card(G1_CHAT, code)
        tip = await w.tip_by_code(code)
        assert tip is not None
        assert tip.spot is Spot.OTHER and tip.spot_text == "桥洞下 第三根柱子"
        assert tip.address is None  # the spot is no longer kept in the typed address
        assert spot_line(tip) in card["text"] and "桥洞下 第三根柱子" in card["text"]


async def test_the_reporter_adds_a_photo_and_the_group_gets_it_clean(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        await w.wait_card(G1_CHAT, code)
        await w.outbox_idle()
        assert not any(m.get("photo") for m in w.bot_msgs(G1_CHAT))
        status = await open_status(http, code, secret)
        token = CSRF.search(status.text)
        assert token
        added = await http.post(
            f"/t/{code}/add",
            data={"csrf": token.group(1), "words": ""},
            files={"photo": ("street.jpg", jpeg_with_gps(), "image/jpeg")},
        )
        assert t("zh", "web.added") in added.text
        photo = await w.until(
            lambda: next((m for m in w.bot_msgs(G1_CHAT) if m.get("photo")), None)
        )
        # The amend service's photo, as a Telegram reporter's addition reaches the group.
        assert photo.get("caption") == t("zh", "amend.photo_caption", code=code)
        data = w.emu.file_bytes(photo["photo"][-1]["file_id"])
        assert b"InventedPhoneMaker" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
        await w.outbox_idle()
        cards = [m for m in w.bot_msgs(G1_CHAT) if "网页报告" in (m.get("text") or "")]
        assert len(cards) == 1  # the card itself is not posted again


async def test_an_added_web_photo_reaches_every_chat_with_the_card_uploaded_once(
    tmp_path: Path,
) -> None:
    """The amend service sends the photo to each chat with the card (here also an officer's
    copy): the first upload serves the other chats' messages, which name it "web:<ref>"."""
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        await w.wait_card(G1_CHAT, code)
        await w.roundtrip(OFFICER)
        tip = await w.tip_by_code(code)
        async with w.station.db.write() as tx:
            await w.notifier.post_card(tx, OFFICER, tip.id)
        await w.wait_card(OFFICER, code)
        await w.outbox_idle()
        status = await open_status(http, code, secret)
        token = CSRF.search(status.text)
        assert token
        added = await http.post(
            f"/t/{code}/add",
            data={"csrf": token.group(1), "words": ""},
            files={"photo": ("street.jpg", jpeg_with_gps(), "image/jpeg")},
        )
        assert t("zh", "web.added") in added.text
        caption = t("zh", "amend.photo_caption", code=code)

        def photo_in(chat: int) -> dict | None:
            return next(
                (m for m in w.bot_msgs(chat) if m.get("photo") and m.get("caption") == caption),
                None,
            )

        sent = [await w.until(lambda: photo_in(G1_CHAT)), await w.until(lambda: photo_in(OFFICER))]
        uniques = {m["photo"][-1]["file_unique_id"] for m in sent}
        assert len(uniques) == 1  # one upload; the other chat got Telegram's copy of it
        await w.outbox_idle()
        left = await w.station.db.fetchone("SELECT COUNT(*) AS n FROM web_photos")
        assert left["n"] == 0
        media = await w.station.db.fetchall("SELECT file_id FROM media")
        assert media and not any(m["file_id"].startswith("web:") for m in media)


async def test_a_station_can_switch_the_form_off(tmp_path: Path) -> None:
    off = "[web_report]\nenabled = false\n"
    async with world(tmp_path, sections=off) as w, client(w) as http:
        assert (await http.get("/report/")).status_code == 404
        assert (await http.post("/report/", data=fields())).status_code == 404
        assert (await http.get("/t/HS-0001")).status_code == 404
        assert await tips_count(w) == 0


async def test_a_second_report_of_the_same_spot_is_shown_as_a_possible_duplicate(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w, client(w) as http:
        first, _ = await report(w, http)
        await w.wait_card(G1_CHAT, first)
        second, _ = await report(w, http, words="同一个人，还在长椅上")
        card = await w.wait_card(G1_CHAT, second)
        assert first in card["text"]  # the card names the open tip nearby
        tip = await w.tip_by_code(second)
        dispatch = [e for e in await w.repo.events.of(tip.id) if e["action"] == "dispatch"]
        assert '"duplicates": [[1,' in dispatch[0]["detail"]


async def test_an_unclaimed_web_tip_is_escalated_like_any_other(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, _ = await report(w, http)
        await w.wait_card(G1_CHAT, code)
        w.clock.advance(minutes=w.config.escalation.claim_minutes + 1)
        await w.services.schedules.tick()
        await w.settle()
        tip = await w.tip_by_code(code)
        actions = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert "escalate_1" in actions


async def test_the_form_speaks_the_browsers_language_and_zh_by_default(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        default = await http.get("/report/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert t("zh", "web.title") in default.text and 'lang="zh-CN"' in default.text
        english = await http.get("/report/", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert t("en", "web.title") in english.text and 'lang="en"' in english.text
        chosen = await http.get("/report/?lang=zh", headers={"Accept-Language": "en-GB"})
        assert t("zh", "web.title") in chosen.text  # the page's own link wins


# -- issue 13's questions to the reporter, on the status page ---------------------------------


async def test_a_web_reporter_answers_still_there_and_adds_words_on_the_status_page(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        card = await w.wait_card(G1_CHAT, code)
        status = await open_status(http, code, secret)
        assert 'id="still-form"' not in status.text  # nobody is on the way yet
        await w.press(G1_MEMBER, G1_CHAT, card, "认领")
        await w.wait_card(G1_CHAT, code, "已认领")
        await w.idle()
        status = await http.get(f"/t/{code}")
        # The question is shown (not silently lost) with its three answers as buttons.
        asked = t("zh", "still.ask", code=code).split("\n")[0]
        assert asked in status.text and 'id="still-form"' in status.text
        for key in ("still.here", "still.left", "still.away"):
            assert t("zh", key) in status.text
        assert 'id="more-form"' not in status.text
        token = CSRF.search(status.text)
        assert token
        answered = await http.post(
            f"/t/{code}/still", data={"csrf": token.group(1), "answer": "left"}
        )
        assert t("zh", "still.thanks") in answered.text
        assert 'id="still-form"' not in answered.text and 'id="more-form"' in answered.text
        await w.wait_card(G1_CHAT, code, t("zh", "still.left"))
        more = await http.post(
            f"/t/{code}/more", data={"csrf": token.group(1), "words": "往磁湖方向走了"}
        )
        assert t("zh", "still.words_sent", code=code) in more.text
        await w.wait_card(G1_CHAT, code, "往磁湖方向走了")
        # Answered once: a second press changes nothing; without the CSRF token: refused.
        again = await http.post(f"/t/{code}/still", data={"csrf": token.group(1), "answer": "here"})
        assert t("zh", "still.already") in again.text
        forged = await http.post(f"/t/{code}/still", data={"answer": "here"})
        assert forged.status_code == 403
        tip = await w.tip_by_code(code)
        notes = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert notes.count("still_there") == 1


async def test_after_not_found_a_web_reporters_words_reopen_the_tip(tmp_path: Path) -> None:
    async with world(tmp_path) as w, client(w) as http:
        code, secret = await report(w, http)
        card = await w.wait_card(G1_CHAT, code)
        await w.press(G1_MEMBER, G1_CHAT, card, "认领")
        card = await w.wait_card(G1_CHAT, code, "已认领")
        await w.press(G1_MEMBER, G1_CHAT, card, "已到现场")
        card = await w.wait_card(G1_CHAT, code, "已到现场")
        await w.press(G1_MEMBER, G1_CHAT, card, "未找到")
        await w.press(G1_MEMBER, G1_CHAT, w.message(G1_CHAT, card["message_id"]), "确认")
        await w.wait_card(G1_CHAT, code, "已结案")
        await w.idle()
        status = await open_status(http, code, secret)
        assert t("zh", "reopen.ask", code=code, hours=2) in status.text
        assert 'id="more-form"' in status.text
        token = CSRF.search(status.text)
        assert token
        w.mark(G1_CHAT)
        more = await http.post(
            f"/t/{code}/more", data={"csrf": token.group(1), "words": "他去了桥洞另一头"}
        )
        assert t("zh", "web.answered") in more.text
        tip = await w.tip_by_code(code)
        assert tip.attempt == 2 and tip.is_open  # the same tip, a second attempt
        assert t("zh", "reopen.done", code=code, attempt=2) in more.text
        assert 'id="more-form"' not in more.text
        await w.next_bot(G1_CHAT, code)  # its new card for the patrol
