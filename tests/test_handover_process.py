"""The handover as a process (工作交接, issue 13): 接手人确认 and 原办理人确认 reach the two sides' inboxes, then
分管领导签字 reaches the leader's, each offered to that one person alone; signing from the inbox moves the
predecessor's three held tasks; nobody else, and no administrator, can complete them."""

import pytest
from sqlalchemy import func, select

from engine import inbox
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import AuditEvent, InstanceStatus, Person, ProcessInstance, Task
from engine.organisation import set_frozen
from handlers.handover import service
from handlers.handover.models import Handover
from tests.outgoing_support import NOTICE
from tests.support import csrf_token, logged_in, ready_for
from tests.test_handover import _second_clerk, _three_claimed_arrivals

pytestmark = pytest.mark.usefixtures("deployed", "sealed")
# Anyone who might wrongly see a handover's task: a colleague, the same role elsewhere, the three administrators.
OUTSIDERS = ("dh.handler", "gy.clerk", "gy.leader", "lyg.clerk", "sysadmin", "secadmin", "auditor")


def _start(gongwen, org, *, frozen: bool = False) -> int:
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    org.people["dh.clerk2"] = successor  # this test's organisation only: the fixture is per test
    with gongwen.db.write() as session:
        if frozen:
            set_frozen(session, session.get(Person, clerk.id), True)
        return service.start(session, gongwen.runtime, clerk.id, successor.id, "retire",
                             actor_id=org.person("dh.leader").id).id


def _names(gongwen, org, login: str) -> list[str]:
    return [t.name for t in ready_for(gongwen, org.person(login)) if t.form_key.startswith("handover_")]


def _handover_tasks(gongwen, handover_id: int) -> list[Task]:
    with gongwen.db.session() as session:
        instance_id = session.get(Handover, handover_id).instance_id
        return session.scalars(select(Task).where(Task.instance_id == instance_id).order_by(Task.name)).all()


def _complete_from_inbox(gongwen, org, app, login: str, task_name: str) -> str:
    """Open the task from the 待办 list and submit its page, as the person would; returns the page it showed."""
    client = logged_in(app, login)
    task = next(t for t in ready_for(gongwen, org.person(login)) if t.name == task_name)
    assert f"/tasks/{task.id}" in client.get("/").get_data(as_text=True)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    response = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(client, f"/tasks/{task.id}")})
    assert response.status_code == 302
    assert f"已办理：{task_name}" in client.get(response.headers["Location"]).get_data(as_text=True)
    return page


def test_the_three_tasks_reach_the_right_inboxes_only_and_signing_moves_the_held_tasks(gongwen, org, app):
    held = _three_claimed_arrivals(gongwen, org)
    handover_id = _start(gongwen, org)
    assert _names(gongwen, org, "dh.clerk2") == ["接手人确认"]
    assert _names(gongwen, org, "dh.clerk") == ["原办理人确认"]
    assert _names(gongwen, org, "dh.leader") == []  # not before both sides have confirmed
    for login in OUTSIDERS:
        assert _names(gongwen, org, login) == []

    page = _complete_from_inbox(gongwen, org, app, "dh.clerk", "原办理人确认")
    assert page.count("签收（2026-") == 3 and "待办事项（3）" in page and NOTICE["title"] not in page
    assert _names(gongwen, org, "dh.leader") == []  # the successor has not confirmed yet
    _complete_from_inbox(gongwen, org, app, "dh.clerk2", "接手人确认")
    assert _names(gongwen, org, "dh.leader") == ["分管领导签字"]
    for login in (*OUTSIDERS, "dh.clerk", "dh.clerk2"):
        assert _names(gongwen, org, login) == []
    assert {t.id for t in ready_for(gongwen, org.person("dh.clerk"))} == {t.id for t in held}  # nothing moved yet

    _complete_from_inbox(gongwen, org, app, "dh.leader", "分管领导签字")
    assert ready_for(gongwen, org.person("dh.clerk")) == []
    assert {t.id for t in ready_for(gongwen, org.person("dh.clerk2"))} == {t.id for t in held}
    with gongwen.db.session() as session:
        handover = session.get(Handover, handover_id)
        assert handover.signed_off_at is not None and handover.person_confirmed_at is not None
        assert sum(item.passed_on for item in handover.items) == 3
        assert session.get(ProcessInstance, handover.instance_id).status == InstanceStatus.COMPLETED
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "handover.confirm")) == 2
    record = logged_in(app, "dh.clerk2").get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert record.count("已转给接手人") == 3 and "已签字确认" in record


