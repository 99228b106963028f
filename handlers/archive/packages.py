"""Archive packages (DA/T 46 metadata, GB/T 33480 elements) and the four-properties check (四性检测).

A package is a folder: the sealed original, the archived copy (its seals plus the archive
timestamp), an own outgoing document's 发文稿纸 (``sign_off_sheet.pdf``), the attachments, the
metadata (JSON and XML), the process history, the verification report and a manifest of SHA-256
hashes. The hash of every manifest Gongwen wrote is kept apart from the package it vouches for:
the latest on the archive item, every one in the audit trail, so exporting an item again does not
disown an earlier package.

The check verifies every signature in every PDF of the package (the seals as of their
timestamps, the archive timestamp), and that the metadata agrees with the document it
describes: title, number and page count are read from the sealed PDF itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Refused
from engine.files import FileStore
from engine.models import AuditEvent, Person, ProcessInstance, Task, TaskState, Unit, UnitKind
from engine.text import path_part

from ..documents.layout import layout
from ..documents.models import Document
from ..seals.models import Seal
from ..seals.verification import verify_document
from .archiving import CODE
from .models import ArchiveItem

READABLE = {".pdf", ".ofd", ".docx", ".wps", ".txt", ".png", ".jpg", ".gif", ".tif", ".bmp", ".json", ".xml"}
# The PDFs that must carry seals; attachments are verified when they carry signatures of their own.
SEALED_FILES = ("document.pdf", "archived_copy.pdf")
_LEVELS = {UnitKind.PROVINCE: "省级", UnitKind.CITY: "市级", UnitKind.COUNTY: "县级"}


def _history(session: Session, instance_ids: list[int]) -> list[dict]:
    rows = session.execute(
        select(Task.instance_id, Task.name, Task.completed_at, Task.form_data, Person.name, Unit.name)
        .join(Person, Person.id == Task.completed_by_id).outerjoin(Unit, Unit.id == Task.candidate_unit_id)
        .where(Task.instance_id.in_(instance_ids), Task.state == TaskState.COMPLETED).order_by(Task.completed_at)
    ).all()
    said = ("opinion", "instruction", "proposal", "result", "note")
    return [{"step": name, "by": person, "unit": unit, "at": clock.local(at).isoformat(),
             "opinion": next((data[k] for k in said if (data or {}).get(k)), None),
             "decision": (data or {}).get("decision") or (data or {}).get("next")}
            for _, name, at, data, person, unit in rows]


def _agents(history: list[dict]) -> list[dict]:
    """机构人员实体: each person who acted on the document, with their unit and what they did, once."""
    seen: dict[tuple, dict] = {}
    for step in history:
        agent = seen.setdefault((step["by"], step["unit"]), {"机构人员名称": step["by"], "所在机构": step["unit"],
                                                            "业务行为": []})
        if step["step"] not in agent["业务行为"]:
            agent["业务行为"].append(step["step"])
    return [{**a, "业务行为": "、".join(a["业务行为"])} for a in seen.values()]


def _government_kind(unit: Unit | None) -> UnitKind | None:
    """The level of government a unit belongs to: its own kind or its nearest government's."""
    while unit is not None and unit.kind not in _LEVELS:
        unit = unit.parent
    return unit.kind if unit else None


def _release_level(session: Session, document: Document) -> str:
    """发布层次: the lowest level of government the document is addressed down to."""
    kinds = {_government_kind(session.get(Unit, unit_id)) for unit_id in [*document.main_to, *document.cc]}
    for kind in (UnitKind.COUNTY, UnitKind.CITY, UnitKind.PROVINCE):
        if kind in kinds:
            return f"发至{_LEVELS[kind]}"
    return "发至本级"


