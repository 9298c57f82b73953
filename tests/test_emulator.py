"""Tests of the loopback Telegram Bot API emulator (bot/sandbox/emulator/)."""

import os

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

import json
import threading
import time

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import httpd
from bot.sandbox.emulator import TINY_JPEG, BotApiEmulator, parse_html
from tests.harness import WAIT_S

ALICE = 1001
BOB = 1002
GROUP = -1001234567890
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@pytest.fixture
def emu():
    with BotApiEmulator() as emulator:
        emulator.add_user(ALICE, "Alice", username="alice", started=True)
        emulator.add_user(BOB, "Bob")
        emulator.add_group(GROUP, "Patrol group")
        yield emulator


@pytest.fixture
def api(emu):
    with httpx.Client(base_url=f"{emu.base_url}{emu.token}/", timeout=WAIT_S) as client:
        yield client


def ok(response: httpx.Response):
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True, body
    return body["result"]


def err(response: httpx.Response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["ok"] is False and body["error_code"] == status
    return body["description"]


# ------------------------------------------------------------------------------ raw HTTP


def test_get_me_and_keep_alive(emu, api):
    me = ok(api.post("getMe"))
    assert me == {
        "id": 123456,
        "is_bot": True,
        "first_name": "Warmline Test Bot",
        "username": "warmline_test_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    # Method names are case-insensitive; GET works; the connection is reused (one socket for
    # all twenty) and answers go out unbuffered (no ~40 ms delayed-ACK stall per request:
    # measured by hand, not asserted on a clock).
    for _ in range(20):
        assert ok(api.get("getme"))["id"] == 123456
    assert len(emu._connections) == 1
    assert httpd.Handler.disable_nagle_algorithm is True
    assert [m for _, m, _ in emu.requests][:2] == ["getMe", "getMe"]
    assert len(emu.calls("getMe")) == 21


def test_bad_token_unknown_method_and_path(emu, api):
    r = httpx.post(f"{emu.base_url}999:WRONG/getMe")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert err(api.post("sendTelepathy"), 404) == "Not Found"
    assert httpx.get(emu.base_url.removesuffix("/bot") + "/nothing").status_code == 404
    assert emu.calls("getMe") == []  # unauthorised calls are not logged


def test_non_loopback_refused():
    with pytest.raises(ValueError, match="non-loopback"):
        BotApiEmulator(host="0.0.0.0")
    with pytest.raises(ValueError):
        BotApiEmulator(host="example.org")
    BotApiEmulator(host="0.0.0.0", allow_non_loopback=True)  # allowed explicitly (not started)


def test_send_message_chat_errors(emu, api):
    assert err(api.post("sendMessage", data={"chat_id": 4242, "text": "x"}), 400) == (
        "Bad Request: chat not found"
    )
    # Bob exists but never wrote to the bot.
    assert err(api.post("sendMessage", data={"chat_id": BOB, "text": "x"}), 403) == (
        "Forbidden: bot can't initiate conversation with a user"
    )
    assert err(api.post("sendMessage", data={"chat_id": ALICE, "text": ""}), 400) == (
        "Bad Request: message text is empty"
    )
    emu.block(ALICE)
    assert err(api.post("sendMessage", data={"chat_id": ALICE, "text": "x"}), 403) == (
        "Forbidden: bot was blocked by the user"
    )
    emu.send_text(ALICE, "/start")  # writing to the bot unblocks it
    ok(api.post("sendMessage", data={"chat_id": ALICE, "text": "welcome back"}))
    assert [e["status"] for e in emu.api_errors] == [400, 403, 400, 403]


def test_send_message_result_and_transcript(emu, api):
    user_msg = emu.send_text(ALICE, "hello")
    markup = {"inline_keyboard": [[{"text": "Claim", "callback_data": "tip:claim:42"}]]}
    result = ok(
        api.post(
            "sendMessage",
            data={
                "chat_id": str(ALICE),
                "text": "hi <b>Alice</b>",
                "parse_mode": "HTML",
                "reply_markup": json.dumps(markup),
                "reply_parameters": json.dumps({"message_id": user_msg["message_id"]}),
            },
        )
    )
    assert result["message_id"] == 2 and result["from"]["id"] == emu.bot_id
    assert result["chat"] == {
        "id": ALICE,
        "first_name": "Alice",
        "username": "alice",
        "type": "private",
    }
    assert result["text"] == "hi Alice"
    assert result["entities"] == [{"type": "bold", "offset": 3, "length": 5}]
    assert result["reply_markup"] == markup
    assert result["reply_to_message"]["text"] == "hello"
    assert isinstance(result["date"], int)

    transcript = emu.transcript(ALICE)
    assert [(m["message_id"], m["from_bot"], m["kind"]) for m in transcript] == [
        (1, False, "text"),
        (2, True, "text"),
    ]
    bot_msg = emu.last_bot_message(ALICE)
    assert bot_msg["text"] == "hi Alice" and bot_msg["raw_text"] == "hi <b>Alice</b>"
    assert bot_msg["reply_to_message_id"] == 1 and bot_msg["reply_markup"] == markup
    assert bot_msg["edits"] == []
    # Message ids are per chat.
    assert ok(api.post("sendMessage", data={"chat_id": GROUP, "text": "g"}))["message_id"] == 1
    # Replying to a message that does not exist.
    bad_reply = {"chat_id": ALICE, "text": "x", "reply_to_message_id": 99}
    assert err(api.post("sendMessage", data=bad_reply), 400) == (
        "Bad Request: message to be replied not found"
    )


def test_json_body_and_query_string(emu, api):
    markup = {"keyboard": [[{"text": "Share location", "request_location": True}]]}
    r = api.post("sendMessage", json={"chat_id": ALICE, "text": "json", "reply_markup": markup})
    assert ok(r)["text"] == "json"
    assert "reply_markup" not in ok(r)  # reply keyboards are not echoed in the message
    assert emu.reply_keyboard(ALICE) == markup
    assert ok(api.get("sendMessage", params={"chat_id": ALICE, "text": "123"}))["text"] == "123"
    remove = json.dumps({"remove_keyboard": True})
    ok(api.post("sendMessage", data={"chat_id": ALICE, "text": "bye", "reply_markup": remove}))
    assert emu.reply_keyboard(ALICE) is None


def test_message_length_limits(emu, api):
    ok(api.post("sendMessage", data={"chat_id": ALICE, "text": "x" * 4096}))
    assert err(api.post("sendMessage", data={"chat_id": ALICE, "text": "x" * 4097}), 400) == (
        "Bad Request: message is too long"
    )
    # The limit applies to the text after entity parsing.
    ok(
        api.post(
            "sendMessage",
            data={"chat_id": ALICE, "text": f"<b>{'y' * 4096}</b>", "parse_mode": "HTML"},
        )
    )
    files = {"photo": ("p.jpg", TINY_JPEG, "image/jpeg")}
    r = api.post("sendPhoto", data={"chat_id": ALICE, "caption": "c" * 1025}, files=files)
    assert err(r, 400) == "Bad Request: message caption is too long"


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("1 < 2", "Can't find end of the tag at byte offset 2"),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_bad_html_is_refused(emu, api, markup, reason):
    r = api.post("sendMessage", data={"chat_id": ALICE, "text": markup, "parse_mode": "HTML"})
    assert err(r, 400) == f"Bad Request: can't parse entities: {reason}"
    assert emu.bot_messages(ALICE) == []


def test_parse_html_plain_text_and_entities():
    text, entities = parse_html(
        '<b>Tip #4</b> &lt;urgent&gt; &amp; <a href="https://m.amap.com/?a=1&amp;b=2">map</a>\n'
        '<pre><code class="language-text">x</code></pre><tg-spoiler>s</tg-spoiler>'
        "<blockquote expandable>q</blockquote>😀<i>i</i>&#33;"
    )
    assert text == "Tip #4 <urgent> & map\nxsq😀i!"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 6},
        {"type": "text_link", "url": "https://m.amap.com/?a=1&b=2", "offset": 18, "length": 3},
        {"type": "pre", "language": "text", "offset": 22, "length": 1},
        {"type": "spoiler", "offset": 23, "length": 1},
        {"type": "expandable_blockquote", "offset": 24, "length": 1},
        {"type": "italic", "offset": 27, "length": 1},  # the emoji counts 2 UTF-16 units
    ]


