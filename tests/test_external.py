"""Documents from outside Gongwen and on paper: registered by a clerk, made searchable, handled and archived."""

import io
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.errors import Refused
from engine.inbox import ready_tasks
from engine.models import AuditEvent, InstanceStatus, ProcessInstance
from handlers.archive.models import ArchiveItem
from handlers.archive.packages import export_package
from handlers.documents.models import Urgency
from handlers.incoming.external import (
    Received,
    can_read_external,
    external_for_instance,
    extract_pending,
    register_external,
)
from handlers.incoming.models import ExternalDocument, IncomingRecord, TextSource
from handlers.incoming.register import incoming_register
from tests.support import csrf_token, logged_in
from web.demo_documents import act

pytestmark = pytest.mark.usefixtures("deployed")
FONT = Path(__file__).resolve().parent.parent / "var" / "fonts" / "FandolHei-Regular.ttf"
FIELDS = {"title": "关于做好汛期安全工作的通知", "sender_organ": "水利部办公厅", "sender_number": "办防〔2026〕12号",
          "written_on": "2026-11-20", "urgency": "urgent", "classification": "非密"}
BODY = ["各省、自治区、直辖市水利厅：", "请认真落实防汛责任制，加强水库巡查。", "遇有险情及时报告。"]


def scan_pdf(lines: list[str]) -> bytes:
    """An A4 page at 200 dpi with ``lines`` drawn as pixels, saved as an image-only PDF (no text layer)."""
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((150, 200 + i * 90), line, font=ImageFont.truetype(str(FONT), 48), fill=0)
    out = io.BytesIO()
    page.save(out, "PDF", resolution=200.0)
    return out.getvalue()


def small_png() -> bytes:
    """A small scan with one word on it (the editable file's tests do not need the OCR's words)."""
    image = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(image).text((20, 30), "通知", font=ImageFont.truetype(str(FONT), 48), fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(200, 200))
    return out.getvalue()


def register(gongwen, person, *, scan: bytes | None, editable: Received | None = None, unit_id=None,
             max_bytes=10 * 1024 * 1024, **changes) -> ExternalDocument:
    with gongwen.db.write() as session:
        return register_external(gongwen.runtime, session, gongwen.files, person_id=person.id,
                                 unit_id=unit_id or person.unit_id, values={**FIELDS, **changes},
                                 scan=Received(scan, "scan.pdf") if scan is not None else None,
                                 editable=editable, paper=True, max_bytes=max_bytes)


def stored(gongwen, external_id: int) -> ExternalDocument:
    with gongwen.db.session() as session:
        return session.get(ExternalDocument, external_id)


def pdf_text(pdf: bytes) -> str:
    """The first page's text layer, without the spaces a PDF's text layer puts between words."""
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace(" ", "")


def found_by(gongwen, person, words: str) -> list[str]:
    with gongwen.db.session() as session:
        return [t.name for t in ready_tasks(session, person.id, text=words)]


