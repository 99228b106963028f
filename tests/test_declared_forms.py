"""Forms declared in a diagram and processes anyone may start (issue 13): the declaration is checked at deploy
with the element named, the schema built from it refuses what the page did not offer, and the two example
approvals (用车申请, 用印申请) run through the API and the web pages for those their diagrams let start them."""

import re

import pytest
from sqlalchemy import select

from engine.audit import AuditEvent
from engine.errors import DeployError, FormInvalid
from engine.models import InstanceStatus, ProcessInstance
from engine.registry import DECLARED_PREFIX, FORMS
from tests.support import bpmn, csrf_token, deploy_bytes, flows, logged_in, ready_for
from web import create_app

PROCESS_PROPS = ("<bpmn:extensionElements><spiffworkflow:properties>{}</spiffworkflow:properties>"
                 "</bpmn:extensionElements>")


def _prop(name, value):
    return f"<spiffworkflow:property name='{name}' value='{value}'/>"


def _declared(*fields, roles="drafter", form_key=""):
    task = ("<bpmn:userTask id='ask' name='申请'><bpmn:extensionElements><spiffworkflow:properties>"
            + (_prop("formKey", form_key) if form_key else "") + "".join(_prop(f"field.{n}", v) for n, v in fields)
            + "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>")
    lanes = ("<bpmn:laneSet id='ls'><bpmn:lane id='l' name='发起人'>"
             + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in ("s", "ask", "e"))
             + "</bpmn:lane></bpmn:laneSet>")  # after the process's own properties, as the schema orders them
    return bpmn(PROCESS_PROPS.format(_prop("startRoles", roles)) + lanes + "<bpmn:startEvent id='s'/>" + task
                + "<bpmn:endEvent id='e'/>" + flows("s", "ask", "e"), process_id="ask_process")


@pytest.mark.parametrize("content, element, fragment", [
    (_declared(("purpose", "words|label=事由")), "ask", "不认识的字段类型“words”"),
    (_declared(("purpose", "text|required")), "ask", "字段 purpose：缺少标签"),
    (_declared(("purpose", "text|label=事由"), ("purpose", "longtext|label=说明")), "ask", "字段 purpose 重复声明"),
    (_declared(("trip", "daterange|label=日期"), ("trip_from", "date|label=出发")), "ask", "字段 trip_from 重复声明"),
    (_declared(("kind", "choice|label=类别")), "ask", "选择字段要列出选项"),
    (_declared(("who", "person|label=驾驶员|scope=world")), "ask", "范围“world”不是 unit"),
    (_declared(("department_id", "unit|label=部门")), "ask", "流程自用的数据"),
    (_declared(("count", "number|label=人数|colour=red")), "ask", "不认识的设置“colour”"),
    (_declared(("purpose", "text|label=事由"), form_key="leave_decision"), "ask", "只能二选一"),
    (_declared(("purpose", "text|label=事由"), roles="drafter,system_admin"), "ask_process",
     "“system_admin”不是业务角色"),
    (_declared(("purpose", "text|label=事由"), roles="厨师"), "ask_process", "“厨师”不是业务角色"),
])
def test_a_wrong_declaration_is_refused_at_deploy_naming_the_element(gongwen, content, element, fragment):
    with pytest.raises(DeployError) as refused:
        deploy_bytes(gongwen, "ask.bpmn", content)
    assert refused.value.element_id == element
    assert fragment in str(refused.value)
    with gongwen.db.session() as session:
        assert session.scalar(select(ProcessInstance.id)) is None


def _start(gongwen, person, process_id="vehicle"):
    from flask import Flask

    from web.start import start_process

    with Flask(__name__).app_context() as context:
        context.app.extensions["gongwen"] = gongwen
        return start_process(person, process_id)


VEHICLE = {"purpose": "赴东海县调研", "trip_from": "2026-12-08", "trip_to": "2026-12-09", "period": "all_day",
           "destination": "东海县人民政府", "passengers": "3", "needs_driver": "yes"}


