"""Issue 14, archiving completeness: a unit's own outgoing documents archived with their 发文稿纸, the archive
step's deadline and reminders, archive search, and appraisal and destruction (鉴定/销毁) with its record."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine import clock
from engine.background import deliver_outbox
from engine.deploy import collect, deploy
from engine.errors import Refused
from engine.models import AuditEvent, ProcessInstance, StoredFile
from handlers.archive import appraisal
from handlers.archive.models import AppraisalState, ArchiveAppraisal, ArchiveItem, Retention
from handlers.archive.packages import check_package, export_package
from handlers.documents.models import Document
from handlers.notifications.models import Notification
from tests.outgoing_support import NOTICE, act, send, task_of
from tests.support import ROOT, csrf_token, logged_in, ready_for
from tests.test_opinions import _data_url, _png, _sign_off, _to_sign_off

pytestmark = pytest.mark.usefixtures("deployed")
SH = clock.SHANGHAI
NOTICE_TITLE = NOTICE["title"]
DIAGRAMS = ("outgoing.bpmn", "incoming.bpmn", "outgoing_archive.bpmn")


@pytest.fixture
def deployed(gongwen, org):
    """The three diagrams an outgoing document's journey and its archiving use, deployed as ``gongwen deploy``."""
    with gongwen.db.write() as session:
        return deploy(session, collect([ROOT / "workflows" / name for name in DIAGRAMS]))


def _archive(gongwen, org, retention: str = "D10", **changes) -> ArchiveItem:
    """A notice of the city office sent, then filed by the office's archivist at 发文归档."""
    sent = send(gongwen, org, **changes)
    act(gongwen, org.person("lyg.archivist"), "发文归档", {"retention": retention})
    with gongwen.db.session() as session:
        return session.scalar(select(ArchiveItem).where(ArchiveItem.document_id == sent.id))


def _pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_an_outgoing_document_is_archived_by_its_issuing_unit_with_its_sign_off_sheet(gongwen, sealed, tmp_path):
    org = sealed
    sent = send(gongwen, org)
    archivist = org.person("lyg.archivist")
    task = task_of(gongwen, archivist, "发文归档")
    with gongwen.db.session() as session:
        # The sender's tracking is not held up by the archivist: the archiving is a process of its own.
        archiving = session.get(ProcessInstance, task.instance_id)
        assert archiving.owning_unit_id == org.unit("city_office").id and archiving.id != sent.instance_id
        assert task.due_at is not None
    # Only archivists of the issuing unit are offered the step: not its drafter, not another unit's archivist.
    for login in ("lyg.drafter", "dh.handler"):
        assert "发文归档" not in [t.name for t in ready_for(gongwen, org.person(login))]

    act(gongwen, archivist, "发文归档", {"retention": "D30"})
    with gongwen.db.session() as session:
        item = session.scalar(select(ArchiveItem).where(ArchiveItem.document_id == sent.id))
        assert item.unit_id == org.unit("city_office").id and item.retention is Retention.YEARS_30
        # 机构 is the drafting department (秘书一处, MSYC); the year is the 成文日期's.
        assert item.archive_code.endswith("-WS·2026-D30-MSYC-0001")
        folder = export_package(session, gongwen.files, item, tmp_path)
    sheet = _pdf_text((folder / "sign_off_sheet.pdf").read_bytes())
    for words in ("发文稿纸", sent.title[:10], sent.doc_number, "签发", "校对"):
        assert words in sheet.replace("\n", ""), words
    for login in ("lyg.drafter", "lyg.head", "lyg.reviewer", "lyg.signer"):
        assert org.person(login).name in sheet
    with gongwen.db.session() as session:
        report = check_package(session, folder)
    assert [(c.name, c.ok) for c in report] == [("真实性", True), ("完整性", True), ("可用性", True), ("安全性", True)]


