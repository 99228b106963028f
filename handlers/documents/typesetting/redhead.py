"""The red-header (红头) PDF of one 公文, laid out after GB/T 9704-2012.

A pure renderer: :func:`render` takes a :class:`RedHeadDocument` and returns the PDF and the
boxes where the sealing step puts one round seal per signing organ.

Geometry: A4, 版心 156 × 225 mm at 37 mm from the top and 28 mm from the left, 22 lines of
28 characters of 3号 (16 pt). Every line of text sits in a line box of 225/22 mm with its em box
centred vertically, so "空二行" in the standard means two empty line boxes.

Where the standard leaves a choice, or the free fonts force one:

- 小标宋 is imitated by the Song face drawn with fill + stroke (faux bold).
- The issuer mark is 初号 (42 pt), compressed horizontally only when wider than the 版心. A
  joint document whose marks all end in "文件" gets the names stacked, spread to one width, with
  a single "文件" to their right; other joint marks are stacked, each centred. Four or more
  issuers get a smaller face so that the stack stays within 60 mm and page 1 keeps its body.
- Lines break between any two characters (no dictionary, so a title cannot be split at word
  boundaries); closing punctuation never starts a line, a single one hangs in the right margin
  (Word's default 允许标点溢出边界), and title lines are balanced to similar lengths.
- Seals are 42 mm; a joint document puts at most three in a row, the last one over the date,
  and moves the 附注 down when a seal would cover it.
- A line fits on a page when its glyphs do: the grid's last line box may end below the 版心.
- The 版记 goes on the last page, not the last even page: an electronic document has no sheets.
"""

from __future__ import annotations

import datetime
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from .fonts import FontSet, load_fonts

__all__ = ["RedHeadDocument", "RenderedPdf", "SealBox", "render"]

_LEFT = 28 * mm                      # 订口
_TOP = A4[1] - 37 * mm               # 天头
_WIDTH, _HEIGHT = 156 * mm, 225 * mm  # 版心
_RIGHT = _LEFT + _WIDTH
_BOTTOM = _TOP - _HEIGHT
_PITCH = _HEIGHT / 22                # one line: 22 to the 版心
_CHAR = _WIDTH / 28                  # one 字: 28 to the line
_SIZE = 16                           # 三号
_TRACK = _CHAR - _SIZE               # slight negative tracking puts 16 pt ideographs on the 28-column grid
_TITLE_SIZE = 22                     # 二号
_SMALL_SIZE = 14                     # 四号: 版记 and page numbers
_MARK_SIZE = 42                      # 初号
_MARK_LEAD = 1.25                    # stacked joint marks, in mark sizes
_MARK_STACK = 60 * mm                # tallest joint stack: four or more issuers get a smaller face
_MARK_DROP = 35 * mm                 # mark top below the 版心 top
_NUMBER_GAP = 4 * mm                 # doc number to red rule
_RULE = 1.5                          # red rule, pt (≈ 0.53 mm; the standard leaves it free)
_THICK, _THIN = 0.35 * mm, 0.25 * mm  # 版记 rules
_RED = (0.9, 0.0, 0.0)               # #E60000, what CMYK 0/80/80/0 looks like on screen
_BOLD = 0.03                         # faux-bold stroke, of the font size
_EM_DESCENT = 0.12                   # ideographic em box below the baseline (UMing and the Adobe-GB1 convention)
_DASH_TOP = 0.39                     # top of "—" above the baseline in UMing, of the font size
_PAGE_NUMBER_DROP = 7 * mm           # top of the page number's dashes below the 版心
_SEAL = 42 * mm
_SEAL_PITCH = _SEAL + 8 * mm         # centre to centre of joint seals when the 版心 allows
_SEALS_PER_ROW = 3
_SEAL_ROW_LINES = 5                  # 51 mm between rows of joint seals: no two seals touch
_SEAL_DROP = 0.25 * _PITCH           # seal centre below the organ's line top: name and date sit just below it
_URGENCIES = ("", "加急", "特急")
_JOINT_SUFFIX = "文件"

