"""Handing over a clerk's work (交接, issue 13): three claimed 签收 tasks pass to another clerk of the unit once
both have confirmed and the 分管领导 has signed off; the system administrator reassigns a frozen person's tasks
from the people page, reading counts and step names, never a document title."""

import re
import threading
import time

import pytest
from sqlalchemy import func, select

from engine import inbox
from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent, Person, Role, Task, Unit
from engine.organisation import create_person, grant_role, move_person, set_frozen
from handlers.handover import service
from handlers.handover.models import Handover
from handlers.notifications.models import Notification
from tests.outgoing_support import NOTICE, send
from tests.support import csrf_token, logged_in, ready_for
from web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("deployed", "sealed")


def _second_clerk(gongwen, org) -> Person:
    """A second 收发员 of 东海县政府办, the successor."""
    with gongwen.db.write() as session:
        unit = session.get(Unit, org.unit("donghai_office").id)
        clerk = create_person(session, "dh.clerk2", "季二", DEMO_PASSWORD, unit=unit)
        grant_role(session, clerk, Role.CLERK, unit=unit)
        session.expunge(clerk)
        return clerk


def _three_claimed_arrivals(gongwen, org) -> list:
    """Three documents from the city office arrive at 东海县政府办; its clerk takes all three (由我办理)."""
    for n in range(3):
        send(gongwen, org, title=f"{NOTICE['title']}（之{n + 1}）")
    clerk = org.person("dh.clerk")
    tasks = ready_for(gongwen, clerk)
    assert [t.name for t in tasks] == ["签收"] * 3
    with gongwen.db.write() as session:
        for task in tasks:
            inbox.claim(session, task.id, clerk.id)
    return tasks


def _post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_a_clerks_three_tasks_pass_to_the_successor_after_both_confirm_and_the_leader_signs(gongwen, org, app):
    tasks = _three_claimed_arrivals(gongwen, org)
    successor, clerk, leader = _second_clerk(gongwen, org), org.person("dh.clerk"), org.person("dh.leader")
    assert ready_for(gongwen, successor) == []  # claimed by dh.clerk: offered to nobody else

    admin = logged_in(app, "sysadmin")
    page = admin.get(f"/handovers/new?person={clerk.id}").get_data(as_text=True)
    assert f'<option value="{successor.id}"' in page and f'value="{org.person("dh.handler").id}"' not in page
    assert f'value="{leader.id}"' not in page  # the leader signs off; they do not sign off what they receive
    response = _post(admin, "/handovers/new", f"/handovers/new?person={clerk.id}", person_id=clerk.id,
                     successor_id=successor.id, occasion="retire")
    assert response.status_code == 302
    record_url = response.headers["Location"]
    record = admin.get(record_url).get_data(as_text=True)
    assert record.count("签收（2026-") == 3 and "收发文人员" in record and NOTICE["title"] not in record

    leader_client = logged_in(app, "dh.leader")
    handover_id = int(record_url.rsplit("/", 1)[1])
    early = _post(leader_client, f"/handovers/{handover_id}/sign-off", record_url)
    assert "交接双方确认后才能签字" in leader_client.get(early.headers["Location"]).get_data(as_text=True)
    for login in ("dh.clerk", "dh.clerk2"):
        client = logged_in(app, login)
        assert "确认交接" in client.get(record_url).get_data(as_text=True)
        _post(client, f"/handovers/{handover_id}/confirm", record_url)
    assert {t.id for t in ready_for(gongwen, clerk)} == {t.id for t in tasks}  # nothing moves before sign-off

    _post(leader_client, f"/handovers/{handover_id}/sign-off", record_url)
    assert ready_for(gongwen, clerk) == []
    assert {t.id for t in ready_for(gongwen, successor)} == {t.id for t in tasks}
    gongwen.runtime.complete(tasks[0].id, successor.id, {"decision": "sign"})
    assert len(ready_for(gongwen, successor)) == 3  # the signed one went on to 登记, the other two wait
    with pytest.raises(Conflict, match="已由他人签收办理"):
        gongwen.runtime.complete(tasks[1].id, clerk.id, {"decision": "sign"})

    kept = logged_in(app, "dh.clerk2").get(record_url).get_data(as_text=True)
    assert kept.count("已转给接手人") == 3 and "已签字确认" in kept and leader.name in kept
    with gongwen.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.reassign")).all()
        assert len(events) == 3 and all(e.detail["to_person_id"] == successor.id for e in events)
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "handover.sign_off")) == 1
        told = session.scalars(select(Notification.text).where(Notification.kind == "handover")
                               .order_by(Notification.id)).all()
        assert told[-1] == "工作交接已签字确认，3 件待办已转给您"
        assert "一份工作交接已由交接双方确认，请签字确认" in told