def test_a_paper_scan_is_registered_ocrd_found_by_its_words_routed_and_archived(gongwen, sealed, tmp_path):
    org = sealed
    clerk = org.person("lyg.clerk")
    external = register(gongwen, clerk, scan=scan_pdf(BODY))
    assert PdfReader(io.BytesIO(gongwen.files.get(external.scan_sha256))).pages[0].extract_text() == ""
    # Registered at once: the 收文号 is given and the clerk routes it, before any OCR.
    with gongwen.db.session() as session:
        record = session.scalar(select(IncomingRecord).where(IncomingRecord.external_document_id == external.id))
        assert record.incoming_number == "收文〔2026〕1号" and record.document_id is None
    assert found_by(gongwen, clerk, "分办") == [] and found_by(gongwen, clerk, "水库巡查") == []

    extract_pending(gongwen)  # the sweep's OCR, for real (OCRmyPDF, Tesseract chi_sim)
    done = stored(gongwen, external.id)
    assert done.text_source == TextSource.OCR and done.text_note is None
    assert "防汛责任制" in done.text and "水库巡查" in done.text
    assert "水库巡查" in pdf_text(gongwen.files.get(done.searchable_sha256))  # the scan is searchable in any reader
    assert found_by(gongwen, clerk, "水库巡查") == ["分办"]          # by a word of the scan, not of the title
    assert found_by(gongwen, clerk, "水利部办公厅") == ["分办"]       # by the sender organ

    act(gongwen, clerk, "分办", {"lead_department": org.departments["general"].id, "deadline_days": 3})
    act(gongwen, org.person("lyg.head3"), "拟办", {"proposal": "建议综合处抓紧落实"})
    handler = org.person("lyg.handler")
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    act(gongwen, handler, "办理", {"result": "已部署汛期安全检查"})
    act(gongwen, org.person("lyg.archivist"), "归档", {"retention": "D30"})
    with gongwen.db.session() as session:
        instance = session.get(ProcessInstance, done.instance_id)
        record = session.scalar(select(IncomingRecord).where(IncomingRecord.external_document_id == external.id))
        item = session.scalar(select(ArchiveItem).where(ArchiveItem.instance_id == done.instance_id))
    assert instance.status == InstanceStatus.COMPLETED and record.archived_at is not None
    assert item.document_id is None and item.archive_code.endswith("-D30-ZHC-0001")
    # The archived copy is the searchable scan, unchanged, with the 归档章 as an archive timestamp added to it.
    archived = gongwen.files.get(item.copy_sha256)
    assert archived.startswith(gongwen.files.get(done.searchable_sha256)) \
        and "Archive-1" in PdfReader(io.BytesIO(archived)).get_fields()
    with pytest.raises(Refused, match="是外来文"), gongwen.db.write() as session:  # in words, not a crash
        export_package(session, gongwen.files, session.get(ArchiveItem, item.id), tmp_path)


def _docx(lines: list[str]) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _wps(lines: list[str], tmp_path: Path) -> bytes:
    """A Word-binary file as WPS writes it: the .docx saved as .doc by LibreOffice, named .wps."""
    (tmp_path / "text.docx").write_bytes(_docx(lines))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "doc", "--outdir", str(tmp_path), str(tmp_path / "text.docx")], check=True, capture_output=True,
                   timeout=120)
    return (tmp_path / "text.doc").read_bytes()


def test_docx_and_wps_editable_files_give_the_text(gongwen, org, tmp_path):
    clerk = org.person("lyg.clerk")
    from_docx = register(gongwen, clerk, scan=small_png(),
                         editable=Received(_docx(["关于开展河道清淤的通知", "请于月底前完成清淤验收。"]), "通知.docx"))
    wps = _wps(["关于核查堤防隐患的函", "请逐段核查堤防隐患并建立台账。"], tmp_path)
    assert wps.startswith(b"\xd0\xcf\x11\xe0")
    from_wps = register(gongwen, clerk, scan=small_png(), editable=Received(wps, "函.wps"),
                        title="关于核查堤防的函")
    extract_pending(gongwen)
    docx_done, wps_done = stored(gongwen, from_docx.id), stored(gongwen, from_wps.id)
    assert (docx_done.text_source, docx_done.editable_kind) == (TextSource.DOCX, "docx")
    assert docx_done.text == "关于开展河道清淤的通知\n请于月底前完成清淤验收。"
    assert (wps_done.text_source, wps_done.editable_kind) == (TextSource.WPS, "wps")
    assert "请逐段核查堤防隐患并建立台账。" in wps_done.text
    assert docx_done.searchable_sha256 and wps_done.searchable_sha256  # the scans are made searchable as well
    assert found_by(gongwen, clerk, "清淤验收") == ["分办"] and found_by(gongwen, clerk, "建立台账") == ["分办"]


def test_an_ocr_that_fails_leaves_the_document_registered_with_a_note(gongwen, org):
    clerk = org.person("lyg.clerk")
    external = register(gongwen, clerk, scan=b"%PDF-1.4\n% a PDF in name only\n")
    extract_pending(gongwen)
    done = stored(gongwen, external.id)
    assert done.text is None and done.text_note.startswith("文字识别（OCR）失败")
    assert found_by(gongwen, clerk, "分办") == [] and [t.name for t in ready_for_clerk(gongwen, clerk)] == ["分办"]


