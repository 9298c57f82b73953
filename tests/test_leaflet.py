"""``warmline leaflet`` (issue 15): a printable A5 notice whose QR code opens the web form.

The QR code is read back with zxing-cpp (a test-only dependency: a wheel with its own decoder,
no system library); the PDF is turned into an image with Debian's pdftoppm (poppler-utils,
installed by .ci/run) first. Without pdftoppm the PDF test fails, on purpose.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.i18n import t
from tests.test_cli import VALID, edit, warmline

URL = "https://warmline.example.org"


def with_public_url(url: str = URL) -> str:
    return edit("[station]\n", f'[web]\npublic_url = "{url}"\n\n[station]\n', VALID)


def decoded(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_the_png_leaflet_is_a5_and_its_qr_code_opens_the_form(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(with_public_url(), encoding="utf-8")
    out = tmp_path / "leaflet.png"
    result = warmline("leaflet", "-c", config, "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"{URL}/report" in result.stdout
    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert abs(width / height - 148 / 210) < 0.01  # A5, portrait
        assert width >= 1700  # printable (300 dpi)
        assert decoded(image.convert("L")) == [f"{URL}/report"]


def test_the_pdf_leaflet_is_one_a5_page_whose_qr_code_opens_the_form(tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils (.ci/run does it)")
    config = tmp_path / "config.toml"
    config.write_text(with_public_url(URL + "/"), encoding="utf-8")  # a trailing slash
    out = tmp_path / "leaflet.pdf"
    result = warmline("leaflet", "-c", config, "--out", out)
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    assert "419.528 x 595.276 pts" in info, info  # A5 (148 x 210 mm), portrait
    page = tmp_path / "page"
    subprocess.run([pdftoppm, "-png", "-r", "150", "-singlefile", str(out), str(page)], check=True)
    with Image.open(tmp_path / "page.png") as image:
        assert decoded(image.convert("L")) == [f"{URL}/report"]
    # The words are real text in the shipped CJK font (searchable, printable at any size).
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "0000-1111111" in text and "200" in text and "120 / 110" in text
    assert t("zh", "leaflet.title") in text.replace("\n", "")


def test_without_a_public_url_it_says_what_to_set(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(VALID, encoding="utf-8")
    result = warmline("leaflet", "-c", config, "--out", tmp_path / "leaflet.pdf")
    assert result.returncode == 2
    assert "web.public_url" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "leaflet.pdf").exists()


def test_an_unknown_file_type_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(with_public_url(), encoding="utf-8")
    result = warmline("leaflet", "-c", config, "--out", tmp_path / "leaflet.docx")
    assert result.returncode == 2 and ".pdf or .png" in result.stderr
