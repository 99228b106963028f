"""A handler that raises: its writes are undone, its task waits as an incident, a retry carries on.

And a step that fails outside any handler leaves the instance exactly as it was.
"""

import pytest
from sqlalchemy import func, select

from engine.errors import StepFailed
from engine.models import AuditEvent, Incident, InstanceStatus, ProcessInstance, Task, TaskState
from engine.registry import handler
from handlers.notifications.models import Notification
from tests.support import bpmn, deploy_bytes, flows, ready_for, service_task, user_task

FLAKY = {"fail": True}


@handler("test_flaky_notice")
def flaky_notice(ctx, text):
    """Writes a notification, then fails while FLAKY says so."""
    ctx.session.add(Notification(person_id=ctx.initiator_id, kind="test", text=text, created_at=ctx.now()))
    ctx.session.flush()
    if FLAKY["fail"]:
        raise ConnectionError("短信网关无响应")
    return {"sent": text}


CRASHY = bpmn(
    "<bpmn:startEvent id='s'/>" + user_task("approve", "审批")
    + service_task("notice", "test_flaky_notice", {"text": "'已审批'"}, result="notice")
    + user_task("archive", "归档") + "<bpmn:endEvent id='e'/>" + flows("s", "approve", "notice", "archive", "e"),
    process_id="crashy", lanes={"领导": ["s", "approve", "notice", "archive", "e"]})


@pytest.fixture
def started(gongwen, org):
    FLAKY["fail"] = True
    deploy_bytes(gongwen, "crashy.bpmn", CRASHY)
    leader = org.person("lyg.leader")
    return gongwen.runtime.start("crashy", owning_unit_id=leader.unit_id, initiator_id=leader.id), leader


def _count(gongwen, model, *where):
    with gongwen.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_failing_handler_becomes_an_incident_and_nothing_else_is_lost(gongwen, started):
    instance, leader = started
    (task,) = ready_for(gongwen, leader)
    gongwen.runtime.complete(task.id, leader.id, {"decision": "approve", "opinion": "同意"})

    with gongwen.db.session() as s:
        row = s.get(ProcessInstance, instance)
        (incident,) = s.scalars(select(Incident)).all()
        done = s.get(Task, task.id)
    assert row.status == InstanceStatus.ERROR
    assert incident.task_name == "notice" and "短信网关无响应" in incident.error
    assert done.state == TaskState.COMPLETED and done.form_data["opinion"] == "同意"  # the person's work is kept
    assert _count(gongwen, Notification) == 0  # the handler's own write was rolled back
    assert ready_for(gongwen, leader) == []

    FLAKY["fail"] = False
    gongwen.runtime.retry_incident(incident.id)
    with gongwen.db.session() as s:
        assert s.get(ProcessInstance, instance).status == InstanceStatus.RUNNING
        assert s.get(Incident, incident.id).resolved_at is not None
    assert _count(gongwen, Notification) == 1
    assert [t.name for t in ready_for(gongwen, leader)] == ["归档"]


def test_a_retry_that_fails_again_opens_a_new_incident(gongwen, started):
    _, leader = started
    gongwen.runtime.complete(ready_for(gongwen, leader)[0].id, leader.id, {"decision": "approve"})
    first = _count(gongwen, Incident)
    with gongwen.db.session() as s:
        incident_id = s.scalar(select(Incident.id))
    gongwen.runtime.retry_incident(incident_id)
    assert _count(gongwen, Incident) == first + 1
    assert _count(gongwen, Incident, Incident.resolved_at.is_(None)) == 1


def test_a_step_that_fails_while_saving_changes_nothing(gongwen, started, monkeypatch):
    instance, leader = started
    (task,) = ready_for(gongwen, leader)
    with gongwen.db.session() as s:
        before = s.get(ProcessInstance, instance)
        state, revision = before.state, before.revision
    audit_rows = _count(gongwen, AuditEvent)

    def broken(workflow, ctx):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr("engine.runtime.project_waits", broken)
    with pytest.raises(StepFailed, match="本次操作未生效"):
        gongwen.runtime.complete(task.id, leader.id, {"decision": "approve"})
    with gongwen.db.session() as s:
        after = s.get(ProcessInstance, instance)
        assert (after.state, after.revision) == (state, revision)
        assert s.get(Task, task.id).state == TaskState.READY
    assert _count(gongwen, AuditEvent) == audit_rows
    assert _count(gongwen, Incident) == 0
    monkeypatch.undo()
    gongwen.runtime.complete(task.id, leader.id, {"decision": "approve"})  # and it can be done again
