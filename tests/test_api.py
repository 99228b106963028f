"""The REST API: tokens, tasks with their JSON Schema, documents, deployment; every cross-unit call is a 404."""

import io
import re

import pytest

from tests.outgoing_support import NOTICE, document, send
from tests.support import ROOT, logged_in
from web import create_app, demo

pytestmark = pytest.mark.usefixtures("deployed")


@pytest.fixture
def client(gongwen, org):
    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office", "donghai_office"])
    app = create_app(gongwen)
    app.config["TESTING"] = True
    return app.test_client()


def token(client, login, password=demo.DEMO_PASSWORD):
    response = client.post("/api/v1/auth/token", json={"login": login, "password": password})
    return response


def as_(client, login):
    value = token(client, login).get_json()["token"]
    return {"Authorization": f"Bearer {value}"}


def test_a_token_needs_the_right_password_and_an_active_account(client, gongwen, org):
    assert token(client, "lyg.clerk", "wrong").status_code == 401
    assert token(client, "lyg.clerk", "wrong").get_json()["message"] == "登录名或密码错误"
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401
    headers = as_(client, "lyg.clerk")
    from engine.organisation import find_person, set_frozen

    with gongwen.db.write() as session:
        set_frozen(session, find_person(session, "lyg.clerk"), True)
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    assert token(client, "lyg.clerk").status_code == 401


def test_a_document_is_drafted_and_reviewed_through_the_api(client, org):
    drafter = as_(client, "lyg.drafter")
    created = client.post("/api/v1/documents", headers=drafter, json={})
    assert created.status_code == 201
    (task,) = client.get("/api/v1/tasks", headers=drafter).get_json()
    assert task["name"] == "拟稿"
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=drafter).get_json()
    assert {"title", "body", "main_to", "classification"} <= set(detail["form"]["properties"])

    bad = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=drafter,
                      json={**NOTICE, "classification": "机密", "main_to": [org.unit("donghai_office").id]})
    assert bad.status_code == 422 and "机要渠道" in bad.get_json()["errors"]["classification"][0]
    good = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=drafter,
                       json={**NOTICE, "main_to": [org.unit("donghai_office").id]})
    assert good.status_code == 204
    head = client.get("/api/v1/tasks", headers=as_(client, "lyg.head")).get_json()
    assert [t["name"] for t in head] == ["部门审核"]
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=drafter, json={})
    assert again.status_code == 404  # done: no longer anyone's task


def test_every_document_and_task_endpoint_refuses_other_units(client, gongwen, org):
    drafter, outsider = as_(client, "lyg.drafter"), as_(client, "cz.drafter")
    document_id = client.post("/api/v1/documents", headers=drafter, json={}).get_json()["id"]
    (task,) = client.get("/api/v1/tasks", headers=drafter).get_json()
    paths = [rule.rule.replace("<int:document_id>", str(document_id)).replace("<uuid:task_id>", task["id"])
             for rule in client.application.url_map.iter_rules()
             if rule.rule.startswith("/api/v1/") and "GET" in rule.methods and rule.arguments]
    assert len(paths) >= 5 and all("<" not in p for p in paths), paths
    for path in paths:
        assert client.get(path, headers=outsider).status_code == 404, path
        assert client.get(path, headers=as_(client, "auditor")).status_code == 404, path
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=outsider, json={}).status_code == 404

    # Once dispatched, the recipient may read the document and its report, but not the sender's receipts.
    send(gongwen, org, document_id=document_id)
    receiver = as_(client, "dh.clerk")
    assert client.get(f"/api/v1/documents/{document_id}", headers=receiver).get_json()["doc_number"] == \
        document(gongwen, document_id).doc_number
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=receiver)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/documents/{document_id}/receipts", headers=receiver).status_code == 404
    receipts = client.get(f"/api/v1/documents/{document_id}/receipts", headers=drafter).get_json()
    assert receipts["counts"] == {"pending": 1, "signed": 0, "returned": 0}
    assert client.get(f"/api/v1/documents/{document_id}/pdf", headers=outsider).status_code == 404


def test_only_the_system_administrator_deploys_and_bad_diagrams_are_refused(client, gongwen):
    leave = (ROOT / "workflows" / "leave.bpmn").read_bytes()
    changed = leave.replace("填写请假单".encode(), "填写请假申请".encode())
    upload = {"file": (io.BytesIO(changed), "leave.bpmn")}
    assert client.post("/api/v1/definitions", headers=as_(client, "lyg.drafter"), data=upload,
                       content_type="multipart/form-data").status_code == 403
    admin = as_(client, "sysadmin")
    deployed = client.post("/api/v1/definitions", headers=admin, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(changed), "leave.bpmn")})
    assert deployed.status_code == 201 and deployed.get_json() == [
        {"process_id": "leave", "version": 2, "filename": "leave.bpmn", "changed": True}]
    broken = leave.replace(b'value="leave_apply"', b'value="no_such_form"')
    refused = client.post("/api/v1/definitions", headers=admin, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(broken), "leave.bpmn")})
    assert refused.status_code == 422 and refused.get_json()["errors"] == {"file": "leave.bpmn", "element": "apply"}
    assert "表单 'no_such_form' 未注册" in refused.get_json()["message"]


