"""The leave process (请销假) end to end, with the demo organisation's people."""

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, FormInvalid
from engine.models import InstanceStatus, ProcessInstance, Task, TaskState
from tests.support import ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def _apply(gongwen, person, start="2026-11-24", end="2026-11-25"):
    instance = gongwen.runtime.start("leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                                     data={"department_id": person.department_id}, title=f"{person.name}请假")
    (task,) = ready_for(gongwen, person)
    gongwen.runtime.complete(task.id, person.id, {"kind": "annual", "start_date": start, "end_date": end,
                                                  "reason": "探亲"})
    return instance


def _only_task(gongwen, person):
    (task,) = ready_for(gongwen, person)
    return task


def _status(gongwen, instance_id):
    with gongwen.db.session() as s:
        return s.get(ProcessInstance, instance_id).status


def test_a_long_leave_is_returned_once_then_approved_by_head_and_leader(gongwen, org):
    applicant, head, leader = org.person("lyg.drafter"), org.person("lyg.head"), org.person("lyg.leader")
    instance = _apply(gongwen, applicant, "2026-11-24", "2026-11-30")  # Tue to Mon: 5 working days

    review = _only_task(gongwen, head)
    assert review.name == "部门负责人审批"
    gongwen.runtime.complete(review.id, head.id, {"decision": "return", "opinion": "请补充工作交接安排"})

    revise = _only_task(gongwen, applicant)
    assert revise.name == "填写请假单"
    gongwen.runtime.complete(revise.id, applicant.id, {"kind": "annual", "start_date": "2026-11-24",
                                                       "end_date": "2026-11-30", "reason": "探亲，工作已交接"})
    gongwen.runtime.complete(_only_task(gongwen, head).id, head.id, {"decision": "approve", "opinion": "同意"})

    approval = _only_task(gongwen, leader)
    assert approval.name == "领导审批"
    gongwen.runtime.complete(approval.id, leader.id, {"decision": "approve"})

    report = _only_task(gongwen, applicant)
    assert report.name == "销假"
    gongwen.runtime.complete(report.id, applicant.id, {"returned_on": "2026-12-01"})
    assert _status(gongwen, instance) == InstanceStatus.COMPLETED
    with gongwen.db.session() as s:
        trail = s.execute(select(Task.name, Task.completed_by_id, Task.form_data).where(
            Task.instance_id == instance, Task.state == TaskState.COMPLETED).order_by(Task.completed_at)).all()
    assert [(name, who) for name, who, _ in trail] == [
        ("填写请假单", applicant.id), ("部门负责人审批", head.id), ("填写请假单", applicant.id),
        ("部门负责人审批", head.id), ("领导审批", leader.id), ("销假", applicant.id)]
    assert trail[1][2]["opinion"] == "请补充工作交接安排"


def test_a_short_leave_needs_no_leader(gongwen, org):
    applicant, head, leader = org.person("lyg.drafter"), org.person("lyg.head"), org.person("lyg.leader")
    _apply(gongwen, applicant, "2026-11-24", "2026-11-26")  # 3 working days: not more than 3
    gongwen.runtime.complete(_only_task(gongwen, head).id, head.id, {"decision": "approve"})
    assert ready_for(gongwen, leader) == []
    assert _only_task(gongwen, applicant).name == "销假"


def test_the_review_goes_to_the_head_of_the_applicants_department_only(gongwen, org):
    _apply(gongwen, org.person("lyg.drafter2"))  # 秘书二处
    assert ready_for(gongwen, org.person("lyg.head")) == []
    assert len(ready_for(gongwen, org.person("lyg.head2"))) == 1


def test_bad_form_data_lists_each_field_and_changes_nothing(gongwen, org):
    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id})
    task = _only_task(gongwen, applicant)
    with pytest.raises(FormInvalid) as invalid:
        gongwen.runtime.complete(task.id, applicant.id, {"kind": "holiday", "start_date": "2026-11-30",
                                                         "end_date": "2026-11-24"})
    assert invalid.value.status == 422
    assert set(invalid.value.errors) == {"kind", "reason"}  # the date order is checked once fields are valid
    with pytest.raises(FormInvalid) as invalid:
        gongwen.runtime.complete(task.id, applicant.id, {"kind": "sick", "start_date": "2026-11-30",
                                                         "end_date": "2026-11-24", "reason": "病"})
    assert invalid.value.errors == {"end_date": ["结束日期不能早于开始日期"]}
    assert [t.id for t in ready_for(gongwen, applicant)] == [task.id]


def test_a_return_without_a_reason_is_refused(gongwen, org):
    _apply(gongwen, org.person("lyg.drafter"))
    head = org.person("lyg.head")
    with pytest.raises(FormInvalid) as invalid:
        gongwen.runtime.complete(_only_task(gongwen, head).id, head.id, {"decision": "return"})
    assert invalid.value.errors == {"opinion": ["退回时请写明理由"]}


def test_people_outside_the_task_cannot_complete_it(gongwen, org):
    _apply(gongwen, org.person("lyg.drafter"))
    task = _only_task(gongwen, org.person("lyg.head"))
    for outsider in ("cz.head", "lyg.head2", "sysadmin", "lyg.drafter"):
        with pytest.raises(Forbidden):
            gongwen.runtime.complete(task.id, org.person(outsider).id, {"decision": "approve"})
    gongwen.runtime.complete(task.id, org.person("lyg.head").id, {"decision": "approve"})
    with pytest.raises(Conflict):
        gongwen.runtime.complete(task.id, org.person("lyg.head").id, {"decision": "approve"})


def test_form_errors_are_in_chinese_even_for_marshmallow_defaults():
    from marshmallow import ValidationError

    from engine.registry import FORMS

    with pytest.raises(ValidationError) as invalid:
        FORMS["incoming_route"].load({"lead_department": "综合股", "assisting_departments": "2", "bogus": 1})
    assert invalid.value.messages == {"lead_department": ["格式不正确"], "assisting_departments": ["应为多项选择"],
                                      "bogus": ["表单中没有这一项"]}
