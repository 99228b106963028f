"""Files kept by the SHA-256 of their bytes under ``GONGWEN_FILES_DIR``.

A stored file never changes: the same bytes always land at the same path, and a
sealed PDF is addressed by its hash for the rest of its life. Writes go to a
temporary file first and are renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from . import clock
from .errors import NotFound
from .models import StoredFile


@dataclass(frozen=True)
class Upload:
    """A form value that is a file (a handwritten signature): the step completing the form stores it
    here and keeps only its SHA-256 in the step's data, so the workflow never carries the bytes."""

    content: bytes
    media_type: str


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, content: bytes, media_type: str) -> str:
        """Store ``content`` (once) and record it; returns its SHA-256."""
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.replace(tmp, path)
        if session.get(StoredFile, sha256) is None:
            session.add(StoredFile(sha256=sha256, size=len(content), media_type=media_type, created_at=clock.now()))
        return sha256

    def erase(self, session: Session, sha256: str) -> None:
        """Remove a file's bytes and its record, for a domain that must destroy a file it alone holds (an
        appraised archive item). The caller answers for nothing else referring to it; erasing a file already
        gone is no error. Audit events keep hashes only, so the chain is untouched."""
        self.path(sha256).unlink(missing_ok=True)
        if (stored := session.get(StoredFile, sha256)) is not None:
            session.delete(stored)

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if not path.is_file():
            raise NotFound(f"文件 {sha256[:12]}… 不存在")
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise NotFound(f"文件 {sha256[:12]}… 已损坏（内容与哈希不符）")
        return content
