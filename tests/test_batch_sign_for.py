"""The clerk's inbox shows each arrival's sender, 文号, urgency and lateness; 批量签收 signs several arrivals at once,
each verified as its own page would verify it, and refuses the ones that fail or are not the clerk's to sign."""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Task, TaskState
from handlers.documents.models import Document
from handlers.exchange.models import Receipt, ReceiptStatus
from tests.outgoing_support import send
from tests.support import csrf_token, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")
TITLES = ("连云港市人民政府办公室关于做好冬季森林防火工作的通知",
          "连云港市人民政府办公室关于开展安全生产大检查的通知",
          "连云港市人民政府办公室关于做好元旦春节期间值班工作的通知")


def three_arrivals(gongwen, org, *, spoil_second: bool = True) -> list[Document]:
    """Three notices sent to 东海; the second's stored sealed file tampered with (it fails 文件完整)."""
    sent = [send(gongwen, org, main_to=("donghai_office",), title=t, urgency=u)
            for t, u in zip(TITLES, ("normal", "urgent", "normal"), strict=True)]
    if spoil_second:
        with gongwen.db.write() as session:
            doc = session.get(Document, sent[1].id)
            pdf = bytearray(gongwen.files.get(doc.sealed_sha256))
            pdf[pdf.index(b"/Creator") + 4] = ord("7")
            doc.sealed_sha256 = gongwen.files.put(session, bytes(pdf), "application/pdf")
    return sent


def sign_for_ids(gongwen, person) -> list[str]:
    """The person's ready 签收 tasks, in the order of ``TITLES``."""
    tasks = {t.instance_id: t for t in ready_for(gongwen, person) if t.name == "签收"}
    with gongwen.db.session() as session:
        by_title = {session.get(Document, session.scalar(select(Receipt.document_id).where(
            Receipt.incoming_instance_id == i))).title: str(t.id) for i, t in tasks.items()}
    return [by_title[t] for t in TITLES if t in by_title]


def statuses(gongwen, documents) -> list[ReceiptStatus]:
    """Each document's receipts' statuses, recipient by recipient (in the order the units were created)."""
    with gongwen.db.session() as session:
        return [status for d in documents for status in session.scalars(
            select(Receipt.status).where(Receipt.document_id == d.id).order_by(Receipt.unit_id))]


def batch(client, ids, path="/"):
    return client.post("/sign-for", data={"csrf_token": csrf_token(client, path), "task_id": ids})


def test_the_inbox_shows_sender_number_urgency_and_overdue_working_days(gongwen, sealed, app, fixed_clock):
    sent = three_arrivals(gongwen, sealed, spoil_second=False)
    clerk = logged_in(app, "dh.clerk")
    page = clerk.get("/").get_data(as_text=True)
    assert page.count('name="task_id"') == 3 and "批量签收" in page
    for doc in sent:
        assert doc.doc_number and doc.doc_number in page
    assert "<td>连云港市人民政府办公室</td>" in page
    assert '<span class="badge urgency-1">加急</span>' in page and "<strong>超期" not in page
    # Sent Monday; a 平件 is due Tuesday 09:00: late within the hour, by two working days on Thursday.
    fixed_clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=clock.SHANGHAI))
    assert logged_in(app, "dh.clerk").get("/").get_data(as_text=True).count("超期不足1个工作日") == 2
    fixed_clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=clock.SHANGHAI))
    later = logged_in(app, "dh.clerk").get("/").get_data(as_text=True)
    assert later.count("超期2个工作日") == 2
    # Someone with no arrival to sign has no box to tick.
    assert 'name="task_id"' not in logged_in(app, "lyg.head").get("/").get_data(as_text=True)


def test_batch_sign_for_signs_the_good_ones_and_keeps_the_failing_one_waiting_with_its_reason(
        gongwen, sealed, app, fixed_clock):
    sent = three_arrivals(gongwen, sealed)
    fixed_clock.advance(timedelta(minutes=5))
    clerk_person = sealed.person("dh.clerk")
    ids = sign_for_ids(gongwen, clerk_person)
    clerk = logged_in(app, "dh.clerk")
    answer = batch(clerk, ids)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", page, re.S)
    assert len(rows) == 3
    assert TITLES[0] in rows[0] and "已签收" in rows[0]
    assert TITLES[1] in rows[1] and "未签收" in rows[1] and "验证未通过，不能签收，只能退回：文件完整" in rows[1]
    assert TITLES[2] in rows[2] and "已签收" in rows[2]
    assert "已签收 2 件，未签收 1 件" in page
    assert statuses(gongwen, sent) == [ReceiptStatus.SIGNED, ReceiptStatus.PENDING, ReceiptStatus.SIGNED]
    assert sign_for_ids(gongwen, clerk_person) == [ids[1]]  # still waiting, to be returned from its page
    with gongwen.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_for.batch")).one()
        assert event.actor_id == clerk_person.id and event.detail == {"signed": 2, "not_signed": 1}
    # Signing them again: the two are no longer waiting, nothing changes.
    again = batch(clerk, ids).get_data(as_text=True)
    assert "已签收 0 件，未签收 3 件" in again
    assert statuses(gongwen, sent) == [ReceiptStatus.SIGNED, ReceiptStatus.PENDING, ReceiptStatus.SIGNED]


