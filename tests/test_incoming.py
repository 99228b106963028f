"""The receiving half (收文) and the end of a document's life, with the demo organisation."""

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.calendar import WorkCalendar
from engine.errors import Refused
from engine.models import InstanceStatus, ProcessInstance
from handlers.archive.models import ArchiveItem
from handlers.archive.packages import check_package, export_package
from handlers.documents.models import Document, Urgency
from handlers.exchange.deadlines import set_deadline, sign_for_window
from handlers.exchange.models import Receipt, ReceiptStatus
from handlers.exchange.receipts import chase, receipt_overview
from handlers.incoming.models import IncomingRecord
from handlers.notifications.models import Notification
from tests.outgoing_support import NOTICE, act, document, send, task_of
from tests.support import ready_for

pytestmark = pytest.mark.usefixtures("deployed")
COUNTIES = ("donghai_office", "guanyun_office", "guannan_office")
SH = clock.SHANGHAI


def receipts(gongwen, document_id):
    with gongwen.db.session() as session:
        return {(r.unit_id, r.version): r for r in session.scalars(select(Receipt).where(
            Receipt.document_id == document_id))}


def notes(gongwen, person, kind=None):
    with gongwen.db.session() as session:
        query = select(Notification).where(Notification.person_id == person.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return session.scalars(query).all()


def tick(gongwen, fixed_clock, at: str) -> None:
    fixed_clock.set(datetime.fromisoformat(at).replace(tzinfo=SH))
    gongwen.runtime.fire_due_timers()


def test_a_document_to_three_counties_from_dispatch_to_archive(gongwen, sealed, fixed_clock, tmp_path):
    org = sealed
    dh, gy, gn = (org.unit(u).id for u in COUNTIES)
    sent = send(gongwen, org, main_to=COUNTIES)
    first = receipts(gongwen, sent.id)
    assert {k: r.status for k, r in first.items()} == {(dh, 1): ReceiptStatus.PENDING, (gy, 1): ReceiptStatus.PENDING,
                                                       (gn, 1): ReceiptStatus.PENDING}
    assert clock.local(first[(dh, 1)].due_at) == datetime(2026, 11, 24, 9, 0, tzinfo=SH)  # one working day

    # 东海 signs; the report the clerk saw is kept with the receipt.
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    signed = receipts(gongwen, sent.id)[(dh, 1)]
    assert signed.status == ReceiptStatus.SIGNED and signed.signed_by_id == org.person("dh.clerk").id
    assert signed.verification["ok"] and {c["key"] for c in signed.verification["checks"]} >= {
        "integrity", "chain", "revocation", "signer", "format", "classification"}

    # 灌云 returns it; the sender corrects it and sends a new version to 灌云 alone.
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "return", "opinion": "正文缺少报送联系人"})
    drafter = org.person("lyg.drafter")
    act(gongwen, drafter, "处理退文", {"decision": "redispatch", "title": NOTICE["title"],
                                   "body": NOTICE["body"] + "\n联系人：张三，电话85800000。", "opinion": "补充联系人"})
    act(gongwen, org.person("lyg.sealer"), "更正稿用印", {"confirm": True})
    history = receipts(gongwen, sent.id)
    assert history[(gy, 1)].status == ReceiptStatus.RETURNED and history[(gy, 1)].return_reason == "正文缺少报送联系人"
    assert history[(gy, 2)].status == ReceiptStatus.PENDING
    assert document(gongwen, sent.id).version == 2
    assert task_of(gongwen, org.person("dh.clerk"), "分办")  # 东海 is unaffected by the new version
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "sign"})

    # 灌南 is late: reminded at the half-way mark in office time (14:00, not 21:00), texted when overdue,
    # and its leaders told half a window later.
    gn_clerk, gn_leader = org.person("gn.clerk"), org.person("gn.leader")
    tick(gongwen, fixed_clock, "2026-11-23T12:00:00")
    assert [n.kind for n in notes(gongwen, gn_clerk, "remind_sign")] == []
    tick(gongwen, fixed_clock, "2026-11-23T14:01:00")
    assert len(notes(gongwen, gn_clerk, "remind_sign")) == 1
    assert notes(gongwen, gn_leader, "escalation") == []
    tick(gongwen, fixed_clock, "2026-11-24T09:01:00")
    (overdue,) = notes(gongwen, gn_clerk, "overdue")
    assert overdue.reason == "超过签收时限" and overdue.urgent
    assert notes(gongwen, gn_leader, "escalation") == []
    tick(gongwen, fixed_clock, "2026-11-24T14:01:00")
    (escalation,) = notes(gongwen, gn_leader, "escalation")
    assert escalation.reason == "逾期仍未签收"
    assert receipts(gongwen, sent.id)[(gn, 1)].overdue_since is not None
    with gongwen.db.session() as session:
        overview = receipt_overview(session, sent.id)
    assert overview["counts"] == {"pending": 1, "signed": 2, "returned": 0} and overview["history"] == 4
    assert [v.unit for v in overview["overdue"]] == ["灌南县人民政府办公室"]
    with gongwen.db.write() as session:
        chase(session, receipts(gongwen, sent.id)[(gn, 1)].id, drafter.id)
    with pytest.raises(Refused, match="刚催过"), gongwen.db.write() as session:
        chase(session, receipts(gongwen, sent.id)[(gn, 1)].id, drafter.id)
    assert len(notes(gongwen, gn_clerk, "chase")) == 1
    act(gongwen, gn_clerk, "签收", {"decision": "sign"})

    # Everyone has answered: the sender's instance hears it and finishes.
    with gongwen.db.session() as session:
        assert session.get(ProcessInstance, sent.instance_id).status == InstanceStatus.COMPLETED

    # 东海 handles it: register, route, propose, the leader's instruction, handle, circulate, archive.
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "建议呈县领导阅示后由综合股办理"})
    handler = org.person("dh.handler")
    act(gongwen, handler, "承办人决定下一步", {"next": "instruct", "leader": org.person("dh.leader").id})
    act(gongwen, org.person("dh.leader"), "领导批示", {"instruction": "请综合股抓紧落实，落实情况报我",
                                                    "deadline_days": 2})
    act(gongwen, handler, "办理", {"result": "已组织全县排查，报送排查表", "readers": [org.person("dh.leader").id]})
    act(gongwen, org.person("dh.leader"), "传阅", {"note": "已阅"})
    act(gongwen, handler, "归档", {"retention": "Y"})

    with gongwen.db.session() as session:
        record = session.scalar(select(IncomingRecord).where(IncomingRecord.unit_id == dh))
        item = session.scalar(select(ArchiveItem).where(ArchiveItem.unit_id == dh))
        steps = [t.name for t in ready_for(gongwen, handler)]
    assert record.incoming_number == "收文〔2026〕1号" and record.result.startswith("已组织")
    assert item.archive_code == f"{org.unit('donghai_office').fonds_code}-WS·2026-Y-ZHG-0001"
    assert steps == []

    with gongwen.db.write() as session:
        folder = export_package(session, gongwen.files, session.get(ArchiveItem, item.id), tmp_path)
    history = (folder / "history.json").read_text()
    for fragment in ("请综合股抓紧落实", "建议呈县领导阅示", "已组织全县排查", "签发", "签收"):
        assert fragment in history
    with gongwen.db.session() as session:
        report = check_package(session, folder)
    assert [(c.name, c.ok) for c in report] == [("真实性", True), ("完整性", True), ("可用性", True), ("安全性", True)]

    checks = {c.name: c for c in report}
    assert "archived_copy.pdf：电子印章验证通过；归档时间戳" in "".join(checks["真实性"].passed)
    assert "元数据中的题名、文件编号、页数与文件一致" in checks["真实性"].passed
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["签发人"] == org.person("lyg.signer").name and metadata["发布层次"] == "发至县级"
    (signature,) = metadata["电子签名"]
    assert signature["时间来源"] == "可信时间戳" and "BEGIN CERTIFICATE" in signature["证书"]
    assert metadata["电子属性"]["计算机文件大小"] == (folder / "document.pdf").stat().st_size

    # A second export (elsewhere) does not disown the first package.
    with gongwen.db.write() as session:
        export_package(session, gongwen.files, session.get(ArchiveItem, item.id), tmp_path / "again")
    with gongwen.db.session() as session:
        assert all(c.ok for c in check_package(session, folder))

    # Metadata that no longer describes the file is found out, even with the manifest rewritten to match.
    metadata["题名"] = "关于别的事项的通知"
    (folder / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["metadata.json"] = hashlib.sha256((folder / "metadata.json").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    with gongwen.db.session() as session:
        forged = {c.name: c for c in check_package(session, folder)}
    assert not forged["安全性"].ok
    assert any(p.startswith("元数据与文件不符：题名") for p in forged["真实性"].problems)

    copy = folder / "archived_copy.pdf"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    with gongwen.db.session() as session:
        report = {c.name: c for c in check_package(session, folder)}
    assert not report["真实性"].ok and "archived_copy.pdf 的内容与清单中的哈希不符" in report["真实性"].problems


def test_after_the_leaders_instruction_the_handler_is_asked_to_handle_not_to_decide_again(gongwen, sealed):
    """The handler chose 呈领导批示; once the leader has instructed, 办理 waits for them, with the
    instruction's deadline, and 承办人决定下一步 is not asked a second time."""
    org = sealed
    send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 5})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "呈领导"})
    handler = org.person("dh.handler")
    act(gongwen, handler, "承办人决定下一步", {"next": "instruct", "leader": org.person("dh.leader").id})
    act(gongwen, org.person("dh.leader"), "领导批示", {"instruction": "请抓紧落实", "deadline_days": 2})
    (waiting,) = ready_for(gongwen, handler)
    assert waiting.name == "办理"
    assert clock.local(waiting.due_at) == datetime(2026, 11, 25, 9, 0, tzinfo=SH)  # two working days, not five


