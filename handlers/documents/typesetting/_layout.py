"""Where everything on a red-header page goes, decided before anything is drawn.

The 版心 grid, text measured with the fonts' metrics, lines broken by the Chinese rules, the
signature block with its seal centres, pagination and the 版记: pure functions of a
:class:`~.redhead.RedHeadDocument` and the fonts. :mod:`.redhead` draws what they decide, so the
geometry constants it shares with the drawing live here, once.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from .fonts import FontSet

if TYPE_CHECKING:
    from .redhead import RedHeadDocument

LEFT = 28 * mm                       # 订口
TOP = A4[1] - 37 * mm                # 天头
WIDTH, HEIGHT = 156 * mm, 225 * mm   # 版心
RIGHT = LEFT + WIDTH
BOTTOM = TOP - HEIGHT
PITCH = HEIGHT / 22                  # one line: 22 to the 版心
CHAR = WIDTH / 28                    # one 字: 28 to the line
SIZE = 16                            # 三号
TRACK = CHAR - SIZE                  # slight negative tracking puts 16 pt ideographs on the 28-column grid
_TITLE_SIZE = 22                     # 二号
SMALL_SIZE = 14                      # 四号: 版记 and page numbers
SEAL = 42 * mm
_SEAL_PITCH = SEAL + 8 * mm          # centre to centre of joint seals when the 版心 allows
_SEALS_PER_ROW = 3
_SEAL_ROW_LINES = 5                  # 51 mm between rows of joint seals: no two seals touch
_SEAL_DROP = 0.25 * PITCH            # seal centre below the organ's line top: name and date sit just below it
_MIN_PITCH = 0.85 * PITCH            # closest lines may come to keep the signature with its text (7.3.5)

_NOSTART = frozenset("，。、；：？！）》」』”’〕】〉〗…—%·,.;:?!)]}")
_NOEND = frozenset("（《「『“‘〔【〈〖([{")
_HEADING_1 = re.compile(r"[一二三四五六七八九十百]+、")
_HEADING_2 = re.compile(r"（[一二三四五六七八九十百]+）")
_NUMBER_MARKS = frozenset(",.:")  # inside a number: 3,487 and 3.5 and 9:30 stay on one line
# A title line may end after these words and marks (and around the 的 before the document type):
# without a dictionary, these are the places where no word is cut (GB/T 9704 7.3.1: 词意完整).
_TITLE_AFTER = frozenset("、，；：》和与及暨并")
_TITLE_BEFORE = frozenset("《（")


@dataclass(frozen=True)
class Line:
    """One line box of text: runs of (text, font) from ``x``; no runs makes an empty line."""

    runs: tuple[tuple[str, str], ...]
    x: float
    size: float = SIZE
    track: float = TRACK
    bold: bool = False
    body: bool = False   # a line of the 正文 itself, which the signature may not be without


@dataclass(frozen=True)
class Signature:
    """署名, 成文日期 and seals, kept together and on a page with text (此页无正文 is forbidden).

    ``texts`` are (line, x, text, horizontal scale) and ``seals`` centres as (x, drop below
    the block's top); ``depth`` is how far below that top its lowest ink (text or seal) reaches.
    """

    lines: int
    texts: tuple[tuple[int, float, str, float], ...]
    seals: tuple[tuple[float, float], ...]
    depth: float


Page = list[tuple[float, Line | Signature]]
"""The items on one page, each with the y of its top."""

_BLANK = Line((), LEFT)
_advances: dict[str, dict[str, float]] = {}


def _advance(font: str, char: str) -> float:
    """Advance of ``char`` at 1 pt, memoised because wrapping measures every character."""
    widths = _advances.setdefault(font, {})
    width = widths.get(char)
    if width is None:
        width = widths[char] = pdfmetrics.stringWidth(char, font, 1)
    return width


def run_advance(text: str, font: str, size: float = SIZE, track: float = TRACK) -> float:
    """How far drawing ``text`` moves the pen: where text that follows on the line starts."""
    return sum(_advance(font, ch) for ch in text) * size + track * len(text)


def run_width(text: str, font: str, size: float = SIZE, track: float = TRACK) -> float:
    """Inked width of one run: tracking only between characters, not after the last."""
    return run_advance(text, font, size, track) - (track if text else 0.0)


def _date_text(day: datetime.date) -> str:
    """Arabic numerals, no zero padding, as GB/T 9704 7.3.5 shows."""
    return f"{day.year}年{day.month}月{day.day}日"


def _breakable(text: str, i: int) -> bool:
    """Whether a line may end before ``text[i]``: not before closing punctuation, not after
    an opening bracket, and not inside a number or Latin word."""
    before, after = text[i - 1], text[i]
    if after in _NOSTART or before in _NOEND:
        return False
    if before in _NUMBER_MARKS and i >= 2 and text[i - 2].isdigit() and after.isdigit():
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


def _set(runs: Sequence[tuple[str, str]], first_x: float, rest_x: float, right: float = RIGHT,
         size: float = SIZE, track: float = TRACK, body: bool = False) -> list[Line]:
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
        lines.append(Line(line_runs, x, size, track + spread, body=body))
    return lines


def _title_breaks(title: str) -> set[int]:
    """Where a title may break without cutting a word: before "关于" (after the issuer's name; 关于
    stays with the matter it introduces), after a joining word or mark, before a quotation, around
    "的", after a date."""
    breaks = set()
    for i, ch in enumerate(title):
        if title.startswith("关于", i):
            breaks.add(i)
        if ch in _TITLE_AFTER:
            breaks.add(i + 1)
        if ch in _TITLE_BEFORE or ch == "的":
            breaks.add(i)
        if ch == "的" or (ch in "年月日" and i and title[i - 1].isdigit()):
            breaks.add(i + 1)
    return {i for i in breaks if 0 < i < len(title) and _breakable(title, i)}


def _balanced(advances: list[float], count: int, cuts: Sequence[int]) -> list[tuple[int, int]] | None:
    """``count`` line spans breaking only at ``cuts``, each within the 版心, as even as they can be
    (least sum of squared slack); None when none fit."""
    ends = sorted({*cuts, len(advances)})
    sums = list(itertools.accumulate(advances, initial=0.0))
    best: dict[tuple[int, int], tuple[float, list[tuple[int, int]]]] = {(0, 0): (0.0, [])}
    for lines in range(1, count + 1):
        for (_, start), (cost, spans) in [item for item in best.items() if item[0][0] == lines - 1]:
            for end in ends:
                width = sums[end] - sums[start]
                if end <= start or width > WIDTH + 0.01:
                    continue
                candidate = (cost + (WIDTH - width) ** 2, [*spans, (start, end)])
                if candidate[0] < best.get((lines, end), (float("inf"),))[0]:
                    best[(lines, end)] = candidate
    found = best.get((count, len(advances)))
    return found[1] if found else None


def _title_lines(title: str, font: str, bold: bool) -> list[Line]:
    """Centred 二号 lines, broken between words where the title allows (one more line rather than
    a word cut), balanced so a long title is not a full line over a stub."""
    advances = [_advance(font, ch) * _TITLE_SIZE for ch in title]
    fewest = len(_wrap(title, advances, WIDTH, WIDTH))
    words = sorted(_title_breaks(title))
    anywhere = [i for i in range(1, len(title)) if _breakable(title, i)]
    spans = (_balanced(advances, fewest, words) or _balanced(advances, fewest + 1, words)
             or _balanced(advances, fewest, anywhere) or _wrap(title, advances, WIDTH, WIDTH))
    return [Line(((title[s:e], font),), LEFT + (WIDTH - sum(advances[s:e])) / 2, _TITLE_SIZE, 0.0, bold)
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


def _attachment_lines(names: Sequence[str], font: str) -> list[Line]:
    """"附件：1.××" with later numbers and wrapped names aligned under the first (7.3.4)."""
    label = "附件："
    x = LEFT + 2 * CHAR
    names_x = x + run_advance(label, font)
    if len(names) == 1:
        return _set([(label + names[0], font)], x, names_x)
    lines = []
    for k, name in enumerate(names, 1):
        number = f"{k}."
        text_x = names_x + run_advance(number, font)
        lines += _set([((label if k == 1 else "") + number + name, font)], x if k == 1 else names_x, text_x)
    return lines


def _sealed_signature(organs: Sequence[str], date: str, font: str) -> Signature:
    """7.3.5.1: two empty lines, 署名 centred over each seal, the date right-indented 4 字 under
    the last; seals in rows of at most three, the last centred on the date."""
    date_width = run_width(date, font)
    last_x = RIGHT - 4 * CHAR - date_width / 2
    rows = _balanced_rows(len(organs))
    across = max(rows)
    pitch = min(_SEAL_PITCH, (last_x - LEFT - SEAL / 2) / (across - 1)) if across > 1 else _SEAL_PITCH
    texts, seals = [], []
    names = iter(organs)
    for r, count in enumerate(rows):
        line = 2 + r * _SEAL_ROW_LINES
        room = WIDTH if count == 1 else pitch - CHAR
        for j in range(count):
            name = next(names)
            centre = last_x - (count - 1 - j) * pitch
            width = run_width(name, font)
            scale = min(1.0, room / width)
            left = min(max(centre - width * scale / 2, LEFT), RIGHT - width * scale)
            texts.append((line, left, name, scale))
            seals.append((centre, line * PITCH + _SEAL_DROP))
    date_line = 2 + (len(rows) - 1) * _SEAL_ROW_LINES + 1
    texts.append((date_line, last_x - date_width / 2, date, 1.0))
    depth = max(_ink_depth(date_line), seals[-1][1] + SEAL / 2)
    return Signature(date_line + 1, tuple(texts), tuple(seals), depth)


def _balanced_rows(count: int) -> list[int]:
    """Seals per row, fullest rows first: 4 organs make 2 + 2, not 3 + 1."""
    rows = -(-count // _SEALS_PER_ROW)
    return [count // rows + (1 if r < count % rows else 0) for r in range(rows)]


def _unsealed_signature(organs: Sequence[str], date: str, font: str) -> Signature:
    """7.3.5.2: one empty line, 署名 right-indented 2 字 (joint: stacked), the date on the next
    line starting 2 字 further right, or right-indented 2 字 with the names moved left if longer."""
    date_x = RIGHT - max(run_width(name, font) for name in organs)
    date_x = min(date_x, RIGHT - 2 * CHAR - run_width(date, font))
    texts = [(1 + k, date_x - 2 * CHAR, name, 1.0) for k, name in enumerate(organs)]
    texts.append((1 + len(organs), date_x, date, 1.0))
    return Signature(2 + len(organs), tuple(texts), (), _ink_depth(1 + len(organs)))


def flow(doc: RedHeadDocument, fonts: FontSet, main_to: bool = True) -> list[Line | Signature]:
    """Everything after the red rule, in reading order, as lines and the signature block;
    ``main_to`` False leaves the 主送 out (it goes into the 版记)."""
    indent = LEFT + 2 * CHAR
    flow: list[Line | Signature] = list(_title_lines(doc.title, fonts.xiaobiaosong, fonts.faux_bold))
    if doc.main_to and main_to:
        main_to = doc.main_to if doc.main_to.endswith("：") else doc.main_to + "："
        flow += [_BLANK, *_set([(main_to, fonts.fangsong)], LEFT, LEFT)]
    else:
        flow.append(_BLANK)   # the 正文 keeps its distance from the title when no 主送 stands between
    for paragraph in doc.body:
        if paragraph.strip():
            flow += _set(_paragraph_runs(paragraph.strip(), fonts), indent, LEFT, body=True)
    if doc.attachments:
        flow += [_BLANK, *_attachment_lines(doc.attachments, fonts.fangsong)]
    sign = _sealed_signature if doc.sealed else _unsealed_signature
    block = sign(doc.signing_organs, _date_text(doc.date), fonts.fangsong)
    flow.append(block)
    if doc.note:
        note = doc.note if doc.note.startswith("（") else f"（{doc.note}）"
        lines = _set([(note, fonts.fangsong)], indent, LEFT)
        flow += [_BLANK] * _note_gap(block, lines) + lines
    return flow


def attachment_flow(name: str, text: str, fonts: FontSet) -> list[Line | Signature]:
    """A text attachment set like the body (7.3.7): its name as a centred 二号 title, an empty
    line, then each non-empty line of ``text`` as a paragraph indented 2 字, headings included."""
    lines: list[Line | Signature] = [*_title_lines(name, fonts.xiaobiaosong, fonts.faux_bold), _BLANK]
    for paragraph in text.splitlines():
        if paragraph.strip():
            lines += _set(_paragraph_runs(paragraph.strip(), fonts), LEFT + 2 * CHAR, LEFT)
    return lines


def _note_gap(block: Signature, lines: list[Line]) -> int:
    """Empty lines between the date and the 附注 (7.3.6 puts it on the next line) so that no
    seal covers it: none for one organ, whose seal is far right; a joint row can need more."""
    gap = 0
    while any(_covers(seal, (block.lines + gap + k) * PITCH, line)
              for k, line in enumerate(lines) for seal in block.seals):
        gap += 1
    return gap


def _covers(seal: tuple[float, float], top: float, line: Line) -> bool:
    """Whether a seal (centre x, drop) overlaps the em boxes of ``line`` placed ``top`` below the block top."""
    x, drop = seal
    ink_top = top + (PITCH - line.size) / 2
    right = line.x + sum(run_advance(text, font, line.size, line.track) for text, font in line.runs)
    return (abs(drop - ink_top - line.size / 2) < SEAL / 2 + line.size / 2
            and x - SEAL / 2 < right and line.x < x + SEAL / 2)


def _ink_depth(line: int, size: float = SIZE) -> float:
    """Bottom of the em box of line ``line`` (0-based) below the top of the first line box."""
    return line * PITCH + (PITCH + size) / 2


def extent(item: Line | Signature) -> float:
    """How far below its top an item inks the page: what must stay inside the 版心. Counting
    ink rather than whole line boxes lets page 1 keep a line whose box only grazes the edge."""
    return _ink_depth(0, item.size) if isinstance(item, Line) else item.depth


def paginate(flow: list[Line | Signature], first_top: float) -> list[Page]:
    """Place items top-down, each with its top y; a page never starts with an empty line, and the
    signature block goes where :func:`_settle` says."""
    pages: list[Page] = [[]]
    tops = [first_top]
    top = first_top
    for item in flow:
        if item is _BLANK and not pages[-1]:
            continue
        if isinstance(item, Signature):
            _settle(pages, tops, item)
            top = pages[-1][-1][0] - item.lines * PITCH
            continue
        if top - extent(item) < BOTTOM - 0.01:
            pages.append([])
            tops.append(TOP)
            top = TOP
            if item is _BLANK:
                continue
        pages[-1].append((top, item))
        top -= PITCH
    return pages


def _settle(pages: list[Page], tops: list[float], block: Signature) -> None:
    """Put the signature block on the page of the last line of 正文, so that no page holds a seal
    without text (7.3.5): lines after it that ran onto a new page come back, and when the block
    does not fit below them the page's lines close up (down to :data:`_MIN_PITCH`); failing
    that, the block takes the lines from the last line of 正文 on along to a new page."""
    k = len(pages) - 1
    if k and not shows_body(pages[k]) and shows_body(pages[k - 1]):
        k -= 1
    items = [item for page in pages[k:] for _, item in page]
    del pages[k + 1:], tops[k + 1:]
    page_top = tops[k]
    pitch = min(PITCH, (page_top - block.depth - BOTTOM) / len(items)) if items else PITCH
    if pitch >= _MIN_PITCH:
        pages[k][:] = [(page_top - n * pitch, item) for n, item in enumerate(items)]
        pages[k].append((page_top - len(items) * pitch, block))
        return
    last = max((n for n, item in enumerate(items) if getattr(item, "body", False)), default=len(items) - 1)
    last = last if last > 0 else len(items)   # all of a page cannot move: the block goes alone
    kept, carried = items[:last], items[last:]
    while carried and carried[0] is _BLANK:
        carried.pop(0)
    pages[k][:] = [(page_top - n * PITCH, item) for n, item in enumerate(kept)]
    pages.append([(TOP - n * PITCH, item) for n, item in enumerate(carried)])
    pages[-1].append((TOP - len(carried) * PITCH, block))
    tops.append(TOP)


def colophon(doc: RedHeadDocument, font: str, main_to: bool = False) -> tuple[list[tuple[int, Line]], int, int]:
    """版记 lines as (line index from the top of the 版记, line), the number of line boxes, and
    the index of the line above which the thin rule goes (0 when there is none). ``main_to``
    puts the 主送 there too, a line above the 抄送 and set like it (7.4.2)."""
    lines: list[tuple[int, Line]] = []
    count = 0
    listed = [("主送：", doc.main_to.rstrip("："))] if main_to and doc.main_to else []
    listed += [("抄送：", doc.cc)] if doc.cc else []
    for label, names in listed:
        x = LEFT + CHAR
        text = label + names + ("" if names.endswith("。") else "。")
        wrapped = _set([(text, font)], x, x + run_advance(label, font, SMALL_SIZE, 0), RIGHT - CHAR, SMALL_SIZE, 0.0)
        lines += ((count + k, line) for k, line in enumerate(wrapped))
        count += len(wrapped)
    thin = count
    if doc.printed_by or doc.printed_on:
        if doc.printed_by:
            lines.append((count, Line(((doc.printed_by, font),), LEFT + CHAR, SMALL_SIZE, 0.0)))
        if doc.printed_on:
            issued = _date_text(doc.printed_on) + "印发"
            x = RIGHT - CHAR - run_width(issued, font, SMALL_SIZE, 0)
            lines.append((count, Line(((issued, font),), x, SMALL_SIZE, 0.0)))
        count += 1
    return lines, count, thin if 0 < thin < count else 0


def shows_body(page: Page) -> bool:
    """Whether a page carries a line of 正文 (page 1 must, 7.3.2)."""
    return any(getattr(item, "body", False) for _, item in page)


def colophon_sheet(pages: int, fits: bool) -> tuple[int, int, int]:
    """Where the 版记 goes after ``pages`` pages of body and attachments: on the last even page
    (the back of the last sheet, 7.4), sharing the last page only when ``fits`` and that is even.
    Returns the 版记 page's index, the pages in all, and how many pages from the first are
    numbered: a blank page before the 版记 page and the 版记 page itself are not (7.5)."""
    if fits and pages % 2 == 0:
        return pages - 1, pages, pages
    index = pages if pages % 2 else pages + 1   # 0-based: an odd index is an even page
    return index, index + 1, pages + 1 if index == pages else pages