def _metadata(session: Session, item: ArchiveItem, document: Document, sealed: bytes, report,
              history: list[dict]) -> dict:
    """DA/T 46 core elements of the item (文件实体, 机构人员实体, 业务实体) with GB/T 33480's 公文 elements."""
    issuers = [session.get(Unit, i.unit_id).name for i in document.issuers]
    signed_off = [session.get(Person, i.signed_off_by_id).name for i in document.issuers if i.signed_off_by_id]
    seals = {s.serial: s for s in session.scalars(select(Seal).where(
        Seal.id.in_([i.seal_id for i in document.issuers if i.seal_id])))}
    version = re.match(rb"%PDF-(\d\.\d)", sealed)
    return {
        "聚合层次": "件", "来源": {"立档单位名称": session.get(Unit, item.unit_id).name, "全宗号": item.fonds_code},
        "档号": item.archive_code, "档案门类代码": "WS", "年度": item.year, "保管期限": item.retention.label,
        "机构或问题": item.org_code, "件号": f"{item.item_number:04d}",
        "公文标识": f"GW-{document.issuing_unit_id:05d}-{document.id:08d}-V{document.version}",
        "份号": document.copy_number, "密级": document.classification, "紧急程度": document.urgency.label,
        "发文机关标志": "、".join(layout(session, document).issuer_marks),
        "文件编号": document.doc_number, "签发人": "、".join(signed_off) or None,
        "题名": document.title, "责任者": "；".join(issuers), "文种": document.doc_type.label,
        "主送": document.main_to_text, "抄送": document.cc_text,
        "日期": document.signing_date.strftime("%Y%m%d") if document.signing_date else None,
        "附注": document.note, "印发机关": document.printed_by or None,
        "印发日期": document.printed_on.strftime("%Y%m%d") if document.printed_on else None,
        "发布层次": _release_level(session, document),
        "页数": item.pages, "件数": 1 + len(document.attachments), "语种": "汉语",
        "电子属性": {"格式信息": "PDF", "格式版本": version.group(1).decode() if version else None,
                 "计算机文件名": "document.pdf", "计算机文件大小": len(sealed),
                 "签名格式": document.sealed_format, "签名算法": document.seal_algorithm},
        "电子签名": [{"签名规则": document.sealed_format or "PAdES", "签名算法": document.seal_algorithm,
                   "签名人": s["unit"], "印章编号": s["seal_id"], "签名时间": s["timestamp"] or s["signed_at"],
                   "时间来源": "可信时间戳" if s["timestamp"] else "签名者时钟", "证书序列号": s["serial"],
                   "证书": seals[s["serial"]].certificate_pem if s["serial"] in seals else None,
                   "签名结果": "有效" if report.ok else "无效"} for s in report.signers],
        "机构人员": _agents(history),
        "归档时间": clock.local(item.archived_at).isoformat(),
    }


def _xml(metadata: dict) -> bytes:
    root = ElementTree.Element("文书类电子文件元数据")

    def add(parent, key, value):
        if isinstance(value, dict):
            node = ElementTree.SubElement(parent, key)
            for k, v in value.items():
                add(node, k, v)
        elif isinstance(value, list):
            for entry in value:
                add(parent, key, entry)
        else:
            ElementTree.SubElement(parent, key).text = "" if value is None else str(value)

    for key, value in metadata.items():
        add(root, key, value)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _dump(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def export_package(session: Session, files: FileStore, item: ArchiveItem, dest: Path) -> Path:
    """Write ``item``'s package under ``dest``; record the manifest's hash; return the package folder.

    Refused for a document from outside (no sealed document, no verification report to package yet).
    """
    if item.destroyed_at is not None:
        raise Refused(f"{item.archive_code} 已于 {clock.local(item.destroyed_at):%Y-%m-%d} 鉴定销毁，不能导出归档包")
    if item.document_id is None:
        raise Refused(f"{item.archive_code} 是外来文（纸质或扫描件），暂不能导出归档包；其归档件已加盖归档章保存")
    document = session.get(Document, item.document_id)
    sealed = files.get(document.sealed_sha256)
    report = verify_document(session, sealed, document.id)
    incoming = session.get(ProcessInstance, item.instance_id)
    folder = dest / item.archive_code.replace("·", "_")
    history = _history(session, [i for i in (document.instance_id, incoming.id) if i])
    contents: dict[str, bytes] = {
        "document.pdf": sealed,
        "archived_copy.pdf": files.get(item.copy_sha256),
        # An own outgoing document's 发文稿纸: who drafted, reviewed and signed it off, with opinions and times.
        **({"sign_off_sheet.pdf": files.get(item.record_sha256)} if item.record_sha256 else {}),
        "history.json": _dump(history),
        "verification.json": _dump({"ok": report.ok, "reason": report.reason, "signers": report.signers,
                                    "checks": [c.__dict__ for c in report.checks]}),
    }
    for attachment in document.attachments:
        suffix = Path(attachment.filename).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"
        # Each separate file carries the mark GB/T 9704 gives a separately sent attachment: 发文字号 and 附件N
        # (附件 alone when there is one, as the attachment pages print it).
        number = attachment.position if len(document.attachments) > 1 else ""
        mark = f"{path_part(document.doc_number or '')}附件{number}"
        contents[f"attachments/{mark}-{path_part(attachment.name)}{suffix}"] = \
            files.get(attachment.sha256)
    metadata = _metadata(session, item, document, sealed, report, history)
    metadata["附件"] = [name for name in contents if name.startswith("attachments/")]
    contents["metadata.json"] = _dump(metadata)
    contents["metadata.xml"] = _xml(metadata)
    for name, content in contents.items():
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()):  # built from safe parts; checked all the same
            raise Refused(f"归档包中的文件名不安全：{name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    manifest = {"archive_code": item.archive_code, "created_at": clock.now().isoformat(),
                "files": {name: hashlib.sha256(content).hexdigest() for name, content in sorted(contents.items())}}
    manifest_bytes = _dump(manifest)
    (folder / "manifest.json").write_bytes(manifest_bytes)
    item.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    audit.record(session, "archive.export", unit_id=item.unit_id, code=item.archive_code,
                 manifest=item.manifest_sha256)
    return folder