def test_a_reply_to_a_request_is_linked_and_the_requesting_unit_sees_it(gongwen, sealed):
    org = sealed
    request = send(gongwen, org, drafter="dh.drafter", main_to=("city_office",), doc_type="request",
                   direction="upward", title="东海县人民政府办公室关于申请安全生产专项资金的请示", one_matter=True)
    assert request.signers == [org.person("dh.leader").name]  # 签发人 of an upward document
    act(gongwen, org.person("lyg.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("lyg.clerk"), "分办", {"lead_department": org.departments["general"].id})
    act(gongwen, org.person("lyg.head3"), "拟办", {"proposal": "建议综合处研究答复"})
    handler = org.person("lyg.handler")
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    act(gongwen, handler, "办理", {"result": "同意拨付，起草批复", "start_reply": True})
    reply_task = task_of(gongwen, handler, "拟稿")
    with gongwen.db.session() as session:
        reply = session.scalar(select(Document).where(Document.reply_to_id == request.id))
        replies_seen_by_requester = session.scalars(select(Document.id).where(
            Document.reply_to_id == request.id)).all()
    assert reply.instance_id == reply_task.instance_id and reply.drafter_id == handler.id
    assert reply.main_to == [org.unit("donghai_office").id]
    assert reply.title == "关于申请安全生产专项资金的批复"
    assert replies_seen_by_requester == [reply.id]


@pytest.mark.parametrize("spoil, reason", [
    ("tamper", "文件完整"),
    ("revoke", "未被吊销"),
    ("other_issuer", "签章单位与发文机关一致"),
    ("classified", "非涉密公文"),
])
def test_sign_for_is_refused_when_verification_fails_but_return_stays_possible(gongwen, sealed, fixed_clock,
                                                                                spoil, reason):
    from handlers.documents.models import DocumentIssuer
    from handlers.seals.models import Seal
    from handlers.seals.register import revoke_seal

    org = sealed
    sent = send(gongwen, org, main_to=("donghai_office",))
    with gongwen.db.write() as session:
        doc = session.get(Document, sent.id)
        if spoil == "tamper":
            pdf = bytearray(gongwen.files.get(doc.sealed_sha256))
            at = pdf.index(b"/Creator")
            pdf[at + 4] = ord("7")
            doc.sealed_sha256 = gongwen.files.put(session, bytes(pdf), "application/pdf")
        elif spoil == "revoke":  # lost, and distrusted from before it sealed this document
            seal = session.scalar(select(Seal).where(Seal.unit_id == org.unit("city_office").id))
            revoke_seal(session, gongwen.settings, seal, "lost", invalid_since=seal.valid_from)
        elif spoil == "other_issuer":
            issuer = session.scalar(select(DocumentIssuer).where(DocumentIssuer.document_id == doc.id))
            issuer.unit_id = org.unit("finance").id
        else:
            doc.classification = "秘密"
    fixed_clock.advance(timedelta(minutes=5))
    clerk = org.person("dh.clerk")
    with pytest.raises(Refused, match=f"验证未通过，不能签收，只能退回：{reason}"):
        act(gongwen, clerk, "签收", {"decision": "sign"})
    act(gongwen, clerk, "签收", {"decision": "return", "opinion": "验证未通过，退回"})
    (receipt,) = receipts(gongwen, sent.id).values()
    assert receipt.status == ReceiptStatus.RETURNED


def test_sign_for_deadlines_follow_the_calendar_and_the_administrator(gongwen):
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=SH)  # noqa: E731
    with gongwen.db.session() as session:
        calendar = WorkCalendar(session)
        # Friday before 清明: due the Tuesday after; Friday before the Spring Festival: the make-up Saturday.
        assert clock.local(sign_for_window(session, calendar, Urgency.NORMAL, at("2026-04-03T15:00")).due) == \
            at("2026-04-07T15:00")
        assert clock.local(sign_for_window(session, calendar, Urgency.NORMAL, at("2026-02-13T15:00")).due) == \
            at("2026-02-14T15:00")
        # 加急 at 16:50: at once, i.e. half a working hour; 特急 counts the clock, nights included.
        assert clock.local(sign_for_window(session, calendar, Urgency.URGENT, at("2026-11-24T16:50")).due) == \
            at("2026-11-24T17:20")
        assert clock.local(sign_for_window(session, calendar, Urgency.EXTRA_URGENT, at("2026-11-24T23:00")).due) == \
            at("2026-11-24T23:30")
    with gongwen.db.write() as session:
        set_deadline(session, "urgent", 4, "working_hours")
    with gongwen.db.session() as session:
        assert clock.local(sign_for_window(session, WorkCalendar(session), Urgency.URGENT,
                                         at("2026-11-24T16:50")).due) == at("2026-11-25T13:50")  # over lunch
    with pytest.raises(Refused), gongwen.db.write() as session:
        set_deadline(session, "urgent", 2, "fortnights")


def test_an_extra_urgent_document_wakes_the_clerk_outside_office_hours(gongwen, sealed, fixed_clock):
    org = sealed
    fixed_clock.set(datetime(2026, 11, 23, 20, 30, tzinfo=SH))  # a Monday evening
    send(gongwen, org, main_to=("donghai_office",), urgency="extra_urgent")
    (note,) = notes(gongwen, org.person("dh.clerk"), "urgent_arrival")
    assert "非办公时间" in note.text and note.reason == "特急公文须即时签收"


def test_the_command_line_exports_and_checks_an_archive_package(gongwen, sealed, run, tmp_path):
    org = sealed
    sent = send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "阅知"})
    act(gongwen, org.person("dh.handler"), "承办人决定下一步", {"next": "circulate",
                                                             "readers": [org.person("dh.leader").id]})
    act(gongwen, org.person("dh.leader"), "传阅", {})
    act(gongwen, org.person("dh.handler"), "归档", {"retention": "D10"})
    shown = run("receipts", str(sent.id))
    assert "东海县人民政府办公室" in shown.output and "已签收" in shown.output

    exported = run("archive", "export", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    (package,) = (tmp_path / "out").iterdir()
    checked = run("archive", "check", str(package))
    assert checked.exit_code == 0 and checked.output.strip().endswith("四性检测通过")

    (package / "metadata.json").write_text((package / "metadata.json").read_text().replace("东海", "西海"))
    checked = run("archive", "check", str(package))
    assert checked.exit_code == 1 and "metadata.json 的内容与清单中的哈希不符" in checked.output
    (package / "document.pdf").unlink()
    checked = run("archive", "check", str(package))
    assert "清单中的文件缺失：document.pdf" in checked.output


def test_the_sender_hears_of_recipients_still_unsigned_a_day_after_dispatch(gongwen, sealed, fixed_clock):
    org = sealed
    send(gongwen, org, main_to=("donghai_office", "guanyun_office"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    drafter = org.person("lyg.drafter")
    tick(gongwen, fixed_clock, "2026-11-24T08:59:00")
    assert notes(gongwen, drafter, "unsigned_24h") == []
    tick(gongwen, fixed_clock, "2026-11-24T09:01:00")
    (note,) = notes(gongwen, drafter, "unsigned_24h")
    assert "尚有 1 个单位未签收：灌云县人民政府办公室" in note.text
    assert notes(gongwen, org.person("lyg.clerk"), "unsigned_24h")


def test_handling_is_chased_then_escalated_on_working_days(gongwen, sealed, fixed_clock):
    org = sealed
    send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 2})  # due Wednesday 09:00
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "请综合股办理"})
    handler, leader = org.person("dh.handler"), org.person("dh.leader")
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    tick(gongwen, fixed_clock, "2026-11-24T08:00:00")
    assert notes(gongwen, handler, "remind_handle") == []
    tick(gongwen, fixed_clock, "2026-11-24T21:01:00")  # half-way through the two working days
    assert len(notes(gongwen, handler, "remind_handle")) == 1
    tick(gongwen, fixed_clock, "2026-11-25T09:01:00")
    (escalation,) = notes(gongwen, leader, "escalation")
    assert escalation.reason == "超过办理时限" and "收文〔2026〕1号" in escalation.text
    act(gongwen, handler, "办理", {"result": "已办结"})  # still possible after the escalation
    assert task_of(gongwen, handler, "归档")


