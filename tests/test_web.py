"""The small web app for human tasks: log in, see the inbox, fill in a form; CSRF and unit checks hold."""

import io
import re
from datetime import datetime, timedelta

import pytest

from tests.support import ROOT, require
from tests.support import csrf_token as _token
from tests.support import logged_in as _login
from web import demo
from web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("deployed")


def test_login_refuses_a_wrong_password_in_chinese(app, org):
    client = app.test_client()
    response = client.post("/login", data={"login": "lyg.clerk", "password": "nope", "csrf_token": _token(client)})
    assert response.status_code == 401 and "登录名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_form_post_without_the_csrf_token_is_refused(app, org):
    client = _login(app, "lyg.drafter")
    assert client.post("/leave/new").status_code == 400
    assert "申请请假" in client.get("/").get_data(as_text=True)


def test_a_leave_application_from_the_browser_reaches_the_head(app, org):
    drafter = _login(app, "lyg.drafter")
    form_page = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")})
    task_url = form_page.headers["Location"]
    page = drafter.get(task_url).get_data(as_text=True)
    assert "<title>填写请假单 · 公文系统</title>" in page

    token = _token(drafter, task_url)
    bad = drafter.post(task_url, data={"csrf_token": token, "kind": "annual", "start_date": "2026-11-30",
                                       "end_date": "2026-11-24", "reason": "探亲"})
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.get_data(as_text=True)
    good = drafter.post(task_url, data={"csrf_token": token, "kind": "annual", "start_date": "2026-11-24",
                                        "end_date": "2026-11-25", "reason": "探亲"})
    assert good.status_code == 302

    inbox = _login(app, "lyg.head").get("/").get_data(as_text=True)
    assert "部门负责人审批" in inbox
    assert drafter.get(task_url).status_code == 404  # done: no longer a task of anyone's


def test_a_leave_application_opens_from_done_with_its_steps_for_those_who_took_part(app, org):
    drafter = _login(app, "lyg.drafter")
    task_url = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")}).headers["Location"]
    drafter.post(task_url, data={"csrf_token": _token(drafter, task_url), "kind": "annual",
                                 "start_date": "2026-11-24", "end_date": "2026-11-25", "reason": "探亲"})
    done = drafter.get("/?view=done").get_data(as_text=True)
    (link,) = set(re.findall(r'href="(/instances/\d+)"', done))

    page = drafter.get(link).get_data(as_text=True)
    assert "办理中" in page and "填写请假单" in page and "部门负责人审批" in page and "待办理" in page
    for outsider in ("lyg.head", "dh.clerk", "sysadmin", "secadmin", "auditor"):  # the head has not acted yet
        assert _login(app, outsider).get(link).status_code == 404
    assert "/login" in app.test_client().get(link).headers["Location"]
    assert drafter.get("/instances/999999").status_code == 404 and drafter.get("/instances/x").status_code == 404


def test_only_a_drafter_is_offered_to_draft_a_document(app, org):
    assert "起草公文" in _login(app, "lyg.drafter").get("/").get_data(as_text=True)
    clerk_inbox = _login(app, "lyg.clerk").get("/").get_data(as_text=True)
    assert "起草公文" not in clerk_inbox and "申请请假" in clerk_inbox


def test_a_task_of_another_unit_does_not_exist_for_you(app, org):
    drafter = _login(app, "lyg.drafter")
    task_url = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")}).headers["Location"]
    for outsider in ("dh.clerk", "cz.drafter", "sysadmin"):
        assert _login(app, outsider).get(task_url).status_code == 404


