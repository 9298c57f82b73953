"""The summary chart: tips per day and the located share over a period, with the response
medians beside their counts — one PNG, in the station's language.

Drawn with matplotlib's Agg renderer (no GUI, no network) through its object API (no
pyplot state), in the CJK font the package ships (``bot/assets/fonts``, a subset of Noto
Sans CJK SC): registered by its path, never looked up among the system's fonts, so Chinese
labels render the same on a bare server. Rendering takes a few hundred milliseconds of CPU:
call :func:`render` from a worker thread (``asyncio.to_thread``) in the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import threading
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.campaign import Leg, PeriodFigures, Unit, rolling_share
from bot.i18n import keys, t
from bot.services.campaign import CampaignFigures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib (and numpy under it) is imported where a chart is drawn, not with this module:
# it is ~50 MB of the bot's memory and a good part of its start-up time, and a chart is drawn
# once a day and on /stats (issue 16: the web server's footprint and cold start).

FONT_FILE = "WarmlineSansSC-Regular.otf"
#: The PNG's size in pixels: 16:9, legible on a phone held upright and on a desk.
WIDTH, HEIGHT, DPI = 1200, 675, 150
#: Bars carry their count, and every day (or every other) its date, up to this many days.
LABELLED_DAYS = 21
#: Up to this many days the located share is drawn day by day; over a longer period, a day's
#: few tips make it jump about, so it is the share over the last ``ROLLING_DAYS`` days.
DAILY_SHARE_DAYS = 31
ROLLING_DAYS = 7

_BARS = "#4c78a8"
_SHARE = "#e45756"
_INK = "#222222"
_MUTED = "#666666"

_lock = threading.Lock()  # matplotlib's rcParams and font cache are process-wide


def font_path() -> Path:
    """The shipped font file (inside the installed package)."""
    return Path(str(resources.files("bot").joinpath("assets", "fonts", FONT_FILE)))


@cache
def font_family() -> str:
    """Register the shipped font with matplotlib by its path; its family name."""
    from matplotlib import font_manager

    path = str(font_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def _style() -> dict[str, object]:
    family = font_family()
    return {
        "font.family": [family],  # only ours: a missing glyph warns, never borrows
        "font.size": 9,
        "axes.unicode_minus": True,
        "axes.edgecolor": _MUTED,
        "axes.labelcolor": _INK,
        "xtick.color": _MUTED,
        "ytick.color": _MUTED,
        "text.color": _INK,
    }


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _legs(figures: PeriodFigures, lang: str) -> list[str]:
    lines = [t(lang, "chart.medians")]
    for leg in Leg:
        spread = figures.response[leg]
        name = t(lang, keys.LEG[leg])
        if spread.count == 0:
            lines.append(t(lang, "chart.leg_none", leg=name))
        else:
            lines.append(
                t(
                    lang,
                    "chart.leg_value",
                    leg=name,
                    median=_minutes(spread.median),
                    p90=_minutes(spread.p90),
                    count=spread.count,
                )
            )
    return lines


def _totals(figures: PeriodFigures, lang: str) -> list[str]:
    c = figures.counts
    tips = c.resolution[Unit.TIP]
    share = "—" if tips.located_share is None else f"{tips.located_share:.0%}"
    return [
        t(lang, "chart.totals_head"),
        *t(
            lang,
            "chart.totals",
            received=c.received,
            urgent=c.urgent,
            located=tips.located,
            not_found=tips.not_found,
            share=share,
            concluded=tips.concluded,
        ).split("\n"),
    ]


def _draw(figures: PeriodFigures, lang: str) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.08, right=0.91, top=0.80, bottom=0.31)
    ax = fig.add_subplot()
    days = [dt.date.fromisoformat(g.key) for g in figures.by_day]
    received = [g.counts.received for g in figures.by_day]
    window = 1 if len(days) <= DAILY_SHARE_DAYS else ROLLING_DAYS
    shares = rolling_share(figures.by_day, window)

    period = figures.period
    last_day = (period.until - dt.timedelta(microseconds=1)).date()
    fig.text(0.08, 0.965, t(lang, "chart.title"), fontsize=13, va="top")
    fig.text(
        0.08,
        0.9,
        t(lang, "chart.period", start=period.since.date().isoformat(), end=last_day.isoformat())
        if period.until > period.since
        else t(lang, "chart.no_data"),
        fontsize=8.5,
        color=_MUTED,
        va="top",
    )

    x = date2num(days) if days else []
    ax.bar(x, received, width=0.7, color=_BARS, label=t(lang, "chart.tips"), zorder=2)
    if days and len(days) <= LABELLED_DAYS:
        for xi, n in zip(x, received, strict=True):
            if n:
                ax.annotate(
                    str(n), (xi, n), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7.5, color=_INK,
                )  # fmt: skip
    ax.set_ylabel(t(lang, "chart.tips_axis"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylim(0, max([*received, 1]) * 1.18)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=0)
    ax.spines[["top"]].set_visible(False)
    if days:
        ax.set_xlim(x[0] - 0.6, x[-1] + 0.6)
        if len(days) <= LABELLED_DAYS:
            step = 1 if len(days) <= 11 else 2
            ax.set_xticks(x[::step], [d.strftime("%m-%d") for d in days[::step]])
        else:
            ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=8))
            ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    else:
        ax.set_xticks([])
    if not sum(received):
        ax.text(
            0.5, 0.5, t(lang, "chart.no_data"), transform=ax.transAxes,
            ha="center", va="center", fontsize=12, color=_MUTED,
        )  # fmt: skip

    share_ax = ax.twinx()
    share_ax.set_ylim(0, 1.05)
    share_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share_ax.set_ylabel(t(lang, "chart.share_axis"))
    share_ax.spines[["top"]].set_visible(False)
    points = [(xi, s) for xi, s in zip(x, shares, strict=True) if s is not None]
    (line,) = share_ax.plot(
        [p[0] for p in points],
        [p[1] for p in points],
        color=_SHARE,
        marker="o",
        markersize=3.5,
        linewidth=1.4,
        label=t(lang, "chart.share" if window == 1 else "chart.share_rolling", days=window),
        zorder=3,
    )
    bars_handle = ax.containers[0] if ax.containers else None
    handles = [h for h in (bars_handle, line) if h is not None]
    fig.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper left",
        bbox_to_anchor=(0.075, 0.865),
        fontsize=7.5,
        frameon=False,
        ncols=2,
    )
    for left, lines in ((0.08, _legs(figures, lang)), (0.62, _totals(figures, lang))):
        fig.text(left, 0.15, "\n".join(lines), fontsize=8.5, va="center", linespacing=1.5)
    return fig


def draw(figures: PeriodFigures, lang: str) -> Figure:
    """The chart, drawn (for tests: its texts and their fonts can be inspected)."""
    from matplotlib import rc_context

    with _lock, rc_context(_style()):
        fig = _draw(figures, lang)
        fig.canvas.draw()
    return fig


def render(figures: PeriodFigures, lang: str) -> bytes:
    """The chart of ``figures`` (the campaign's, for the daily summary) as a PNG of
    ``WIDTH`` × ``HEIGHT`` pixels, labelled in ``lang`` from the catalogs."""
    from matplotlib import rc_context

    with _lock, rc_context(_style()):
        fig = _draw(figures, lang)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


#: The last chart drawn in each language, by the figures it shows: `/stats` asked again
#: (or by several officers) while nothing changed costs no second render.
_last: dict[str, tuple[str, bytes]] = {}


async def campaign_chart(service: CampaignFigures, lang: str) -> bytes:
    """The campaign's chart as it stands now (the daily summary, `/stats`), drawn off the
    event loop: a render takes about a second."""
    figures = await service.chart()
    key = repr(figures)
    cached = _last.get(lang)
    if cached is not None and cached[0] == key:
        return cached[1]
    png = await asyncio.to_thread(render, figures, lang)
    _last[lang] = (key, png)
    return png
