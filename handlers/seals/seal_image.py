"""The picture of a round red official seal, as a one-page vector PDF.

``draw_seal`` returns a PDF whose only page is exactly ``diameter × diameter``: a red ring, a
five-pointed star in the centre, the unit name along the upper arc (left to right, each glyph
upright towards the centre, faux bold) and an optional straight inscription under the star. It
is drawn with the Multiply blend mode so text under the seal (the date) stays readable. The
font (the Song face of :func:`handlers.typesetting.fonts.load_fonts`) is embedded.

``seal_diameter_mm`` gives the size by the kind of unit, after 国发〔1999〕25号 (see
gongwen-domain.md §7; the sizes there are marked unverified):

======================================= ===== ==============================================
unit                                    mm    rule
======================================= ===== ==============================================
province (省人民政府)                   50    provincial governments, 国办, ministries
city, county (市/县人民政府)            45    prefecture- and county-level governments
office, department, direct_body of a    45    working bodies of a provincial government
province (``parent_kind="province"``)
office, department, direct_body of a    42    working bodies of governments at or above
city or county (the default)                  county level
======================================= ===== ==============================================

Governments' real seals carry the national emblem instead of the star; Gongwen draws the star
for every unit.
"""

from __future__ import annotations

import io
import math

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from ..documents.typesetting.fonts import load_fonts

__all__ = ["SEAL_RED", "draw_seal", "seal_diameter_mm"]

SEAL_RED = (0.90, 0.0, 0.07)

_GOVERNMENTS = {"province": 50.0, "city": 45.0, "county": 45.0}
_WORKING_BODIES = {"office", "department", "direct_body"}

# Proportions of the radius r, from the seal drawing in sealing-and-pdf.md §4.
_RING = 0.06          # ring width (3% of the diameter)
_STAR_OUTER = 0.30
_STAR_INNER = 0.382   # of the outer radius: a regular five-pointed star
_NAME_SIZE = 0.28
_NAME_STEP = 24.0     # degrees per character on the arc ...
_NAME_SPAN = 240.0    # ... up to this total span
_NAME_SCALE = 80.0    # horizontal scale (%) of the name glyphs: seal lettering is narrow
_TEXT_SIZE = 0.17
_TEXT_BASELINE = -0.55
_TEXT_WIDTH = 1.1     # widest inscription, compressed horizontally beyond it
_BOLD = 0.045         # faux-bold stroke width, of the font size


def seal_diameter_mm(unit_kind: str, parent_kind: str | None = None) -> float:
    """Diameter of the seal of a unit of ``unit_kind`` (``parent_kind``: its parent's kind)."""
    if unit_kind in _GOVERNMENTS:
        return _GOVERNMENTS[unit_kind]
    if unit_kind in _WORKING_BODIES:
        return 45.0 if parent_kind == "province" else 42.0
    raise ValueError(f"未知的单位类型：{unit_kind}")


def draw_seal(name: str, diameter_mm: float, inscription: str | None = None) -> bytes:
    """A one-page PDF, ``diameter_mm`` square, with the seal of ``name`` (see the module docstring)."""
    if not name.strip():
        raise ValueError("印章名称不能为空")
    font = load_fonts().song
    size = diameter_mm * mm
    r = size / 2
    out = io.BytesIO()
    # invariant: no creation date or random file id, so the same seal gives the same bytes.
    c = canvas.Canvas(out, pagesize=(size, size), invariant=True, initialFontName=font)
    c.setTitle(name)
    c.translate(r, r)
    c.setBlendMode("Multiply")
    c.setFillColorRGB(*SEAL_RED)
    c.setStrokeColorRGB(*SEAL_RED)

    ring = _RING * r
    c.setLineWidth(ring)
    c.circle(0, 0, r - ring / 2, stroke=1, fill=0)
    _star(c, _STAR_OUTER * r)
    _arc_text(c, name.strip(), font, r, ring)
    if inscription:
        _straight_text(c, inscription, font, r)
    c.showPage()
    c.save()
    return out.getvalue()


def _star(c: canvas.Canvas, outer: float) -> None:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else outer * _STAR_INNER
        angle = math.radians(90 + 36 * i)
        points.append((radius * math.cos(angle), radius * math.sin(angle)))
    path = c.beginPath()
    path.moveTo(*points[0])
    for point in points[1:]:
        path.lineTo(*point)
    path.close()
    c.drawPath(path, stroke=0, fill=1)


def _arc_text(c: canvas.Canvas, name: str, font: str, r: float, ring: float) -> None:
    fs = _NAME_SIZE * r
    baseline = r - ring - 0.95 * fs
    n = len(name)
    step = min(_NAME_STEP, _NAME_SPAN / (n - 1)) if n > 1 else 0.0
    # A long name packs its characters closer: narrow the glyphs so neighbours do not touch.
    arc = math.radians(step) * baseline if n > 1 else fs
    scale = min(_NAME_SCALE, 100 * 0.9 * arc / fs)
    span = step * (n - 1)
    for i, ch in enumerate(name):
        angle = 90 + span / 2 - step * i
        a = math.radians(angle)
        c.saveState()
        c.translate(baseline * math.cos(a), baseline * math.sin(a))
        c.rotate(angle - 90)
        width = pdfmetrics.stringWidth(ch, font, fs) * scale / 100
        _bold_text(c, -width / 2, 0, ch, font, fs, scale)
        c.restoreState()


def _straight_text(c: canvas.Canvas, text: str, font: str, r: float) -> None:
    fs = _TEXT_SIZE * r
    natural = pdfmetrics.stringWidth(text, font, fs)
    scale = min(100.0, 100 * _TEXT_WIDTH * r / natural)
    width = natural * scale / 100
    c.saveState()
    _bold_text(c, -width / 2, _TEXT_BASELINE * r, text, font, fs, scale)
    c.restoreState()


def _bold_text(c: canvas.Canvas, x: float, y: float, text: str, font: str, fs: float, scale: float) -> None:
    # Fill + stroke (render mode 2) thickens the thin Song strokes; callers wrap this in
    # saveState/restoreState because the render mode otherwise leaks into later text.
    c.setLineWidth(_BOLD * fs)
    t = c.beginText()
    t.setTextOrigin(x, y)
    t.setFont(font, fs)
    t.setHorizScale(scale)
    t.setTextRenderMode(2)
    t.textOut(text)
    c.drawText(t)