def test_a_frozen_predecessor_has_no_task_and_the_successors_confirmation_suffices(gongwen, org):
    held = _three_claimed_arrivals(gongwen, org)
    handover_id = _start(gongwen, org, frozen=True)
    assert [t.name for t in _handover_tasks(gongwen, handover_id)] == ["接手人确认"]
    service.act(gongwen.runtime, handover_id, org.person("dh.clerk2").id, "confirm")
    assert _names(gongwen, org, "dh.leader") == ["分管领导签字"]
    service.act(gongwen.runtime, handover_id, org.person("dh.leader").id, "sign-off")
    assert {t.id for t in ready_for(gongwen, org.person("dh.clerk2"))} == {t.id for t in held}


def test_a_predecessor_frozen_while_their_confirmation_waits_no_longer_holds_the_handover_up(gongwen, org):
    held = _three_claimed_arrivals(gongwen, org)
    handover_id = _start(gongwen, org)
    assert _names(gongwen, org, "dh.clerk") == ["原办理人确认"]
    with gongwen.db.write() as session:  # they leave before confirming; the administrator freezes the account
        set_frozen(session, session.get(Person, org.person("dh.clerk").id), True)
    assert [t.name for t in _handover_tasks(gongwen, handover_id) if t.state == "ready"] == ["接手人确认"]
    service.act(gongwen.runtime, handover_id, org.person("dh.clerk2").id, "confirm")
    service.act(gongwen.runtime, handover_id, org.person("dh.leader").id, "sign-off")
    assert {t.id for t in ready_for(gongwen, org.person("dh.clerk2"))} == {t.id for t in held}
    with gongwen.db.session() as session:
        assert session.get(Handover, handover_id).person_confirmed_at is None  # the record says who did not


def test_strangers_and_administrators_cannot_complete_a_handovers_tasks(gongwen, org, app):
    held = _three_claimed_arrivals(gongwen, org)
    handover_id = _start(gongwen, org)
    tasks = {t.name: t for t in _handover_tasks(gongwen, handover_id)}
    for login in ("dh.handler", "gy.clerk", "dh.leader"):
        with pytest.raises(Forbidden, match="您无权办理这个任务"):
            gongwen.runtime.complete(tasks["接手人确认"].id, org.person(login).id, {})
    for login in ("sysadmin", "secadmin", "auditor"):
        with pytest.raises(Forbidden, match="管理员及无业务角色的人员不能办理业务"):
            gongwen.runtime.complete(tasks["原办理人确认"].id, org.person(login).id, {})
    for login in ("dh.handler", "sysadmin", "auditor"):
        client = logged_in(app, login)
        assert client.get(f"/tasks/{tasks['接手人确认'].id}").status_code == 404
        response = client.post(f"/tasks/{tasks['接手人确认'].id}", data={"csrf_token": csrf_token(client, "/")})
        assert response.status_code == 404
    anonymous = app.test_client().get(f"/tasks/{tasks['接手人确认'].id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    # The successor passes their confirmation to a colleague (转交): the colleague, not on the record, cannot
    # confirm for them, and the successor's own record page finds it no longer theirs.
    successor, colleague = org.person("dh.clerk2"), org.person("dh.handler")
    with gongwen.db.write() as session:
        inbox.delegate(session, tasks["接手人确认"].id, successor.id, colleague.id)
    with pytest.raises(NotFound, match="没有这份交接记录"):
        gongwen.runtime.complete(tasks["接手人确认"].id, colleague.id, {})
    with pytest.raises(Conflict, match="已由他人签收办理"):
        service.act(gongwen.runtime, handover_id, successor.id, "confirm")
    # Nor can the predecessor confirm twice, nor the successor sign.
    service.act(gongwen.runtime, handover_id, org.person("dh.clerk").id, "confirm")
    with pytest.raises(Conflict, match="您已确认过交接清单"):
        service.act(gongwen.runtime, handover_id, org.person("dh.clerk").id, "confirm")
    with pytest.raises(Forbidden, match="只有本单位分管领导可以签字确认交接"):
        service.act(gongwen.runtime, handover_id, successor.id, "sign-off")

    with gongwen.db.session() as session:
        handover = session.get(Handover, handover_id)
        assert handover.successor_confirmed_at is None and handover.signed_off_at is None
    assert [t.name for t in _handover_tasks(gongwen, handover_id) if t.state == "ready"] == ["接手人确认"]
    assert {t.id for t in ready_for(gongwen, org.person("dh.clerk"))} == {t.id for t in held}


def test_the_handover_diagram_is_deployed_and_opens_in_the_modeler(gongwen, org, app):
    admin = logged_in(app, "sysadmin")
    assert "工作交接" in admin.get("/admin/processes").get_data(as_text=True)
    assert admin.get("/admin/processes/handover/edit").status_code == 200
