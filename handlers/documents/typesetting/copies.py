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


def _stamp(number: int) -> PdfReader:
    """A one-page A4 PDF holding only the 份号 of copy ``number``."""
    fonts = load_fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    c.setFont(fonts.fangsong, SIZE)
    c.drawString(LEFT, TOP - (PITCH + SIZE) / 2 + _EM_DESCENT * SIZE, copy_mark(number))
    c.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def print_copies(pdf: bytes, numbers: Sequence[int]) -> bytes:
    """One PDF that prints the copies ``numbers`` in turn, each stamped with its 份号. A file with an odd
    number of pages gets a blank page after each copy, so that printed on both sides every copy starts
    on a sheet of its own."""
    if not numbers:
        raise ValueError("没有要打印的份号")
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    writer = PdfWriter()
    for number in numbers:
        first = len(writer.pages)
        # a reader per copy: pages appended from one reader share their content, so one stamp would show on all
        writer.append(PdfReader(io.BytesIO(pdf)), import_outline=False)
        writer.pages[first].merge_page(_stamp(number).pages[0])
        if pages % 2:
            writer.add_blank_page(*A4)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