def _manifests_written(session: Session, item: ArchiveItem) -> set[str]:
    """The hash of every manifest ever exported for ``item`` (the audit trail keeps each)."""
    details = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "archive.export",
                                                              AuditEvent.unit_id == item.unit_id))
    return {d.get("manifest") for d in details if d.get("code") == item.archive_code} | {item.manifest_sha256}


# -- the four-properties check (四性检测) ------------------------------------------------------------------

@dataclass
class PropertyCheck:
    name: str
    problems: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_package(session: Session, folder: Path) -> list[PropertyCheck]:
    """真实性, 完整性, 可用性 and 安全性 of the package in ``folder``."""
    authenticity, completeness = PropertyCheck("真实性"), PropertyCheck("完整性")
    usability, security = PropertyCheck("可用性"), PropertyCheck("安全性")
    checks = [authenticity, completeness, usability, security]
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        completeness.problems.append("缺少清单 manifest.json")
        return checks
    manifest_bytes = manifest_path.read_bytes()
    manifest = json.loads(manifest_bytes)
    listed = manifest.get("files", {})
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    for name in sorted(set(listed) - present):
        completeness.problems.append(f"清单中的文件缺失：{name}")
    for name in sorted(present - set(listed)):
        completeness.problems.append(f"有清单之外的文件：{name}")
    for name in sorted(set(listed) & present):
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != listed[name]:
            authenticity.problems.append(f"{name} 的内容与清单中的哈希不符")
    if not authenticity.problems:
        authenticity.passed.append(f"{len(listed)} 个文件的 SHA-256 与清单一致")

    item = session.scalar(select(ArchiveItem).where(ArchiveItem.archive_code == manifest.get("archive_code")))
    if item is None:
        completeness.problems.append(f"档号 {manifest.get('archive_code')} 不在本系统的档案目录中")
    else:
        if hashlib.sha256(manifest_bytes).hexdigest() not in _manifests_written(session, item):
            security.problems.append("清单本身被改动：其哈希与另行保存在系统中的不符")
        else:
            security.passed.append("清单哈希与系统另存的一致")
        _check_numbering(session, item, completeness)
    _check_signatures(session, folder, sorted(present), authenticity)
    metadata = _json(folder / "metadata.json")
    if metadata and (folder / "document.pdf").is_file():
        _check_metadata(metadata, (folder / "document.pdf").read_bytes(), authenticity)
    for name in metadata.get("附件", []):
        if name not in listed:
            completeness.problems.append(f"元数据中的附件不在包中：{name}")
    if not metadata:
        completeness.problems.append("缺少元数据 metadata.json")
    for name in sorted(present):
        _check_file(folder / name, name, usability, security)
    return checks