def test_an_idle_session_expires(app, org, fixed_clock):
    client = _login(app, "lyg.clerk")
    assert client.get("/").status_code == 200
    fixed_clock.advance(timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_the_inbox_views_list_what_i_did_and_what_is_still_moving(app, gongwen, org):
    from tests.support import ready_for

    drafter = _login(app, "lyg.drafter")
    task_url = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")}).headers["Location"]
    drafter.post(task_url, data={"csrf_token": _token(drafter, task_url), "kind": "annual",
                                 "start_date": "2026-11-24", "end_date": "2026-11-25", "reason": "探亲"})
    head = org.person("lyg.head")
    gongwen.runtime.complete(ready_for(gongwen, head)[0].id, head.id, {"decision": "return", "opinion": "请注明去向"})

    todo = drafter.get("/").get_data(as_text=True)
    assert re.search(r"待办（<span id=\"todo-count\">1</span>）", todo) and "填写请假单" in todo
    done = drafter.get("/?view=done").get_data(as_text=True)
    assert "<title>已办 · 公文系统</title>" in done and "填写请假单" in done
    assert "请假申请" in drafter.get("/?view=doing").get_data(as_text=True)
    assert "没有办结事项" in drafter.get("/?view=finished").get_data(as_text=True)
    assert "没有待办事项" in drafter.get("/?q=不存在的标题").get_data(as_text=True)

    page = drafter.get(ready_url(drafter)).get_data(as_text=True)
    assert "办理过程" in page and "请注明去向" in page  # the return's opinion is shown at the later step


def ready_url(client) -> str:
    return re.search(r'href="(/tasks/[0-9a-f-]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_sign_for_page_shows_the_verification_report_and_the_pdf(app, gongwen, org):
    doc = _dispatched(gongwen, org)
    clerk = _login(app, "dh.clerk")
    page = clerk.get(ready_url(clerk)).get_data(as_text=True)
    assert "验证通过：可以签收" in page and "✓ 证书链可信" in page
    pdf = clerk.get(f"/documents/{doc.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert _login(app, "cz.drafter").get(f"/documents/{doc.id}/pdf").status_code == 404


def test_a_drafter_drafts_with_pickers_attaches_a_file_previews_and_submits(app, gongwen, org):
    drafter = _login(app, "lyg.drafter")
    draft_url = drafter.post("/documents/new", data={"csrf_token": _token(drafter, "/")}).headers["Location"]
    page = drafter.get(draft_url).get_data(as_text=True)
    assert '<select id="main_to" name="main_to" multiple' in page and "东海县人民政府办公室" in page
    assert re.search(r'<select id="classification"[^>]*>.*<option value="非密" selected>无（非密）</option>', page,
                     re.S)  # 密级 is a pick, non-classified chosen already
    document_id = int(re.search(r"/documents/(\d+)/preview", page).group(1))

    token = _token(drafter, draft_url)
    fields = {"csrf_token": token, "doc_type": "notice", "direction": "downward", "classification": "非密",
              "title": "关于开展安全检查的通知", "body": "请各县开展安全检查。",
              "main_to": [str(org.unit("donghai_office").id), str(org.unit("guanyun_office").id)]}
    # Uploading sends the typed draft along, and the page comes back with it and the new attachment.
    uploaded = drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data",
                            data={**fields, "attachment_name": "排查表",
                                  "attachment_file": (io.BytesIO(b"%PDF-1.4\n%%EOF"), "table.pdf")})
    page = uploaded.get_data(as_text=True)
    assert uploaded.status_code == 200 and "已添加附件：排查表" in page
    assert "附件1：排查表" in page and ">关于开展安全检查的通知</textarea>" in page
    assert ">请各县开展安全检查。</textarea>" in page
    assert f'<form method="post" novalidate action="{draft_url}">' in page  # 提交 still completes the task
    refused = drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data",
                           data={**fields, "attachment_file": (io.BytesIO(b"MZ\x90\x00program"), "report.pdf")})
    page = refused.get_data(as_text=True)
    assert "附件未更改：附件“report.pdf”不是允许的格式" in page and ">关于开展安全检查的通知</textarea>" in page

    preview = drafter.post(f"/documents/{document_id}/preview", data=fields)
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    submitted = drafter.post(draft_url, data=fields)
    assert submitted.status_code == 302
    inbox = _login(app, "lyg.head").get("/").get_data(as_text=True)
    assert "部门审核" in inbox and "关于开展安全检查的通知" in inbox
    outsider = _login(app, "cz.drafter")
    fields["csrf_token"] = _token(outsider, "/")
    assert outsider.post(f"/documents/{document_id}/preview", data=fields).status_code == 404


def _dispatched(gongwen, org, **changes):
    """A notice from the city office to 东海县 through to dispatch (``changes`` to the draft)."""
    from tests.outgoing_support import send

    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office", "donghai_office"])
    return send(gongwen, org, **changes)


def test_the_document_page_shows_where_it_is_and_the_sender_can_chase(app, gongwen, org):
    doc = _dispatched(gongwen, org)
    sender = _login(app, "lyg.drafter")
    page = sender.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "流程跟踪" in page and "签收情况" in page and "东海县人民政府办公室" in page
    # The timeline: who did each step, what they decided, when; the diagram behind its toggle.
    signer = org.person("lyg.signer").name
    assert re.search(rf"2026-11-23 \d\d:\d\d</time>\s*{signer}(（[^）]*）)? · 签发：同意签发", page)
    assert "<summary>查看流程图</summary>" in page
    progress_url = re.search(r'data-progress="([^"]+)"', page).group(1)
    progress = sender.get(progress_url).get_json()
    assert {"draft", "sign_off", "sealing", "dispatching"} <= set(progress["done"])
    assert progress["current"] == ["day_passed", "tracking"]  # waiting for receipts, with the 24-hour timer
    assert progress["xml"].startswith("<?xml")

    chase_url = re.search(r'action="(/receipts/\d+/chase)"', page).group(1)
    token = _token(sender, f"/documents/{doc.id}")
    assert "已催签" in sender.post(chase_url, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "刚催过" in sender.post(chase_url, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)

    receiver = _login(app, "dh.clerk")
    mine = receiver.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "签收情况" not in mine and "当前在：签收 · 收发员" in mine
    assert receiver.post(chase_url, data={"csrf_token": _token(receiver, "/")}).status_code == 404
    outsider = _login(app, "cz.drafter")
    assert outsider.get(f"/documents/{doc.id}").status_code == 404
    assert outsider.get(progress_url).status_code == 404
    # The recipient reads the document, but how the sender works it inside is the sender's own business.
    assert receiver.get(progress_url).status_code == 404
    receiver_progress = re.search(r'data-progress="([^"]+)"', mine).group(1)
    assert receiver_progress != progress_url and receiver.get(receiver_progress).status_code == 200
    assert sender.get(receiver_progress).status_code == 404


def test_browser_libraries_come_from_npm_and_nothing_else_is_served(app):
    require((ROOT / "node_modules" / "bpmn-js" / "dist").is_dir(), "bpmn-js from npm (make installs it)")
    client = app.test_client()
    viewer = client.get("/vendor/bpmn-js/dist/bpmn-viewer.production.min.js")
    assert viewer.status_code == 200 and b"BpmnJS" in viewer.data
    assert client.get("/vendor/bpmn-js/package.json").status_code == 404
    assert client.get("/vendor/../pyproject.toml").status_code == 404
    for climb in ("bpmn-js/dist/..%2fpackage.json", "bpmn-js/dist/%2e%2e/package.json",
                  "bpmn-js/dist/../../diagram-js/package.json", "bpmn-js/dist/..%5c..%5cpackage.json"):
        assert client.get(f"/vendor/{climb}").status_code == 404, climb


def test_the_inbox_can_learn_of_arrivals_without_a_reload(app, gongwen, org):
    clerk = _login(app, "dh.clerk")
    page = clerk.get("/").get_data(as_text=True)
    assert 'id="sound-toggle"' in page and "inbox.js" in page and "push.js" in page
    assert '<span id="todo-count">0</span>' in page
    assert clerk.get("/inbox/count").status_code == 404  # no polling address left
    _dispatched(gongwen, org)
    fragment = clerk.get("/?view=todo&fragment=1").get_data(as_text=True)
    assert "签收" in fragment and "<html" not in fragment


def test_the_system_administrator_edits_and_deploys_a_process_from_the_browser(app, gongwen, org):
    from tests.support import ROOT, ready_for

    admin = _login(app, "sysadmin")
    listing = admin.get("/admin/processes").get_data(as_text=True)
    assert "请销假" in listing and "在线编辑" in listing
    editor = admin.get("/admin/processes/leave/edit").get_data(as_text=True)
    assert "bpmn-modeler.production.min.js" in editor
    token = re.search(r'data-csrf="([^"]+)"', editor).group(1)
    original = admin.get("/admin/processes/leave/1.bpmn").data
    assert original == (ROOT / "workflows" / "leave.bpmn").read_bytes()

    renamed = original.decode().replace('name="填写请假单"', 'name="填写请假申请"')
    saved = admin.post("/admin/processes/deploy", json={"filename": "leave.bpmn", "xml": renamed},
                       headers={"X-CSRFToken": token})
    assert saved.get_json()["deployed"][0]["version"] == 2
    broken = renamed.replace('value="leave_decision"', 'value="leave_verdict"', 1)
    refused = admin.post("/admin/processes/deploy", json={"filename": "leave.bpmn", "xml": broken},
                         headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and refused.get_json()["element"] == "dept_review"
    assert admin.post("/admin/processes/deploy", json={"xml": renamed}).status_code == 400  # no CSRF token

    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id})
    assert [t.name for t in ready_for(gongwen, applicant)] == ["填写请假申请"]  # new documents use the new version
    for outsider in ("lyg.drafter", "secadmin", "auditor"):
        assert _login(app, outsider).get("/admin/processes").status_code == 403


def test_a_returned_draft_opens_with_what_was_drafted(app, gongwen, org):
    from tests.outgoing_support import NOTICE, act, start

    start(gongwen, org.person("lyg.drafter"))
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "再改改"})
    drafter = _login(app, "lyg.drafter")
    page = drafter.get(ready_url(drafter)).get_data(as_text=True)
    assert f'>{NOTICE["title"]}</textarea>' in page and "再改改" in page
    assert re.search(rf'<option value="{org.unit("donghai_office").id}" selected>东海县人民政府办公室', page)