def test_button_data_invalid(emu, api):
    def send(data: str) -> httpx.Response:
        markup = {"inline_keyboard": [[{"text": "b", "callback_data": data}]]}
        return api.post(
            "sendMessage",
            data={"chat_id": ALICE, "text": "t", "reply_markup": json.dumps(markup)},
        )

    ok(send("x" * 64))
    assert err(send("x" * 65), 400) == "Bad Request: BUTTON_DATA_INVALID"
    assert err(send("é" * 33), 400) == "Bad Request: BUTTON_DATA_INVALID"  # 66 bytes
    assert err(send(""), 400) == "Bad Request: BUTTON_DATA_INVALID"
    text_only = {"inline_keyboard": [[{"text": "no action"}]]}
    r = api.post("sendMessage", json={"chat_id": ALICE, "text": "t", "reply_markup": text_only})
    assert "Text buttons are unallowed" in err(r, 400)


def test_edit_semantics(emu, api):
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    sent = ok(
        api.post("sendMessage", json={"chat_id": ALICE, "text": "v1", "reply_markup": markup})
    )
    mid = sent["message_id"]
    same = {"chat_id": ALICE, "message_id": mid, "text": "v1", "reply_markup": markup}
    assert err(api.post("editMessageText", json=same), 400) == NOT_MODIFIED
    assert err(api.post("editMessageReplyMarkup", json={**same, "text": None}), 400) == (
        NOT_MODIFIED
    )
    missing = {**same, "message_id": 999}
    assert err(api.post("editMessageText", json=missing), 400) == (
        "Bad Request: message to edit not found"
    )
    # Editing the text without reply_markup removes the inline keyboard.
    edited = ok(
        api.post(
            "editMessageText",
            json={"chat_id": ALICE, "message_id": mid, "text": "<i>v2</i>", "parse_mode": "HTML"},
        )
    )
    assert edited["text"] == "v2" and "reply_markup" not in edited and "edit_date" in edited
    view = emu.transcript(ALICE)[-1]
    assert view["text"] == "v2" and view["raw_text"] == "<i>v2</i>"
    assert view["reply_markup"] is None
    assert [e["text"] for e in view["edits"]] == ["v1"]
    assert view["edits"][0]["reply_markup"] == markup
    # Markup-only edit, then not-modified on the markup.
    ok(
        api.post(
            "editMessageReplyMarkup",
            json={"chat_id": ALICE, "message_id": mid, "reply_markup": markup},
        )
    )
    assert emu.transcript(ALICE)[-1]["reply_markup"] == markup
    # A user's message cannot be edited; a deleted one is gone.
    user_mid = emu.send_text(ALICE, "mine")["message_id"]
    r = api.post("editMessageText", json={"chat_id": ALICE, "message_id": user_mid, "text": "x"})
    assert err(r, 400) == "Bad Request: message can't be edited"
    assert ok(api.post("deleteMessage", json={"chat_id": ALICE, "message_id": mid})) is True
    assert err(api.post("deleteMessage", json={"chat_id": ALICE, "message_id": mid}), 400) == (
        "Bad Request: message to delete not found"
    )
    assert [m["message_id"] for m in emu.transcript(ALICE)] == [user_mid]
    assert emu.transcript(ALICE, include_deleted=True)[0]["deleted"] is True