def test_a_successor_of_another_unit_frozen_or_without_the_role_is_refused(gongwen, org, app):
    _three_claimed_arrivals(gongwen, org)
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    admin = logged_in(app, "sysadmin")
    page = f"/handovers/new?person={clerk.id}"
    for stranger in (org.person("gy.clerk").id, org.person("dh.handler").id, "abc", "9" * 30):
        response = _post(admin, "/handovers/new", page, person_id=clerk.id, successor_id=stranger, occasion="move")
        assert response.status_code == 422
        assert "接手人须是同一单位在岗" in response.get_data(as_text=True)
    with gongwen.db.write() as session:
        set_frozen(session, session.get(Person, successor.id), True)
    response = _post(admin, "/handovers/new", page, person_id=clerk.id, successor_id=successor.id, occasion="move")
    assert response.status_code == 422
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Handover)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "handover.start_refused")) == 5
    with gongwen.db.write() as session, pytest.raises(Forbidden, match="没有办理它所需的角色"):
        inbox.reassign_tasks(session, clerk.id, org.person("dh.handler").id, None)
    assert len(ready_for(gongwen, clerk)) == 3


def test_the_system_administrator_reassigns_a_frozen_clerks_tasks_seeing_counts_only(gongwen, org, app):
    tasks = _three_claimed_arrivals(gongwen, org)
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    with gongwen.db.write() as session:
        set_frozen(session, session.get(Person, clerk.id), True)
    assert ready_for(gongwen, successor) == []  # the frozen clerk's tasks are offered to nobody

    admin = logged_in(app, "sysadmin")
    people = f"/admin/system/people?unit={org.unit('donghai_office').id}"
    page = admin.get(people).get_data(as_text=True)
    assert "3 件待办" in page and "转交待办" in page and "冬季安全生产" not in page
    assert re.search(rf'<option value="{successor.id}">', page)
    refused = _post(admin, f"/handovers/reassign/{clerk.id}", people, to_person_id=org.person("gy.clerk").id,
                    back_unit=org.unit("donghai_office").id)
    assert "请从列表中选择" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert ready_for(gongwen, successor) == []

    done = _post(admin, f"/handovers/reassign/{clerk.id}", people, to_person_id=successor.id,
                 back_unit=org.unit("donghai_office").id)
    after = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "已转交 3 件待办" in after and after.count('class="held-tasks">3 件待办') == 1  # now dh.clerk2's only
    assert {t.id for t in ready_for(gongwen, successor)} == {t.id for t in tasks}

    clerk_client = logged_in(app, "dh.clerk2")
    other = _post(clerk_client, f"/handovers/reassign/{successor.id}", "/", to_person_id=clerk.id)
    assert other.status_code == 403  # only the system administrator reassigns
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Task).where(Task.assignee_id == successor.id)) == 3


def test_only_the_units_leader_signs_off_and_strangers_find_no_record(gongwen, org, app):
    _three_claimed_arrivals(gongwen, org)
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    with gongwen.db.write() as session:
        handover_id = service.start(session, gongwen.runtime, clerk.id, successor.id, "freeze",
                                    actor_id=org.person("dh.leader").id).id
    service.act(gongwen.runtime, handover_id, clerk.id, "confirm")
    service.act(gongwen.runtime, handover_id, successor.id, "confirm")
    record_url = f"/handovers/{handover_id}"

    for login in ("gy.leader", "auditor", "secadmin", "dh.handler"):
        client = logged_in(app, login)
        assert client.get(record_url).status_code == 404
        assert client.post(f"{record_url}/sign-off", data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    successor_client = logged_in(app, "dh.clerk2")
    response = _post(successor_client, f"{record_url}/sign-off", record_url)
    said = successor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "只有本单位分管领导可以签字确认交接" in said
    anonymous = app.test_client()
    assert anonymous.get(record_url).status_code == 302 and "/login" in anonymous.get(record_url).headers["Location"]
    assert anonymous.post(f"{record_url}/sign-off").status_code in (302, 400)
    assert len(ready_for(gongwen, clerk)) == 3 and ready_for(gongwen, successor) == []
    admin_page = logged_in(app, "sysadmin").get(record_url).get_data(as_text=True)
    assert "签收" in admin_page and "冬季安全生产" not in admin_page


def test_a_leader_starts_a_handover_of_their_own_units_people_only(gongwen, org, app):
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    leader = logged_in(app, "dh.leader")
    index = leader.get("/handovers").get_data(as_text=True)
    assert f'<option value="{clerk.id}">' in index and f'value="{org.person("gy.clerk").id}"' not in index
    offered = leader.get(f"/handovers/new?person={clerk.id}").get_data(as_text=True)  # the clerk holds no task
    assert f'value="{org.person("dh.handler").id}"' in offered
    assert f'value="{org.person("dh.leader").id}"' not in offered  # who signs off does not receive
    response = _post(leader, "/handovers/new", f"/handovers/new?person={clerk.id}", person_id=clerk.id,
                     successor_id=successor.id, occasion="move")
    record = leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "调动" in record and successor.name in record and "待办事项（0）" in record

    stranger = logged_in(app, "gy.leader")
    assert stranger.get(f"/handovers/new?person={clerk.id}").status_code == 404
    assert f'value="{clerk.id}"' not in stranger.get("/handovers").get_data(as_text=True)
    refused = _post(stranger, "/handovers/new", "/handovers", person_id=org.person("dh.handler").id,
                    successor_id=successor.id, occasion="move")
    assert refused.status_code == 404
    for login in ("lyg.clerk", "auditor"):
        assert logged_in(app, login).get(f"/handovers/new?person={clerk.id}").status_code == 404
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Handover)) == 1


