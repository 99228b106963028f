"""Typesetting: turning a document into its official form. A renderer per output format.

A ``Renderer`` takes the document as laid out (``RedHeadDocument``) and returns the file, its
page count and where the seals go. The GB/T 9704 red-header PDF (:mod:`.redhead`, with the 明传电报 and
刊头 heads of :mod:`.heads`) is the first;
an OFD renderer (GB/T 33190) registers beside it under its own format. The format travels with
the stored file as its media type.
"""

from __future__ import annotations

from typing import Protocol

from .heads import render
from .redhead import RedHeadDocument, RenderedPdf

__all__ = ["RENDERERS", "PdfRenderer", "Renderer"]


class Renderer(Protocol):
    format: str       # e.g. "pdf"
    media_type: str   # what the stored file is, e.g. "application/pdf"

    def render(self, document: RedHeadDocument) -> RenderedPdf:
        """The file of ``document``, its page count and its seal boxes."""


class PdfRenderer:
    """The GB/T 9704 PDF: the red-header 文件, or a 明传电报 or a publication by the document's ``form``."""

    format = "pdf"
    media_type = "application/pdf"

    def render(self, document: RedHeadDocument) -> RenderedPdf:
        return render(document)


RENDERERS: dict[str, Renderer] = {"pdf": PdfRenderer()}