def test_the_auditor_filters_the_log_checks_the_chain_and_reads_no_content(app, gongwen, org):
    from sqlalchemy import select

    from engine.models import AuditEvent
    from tests.outgoing_support import NOTICE, act, start
    from tests.support import audit_protection_lifted

    start(gongwen, org.person("lyg.drafter"))
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    auditor = _login(app, "auditor")
    page = auditor.get("/admin/audit?action=document.draft").get_data(as_text=True)
    assert "<td>拟稿</td>" in page and NOTICE["title"] not in page  # the event's name in Chinese
    assert "登录成功" not in page.split("<tbody>")[1] and "document.draft" not in page.split("<tbody>")[1]
    by_drafter = auditor.get("/admin/audit?login=lyg.drafter&action=task.complete").get_data(as_text=True)
    assert "步骤：拟稿" in by_drafter and "task_name" not in by_drafter and org.person("lyg.drafter").name in by_drafter
    assert "办理任务" not in auditor.get("/admin/audit?login=lyg.head").get_data(as_text=True).split("<tbody>")[1]

    assert "日志链完整" in auditor.get("/admin/audit?check=1").get_data(as_text=True)
    with gongwen.db.write() as db, audit_protection_lifted(db):
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "document.draft")).one()
        event.detail = {**event.detail, "title": "改过的标题"}
        broken_id = event.id
        db.flush()  # while the protection is lifted
    checked = auditor.get("/admin/audit?check=1").get_data(as_text=True)
    assert f"日志链断裂：第 {broken_id} 号事件内容与哈希不符" in checked
    for outsider in ("sysadmin", "secadmin", "lyg.drafter"):
        assert _login(app, outsider).get("/admin/audit").status_code == 403


