"""The faces of the red-header PDF, as poppler lists them: Fandol's 仿宋 for the body, a real bold
Song for the 小标宋, and a 小标宋 that can be configured without touching the page numbers' Song."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from handlers.documents.typesetting.fonts import FONT_DIR
from handlers.documents.typesetting.fonts_build import to_truetype
from handlers.documents.typesetting.redhead import render
from tests.test_redhead import document, poppler


def fonts_of(pdf: bytes) -> list[str]:
    rows = poppler(pdf, "pdffonts", "-").decode().splitlines()[2:]
    return sorted(row.split()[0].split("+")[-1] for row in rows)


def test_body_is_set_in_fangsong_and_the_title_in_a_real_bold_song():
    result = render(document())
    assert fonts_of(result.pdf) == ["FandolFang-Regular", "FandolSong-Bold", "FandolSong-Regular"]
    reader = PdfReader(io.BytesIO(result.pdf))
    content = reader.pages[0].get_contents().get_data()
    assert b"2 Tr" not in content                                # no stroke faking a bold face


def test_xiaobiaosong_is_configured_apart_from_the_page_numbers_song():
    face = FONT_DIR / "FandolKai-Regular.ttf"
    script = ("import sys; from tests.test_redhead import document, render; "
              "sys.stdout.buffer.write(render(document()).pdf)")
    pdf = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                         env={**os.environ, "GONGWEN_FONT_XIAOBIAOSONG": str(face)}).stdout
    assert fonts_of(pdf) == ["FandolFang-Regular", "FandolKai-Regular", "FandolSong-Regular"]


def test_the_set_up_converts_cff_outlines_into_truetype_that_is_embedded(tmp_path):
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "uni4E00"])
    builder.setupCharacterMap({0x4E00: "uni4E00"})
    pen = T2CharStringPen(1000, None)
    pen.moveTo((100, 300))
    pen.curveTo((300, 420), (700, 420), (900, 300))   # a cubic curve, which TrueType cannot hold as it is
    pen.lineTo((100, 250))
    pen.closePath()
    builder.setupCFF("TestFang", {"FullName": "TestFang"},
                     {".notdef": T2CharStringPen(1000, None).getCharString(), "uni4E00": pen.getCharString()}, {})
    builder.setupHorizontalMetrics({".notdef": (1000, 0), "uni4E00": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "TestFang", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(tmp_path / "test.otf")

    to_truetype(tmp_path / "test.otf", tmp_path / "test.ttf")

    pdfmetrics.registerFont(TTFont("ConvertedTestFang", str(tmp_path / "test.ttf")))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, initialFontName="ConvertedTestFang")
    page.setFont("ConvertedTestFang", 40)
    page.drawString(100, 700, "一")
    page.save()
    (row,) = poppler(buffer.getvalue(), "pdffonts", "-").decode().splitlines()[2:]
    assert "TrueType" in row and row.split()[-5] == "yes"         # embedded as TrueType
    assert poppler(buffer.getvalue(), "pdftotext", "-", "-").decode().strip() == "一"
