"""Verifying a sealed document: its seals, its chain and CRLs, and that its issuers sealed it.

The issuing units a document names are taken from the register when the file is one
Gongwen sealed, and otherwise from the PDF's own metadata (inside the signed bytes,
so it cannot be changed without breaking the seal).
"""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.models import Unit

from ..documents.models import Document, DocumentIssuer
from ..documents.typesetting.redhead import ISSUERS_SEPARATOR
from .register import verify
from .validation import VerificationReport

# Every sign-for asks: built once (building and keying a statement costs more CPU than its round trip).
_ISSUERS = select(Unit.name).join(DocumentIssuer, DocumentIssuer.unit_id == Unit.id).order_by(DocumentIssuer.position)
_ISSUERS_OF_DOCUMENT = _ISSUERS.where(DocumentIssuer.document_id == bindparam("document_id"))
_ISSUERS_OF_FILE = _ISSUERS.join(Document, Document.id == DocumentIssuer.document_id).where(
    Document.sealed_sha256 == bindparam("sha256"))


def named_issuers(session: Session, pdf: bytes, document_id: int | None = None) -> list[str] | None:
    """The issuing units the document names, or None if it names none we can read.

    ``document_id`` is the document whose sealed file ``pdf`` is, when the caller knows it (a sign-for
    does): its issuers are read by the document, in one query, instead of finding it by the file's hash.
    """
    if document_id is None:
        names = session.scalars(_ISSUERS_OF_FILE, {"sha256": hashlib.sha256(pdf).hexdigest()}).all()
    else:
        names = session.scalars(_ISSUERS_OF_DOCUMENT, {"document_id": document_id}).all()
    if names:  # a sealed document always has its issuers
        return list(names)
    try:
        keywords = PdfReader(io.BytesIO(pdf)).metadata.get("/Keywords")
    except Exception:  # not a PDF we can read: the verifier says so in its own words
        return None
    return [name for name in str(keywords or "").split(ISSUERS_SEPARATOR) if name] or None


def verify_document(session: Session, pdf: bytes, document_id: int | None = None) -> VerificationReport:
    """Verify ``pdf`` expecting the seals of the issuers it names (see :func:`named_issuers`)."""
    return verify(session, pdf, named_issuers(session, pdf, document_id))