def test_forged_and_foreign_ids_are_refused_cleanly(gongwen, sealed, app, fixed_clock):
    sent = send(gongwen, sealed, main_to=("donghai_office", "guanyun_office"), title=TITLES[0])
    dh_clerk, gy_clerk = sealed.person("dh.clerk"), sealed.person("gy.clerk")
    (own,), (foreign,) = sign_for_ids(gongwen, dh_clerk), sign_for_ids(gongwen, gy_clerk)
    clerk = logged_in(app, "dh.clerk")
    # Another unit's arrival, garbage and a made-up id: each refused without a word about what it is.
    page = batch(clerk, [foreign, "garbage", str(uuid.uuid4()), "<script>", "x" * 5000]).get_data(as_text=True)
    assert page.count("没有这件待签收的来文") == 5 and TITLES[0] not in page and "<script>" not in page
    assert statuses(gongwen, [sent]) == [ReceiptStatus.PENDING, ReceiptStatus.PENDING]
    # A task of the clerk's own that is not a sign-for (分办, once this one is signed) is not signed in a batch.
    assert "已签收 1 件" in batch(clerk, [own]).get_data(as_text=True)
    (route,) = [t for t in ready_for(gongwen, dh_clerk) if t.name == "分办"]
    page = batch(clerk, [str(route.id)]).get_data(as_text=True)
    assert "“分办”不是签收事项" in page
    with gongwen.db.session() as session:
        assert session.get(Task, route.id).state == TaskState.READY
    # Five hundred ids: the whole batch refused, nothing signed, the refusal audited.
    many = batch(clerk, [foreign] + [str(uuid.uuid4()) for _ in range(499)])
    assert many.status_code == 302
    assert "一次最多批量签收 20 件" in clerk.get("/").get_data(as_text=True)
    assert batch(clerk, []).status_code == 302
    assert "请勾选要签收的来文" in clerk.get("/").get_data(as_text=True)
    with gongwen.db.session() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("access.refused") == 5 and actions.count("sign_for.batch_refused") == 1
    assert statuses(gongwen, [sent]) == [ReceiptStatus.SIGNED, ReceiptStatus.PENDING]


@pytest.mark.parametrize("login", ["sysadmin", "secadmin", "auditor", "lyg.clerk"])
def test_administrators_and_other_units_sign_nothing(gongwen, sealed, app, fixed_clock, login):
    sent = send(gongwen, sealed, main_to=("donghai_office",), title=TITLES[0])
    ids = sign_for_ids(gongwen, sealed.person("dh.clerk"))
    outsider = logged_in(app, login)
    page = batch(outsider, ids).get_data(as_text=True)
    assert "没有这件待签收的来文" in page and TITLES[0] not in page
    assert statuses(gongwen, [sent]) == [ReceiptStatus.PENDING]


def test_anonymous_and_without_csrf_are_refused(gongwen, sealed, app, fixed_clock):
    sent = send(gongwen, sealed, main_to=("donghai_office",), title=TITLES[0])
    ids = sign_for_ids(gongwen, sealed.person("dh.clerk"))
    anonymous = app.test_client()
    assert anonymous.post("/sign-for", data={"csrf_token": csrf_token(anonymous), "task_id": ids}).status_code in (
        302, 401)
    assert logged_in(app, "dh.clerk").post("/sign-for", data={"task_id": ids}).status_code == 400
    assert statuses(gongwen, [sent]) == [ReceiptStatus.PENDING]


def test_a_sealed_file_damaged_on_disk_fails_its_check_on_the_task_page_and_can_be_returned(
        gongwen, sealed, app, fixed_clock):
    (sent,) = three_arrivals(gongwen, sealed, spoil_second=False)[:1]
    with gongwen.db.session() as session:
        stored = gongwen.files.path(session.get(Document, sent.id).sealed_sha256)
    stored.write_bytes(stored.read_bytes()[:-100])  # the disk lost the file's end
    fixed_clock.advance(timedelta(minutes=5))
    task_id = sign_for_ids(gongwen, sealed.person("dh.clerk"))[0]
    clerk = logged_in(app, "dh.clerk")

    page = clerk.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    assert "文件完整" in page.get_data(as_text=True) and "已损坏" in page.get_data(as_text=True)
    signing = clerk.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(clerk, f"/tasks/{task_id}"),
                                                     "decision": "sign"})
    assert "验证未通过，不能签收，只能退回：文件完整" in signing.get_data(as_text=True)  # the page again, told why
    returning = clerk.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(clerk, f"/tasks/{task_id}"),
                                                       "decision": "return", "opinion": "文件已损坏，请重发"})
    assert returning.status_code == 302
    assert statuses(gongwen, [sent])[0] == ReceiptStatus.RETURNED
