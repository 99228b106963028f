"""Archiving (归档) under DA/T 22 and DA/T 46, archive packages, and the four-properties check.

The item (件) is the unit of archiving. Its archive code is
``全宗号-WS·年度-保管期限-机构代码-件号`` (e.g. ``Z109-WS·2026-Y-BGS-0001``); item numbers are
allocated like document numbers, so there are no gaps. The archived copy is the sealed
PDF with the archive stamp (全宗号, 年度, 件号, 机构, 保管期限, 页数) printed in the top
margin of its first page; the sealed original itself is never touched.

A package is a folder: the sealed original, the archived copy, the attachments, the
DA/T 46 metadata (JSON and XML), the process history, the verification report and a
manifest of SHA-256 hashes. The manifest's own hash is kept in the database, apart
from the package it vouches for.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Refused
from engine.files import FileStore
from engine.models import Department, Person, ProcessInstance, Task, TaskState, Unit
from engine.registry import HandlerContext, handler
from engine.text import path_part

from ..documents.models import Document
from ..documents.numbering import allocate
from ..documents.typesetting.fonts import load_fonts
from ..incoming.models import IncomingRecord
from ..seals.verification import verify_document
from .models import ArchiveItem, Retention

CODE = re.compile(r"^(?P<fonds>[A-Za-z0-9]+)-WS·(?P<year>\d{4})-(?P<retention>Y|D30|D10)-(?P<org>[A-Za-z0-9]+)-"
                  r"(?P<number>\d{4})$")
READABLE = {".pdf", ".ofd", ".docx", ".wps", ".txt", ".png", ".jpg", ".gif", ".tif", ".bmp", ".json", ".xml"}


def fonds_of(unit: Unit) -> str:
    return unit.fonds_code or f"Z{unit.id:03d}"


def _stamp(fields: list[tuple[str, str]]) -> bytes:
    """The 归档章: a 2 × 3 grid in red, centred in the top margin of an A4 page."""
    font = load_fonts().song
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, initialFontName=font, invariant=1)
    cell_w, cell_h = 16 * mm, 6 * mm
    x0, y0 = (A4[0] - 3 * cell_w) / 2, A4[1] - 14 * mm
    c.setStrokeColorRGB(0.85, 0, 0)
    c.setFillColorRGB(0.85, 0, 0)
    c.setLineWidth(0.6)
    for i, (label, value) in enumerate(fields):
        col, row = i % 3, i // 3
        x, y = x0 + col * cell_w, y0 - row * cell_h
        c.rect(x, y, cell_w, cell_h)
        c.setFont(font, 5)
        c.drawString(x + 1 * mm, y + cell_h - 2.2 * mm, label)
        c.setFont(font, 7)
        c.drawCentredString(x + cell_w / 2, y + 1.2 * mm, value)
    c.save()
    return buffer.getvalue()


def stamp_fields(item: ArchiveItem, org_name: str) -> list[tuple[str, str]]:
    return [("全宗号", item.fonds_code), ("年度", str(item.year)), ("件号", f"{item.item_number:04d}"),
            ("机构", org_name), ("保管期限", item.retention.label), ("页数", str(item.pages))]


def archived_copy(sealed_pdf: bytes, fields: list[tuple[str, str]]) -> bytes:
    """A copy of the sealed PDF with the archive stamp over the first page's top margin."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sealed_pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(_stamp(fields))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@handler("archive_document")
