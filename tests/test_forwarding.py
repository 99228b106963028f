"""转发 (a received document sent on with a covering notice that carries its sealed file unchanged) and a
department's own exchange box (处室收文箱: signed for, registered and routed by the department's clerk)."""

import pytest
from sqlalchemy import func, select

from engine.errors import FormInvalid, NotFound, Refused
from engine.models import AuditEvent, Person, Role
from engine.organisation import create_person, grant_role
from handlers.documents.models import Document
from handlers.exchange.models import Receipt
from handlers.forwarding.boxes import open_box
from handlers.forwarding.forward import forward_links, may_forward, start_forward, verify_original
from handlers.incoming.models import IncomingRecord
from tests.outgoing_support import act, document, send, task_of
from tests.support import csrf_token, logged_in, pdfsig, ready_for
from web import access

pytestmark = pytest.mark.usefixtures("deployed")


def _forward(gongwen, original, person):
    with gongwen.db.write() as session:
        return start_forward(gongwen.runtime, session, session.get(Document, original.id),
                             session.get(Person, person.id)).id


def test_a_forward_carries_the_original_byte_for_byte_and_its_seal_verifies_at_the_recipient(
        gongwen, sealed, run, tmp_path):
    org = sealed
    original = send(gongwen, org)  # the city office to Donghai
    with gongwen.db.session() as session:  # not signed for yet: nothing to forward
        drafter = session.get(Person, org.person("dh.drafter").id)
        assert not may_forward(session, session.get(Document, original.id), drafter)
    with pytest.raises(Refused, match="签收后才能转发"):
        _forward(gongwen, original, org.person("dh.drafter"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})

    notice_id = _forward(gongwen, original, org.person("dh.drafter"))
    notice = document(gongwen, notice_id)
    assert notice.title == f"关于转发《{original.title}》的通知"
    assert f"《{original.title}》（连政办发〔2026〕1号）转发给你们" in notice.body[0]
    assert [a.sha256 for a in notice.attachments] == [original.sealed_sha256]
    # The ordinary outgoing process, from 拟稿 (title and body as filled in, recipients picked) to dispatch.
    sent = send(gongwen, org, drafter="dh.drafter", main_to=("guanyun_office",), document_id=notice_id,
                title=notice.title, body="\n".join(notice.body))
    assert sent.sealed_sha256 and sent.doc_number.startswith("东政办发")
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "sign"})

    with gongwen.db.session() as session:
        gy = org.person("gy.clerk").id
        carried = access.readable_attachment(session, sent.id, sent.attachments[0].id, gy)
        with pytest.raises(NotFound):  # Guanyun holds the forward, not the original's own record
            access.readable_document(session, original.id, gy)
        forwarded_from, report = verify_original(session, gongwen.files, session.get(Document, sent.id))
        links = forward_links(session, session.get(Document, sent.id), gy)
        back = forward_links(session, session.get(Document, original.id), org.person("dh.drafter").id)
        city = forward_links(session, session.get(Document, original.id), org.person("lyg.drafter").id)
    pdf = gongwen.files.get(carried.sha256)
    assert pdf == gongwen.files.get(original.sealed_sha256)  # byte for byte
    assert forwarded_from.id == original.id and report.ok, report.reason
    assert [s["unit"] for s in report.signers] == ["连云港市人民政府办公室"]
    assert links.original.id == original.id and not links.original_readable
    assert [n.id for n in back.forwards] == [sent.id]
    assert city.forwards == []  # the city office does not read Donghai's forward
    assert run("ca", "export-root", str(tmp_path / "root.pem")).exit_code == 0
    (tmp_path / "original.pdf").write_bytes(pdf)
    out = pdfsig(tmp_path / "original.pdf", (tmp_path / "root.pem").read_bytes())
    assert "Signature is Valid." in out and "Certificate is Trusted." in out


