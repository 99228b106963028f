"""Deploying BPMN files as new versions of their processes.

All files given together are checked first; if any is refused, nothing is stored.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn import StartDeclaration, check_definition, declare_forms, parse_xml, start_declaration
from .db import Database
from .errors import DeployError, Forbidden, NotFound, Refused
from .models import ROLE_LABELS, BpmnSource, ProcessDefinition, Role
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


# -- what people may start, and the forms diagrams declare ---------------------------------------------------

@dataclass(frozen=True)
class Startable:
    """The latest version of a process people start from the 发起 page."""

    process_id: str
    name: str
    category: str
    version: int
    start_roles: frozenset[Role]


_declarations: dict[str, StartDeclaration] = {}  # by content hash: stored content never changes
_scanned: set[str] = set()                        # sources whose declared forms this process has built
_scan_lock = threading.Lock()


def _declaration(definition: ProcessDefinition) -> StartDeclaration:
    sha = definition.source_sha256
    if sha not in _declarations:
        _declarations[sha] = start_declaration(parse_xml(definition.source.content, definition.filename),
                                               definition.filename)
    return _declarations[sha]


def startable(session: Session, roles: set[Role]) -> list[Startable]:
    """The latest version of every process whose ``startRoles`` include one of ``roles``, by category and name.

    A process without ``startRoles`` (an incoming document, a seal application) is started by the system or
    a page of its own and is never listed.
    """
    latest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.process_id).subquery())
    definitions = session.scalars(select(ProcessDefinition).join(latest, (
        latest.c.process_id == ProcessDefinition.process_id) & (latest.c.version == ProcessDefinition.version)))
    found = []
    for definition in definitions:
        declaration = _declaration(definition)
        if declaration.start_roles & roles:
            found.append(Startable(definition.process_id, definition.name, declaration.category, definition.version,
                                   declaration.start_roles))
    return sorted(found, key=lambda s: (s.category, s.name, s.process_id))


def check_may_start(session: Session, process_id: str, roles: set[Role]) -> Startable:
    """The process ``roles`` may start, or NotFound (not deployed, or not started by people) / Forbidden."""
    latest = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                            .order_by(ProcessDefinition.version.desc()).limit(1))
    declaration = _declaration(latest) if latest is not None else None
    if declaration is None or not declaration.start_roles:
        raise NotFound("没有这个可发起的流程")
    if not declaration.start_roles & roles:
        who = "、".join(sorted(ROLE_LABELS[r] for r in declaration.start_roles))
        raise Forbidden(f"您没有发起“{latest.name}”的权限（可发起：{who}）")
    return Startable(latest.process_id, latest.name, declaration.category, latest.version, declaration.start_roles)


def load_declared_forms(db: Database, key: str) -> None:
    """Build the forms declared in every deployed diagram this process has not read yet (``FORMS.loader``,
    called for the missing ``key``): a task row names a declared form that another process deployed, or
    this one before a restart."""
    query = select(BpmnSource.sha256, BpmnSource.content)
    with _scan_lock, db.session() as session:
        for sha, content in session.execute(query.where(BpmnSource.sha256.not_in(_scanned)) if _scanned else query):
            declare_forms(parse_xml(content, sha[:12]), sha[:12])
            _scanned.add(sha)
