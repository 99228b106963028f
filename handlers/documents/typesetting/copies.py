"""Paper copies (份数) of a typeset or sealed PDF, each with its 份号 (GB/T 9704 7.2.1).

A pure library. The sealed file stays one file with no 份号; the copies are a print derivative: every
page of the file once per copy, the copy's 6-digit 份号 in 3号 仿宋 on the first line of its first page,
flush left, where the layout left that line free (``RedHeadDocument.copy_number == ""``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ._layout import LEFT, PITCH, SIZE, TOP
from .fonts import load_fonts

__all__ = ["copy_mark", "print_copies"]

_EM_DESCENT = 0.12   # as in .redhead: the 份号 sits on the grid's first line like the text it stands beside


def copy_mark(number: int) -> str:
    """The 份号 as printed: six Arabic digits, ``000001``."""
    if not 1 <= number <= 999_999:
        raise ValueError(f"份号应在 1 到 999999 之间：{number}")
    return f"{number:06d}"


def _stamps(numbers: Sequence[int]) -> PdfReader:
    """A PDF of A4 pages each holding only the 份号 of one copy, in order: one font for all of them."""
    fonts = load_fonts()
    buffer = io.BytesIO()
    # initialFontName: otherwise every page references an unembedded Helvetica
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=fonts.fangsong, initialFontSize=SIZE)
    for number in numbers:
        c.drawString(LEFT, TOP - (PITCH + SIZE) / 2 + _EM_DESCENT * SIZE, copy_mark(number))
        c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def print_copies(pdf: bytes, numbers: Sequence[int]) -> bytes:
    """One PDF that prints the copies ``numbers`` in turn, each stamped with its 份号. A file with an odd
    number of pages gets a blank page after each copy, so that printed on both sides every copy starts
    on a sheet of its own. Only each copy's first page is its own (the file's first page drawn on a new
    page under the stamp, its seal annotation with it); the other pages and the fonts are shared."""
    if not numbers:
        raise ValueError("没有要打印的份号")
    source = PdfReader(io.BytesIO(pdf))
    stamps = _stamps(numbers)
    writer = PdfWriter()
    for stamp in stamps.pages:
        first, *rest = source.pages
        own = writer.add_blank_page(float(first.mediabox.width), float(first.mediabox.height))
        own.merge_page(first)
        own.merge_page(stamp)
        for page in rest:
            writer.add_page(page)
        if len(source.pages) % 2:
            writer.add_blank_page(*A4)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
