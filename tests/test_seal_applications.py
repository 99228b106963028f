"""Seal applications from the browser: a unit applies, its head approves, the issuing office issues
within 5 working days (reminded at 3 and 1 working days left); the register shows each seal's history.

Driven through the pages with Flask's test client; the timers are the engine's, fired on the test clock.
"""

import io
import re
from datetime import datetime, timedelta

import pytest
from lxml import html
from sqlalchemy import func, select

from engine.models import AuditEvent, ProcessInstance, Task, TaskState
from handlers.notifications.models import Notification
from handlers.seals import pki
from handlers.seals.models import CertificateAuthority, Seal, SealStatus
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")

NEW_SEAL = {"action": "apply", "explanation": "新设电子印章，用于县政府办公室公文"}


def _task_urls(client, name: str) -> list[str]:
    """The links to my ready tasks ``name`` in my inbox, in the inbox's order."""
    rows = html.fromstring(client.get("/").get_data(as_text=True)).xpath("//div[@id='rows']//tbody/tr")
    return [row.xpath(".//a[starts-with(@href, '/tasks/')]/@href")[0] for row in rows
            if name in [cell.text_content().strip() for cell in row.xpath("td")]]


def _task_url(client, name: str) -> str:
    """The link to my ready task ``name`` in my inbox."""
    links = _task_urls(client, name)
    assert links, f"{name} not in the inbox"
    return links[0]


