"""Issue 14, archiving completeness: a unit's own outgoing documents archived with their 发文稿纸, the archive
step's deadline and reminders, archive search, and appraisal and destruction (鉴定/销毁) with its record."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine import clock
from engine.deploy import collect, deploy
from engine.models import ProcessInstance
from handlers.archive.models import ArchiveItem, Retention
from handlers.archive.packages import check_package, export_package
from handlers.notifications.models import Notification
from tests.outgoing_support import act, send, task_of
from tests.support import ROOT, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")
SH = clock.SHANGHAI
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
