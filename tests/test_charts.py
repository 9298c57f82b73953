"""The summary chart (bot/views/charts.py): a valid PNG of the expected size, labelled from
the catalogs, drawn in the font the package ships — never a system font, never a missing
glyph (matplotlib warns "Glyph … missing from font(s)" when it would draw a box; here that
warning is an error) — with no data, for one day and for a whole campaign."""

from __future__ import annotations

import datetime as dt
import io
import random
import warnings
import zoneinfo
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from bot.db.campaign_stats import CampaignStatsStore
from bot.db.database import Database
from bot.domain.campaign import Leg, PeriodFigures, PeriodKey
from bot.geo.gazetteer import PLACES
from bot.i18n import CATALOGS, t
from bot.services.campaign import CampaignFigures
from bot.views import charts
from tests.test_campaign_stats import seed

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 11, 21), dt.date(2027, 3, 15)

CASES = {
    # name: (tips, days seeded, now)
    "no data": (0, 1, dt.datetime(2026, 11, 21, 8, 0, tzinfo=TZ)),
    "one day": (9, 1, dt.datetime(2026, 11, 21, 23, 0, tzinfo=TZ)),
    "campaign": (900, 115, dt.datetime(2027, 3, 15, 23, 0, tzinfo=TZ)),
    "not started": (0, 1, dt.datetime(2026, 11, 1, 12, 0, tzinfo=TZ)),
}


async def campaign_figures(tmp_path: Path, case: str) -> PeriodFigures:
    n, days, now = CASES[case]
    db = await Database(tmp_path / "chart.sqlite3").open()
    try:
        await seed(db, n, random.Random(11), dt.datetime.combine(START, dt.time(), TZ), days)
        service = CampaignFigures(
            CampaignStatsStore(db),
            tz=TZ,
            campaign_start=START,
            campaign_end=END,
            reminder_times=["09:00", "20:00"],
            clock=lambda: now,
        )
        return (await service.figures())[PeriodKey.CAMPAIGN]
    finally:
        await db.close()


def strict_render(figures: PeriodFigures, lang: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the font fails the test
        return charts.render(figures, lang)


def resolved_font(text: Text) -> Path:
    return Path(font_manager.findfont(text.get_fontproperties(), fallback_to_default=False))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_png_of_the_expected_size_in_our_font(tmp_path: Path, case: str, lang: str) -> None:
    figures = await campaign_figures(tmp_path, case)
    png = strict_render(figures, lang)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (charts.WIDTH, charts.HEIGHT) == (1200, 675)
    image.verify()  # a complete, uncorrupted file

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.draw(figures, lang)
    texts = [x for x in fig.findobj(Text) if x.get_text().strip()]
    ours = charts.font_path().resolve()
    assert {resolved_font(x).resolve() for x in texts} == {ours}  # every text, ticks included
    drawn = "\n".join(x.get_text() for x in texts)
    for key in ("chart.title", "chart.tips_axis", "chart.share_axis", "chart.medians"):
        assert t(lang, key) in drawn, key
    for leg in Leg:
        assert t(lang, f"chart.leg.{leg.value}") in drawn
    if lang == "zh":
        assert "每日收到报告与找到比例" in drawn  # CJK labels, in the font we ship
    if case == "campaign":
        assert figures.counts.received > 800 and len(figures.by_day) == 115
        spread = figures.response[Leg.REPORT_ARRIVAL]
        assert f"（{spread.count} 条）" in drawn if lang == "zh" else f"n = {spread.count}" in drawn
    if case == "no data":
        assert t(lang, "chart.no_data") in drawn


def test_the_missing_glyph_check_can_fail() -> None:
    """The control: a character outside the font, in the chart's style, is an error."""
    with warnings.catch_warnings(), rc_context(charts._style()):
        warnings.simplefilter("error")
        fig = Figure(figsize=(2, 1))
        fig.text(0.1, 0.5, "救助 \u9fa5")  # 龥: not among the characters kept
        with pytest.raises(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="png")


def test_the_font_is_ours_and_covers_what_warmline_draws() -> None:
    path = charts.font_path()
    assert path.is_file() and path.parent.name == "fonts" and path.parent.parent.name == "assets"
    font = TTFont(str(path))
    assert charts.font_family() == "Warmline Sans SC" == font["name"].getDebugName(1)
    cmap = set(font.getBestCmap())

    # Everything the chart can write…
    chart_text = "".join(
        v for cat in CATALOGS.values() for k, v in cat.items() if k.startswith("chart.")
    )
    chart_text += "0123456789—%.:/-−·"
    assert sorted({c for c in chart_text if ord(c) not in cmap and c != "\n"}) == []

    # …and every Chinese character or CJK punctuation of the catalogs and the gazetteer (if
    # this fails after a catalog change, run tools/make_font_subset.py).
    def cjk(c: str) -> bool:
        return (
            0x3000 <= ord(c) <= 0x303F or 0x4E00 <= ord(c) <= 0x9FFF or 0xFF00 <= ord(c) <= 0xFFEF
        )

    words = "".join(v for cat in CATALOGS.values() for v in cat.values())
    words += "".join(p.name_zh + "".join(p.aliases) for p in PLACES)
    assert sorted({c for c in words if cjk(c) and ord(c) not in cmap}) == []
    assert len(cmap) > 3755  # GB2312 level 1 and more