def _submit(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def _apply(app, login: str, form: dict):
    """Start an application from the inbox's button and submit its form; returns the client."""
    client = logged_in(app, login)
    assert "申请电子印章" in client.get("/").get_data(as_text=True)
    opened = client.post("/seals/applications/new", data={"csrf_token": csrf_token(client, "/")})
    assert opened.status_code == 302
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "<title>填写印章申请 · 公文系统</title>" in page
    assert _submit(client, opened.headers["Location"], form).status_code == 302
    return client


def _decide(app, login: str, step: str, form: dict):
    client = logged_in(app, login)
    return _submit(client, _task_url(client, step), form)


def _seals(gongwen, org, unit_key: str) -> list[Seal]:
    with gongwen.db.session() as session:
        return session.scalars(select(Seal).where(Seal.unit_id == org.unit(unit_key).id).order_by(Seal.id)).all()


def _told(gongwen, person) -> list[str]:
    with gongwen.db.session() as session:
        return list(session.scalars(select(Notification.text).where(Notification.person_id == person.id)
                                    .order_by(Notification.id)))


def _fire_at(gongwen, fixed_clock, moment: str) -> None:
    fixed_clock.set(datetime.fromisoformat(moment))
    gongwen.runtime.fire_due_timers()


def test_a_county_seal_goes_from_the_browser_to_issued_within_five_working_days(app, gongwen, org, fixed_clock):
    keeper = _apply(app, "dh.drafter", NEW_SEAL)  # Monday 2026-11-23 09:00
    assert "单位负责人审核" in logged_in(app, "dh.leader").get("/").get_data(as_text=True)  # the county's principal
    assert _decide(app, "dh.leader", "单位负责人审核", {"decision": "approve"}).status_code == 302

    # The provincial office issues county seals; it has 5 working days: the weekend does not count.
    province = logged_in(app, "js.leader")
    url = _task_url(province, "签发单位审批")
    page = province.get(url).get_data(as_text=True)
    assert "新设电子印章，用于县政府办公室公文" in page and "办理时限：2026-11-30 09:00" in page
    assert "PRIVATE KEY" not in page

    leader = org.person("js.leader")
    _fire_at(gongwen, fixed_clock, "2026-11-24T17:00:00+08:00")
    assert _told(gongwen, leader) == []
    _fire_at(gongwen, fixed_clock, "2026-11-25T09:01:00+08:00")
    assert _told(gongwen, leader) == ["东海县人民政府办公室的电子印章申请还剩3个工作日到期，请尽快审批"]
    _fire_at(gongwen, fixed_clock, "2026-11-27T09:01:00+08:00")
    assert _told(gongwen, leader)[-1] == "东海县人民政府办公室的电子印章申请还剩1个工作日到期，请尽快审批"

    assert _decide(app, "js.leader", "签发单位审批", {"decision": "approve", "opinion": "同意制发"}).status_code == 302
    (seal,) = _seals(gongwen, org, "donghai_office")
    assert seal.status == SealStatus.ACTIVE and seal.valid_from < datetime.fromisoformat("2026-11-30T09:00+08:00")
    with gongwen.db.session() as session:
        assert session.get(CertificateAuthority, seal.ca_id).unit_id == org.unit("province_office").id
    assert _told(gongwen, org.person("dh.drafter")) == [f"电子印章申请已办结：制发新印章 {seal.code}"]

    _fire_at(gongwen, fixed_clock, "2026-12-01T09:00:00+08:00")  # issued in time: no overdue notice follows
    assert not any("超过" in text for text in _told(gongwen, leader))

    keeper = logged_in(app, "dh.drafter")
    finished = re.search(r'href="(/instances/\d+)"', keeper.get("/?view=finished").text).group(1)
    assert keeper.get(finished).headers["Location"].endswith("/seals/applications#application-" + finished[11:])
    listing = keeper.get("/seals/applications").get_data(as_text=True)
    assert f"办结：制发新印章 {seal.code}" in listing
    for login in ("dh.drafter", "js.leader", "secadmin"):  # the unit, the issuing office, the security officer
        register = logged_in(app, login).get("/seals/register").get_data(as_text=True)
        assert f'id="seal-{seal.code}"' in register and "江苏省人民政府办公厅电子印章签发中心" in register
        assert "PRIVATE KEY" not in register and "BEGIN CERTIFICATE" not in register


def test_an_application_the_issuing_office_leaves_is_overdue_after_five_working_days(app, gongwen, org, fixed_clock):
    _apply(app, "cz.clerk", NEW_SEAL | {"explanation": "新设"})  # a city department: the city office issues
    _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    city_leaders = [org.person("lyg.leader"), org.person("lyg.signer")]
    _fire_at(gongwen, fixed_clock, "2026-11-30T08:59:00+08:00")
    assert not any("超过" in t for p in city_leaders for t in _told(gongwen, p))
    _fire_at(gongwen, fixed_clock, "2026-11-30T09:01:00+08:00")
    for person in city_leaders:
        assert _told(gongwen, person)[-1] == "连云港市财政局的电子印章申请已超过5个工作日未办结"
    listing = logged_in(app, "lyg.leader").get("/seals/applications").get_data(as_text=True)
    assert "报本单位审批的申请" in listing and "连云港市财政局" in listing
    assert re.search(r'class="overdue">2026-11-30 09:00', listing)


@pytest.mark.usefixtures("sealed")
def test_a_lost_seal_is_reissued_with_a_written_explanation_and_distrusted_from_the_given_time(
        app, gongwen, org, fixed_clock):
    (old,) = _seals(gongwen, org, "donghai_office")
    fixed_clock.advance(timedelta(days=1))  # Tuesday: the seal was issued on Monday 09:00
    keeper = logged_in(app, "dh.drafter")
    url = keeper.post("/seals/applications/new", data={"csrf_token": csrf_token(keeper, "/")}).headers["Location"]
    unexplained = _submit(keeper, url, {"action": "reissue", "seal_code": old.code, "reason": "lost"})
    assert unexplained.status_code == 422 and "必填" in unexplained.get_data(as_text=True)
    report = b"%PDF-1.7\n% police report\n"
    assert f'enctype="multipart/form-data" action="/seals{url}/application"' in keeper.get(url).get_data(as_text=True)
    _submit_to(keeper, url, f"/seals{url}/application", {
        "action": "reissue", "seal_code": old.code, "reason": "lost",
        "explanation": "11月23日中午起存放印章介质的电脑被盗，已报警",
        "explanation_upload": (io.BytesIO(report), "扫描件/报案回执.pdf")})
    head = logged_in(app, "dh.leader")
    page = head.get(_task_url(head, "单位负责人审核")).get_data(as_text=True)
    link = re.search(r'href="(/seals/applications/\d+/explanation)">报案回执.pdf</a>', page).group(1)
    assert head.get(link).data == report
    assert _submit(head, _task_url(head, "单位负责人审核"), {"decision": "approve"}).status_code == 302

    province = logged_in(app, "js.leader")
    task = _task_url(province, "签发单位审批")
    assert "遗失（私钥可能泄露）" in province.get(task).get_data(as_text=True)
    assert province.get(link).data == report  # the issuing office reads the explanation's file too
    for outsider in ("gy.drafter", "lyg.leader", "secadmin", "auditor"):
        assert logged_in(app, outsider).get(link).status_code == 404
    future = _submit(province, task, {"decision": "approve", "invalid_since": "2026-11-25T09:00"})
    assert "失效起始时间应在印章制发" in future.get_data(as_text=True)
    assert [s.status for s in _seals(gongwen, org, "donghai_office")] == [SealStatus.ACTIVE]  # nothing changed

    assert _submit(province, task, {"decision": "approve", "invalid_since": "2026-11-23T12:00"}).status_code == 302
    old, new = _seals(gongwen, org, "donghai_office")
    assert (old.status, old.revoke_reason, new.status, new.replaces_id) == (
        SealStatus.REVOKED, "lost", SealStatus.ACTIVE, old.id)
    assert old.invalid_since == datetime.fromisoformat("2026-11-23T12:00+08:00")
    with gongwen.db.session() as session:
        crl = pki.load_crl(session.get(CertificateAuthority, old.ca_id).crl_der)
    assert int(old.serial, 16) in {entry.serial_number for entry in crl}

    register = logged_in(app, "dh.drafter").get("/seals/register").get_data(as_text=True)
    assert "吊销：印章遗失或私钥泄露；自 2026-11-23 12:00 起不再可信" in register
    assert f"由 {new.code} 替代" in register and f"制发，替代 {old.code}" in register


@pytest.mark.usefixtures("sealed")
def test_renewal_supersedes_the_old_seal_and_a_return_revokes_it_after_both_sent_it_back_once(
        app, gongwen, org):
    (first,) = _seals(gongwen, org, "finance")
    _apply(app, "cz.clerk", {"action": "renew", "seal_code": first.code, "explanation": "证书即将到期"})
    _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    _decide(app, "lyg.leader", "签发单位审批", {"decision": "approve"})
    old, renewed = _seals(gongwen, org, "finance")
    assert (old.status, old.revoked_at, renewed.replaces_id) == (SealStatus.SUPERSEDED, None, old.id)

    _apply(app, "cz.clerk", {"action": "return", "seal_code": renewed.code, "reason": "dissolved",
                             "explanation": "机构改革，本局撤销"})
    bare = _decide(app, "cz.signer", "单位负责人审核", {"decision": "return"})
    assert bare.status_code == 422 and "请写明退回的理由" in bare.get_data(as_text=True)
    _decide(app, "cz.signer", "单位负责人审核", {"decision": "return", "opinion": "请附机构改革文件文号"})
    clerk = logged_in(app, "cz.clerk")
    again = clerk.get(_task_url(clerk, "填写印章申请")).get_data(as_text=True)
    assert "请附机构改革文件文号" in again
    _submit(clerk, _task_url(clerk, "填写印章申请"), {"action": "return", "seal_code": renewed.code,
                                                  "reason": "dissolved", "explanation": "依连编〔2026〕1号撤销"})
    _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    _decide(app, "lyg.leader", "签发单位审批", {"decision": "return", "opinion": "请先办结在办公文"})
    assert [s.status for s in _seals(gongwen, org, "finance")] == [SealStatus.SUPERSEDED, SealStatus.ACTIVE]
    clerk = logged_in(app, "cz.clerk")
    _submit(clerk, _task_url(clerk, "填写印章申请"), {"action": "return", "seal_code": renewed.code,
                                                  "reason": "dissolved", "explanation": "公文已办结"})
    _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    _decide(app, "lyg.signer", "签发单位审批", {"decision": "approve"})
    old, renewed = _seals(gongwen, org, "finance")
    assert (old.status, renewed.status, renewed.revoke_reason) == (
        SealStatus.SUPERSEDED, SealStatus.REVOKED, "dissolved")
    listing = logged_in(app, "cz.clerk").get("/seals/applications").get_data(as_text=True)
    assert f"办结：缴回注销印章 {renewed.code}" in listing and "办结：换发印章" in listing


def _seal_instances(gongwen) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.process_id == "seal"))