def test_an_attachment_name_is_data_and_never_a_path_in_the_archive_export(gongwen, sealed, tmp_path):
    import io

    from pypdf import PdfWriter

    from handlers.documents.attachments import add_attachment
    from tests.outgoing_support import start

    writer, pdf = PdfWriter(), io.BytesIO()
    writer.add_blank_page(595, 842)
    writer.write(pdf)
    org = sealed
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    with gongwen.db.write() as session:
        add_attachment(session, gongwen.files, session.get(Document, doc.id), name="x/../../../../planted",
                       filename="../../../../planted.pdf", content=pdf.getvalue(), max_bytes=4096)
    with pytest.raises(Refused, match="控制字符"), gongwen.db.write() as session:
        add_attachment(session, gongwen.files, session.get(Document, doc.id), name="名单\u202eexe.pdf",
                       filename="a.pdf", content=b"%PDF-1.4\n%%EOF", max_bytes=1024)
    send(gongwen, org, document_id=doc.id)
    handler = org.person("dh.handler")
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "由综合股办理"})
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    act(gongwen, handler, "办理", {"result": "已办理", "readers": []})
    act(gongwen, handler, "归档", {"retention": "D10"})

    dest = tmp_path / "exports" / "here"
    dest.mkdir(parents=True)
    with gongwen.db.write() as session:
        item = session.scalar(select(ArchiveItem))
        folder = export_package(session, gongwen.files, item, dest)
    written = [p for p in (tmp_path / "exports").rglob("*") if p.is_file()]
    assert written and all(p.is_relative_to(folder) for p in written), written
    number = document(gongwen, doc.id).doc_number
    assert [p.name for p in (folder / "attachments").iterdir()] == [f"{number}附件-x_planted.pdf"]
    with gongwen.db.session() as session:
        assert [(c.name, c.problems) for c in check_package(session, folder) if not c.ok] == []