@pytest.mark.usefixtures("deployed")
def test_the_declared_schema_refuses_a_wrong_type_a_missing_field_and_a_person_not_offered(gongwen, org):
    applicant, head, head3, handler = (org.person(p) for p in ("lyg.drafter", "lyg.head", "lyg.head3", "lyg.handler"))
    _start(gongwen, applicant)
    (apply,) = ready_for(gongwen, applicant)
    assert apply.name == "填写用车申请" and apply.form_key.startswith(DECLARED_PREFIX)
    with pytest.raises(FormInvalid) as refused:
        gongwen.runtime.complete(apply.id, applicant.id, {**VEHICLE, "passengers": "三个", "trip_to": "2026-12-07",
                                                          "period": "night", "destination": None})
    assert refused.value.errors["passengers"] == ["应为整数"]
    assert refused.value.errors["period"] == ["不是可选的值"]
    assert refused.value.errors["destination"] == ["不能为空"]
    without = {k: v for k, v in VEHICLE.items() if k != "purpose"}
    with pytest.raises(FormInvalid) as refused:
        gongwen.runtime.complete(apply.id, applicant.id, {**without, "trip_to": "2026-12-07", "extra": "x"})
    assert refused.value.errors["purpose"] == ["必填"] and refused.value.errors["extra"] == ["表单中没有这一项"]
    with pytest.raises(FormInvalid) as refused:
        gongwen.runtime.complete(apply.id, applicant.id, {**VEHICLE, "trip_to": "2026-12-07"})
    assert refused.value.errors["trip_to"] == ["结束日期不能早于开始日期"]
    gongwen.runtime.complete(apply.id, applicant.id, VEHICLE)
    for approver in (head, head3):
        (review,) = ready_for(gongwen, approver)
        gongwen.runtime.complete(review.id, approver.id, {"decision": "approve"})
    (dispatch,) = ready_for(gongwen, handler)
    assert dispatch.name == "车辆调度"
    outsider = org.person("cz.drafter")  # another unit's: not on the list the page offers
    with pytest.raises(FormInvalid) as refused:
        gongwen.runtime.complete(dispatch.id, handler.id, {"car": "苏G·12345", "driver": outsider.id})
    assert refused.value.errors == {"driver": ["不是可选的值"]}
    gongwen.runtime.complete(dispatch.id, handler.id, {"car": "苏G·12345", "driver": org.person("lyg.clerk").id})
    with gongwen.db.session() as session:
        assert session.scalar(select(ProcessInstance.status)) == InstanceStatus.COMPLETED


@pytest.fixture
def client(gongwen, deployed):
    app = create_app(gongwen)
    app.config["TESTING"] = True
    return app.test_client()


def _as(client, login):
    answer = client.post("/api/v1/auth/token", json={"login": login, "password": "gongwen-demo"}).get_json()
    return {"Authorization": f"Bearer {answer['token']}"}


def _complete(client, headers, login_task_name, values):
    (task,) = [t for t in client.get("/api/v1/tasks", headers=headers).get_json() if t["name"] == login_task_name]
    return task["id"], client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json=values)


def test_a_vehicle_request_runs_through_the_api(client, gongwen, org):
    drafter = _as(client, "lyg.drafter")
    listed = client.get("/api/v1/processes", headers=drafter).get_json()
    assert {(p["process_id"], p["name"], p["category"]) for p in listed} == {
        ("vehicle", "用车申请", "行政事务"), ("seal_use", "用印申请", "行政事务")}
    started = client.post("/api/v1/processes/vehicle/start", headers=drafter, json={})
    assert started.status_code == 201 and started.get_json()["task_id"]
    form = client.get(f"/api/v1/tasks/{started.get_json()['task_id']}", headers=drafter).get_json()["form"]
    assert {"purpose", "trip_from", "trip_to", "passengers", "needs_driver"} <= set(form["properties"])
    assert "purpose" in form["required"]
    _, bad = _complete(client, drafter, "填写用车申请", {**VEHICLE, "passengers": -1})
    assert bad.status_code == 422 and bad.get_json()["errors"]["passengers"] == ["应为 0 到 60 之间的整数"]
    assert _complete(client, drafter, "填写用车申请", VEHICLE)[1].status_code == 204
    head = _as(client, "lyg.head")
    _, returned = _complete(client, head, "部门负责人审批", {"decision": "return", "opinion": "请写明返程时间"})
    assert returned.status_code == 204
    revised = {**VEHICLE, "purpose": "赴东海县调研，当日返回"}
    assert _complete(client, drafter, "填写用车申请", revised)[1].status_code == 204
    assert _complete(client, head, "部门负责人审批", {"decision": "approve"})[1].status_code == 204
    assert _complete(client, _as(client, "lyg.head3"), "办公室主任审批", {"decision": "approve"})[1].status_code == 204
    handler = _as(client, "lyg.handler")
    _, foreign = _complete(client, handler, "车辆调度", {"car": "苏G·12345", "driver": org.person("cz.clerk").id})
    assert foreign.status_code == 422
    _, done = _complete(client, handler, "车辆调度", {"car": "苏G·12345", "driver": org.person("lyg.clerk").id})
    assert done.status_code == 204
    with gongwen.db.session() as session:
        instance = session.get(ProcessInstance, started.get_json()["instance_id"])
        assert instance.status == InstanceStatus.COMPLETED and instance.title.endswith("的用车申请")