def test_the_archive_step_reminds_before_its_deadline_and_shows_overdue(gongwen, sealed, fixed_clock, app):
    org = sealed
    send(gongwen, org)
    archivist = org.person("lyg.archivist")
    task = task_of(gongwen, archivist, "发文归档")
    # Sent on Monday 23 November 2026 at 09:00: due ten working days later, reminded from the fifth.
    assert clock.local(task.due_at) == datetime(2026, 12, 7, 9, 0, tzinfo=SH)

    def reminders() -> list[Notification]:
        with gongwen.db.session() as session:
            return session.scalars(select(Notification).where(Notification.person_id == archivist.id,
                                                              Notification.kind == "remind_archive")).all()

    fixed_clock.set(datetime(2026, 11, 30, 8, 59, tzinfo=SH))
    gongwen.runtime.fire_due_timers()
    assert reminders() == []
    fixed_clock.set(datetime(2026, 11, 30, 9, 1, tzinfo=SH))
    gongwen.runtime.fire_due_timers()
    (reminder,) = reminders()
    assert "请及时归档" in reminder.text and reminder.reason.startswith("催归档")

    assert "超期" not in logged_in(app, "lyg.archivist").get("/").get_data(as_text=True)
    fixed_clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=SH))
    gongwen.runtime.fire_due_timers()
    assert len(reminders()) == 3  # at most three, a working day apart
    inbox = logged_in(app, "lyg.archivist").get("/").get_data(as_text=True)
    assert "发文归档" in inbox and "超期2个工作日" in inbox


def _post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_archivists_search_their_own_archive_by_code_words_year_and_retention(gongwen, sealed, app):
    org = sealed
    kept = _archive(gongwen, org, "Y")
    brief = _archive(gongwen, org, "D10", title="连云港市人民政府办公室关于开展档案清理工作的通知")
    client = logged_in(app, "lyg.archivist")

    def found(**query) -> str:
        response = client.get("/archive", query_string=query)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    for query in ({"code": kept.archive_code}, {"year": "2026", "retention": "Y"}, {"words": "冬季 安全生产"}):
        page = found(**query)
        assert kept.archive_code in page and brief.archive_code not in page, query
    page = found(words="档案清理", retention="D10")
    assert brief.archive_code in page and kept.archive_code not in page
    assert "没有符合条件的档案" in found(year="2025")
    # The result opens the item, with its archived copy and the 发文稿纸.
    item_page = client.get(f"/archive/items/{brief.id}").get_data(as_text=True)
    assert "开展档案清理工作" in item_page and "10年" in item_page
    copy = client.get(f"/archive/items/{brief.id}/copy.pdf")
    assert copy.status_code == 200 and copy.data.startswith(b"%PDF")
    assert "发文稿纸" in _pdf_text(client.get(f"/archive/items/{brief.id}/sheet.pdf").data)

    # Values the form never offers are refused in words, audited, and find nothing.
    for query in ({"year": "20x6"}, {"retention": "D99"}, {"year": "99999"}, {"code": "W" * 101}):
        response = client.get("/archive", query_string=query)
        assert response.status_code == 422 and "alert-danger" in response.get_data(as_text=True), query
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "archive.search_refused")) == 4

    # Another unit's archivist searches only their own archive and opens none of this one's items; a drafter of
    # the same unit, the administrators and anonymous people reach no archive at all.
    donghai = logged_in(app, "dh.handler")
    assert "没有符合条件的档案" in donghai.get("/archive", query_string={"code": kept.archive_code}).get_data(
        as_text=True)
    for login in ("dh.handler", "lyg.drafter", "sysadmin", "secadmin", "auditor"):
        other = logged_in(app, login)
        paths = [f"/archive/items/{brief.id}", f"/archive/items/{brief.id}/copy.pdf"]
        for path in paths if login == "dh.handler" else ["/archive", *paths]:
            assert other.get(path).status_code == 404, (login, path)
    assert app.test_client().get("/archive").status_code == 302  # to the login page