def test_in_a_year_the_calendar_package_does_not_know_deadlines_still_run(gongwen, sealed, fixed_clock):
    """2027 is not in chinesecalendar 1.11: a document sent on its first working day is due, reminded and
    escalated on weekdays, and a leave in January 2027 counts its days; nothing becomes an incident."""
    from engine.models import Incident

    org = sealed
    fixed_clock.set(datetime.fromisoformat("2027-01-04T09:00:00+08:00"))  # Monday after 元旦
    send(gongwen, org, main_to=("guannan_office",))
    gn = org.unit("guannan_office").id
    with gongwen.db.session() as session:
        receipt = session.scalar(select(Receipt).where(Receipt.unit_id == gn))
    assert clock.local(receipt.due_at).date().isoformat() == "2027-01-05"  # one working day later
    tick(gongwen, fixed_clock, "2027-01-05T10:00")
    (overdue,) = notes(gongwen, org.person("gn.clerk"), "overdue")
    assert overdue.reason == "超过签收时限" and notes(gongwen, org.person("gn.clerk"), "remind_sign")
    assert not notes(gongwen, org.person("gn.leader"), "escalation")  # half a window later: 14:00
    tick(gongwen, fixed_clock, "2027-01-05T14:30")
    (escalation,) = notes(gongwen, org.person("gn.leader"), "escalation")
    assert escalation.reason == "逾期仍未签收"

    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id}, title="请假")
    (task,) = ready_for(gongwen, applicant)
    gongwen.runtime.complete(task.id, applicant.id, {"kind": "annual", "start_date": "2027-01-01",
                                                    "end_date": "2027-01-08", "reason": "探亲"})
    with gongwen.db.session() as session:
        assert session.scalars(select(Incident)).all() == []
        leave = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "leave"))
        assert leave.status == InstanceStatus.RUNNING