def test_who_may_start_what(client, gongwen, org):
    signer = _as(client, "lyg.signer")  # a leader: neither example lists leaders among who starts it
    assert client.get("/api/v1/processes", headers=signer).get_json() == []
    refused = client.post("/api/v1/processes/vehicle/start", headers=signer, json={})
    assert refused.status_code == 403 and "没有发起“用车申请”的权限" in refused.get_json()["message"]
    admin = _as(client, "sysadmin")
    assert client.get("/api/v1/processes", headers=admin).get_json() == []
    assert client.post("/api/v1/processes/vehicle/start", headers=admin, json={}).status_code == 403
    clerk = _as(client, "cz.clerk")  # the finance bureau's clerk and seal keeper: may start both
    assert len(client.get("/api/v1/processes", headers=clerk).get_json()) == 2
    for process_id in ("leave", "incoming", "no_such", "x" * 500):  # not started from the list, or nothing
        assert client.post(f"/api/v1/processes/{process_id}/start", headers=clerk, json={}).status_code == 404
    assert client.get("/api/v1/processes").status_code == 401
    assert client.post("/api/v1/processes/vehicle/start", json={}).status_code == 401
    assert client.post("/api/v1/processes/vehicle/start", headers=clerk, data="[]",
                       content_type="application/json").status_code == 400
    with gongwen.db.session() as session:
        assert session.scalar(select(ProcessInstance.id)) is None
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "request.refused"))


def _post(client, path, values):
    """Post ``values`` as a page of the app would, with the session's CSRF token."""
    return client.post(path, data={**values, "csrf_token": csrf_token(client, "/start")})


def test_the_start_page_lists_by_category_starts_and_refuses(client, gongwen, org):
    app = client.application
    drafter = logged_in(app, "lyg.drafter")
    page = drafter.get("/start").get_data(as_text=True)
    assert "行政事务" in page and "用车申请" in page and "用印申请" in page
    assert "发起" in drafter.get("/").get_data(as_text=True)  # the menu's entry
    started = _post(drafter, "/start/seal_use", {})
    assert started.status_code == 302 and "/tasks/" in started.location
    form = drafter.get(started.location).get_data(as_text=True)
    assert "用印文件名称" in form and "合同专用章" in form
    application = {"reason": "签订合同", "document_name": "采购合同", "seal_kind": "contract_seal"}
    bad = _post(drafter, started.location, {**application, "copies": "两份"})
    assert bad.status_code == 422 and "应为整数" in bad.get_data(as_text=True)
    good = _post(drafter, started.location, {**application, "copies": "2"})
    assert good.status_code == 302
    for login, step in (("lyg.head", "部门负责人审核"), ("lyg.head3", "办公室审核")):
        (task,) = ready_for(gongwen, org.person(login))
        assert task.name == step
        person = logged_in(app, login)
        assert _post(person, f"/tasks/{task.id}", {"decision": "approve"}).status_code == 302
    sealer = logged_in(app, "lyg.sealer")
    (register,) = ready_for(gongwen, org.person("lyg.sealer"))
    assert "用印登记号" in sealer.get(f"/tasks/{register.id}").get_data(as_text=True)
    _post(sealer, f"/tasks/{register.id}", {"sealed_on": "2026-12-08", "register_no": "YY-2026-001"})
    with gongwen.db.session() as session:
        assert session.scalar(select(ProcessInstance.status)) == InstanceStatus.COMPLETED

    signer = logged_in(app, "lyg.signer")
    assert "没有您可以发起的流程" in signer.get("/start").get_data(as_text=True)
    refused = signer.get(_post(signer, "/start/vehicle", {}).location)
    assert "未能发起：您没有发起“用车申请”的权限" in refused.get_data(as_text=True)
    with gongwen.db.session() as session:
        assert session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "start.refused"))["process_id"] \
            == "vehicle"
        assert session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_id == "vehicle")) is None
    admin = logged_in(app, "sysadmin")
    assert _post(admin, "/start/vehicle", {}).status_code == 302
    assert logged_in(app, "lyg.drafter").post("/start/vehicle").status_code == 400  # no CSRF token


def test_a_declared_form_is_built_again_where_it_was_never_parsed(client, gongwen, org):
    """Another web process, or this one after a restart, meets a task naming a form it has not built."""
    applicant = org.person("lyg.drafter")
    _start(gongwen, applicant)
    (task,) = ready_for(gongwen, applicant)
    for key in [k for k in FORMS if k.startswith(DECLARED_PREFIX)]:
        del FORMS[key]
    from engine import deploy
    deploy._scanned.clear()
    page = logged_in(client.application, "lyg.drafter").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert re.search(r"用车事由 \*", page) and "是否需要驾驶员" in page