def test_errors_are_pages_in_chinese_for_people_and_json_for_programs(app, org):
    client = _login(app, "lyg.drafter")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "找不到这个页面" in missing.get_data(as_text=True)
    assert "<title>找不到这个页面 · 公文系统</title>" in missing.get_data(as_text=True)
    forbidden = client.get("/admin/processes")
    assert forbidden.status_code == 403 and "没有权限" in forbidden.get_data(as_text=True)
    api = app.test_client().get("/api/v1/no/such/endpoint")
    assert api.status_code == 404 and api.is_json


def test_the_security_officer_unlocks_grants_within_three_separations_and_revokes_a_seal(app, gongwen, org):
    from cryptography import x509
    from sqlalchemy import select

    from handlers.seals.models import Seal, SealStatus

    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/login", data={"login": "lyg.clerk", "password": "wrong", "csrf_token": _token(stranger)})
    locked = stranger.post("/login", data={"login": "lyg.clerk", "password": DEMO_PASSWORD,
                                           "csrf_token": _token(stranger)})
    assert "账号锁定至" in locked.get_data(as_text=True)
    officer = _login(app, "secadmin")
    page = officer.get("/admin/security/").get_data(as_text=True)
    assert "lyg.clerk" in page.split("<h2>账号锁定</h2>")[1].split("<h2>角色授权</h2>")[0]
    clerk_id = org.person("lyg.clerk").id
    officer.post(f"/admin/security/unlock/{clerk_id}", data={"csrf_token": _token(officer, "/admin/security/")})
    _login(app, "lyg.clerk")  # can log in again at once

    token = _token(officer, "/admin/security/")
    refused = officer.post("/admin/security/grants", follow_redirects=True,
                           data={"csrf_token": token, "login": "auditor", "role": "clerk",
                                 "unit_id": org.unit("city_office").id}).get_data(as_text=True)
    assert "未授予：三员分立" in refused
    officer.post("/admin/security/grants", data={"csrf_token": token, "login": "lyg.drafter2", "role": "clerk",
                                                 "unit_id": org.unit("city_office").id})
    grants = officer.get("/admin/security/?login=lyg.drafter2").get_data(as_text=True)
    assert "收发员" in grants and "拟稿人" in grants

    officer.post("/admin/security/seals", data={"csrf_token": token, "unit_id": org.unit("donghai_office").id})
    with gongwen.db.session() as db:
        seal = db.scalars(select(Seal).where(Seal.unit_id == org.unit("donghai_office").id)).one()
    twice = officer.post("/admin/security/seals", follow_redirects=True,
                         data={"csrf_token": token, "unit_id": org.unit("donghai_office").id}).get_data(as_text=True)
    assert f"已有在用印章 {seal.code}" in twice
    revoke = f"/admin/security/seals/{seal.id}/revoke"
    for typed, refusal in [("上周一", "不是有效的日期时间"), ("2030-01-01T08:00", "失效起始时间应在"),
                           ("0001-01-01T00:00", "不是有效的日期时间")]:
        page = officer.post(revoke, data={"csrf_token": token, "reason": "lost", "invalid_since": typed},
                            follow_redirects=True).get_data(as_text=True)
        assert "未吊销：" in page and refusal in page
    refused = officer.post(revoke, follow_redirects=True, data={
        "csrf_token": token, "reason": "damaged", "invalid_since": "2026-11-23T09:00"}).get_data(as_text=True)
    assert "只有印章遗失或私钥泄露时才能指定失效起始时间" in refused
    with gongwen.db.session() as db:
        assert db.get(Seal, seal.id).status == SealStatus.ACTIVE  # every refusal left it as it was
    done = officer.post(revoke, data={"csrf_token": token, "reason": "lost", "invalid_since": "2026-11-23T09:00"},
                        follow_redirects=True).get_data(as_text=True)
    assert f"已吊销印章 {seal.code}" in done and "已吊销（印章遗失" in done
    assert "自 2026-11-23 09:00 起不再可信" in done
    with gongwen.db.session() as db:
        assert db.get(Seal, seal.id).status == SealStatus.REVOKED
    crl = x509.load_der_x509_crl(officer.get(f"/admin/security/crl/{seal.ca_id}.crl").data)
    entry = crl.get_revoked_certificate_by_serial_number(int(seal.serial, 16))
    assert entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc == \
        datetime.fromisoformat("2026-11-23T09:00:00+08:00")
    for outsider in ("sysadmin", "auditor", "lyg.clerk"):
        assert _login(app, outsider).get("/admin/security/").status_code == 403