def test_documents_whose_text_keeps_failing_do_not_hold_up_the_others_and_end_with_a_note(gongwen, org):
    clerk = org.person("lyg.clerk")
    lost = [register(gongwen, clerk, scan=scan_pdf([f"第{n}件"]), title=f"丢失的扫描件{n}") for n in range(3)]
    for external in lost:  # the disk lost their scans: reading them fails, not the OCR
        gongwen.files.path(external.scan_sha256).unlink()
    good = register(gongwen, clerk, scan=small_png(), title="后来登记的来文")

    extract_pending(gongwen)  # the three lost ones fail
    assert stored(gongwen, good.id).text_done_at is None
    extract_pending(gongwen)  # tried fewer times, the later one goes first
    assert stored(gongwen, good.id).text_done_at is not None and stored(gongwen, good.id).text_note is None
    assert [stored(gongwen, e.id).text_done_at for e in lost] == [None] * 3
    extract_pending(gongwen)
    extract_pending(gongwen)  # three sweeps of three: each lost one has failed three times
    for external in lost:
        done = stored(gongwen, external.id)
        assert done.text_failures == 3 and done.text is None
        assert done.text_note.startswith("文字提取出错 3 次，已停止")


def ready_for_clerk(gongwen, clerk):
    with gongwen.db.session() as session:
        return ready_tasks(session, clerk.id)


def _count(gongwen, table) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.exe", b"MZ" * 100)
    return out.getvalue()


@pytest.mark.parametrize(("scan", "editable", "changes", "refusal"), [
    (_zip(), None, {}, "扫描件只能是 PDF、PNG、JPEG、TIFF 文件"),
    (b"", None, {}, "扫描件是空文件"),
    (None, None, {}, "请上传来文的扫描件"),
    (b"%PDF-1.4\n" + b"0" * 5000, None, {}, "扫描件太大"),
    (b"%PDF-1.4\n", Received(_zip(), "x.docx"), {}, "可编辑文档只能是 DOCX、DOC、WPS、TXT 文件"),
    (b"%PDF-1.4\n", Received(b"", "x.doc"), {}, "可编辑文档是空文件"),
    (b"%PDF-1.4\n", None, {"classification": "秘密"}, "涉密"),
    (b"%PDF-1.4\n", None, {"classification": "机密"}, "涉密"),
    (b"%PDF-1.4\n", None, {"title": ""}, "请填写标题"),
    (b"%PDF-1.4\n", None, {"sender_organ": "水" * 101}, "来文机关不能超过 100 个字"),
    (b"%PDF-1.4\n", None, {"written_on": "2026-13-01"}, "成文日期应为"),
    (b"%PDF-1.4\n", None, {"written_on": "2099-01-01"}, "成文日期不能晚于今天"),
    (b"%PDF-1.4\n", None, {"urgency": "immediately"}, "紧急程度只能是"),
    (b"%PDF-1.4\n", None, {"title": "标题\x07"}, "控制字符"),
])
def test_hostile_files_and_fields_are_refused_and_nothing_is_saved(gongwen, org, scan, editable, changes, refusal):
    with pytest.raises(Refused, match=refusal):
        register(gongwen, org.person("lyg.clerk"), scan=scan, editable=editable, max_bytes=4096, **changes)
    assert _count(gongwen, ExternalDocument) == 0 and _count(gongwen, ProcessInstance) == 0


def test_only_a_clerk_of_the_unit_registers_and_only_its_people_see_it(gongwen, org):
    for login, unit in (("lyg.drafter", None), ("sysadmin", None), ("dh.clerk", org.unit("city_office").id)):
        with pytest.raises(Refused, match="只有本单位的收发员"):
            register(gongwen, org.person(login), scan=b"%PDF-1.4\n", unit_id=unit or org.unit("city_office").id)
    external = register(gongwen, org.person("lyg.clerk"), editable=Received("河道清淤".encode(), "a.txt"),
                        scan=b"%PDF-1.4\n")
    extract_pending(gongwen)
    assert found_by(gongwen, org.person("lyg.clerk"), "河道清淤") == ["分办"]
    assert found_by(gongwen, org.person("dh.clerk"), "河道清淤") == []
    with gongwen.db.session() as session:
        row = external_for_instance(session, external.instance_id)
        assert can_read_external(session, row, org.person("lyg.head3").id)
        for login in ("dh.clerk", "sysadmin", "secadmin", "auditor"):
            assert not can_read_external(session, row, org.person(login).id), login
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("external.%"))).all()
    assert [e.action for e in events] == ["external.register", "external.text"]
    assert all("河道" not in str(e.detail) and "汛期" not in str(e.detail) for e in events)  # no words for the auditor


def _post(client, path, data, **headers):
    return client.post(path, data=data, content_type="multipart/form-data", headers=headers)