def test_photo_upload_get_file_download_round_trip(emu, api):
    files = {"photo": ("tip.jpg", TINY_JPEG, "image/jpeg")}
    data = {"chat_id": GROUP, "caption": "<b>Tip 7</b>", "parse_mode": "HTML"}
    msg = ok(api.post("sendPhoto", data=data, files=files))
    sizes = msg["photo"]
    assert len(sizes) == 2
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (16, 12)
    assert {"file_id", "file_unique_id", "file_size", "width", "height"} <= sizes[-1].keys()
    assert msg["caption"] == "Tip 7"
    assert msg["caption_entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    file = ok(api.post("getFile", data={"file_id": sizes[-1]["file_id"]}))
    assert file["file_path"].startswith("photos/") and file["file_size"] == len(TINY_JPEG)
    download = httpx.get(f"{emu.base_file_url}{emu.token}/{file['file_path']}")
    assert download.status_code == 200 and download.content == TINY_JPEG
    assert emu.file_bytes(sizes[-1]["file_id"]) == TINY_JPEG
    assert emu.last_bot_message(GROUP)["kind"] == "photo"
    assert emu.last_bot_message(GROUP)["text"] == "Tip 7"
    # Re-sending by file_id reuses the sizes; unknown ids and non-images are refused.
    again = ok(api.post("sendPhoto", data={"chat_id": ALICE, "photo": sizes[-1]["file_id"]}))
    assert again["photo"] == sizes
    r = api.post("sendPhoto", data={"chat_id": ALICE, "photo": "nope"})
    assert err(r, 400) == "Bad Request: wrong file identifier/HTTP URL specified"
    r = api.post("sendPhoto", data={"chat_id": ALICE}, files={"photo": ("x.jpg", b"no", "a/b")})
    assert err(r, 400) == "Bad Request: IMAGE_PROCESS_FAILED"
    assert httpx.get(f"{emu.base_file_url}{emu.token}/photos/missing.jpg").status_code == 404
    assert httpx.get(f"{emu.base_file_url}bad:token/{file['file_path']}").status_code == 401


def test_binary_document_upload_survives_multipart(emu, api):
    payload = bytes(range(256)) * 8 + b"\r\n--boundary\r\n\r\n" + b"\r\n"
    files = {"document": ("报告.bin", payload, "application/octet-stream")}
    msg = ok(api.post("sendDocument", data={"chat_id": ALICE, "caption": "α"}, files=files))
    doc = msg["document"]
    assert doc["file_name"] == "报告.bin" and doc["mime_type"] == "application/octet-stream"
    assert doc["file_size"] == len(payload)
    path = ok(api.post("getFile", data={"file_id": doc["file_id"]}))["file_path"]
    assert httpx.get(f"{emu.base_file_url}{emu.token}/{path}").content == payload
    call = emu.calls("sendDocument")[-1]
    assert call["document"]["size"] == len(payload) and call["caption"] == "α"


def test_user_media_is_downloadable_and_typed(emu, api):
    photo = emu.send_photo(ALICE, caption="he is by the bridge")
    assert photo["kind"] == "photo" and photo["text"] == "he is by the bridge"
    assert len(photo["photo"]) == 2
    big = photo["photo"][-1]
    path = ok(api.post("getFile", data={"file_id": big["file_id"]}))["file_path"]
    assert httpx.get(f"{emu.base_file_url}{emu.token}/{path}").content == TINY_JPEG
    assert emu.send_photo(ALICE, sizes=False)["photo"] == []
    doc = emu.send_document(ALICE, b"%PDF-1.4", "a.pdf", "application/pdf")
    assert doc["document"]["mime_type"] == "application/pdf"
    voice = emu.send_voice(ALICE)
    # A voice file_id cannot be sent as a photo.
    r = api.post("sendPhoto", data={"chat_id": ALICE, "photo": voice["voice"]["file_id"]})
    assert err(r, 400) == "Bad Request: type of file mismatch"
    resent = ok(api.post("sendVoice", data={"chat_id": ALICE, "voice": voice["voice"]["file_id"]}))
    assert resent["voice"] == voice["voice"]
    venue = emu.send_venue(ALICE, 30.2, 115.0, "Bridge", "Riverside Rd")
    assert venue["location"] == {"latitude": 30.2, "longitude": 115.0}
    assert venue["venue"]["title"] == "Bridge"
    kinds = [(m["kind"], m["from_bot"]) for m in emu.transcript(ALICE)]
    assert kinds == [
        ("photo", False),
        ("photo", False),
        ("document", False),
        ("voice", False),
        ("voice", True),
        ("venue", False),
    ]


def test_bot_location_venue_and_commands(emu, api):
    loc = ok(
        api.post("sendLocation", data={"chat_id": ALICE, "latitude": 30.2, "longitude": 115.04})
    )
    assert loc["location"] == {"latitude": 30.2, "longitude": 115.04}
    venue = ok(
        api.post(
            "sendVenue",
            data={
                "chat_id": ALICE,
                "latitude": 1,
                "longitude": 2,
                "title": "Station",
                "address": "Main St",
            },
        )
    )
    assert venue["venue"]["address"] == "Main St" and venue["location"]["latitude"] == 1
    commands = [{"command": "start", "description": "开始"}]
    scope = {"type": "all_private_chats"}
    ok(
        api.post(
            "setMyCommands",
            data={
                "commands": json.dumps(commands),
                "scope": json.dumps(scope),
                "language_code": "zh",
            },
        )
    )
    assert emu.my_commands(scope, "zh") == commands
    assert emu.my_commands() == []
    assert ok(api.post("getMyCommands", json={"scope": scope, "language_code": "zh"})) == commands
    bad = json.dumps([{"command": "Bad-Name", "description": "x"}])
    assert err(api.post("setMyCommands", data={"commands": bad}), 400) == (
        "Bad Request: BOT_COMMAND_INVALID"
    )
    ok(api.post("deleteMyCommands", json={"scope": scope, "language_code": "zh"}))
    assert emu.my_commands(scope, "zh") == []


def test_chat_info_members_leave_and_migrate(emu, api):
    chat = ok(api.post("getChat", data={"chat_id": GROUP}))
    assert chat["title"] == "Patrol group" and chat["type"] == "supergroup"
    member = ok(api.post("getChatMember", data={"chat_id": GROUP, "user_id": BOB}))
    assert member["status"] == "member" and member["user"]["id"] == BOB
    emu.set_member_status(GROUP, BOB, "administrator")
    admin = ok(api.post("getChatMember", data={"chat_id": GROUP, "user_id": BOB}))
    assert admin["status"] == "administrator" and admin["can_manage_chat"] is True
    assert ok(api.post("leaveChat", data={"chat_id": GROUP})) is True
    assert emu.left_chats() == [GROUP]
    assert err(api.post("sendMessage", data={"chat_id": GROUP, "text": "x"}), 403) == (
        "Forbidden: bot is not a member of the supergroup chat"
    )
    emu.add_group(-42, "old group", kind="group")
    emu.migrate_group(-42, -1009)
    r = api.post("sendMessage", data={"chat_id": -42, "text": "x"})
    assert r.json()["parameters"] == {"migrate_to_chat_id": -1009}
    assert ok(api.post("sendChatAction", data={"chat_id": ALICE, "action": "typing"})) is True
    assert err(api.post("sendChatAction", data={"chat_id": ALICE, "action": "dance"}), 400)


def test_fault_hook(emu, api):
    def fault(method, params):
        if method == "sendMessage" and params.get("text") == "flood":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
        return None

    emu.fault = fault
    r = api.post("sendMessage", data={"chat_id": ALICE, "text": "flood"})
    assert r.status_code == 429 and r.json()["parameters"] == {"retry_after": 3}
    ok(api.post("sendMessage", data={"chat_id": ALICE, "text": "fine"}))
    assert [m["text"] for m in emu.bot_messages(ALICE)] == ["fine"]
    assert len(emu.calls("sendMessage")) == 2


# ------------------------------------------------------------------------------ updates


def test_get_updates_offset_semantics(emu, api):
    emu.send_text(ALICE, "/start@warmline_test_bot now")
    emu.send_location(ALICE, 30.1, 115.1)
    emu.send_text(BOB, "hi", chat_id=GROUP)
    updates = ok(api.post("getUpdates"))
    ids = [u["update_id"] for u in updates]
    assert len(ids) == 3 and ids == sorted(ids)
    first = updates[0]["message"]
    assert first["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    assert first["chat"]["type"] == "private" and first["from"]["language_code"] == "zh-hans"
    assert updates[1]["message"]["location"] == {"latitude": 30.1, "longitude": 115.1}
    assert updates[2]["message"]["chat"]["id"] == GROUP
    # Unconfirmed updates are delivered again; offset confirms the earlier ones.
    assert len(ok(api.post("getUpdates", data={"limit": 2}))) == 2
    assert [u["update_id"] for u in ok(api.post("getUpdates", data={"offset": ids[1]}))] == (
        ids[1:]
    )
    assert emu.pending_updates() == 2
    assert [u["update_id"] for u in ok(api.post("getUpdates", data={"offset": -1}))] == [ids[2]]
    assert ok(api.post("getUpdates", data={"offset": ids[2] + 1})) == []
    assert emu.pending_updates() == 0
    raw_id = emu.send_raw_update({"message": {"weird": True}})
    assert ok(api.post("getUpdates"))[0] == {"update_id": raw_id, "message": {"weird": True}}


def test_get_updates_long_poll_wakes_up_and_times_out(emu, api):
    timer = threading.Timer(0.15, emu.send_text, args=(ALICE, "wake up"))
    t0 = time.monotonic()
    timer.start()
    # A poll that did not wake would come back empty after its 120 s (and fail below).
    updates = ok(api.post("getUpdates", data={"timeout": 120}, timeout=300))
    timer.join()
    assert [u["message"]["text"] for u in updates] == ["wake up"]
    t0 = time.monotonic()
    offset = updates[-1]["update_id"] + 1
    assert ok(api.post("getUpdates", data={"timeout": 0.3, "offset": offset})) == []
    assert time.monotonic() - t0 >= 0.25  # it did wait (a slow machine only waits longer)


def test_newer_get_updates_terminates_older_one(emu, api):
    results = {}

    def poll():
        with httpx.Client(timeout=600) as client:
            results["old"] = client.post(f"{emu.base_url}{emu.token}/getUpdates?timeout=300")

    thread = threading.Thread(target=poll)
    thread.start()
    emu.wait_for(lambda: emu.calls("getUpdates"))
    time.sleep(0.05)  # let the first poll reach its wait
    assert ok(api.post("getUpdates", data={"timeout": 0})) == []
    thread.join(WAIT_S)  # without the conflict the old poll would hold on for 300 s
    assert err(results["old"], 409).startswith("Conflict: terminated by other getUpdates")


def test_stop_releases_long_poll(api):
    emu = BotApiEmulator().start()
    results = {}

    def poll():
        with httpx.Client(timeout=600) as client:
            try:
                results["r"] = client.post(f"{emu.base_url}{emu.token}/getUpdates?timeout=300")
            except httpx.HTTPError as exc:  # the server went away; also acceptable
                results["r"] = exc

    thread = threading.Thread(target=poll)
    thread.start()
    emu.wait_for(lambda: emu.calls("getUpdates"))
    emu.stop()
    thread.join(WAIT_S)  # a poll stop did not release would hold on for 300 s
    assert not thread.is_alive()


def test_more_user_updates_and_allowed_updates(emu, api):
    live = emu.send_location(ALICE, 30.0, 115.0, live_period=900)
    emu.edit_location(ALICE, None, live["message_id"], 30.001, 115.002)
    emu.send_contact(ALICE, "+8613800000000")
    emu.send_sticker(BOB, chat_id=GROUP)
    updates = ok(api.post("getUpdates"))
    assert updates[0]["message"]["location"]["live_period"] == 900
    assert updates[1]["edited_message"]["location"]["latitude"] == 30.001
    assert "edit_date" in updates[1]["edited_message"]
    assert updates[2]["message"]["contact"] == {
        "phone_number": "+8613800000000",
        "first_name": "Alice",
    }
    assert updates[3]["message"]["sticker"]["type"] == "regular"
    assert emu.transcript(ALICE)[0]["edits"][0]["location"]["latitude"] == 30.0
    # Updates of types the bot did not ask for are never delivered.
    emu.press_button(ALICE, ALICE, live["message_id"], "x")
    emu.send_text(ALICE, "after")
    offset = updates[-1]["update_id"] + 1
    allowed = json.dumps(["message"])
    got = ok(api.post("getUpdates", data={"offset": offset, "allowed_updates": allowed}))
    assert [list(u)[1] for u in got] == ["message"]
    assert got[0]["message"]["text"] == "after"


def test_press_button_and_callback_answer(emu, api):
    markup = {
        "inline_keyboard": [
            [{"text": "✅ Claim", "callback_data": "tip:claim:7"}],
            [{"text": "Map", "url": "https://uri.amap.com/marker?position=115,30"}],
        ]
    }
    mid = ok(
        api.post("sendMessage", json={"chat_id": GROUP, "text": "Tip 7", "reply_markup": markup})
    )["message_id"]
    qid = emu.press(BOB, GROUP, mid, text="Claim")
    update = ok(api.post("getUpdates"))[-1]
    query = update["callback_query"]
    assert query["id"] == qid and query["data"] == "tip:claim:7"
    assert query["from"]["id"] == BOB and query["message"]["reply_markup"] == markup
    assert isinstance(query["chat_instance"], str)
    assert emu.callback_answer(qid) is None
    ok(
        api.post(
            "answerCallbackQuery",
            data={"callback_query_id": qid, "text": "Claimed", "show_alert": "true"},
        )
    )
    assert emu.callback_answer(qid)["text"] == "Claimed"
    assert emu.callback_answer(qid)["show_alert"] is True
    assert "query is too old" in err(
        api.post("answerCallbackQuery", data={"callback_query_id": qid}), 400
    )
    with pytest.raises(AssertionError, match=r"buttons: \['✅ Claim', 'Map'\]"):
        emu.press(BOB, GROUP, mid, text="Release")
    with pytest.raises(AssertionError, match="no callback_data"):
        emu.press(BOB, GROUP, mid, text="Map")
    forged = emu.press_button(BOB, GROUP, mid, "tip:approve:7")
    assert ok(api.post("getUpdates"))[-1]["callback_query"]["id"] == forged
    gone = emu.press_button(BOB, GROUP, 999, "x")
    old_message = ok(api.post("getUpdates"))[-1]["callback_query"]["message"]
    assert old_message["date"] == 0 and old_message["message_id"] == 999 and gone


def test_wait_for_times_out_helpfully(emu):
    with pytest.raises(TimeoutError, match="pending updates: 1"):
        emu.send_text(ALICE, "x")
        emu.wait_for(lambda: emu.last_bot_message(ALICE), timeout=0.05)


def test_wait_until_wakes_on_a_change_and_gives_up_when_told(emu):
    """For watchers in other threads (the demo's web chat and drill): the value as soon as a
    change makes it true; the falsy value once cancelled or after the timeout."""

    def alice_wrote() -> list[dict]:
        return emu.transcript(ALICE)

    def bob_wrote() -> list[dict]:
        return emu.transcript(BOB)

    threading.Timer(0.05, emu.send_text, args=(ALICE, "hi")).start()
    assert emu.wait_until(alice_wrote, timeout=30)[0]["text"] == "hi"
    assert emu.wait_until(bob_wrote, timeout=30, cancelled=lambda: True) == []
    assert emu.wait_until(bob_wrote, timeout=0.05) == []


# ------------------------------------------------------------------------------ real PTB bot


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Press me", callback_data="p:1")]])
    await update.message.reply_text(f"echo: {update.message.text}", reply_markup=keyboard)


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    file = await update.message.photo[-1].get_file()
    data = bytes(await file.download_as_bytearray())
    await update.message.reply_photo(data, caption=f"got {len(data)} bytes")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("done!")
    await query.edit_message_text(f"<b>pressed</b> {query.data}", parse_mode="HTML")


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.set_my_commands([("start", "Start")])
    await update.message.reply_text("welcome")


async def test_real_ptb_application(emu):
    app = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(MessageHandler(filters.PHOTO, _photo))
    app.add_handler(CallbackQueryHandler(_button))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            assert app.bot.username == "warmline_test_bot"

            emu.send_text(ALICE, "/start")
            await emu.until(
                lambda: emu.my_commands() == [{"command": "start", "description": "Start"}]
            )

            emu.send_text(ALICE, "你好")
            reply = await emu.until(
                lambda: next(
                    (m for m in emu.bot_messages(ALICE) if m["text"].startswith("echo")), None
                )
            )
            assert reply["text"] == "echo: 你好" and reply["reply_to_message_id"] is None
            assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "p:1"

            qid = emu.press(ALICE, ALICE, reply["message_id"], text="Press me")
            await emu.until(lambda: emu.callback_answer(qid))
            assert emu.callback_answer(qid)["text"] == "done!"
            edited = await emu.until(
                lambda: (m := emu.message(ALICE, reply["message_id"]))["edits"] and m
            )
            assert edited["text"] == "pressed p:1" and edited["raw_text"].startswith("<b>")
            assert edited["reply_markup"] is None  # keyboard removed by the edit

            emu.send_photo(ALICE)
            photo = await emu.until(
                lambda: next((m for m in emu.bot_messages(ALICE) if m["kind"] == "photo"), None)
            )
            assert photo["text"] == f"got {len(TINY_JPEG)} bytes"
            assert emu.file_bytes(photo["photo"][-1]["file_id"]) == TINY_JPEG
        finally:
            await app.updater.stop()
            await app.stop()
    assert emu.internal_errors == [] and emu.api_errors == []
    await emu.until(lambda: emu.pending_updates() == 0)
