"""The inbox: a person's ready tasks across roles and units; claim, unclaim, delegate (audited)."""

import pytest
from sqlalchemy import select

from engine import inbox
from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent
from tests.support import bpmn, deploy_bytes, flows, ready_for, user_task

# One clerk task in the owning unit, and one for the leaders of unit ``other_unit`` (chosen at start).
TWO_POOLS = bpmn(
    "<bpmn:startEvent id='s'/><bpmn:parallelGateway id='split'/>"
    + user_task("register", "登记")
    + user_task("instruct", "批示", extra="<spiffworkflow:property name='candidateUnit' value='other_unit'/>")
    + "<bpmn:parallelGateway id='join'/><bpmn:endEvent id='e'/>"
    + flows("s", "split") + flows("split", "register", "join") + flows("split", "instruct", "join")
    + flows("join", "e"),
    process_id="pools", lanes={"收发员": ["s", "split", "register", "join", "e"], "领导": ["instruct"]})


@pytest.fixture
def started(gongwen, org):
    deploy_bytes(gongwen, "pools.bpmn", TWO_POOLS)
    return gongwen.runtime.start("pools", owning_unit_id=org.unit("city_office").id,
                                 data={"other_unit": org.unit("donghai_office").id})


def test_each_person_sees_the_tasks_of_their_roles_and_units(gongwen, org, started):
    assert [t.name for t in ready_for(gongwen, org.person("lyg.clerk"))] == ["登记"]
    assert [t.name for t in ready_for(gongwen, org.person("dh.leader"))] == ["批示"]
    assert ready_for(gongwen, org.person("lyg.leader")) == []  # a leader, but of another unit
    assert ready_for(gongwen, org.person("dh.clerk")) == []
    for admin in ("sysadmin", "secadmin", "auditor"):
        assert ready_for(gongwen, org.person(admin)) == []


def test_a_claimed_task_leaves_the_pool_until_unclaimed(gongwen, org, started):
    signer, leader = org.person("lyg.signer"), org.person("lyg.leader")
    deploy_bytes(gongwen, "pools.bpmn", TWO_POOLS)
    gongwen.runtime.start("pools", owning_unit_id=org.unit("donghai_office").id,
                          data={"other_unit": org.unit("city_office").id})
    (task,) = ready_for(gongwen, leader)
    assert [t.id for t in ready_for(gongwen, signer)] == [task.id]
    with gongwen.db.write() as s:
        inbox.claim(s, task.id, leader.id)
    assert ready_for(gongwen, signer) == []
    with pytest.raises(Conflict):
        gongwen.runtime.complete(task.id, signer.id, {"decision": "approve"})
    with pytest.raises(Conflict), gongwen.db.write() as s:
        inbox.unclaim(s, task.id, signer.id)
    with gongwen.db.write() as s:
        inbox.unclaim(s, task.id, leader.id)
    assert [t.id for t in ready_for(gongwen, signer)] == [task.id]


def test_delegation_hands_the_task_to_a_colleague_and_is_audited(gongwen, org, started):
    clerk, handler = org.person("lyg.clerk"), org.person("lyg.handler")
    (task,) = ready_for(gongwen, clerk)
    with pytest.raises(Forbidden), gongwen.db.write() as s:
        inbox.delegate(s, task.id, clerk.id, org.person("dh.clerk").id)  # outside the unit
    with gongwen.db.write() as s:
        inbox.delegate(s, task.id, clerk.id, handler.id)
    assert ready_for(gongwen, clerk) == []
    assert [t.id for t in ready_for(gongwen, handler)] == [task.id]
    gongwen.runtime.complete(task.id, handler.id, {"decision": "approve"})
    with gongwen.db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == started)
                            .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["task.delegate", "task.complete"]


def test_a_frozen_person_cannot_act(gongwen, org, started):
    from engine.organisation import set_frozen

    clerk = org.person("lyg.clerk")
    (task,) = ready_for(gongwen, clerk)
    with gongwen.db.write() as s:
        set_frozen(s, s.get(type(clerk), clerk.id), True)
    with pytest.raises(Forbidden, match="冻结"):
        gongwen.runtime.complete(task.id, clerk.id, {"decision": "approve"})


TO_ONE_PERSON = bpmn(
    "<bpmn:startEvent id='s'/>"
    + user_task("read", "阅知", extra="<spiffworkflow:property name='candidatePerson' value='reader'/>")
    + "<bpmn:endEvent id='e'/>" + flows("s", "read", "e"),
    process_id="to_one", lanes={"收发员": ["s", "read", "e"]})


@pytest.mark.parametrize("admin", ["sysadmin", "secadmin", "auditor"])
def test_an_administrator_named_by_a_diagram_receives_no_business_task(gongwen, org, admin):
    """三员分立: whatever a diagram computes, an administrator never sees or completes a business task."""
    deploy_bytes(gongwen, "to_one.bpmn", TO_ONE_PERSON)
    person = org.person(admin)
    gongwen.runtime.start("to_one", owning_unit_id=org.unit("city_office").id, data={"reader": person.id})
    assert ready_for(gongwen, person) == []
    with gongwen.db.session() as db:
        assert inbox.task_count(db, person.id) == 0
        from engine.models import Task
        task = db.scalar(select(Task).where(Task.name == "阅知"))
    with pytest.raises(Forbidden, match="管理员"):
        gongwen.runtime.complete(task.id, person.id, {"decision": "approve", "opinion": "已阅"})


def test_an_outsider_claiming_a_task_someone_took_is_not_told_that_it_exists(gongwen, org, started):
    (task,) = ready_for(gongwen, org.person("lyg.clerk"))
    with gongwen.db.write() as db:
        inbox.claim(db, task.id, org.person("lyg.clerk").id)
    with pytest.raises(Forbidden), gongwen.db.write() as db:
        inbox.claim(db, task.id, org.person("dh.clerk").id)  # another unit's clerk