def archive_document(ctx: HandlerContext, document_id: int, archiving: dict) -> dict:
    """The archivist chose the retention: give the item its code and make the stamped archived copy."""
    document = ctx.session.get(Document, document_id)
    unit = ctx.session.get(Unit, ctx.owning_unit_id)
    record = ctx.session.scalar(select(IncomingRecord).where(IncomingRecord.instance_id == ctx.instance_id))
    department = ctx.session.get(Department, record.lead_department_id) if record and record.lead_department_id \
        else None
    retention = Retention(archiving["retention"])
    org = (department.code if department and department.code else "BGS")
    year = (document.signing_date or clock.local_today()).year
    fonds = fonds_of(unit)
    number = allocate(ctx.session, f"档:{fonds}:{retention.value}:{org}", year)
    sealed = ctx.files.get(document.sealed_sha256)
    item = ArchiveItem(unit_id=unit.id, document_id=document.id, instance_id=ctx.instance_id, fonds_code=fonds,
                       year=year, retention=retention, org_code=org, item_number=number,
                       archive_code=f"{fonds}-WS·{year}-{retention.value}-{org}-{number:04d}",
                       pages=len(PdfReader(io.BytesIO(sealed)).pages), copy_sha256="",
                       archived_at=ctx.now(), archived_by_id=archiving["completed_by"])
    copy = archived_copy(sealed, stamp_fields(item, department.name if department else unit.name))
    item.copy_sha256 = ctx.files.put(ctx.session, copy, "application/pdf")
    ctx.session.add(item)
    ctx.audit("archive.item", actor_id=archiving["completed_by"], document_id=document.id, code=item.archive_code)
    return {"archive_code": item.archive_code}


# -- packages -----------------------------------------------------------------------------------------------

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


def _metadata(session: Session, item: ArchiveItem, document: Document, report) -> dict:
    """DA/T 46 core elements of the item (文件实体, 机构人员实体, 业务实体 in brief)."""
    issuers = [session.get(Unit, i.unit_id).name for i in document.issuers]
    return {
        "聚合层次": "件", "来源": {"立档单位名称": session.get(Unit, item.unit_id).name, "全宗号": item.fonds_code},
        "档号": item.archive_code, "档案门类代码": "WS", "年度": item.year, "保管期限": item.retention.label,
        "机构或问题": item.org_code, "件号": f"{item.item_number:04d}",
        "题名": document.title, "文件编号": document.doc_number, "责任者": "；".join(issuers),
        "日期": document.signing_date.strftime("%Y%m%d") if document.signing_date else None,
        "文种": document.doc_type.label, "紧急程度": document.urgency.label,
        "主送": document.main_to_text, "抄送": document.cc_text, "密级": document.classification,
        "页数": item.pages, "件数": 1 + len(document.attachments), "语种": "汉语",
        "电子属性": {"格式信息": "PDF", "计算机文件名": "document.pdf"},
        "电子签名": [{"签名规则": "PAdES (ETSI.CAdES.detached)", "签名人": s["unit"], "签名时间": s["signed_at"],
                   "证书引证": s["serial"], "签名结果": "有效" if report.ok else "无效"} for s in report.signers],
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
    """Write ``item``'s package under ``dest``; record the manifest's hash; return the package folder."""
    document = session.get(Document, item.document_id)
    sealed = files.get(document.sealed_sha256)
    report = verify_document(session, sealed)
    incoming = session.get(ProcessInstance, item.instance_id)
    folder = dest / item.archive_code.replace("·", "_")
    contents: dict[str, bytes] = {
        "document.pdf": sealed,
        "archived_copy.pdf": files.get(item.copy_sha256),
        "history.json": _dump(_history(session, [i for i in (document.instance_id, incoming.id) if i])),
        "verification.json": _dump({"ok": report.ok, "reason": report.reason, "signers": report.signers,
                                    "checks": [c.__dict__ for c in report.checks]}),
    }
    for attachment in document.attachments:
        suffix = Path(attachment.filename).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"
        contents[f"attachments/{attachment.position:02d}-{path_part(attachment.name)}{suffix}"] = \
            files.get(attachment.sha256)
    metadata = _metadata(session, item, document, report)
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
        if item.manifest_sha256 != hashlib.sha256(manifest_bytes).hexdigest():
            security.problems.append("清单本身被改动：其哈希与另行保存在系统中的不符")
        else:
            security.passed.append("清单哈希与系统另存的一致")
        _check_numbering(session, item, completeness)
    if (folder / "document.pdf").is_file():
        report = verify_document(session, (folder / "document.pdf").read_bytes())
        (authenticity.passed if report.ok else authenticity.problems).append(
            "电子印章验证通过" if report.ok else f"电子印章验证未通过：{report.reason}")
    metadata = json.loads((folder / "metadata.json").read_bytes()) if (folder / "metadata.json").is_file() else {}
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