def _check_numbering(session: Session, item: ArchiveItem, completeness: PropertyCheck) -> None:
    numbers = sorted(session.scalars(select(ArchiveItem.item_number).where(
        ArchiveItem.fonds_code == item.fonds_code, ArchiveItem.year == item.year,
        ArchiveItem.retention == item.retention, ArchiveItem.org_code == item.org_code)))
    if numbers != list(range(1, len(numbers) + 1)):
        completeness.problems.append(f"档号不连续：{item.fonds_code}-WS·{item.year}-{item.retention.value}-"
                                     f"{item.org_code} 下的件号为 {numbers}")
    elif CODE.match(item.archive_code) is None:
        completeness.problems.append(f"档号格式不正确：{item.archive_code}")
    else:
        completeness.passed.append(f"档号 {item.archive_code} 格式正确，件号连续（共 {len(numbers)} 件）")


def _check_file(path: Path, name: str, usability: PropertyCheck, security: PropertyCheck) -> None:
    if path.suffix.lower() not in READABLE:
        usability.problems.append(f"{name} 不是可长期读取的格式")
    if path.suffix.lower() != ".pdf":
        return
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            security.problems.append(f"{name} 被加密")
            return
        unembedded = _unembedded_fonts(reader)
    except Exception as err:  # a file that does not open is exactly what this check reports
        usability.problems.append(f"{name} 无法打开：{err}")
        return
    if unembedded:
        usability.problems.append(f"{name} 有未嵌入的字体：{'、'.join(sorted(unembedded))}")
    else:
        usability.passed.append(f"{name} 可以打开，字体全部嵌入")
    if "/JavaScript" in str(reader.trailer["/Root"].get("/Names", {})) or "/OpenAction" in reader.trailer["/Root"]:
        security.problems.append(f"{name} 含有自动执行的脚本")


def _unembedded_fonts(reader: PdfReader) -> set[str]:
    missing: set[str] = set()
    seen: set[int] = set()

    def visit(resources) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and not any(
                        k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(descendant.get_object().get("/BaseFont")))
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if id(xobject) not in seen:
                seen.add(id(xobject))
                visit(xobject.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
        for annotation in page.get("/Annots") or []:
            appearance = annotation.get_object().get("/AP")
            if appearance is not None and "/N" in appearance:
                visit(appearance["/N"].get_object().get("/Resources"))
    return missing


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_signatures(session: Session, folder: Path, names: list[str], authenticity: PropertyCheck) -> None:
    """Every signature in every PDF: the sealed files must carry seals; other PDFs are checked if signed."""
    for name in names:
        if not name.endswith(".pdf"):
            continue
        pdf = (folder / name).read_bytes()
        report = verify_document(session, pdf)
        unsigned = [c.key for c in report.checks] == ["signed"]
        if unsigned and name not in SEALED_FILES:
            continue
        if report.ok:
            archive = next((c.detail for c in report.checks if c.key == "archive"), None)
            authenticity.passed.append(f"{name}：电子印章验证通过" + (f"；{archive}" if archive else ""))
        else:
            authenticity.problems.append(f"{name}：电子印章验证未通过：{report.reason}")
    for name in SEALED_FILES:
        if name not in names:
            authenticity.problems.append(f"缺少 {name}")


def _check_metadata(metadata: dict, sealed: bytes, authenticity: PropertyCheck) -> None:
    """The metadata describes this PDF: its title, number and page count are the PDF's own."""
    try:
        reader = PdfReader(io.BytesIO(sealed))
        info, pages = reader.metadata or {}, len(reader.pages)
    except Exception as err:  # an unreadable PDF is a finding of this check, not a crash
        authenticity.problems.append(f"document.pdf 无法读取，元数据无法核对（{type(err).__name__}）")
        return
    found = {"题名": info.get("/Title"), "文件编号": info.get("/Subject"), "页数": pages}
    wrong = [f"{key}（元数据为「{metadata.get(key)}」，文件中为「{value}」）"
             for key, value in found.items() if str(metadata.get(key) or "") != str(value or "")]
    if wrong:
        authenticity.problems.append(f"元数据与文件不符：{'；'.join(wrong)}")
    else:
        authenticity.passed.append("元数据中的题名、文件编号、页数与文件一致")