def test_the_openapi_document_describes_every_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {rule.rule.replace("<int:", "{").replace("<uuid:", "{").replace("<", "{").replace(">", "}")
              for rule in client.application.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json")}
    assert len(routes) >= 10 and routes == set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_only_a_drafter_starts_a_document(client):
    refused = client.post("/api/v1/documents", headers=as_(client, "lyg.clerk"), json={})
    assert refused.status_code == 422 and refused.get_json()["message"].endswith("不是本单位的拟稿人，不能起草公文")


def test_a_body_that_is_not_a_json_object_is_a_400_and_changes_nothing(client, gongwen, org):
    drafter = as_(client, "lyg.drafter")
    for body, content_type in (("{not json", "application/json"), ("", None), ("[1, 2]", "application/json"),
                               ("title=x", "application/x-www-form-urlencoded")):
        refused = client.post("/api/v1/documents", headers=drafter, data=body, content_type=content_type)
        assert refused.status_code == 400 and "JSON 对象" in refused.get_json()["message"]
    assert client.get("/api/v1/tasks", headers=drafter).get_json() == []  # no draft was started
    document_id = client.post("/api/v1/documents", headers=drafter, json={}).get_json()["id"]
    (task,) = client.get("/api/v1/tasks", headers=drafter).get_json()
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=drafter, data="{not json",
                          content_type="application/json")
    assert refused.status_code == 400
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=drafter).get_json()] == [task["id"]]
    assert document(gongwen, document_id).title == ""


def test_the_openapi_document_describes_bodies_and_answers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "requestBody" in paths["/api/v1/tasks/{task_id}/complete"]["post"]
    assert "multipart/form-data" in paths["/api/v1/definitions"]["post"]["requestBody"]["content"]
    for path in ("/api/v1/documents/{document_id}/receipts", "/api/v1/documents/{document_id}/verification"):
        assert "schema" in paths[path]["get"]["responses"]["200"]["content"]["application/json"], path


def test_an_id_past_the_id_columns_is_a_404_in_chinese_not_a_500(client):
    """bench/api_fuzz.py found it: ids from 2**31 to 2**63 - 1 passed the routes and overflowed PostgreSQL's
    integer id columns (a 500). Every id column is an ``integer``, so the routes stop at 2**31 - 1."""
    drafter = as_(client, "lyg.drafter")
    for document_id in (2**31, 2**31 + 7, 1480247111576241, 2**63 - 1, 2**63):
        for end in ("", "/pdf", "/verification", "/receipts"):
            answer = client.get(f"/api/v1/documents/{document_id}{end}", headers=drafter)
            assert answer.status_code == 404, (document_id, end, answer.status_code)
            assert "不在您的办理范围内" in answer.get_json()["message"]
    assert client.get(f"/api/v1/documents/{2**31 - 1}", headers=drafter).get_json()["message"] == "没有这份公文"
    page = logged_in(client.application, "lyg.drafter")
    assert page.get(f"/documents/{2**31}").status_code == 404
    assert page.get(f"/instances/{2**40}").status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    (parameter,) = spec["paths"]["/api/v1/documents/{document_id}"]["parameters"]
    assert parameter["schema"]["maximum"] == 2**31 - 1  # so that generated ids stay in range


def test_every_api_refusal_says_why_in_chinese(client):
    drafter = as_(client, "lyg.drafter")
    refusals = [client.get("/api/v1/no-such-endpoint", headers=drafter),
                client.delete("/api/v1/tasks", headers=drafter),
                client.post("/api/v1/auth/token", data="{not json", content_type="application/json"),
                client.post("/api/v1/auth/token", json={"login": 1}),
                client.get("/api/v1/tasks", headers=drafter, query_string={"q": "\x00"})]
    assert [r.status_code for r in refusals] == [404, 405, 400, 422, 400]
    for refusal in refusals:
        assert re.search(r"[\u4e00-\u9fff]", refusal.get_json()["message"]), refusal.get_json()
    assert "NUL" in refusals[-1].get_json()["message"]  # the refusal's own sentence, not the status's
    assert refusals[3].get_json()["errors"]["json"]  # webargs's details are kept
    limited = [client.post("/api/v1/auth/token", json={"login": "dh.clerk", "password": "wrong"}) for _ in range(11)]
    assert limited[-1].status_code == 429 and "频繁" in limited[-1].get_json()["message"]