_NOSTART = frozenset("，。、；：？！）》」』”’〕】〉〗…—%·,.;:?!)]}")
_NOEND = frozenset("（《「『“‘〔【〈〖([{")
_HEADING_1 = re.compile(r"[一二三四五六七八九十百]+、")
_HEADING_2 = re.compile(r"（[一二三四五六七八九十百]+）")

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
    copy_number: str | None = None   # 份号
    urgency: str = ""                # "" | "加急" | "特急"
    signers: Sequence[str] = ()      # 签发人 of an upward document
    note: str | None = None          # 附注
    cc: str | None = None            # 抄送
    printed_by: str = ""             # 印发机关
    printed_on: datetime.date | None = None  # 印发日期
    sealed: bool = True              # 7.3.5.1 (room for seals) or 7.3.5.2 (no seal)


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


@dataclass(frozen=True)
class _Line:
    """One line box of text: runs of (text, font) from ``x``; no runs makes an empty line."""

    runs: tuple[tuple[str, str], ...]
    x: float
    size: float = _SIZE
    track: float = _TRACK
    bold: bool = False


@dataclass(frozen=True)
class _Signature:
    """署名, 成文日期 and seals, kept together and on a page with text (此页无正文 is forbidden).

    ``texts`` are (line, x, text, horizontal scale) and ``seals`` centres as (x, drop below
    the block's top); ``depth`` is how far below that top its lowest ink (text or seal) reaches.
    """

    lines: int
    texts: tuple[tuple[int, float, str, float], ...]
    seals: tuple[tuple[float, float], ...]
    depth: float


_BLANK = _Line((), _LEFT)
_advances: dict[str, dict[str, float]] = {}


def _advance(font: str, char: str) -> float:
    """Advance of ``char`` at 1 pt, memoised because wrapping measures every character."""
    widths = _advances.setdefault(font, {})
    width = widths.get(char)
    if width is None:
        width = widths[char] = pdfmetrics.stringWidth(char, font, 1)
    return width


def _pen(text: str, font: str, size: float = _SIZE, track: float = _TRACK) -> float:
    """How far drawing ``text`` moves the pen: where text that follows on the line starts."""
    return sum(_advance(font, ch) for ch in text) * size + track * len(text)


def _width(text: str, font: str, size: float = _SIZE, track: float = _TRACK) -> float:
    """Inked width of one run: tracking only between characters, not after the last."""
    return _pen(text, font, size, track) - (track if text else 0.0)


def _date_text(day: datetime.date) -> str:
    """Arabic numerals, no zero padding, as GB/T 9704 7.3.5 shows."""
    return f"{day.year}年{day.month}月{day.day}日"


def _breakable(text: str, i: int) -> bool:
    """Whether a line may end before ``text[i]``: not before closing punctuation, not after
    an opening bracket, and not inside a number or Latin word."""
    before, after = text[i - 1], text[i]
    if after in _NOSTART or before in _NOEND:
        return False
    return not (before.isascii() and before.isalnum() and after.isascii() and after.isalnum())


def _wrap(text: str, advances: list[float], first: float, rest: float) -> list[tuple[int, int]]:
    """Greedy line spans within ``first`` (first line) and ``rest`` points.

    A closing mark that would start a line hangs in the margin instead; when two would (。”),
    the line gives up characters until it may break, so the next line starts with a character.
    """
    spans: list[tuple[int, int]] = []
    start, limit, n = 0, first, len(text)
    while start < n:
        end, width = start, 0.0
        while end < n and width + advances[end] <= limit + 0.01:
            width += advances[end]
            end += 1
        end = max(end, start + 1)   # a character wider than the line still goes somewhere
        if end < n and not _breakable(text, end):
            if text[end] in _NOSTART and (end + 1 == n or _breakable(text, end + 1)):
                end += 1
            else:
                back = end - 1
                while back > start and not _breakable(text, back):
                    back -= 1
                end = back if back > start else end
        spans.append((start, end))
        start, limit = end, rest
    return spans


def _set(runs: Sequence[tuple[str, str]], first_x: float, rest_x: float, right: float = _RIGHT,
         size: float = _SIZE, track: float = _TRACK) -> list[_Line]:
    """Break a paragraph into lines and justify all but the last to the right edge."""
    text = "".join(t for t, _ in runs)
    fonts = [font for t, font in runs for _ in t]
    advances = [_advance(font, ch) * size + track for ch, font in zip(text, fonts, strict=True)]
    spans = _wrap(text, advances, right - first_x, right - rest_x)
    lines = []
    for k, (start, end) in enumerate(spans):
        x = first_x if k == 0 else rest_x
        slack = right - x - sum(advances[start:end])
        spread = slack / (end - start - 1) if k < len(spans) - 1 and slack > 0.01 and end - start > 1 else 0.0
        line_runs = tuple(("".join(text[i] for i in group), font)
                          for font, group in itertools.groupby(range(start, end), fonts.__getitem__))
        lines.append(_Line(line_runs, x, size, track + spread))
    return lines