def test_the_system_administrator_keeps_people_numbers_holidays_and_deadlines(app, gongwen, org):
    from datetime import date

    from sqlalchemy import select

    from engine.calendar import WorkCalendar
    from engine.models import Person, RoleGrant
    from handlers.documents.models import NumberCounter
    from handlers.exchange.models import DeadlineRule

    admin = _login(app, "sysadmin")
    token = _token(admin, "/admin/system/")
    city = org.unit("city_office").id
    created = admin.post("/admin/system/people", follow_redirects=True, data={
        "csrf_token": token, "login": "lyg.newcomer", "name": "新同志", "password": "short", "unit_id": city})
    assert "未生效：" in created.get_data(as_text=True)  # the password is too short: nothing created
    admin.post("/admin/system/people", data={"csrf_token": token, "login": "lyg.newcomer", "name": "新同志",
                                             "password": "a-long-password", "unit_id": city})
    listed = admin.get(f"/admin/system/people?unit={city}").get_data(as_text=True)
    assert "lyg.newcomer" in listed and "新同志" in listed
    newcomer = app.test_client()
    assert newcomer.post("/login", data={"login": "lyg.newcomer", "password": "a-long-password",
                                         "csrf_token": _token(newcomer)}).status_code == 302

    drafter = org.person("lyg.drafter2")
    admin.post(f"/admin/system/people/{drafter.id}/freeze", data={"csrf_token": token, "frozen": "1"})
    client = app.test_client()
    refused = client.post("/login", data={"login": "lyg.drafter2", "password": DEMO_PASSWORD,
                                          "csrf_token": _token(client)})
    assert refused.status_code == 401
    donghai = org.unit("donghai_office").id
    admin.post(f"/admin/system/people/{drafter.id}/move", data={"csrf_token": token, "unit_id": donghai})
    with gongwen.db.session() as db:
        moved = db.get(Person, drafter.id)
        assert moved.unit_id == donghai
        assert not db.scalars(select(RoleGrant).where(RoleGrant.person_id == drafter.id,
                                                      RoleGrant.unit_id == city)).all()

    admin.post("/admin/system/numbers", data={"csrf_token": token, "code": "连政办发", "year": "2026",
                                              "next_seq": "107"})
    admin.post("/admin/system/calendar", data={"csrf_token": token, "day": "2026-12-07", "kind": "holiday",
                                               "note": "演练"})
    admin.post("/admin/system/deadlines", data={"csrf_token": token, "urgency": "normal", "amount": "2",
                                                "measure": "working_days"})
    with gongwen.db.session() as db:
        assert db.get(NumberCounter, ("连政办发", 2026)).next_seq == 107
        assert not WorkCalendar(db).is_workday(date(2026, 12, 7))  # a Monday, now a day off
    assert 'id="calendar-warning-2027"' in admin.get("/admin/system/").get_data(as_text=True)  # 2027 ahead
    admin.post("/admin/system/calendar/year", data={"csrf_token": token, "year": "2027"})
    with gongwen.db.session() as db:
        assert WorkCalendar(db).is_workday(date(2027, 3, 1))  # a Monday
        assert db.get(DeadlineRule, "normal").amount == 2
    for section, shown in (("calendar", "演练"), ("numbers", "107"), ("deadlines", "2.0 个工作日")):
        assert shown in admin.get(f"/admin/system/{section}").get_data(as_text=True)
    for outsider in ("secadmin", "auditor", "lyg.clerk"):
        assert _login(app, outsider).get("/admin/system/").status_code == 403


