"""Verifying a sealed document: its seals, its chain and CRLs, and that its issuers sealed it.

The issuing units a document names are taken from the register when the file is one
Gongwen sealed, and otherwise from the PDF's own metadata (inside the signed bytes,
so it cannot be changed without breaking the seal).
"""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Unit

from ..documents.models import Document
from ..documents.typesetting.redhead import ISSUERS_SEPARATOR
from .register import verify
from .validation import VerificationReport


def named_issuers(session: Session, pdf: bytes) -> list[str] | None:
    """The issuing units the document names, or None if it names none we can read."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    document = session.scalar(select(Document).where(Document.sealed_sha256 == sha256))
    if document is not None:
        return [session.get(Unit, i.unit_id).name for i in document.issuers]
    try:
        keywords = PdfReader(io.BytesIO(pdf)).metadata.get("/Keywords")
    except Exception:  # not a PDF we can read: the verifier says so in its own words
        return None
    return [name for name in str(keywords or "").split(ISSUERS_SEPARATOR) if name] or None


def verify_document(session: Session, pdf: bytes) -> VerificationReport:
    return verify(session, pdf, named_issuers(session, pdf))
