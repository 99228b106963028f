"""The file a unit may attach to its seal application's written explanation (情况说明): a scan of the
signed explanation, a police report for a lost seal.

A file is accepted by what its bytes are (``handlers.documents.attachments.sniff``), stored once under
its SHA-256, and remembered by an audit event naming who uploaded it for which application (the hash
and size, never the file's name). The application form accepts only a file its applicant uploaded
(:func:`uploaded_by`), so nobody can point an application at a file they did not give.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.files import FileStore
from engine.models import AuditEvent, StoredFile, Task, TaskState
from handlers.documents.attachments import checked_file

UPLOADED = "seal.explanation_file"


@dataclass(frozen=True)
class Explanation:
    sha256: str
    filename: str
    media_type: str


def store_explanation(session: Session, files: FileStore, *, instance_id: int, person_id: int, filename: str,
                      content: bytes, max_bytes: int) -> tuple[str, str]:
    """Check and store the file; returns (its SHA-256, the file name without any folder part)."""
    filename, media_type = checked_file(filename, content, max_bytes)
    sha256 = files.put(session, content, media_type)
    audit.record(session, UPLOADED, actor_id=person_id, instance_id=instance_id, sha256=sha256, size=len(content))
    return sha256, filename


def uploaded_by(session: Session, person_id: int) -> list[str]:
    """The files the person uploaded for seal applications, by SHA-256."""
    details = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == UPLOADED,
                                                              AuditEvent.actor_id == person_id))
    return list(dict.fromkeys(d["sha256"] for d in details))


def explanation_of(session: Session, instance_id: int) -> Explanation | None:
    """The file the application's latest submitted form names, if it names one."""
    asked = session.scalars(select(Task.form_data).where(
        Task.instance_id == instance_id, Task.form_key == "seal_request", Task.state == TaskState.COMPLETED)
        .order_by(Task.completed_at.desc()).limit(1)).first()
    sha256 = (asked or {}).get("explanation_file")
    stored = session.get(StoredFile, sha256) if sha256 else None
    return Explanation(sha256, asked.get("explanation_file_name") or "情况说明附件", stored.media_type) \
        if stored else None