def test_the_system_administrator_retries_an_incident_from_the_page(app, gongwen, org):
    from tests.support import deploy_bytes, ready_for
    from tests.test_incidents import CRASHY, FLAKY

    FLAKY["fail"] = True
    deploy_bytes(gongwen, "crashy.bpmn", CRASHY)
    leader = org.person("lyg.leader")
    gongwen.runtime.start("crashy", owning_unit_id=leader.unit_id, initiator_id=leader.id)
    (task,) = ready_for(gongwen, leader)
    gongwen.runtime.complete(task.id, leader.id, {"decision": "approve", "opinion": "同意"})

    admin = _login(app, "sysadmin")
    page = admin.get("/admin/system/incidents").get_data(as_text=True)
    incident_id = re.search(r'/admin/system/incidents/(\d+)/retry', page).group(1)
    assert "短信网关无响应" in page
    again = admin.post(f"/admin/system/incidents/{incident_id}/retry", follow_redirects=True,
                       data={"csrf_token": _token(admin, "/admin/system/")}).get_data(as_text=True)
    assert "重试未成功，再次出错：ConnectionError: 短信网关无响应" in again
    incident_id = re.search(r'/admin/system/incidents/(\d+)/retry', again).group(1)  # the new one
    FLAKY["fail"] = False
    done = admin.post(f"/admin/system/incidents/{incident_id}/retry", follow_redirects=True,
                      data={"csrf_token": _token(admin, "/admin/system/")}).get_data(as_text=True)
    assert "故障" in done and "已重试，流程继续运行" in done and "没有未处理的故障" in done
    assert [t.name for t in ready_for(gongwen, leader)] == ["归档"]


def test_a_shared_task_is_taken_handed_to_a_colleague_and_put_back(app, gongwen, org):
    from tests.outgoing_support import NOTICE, act, start

    start(gongwen, org.person("lyg.drafter"))
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    head = _login(app, "lyg.head")
    url = ready_url(head)
    page = head.get(url).get_data(as_text=True)
    assert "由我办理" in page and org.person("lyg.drafter2").name in page  # a colleague to hand it to
    taken = head.post(url + "/claim", data={"csrf_token": _token(head, url)}, follow_redirects=True)
    assert "已由您办理" in taken.get_data(as_text=True) and "放回" in taken.get_data(as_text=True)

    head.post(url + "/delegate", data={"csrf_token": _token(head, url), "to_person_id": org.person("lyg.drafter2").id})
    assert "部门审核" not in head.get("/").get_data(as_text=True)
    colleague = _login(app, "lyg.drafter2")
    assert "部门审核" in colleague.get("/").get_data(as_text=True)
    colleague.post(url + "/unclaim", data={"csrf_token": _token(colleague, url)})
    assert "部门审核" in head.get("/").get_data(as_text=True)  # back with the department's heads
    assert "部门审核" not in colleague.get("/").get_data(as_text=True)

    outsider = _login(app, "dh.clerk")
    assert outsider.post(url + "/claim", data={"csrf_token": _token(outsider, "/")}).status_code == 404


