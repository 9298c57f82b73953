"""Issue 14: the campaign's chart goes with the daily summary and with `/stats` (officers
only), through the outbox's photo kind, whose bytes are kept in the row so a restart sends
the same picture."""

from __future__ import annotations

import datetime as dt
import struct
import zoneinfo
from pathlib import Path

import pytest

from bot.domain import outbox as codec
from bot.domain.outbox import Lines, Msg, Photo
from bot.sandbox.emulator import BotApiEmulator
from bot.views.charts import HEIGHT, WIDTH
from tests.harness import (
    OFFICER,
    REPORTER,
    STRANGER,
    FakeClock,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    submit_tip,
    tr,
    world,
)

pytestmark = [pytest.mark.usefixtures("clean_log")]

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height a PNG's header states (it must be a PNG)."""
    assert data[:8] == PNG_MAGIC, data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def photo_bytes(w: World, message: dict) -> bytes:
    largest = max(message["photo"], key=lambda size: size["width"])
    return w.emu.file_bytes(largest["file_id"])


async def opens_chat(w: World, user: int) -> None:
    w.mark(user)
    w.emu.send_text(user, "/start")
    await w.next_bot(user)


def test_a_photo_row_decodes_to_the_same_picture() -> None:
    caption = Lines((Msg("chart.caption"), Msg("stats.today")))
    photo = Photo(PNG_MAGIC + bytes(range(256)) * 3, caption, lang="en")
    payload = codec.encode(photo)
    assert codec.kind_of(photo) is codec.Kind.PHOTO
    assert codec.decode("photo", payload) == photo
    assert codec.decode("photo", codec.encode(Photo(b"\x00\xff"))) == Photo(b"\x00\xff")


async def test_the_daily_summary_carries_the_chart(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await opens_chat(w, OFFICER)
        await submit_tip(w, REPORTER)
        await w.idle()
        w.mark(OFFICER)
        w.clock.now = at(2, 8, 0)
        await w.services.schedules.tick()
        await w.idle()
        sent = w.bot_msgs(OFFICER)[w.marks[OFFICER] :]
        kinds = [(m["kind"], (m.get("text") or "")[:2]) for m in sent]
        summary = next(i for i, m in enumerate(sent) if (m.get("text") or "").startswith("📊"))
        photos = [m for m in sent if m["kind"] == "photo"]
        assert len(photos) == 1, kinds
        # Right after the summary's words, as one piece.
        assert sent.index(photos[0]) == summary + 1, kinds
        assert png_size(photo_bytes(w, photos[0])) == (WIDTH, HEIGHT)
        assert photos[0]["caption"] == tr("zh", "chart.caption")
        # The photo went out as an upload, not as a link.
        [upload] = [r for _, name, r in w.emu.requests if name == "sendPhoto"]
        assert upload["photo"]["content_type"] or upload["photo"]["upload"]


async def test_a_summary_chart_queued_before_a_restart_is_sent_after_it(tmp_path: Path) -> None:
    emu = BotApiEmulator().start()
    clock = FakeClock()
    db_path = tmp_path / "warmline.sqlite3"
    try:
        async with world(tmp_path, emu=emu, clock=clock, db_path=db_path) as w:
            await opens_chat(w, OFFICER)
            await submit_tip(w, REPORTER)
            await w.idle()
            # The Bot API refuses every photo (a 500): the chart stays queued.
            emu.fault = lambda name, _params: (
                (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
                if name == "sendPhoto"
                else None
            )
            clock.now = at(2, 8, 0)
            await w.services.schedules.tick()
            await w.settle()
            pending = await w.station.db.fetchall(
                "SELECT kind FROM outbox WHERE status = 'pending' AND kind = 'photo'"
            )
            assert len(pending) == 1
            assert [m for m in emu.bot_messages(OFFICER) if m["kind"] == "photo"] == []
        emu.fault = None
        clock.now = at(2, 8, 30)  # past the retry's backoff
        async with world(tmp_path, emu=emu, clock=clock, db_path=db_path) as w:
            sent = await w.until(
                lambda: [m for m in w.bot_msgs(OFFICER) if m["kind"] == "photo"] or None
            )
            assert png_size(photo_bytes(w, sent[0])) == (WIDTH, HEIGHT)
    finally:
        emu.stop()


async def test_stats_is_for_officers_with_the_chart(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await opens_chat(w, OFFICER)
        await submit_tip(w, REPORTER)
        await w.idle()
        # A member of the public is refused, and gets no figures and no picture.
        w.mark(STRANGER)
        w.emu.send_text(STRANGER, "/stats")
        refusal = await w.next_bot(STRANGER)
        assert refusal["text"] == tr("zh", "refused.officer_only")
        assert await w.quiet(STRANGER) == []
        assert [e for e in await w.events_named("refused:stats")]
        # The officer gets the figures in words, then the chart.
        w.mark(OFFICER)
        w.emu.send_text(OFFICER, "/stats")
        words = await w.next_bot(OFFICER, tr("zh", "stats.head"))
        assert tr("zh", "stats.campaign") in words["text"]
        photo = await w.next_of_kind(OFFICER, "photo")
        assert png_size(photo_bytes(w, photo)) == (WIDTH, HEIGHT)


async def test_the_same_figures_are_not_drawn_twice(tmp_path: Path, monkeypatch) -> None:
    from bot.views import charts

    drawn: list[str] = []
    real = charts.render

    def counting(figures, lang):
        drawn.append(lang)
        return real(figures, lang)

    monkeypatch.setattr(charts, "render", counting)
    monkeypatch.setattr(charts, "_last", {})
    async with world(tmp_path) as w:
        first = await charts.campaign_chart(w.services.campaign, "zh")
        again = await charts.campaign_chart(w.services.campaign, "zh")
        assert again == first and drawn == ["zh"]
        await submit_tip(w, REPORTER)  # the figures change: drawn anew
        changed = await charts.campaign_chart(w.services.campaign, "zh")
        assert changed != first and drawn == ["zh", "zh"]
