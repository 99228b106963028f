"""The red-header (红头) PDF of one 公文, laid out after GB/T 9704-2012.

A pure renderer: :func:`render` takes a :class:`RedHeadDocument` and returns the PDF and the
boxes where the sealing step puts one round seal per signing organ. Where every line and seal
goes is decided in :mod:`._layout`; this module draws it.

Geometry: A4, 版心 156 × 225 mm at 37 mm from the top and 28 mm from the left, 22 lines of
28 characters of 3号 (16 pt). Every line of text sits in a line box of 225/22 mm with its em box
centred vertically, so "空二行" in the standard means two empty line boxes.

Where the standard leaves a choice, or the free fonts force one:

- 小标宋 is the configured face (FandolSong Bold by default); only the regular Song fallback is
  thickened with fill + stroke (faux bold).
- The issuer mark is 初号 (42 pt), compressed horizontally only when wider than the 版心. A
  joint document whose marks all end in "文件" gets the names stacked, spread to one width, with
  a single "文件" to their right; other joint marks are stacked, each centred. Four or more
  issuers get a smaller face so that the stack stays within 60 mm, and any mark gets smaller
  (0.8, 0.6) when page 1 would otherwise show no 正文 or the seal would leave its text.
- Body lines break between any two characters except inside numbers and Latin words; closing
  punctuation never starts a line, a single one hangs in the right margin (Word's default
  允许标点溢出边界). Title lines break only between words (see :mod:`._layout`) and are balanced.
- Seals are 42 mm; a joint document puts at most three in a row, the last one over the date,
  and moves the 附注 down when a seal would cover it.
- A line fits on a page when its glyphs do: the grid's last line box may end below the 版心.
- The 版记 goes on the last even page, as in print; PDF attachments are bound before it
  (:mod:`.binding`).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from ._layout import (
    BOTTOM,
    CHAR,
    LEFT,
    PITCH,
    RIGHT,
    SEAL,
    SIZE,
    SMALL_SIZE,
    TOP,
    TRACK,
    WIDTH,
    Line,
    Page,
    Signature,
    attachment_flow,
    colophon,
    colophon_sheet,
    extent,
    flow,
    paginate,
    run_advance,
    run_width,
    shows_body,
)
from .binding import Placement, bind, page_count
from .fonts import FontSet, load_fonts

__all__ = ["ISSUERS_SEPARATOR", "RedHeadDocument", "RenderedPdf", "SealBox", "render"]

_MARK_SIZE = 42                      # 初号
_MARK_SCALES = (1.0, 0.8, 0.6)       # smaller marks tried when page 1 would lack 正文 or the seal its text
_MARK_LEAD = 1.25                    # stacked joint marks, in mark sizes
_MARK_STACK = 60 * mm                # tallest joint stack: four or more issuers get a smaller face
_MARK_DROP = 35 * mm                 # mark top below the 版心 top
_NUMBER_GAP = 4 * mm                 # doc number to red rule
_RULE = 1.5                          # red rule, pt (≈ 0.53 mm; the standard leaves it free)
_THICK, _THIN = 0.35 * mm, 0.25 * mm  # 版记 rules
_RED = (0.9, 0.0, 0.0)               # #E60000, what CMYK 0/80/80/0 looks like on screen
_BOLD = 0.03                         # faux-bold stroke, of the font size
_EM_DESCENT = 0.12                   # ideographic em box below the baseline (UMing and the Adobe-GB1 convention)
_DASH_TOP = 0.31                     # top of "—" above the baseline in FandolSong (UMing: 0.39), of the font size
_NUMBER_TRACK = 2.0                  # Song's space is 1/3 em: a little tracking keeps "— 1 —" from reading "—1—"
_PAGE_NUMBER_DROP = 7 * mm           # top of the page number's dashes below the 版心
_URGENCIES = ("", "加急", "特急")
_JOINT_SUFFIX = "文件"

ISSUERS_SEPARATOR = "、"  # joins the signing organs in the PDF keywords


@dataclass(frozen=True)
class RedHeadDocument:
    """What a red-header document shows; see GB/T 9704-2012 for each element."""

    issuer_marks: list[str]          # 发文机关标志, lead issuer first
    doc_number: str                  # 发文字号; "" before numbering
    title: str                       # 标题
    main_to: str                     # 主送 (printed with a trailing "：")
    body: list[str]                  # 正文 paragraphs; "一、" / "（一）" start headings
    signing_organs: list[str]        # 发文机关署名, one per issuer
    date: datetime.date              # 成文日期
    attachments: Sequence[str] = ()  # 附件说明 names
    # by position: a PDF (bytes) to bind after the body, a text (str) to typeset there, None: a separate file
    attachment_files: Sequence[bytes | str | None] = ()
    copy_number: str | None = None   # 份号; "" keeps its line free for the 份号 stamped on each paper copy
    urgency: str = ""                # "" | "加急" | "特急"
    signers: Sequence[str] = ()      # 签发人 of an upward document
    note: str | None = None          # 附注
    cc: str | None = None            # 抄送
    printed_by: str = ""             # 印发机关
    printed_on: datetime.date | None = None  # 印发日期
    sealed: bool = True              # 7.3.5.1 (room for seals) or 7.3.5.2 (no seal)
    form: str = "document"           # "document" (文件), "telegram" (明传电报), "publication" (刊头): see .heads
    issue: str = ""                  # a publication's 期号 line, e.g. "第3期（总第215期）"


@dataclass(frozen=True)
class SealBox:
    """Where one round seal goes: over one signing organ (and, for the last, the date)."""

    page: int                                  # 0-based
    box: tuple[float, float, float, float]     # x1, y1, x2, y2 in PDF points, origin bottom-left


@dataclass(frozen=True)
class RenderedPdf:
    """The PDF, its page count and one seal box per signing organ (none when unsealed)."""

    pdf: bytes
    pages: int
    seal_boxes: list[SealBox]



def _draw_runs(c: canvas.Canvas, x: float, y: float, runs: Sequence[tuple[str, str]], size: float,
               track: float = 0.0, scale: float = 1.0, bold: bool = False, color: tuple[float, ...] = ()) -> None:
    """One text object; bold and colour inside saveState because Tr and the fill colour
    outlive the text object in PDF (a later plain line would come out bold or red)."""
    if bold or color:
        c.saveState()
    text = c.beginText(x, y)
    text.setCharSpace(track)
    text.setHorizScale(scale * 100)
    if color:
        text.setFillColorRGB(*color)
    if bold:
        c.setStrokeColorRGB(*(color or (0, 0, 0)))
        c.setLineWidth(size * _BOLD)
        text.setTextRenderMode(2)
    for part, font in runs:
        text.setFont(font, size)
        text.textOut(part)
    c.drawText(text)
    if bold or color:
        c.restoreState()


def _baseline(top: float, size: float) -> float:
    """Baseline that centres a ``size`` em box in the line box starting at ``top``."""
    return top - (PITCH + size) / 2 + _EM_DESCENT * size


def _draw_line(c: canvas.Canvas, line: Line, top: float, color: tuple[float, ...] = ()) -> None:
    if line.runs:
        _draw_runs(c, line.x, _baseline(top, line.size), line.runs, line.size, line.track, bold=line.bold,
                   color=color)


def _draw_mark(c: canvas.Canvas, marks: Sequence[str], font: str, bold: bool, shrink: float) -> float:
    """The red issuer mark with its top 35 mm below the 版心 top; returns its bottom y. ``bold``
    thickens a regular face that stands in for 小标宋; ``shrink`` scales the face down."""
    suffix = _JOINT_SUFFIX
    if len(marks) > 1 and all(m.endswith(suffix) and len(m) > len(suffix) for m in marks):
        names = [m[: -len(suffix)] for m in marks]
    else:
        names, suffix = list(marks), ""
    size = min(_MARK_SIZE, _MARK_STACK / (1 + (len(names) - 1) * _MARK_LEAD)) * shrink
    lead = size * _MARK_LEAD
    widths = [run_width(name, font, size, 0) for name in names]
    stack = max(widths)
    suffix_width = run_width(suffix, font, size, 0) + size / 2 if suffix else 0.0
    scale = min(1.0, WIDTH / (stack + suffix_width))
    left = LEFT + (WIDTH - (stack + suffix_width) * scale) / 2
    top = TOP - _MARK_DROP
    for k, (name, width) in enumerate(zip(names, widths, strict=True)):
        y = top - k * lead - (1 - _EM_DESCENT) * size
        if suffix:
            spread = (stack - width) / (len(name) - 1) if len(name) > 1 else 0.0
            _draw_runs(c, left, y, [(name, font)], size, spread, scale, bold, _RED)
        else:
            _draw_runs(c, LEFT + (WIDTH - width * scale) / 2, y, [(name, font)], size, 0.0, scale, bold, _RED)
    height = (len(names) - 1) * lead + size
    if suffix:
        y = top - (height - size) / 2 - (1 - _EM_DESCENT) * size
        _draw_runs(c, left + (stack + size / 2) * scale, y, [(suffix, font)], size, 0.0, scale, bold, _RED)
    return top - height


def _draw_header(c: canvas.Canvas, doc: RedHeadDocument, fonts: FontSet, mark_scale: float = 1.0) -> float:
    """版头 on page 1, the issuer mark ``mark_scale`` of its usual size; returns the y of the red rule."""
    corner = [(doc.copy_number, fonts.fangsong), (doc.urgency or None, fonts.hei)]
    for k, (text, font) in enumerate((t, f) for t, f in corner if t is not None):
        _draw_line(c, Line(((text, font),), LEFT), TOP - k * PITCH)
    top = _draw_mark(c, doc.issuer_marks, fonts.xiaobiaosong, fonts.faux_bold, mark_scale) - 2 * PITCH
    if doc.signers:
        rows = ["　".join(doc.signers[i:i + 2]) for i in range(0, len(doc.signers), 2)]
        names_x = RIGHT - CHAR - max(run_width(row, fonts.kai) for row in rows)
        label = "签发人："
        label_x = names_x - run_advance(label, fonts.fangsong)
        _draw_line(c, Line(((label, fonts.fangsong),), label_x), top)
        for k, row in enumerate(rows):
            _draw_line(c, Line(((row, fonts.kai),), names_x), top - k * PITCH)
        top -= (len(rows) - 1) * PITCH
        number_x = LEFT + CHAR
    else:
        number_x = LEFT + (WIDTH - run_width(doc.doc_number, fonts.fangsong)) / 2
    if doc.doc_number:
        _draw_line(c, Line(((doc.doc_number, fonts.fangsong),), number_x), top)
    rule = top - (PITCH + SIZE) / 2 - _NUMBER_GAP
    c.saveState()
    c.setStrokeColorRGB(*_RED)
    c.setLineWidth(_RULE)
    c.line(LEFT, rule, RIGHT, rule)
    c.restoreState()
    return rule


def _draw_signature(c: canvas.Canvas, block: Signature, top: float, page: int, font: str) -> list[SealBox]:
    for line, x, text, scale in block.texts:
        _draw_runs(c, x, _baseline(top - line * PITCH, SIZE), [(text, font)], SIZE, TRACK, scale)
    half = SEAL / 2
    return [SealBox(page, (x - half, top - drop - half, x + half, top - drop + half)) for x, drop in block.seals]


def _draw_colophon(c: canvas.Canvas, lines: list[tuple[int, Line]], count: int, thin: int) -> None:
    """版记 with its last rule on the 版心 bottom edge; thick outer rules, thin inner one."""
    top = BOTTOM + count * PITCH
    for index, line in lines:
        _draw_line(c, line, top - index * PITCH)
    rules = [(top, _THICK), (BOTTOM + _THICK, _THICK)] + ([(top - thin * PITCH, _THIN)] if thin else [])
    for y, weight in rules:
        c.rect(LEFT, y - weight, WIDTH, weight, stroke=0, fill=1)


def _draw_page_number(c: canvas.Canvas, number: int, font: str) -> None:
    """"— N —" in 4号 Song 7 mm under the 版心: odd pages right, even pages left, 1 字 in."""
    text = f"— {number} —"
    x = RIGHT - CHAR - run_width(text, font, SMALL_SIZE, _NUMBER_TRACK) if number % 2 else LEFT + CHAR
    _draw_runs(c, x, BOTTOM - _PAGE_NUMBER_DROP - _DASH_TOP * SMALL_SIZE, [(text, font)], SMALL_SIZE,
               _NUMBER_TRACK)


def _appendix(doc: RedHeadDocument, fonts: FontSet, first: int) -> list[tuple[str, Page | Placement]]:
    """Each page of the attachments bound after the body, from page index ``first`` on: the
    "附件N" it shows on its first line ("" on an attachment's later pages) and either its lines
    (a text, its name as title on the third line, 7.3.7) or the PDF page that goes under it."""
    pages: list[tuple[str, Page | Placement]] = []
    for number, source in enumerate(doc.attachment_files, 1):
        mark = f"附件{number}" if len(doc.attachments) > 1 else "附件"
        if isinstance(source, str):
            typeset = paginate(attachment_flow(doc.attachments[number - 1], source, fonts), TOP - 2 * PITCH)
            pages += [(mark if k == 0 else "", page) for k, page in enumerate(typeset)]
        elif source:
            start = first + len(pages)
            pages += [(mark if k == 0 else "", Placement(start + k, source, k)) for k in range(page_count(source))]
    return pages


def _check(doc: RedHeadDocument) -> None:
    """Refuse what cannot be typeset rather than print a wrong document."""
    if not doc.issuer_marks or not doc.signing_organs:
        raise ValueError("红头文件需要发文机关标志和发文机关署名")
    if doc.urgency not in _URGENCIES:
        raise ValueError(f"紧急程度只能是“加急”或“特急”：{doc.urgency}")


Header = Callable[[canvas.Canvas, RedHeadDocument, FontSet, float], float]
"""Draws page 1's head (版头, a telegram's or a publication's) at a scale; returns the y its body starts under."""


def _arrange(doc: RedHeadDocument, fonts: FontSet, header: Header) -> tuple[list[Page], float, bool]:
    """The pages after the red rule, the issuer mark's scale and whether the 主送 went into the 版记.

    Page 1 must show 正文 (7.3.2) and the seal's page too (7.3.5). When the first layout breaks
    either, a smaller issuer mark (the standard leaves its size free) makes room on page 1; only
    when that is not enough does the 主送 list move into the 版记.
    """
    scratch = canvas.Canvas(io.BytesIO())   # measures the header without drawing it on the document
    has_body = any(p.strip() for p in doc.body)
    attempt: tuple[list[Page], float, bool] = ([], 1.0, False)
    for moved in (False, True) if doc.main_to and has_body else (False,):
        for scale in _MARK_SCALES:
            first_top = header(scratch, doc, fonts, scale) - 2 * PITCH
            attempt = paginate(flow(doc, fonts, main_to=not moved), first_top), scale, moved
            pages = attempt[0]
            sealed = next(page for page in pages if any(isinstance(item, Signature) for _, item in page))
            if not has_body or (shows_body(pages[0]) and shows_body(sealed)):
                return attempt
    return attempt


def render(doc: RedHeadDocument, header: Header | None = None) -> RenderedPdf:
    """Typeset ``doc`` as a GB/T 9704-2012 red-header PDF and say where its seals go; ``header`` draws
    another head above the same body (:mod:`.heads`: a telegram's, a publication's)."""
    header = header or _draw_header
    _check(doc)
    fonts = load_fonts()
    buffer = io.BytesIO()
    # initialFontName: otherwise every page references an unembedded Helvetica
    c = canvas.Canvas(buffer, pagesize=A4, initialFontName=fonts.fangsong, initialFontSize=SIZE, invariant=1,
                      lang="zh-CN")
    c.setTitle(doc.title)
    c.setAuthor(doc.signing_organs[0])
    c.setSubject(doc.doc_number)
    # Every issuing organ, so a verifier can tell who must have sealed the document.
    c.setKeywords(ISSUERS_SEPARATOR.join(doc.signing_organs))
    c.setCreator("Gongwen")
    pages, mark_scale, moved = _arrange(doc, fonts, header)
    header(c, doc, fonts, mark_scale)
    appendix = _appendix(doc, fonts, len(pages))
    colophon_lines, count, thin = colophon(doc, fonts.fangsong, moved)
    last_bottom = min(top - extent(item) for top, item in pages[-1])
    fits = not appendix and last_bottom >= BOTTOM + count * PITCH - 0.01
    marks = [""] * len(pages) + [mark for mark, _ in appendix]
    pages += [page if isinstance(page, list) else [] for _, page in appendix]
    total = numbered = len(pages)
    colophon_page = -1
    if count:
        colophon_page, total, numbered = colophon_sheet(total, fits)
    seal_boxes: list[SealBox] = []
    for number in range(total):
        if number:
            c.showPage()
        for top, item in pages[number] if number < len(pages) else ():
            if isinstance(item, Line):
                _draw_line(c, item, top)
            else:
                seal_boxes += _draw_signature(c, item, top, number, fonts.fangsong)
        if number < len(marks) and marks[number]:   # "附件N" in 3号黑体 on the first line, flush left (7.3.7)
            _draw_line(c, Line(((marks[number], fonts.hei),), LEFT), TOP)
        if number < numbered:
            _draw_page_number(c, number + 1, fonts.song)
        if number == colophon_page:
            _draw_colophon(c, colophon_lines, count, thin)
    c.save()
    placements = [page for _, page in appendix if isinstance(page, Placement)]
    pdf = bind(buffer.getvalue(), placements) if placements else buffer.getvalue()
    return RenderedPdf(pdf, total, seal_boxes)
