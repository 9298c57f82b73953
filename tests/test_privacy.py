"""Privacy: images sent as files lose their metadata before anyone else sees them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.services.media import NotAnImage, strip_metadata
from tests.harness import CENTRE, G1_CHAT, REPORTER, pass_spot, world

MAKE, MODEL, GPS_IFD, ORIENTATION = 0x010F, 0x0110, 0x8825, 0x0112


def jpeg_with_gps(orientation: int = 1) -> bytes:
    """A small JPEG carrying an invented camera and a GPS position (central Huangshi)."""
    image = Image.new("RGB", (64, 48), (200, 100, 50))
    image.paste((10, 20, 30), (0, 0, 32, 48))  # left half dark: shows the orientation
    exif = Image.Exif()
    exif[MAKE] = "InventedCam"
    exif[MODEL] = "Model X"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 12.0, 0.0), 3: "E", 4: (115.0, 2.0, 24.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_fixture_really_carries_gps() -> None:
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif[MAKE] == "InventedCam" and exif.get_ifd(GPS_IFD)[1] == "N"


def test_strip_metadata_drops_exif_and_keeps_the_picture() -> None:
    clean = strip_metadata(jpeg_with_gps())
    image = Image.open(io.BytesIO(clean))
    assert dict(image.getexif()) == {}
    assert b"InventedCam" not in clean and b"Exif" not in clean
    assert image.size == (64, 48)


def test_orientation_is_applied_before_the_tag_is_dropped() -> None:
    # Orientation 6 = rotate 90° clockwise to display: the clean image is already upright.
    clean = Image.open(io.BytesIO(strip_metadata(jpeg_with_gps(orientation=6))))
    assert clean.size == (48, 64)


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff" + b"\x00" * 50])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        strip_metadata(data)


async def test_image_sent_as_file_reaches_the_group_without_metadata(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.mark(REPORTER)
        w.emu.send_location(REPORTER, *CENTRE)
        await pass_spot(w, REPORTER)
        seen = await w.next_bot(REPORTER, "什么时候看到")
        await w.press(REPORTER, REPORTER, seen, "刚刚看到")
        people = await w.next_bot(REPORTER, "有几个人")
        await w.press(REPORTER, REPORTER, people, "1 人")
        flags = await w.next_bot(REPORTER, "可多选")
        await w.press(REPORTER, REPORTER, flags, "完成")
        ask = await w.next_bot(REPORTER, "简单描述")
        await w.press(REPORTER, REPORTER, ask, "跳过")
        await w.next_bot(REPORTER, "照片")
        original = jpeg_with_gps()
        w.emu.send_document(REPORTER, original, "IMG_0001.jpg", "image/jpeg")
        cleaned = await w.next_bot(REPORTER, "已去除")
        assert cleaned["kind"] == "photo"
        review = await w.next_bot(REPORTER, "请确认")
        assert "照片：有" in review["text"]
        await w.press(REPORTER, REPORTER, review, "提交报告")
        await w.next_bot(REPORTER, "已收到")

        photos = await w.until(lambda: [m for m in w.bot_msgs(G1_CHAT) if m["kind"] == "photo"])
        file_id = photos[0]["photo"][-1]["file_id"]
        sent = w.emu.file_bytes(file_id)
        assert sent != original
        assert b"InventedCam" not in sent and b"Exif" not in sent
        assert dict(Image.open(io.BytesIO(sent)).getexif()) == {}
        # The original file never went anywhere but the reporter's own chat.
        for message in w.emu.transcript(G1_CHAT):
            if message.get("document"):
                assert message["document"].get("file_name") != "IMG_0001.jpg"


async def test_ask_the_reporter_relays_both_ways_without_identities(tmp_path: Path) -> None:
    from tests.harness import G1_MEMBER, NAMES, STRANGER
    from tests.test_e2e_story import report_by_pin

    async with world(tmp_path) as w:
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=())
        card = await w.wait_card(G1_CHAT, code)
        # A stranger in the group may not ask.
        answer = await w.press(STRANGER, G1_CHAT, card, "问报告人")
        assert "只有负责" in answer["text"]
        w.mark(G1_CHAT)
        await w.press(G1_MEMBER, G1_CHAT, card, "问报告人")
        prompt = await w.next_bot(G1_CHAT, "回复这条消息")
        assert prompt["reply_markup"].get("force_reply") is True
        await w.settle()
        w.mark(REPORTER)
        w.emu.send_text(
            G1_MEMBER, "他在桥洞的哪一侧？", chat_id=G1_CHAT, reply_to=prompt["message_id"]
        )
        await w.next_bot(G1_CHAT, "已把问题转给")
        question = await w.next_bot(REPORTER, "他在桥洞的哪一侧")
        assert NAMES[G1_MEMBER][0] not in question["text"]  # who asked stays hidden
        await w.settle()  # the question is on screen and recorded (a person is never faster)
        w.mark(G1_CHAT)
        w.emu.send_text(REPORTER, "靠江边那一侧", reply_to=question["message_id"])
        await w.next_bot(REPORTER, "已转给巡查队")
        relayed = await w.next_bot(G1_CHAT, "靠江边那一侧")
        assert relayed["reply_to_message_id"] == card["message_id"]
        assert relayed["from_bot"]
        tip = await w.tip_by_code(code)
        actions = [e["action"] for e in await w.repo.events.of(tip.id)]
        assert "ask_reporter" in actions and "reporter_answer" in actions
        # The texts are not in the append-only log (they must stay purgeable).
        assert all("桥洞" not in (e["detail"] or "") for e in await w.repo.events.of(tip.id))
        # An ordinary reply from the reporter (not to a question) is still a report message.
        w.mark(REPORTER)
        w.emu.send_text(REPORTER, "黄石站", reply_to=question["message_id"] - 1)
        await w.next_bot(REPORTER)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我电话 138-0000-0042 随时联系", "我电话 # 随时联系"),
        ("call +86 139 0000 0042", "call #"),
        ("13800000042", "#"),
        ("座机0714-6221234或(0714)6221234", "座机#或#"),
        ("3 人，约 60 岁，编号 HS-0042", "3 人，约 60 岁，编号 HS-0042"),
        ("门牌 1380 号", "门牌 1380 号"),
        ("138000000421", "138000000421"),  # twelve digits: not a phone number
    ],
)
def test_phone_numbers_in_words_are_masked(text: str, masked: str) -> None:
    from bot.domain.privacy import mask_phones

    assert mask_phones(text, "#") == masked


async def test_a_reporters_own_number_in_their_words_never_reaches_the_group(
    tmp_path: Path,
) -> None:
    """A reporter types their number into the description and into an answer to the patrol:
    the group reads neither (the card and the relay mask it); officers can still reach the
    reporter through the relay, which is what it is for."""
    from tests.harness import G1_MEMBER, NAMES, assert_no_reporter_identity_in_groups
    from tests.test_e2e_story import report_by_pin

    async with world(tmp_path) as w:
        name, username = NAMES[REPORTER][0], NAMES[REPORTER][1]
        words = f"桥下躺着一位老人，我是{name}（@{username}），电话 138-0000-0042 可以联系我"
        code = await report_by_pin(w, REPORTER, "zh", photo=False, flags=(), description=words)
        card = await w.wait_card(G1_CHAT, code)
        assert "〔电话号码已隐去〕" in card["text"] and "0042" not in card["text"]
        assert "我是〔报告人姓名已隐去〕（@〔报告人姓名已隐去〕）" in card["text"], card["text"]
        assert name not in card["text"] and username not in card["text"]
        assert "桥下躺着一位老人" in card["text"]
        tip = await w.tip_by_code(code)
        assert "138-0000-0042" in tip.description  # staff-only storage keeps the words
        w.mark(G1_CHAT)
        await w.press(G1_MEMBER, G1_CHAT, card, "问报告人")
        prompt = await w.next_bot(G1_CHAT, "回复这条消息")
        await w.settle()
        w.mark(REPORTER)
        w.emu.send_text(G1_MEMBER, "具体在哪？", chat_id=G1_CHAT, reply_to=prompt["message_id"])
        question = await w.next_bot(REPORTER, "具体在哪")
        await w.settle()
        w.mark(G1_CHAT)
        w.emu.send_text(
            REPORTER, f"东侧，打我 13900000042 找{name}", reply_to=question["message_id"]
        )
        relayed = await w.next_bot(G1_CHAT, "东侧")
        assert "〔电话号码已隐去〕" in relayed["text"] and "0042" not in relayed["text"]
        assert "找〔报告人姓名已隐去〕" in relayed["text"], relayed["text"]
        await w.idle()
        assert_no_reporter_identity_in_groups(w.emu, w.config)


def test_the_reporters_own_name_is_masked_whatever_its_case_or_at() -> None:
    from bot.domain.privacy import mask_known

    known = ("Li Xiaomei", "li_xiaomei_x", None, "13800000042")
    text = "I am LI XIAOMEI (@Li_Xiaomei_X), 13800000042; Li is a common name"
    assert mask_known(text, known, "#") == "I am # (@#), #; Li is a common name"
    assert mask_known("小梅在这里", ("梅",), "#") == "小梅在这里"  # one character: not searched


def test_known_parts_keep_the_words_and_mark_the_identity() -> None:
    """A relayed answer keeps the reporter's words cut around their identity (the identity
    itself is not stored in the message); rendered, it reads as ``mask_known`` would."""
    from bot.domain.privacy import known_parts, mask_known

    known = ("小梅", "@Li_Xiaomei", "+8613800000042")
    text = "我是小梅，li_xiaomei 的电话 +8613800000042，桥下"
    parts = known_parts(text, known)
    assert parts == ("我是", None, "，", None, " 的电话 ", None, "，桥下")
    assert all("小梅" not in p and "0042" not in p for p in parts if p is not None)
    rendered = "".join("〔…〕" if p is None else p for p in parts)
    assert rendered == mask_known(text, known, "〔…〕")
    assert known_parts("nothing to hide", known) == ("nothing to hide",)
    assert known_parts("", ()) == ("",)