def test_an_expired_item_is_destroyed_with_its_record_kept_and_another_kept_longer(gongwen, sealed, fixed_clock,
                                                                                    app):
    org = sealed
    doomed = _archive(gongwen, org, "D10")
    longer = _archive(gongwen, org, "D10", title="连云港市人民政府办公室关于建立防汛值班制度的通知")
    lasting = _archive(gongwen, org, "Y", title="连云港市人民政府办公室关于印发档案工作规定的通知")
    archivist, leader = org.person("lyg.archivist"), org.person("lyg.leader")
    with gongwen.db.session() as session:
        copy_path = gongwen.files.path(session.get(ArchiveItem, doomed.id).copy_sha256)
        sheet_path = gongwen.files.path(session.get(ArchiveItem, doomed.id).record_sha256)
        sealed_sha = session.scalar(select(Document.sealed_sha256).where(Document.id == doomed.document_id))
    assert copy_path.is_file() and sheet_path.is_file()

    # In 2036 a 2026 item kept ten years is not yet expired (2026 + 10 is not before 2036); in 2037 it is.
    fixed_clock.set(datetime(2036, 6, 1, 10, 0, tzinfo=SH))
    with pytest.raises(Refused, match="尚未届满"), gongwen.db.write() as session:
        appraisal.propose(session, doomed.id, archivist.id, "destroy", None, "已无保存价值")
    fixed_clock.set(datetime(2037, 3, 2, 10, 0, tzinfo=SH))
    client = logged_in(app, "lyg.archivist")
    listed = client.get("/archive/appraisal").get_data(as_text=True)
    assert doomed.archive_code in listed and longer.archive_code in listed and lasting.archive_code not in listed

    # Refusals change nothing: a keep that is no longer, a destroy with a retention, no reason, an unknown action.
    for data in ({"action": "keep", "new_retention": "D10", "reason": "仍有参考价值"},
                 {"action": "destroy", "new_retention": "Y", "reason": "无保存价值"},
                 {"action": "destroy", "reason": "  "}, {"action": "shred", "reason": "无保存价值"},
                 {"action": "destroy", "reason": "无\x07保存价值"}, {"action": "destroy", "reason": "长" * 501}):
        response = _post(client, f"/archive/items/{doomed.id}/appraise", f"/archive/items/{doomed.id}", **data)
        assert response.status_code == 302, data
        assert "未生效" in client.get(f"/archive/items/{doomed.id}").get_data(as_text=True), data
    assert _post(client, f"/archive/items/{doomed.id}/appraise", f"/archive/items/{doomed.id}",
                 action="destroy", reason="无\x00价值").status_code == 400  # a NUL anywhere: refused before the view
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ArchiveAppraisal)) == 0

    _post(client, f"/archive/items/{doomed.id}/appraise", f"/archive/items/{doomed.id}",
          action="destroy", reason="已超过保管期限，经鉴定无继续保存价值")
    _post(client, f"/archive/items/{longer.id}/appraise", f"/archive/items/{longer.id}",
          action="keep", new_retention="D30", reason="防汛制度仍在沿用，延长保管")
    # A second proposal on the same item waits for the first.
    with pytest.raises(Refused, match="已有待审批"), gongwen.db.write() as session:
        appraisal.propose(session, doomed.id, archivist.id, "keep", "Y", "再议")
    with gongwen.db.session() as session:
        told = session.scalars(select(Notification.text).where(Notification.person_id == leader.id,
                                                               Notification.kind == "archive_appraisal")).all()
    assert any(doomed.archive_code in t for t in told)

    # Only the unit's leaders decide: the archivist, another unit's leader and the administrators cannot.
    with gongwen.db.session() as session:
        pending = {a.item_id: a.id for a in session.scalars(select(ArchiveAppraisal))}
    for login in ("lyg.archivist", "dh.leader", "sysadmin", "auditor"):
        other = logged_in(app, login)
        response = other.post(f"/archive/appraisals/{pending[doomed.id]}/decide",
                              data={"csrf_token": csrf_token(other, "/"), "decision": "approve"})
        assert response.status_code == 404, login
    boss = logged_in(app, "lyg.leader")
    page = boss.get("/archive/appraisal").get_data(as_text=True)
    assert "已超过保管期限" in page and "批准" in page
    response = _post(boss, f"/archive/appraisals/{pending[doomed.id]}/decide", "/archive/appraisal",
                     decision="maybe")
    assert response.status_code == 302
    with gongwen.db.session() as session:
        assert session.get(ArchiveAppraisal, pending[doomed.id]).state is AppraisalState.PROPOSED
    _post(boss, f"/archive/appraisals/{pending[doomed.id]}/decide", "/archive/appraisal",
          decision="approve", note="同意销毁")
    _post(boss, f"/archive/appraisals/{pending[longer.id]}/decide", "/archive/appraisal", decision="approve")
    deliver_outbox(gongwen)

    # The destroyed item's own files are gone; the sealed original, which other units hold, stays.
    assert not copy_path.exists() and not sheet_path.exists()
    with gongwen.db.session() as session:
        item = session.get(ArchiveItem, doomed.id)
        assert item.destroyed_at is not None
        assert session.get(StoredFile, item.copy_sha256) is None
        assert gongwen.files.get(sealed_sha).startswith(b"%PDF")
        with pytest.raises(Refused, match="鉴定销毁"):
            export_package(session, gongwen.files, item, gongwen.settings.files_dir.parent / "out")
        kept = session.get(ArchiveItem, longer.id)
        assert kept.kept_for is Retention.YEARS_30 and kept.archive_code == longer.archive_code
        (record,) = appraisal.destruction_records(session, org.unit("city_office").id)
        assert (record.archive_code, record.title, record.retention, record.proposed_by_id, record.decided_by_id) == (
            doomed.archive_code, NOTICE_TITLE, Retention.YEARS_10, archivist.id, leader.id)
        assert record.reason.startswith("已超过保管期限") and record.decided_at is not None
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"archive.appraisal_proposed", "archive.destroyed", "archive.appraisal_decided",
            "archive.files_erased"} <= actions
    assert client.get(f"/archive/items/{doomed.id}/copy.pdf").status_code == 404
    # The auditor reads who destroyed what in words, never the title or the reason (三员分立).
    log = logged_in(app, "auditor").get("/admin/audit", query_string={"action": "archive."}).get_data(as_text=True)
    assert "批准销毁档案" in log and "提出档案鉴定意见" in log and doomed.archive_code in log
    assert NOTICE_TITLE not in log and "无继续保存价值" not in log

    # The 销毁清册 lists it for ever: years later, and after the approval can no longer be changed.
    fixed_clock.set(datetime(2060, 1, 5, 10, 0, tzinfo=SH))
    with pytest.raises(Refused, match="已于"), gongwen.db.write() as session:
        appraisal.decide(session, pending[doomed.id], leader.id, False)
    register = logged_in(app, "lyg.leader").get("/archive/appraisal").get_data(as_text=True)
    ledger = register.split("销毁清册")[-1]
    assert doomed.archive_code in ledger and NOTICE_TITLE in ledger and "同意销毁" in ledger
    assert longer.archive_code not in ledger
    # The kept item is expired again only when its new retention runs out (2026 + 30 < 2060).
    assert longer.archive_code in logged_in(app, "lyg.archivist").get("/archive/appraisal").get_data(as_text=True)