def _title_lines(title: str, font: str) -> list[_Line]:
    """Centred 二号 lines, balanced so a long title is not a full line over a stub."""
    advances = [_advance(font, ch) * _TITLE_SIZE for ch in title]
    spans = _wrap(title, advances, _WIDTH, _WIDTH)
    limit = sum(advances) / len(spans) if spans else _WIDTH
    while len(spans) > 1 and limit < _WIDTH:
        balanced = _wrap(title, advances, limit, limit)
        if len(balanced) == len(spans):
            spans = balanced
            break
        limit = min(limit + _TITLE_SIZE / 2, _WIDTH)
    return [_Line(((title[s:e], font),), _LEFT + (_WIDTH - sum(advances[s:e])) / 2, _TITLE_SIZE, 0.0, True)
            for s, e in spans]


def _paragraph_runs(text: str, fonts: FontSet) -> list[tuple[str, str]]:
    """"一、" headings in 黑体 and "（一）" in 楷体 (GB/T 9704 7.3.3); when a heading runs on
    into text in the same paragraph, only the heading sentence takes the heading face."""
    for pattern, face in ((_HEADING_1, fonts.hei), (_HEADING_2, fonts.kai)):
        if pattern.match(text):
            stop = text.find("。") + 1
            if 0 < stop < len(text):
                return [(text[:stop], face), (text[stop:], fonts.fangsong)]
            return [(text, face)]
    return [(text, fonts.fangsong)]


def _attachment_lines(names: Sequence[str], font: str) -> list[_Line]:
    """"附件：1.××" with later numbers and wrapped names aligned under the first (7.3.4)."""
    label = "附件："
    x = _LEFT + 2 * _CHAR
    names_x = x + _pen(label, font)
    if len(names) == 1:
        return _set([(label + names[0], font)], x, names_x)
    lines = []
    for k, name in enumerate(names, 1):
        number = f"{k}."
        text_x = names_x + _pen(number, font)
        lines += _set([((label if k == 1 else "") + number + name, font)], x if k == 1 else names_x, text_x)
    return lines


def _sealed_signature(organs: Sequence[str], date: str, font: str) -> _Signature:
    """7.3.5.1: two empty lines, 署名 centred over each seal, the date right-indented 4 字 under
    the last; seals in rows of at most three, the last centred on the date."""
    date_width = _width(date, font)
    last_x = _RIGHT - 4 * _CHAR - date_width / 2
    rows = _balanced_rows(len(organs))
    across = max(rows)
    pitch = min(_SEAL_PITCH, (last_x - _LEFT - _SEAL / 2) / (across - 1)) if across > 1 else _SEAL_PITCH
    texts, seals = [], []
    names = iter(organs)
    for r, count in enumerate(rows):
        line = 2 + r * _SEAL_ROW_LINES
        room = _WIDTH if count == 1 else pitch - _CHAR
        for j in range(count):
            name = next(names)
            centre = last_x - (count - 1 - j) * pitch
            width = _width(name, font)
            scale = min(1.0, room / width)
            left = min(max(centre - width * scale / 2, _LEFT), _RIGHT - width * scale)
            texts.append((line, left, name, scale))
            seals.append((centre, line * _PITCH + _SEAL_DROP))
    date_line = 2 + (len(rows) - 1) * _SEAL_ROW_LINES + 1
    texts.append((date_line, last_x - date_width / 2, date, 1.0))
    depth = max(_ink_depth(date_line), seals[-1][1] + _SEAL / 2)
    return _Signature(date_line + 1, tuple(texts), tuple(seals), depth)


