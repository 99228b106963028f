"""Deploying BPMN files as new versions of their processes.

All files given together are checked first; if any is refused, nothing is stored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn import check_definition
from .errors import DeployError, Refused
from .models import BpmnSource, ProcessDefinition
from .text import clean


@dataclass(frozen=True)
class Deployed:
    process_id: str
    version: int
    filename: str
    changed: bool  # False: identical to the latest version, nothing stored

    def describe(self) -> str:
        state = f"已部署为第 {self.version} 版" if self.changed else f"与第 {self.version} 版相同，未改动"
        return f"{self.filename}：流程 {self.process_id} {state}"


def collect(paths: list[Path]) -> list[tuple[str, bytes]]:
    """The ``.bpmn`` files at ``paths`` (files, or folders searched non-recursively)."""
    files: list[tuple[str, bytes]] = []
    for path in paths:
        if path.is_dir():
            files += [(p.name, p.read_bytes()) for p in sorted(path.glob("*.bpmn"))]
        elif path.exists():
            files.append((path.name, path.read_bytes()))
        else:
            raise DeployError(str(path), "文件不存在")
    return files


def _file_name(name: str) -> str:
    name = re.split(r"[/\\]", name or "")[-1] or "upload.bpmn"
    try:
        return clean(name, field="流程文件名", max_length=200)
    except Refused as err:
        raise DeployError(name[:80], str(err)) from None


def deploy(session: Session, files: list[tuple[str, bytes]], *, actor_id: int | None = None) -> list[Deployed]:
    """Check every file, then store each as the next version of its process (or not, if unchanged).

    A file's name is kept for people to recognise it: without any folder part, at most 200
    characters, no control characters; it is never used as a path or a header as given.
    """
    checked = []
    for name, content in files:
        name = _file_name(name)
        checked.append((name, content, check_definition(content, name)))
    seen: dict[str, str] = {}
    for name, _content, parsed in checked:
        if parsed.process_id in seen:
            raise DeployError(name, f"流程 {parsed.process_id} 也在 {seen[parsed.process_id]} 中定义")
        seen[parsed.process_id] = name
    session.info.pop("gongwen.latest_definitions", None)  # starts after this deploy use the new versions
    results = []
    for name, content, parsed in checked:
        sha = hashlib.sha256(content).hexdigest()
        latest = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.process_id == parsed.process_id)
            .order_by(ProcessDefinition.version.desc()).limit(1)
        )
        if latest is not None and latest.source_sha256 == sha:
            results.append(Deployed(parsed.process_id, latest.version, name, changed=False))
            continue
        if session.get(BpmnSource, sha) is None:
            session.add(BpmnSource(sha256=sha, content=content))
        version = (latest.version if latest else 0) + 1
        session.add(ProcessDefinition(process_id=parsed.process_id, version=version, name=parsed.name,
                                      filename=name, source_sha256=sha, deployed_at=clock.now(),
                                      deployed_by_id=actor_id))
        session.flush()
        audit.record(session, "definition.deploy", actor_id=actor_id, process_id=parsed.process_id,
                     version=version, sha256=sha, filename=name)
        results.append(Deployed(parsed.process_id, version, name, changed=True))
    return results
