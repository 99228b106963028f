"""Binding attachments into the red-header PDF, after the body and before the 版记 (GB/T 9704 7.3.7).

The renderer draws each attachment page's frame: "附件N" on the first line of the first page and
the page number; :func:`bind` then lays the attachment's own page under that frame, scaled to
fit the 版心 below the first line, so that the attachment is inside the file the seal signs.
PDFs are bound as they are, images (scans) as a page of their own (:func:`image_as_pdf`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfReader, PdfWriter, Transformation
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from ._layout import HEIGHT, LEFT, PITCH, TOP, WIDTH

_SCAN_DPI = 150  # an image that does not say its resolution is taken as a scan at this one


@dataclass(frozen=True)
class Placement:
    """Page ``source_page`` of the attachment ``source`` goes under page ``page`` of the rendered PDF."""

    page: int
    source: bytes
    source_page: int


def page_count(pdf: bytes) -> int:
    """Pages of an attachment that can be bound; 0 for one that cannot be read (it stays a separate file)."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            return 0
        return len(reader.pages)
    except Exception:  # an uploaded file that only starts like a PDF can fail anywhere in pypdf
        return 0


def image_as_pdf(image: bytes) -> bytes | None:
    """A one-page PDF of an image at its own resolution, to bind like a PDF attachment; None for
    an image that cannot be read (it stays a separate file)."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            picture.load()
            dpi = picture.info.get("dpi", (_SCAN_DPI, _SCAN_DPI))[0] or _SCAN_DPI
            size = (picture.width * 72 / dpi, picture.height * 72 / dpi)
            page_image = picture.convert("RGB") if picture.mode not in ("RGB", "L") else picture.copy()
    except Exception:  # an upload that only starts like an image can fail anywhere in Pillow
        return None
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=size, invariant=1)
    page.drawImage(ImageReader(page_image), 0, 0, *size)
    page.save()
    return buffer.getvalue()


def bind(pdf: bytes, placements: Sequence[Placement]) -> bytes:
    """``pdf`` with each placement's attachment page drawn under its frame, scaled to the 版心
    below the first line (never enlarged) and centred across it, its top on that line's foot."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    sources: dict[int, PdfWriter] = {}  # a page turns its /Rotate into content only inside a writer
    for placement in placements:
        if id(placement.source) not in sources:
            sources[id(placement.source)] = PdfWriter(clone_from=PdfReader(io.BytesIO(placement.source)))
        source = sources[id(placement.source)].pages[placement.source_page]
        source.transfer_rotation_to_content()
        box = source.mediabox
        width, height = float(box.width), float(box.height)
        scale = min(1.0, WIDTH / width, (HEIGHT - PITCH) / height)
        x = LEFT + (WIDTH - width * scale) / 2
        y = TOP - PITCH - height * scale
        move = Transformation().translate(-float(box.left), -float(box.bottom)).scale(scale).translate(x, y)
        writer.pages[placement.page].merge_transformed_page(source, move, over=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