def _balanced_rows(count: int) -> list[int]:
    """Seals per row, fullest rows first: 4 organs make 2 + 2, not 3 + 1."""
    rows = -(-count // _SEALS_PER_ROW)
    return [count // rows + (1 if r < count % rows else 0) for r in range(rows)]


def _unsealed_signature(organs: Sequence[str], date: str, font: str) -> _Signature:
    """7.3.5.2: one empty line, 署名 right-indented 2 字 (joint: stacked), the date on the next
    line starting 2 字 further right, or right-indented 2 字 with the names moved left if longer."""
    date_x = _RIGHT - max(_width(name, font) for name in organs)
    date_x = min(date_x, _RIGHT - 2 * _CHAR - _width(date, font))
    texts = [(1 + k, date_x - 2 * _CHAR, name, 1.0) for k, name in enumerate(organs)]
    texts.append((1 + len(organs), date_x, date, 1.0))
    return _Signature(2 + len(organs), tuple(texts), (), _ink_depth(1 + len(organs)))


def _flow(doc: RedHeadDocument, fonts: FontSet) -> list[_Line | _Signature]:
    """Everything after the red rule, in reading order, as lines and the signature block."""
    indent = _LEFT + 2 * _CHAR
    flow: list[_Line | _Signature] = list(_title_lines(doc.title, fonts.song))
    if doc.main_to:
        main_to = doc.main_to if doc.main_to.endswith("：") else doc.main_to + "："
        flow += [_BLANK, *_set([(main_to, fonts.fangsong)], _LEFT, _LEFT)]
    for paragraph in doc.body:
        if paragraph.strip():
            flow += _set(_paragraph_runs(paragraph.strip(), fonts), indent, _LEFT)
    if doc.attachments:
        flow += [_BLANK, *_attachment_lines(doc.attachments, fonts.fangsong)]
    sign = _sealed_signature if doc.sealed else _unsealed_signature
    block = sign(doc.signing_organs, _date_text(doc.date), fonts.fangsong)
    flow.append(block)
    if doc.note:
        note = doc.note if doc.note.startswith("（") else f"（{doc.note}）"
        lines = _set([(note, fonts.fangsong)], indent, _LEFT)
        flow += [_BLANK] * _note_gap(block, lines) + lines
    return flow


def _note_gap(block: _Signature, lines: list[_Line]) -> int:
    """Empty lines between the date and the 附注 (7.3.6 puts it on the next line) so that no
    seal covers it: none for one organ, whose seal is far right; a joint row can need more."""
    gap = 0
    while any(_covers(seal, (block.lines + gap + k) * _PITCH, line)
              for k, line in enumerate(lines) for seal in block.seals):
        gap += 1
    return gap


def _covers(seal: tuple[float, float], top: float, line: _Line) -> bool:
    """Whether a seal (centre x, drop) overlaps the em boxes of ``line`` placed ``top`` below the block top."""
    x, drop = seal
    ink_top = top + (_PITCH - line.size) / 2
    right = line.x + sum(_pen(text, font, line.size, line.track) for text, font in line.runs)
    return (abs(drop - ink_top - line.size / 2) < _SEAL / 2 + line.size / 2
            and x - _SEAL / 2 < right and line.x < x + _SEAL / 2)


def _ink_depth(line: int, size: float = _SIZE) -> float:
    """Bottom of the em box of line ``line`` (0-based) below the top of the first line box."""
    return line * _PITCH + (_PITCH + size) / 2


def _extent(item: _Line | _Signature) -> float:
    """How far below its top an item inks the page: what must stay inside the 版心. Counting
    ink rather than whole line boxes lets page 1 keep a line whose box only grazes the edge."""
    return _ink_depth(0, item.size) if isinstance(item, _Line) else item.depth


def _paginate(flow: list[_Line | _Signature], first_top: float) -> list[list[tuple[float, _Line | _Signature]]]:
    """Place items top-down, each with its top y; a page never starts with an empty line, and
    the signature block takes the last text line along rather than stand alone on a page."""
    pages: list[list[tuple[float, _Line | _Signature]]] = [[]]
    top = first_top
    for item in flow:
        if item is _BLANK and not pages[-1]:
            continue
        if top - _extent(item) < _BOTTOM - 0.01:
            carried = [pages[-1].pop()[1]] if isinstance(item, _Signature) and pages[-1] else []
            pages.append([])
            top = _TOP
            for moved in carried:
                pages[-1].append((top, moved))
                top -= _PITCH
        pages[-1].append((top, item))
        top -= _PITCH if isinstance(item, _Line) else item.lines * _PITCH
    return pages


def _colophon(doc: RedHeadDocument, font: str) -> tuple[list[tuple[int, _Line]], int, int]:
    """版记 lines as (line index from the top of the 版记, line), the number of line boxes, and
    the index of the line above which the thin rule goes (0 when there is none)."""
    lines: list[tuple[int, _Line]] = []
    count = 0
    if doc.cc:
        cc = "抄送：" + doc.cc + ("" if doc.cc.endswith("。") else "。")
        x = _LEFT + _CHAR
        wrapped = _set([(cc, font)], x, x + _pen("抄送：", font, _SMALL_SIZE, 0), _RIGHT - _CHAR, _SMALL_SIZE, 0.0)
        lines += enumerate(wrapped)
        count = len(wrapped)
    thin = count
    if doc.printed_by or doc.printed_on:
        if doc.printed_by:
            lines.append((count, _Line(((doc.printed_by, font),), _LEFT + _CHAR, _SMALL_SIZE, 0.0)))
        if doc.printed_on:
            issued = _date_text(doc.printed_on) + "印发"
            x = _RIGHT - _CHAR - _width(issued, font, _SMALL_SIZE, 0)
            lines.append((count, _Line(((issued, font),), x, _SMALL_SIZE, 0.0)))
        count += 1
    return lines, count, thin if 0 < thin < count else 0


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
    return top - (_PITCH + size) / 2 + _EM_DESCENT * size


def _draw_line(c: canvas.Canvas, line: _Line, top: float, color: tuple[float, ...] = ()) -> None:
    if line.runs:
        _draw_runs(c, line.x, _baseline(top, line.size), line.runs, line.size, line.track, bold=line.bold,
                   color=color)


def _draw_mark(c: canvas.Canvas, marks: Sequence[str], font: str) -> float:
    """The red issuer mark with its top 35 mm below the 版心 top; returns its bottom y."""
    suffix = _JOINT_SUFFIX
    if len(marks) > 1 and all(m.endswith(suffix) and len(m) > len(suffix) for m in marks):
        names = [m[: -len(suffix)] for m in marks]
    else:
        names, suffix = list(marks), ""
    size = min(_MARK_SIZE, _MARK_STACK / (1 + (len(names) - 1) * _MARK_LEAD))
    lead = size * _MARK_LEAD
    widths = [_width(name, font, size, 0) for name in names]
    stack = max(widths)
    suffix_width = _width(suffix, font, size, 0) + size / 2 if suffix else 0.0
    scale = min(1.0, _WIDTH / (stack + suffix_width))
    left = _LEFT + (_WIDTH - (stack + suffix_width) * scale) / 2
    top = _TOP - _MARK_DROP
    for k, (name, width) in enumerate(zip(names, widths, strict=True)):
        y = top - k * lead - (1 - _EM_DESCENT) * size
        if suffix:
            spread = (stack - width) / (len(name) - 1) if len(name) > 1 else 0.0
            _draw_runs(c, left, y, [(name, font)], size, spread, scale, True, _RED)
        else:
            _draw_runs(c, _LEFT + (_WIDTH - width * scale) / 2, y, [(name, font)], size, 0.0, scale, True, _RED)
    height = (len(names) - 1) * lead + size
    if suffix:
        y = top - (height - size) / 2 - (1 - _EM_DESCENT) * size
        _draw_runs(c, left + (stack + size / 2) * scale, y, [(suffix, font)], size, 0.0, scale, True, _RED)
    return top - height


def _draw_header(c: canvas.Canvas, doc: RedHeadDocument, fonts: FontSet) -> float:
    """版头 on page 1; returns the y of the red rule."""
    corner = [(doc.copy_number, fonts.fangsong), (doc.urgency, fonts.hei)]
    for k, (text, font) in enumerate((t, f) for t, f in corner if t):
        _draw_line(c, _Line(((text, font),), _LEFT), _TOP - k * _PITCH)
    top = _draw_mark(c, doc.issuer_marks, fonts.song) - 2 * _PITCH
    if doc.signers:
        rows = ["　".join(doc.signers[i:i + 2]) for i in range(0, len(doc.signers), 2)]
        names_x = _RIGHT - _CHAR - max(_width(row, fonts.kai) for row in rows)
        label = "签发人："
        label_x = names_x - _pen(label, fonts.fangsong)
        _draw_line(c, _Line(((label, fonts.fangsong),), label_x), top)
        for k, row in enumerate(rows):
            _draw_line(c, _Line(((row, fonts.kai),), names_x), top - k * _PITCH)
        top -= (len(rows) - 1) * _PITCH
        number_x = _LEFT + _CHAR
    else:
        number_x = _LEFT + (_WIDTH - _width(doc.doc_number, fonts.fangsong)) / 2
    if doc.doc_number:
        _draw_line(c, _Line(((doc.doc_number, fonts.fangsong),), number_x), top)
    rule = top - (_PITCH + _SIZE) / 2 - _NUMBER_GAP
    c.saveState()
    c.setStrokeColorRGB(*_RED)
    c.setLineWidth(_RULE)
    c.line(_LEFT, rule, _RIGHT, rule)
    c.restoreState()
    return rule


def _draw_signature(c: canvas.Canvas, block: _Signature, top: float, page: int, font: str) -> list[SealBox]:
    for line, x, text, scale in block.texts:
        _draw_runs(c, x, _baseline(top - line * _PITCH, _SIZE), [(text, font)], _SIZE, _TRACK, scale)
    half = _SEAL / 2
    return [SealBox(page, (x - half, top - drop - half, x + half, top - drop + half)) for x, drop in block.seals]


def _draw_colophon(c: canvas.Canvas, lines: list[tuple[int, _Line]], count: int, thin: int) -> None:
    """版记 with its last rule on the 版心 bottom edge; thick outer rules, thin inner one."""
    top = _BOTTOM + count * _PITCH
    for index, line in lines:
        _draw_line(c, line, top - index * _PITCH)
    rules = [(top, _THICK), (_BOTTOM + _THICK, _THICK)] + ([(top - thin * _PITCH, _THIN)] if thin else [])
    for y, weight in rules:
        c.rect(_LEFT, y - weight, _WIDTH, weight, stroke=0, fill=1)


def _draw_page_number(c: canvas.Canvas, number: int, font: str) -> None:
    """"— N —" in 4号 Song 7 mm under the 版心: odd pages right, even pages left, 1 字 in."""
    text = f"— {number} —"
    x = _RIGHT - _CHAR - _width(text, font, _SMALL_SIZE, 0) if number % 2 else _LEFT + _CHAR
    _draw_runs(c, x, _BOTTOM - _PAGE_NUMBER_DROP - _DASH_TOP * _SMALL_SIZE, [(text, font)], _SMALL_SIZE)


def _check(doc: RedHeadDocument) -> None:
    """Refuse what cannot be typeset rather than print a wrong document."""
    if not doc.issuer_marks or not doc.signing_organs:
        raise ValueError("红头文件需要发文机关标志和发文机关署名")
    if doc.urgency not in _URGENCIES:
        raise ValueError(f"紧急程度只能是“加急”或“特急”：{doc.urgency}")


def render(doc: RedHeadDocument) -> RenderedPdf:
    """Typeset ``doc`` as a GB/T 9704-2012 red-header PDF and say where its seals go."""
    _check(doc)
    fonts = load_fonts()
    buffer = io.BytesIO()
    # initialFontName: otherwise every page references an unembedded Helvetica
    c = canvas.Canvas(buffer, pagesize=A4, initialFontName=fonts.fangsong, initialFontSize=_SIZE, invariant=1,
                      lang="zh-CN")
    c.setTitle(doc.title)
    c.setAuthor(doc.signing_organs[0])
    c.setSubject(doc.doc_number)
    # Every issuing organ, so a verifier can tell who must have sealed the document.
    c.setKeywords(ISSUERS_SEPARATOR.join(doc.signing_organs))
    c.setCreator("Gongwen")
    pages = _paginate(_flow(doc, fonts), _draw_header(c, doc, fonts) - 2 * _PITCH)
    colophon, count, thin = _colophon(doc, fonts.fangsong)
    last_bottom = min(top - _extent(item) for top, item in pages[-1])
    if count and last_bottom < _BOTTOM + count * _PITCH - 0.01:
        pages.append([])
    seal_boxes: list[SealBox] = []
    for number, page in enumerate(pages):
        if number:
            c.showPage()
        for top, item in page:
            if isinstance(item, _Line):
                _draw_line(c, item, top)
            else:
                seal_boxes += _draw_signature(c, item, top, number, fonts.fangsong)
        _draw_page_number(c, number + 1, fonts.song)
    if count:
        _draw_colophon(c, colophon, count, thin)
    c.save()
    return RenderedPdf(buffer.getvalue(), len(pages), seal_boxes)