def test_the_forward_button_and_pages_and_who_is_refused(gongwen, sealed, app):
    org = sealed
    original = send(gongwen, org)
    page = f"/documents/{original.id}"
    drafter = logged_in(app, "dh.drafter")
    assert "转发</button>" not in drafter.get(page).get_data(as_text=True)  # not signed for yet
    refused = drafter.post(f"{page}/forward", data={"csrf_token": csrf_token(drafter, page)}, follow_redirects=True)
    assert "未转发：本单位签收后才能转发" in refused.get_data(as_text=True)
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    assert "转发</button>" in drafter.get(page).get_data(as_text=True)

    clerk = logged_in(app, "dh.clerk")  # a clerk is no drafter: no button, and a post is refused
    assert "转发</button>" not in clerk.get(page).get_data(as_text=True)
    assert "未转发" in clerk.post(f"{page}/forward", data={"csrf_token": csrf_token(clerk, page)},
                               follow_redirects=True).get_data(as_text=True)
    for login in ("gy.drafter", "sysadmin", "secadmin", "auditor"):  # another unit and the administrators
        other = logged_in(app, login)
        assert other.post(f"{page}/forward", data={"csrf_token": csrf_token(other)}).status_code == 404
    assert app.test_client().post(f"{page}/forward").status_code in (302, 400)  # anonymous: no forward
    assert drafter.post(f"{page}/forward").status_code == 400  # no CSRF token
    assert drafter.post("/documents/99999999/forward", data={"csrf_token": csrf_token(drafter)}).status_code == 404
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1  # nothing started by any of them
        assert session.scalar(select(func.count()).where(AuditEvent.action == "document.forward.refused")) == 2

    opened = drafter.post(f"{page}/forward", data={"csrf_token": csrf_token(drafter, page)})
    assert opened.status_code == 302 and "/tasks/" in opened.headers["Location"]
    form = drafter.get(opened.headers["Location"]).get_data(as_text=True)
    assert f"关于转发《{original.title}》的通知" in form
    notice_id = task_of(gongwen, org.person("dh.drafter"), "拟稿").instance_id
    with gongwen.db.session() as session:
        notice = session.scalar(select(Document).where(Document.instance_id == notice_id))
    shown = drafter.get(f"/documents/{notice.id}").get_data(as_text=True)
    assert "转发自：" in shown and "核验原件印章" in shown and "附件1：" in shown
    check = drafter.get(f"/documents/{notice.id}/forwarded-original").get_data(as_text=True)
    assert "原件印章有效" in check and "连云港市人民政府办公室" in check
    assert "本单位已转发：" in drafter.get(page).get_data(as_text=True)
    assert logged_in(app, "gy.clerk").get(f"/documents/{notice.id}/forwarded-original").status_code == 404
    assert logged_in(app, "auditor").get(f"/documents/{notice.id}/forwarded-original").status_code == 404
    assert drafter.get(f"{page}/forwarded-original").status_code == 404  # the original forwards nothing


@pytest.fixture
def boxes(gongwen, sealed):
    """The finance bureau's 预算处 and 办公室 each keep a box, with a clerk of their own."""
    org = sealed
    with gongwen.db.write() as session:
        for login, key in (("cz.ysc", "finance_budget"), ("cz.bgs", "finance_office")):
            department = session.merge(org.departments[key])
            open_box(session, department)
            person = create_person(session, login, f"收文员{key}", "gongwen-demo", unit=department.unit,
                                   department=department)
            grant_role(session, person, Role.CLERK, unit=department.unit, department=department)
            org.people[login] = person
    return org


def _record(gongwen, document_id):
    with gongwen.db.session() as session:
        return session.scalar(select(IncomingRecord).where(IncomingRecord.document_id == document_id))