def test_the_inbox_lists_extra_urgent_documents_first_with_a_badge(app, gongwen, org):
    from tests.outgoing_support import NOTICE, act, start

    drafter = org.person("lyg.drafter")
    for changes in ({"title": "连云港市人民政府办公室关于报送年度总结的通知"},
                    {"title": "连云港市人民政府办公室关于做好寒潮防御工作的紧急通知", "urgency": "extra_urgent"}):
        start(gongwen, drafter)
        act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id], **changes})
    rows = _login(app, "lyg.head").get("/").get_data(as_text=True).split("<tbody>")[1].split("</tr>")
    assert "寒潮防御" in rows[0] and '<span class="badge urgency-2">特急</span>' in rows[0]  # later, yet first
    assert "年度总结" in rows[1] and "badge" not in rows[1]


def test_a_person_changes_their_own_password_only_with_the_current_one(app, org):
    client = _login(app, "lyg.clerk")
    token = _token(client, "/password")
    wrong = client.post("/password", data={"csrf_token": token, "current": "guess", "new": "new-secret-1",
                                           "repeat": "new-secret-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    typo = client.post("/password", data={"csrf_token": token, "current": DEMO_PASSWORD, "new": "new-secret-1",
                                          "repeat": "new-secret-2"})
    assert "两次输入的新密码不一致" in typo.get_data(as_text=True)
    assert client.post("/password", data={"csrf_token": token, "current": DEMO_PASSWORD, "new": "new-secret-1",
                                          "repeat": "new-secret-1"}).status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"login": "lyg.clerk", "password": DEMO_PASSWORD,
                                      "csrf_token": _token(fresh)}).status_code == 401
    assert fresh.post("/login", data={"login": "lyg.clerk", "password": "new-secret-1",
                                      "csrf_token": _token(fresh)}).status_code == 302


def test_the_system_administrator_keeps_distribution_lists_that_drafters_pick_from(app, gongwen, org):
    from handlers.documents.distribution import distribution_lists

    admin = _login(app, "sysadmin")
    token = _token(admin, "/admin/system/")
    counties = [org.unit(k).id for k in ("donghai_office", "guanyun_office", "guannan_office")]
    empty = admin.post("/admin/system/lists", follow_redirects=True, data={
        "csrf_token": token, "unit_id": org.unit("city_office").id, "name": "各县政府办公室"})
    assert "未生效：分发列表需要 1 到 5000 个单位" in empty.get_data(as_text=True)
    admin.post("/admin/system/lists", data={"csrf_token": token, "unit_id": org.unit("city_office").id,
                                            "name": "各县政府办公室", "members": counties})
    page = admin.get("/admin/system/lists").get_data(as_text=True)
    assert "东海县人民政府办公室、灌云县人民政府办公室、灌南县人民政府办公室" in page
    with gongwen.db.session() as db:
        (list_id, name), = distribution_lists(db, org.unit("city_office").id)
    assert name == "各县政府办公室"
    drafting = _login(app, "lyg.drafter")
    draft_url = drafting.post("/documents/new", data={"csrf_token": _token(drafting, "/")}).headers["Location"]
    assert "各县政府办公室" in drafting.get(draft_url).get_data(as_text=True)  # offered when drafting
    admin.post(f"/admin/system/lists/{list_id}/delete", data={"csrf_token": token})
    with gongwen.db.session() as db:
        assert distribution_lists(db, org.unit("city_office").id) == []


def test_reviewers_and_the_signing_leader_read_the_draft_before_it_is_typeset(app, gongwen, org):
    import subprocess

    from tests.outgoing_support import NOTICE, act, start

    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    head = _login(app, "lyg.head")
    page = head.get(ready_url(head)).get_data(as_text=True)
    assert f'src="/documents/{doc.id}/pdf"' in page and "仅供审阅" in page
    pdf = head.get(f"/documents/{doc.id}/pdf")
    assert pdf.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert NOTICE["body"].splitlines()[0][:8] in text.replace("\n", "")
    assert _login(app, "dh.clerk").get(f"/documents/{doc.id}/pdf").status_code == 404  # not sent to them yet


