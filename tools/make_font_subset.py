"""Make the CJK font the summary chart draws with: a subset of Noto Sans CJK SC Regular.

Run by hand when the catalogs or the gazetteer gain characters outside the subset
(``tests/test_charts.py`` says which ones); not run by the tests. Needs fontTools (a dev
dependency) and Debian's ``fonts-noto-cjk`` package as the source:

    apt-get download fonts-noto-cjk  # 1:20220127+repack1-1 (Debian 12), see the sha256 below
    dpkg-deb -x fonts-noto-cjk_*_all.deb /tmp/noto
    .venv/bin/python tools/make_font_subset.py \
        /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

The .deb used for the committed file: fonts-noto-cjk_1%3a20220127+repack1-1_all.deb,
sha256 4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502.

It keeps what warmline can draw: ASCII and Latin-1, general and CJK punctuation, full-width
forms, the 3,755 characters of GB2312 level 1 (the common characters, from Python's own
gb2312 codec), and every character of the message catalogs and the gazetteer. The family is
renamed ("Warmline Sans SC"), so it can never be mistaken for the full font; the copyright and
licence fields (SIL OFL 1.1) stay.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bot" / "assets" / "fonts" / "WarmlineSansSC-Regular.otf"
FAMILY = "Warmline Sans SC"
SOURCE_NAME = "Noto Sans CJK SC"


def gb2312_level1() -> set[str]:
    """Rows 16–55 of GB2312 (0xB0A1–0xD7F9): the 3,755 level-1 characters."""
    found = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                found.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


def warmline_text() -> set[str]:
    """Every character of the message catalogs and the gazetteer."""
    sys.path.insert(0, str(ROOT))
    from bot.geo.gazetteer import PLACES
    from bot.i18n import CATALOGS

    chars: set[str] = set()
    for catalog in CATALOGS.values():
        for text in catalog.values():
            chars.update(text)
    for place in PLACES:
        chars.update(place.name_zh + place.name_en + "".join(place.aliases))
    return chars


def codepoints() -> set[int]:
    ranges = [
        (0x20, 0x7E),  # ASCII
        (0xA0, 0xFF),  # Latin-1 (°, ·, ×…)
        (0x2010, 0x206F),  # general punctuation (–, —, …, ‰)
        (0x2190, 0x2193),  # arrows
        (0x2212, 0x2212),  # the minus sign matplotlib puts on negative ticks
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF01, 0xFF5E),  # full-width forms
    ]
    points = {p for low, high in ranges for p in range(low, high + 1)}
    points |= {ord(c) for c in gb2312_level1() | warmline_text()}
    return points


def source_font(path: Path) -> TTFont:
    if path.suffix.lower() in (".ttc", ".otc"):
        for font in TTCollection(str(path)).fonts:
            if font["name"].getDebugName(1) == SOURCE_NAME:
                return font
        raise SystemExit(f"{path}: no {SOURCE_NAME!r} in this collection")
    return TTFont(str(path))


def rename(font: TTFont, version: str) -> None:
    """A modified font under its own name; copyright, trademark and licence fields kept."""
    name = font["name"]
    full = f"{FAMILY} Regular"
    postscript = FAMILY.replace(" ", "") + "-Regular"
    for record in list(name.names):
        if record.nameID in (3, 16, 17, 18, 21, 22):  # unique id, typographic names
            name.removeNames(nameID=record.nameID)
    for name_id, value in (
        (1, FAMILY),
        (2, "Regular"),
        (3, f"{version};{postscript}"),
        (4, full),
        (5, version),
        (6, postscript),
        (10, f"A subset of {SOURCE_NAME} Regular made for warmline (tools/make_font_subset.py)"),
    ):
        name.removeNames(nameID=name_id)
        name.setName(value, name_id, 3, 1, 0x409)
    cff = font["CFF "].cff
    cff.fontNames = [postscript]
    top = cff.topDictIndex[0]
    top.FullName = full
    top.FamilyName = FAMILY


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (or the SC .otf)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    font = source_font(args.source)
    version = font["name"].getDebugName(5).split(";")[0]
    options = subset.Options()
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]  # no vertical text in a chart
    options.name_IDs = ["*"]
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.hinting = False  # matplotlib autohints (rcParams text.hinting): font hints unused
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints())
    subsetter.subset(font)
    rename(font, f"{version}; subset for warmline")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    font.recalcTimestamp = False  # the same source makes the same file, byte for byte
    font.save(str(args.out))
    cmap = font.getBestCmap()
    print(f"{args.out}: {len(cmap)} characters, {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
