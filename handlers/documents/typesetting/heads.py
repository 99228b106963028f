"""The other heads a 公文 may wear above the same GB/T 9704 body: the 明传电报 form and a publication's 刊头.

A pure renderer variant, like :mod:`.redhead`: :func:`render` picks the head by ``RedHeadDocument.form``
and lets :func:`.redhead.render` lay out the title, 主送, 正文, 署名, seals and 版记 beneath it.

- **明传电报** (a document of a 明电 series): "明传电报" in red 小标宋 over a red-ruled form of three
  rows: 发电单位 and 签批盘号 (who signed it off), 等级 (its urgency, "·明电") and 密级 (无: Gongwen carries
  no classified text), and the 明电编号 across the whole width. There is no issuer mark and no "文件".
- **刊头** (an issue of an internal publication): the publication's name in large red type, the 期号
  line (第N期, 总第M期), the 编印单位 on the left and the date on the right, and a red rule.

Both leave the 版心's first line free on the left, where GB/T 9704 puts the 份号 (7.2.1) that is
stamped on each paper copy.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from ._layout import CHAR, LEFT, PITCH, RIGHT, SIZE, TOP, WIDTH, _date_text, run_width
from .fonts import FontSet
from .redhead import _RED, RedHeadDocument, RenderedPdf, _baseline, _draw_header, _draw_runs
from .redhead import render as render_redhead

__all__ = ["FORMS", "render"]

_TELEGRAM = "明传电报"
_TELEGRAM_SIZE = 42            # 初号, as an issuer mark
_TELEGRAM_TRACK = 0.3          # of the size: the four characters spread as on the printed form
_MASTHEAD_SIZE = 60            # a 刊头 is larger than any issuer mark; shrunk to the 版心 width if longer
_MASTHEAD_TRACK = 0.15
_THICK, _THIN = 1.5, 0.75      # red rules, pt
_LABEL_COLUMNS = (0, 16)       # the form's two label columns, in 字 from the left edge
_VALUE_INDENT = 5              # a value starts 5 字 after its label
_NO_CLASSIFICATION = "无"


def _rule(c: canvas.Canvas, y: float, weight: float) -> None:
    c.saveState()
    c.setStrokeColorRGB(*_RED)
    c.setLineWidth(weight)
    c.line(LEFT, y, RIGHT, y)
    c.restoreState()


def _big_red(c: canvas.Canvas, text: str, top: float, size: float, track: float, fonts: FontSet) -> float:
    """``text`` centred in red 小标宋 with its em box's top at ``top``, squeezed to the 版心; returns its bottom."""
    font = fonts.xiaobiaosong
    width = run_width(text, font, size, track * size)
    scale = min(1.0, WIDTH / width)
    x = LEFT + (WIDTH - width * scale) / 2
    _draw_runs(c, x, top - 0.88 * size, [(text, font)], size, track * size, scale, fonts.faux_bold, _RED)
    return top - size


def _cell(c: canvas.Canvas, label: str, value: str, x: float, right: float, top: float, fonts: FontSet) -> None:
    """One label in 黑体 and its value in 仿宋, the value squeezed horizontally to end before ``right``."""
    baseline = _baseline(top, SIZE)
    _draw_runs(c, x, baseline, [(label, fonts.hei)], SIZE)
    value_x = x + _VALUE_INDENT * CHAR
    width = run_width(value, fonts.fangsong, SIZE, 0)
    scale = min(1.0, (right - value_x) / width) if width else 1.0
    _draw_runs(c, value_x, baseline, [(value, fonts.fangsong)], SIZE, 0.0, scale)


def _telegram_head(c: canvas.Canvas, doc: RedHeadDocument, fonts: FontSet, scale: float = 1.0) -> float:
    """The 明传电报 form on page 1; returns the y of its last rule."""
    bottom = _big_red(c, _TELEGRAM, TOP - PITCH - 10 * mm, _TELEGRAM_SIZE * scale, _TELEGRAM_TRACK, fonts)
    top = bottom - 6 * mm
    _rule(c, top, _THICK)
    left, right = (LEFT + k * CHAR for k in _LABEL_COLUMNS)
    rows = [(("发电单位", doc.signing_organs[0]), ("签批盘号", "　".join(doc.signers))),
            (("等级", f"{doc.urgency}·明电"), ("密级", _NO_CLASSIFICATION)),
            (("明电编号", doc.doc_number),)]
    for k, row in enumerate(rows):
        for column, (label, value) in enumerate(row):
            x = (left, right)[column]
            end = right - CHAR if column == 0 and len(row) > 1 else RIGHT
            _cell(c, label, value, x, end, top - k * PITCH, fonts)
        last = k == len(rows) - 1
        _rule(c, top - (k + 1) * PITCH, _THICK if last else _THIN)
    return top - len(rows) * PITCH


def _masthead(c: canvas.Canvas, doc: RedHeadDocument, fonts: FontSet, scale: float = 1.0) -> float:
    """A publication's 刊头 on page 1; returns the y of its red rule."""
    bottom = _big_red(c, doc.issuer_marks[0], TOP - PITCH - 8 * mm, _MASTHEAD_SIZE * scale, _MASTHEAD_TRACK, fonts)
    top = bottom - 6 * mm
    if doc.issue:
        width = run_width(doc.issue, fonts.kai, SIZE, 0)
        _draw_runs(c, LEFT + (WIDTH - width) / 2, _baseline(top, SIZE), [(doc.issue, fonts.kai)], SIZE)
        top -= PITCH
    editor, date = f"{doc.signing_organs[0]}编", _date_text(doc.date)
    baseline = _baseline(top - 0.5 * PITCH, SIZE)
    _draw_runs(c, LEFT + CHAR, baseline, [(editor, fonts.fangsong)], SIZE)
    _draw_runs(c, RIGHT - CHAR - run_width(date, fonts.fangsong, SIZE, 0), baseline, [(date, fonts.fangsong)], SIZE)
    rule = top - 1.5 * PITCH
    _rule(c, rule, 2 * _THICK)
    return rule


FORMS = {"document": _draw_header, "telegram": _telegram_head, "publication": _masthead}


def render(doc: RedHeadDocument) -> RenderedPdf:
    """Typeset ``doc`` under the head of its form (:data:`FORMS`)."""
    if doc.form not in FORMS:
        raise ValueError(f"不是可排版的格式：{doc.form}")
    if doc.form == "telegram" and not doc.urgency:
        raise ValueError("明传电报须标注紧急程度（加急或特急）")
    return render_redhead(doc, FORMS[doc.form])