@pytest.mark.usefixtures("sealed")
def test_only_a_units_seal_keeper_or_clerk_applies_and_each_sees_only_its_own(app, gongwen, org):
    drafter = logged_in(app, "lyg.drafter")  # a drafter only: no button, and the server refuses too
    assert "申请电子印章" not in drafter.get("/").get_data(as_text=True)
    assert drafter.post("/seals/applications/new", data={"csrf_token": csrf_token(drafter, "/")}).status_code == 403
    for login in ("sysadmin", "auditor", "secadmin"):  # 三员: none applies or follows applications
        admin = logged_in(app, login)
        assert admin.post("/seals/applications/new", data={"csrf_token": csrf_token(admin, "/")}).status_code == 403
        assert admin.get("/seals/applications").status_code == 403
    for login in ("sysadmin", "auditor"):
        assert logged_in(app, login).get("/seals/register").status_code == 403
    assert _seal_instances(gongwen) == 0
    with gongwen.db.session() as session:
        refusals = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "request.refused", AuditEvent.detail["path"].as_string() == "/seals/applications/new"))
    assert refusals == 4

    anonymous = app.test_client()
    assert anonymous.get("/seals/register").status_code == 302
    assert anonymous.post("/seals/applications/new", data={"csrf_token": csrf_token(anonymous)}).status_code == 302
    assert _seal_instances(gongwen) == 0

    _apply(app, "dh.drafter", {"action": "renew", "seal_code": _seals(gongwen, org, "donghai_office")[0].code,
                               "explanation": "到期"})
    neighbour = logged_in(app, "gy.drafter")  # another county's seal keeper
    assert "东海县" not in neighbour.get("/seals/applications").get_data(as_text=True)
    register = neighbour.get("/seals/register").get_data(as_text=True)
    assert "灌云县人民政府办公室" in register and "东海县人民政府办公室" not in register
    with gongwen.db.session() as session:
        task_id = session.scalar(select(Task.id).where(Task.state == TaskState.READY,
                                                       Task.form_key == "seal_head_decision"))
    for outsider in ("gy.leader", "js.leader", "secadmin"):  # the head's step is the county's own
        assert logged_in(app, outsider).get(f"/tasks/{task_id}").status_code == 404


