"""Refusals that matter to security leave an audit event, though the refused request changes nothing."""

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.outgoing_support import start
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")


def _events(gongwen, action: str) -> list[AuditEvent]:
    with gongwen.db.session() as db:
        return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_reads_of_another_units_document_csrf_failures_and_403s_are_audited(app, gongwen, org):
    document = start(gongwen, org.person("lyg.drafter"))
    outsider = logged_in(app, "cz.drafter")
    assert outsider.get(f"/documents/{document.id}").status_code == 404
    (read,) = _events(gongwen, "access.refused")
    assert read.actor_id == org.person("cz.drafter").id and read.detail["path"] == f"/documents/{document.id}"

    assert outsider.post("/documents/new").status_code == 400  # no CSRF token
    assert [e.detail["path"] for e in _events(gongwen, "csrf.refused")] == ["/documents/new"]

    assert outsider.get("/admin/security/").status_code == 403
    assert [e.actor_id for e in _events(gongwen, "request.refused")] == [org.person("cz.drafter").id]


def test_a_refused_password_change_and_a_refused_grant_are_kept(app, gongwen, org):
    clerk = logged_in(app, "lyg.clerk")
    page = clerk.post("/password", data={"csrf_token": csrf_token(clerk, "/password"), "current": "wrong-guess-1",
                                         "new": "Another-Passw0rd", "repeat": "Another-Passw0rd"})
    assert page.status_code == 422 and "当前密码不正确" in page.get_data(as_text=True)
    assert [e.actor_id for e in _events(gongwen, "person.password_refused")] == [org.person("lyg.clerk").id]

    officer = logged_in(app, "secadmin")
    officer.post("/admin/security/grants", data={"csrf_token": csrf_token(officer, "/admin/security/"),
                                                 "login": "auditor", "role": "clerk",
                                                 "unit_id": org.unit("city_office").id})
    (grant,) = _events(gongwen, "role.grant_refused")
    assert grant.detail["login"] == "auditor" and grant.actor_id == org.person("secadmin").id


def test_guessing_a_password_is_slowed_down_per_login_and_audited(app, gongwen, org):
    client = app.test_client()
    token = csrf_token(client)
    answers = [client.post("/login", data={"login": "lyg.clerk", "password": f"guess-{i}", "csrf_token": token})
               .status_code for i in range(11)]
    assert answers == [401] * 10 + [429]
    assert "操作太频繁" in client.post("/login", data={"login": "lyg.clerk", "password": "x",
                                                     "csrf_token": token}).get_data(as_text=True)
    assert _events(gongwen, "rate.limited")
    assert logged_in(app, "lyg.drafter")  # another login from the same address still gets in
    api = [app.test_client().post("/api/v1/auth/token", json={"login": "dh.clerk", "password": "wrong"}).status_code
           for _ in range(11)]
    assert api == [401] * 10 + [429]


def test_starting_documents_in_a_burst_is_limited_per_person(app, org):
    drafter = logged_in(app, "lyg.drafter")
    token = csrf_token(drafter, "/")
    answers = [drafter.post("/documents/new", data={"csrf_token": token}).status_code for _ in range(31)]
    assert answers.count(302) == 30 and answers[-1] == 429