def test_a_document_to_a_department_box_is_signed_for_and_numbered_there_only(gongwen, boxes):
    org = boxes
    budget, office = org.departments["finance_budget"], org.departments["finance_office"]
    first = send(gongwen, org, main_to=(), main_to_boxes=[budget.id])
    assert first.main_to == [org.unit("finance").id] and first.main_to_text == "连云港市财政局预算处"
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).where(Receipt.document_id == first.id)) == 1
    for outsider in ("cz.bgs", "cz.clerk"):  # the 办公室's clerk and the bureau's own clerk do not see it
        assert [t.name for t in ready_for(gongwen, org.person(outsider))] == []
    sign_for = task_of(gongwen, org.person("cz.ysc"), "签收")
    with gongwen.db.session() as session, pytest.raises(NotFound):
        access.actionable_task(session, sign_for.id, org.person("cz.bgs").id)
    act(gongwen, org.person("cz.ysc"), "签收", {"decision": "sign"})
    record = _record(gongwen, first.id)
    assert record.incoming_number == "预算处收文〔2026〕1号" and record.department_id == budget.id
    route = task_of(gongwen, org.person("cz.ysc"), "分办")  # routed in the department too
    assert route.candidate_department_id == budget.id
    assert ready_for(gongwen, org.person("cz.bgs")) == []

    # The next one to the box is its 2号; one to the bureau itself is in the bureau's series, and its clerk's.
    second = send(gongwen, org, main_to=(), main_to_boxes=[budget.id], title="关于报送预算执行情况的通知")
    act(gongwen, org.person("cz.ysc"), "签收", {"decision": "sign"})
    whole = send(gongwen, org, main_to=("finance",), title="关于做好年终决算的通知")
    assert [t.name for t in ready_for(gongwen, org.person("cz.ysc")) if t.name == "签收"] == ["签收"]
    act(gongwen, org.person("cz.clerk"), "签收", {"decision": "sign"})
    assert _record(gongwen, second.id).incoming_number == "预算处收文〔2026〕2号"
    assert _record(gongwen, whole.id).incoming_number == "收文〔2026〕1号"
    # And the 办公室's box numbers from 1 on its own.
    third = send(gongwen, org, main_to=(), main_to_boxes=[office.id], title="关于机关值班安排的通知")
    assert [t.name for t in ready_for(gongwen, org.person("cz.ysc")) if t.name == "签收"] == []  # not 预算处's
    act(gongwen, org.person("cz.bgs"), "签收", {"decision": "sign"})
    assert _record(gongwen, third.id).incoming_number == "办公室收文〔2026〕1号"


def test_only_boxes_are_offered_and_a_unit_gets_one_copy(gongwen, boxes, app):
    from tests.outgoing_support import NOTICE, start

    org = boxes
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    budget = org.departments["finance_budget"]
    without_box = org.departments["education_office"]
    for picks, problem in (([without_box.id], FormInvalid), ([999999], FormInvalid), (["x"], FormInvalid),
                           ([budget.id, org.departments["finance_office"].id], Refused)):
        with pytest.raises(problem):
            act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [], "main_to_boxes": picks})
    with pytest.raises(Refused, match="每个单位只收一份"):
        act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("finance").id], "main_to_boxes": [budget.id]})
    with gongwen.db.session() as session:
        saved = session.get(Document, doc.id)
        assert saved.title == "" and saved.main_to == []  # nothing of a refused draft was kept

    client = logged_in(app, "lyg.drafter")
    form = client.get(f"/tasks/{task_of(gongwen, drafter, '拟稿').id}").get_data(as_text=True)
    assert "连云港市财政局 · 预算处" in form and "连云港市财政局 · 办公室" in form
    assert "连云港市教育局 · 办公室" not in form  # no box: not offered


def test_an_administrator_opens_a_box_from_the_command_line(gongwen, org, run):
    opened = run("boxes", "open", "连云港市财政局", "预算处")
    assert opened.exit_code == 0 and "收文号：预算处收文〔年度〕N号" in opened.output
    assert run("boxes", "list").output.strip() == "连云港市财政局\t预算处\t预算处收文"
    again = run("boxes", "open", "市财政局", "预算处")
    assert again.exit_code == 1 and "预算处已有收文箱" in again.output
    missing = run("boxes", "open", "连云港市财政局", "不存在的处")
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def _picked(form: str, name: str) -> str:
    select_ = form[form.index(f'name="{name}"'):]
    return select_[:select_.index("</select>")]


def test_a_returned_draft_opens_with_its_box_picked_again(gongwen, boxes, app):
    from tests.outgoing_support import NOTICE, start

    org = boxes
    drafter, budget = org.person("lyg.drafter"), org.departments["finance_budget"]
    start(gongwen, drafter)
    donghai, finance = org.unit("donghai_office").id, org.unit("finance").id
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [donghai], "main_to_boxes": [budget.id]})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "请核对主送"})
    form = logged_in(app, "lyg.drafter").get(f"/tasks/{task_of(gongwen, drafter, '拟稿').id}").get_data(as_text=True)
    assert f'value="{budget.id}" selected' in _picked(form, "main_to_boxes")
    assert f'value="{donghai}" selected' in _picked(form, "main_to")
    assert f'value="{finance}" selected' not in _picked(form, "main_to")  # the bureau is reached through its box
