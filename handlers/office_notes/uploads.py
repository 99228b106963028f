"""Attachments of announcements and mail: checked like a document's (by their bytes, never their name, with
the same size limit) and stored once by hash in the file store; the note keeps a ``FileRef`` per file.

Checking and storing are two steps: ``check`` refuses a bad file before anything else is looked at, and the note's
service stores the files (``Uploads.keep``) only once it has accepted the note, so a refused note leaves no file
behind, on disk or in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.errors import NotFound, Refused
from engine.files import FileStore

from ..documents.attachments import checked_file
from .models import FileRef

MAX_FILES = 10  # attachments on one note: more is a 公文's work, not a notice's


@dataclass(frozen=True)
class Uploads:
    """Files a person attached, checked, not stored yet: (file name, media type, bytes) each."""

    store: FileStore | None
    checked: list[tuple[str, str, bytes]]

    def keep(self, session: Session) -> list[FileRef]:
        """Store the files (once each, by hash) in the caller's transaction; their references, in order."""
        return [FileRef(sha256=self.store.put(session, content, media_type), filename=filename, size=len(content))
                for filename, media_type, content in self.checked]


NONE = Uploads(None, [])


def check(store: FileStore, uploads: Sequence[tuple[str, bytes]], max_bytes: int) -> Uploads:
    """Check every upload (``(file name, bytes)``; one with no name and no bytes is an empty file input and
    skipped); ``Refused`` naming the first one refused."""
    given = [(name, content) for name, content in uploads if name or content]
    if len(given) > MAX_FILES:
        raise Refused(f"附件最多 {MAX_FILES} 个（现有 {len(given)} 个）")
    return Uploads(store, [(*checked_file(name, content, max_bytes), content) for name, content in given])


def pick(refs: list[FileRef], position: int) -> FileRef:
    """The ``position``-th attachment (from 1) of a note; ``NotFound`` if it has none there."""
    if not 1 <= position <= len(refs):
        raise NotFound("没有这个附件")
    return refs[position - 1]
