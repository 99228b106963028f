"""Forms of archiving (归档): the issuing unit's archive step of its own outgoing document."""

from __future__ import annotations

from engine.registry import form
from handlers.documents.models import Document

from .incoming import Archive


def _document(session, task, data: dict) -> dict:
    """What the archivist files: the document's number, title and 成文日期, and the link to it."""
    document = session.get(Document, data.get("document_id"))
    return {"document": {"id": document.id, "doc_number": document.doc_number, "title": document.title,
                         "signing_date": document.signing_date}} if document else {}


# The same choice of retention as a received document's 归档; the page also shows the document filed.
form("outgoing_archive", Archive, "forms/outgoing_archive.html", "发文归档", context=_document)
