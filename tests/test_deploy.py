"""Deploying BPMN: every kind of bad file is refused with file, element and reason; nothing is stored."""

import pytest
from sqlalchemy import func, select

from engine.errors import DeployError
from engine.models import BpmnSource, ProcessDefinition
from tests.support import ROOT, bpmn, deploy_bytes, flows, ready_for, service_task, user_task

GOOD = bpmn("<bpmn:startEvent id='s'/>" + user_task("review", "审批") + "<bpmn:endEvent id='e'/>"
            + flows("s", "review", "e"), lanes={"领导": ["s", "review", "e"]})


def _stored(gongwen) -> tuple[int, int]:
    with gongwen.db.session() as s:
        return s.scalar(select(func.count()).select_from(ProcessDefinition)), \
            s.scalar(select(func.count()).select_from(BpmnSource))


@pytest.mark.parametrize("content, element, fragment", [
    (b"<bpmn:definitions", None, "不是格式正确的 XML"),
    (b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
     b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>&x;</bpmn:definitions>",
     None, "DOCTYPE"),
    (bpmn("<bpmn:startEvent id='s'/>" + service_task("crunch", "no_such_handler") + flows("s", "crunch")),
     "crunch", "处理程序 'no_such_handler' 未注册"),
    (bpmn("<bpmn:startEvent id='s'/>" + user_task("review", "审批", "no_such_form") + flows("s", "review"),
          lanes={"领导": ["s", "review"]}), "review", "表单 'no_such_form' 未注册"),
    (bpmn("<bpmn:startEvent id='s'/>" + user_task("review", "审批") + flows("s", "review"),
          lanes={"厨师": ["s", "review"]}), "lane_0", "泳道“厨师”没有对应的角色"),
    (bpmn("<bpmn:startEvent id='s'/><bpmn:scriptTask id='evil'><bpmn:script>x = __import__('os')</bpmn:script>"
          "</bpmn:scriptTask>" + flows("s", "evil")), "evil", "不能使用以下划线开头的名称"),
    (bpmn("<bpmn:startEvent id='s'/><bpmn:bogusTask id='b'/>"), None, "不符合 BPMN 2.0 模式"),
])
def test_bad_files_are_refused_with_the_element_and_reason(gongwen, content, element, fragment):
    with pytest.raises(DeployError) as refused:
        deploy_bytes(gongwen, "bad.bpmn", content)
    assert refused.value.filename == "bad.bpmn"
    assert refused.value.element_id == element
    assert fragment in str(refused.value)
    assert _stored(gongwen) == (0, 0)


def test_entities_are_never_expanded_into_the_diagram(gongwen):
    content = (b"<!DOCTYPE d [<!ENTITY secret 'leaked'>]>" + GOOD.split(b"?>", 1)[1]).replace(
        b"name='\xe5\xae\xa1\xe6\x89\xb9'", b"name='&secret;'")
    with pytest.raises(DeployError, match="DOCTYPE"):
        deploy_bytes(gongwen, "entity.bpmn", content)


def test_one_bad_file_in_a_batch_stores_nothing(gongwen):
    bad = GOOD.replace(b"leave_decision", b"missing_form").replace(b'id="t"', b'id="t2"')
    with pytest.raises(DeployError), gongwen.db.write() as session:
        from engine.deploy import deploy
        deploy(session, [("good.bpmn", GOOD), ("bad.bpmn", bad)])
    assert _stored(gongwen) == (0, 0)


def test_identical_content_is_a_no_op_and_a_change_is_the_next_version(gongwen):
    first = deploy_bytes(gongwen, "t.bpmn", GOOD)
    again = deploy_bytes(gongwen, "t.bpmn", GOOD)
    changed = deploy_bytes(gongwen, "t.bpmn", GOOD.replace("审批".encode(), "复核".encode()))
    assert [(r.version, r.changed) for r in first + again + changed] == [(1, True), (1, False), (2, True)]
    assert _stored(gongwen) == (2, 2)


def test_a_running_instance_stays_on_its_version(gongwen, org):
    leader = org.person("lyg.leader")
    deploy_bytes(gongwen, "t.bpmn", GOOD)
    old = gongwen.runtime.start("t", owning_unit_id=leader.unit_id, initiator_id=leader.id)
    deploy_bytes(gongwen, "t.bpmn", GOOD.replace("审批".encode(), "复核".encode()))
    new = gongwen.runtime.start("t", owning_unit_id=leader.unit_id, initiator_id=leader.id)
    names = {t.instance_id: t.name for t in ready_for(gongwen, leader)}
    assert names == {old: "审批", new: "复核"}
    old_task = next(t for t in ready_for(gongwen, leader) if t.instance_id == old)
    gongwen.runtime.complete(old_task.id, leader.id, {"decision": "approve"})
    assert [t.instance_id for t in ready_for(gongwen, leader)] == [new]


def test_the_shipped_workflows_deploy(gongwen):
    from engine.deploy import collect

    shipped = sorted((ROOT / "workflows").glob("*.bpmn"))
    with gongwen.db.write() as session:
        from engine.deploy import deploy
        results = deploy(session, collect([ROOT / "workflows"]))
    assert len(shipped) >= 4 and sorted(r.filename for r in results) == [p.name for p in shipped]


def test_an_extension_id_that_shadows_an_element_is_refused(gongwen):
    content = bpmn("<bpmn:startEvent id='s'/>" + service_task("notify", "notify", {"text": "'x'"})
                   + flows("s", "notify"))
    with pytest.raises(DeployError, match="与流程元素重名") as refused:
        deploy_bytes(gongwen, "clash.bpmn", content)
    assert refused.value.element_id == "notify"