def test_the_audit_trail_says_who_did_what_never_the_words_of_the_document(gongwen, sealed):
    """三员分立: the auditor reads the trail; titles, bodies, opinions, reasons and instructions stay out."""
    import json

    from engine.models import AuditEvent

    org = sealed
    words = {"title": "关于甲乙丙丁戊己庚辛的通知", "body": "正文里的壬癸子丑寅卯。", "reason": "退回理由辰巳午未",
             "correction": "更正说明申酉戌亥", "instruction": "批示内容天地玄黄", "result": "办理结果宇宙洪荒"}
    sent = send(gongwen, org, main_to=("donghai_office",), title=words["title"], body=words["body"])
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "return", "opinion": words["reason"]})
    act(gongwen, org.person("lyg.drafter"), "处理退文", {"decision": "redispatch", "title": words["title"],
                                                       "body": words["body"], "opinion": words["correction"]})
    act(gongwen, org.person("lyg.sealer"), "更正稿用印", {"confirm": True})
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "呈领导"})
    handler = org.person("dh.handler")
    act(gongwen, handler, "承办人决定下一步", {"next": "instruct", "leader": org.person("dh.leader").id})
    act(gongwen, org.person("dh.leader"), "领导批示", {"instruction": words["instruction"]})
    act(gongwen, handler, "办理", {"result": words["result"]})
    with gongwen.db.session() as session:
        trail = [json.dumps(e.detail, ensure_ascii=False) for e in session.scalars(select(AuditEvent))]
    assert document(gongwen, sent.id).version == 2 and len(trail) > 30
    for name, text in words.items():
        assert not [d for d in trail if text[2:8] in d], name


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "gy.leader", "lyg.leader", "dh.clerk"])
def test_a_step_goes_only_to_someone_the_form_offered(gongwen, sealed, who):
    """The probe sent 领导批示 and 传阅 to administrators and other units' people; a pick outside the
    offered list (东海's leaders, or its people for reading) is refused and nothing moves."""
    from engine.errors import FormInvalid

    org = sealed
    send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    for department in (2**62, org.departments["guanyun_general"].id):
        with pytest.raises(FormInvalid):  # no such department, or another unit's
            act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": department, "deadline_days": 3})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "呈领导"})
    handler, target = org.person("dh.handler"), org.person(who)
    with pytest.raises(FormInvalid) as refused:
        act(gongwen, handler, "承办人决定下一步", {"next": "instruct", "leader": target.id})
    assert refused.value.errors == {"leader": ["不是可选的值"]}
    if who != "dh.clerk":  # a colleague of the unit may read it
        with pytest.raises(FormInvalid):
            act(gongwen, handler, "承办人决定下一步", {"next": "circulate", "readers": [target.id]})
    assert task_of(gongwen, handler, "承办人决定下一步")  # still waiting, nothing moved
    act(gongwen, handler, "承办人决定下一步", {"next": "instruct", "leader": org.person("dh.leader").id})