@pytest.mark.usefixtures("sealed")
def test_hostile_values_are_refused_in_chinese_and_change_nothing(app, gongwen, org):
    other_unit_seal = _seals(gongwen, org, "guanyun_office")[0].code
    (own,) = _seals(gongwen, org, "donghai_office")
    keeper = logged_in(app, "dh.drafter")
    url = keeper.post("/seals/applications/new", data={"csrf_token": csrf_token(keeper, "/")}).headers["Location"]
    refused = [
        ({"action": "bogus", "explanation": "x"}, "不是可选的值"),
        ({"action": "renew", "seal_code": other_unit_seal, "explanation": "x"}, "不是可选的值"),
        ({"action": "apply", "seal_code": own.code, "explanation": "x"}, "申请新印章不需选择原印章"),
        ({"action": "return", "seal_code": own.code, "reason": "lost", "explanation": "x"}, "请选择：单位撤销或合并"),
        ({"action": "renew", "seal_code": own.code, "name": "假名", "explanation": "x"}, "只有申请新印章或更名换发"),
        ({"action": "rename", "seal_code": own.code, "explanation": "x"}, "请填写更名后的印章名称"),
        ({"action": "renew", "seal_code": own.code, "explanation": "响铃\x07"}, "不可见"),
        ({"action": "renew", "seal_code": own.code, "explanation": "长" * 501}, "长度应在"),
    ]
    for form, message in refused:
        answer = _submit(keeper, url, form)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True), form
    assert _submit(keeper, url, {"action": "renew", "seal_code": "\x00"}).status_code == 400
    assert keeper.get(url).status_code == 200  # still this person's task, nothing went on

    _submit(keeper, url, {"action": "renew", "seal_code": own.code, "explanation": "到期换发"})
    _decide(app, "dh.leader", "单位负责人审核", {"decision": "approve"})
    province = logged_in(app, "js.leader")
    task = _task_url(province, "签发单位审批")
    for moment in ("garbage", "2026-13-01T00:00", "2026-11-23T10:00+05:00", "9999-01-01T00:00"):
        answer = _submit(province, task, {"decision": "approve", "invalid_since": moment})
        assert answer.status_code == 422 and "时间格式应为" in answer.get_data(as_text=True)
    not_lost = _submit(province, task, {"decision": "approve", "invalid_since": "2026-11-23T10:00"})
    assert not_lost.status_code == 200 and "只有遗失补发时才能指定" in not_lost.get_data(as_text=True)
    assert [s.status for s in _seals(gongwen, org, "donghai_office")] == [SealStatus.ACTIVE]
    assert province.get(task).status_code == 200


