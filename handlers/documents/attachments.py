"""Attachments (附件): accepted by what their bytes are, never by their file name.

Allowed: PDF, OFD, DOCX, XLSX, WPS (and old Word files, the same container), plain
text and images. Anything else, or anything over the configured size, is refused with
the reason; an accepted file is stored once under its SHA-256.
"""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy.orm import Session

from engine.config import option
from engine.errors import Refused
from engine.files import FileStore
from engine.text import clean

from .models import Attachment, DocStatus, Document

# The largest attachment accepted, in bytes (the web app's upload limit follows it).
ATTACHMENT_MAX_BYTES = option("attachment_max_bytes", "GONGWEN_ATTACHMENT_MAX_BYTES", int, 50 * 1024 * 1024)

def size_text(size: int) -> str:
    """A file size as people read it: ``50 MB``, ``4 KB``."""
    value, unit = (size / 1048576, "MB") if size >= 1048576 else (max(size / 1024, 0.1), "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # WPS and .doc files are OLE2 compound documents


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` if it is one Gongwen accepts, else None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(_OLE2):
        return "application/vnd.ms-works"
    for magic, media_type in _IMAGES:
        if content.startswith(magic):
            return media_type
    if content.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    return _text_kind(content)


def _zip_kind(content: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except zipfile.BadZipFile:
        return None
    if "OFD.xml" in names:
        return "application/ofd"
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:  # tables, e.g. a 通报's statistics
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def _text_kind(content: bytes) -> str | None:
    if b"\x00" in content[:8192]:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            content.decode(encoding)
            return "text/plain"
        except UnicodeDecodeError:
            continue
    return None


def checked_file(filename: str, content: bytes, max_bytes: int) -> tuple[str, str]:
    """(the file name without any folder part, the media type) of an upload Gongwen accepts; else Refused.

    Names are data, never paths; the kind is judged by the bytes, never by the name.
    """
    filename = clean(re.split(r"[/\\]", filename or "")[-1], field="文件名", max_length=200)
    if len(content) > max_bytes:
        raise Refused(f"附件“{filename}”有 {size_text(len(content))}，超过 {size_text(max_bytes)} 的上限")
    media_type = sniff(content)
    if media_type is None:
        raise Refused(f"附件“{filename}”不是允许的格式（PDF、OFD、DOCX、XLSX、WPS、TXT 或图片）")
    return filename, media_type


def _ensure_editable(document: Document) -> None:
    if document.status not in (DocStatus.DRAFTING, DocStatus.REVIEWING, DocStatus.RETURNED):
        raise Refused("公文已签发，不能再更改附件")


def _attachment_of(document: Document, attachment_id: int) -> Attachment:
    found = next((a for a in document.attachments if a.id == attachment_id), None)
    if found is None:
        raise Refused("这份公文没有这个附件")
    return found


def add_attachment(session: Session, files: FileStore, document: Document, *, name: str, filename: str,
                   content: bytes, max_bytes: int) -> Attachment:
    """Check and store one attachment of a document still being drafted.

    ``name`` is what the 附件说明 prints; ``filename`` only ever the name the person's file had, kept
    for display (:func:`checked_file`).
    """
    _ensure_editable(document)
    name = clean(name, field="附件名称", max_length=100)
    filename, media_type = checked_file(filename, content, max_bytes)
    sha256 = files.put(session, content, media_type)
    attachment = Attachment(document_id=document.id, position=len(document.attachments) + 1, name=name,
                            filename=filename, sha256=sha256)
    document.attachments.append(attachment)
    session.flush()
    return attachment


def remove_attachment(session: Session, document: Document, attachment_id: int) -> Attachment:
    """Take one attachment off a document still being drafted; the rest close up (附件1, 附件2, ...).

    The stored file stays: files are kept by hash and may serve another document. Returns the one removed.
    """
    _ensure_editable(document)
    removed = _attachment_of(document, attachment_id)
    document.attachments.remove(removed)
    for position, attachment in enumerate(document.attachments, start=1):
        attachment.position = position
    session.flush()
    return removed


def replace_attachment(session: Session, files: FileStore, document: Document, attachment_id: int, *,
                       filename: str, content: bytes, max_bytes: int) -> Attachment:
    """Put a new file in the place of one attachment of a document still being drafted: its name and
    position stay, the file is checked as a new one would be (:func:`checked_file`)."""
    _ensure_editable(document)
    attachment = _attachment_of(document, attachment_id)
    attachment.filename, media_type = checked_file(filename, content, max_bytes)
    attachment.sha256 = files.put(session, content, media_type)
    session.flush()
    return attachment
