"""Files the package ships besides code: the chart's font and the dashboard's vendored
front-end libraries — present, as recorded (sha256), licensed, shipped as package data, and
(for the libraries) with no request to another origin at load."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
VENDOR = BOT / "web" / "static" / "vendor"
FONTS = BOT / "assets" / "fonts"

#: Every absolute URL in the vendored code, and why it fetches nothing.
KNOWN_URLS = {
    "leaflet/leaflet.js": {
        "http://www.w3.org/2000/svg": "the SVG namespace (createElementNS)",
        "https://leafletjs.com": "the attribution control's link (an <a href>, not a fetch)",
    },
    "leaflet/leaflet.css": {
        "https://bugs.chromium.org/p/chromium/issues/detail?id=600120": "a CSS comment",
        "https://bugzilla.mozilla.org/show_bug.cgi?id=888319": "a CSS comment",
    },
    "chartjs/chart.umd.min.js": {
        "https://www.chartjs.org": "the licence header comment",
        "https://github.com/kurkle/color#readme": "a licence header comment",
    },
}


def shipped_by_package_data(path: Path) -> bool:
    """Does a ``[tool.setuptools.package-data]`` pattern of the package holding ``path``
    (or of a package above it) match it?"""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        base = ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            if path in {p for p in base.glob(pattern) if p.is_file()}:
                return True
    return False


def vendor_files() -> list[Path]:
    return sorted(p for p in VENDOR.rglob("*") if p.is_file() and p.name != "README.md")


def readme_hashes() -> dict[str, str]:
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", text, re.MULTILINE))


def test_every_vendored_file_is_listed_with_its_sha256() -> None:
    listed = readme_hashes()
    present = {p.relative_to(VENDOR).as_posix(): p for p in vendor_files()}
    assert present, "no vendored files"
    assert set(listed) == set(present)
    for name, path in present.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[name], name


def test_the_libraries_their_versions_and_licences() -> None:
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    for row in (
        r"\| Leaflet \| 1\.9\.4 \| BSD-2-Clause \| `leaflet-1\.9\.4\.tgz` \(`[0-9a-f]{64}`\)",
        r"\| Chart\.js \| 4\.6\.1 \| MIT \| `chart\.js-4\.6\.1\.tgz` \(`[0-9a-f]{64}`\)",
    ):
        assert re.search(row, text), row
    assert "Leaflet 1.9.4" in (VENDOR / "leaflet" / "leaflet.js").read_text()[:200]
    assert "Chart.js v4.6.1" in (VENDOR / "chartjs" / "chart.umd.min.js").read_text()[:200]
    assert "BSD 2-Clause" in (VENDOR / "leaflet" / "LICENSE").read_text()
    assert "MIT License" in (VENDOR / "chartjs" / "LICENSE.md").read_text()


@pytest.mark.parametrize("name", sorted(KNOWN_URLS))
def test_no_request_to_another_origin(name: str) -> None:
    """Every absolute URL in the code is a known non-fetch (a namespace, a link, a comment):
    a new one fails here until someone has looked at it. Stylesheet ``url()``s are relative
    and point at shipped files — Leaflet's default marker icon included, which
    ``L.Icon.Default`` finds through ``.leaflet-default-icon-path`` (see the README)."""
    path = VENDOR / name
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r"""https?://[^\s"'`)\\]+""", text))
    assert found == set(KNOWN_URLS[name]), found ^ set(KNOWN_URLS[name])
    assert not re.search(r"""(?:url\(|src=|href=)\s*["']?//""", text)  # protocol-relative
    if path.suffix == ".css":
        for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            if target.startswith("#") or target.startswith("data:"):
                continue  # IE's VML behaviour, inline data
            assert (path.parent / target).is_file(), target
        assert "url(images/marker-icon.png)" in text


def test_vendored_files_and_the_font_are_package_data() -> None:
    files = [*vendor_files(), *FONTS.iterdir()]
    assert len(files) > 5
    missing = [p.relative_to(ROOT).as_posix() for p in files if not shipped_by_package_data(p)]
    assert missing == []
    # The check itself can fail: a file outside every pattern is reported.
    assert not shipped_by_package_data(ROOT / "tools" / "make_font_subset.py")


def test_the_dashboards_own_script_and_style_are_package_data() -> None:
    own = sorted((BOT / "web" / "static" / "dashboard").iterdir())
    assert {p.name for p in own} >= {"map.js", "stats.js", "dashboard.css"}
    assert [p.name for p in own if not shipped_by_package_data(p)] == []


def test_the_font_and_its_licence() -> None:
    font = FONTS / "WarmlineSansSC-Regular.otf"
    assert font.stat().st_size < 2_000_000
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Noto Sans CJK SC" in licence and "tools/make_font_subset.py" in licence