@pytest.mark.usefixtures("sealed")
def test_an_explanations_file_is_checked_and_only_the_applicants_own_upload_is_accepted(app, gongwen, org):
    from engine.models import StoredFile

    def stored() -> int:
        with gongwen.db.session() as session:
            return session.scalar(select(func.count()).select_from(StoredFile))

    (own,) = _seals(gongwen, org, "donghai_office")
    form = {"action": "reissue", "seal_code": own.code, "reason": "damaged", "explanation": "介质损坏"}
    before = stored()
    keeper = logged_in(app, "dh.drafter")
    url = keeper.post("/seals/applications/new", data={"csrf_token": csrf_token(keeper, "/")}).headers["Location"]
    upload = f"/seals{url}/application"
    program = _submit_to(keeper, url, upload, form | {"explanation_upload": (io.BytesIO(b"MZ\x90\x00"), "说明.exe")})
    assert "不是允许的格式" in keeper.get(program.headers["Location"]).get_data(as_text=True)
    assert stored() == before and keeper.get(url).status_code == 200  # refused: nothing kept, still to do

    # Another applicant's file cannot be named by its hash, nor a name given without a file.
    guanyun = logged_in(app, "gy.drafter")
    other_url = guanyun.post("/seals/applications/new",
                             data={"csrf_token": csrf_token(guanyun, "/")}).headers["Location"]
    gy_seal = _seals(gongwen, org, "guanyun_office")[0].code
    _submit_to(guanyun, other_url, f"/seals{other_url}/application",
               form | {"seal_code": gy_seal, "explanation_upload": (io.BytesIO(b"%PDF-1.7 gy"), "gy.pdf")})
    with gongwen.db.session() as session:
        theirs = session.scalar(select(Task.form_data).where(Task.form_key == "seal_request",
                                                             Task.state == TaskState.COMPLETED))["explanation_file"]
    borrowed = _submit(keeper, url, form | {"explanation_file": theirs, "explanation_file_name": "gy.pdf"})
    assert borrowed.status_code == 422 and "不是可选的值" in borrowed.get_data(as_text=True)
    nameless = _submit(keeper, url, form | {"explanation_file_name": "假.pdf"})
    assert nameless.status_code == 422 and "没有附件" in nameless.get_data(as_text=True)
    # A form with mistakes keeps no file: it is stored only with a form that can be submitted.
    wrong = _submit_to(keeper, url, upload,
                       form | {"reason": "", "explanation_upload": (io.BytesIO(b"%PDF x"), "x.pdf")})
    assert wrong.status_code == 422 and "请选择原因" in wrong.get_data(as_text=True)
    assert stored() == before + 1  # guanyun's file only
    # Someone else's task cannot be completed through the upload route either.
    assert _submit_to(guanyun, url, upload, form).status_code == 404


def _submit_to(client, page: str, action: str, data: dict):
    """Post ``data`` as ``page``'s form would, to the form's ``action``."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data},
                       content_type="multipart/form-data")


@pytest.mark.usefixtures("sealed")
def test_of_two_applications_for_one_seal_only_the_first_is_carried_out(app, gongwen, org):
    (seal,) = _seals(gongwen, org, "finance")
    for explanation in ("证书到期换发", "同一事项重复申请"):
        _apply(app, "cz.clerk", {"action": "renew", "seal_code": seal.code, "explanation": explanation})
        _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    city = logged_in(app, "lyg.leader")
    first, second = _task_urls(city, "签发单位审批")
    assert _submit(city, first, {"decision": "approve"}).status_code == 302
    late = _submit(city, second, {"decision": "approve"})
    assert late.status_code == 200 and f"印章 {seal.code} 已不在使用" in late.text
    assert [s.status for s in _seals(gongwen, org, "finance")] == [SealStatus.SUPERSEDED, SealStatus.ACTIVE]
    assert _submit(city, second, {"decision": "return", "opinion": "已换发，无需重复申请"}).status_code == 302


def test_two_applications_for_a_first_seal_issue_one(app, gongwen, org):
    for _ in range(2):
        _apply(app, "cz.clerk", NEW_SEAL)
        _decide(app, "cz.signer", "单位负责人审核", {"decision": "approve"})
    city = logged_in(app, "lyg.leader")
    first, second = _task_urls(city, "签发单位审批")
    _submit(city, first, {"decision": "approve"})
    assert "已有在用的印章" in _submit(city, second, {"decision": "approve"}).text
    assert [s.status for s in _seals(gongwen, org, "finance")] == [SealStatus.ACTIVE]
