"""``warmline leaflet``: the campaign's printable A5 notice, in Chinese, with a QR code of the
web report form (``{public_url}/report``).

The QR code is made by segno (pure Python); the page is drawn by matplotlib (Agg, no GUI, no
network) in the CJK font the package ships, as the summary chart is. PDF or PNG, by the output
file's suffix. The words come from the catalogs (``leaflet.*``), the hotline and the amount
from the config.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from bot.config import Config
from bot.i18n import t
from bot.views.charts import font_family

A5_INCHES = (148 / 25.4, 210 / 25.4)
PNG_DPI = 300
LANG = "zh"  # the leaflet is for the public on the street: Chinese
FORMATS = {".pdf": "pdf", ".png": "png"}
_INK, _WARM, _RED = "#1d1d1f", "#c2410c", "#b71c1c"
#: Characters per line of the body text (CJK has no spaces to wrap at).
_LINE = 19


class LeafletError(ValueError):
    """A leaflet cannot be made (no public address, an unknown file type): say how to fix."""


def form_url(config: Config) -> str:
    base = config.web.public_url.rstrip("/")
    if not base:
        raise LeafletError(
            "web.public_url is empty → set it to the address people reach the bot's web "
            'server at (e.g. "https://warmline.example.org"); the QR code points to '
            "{public_url}/report"
        )
    return f"{base}/report"


def _wrap(text: str, width: int = _LINE) -> str:
    lines, line = [], ""
    for ch in text:
        line += ch
        if len(line) >= width and ch not in "，。、：；":
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return "\n".join(lines)


def draw(config: Config) -> Figure:
    url = form_url(config)
    qr = segno.make(url, error="m")
    matrix = [list(row) for row in qr.matrix]
    border = 4  # the quiet zone a reader needs
    size = len(matrix) + 2 * border
    grid = [[0] * size for _ in range(size)]
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            grid[y + border][x + border] = 1 if dark else 0
    fig = Figure(figsize=A5_INCHES)
    fig.patch.set_facecolor("white")
    station = config.station
    fig.text(
        0.5,
        0.945,
        t(LANG, "leaflet.title"),
        ha="center",
        va="top",
        fontsize=24,
        color=_WARM,
    )
    fig.text(0.5, 0.885, t(LANG, "leaflet.ask"), ha="center", va="top", fontsize=18, color=_INK)
    fig.text(
        0.5,
        0.835,
        _wrap(t(LANG, "leaflet.body")),
        ha="center",
        va="top",
        fontsize=12,
        color=_INK,
        linespacing=1.5,
    )
    ax = fig.add_axes((0.25, 0.33, 0.5, 0.5 * A5_INCHES[0] / A5_INCHES[1]))
    ax.imshow(grid, cmap="Greys", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    fig.text(0.5, 0.315, t(LANG, "leaflet.scan"), ha="center", va="top", fontsize=12, color=_INK)
    fig.text(0.5, 0.285, url, ha="center", va="top", fontsize=8, color="#555")
    fig.text(
        0.5,
        0.245,
        t(LANG, "leaflet.reward", amount=config.reward.amount),
        ha="center",
        va="top",
        fontsize=15,
        color=_WARM,
    )
    fig.text(
        0.5,
        0.19,
        t(LANG, "leaflet.hotline", hotline=station.hotline),
        ha="center",
        va="top",
        fontsize=16,
        color=_INK,
    )
    box = FancyBboxPatch(
        (0.07, 0.055),
        0.86,
        0.075,
        boxstyle="round,pad=0.005",
        transform=fig.transFigure,
        facecolor="#fde8e8",
        edgecolor=_RED,
    )
    fig.patches.append(box)
    fig.text(
        0.5,
        0.0925,
        t(LANG, "leaflet.emergency").replace("：", "：\n", 1),
        ha="center",
        va="center",
        fontsize=11,
        color=_RED,
        linespacing=1.4,
    )
    fig.text(0.5, 0.025, station.name, ha="center", va="bottom", fontsize=10, color="#555")
    return fig


def render(config: Config, kind: str) -> bytes:
    """The leaflet as ``kind`` ("pdf" or "png") bytes."""
    if kind not in FORMATS.values():
        raise LeafletError(f"unknown format {kind!r}: pdf or png")
    with rc_context({"font.family": [font_family()], "pdf.fonttype": 42}):
        fig = draw(config)
        out = io.BytesIO()
        fig.savefig(out, format=kind, dpi=PNG_DPI, facecolor="white")
    return out.getvalue()


def write(config: Config, out: Path) -> Path:
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise LeafletError(f"{out}: the file name must end in .pdf or .png")
    out.write_bytes(render(config, kind))
    return out