def test_a_received_documents_archive_step_has_the_same_deadline_and_reminders(gongwen, sealed, fixed_clock):
    org = sealed
    send(gongwen, org)
    handler = org.person("dh.handler")  # 东海's handler is its archivist too
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "请综合股办理"})
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    act(gongwen, handler, "办理", {"result": "已按要求部署排查"})
    task = task_of(gongwen, handler, "归档")
    assert clock.local(task.due_at) == datetime(2026, 12, 7, 9, 0, tzinfo=SH)
    fixed_clock.set(datetime(2026, 11, 30, 9, 1, tzinfo=SH))
    gongwen.runtime.fire_due_timers()
    with gongwen.db.session() as session:
        (reminder,) = session.scalars(select(Notification).where(Notification.person_id == handler.id,
                                                                 Notification.kind == "remind_archive")).all()
    assert "归档时限 2026-12-07" in reminder.text
    act(gongwen, handler, "归档", {"retention": "D30"})
    with gongwen.db.session() as session:
        assert session.scalar(select(ArchiveItem).where(ArchiveItem.unit_id == org.unit("donghai_office").id))


def test_the_archived_sign_off_sheet_carries_the_signers_opinion_and_handwritten_signature(gongwen, sealed, app):
    org = sealed
    task = _to_sign_off(gongwen, org)
    _sign_off(app, task, signature=_data_url(_png()))
    act(gongwen, org.person("lyg.drafter"), "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})
    act(gongwen, org.person("lyg.archivist"), "发文归档", {"retention": "Y"})
    with gongwen.db.session() as session:
        item = session.scalar(select(ArchiveItem).where(ArchiveItem.unit_id == org.unit("city_office").id))
        sheet = PdfReader(io.BytesIO(gongwen.files.get(item.record_sha256)))
    text = "".join(page.extract_text() for page in sheet.pages).replace("\n", "")
    assert "同意签发。同意印发" in text and f"{org.person('lyg.signer').name}（主任）" in text
    assert len([image for page in sheet.pages for image in page.images]) == 1  # the drawn signature