def test_the_registration_page_is_the_clerks_and_refuses_in_words(gongwen, org, app):
    for login in ("lyg.drafter", "sysadmin", "auditor"):
        assert logged_in(app, login).get("/external/new").status_code == 404
    clerk = logged_in(app, "lyg.clerk")
    page = clerk.get("/external/new").get_data(as_text=True)
    assert "外来文登记" in page and 'name="scan"' in page and "秘密" not in page
    token = csrf_token(clerk, "/external/new")
    refused = _post(clerk, "/external/new", {**FIELDS, "classification": "绝密", "csrf_token": token,
                                             "scan": (io.BytesIO(b"%PDF-1.4\n"), "scan.pdf")})
    assert refused.status_code == 422 and "未登记" in refused.get_data(as_text=True) \
        and "机要" in refused.get_data(as_text=True)
    zipped = _post(clerk, "/external/new", {**FIELDS, "csrf_token": token, "scan": (io.BytesIO(_zip()), "scan.pdf")})
    assert zipped.status_code == 422 and "扫描件只能是" in zipped.get_data(as_text=True)
    assert _count(gongwen, ExternalDocument) == 0
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "external.register_refused")) == 2

    done = _post(clerk, "/external/new", {**FIELDS, "csrf_token": token, "paper": "1",
                                          "scan": (io.BytesIO(b"%PDF-1.4\n"), "scan.pdf"),
                                          "editable": (io.BytesIO("请加强水库巡查。".encode()), "正文.txt")})
    assert done.status_code == 302
    extract_pending(gongwen)
    with gongwen.db.session() as session:
        external = session.scalar(select(ExternalDocument))
        task = ready_tasks(session, org.person("lyg.clerk").id)[0]
    assert external.paper and external.text == "请加强水库巡查。" and external.text_source == TextSource.TXT
    shown = clerk.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "水利部办公厅" in shown and "办防〔2026〕12号" in shown and "请加强水库巡查。" in shown
    assert clerk.get(f"/external/{external.id}/editable").data == "请加强水库巡查。".encode()
    for login in ("dh.clerk", "sysadmin", "secadmin", "auditor"):
        other = logged_in(app, login)
        assert other.get(f"/external/{external.id}/editable").status_code == 404, login
        assert other.get(f"/external/{external.id}/pdf").status_code == 404, login


def test_the_api_registers_with_a_token_as_multipart(gongwen, org, app):
    client = app.test_client()

    def bearer(login):
        answer = client.post("/api/v1/auth/token", json={"login": login, "password": "gongwen-demo"})
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}

    def files(**extra):
        return {**FIELDS, "scan": (io.BytesIO(small_png()), "scan.png"), **extra}

    assert _post(client, "/api/v1/incoming", files()).status_code == 401
    drafter = _post(client, "/api/v1/incoming", files(), **bearer("lyg.drafter"))
    assert drafter.status_code == 422 and drafter.get_json()["message"] == "只有本单位的收发员可以登记外来文"
    secret = _post(client, "/api/v1/incoming", files(classification="秘密"), **bearer("lyg.clerk"))
    assert secret.status_code == 422 and "机要" in secret.get_json()["message"]
    assert _count(gongwen, ExternalDocument) == 0

    editable = (io.BytesIO(_docx(["请于月底前完成清淤验收。"])), "正文.docx")
    answer = _post(client, "/api/v1/incoming", files(editable=editable), **bearer("lyg.clerk"))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["incoming_number"] == "收文〔2026〕1号"
    extract_pending(gongwen)
    assert found_by(gongwen, org.person("lyg.clerk"), "清淤验收") == ["分办"]


def test_the_incoming_register_lists_it_with_its_sender_organ(gongwen, org, app):
    register(gongwen, org.person("lyg.clerk"), scan=b"%PDF-1.4\n")
    with gongwen.db.session() as session:
        [entry] = incoming_register(session, org.unit("city_office").id, 2026, words="水利部")
    assert (entry.incoming_number, entry.sender, entry.doc_number, entry.title, entry.urgency, entry.document_id) \
        == ("收文〔2026〕1号", "水利部办公厅", "办防〔2026〕12号", FIELDS["title"], Urgency.URGENT, None)
    page = logged_in(app, "lyg.clerk").get("/registers/incoming").get_data(as_text=True)
    assert "水利部办公厅" in page and "办防〔2026〕12号" in page and FIELDS["title"] in page