def test_the_system_administrator_adds_a_unit_and_its_department(app, gongwen, org):
    from sqlalchemy import select

    from engine.models import Department, Unit

    admin = _login(app, "sysadmin")
    token = _token(admin, "/admin/system/")
    admin.post("/admin/system/units", data={"csrf_token": token, "name": "连云港市应急管理局", "kind": "department",
                                            "parent_id": org.unit("city").id, "issuer_code": "连应急发"})
    again = admin.post("/admin/system/units", follow_redirects=True, data={
        "csrf_token": token, "name": "连云港市应急管理局", "kind": "department"}).get_data(as_text=True)
    assert "未生效：已有名为 连云港市应急管理局 的单位" in again
    with gongwen.db.session() as db:
        unit = db.scalars(select(Unit).where(Unit.name == "连云港市应急管理局")).one()
        assert (unit.issuer_code, unit.parent_id) == ("连应急发", org.unit("city").id)
    admin.post("/admin/system/departments", data={"csrf_token": token, "unit_id": unit.id, "name": "办公室",
                                                  "is_office": "true"})
    with gongwen.db.session() as db:
        (department,) = db.scalars(select(Department).where(Department.unit_id == unit.id)).all()
        assert department.name == "办公室" and department.is_office
    assert "连应急发" in admin.get("/admin/system/").get_data(as_text=True)


def test_the_inbox_finds_a_document_by_its_sender_or_its_number(app, gongwen, org):
    from handlers.documents.models import Document

    doc = _dispatched(gongwen, org, title="关于做好寒潮防御工作的紧急通知")
    clerk = _login(app, "dh.clerk")
    assert "寒潮防御" in clerk.get("/?q=连云港市人民政府办公室").get_data(as_text=True)  # the sender
    assert "寒潮防御" not in clerk.get("/?q=灌云县").get_data(as_text=True)
    with gongwen.db.session() as db:
        number = db.get(Document, doc.id).doc_number
    assert "寒潮防御" in clerk.get(f"/?q={number}").get_data(as_text=True)


def test_a_process_file_name_is_quoted_when_downloaded_and_a_chinese_one_works(app, gongwen):
    from engine.deploy import deploy
    from engine.errors import DeployError
    from tests.support import ROOT

    leave = (ROOT / "workflows" / "leave.bpmn").read_bytes()
    hostile = 'x"; filename="evil.exe'
    with gongwen.db.write() as db:
        deploy(db, [("../../请假流程.bpmn", leave.replace("填写请假单".encode(), "填写请假申请".encode()))])
    with gongwen.db.write() as db:
        deploy(db, [(hostile + ".bpmn", leave)])
    with pytest.raises(DeployError, match="控制字符"), gongwen.db.write() as db:
        deploy(db, [("a\r\nSet-Cookie: x=1.bpmn", leave.replace(b"leave", b"leave2"))])
    admin = _login(app, "sysadmin")
    chinese = admin.get("/admin/processes/leave/2.bpmn")
    assert chinese.status_code == 200 and chinese.data.startswith(b"<?xml")
    assert "filename*=UTF-8''%E8%AF%B7%E5%81%87%E6%B5%81%E7%A8%8B.bpmn" in chinese.headers["Content-Disposition"]
    quoted = admin.get("/admin/processes/leave/3.bpmn").headers["Content-Disposition"]
    assert quoted == 'attachment; filename="x\\"; filename=\\"evil.exe.bpmn"'  # one parameter, quoted


def test_starting_leave_when_the_process_cannot_start_says_so_instead_of_a_500(app, gongwen, org, monkeypatch):
    from engine.errors import StepFailed

    def broken(*args, **kwargs):
        raise StepFailed("流程无法继续，本次操作未生效：测试")

    monkeypatch.setattr(gongwen.runtime, "start", broken)
    clerk = _login(app, "lyg.clerk")
    page = clerk.post("/leave/new", data={"csrf_token": _token(clerk, "/")}, follow_redirects=True)
    assert page.status_code == 200 and "未能发起请假：流程无法继续" in page.get_data(as_text=True)