def test_a_person_moved_away_still_holding_tasks_has_them_reassigned_in_their_old_unit(gongwen, org, app):
    tasks = _three_claimed_arrivals(gongwen, org)
    successor, clerk = _second_clerk(gongwen, org), org.person("dh.clerk")
    with gongwen.db.write() as session:
        move_person(session, session.get(Person, clerk.id), session.get(Unit, org.unit("guanyun_office").id))
    admin = logged_in(app, "sysadmin")
    people = f"/admin/system/people?unit={org.unit('guanyun_office').id}"
    page = admin.get(people).get_data(as_text=True)
    assert "3 件待办" in page and f'<option value="{successor.id}">' in page
    assert f'<option value="{org.person("gy.clerk").id}">' not in page  # a clerk, but of the new unit
    _post(admin, f"/handovers/reassign/{clerk.id}", people, to_person_id=successor.id)
    assert {t.id for t in ready_for(gongwen, successor)} == {t.id for t in tasks}


def test_a_frozen_persons_handover_needs_only_the_successors_confirmation(gongwen, org):
    tasks = _three_claimed_arrivals(gongwen, org)
    successor, clerk, leader = _second_clerk(gongwen, org), org.person("dh.clerk"), org.person("dh.leader")
    with gongwen.db.write() as session:
        set_frozen(session, session.get(Person, clerk.id), True)
        handover_id = service.start(session, gongwen.runtime, clerk.id, successor.id, "freeze", actor_id=leader.id).id
    with pytest.raises(Forbidden, match="只有交接双方可以确认"):
        service.act(gongwen.runtime, handover_id, clerk.id, "confirm")  # a frozen account confirms nothing
    service.act(gongwen.runtime, handover_id, successor.id, "confirm")
    service.act(gongwen.runtime, handover_id, leader.id, "sign-off")
    assert {t.id for t in ready_for(gongwen, successor)} == {t.id for t in tasks}
    with pytest.raises(Conflict, match="已签字确认"):
        service.act(gongwen.runtime, handover_id, successor.id, "confirm")  # the record is kept as signed


def test_two_handovers_of_one_person_started_at_once_leave_one_and_refuse_the_other(gongwen, org):
    successor, clerk, leader = _second_clerk(gongwen, org), org.person("dh.clerk"), org.person("dh.leader")
    first_written, outcomes = threading.Event(), {}

    def first():
        with gongwen.db.write() as session:
            service.start(session, gongwen.runtime, clerk.id, successor.id, "move", actor_id=leader.id)
            first_written.set()
            time.sleep(0.5)  # the second start runs meanwhile and waits on this transaction

    def second():
        try:
            with gongwen.db.write() as session:
                outcomes["second"] = service.start(session, gongwen.runtime, clerk.id, successor.id, "move",
                                                   actor_id=leader.id).id
        except Conflict as refused:
            outcomes["second"] = str(refused)

    one = threading.Thread(target=first)
    one.start()
    first_written.wait(10)
    two = threading.Thread(target=second)
    two.start()
    one.join(10), two.join(10)

    assert outcomes["second"] == f"{clerk.name} 已有一份未完成的交接"
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Handover).where(Handover.person_id == clerk.id)) == 1


def test_a_person_moved_to_another_unit_can_no_longer_act_on_the_tasks_they_held_there(gongwen, org):
    tasks = _three_claimed_arrivals(gongwen, org)
    clerk = org.person("dh.clerk")
    with gongwen.db.write() as session:
        new_unit = session.get(Unit, org.unit("guanyun_office").id)
        moved = session.get(Person, clerk.id)
        move_person(session, moved, new_unit)
        grant_role(session, moved, Role.CLERK, unit=new_unit)

    assert [t for t in ready_for(gongwen, clerk) if t.id in {t.id for t in tasks}] == []
    with gongwen.db.write() as session, pytest.raises(Forbidden, match="您已不在这个任务的办理单位"):
        inbox.ensure_can_act(session, session.get(Task, tasks[0].id), clerk.id)
    with gongwen.db.session() as session:  # still held, for the handover or the system administrator to move
        assert {t.id for t in inbox.held_tasks(session, clerk.id)} == {t.id for t in tasks}
