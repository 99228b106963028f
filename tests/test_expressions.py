"""Diagram expressions run sandboxed: escapes are refused with a clear reason and time is bounded."""

import hashlib

import pytest
from sqlalchemy import select

from engine import clock
from engine.expressions import Evaluator, ExpressionError
from engine.models import BpmnSource, Incident, InstanceStatus, ProcessDefinition, ProcessInstance
from tests.support import bpmn, deploy_bytes, flows, ready_for, user_task

ESCAPES = [
    "().__class__.__mro__[1].__subclasses__()",
    "__import__('os').system('id')",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]",
    "getattr((), '__class__')",
    "open('/etc/passwd').read()",
    "exec('1')",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_with_a_clear_reason(source):
    with pytest.raises(ExpressionError) as refused:
        Evaluator(timeout_s=0.5).evaluate(source, {})
    assert str(refused.value).startswith("表达式")


def test_the_messages_name_what_is_not_allowed():
    evaluator = Evaluator(timeout_s=0.5)
    with pytest.raises(ExpressionError, match="下划线开头"):
        evaluator.evaluate("().__class__.__mro__[1].__subclasses__()", {})
    with pytest.raises(ExpressionError, match="下划线开头"):
        evaluator.evaluate("__import__('os')", {})


def test_runaway_scripts_are_stopped():
    evaluator = Evaluator(timeout_s=0.3)
    with pytest.raises(ExpressionError, match=r"超过 0\.3 秒"):
        evaluator.execute("n = 0\nwhile True:\n    n += 1\n", {})
    with pytest.raises(ExpressionError, match="过大"):
        evaluator.evaluate("10 ** 10 ** 8", {})
    with pytest.raises(ExpressionError, match="序列过大"):
        evaluator.evaluate("'公文' * 10 ** 9", {})


# Each of these runs for minutes or allocates gigabytes inside one C call, where the time limit
# cannot reach; each must be refused before it starts (the probe froze the server with the first).
BOMBS = [
    "((9 ** 512) ** 512) ** 512",
    "1 << (1 << 34)",
    "x = 3\nfor _ in range(40):\n    x = x * x",
    "s = 'x' * 1000000\nfor _ in range(40):\n    s = s + s",
    "s = 'x' * 1000000\nfor _ in range(40):\n    s += s",
    "'x'.ljust(10 ** 10)",
    "('x' * 999999).replace('x', 'y' * 999999)",
    "''.join(['x' * 999999] * 999999)",
    "f'{1:>9999999999}'",
    "f'{1:>{10 ** 10}}'",
    "'%9999999999d' % 1",
    "'%*d' % (10 ** 10, 1)",
    "data = ['x' * 99999 for _ in range(30)]",  # 3 MB of script data for the workflow state
]


@pytest.mark.parametrize("source", BOMBS)
def test_work_done_inside_one_operation_is_bounded_before_it_runs(source):
    evaluator = Evaluator(timeout_s=5)
    with pytest.raises(ExpressionError, match=r"过大|不允许|上限|必须是常量"):
        if "\n" in source or source.startswith(("s =", "data =")):
            evaluator.execute(source, {})
        else:
            evaluator.evaluate(source, {})


def test_ordinary_expressions_and_scripts_work():
    evaluator = Evaluator(timeout_s=0.5)
    assert evaluator.evaluate("leave['working_days'] > 3 and kind in ('annual', 'sick')",
                              {"leave": {"working_days": 5}, "kind": "annual"}) is True
    data = {"opinions": ["同意"]}
    evaluator.execute("opinions = opinions + ['请核']\ncount = len(opinions)\n", data)
    assert data == {"opinions": ["同意", "请核"], "count": 2}
    assert evaluator.evaluate("str(2 ** 64) + '|' + 'x'.ljust(3, '-') + '%05d' % 42 + f'{3.14159:.2f}'",
                              {}) == "18446744073709551616|x--00042" + "3.14"


def test_an_escape_that_bypassed_deploy_fails_the_task_and_harms_nothing(gongwen, org):
    """A definition stored without the deploy checks (say, by an old version) still cannot escape."""
    leader = org.person("lyg.leader")
    content = bpmn("<bpmn:startEvent id='s'/>" + user_task("approve", "审批")
                   + "<bpmn:scriptTask id='evil' name='取子类'><bpmn:script>"
                   "leaked = ().__class__.__mro__[1].__subclasses__()</bpmn:script></bpmn:scriptTask>"
                   "<bpmn:endEvent id='e'/>" + flows("s", "approve", "evil", "e"),
                   process_id="sneaky", lanes={"领导": ["s", "approve", "evil", "e"]})
    sha = hashlib.sha256(content).hexdigest()
    with gongwen.db.write() as s:
        s.add(BpmnSource(sha256=sha, content=content))
        s.add(ProcessDefinition(process_id="sneaky", version=1, name="sneaky", filename="sneaky.bpmn",
                                source_sha256=sha, deployed_at=clock.now()))
    instance = gongwen.runtime.start("sneaky", owning_unit_id=leader.unit_id)
    (task,) = ready_for(gongwen, leader)
    gongwen.runtime.complete(task.id, leader.id, {"decision": "approve", "opinion": "同意"})
    with gongwen.db.session() as s:
        row = s.get(ProcessInstance, instance)
        (incident,) = s.scalars(select(Incident)).all()
    assert row.status == InstanceStatus.ERROR
    assert "下划线开头" in incident.error
    assert "leaked" not in row.state
    assert '"opinion":"同意"' in row.state  # the completed task's data is intact


def test_a_step_that_would_save_an_oversized_workflow_state_is_refused_and_changes_nothing(gongwen, org,
                                                                                            monkeypatch):
    from engine import runtime
    from engine.errors import Refused

    deploy_bytes(gongwen, "t.bpmn", bpmn("<bpmn:startEvent id='s'/>" + user_task("approve", "审批")
                                         + "<bpmn:endEvent id='e'/>" + flows("s", "approve", "e"),
                                         lanes={"领导": ["s", "approve", "e"]}))
    leader = org.person("lyg.leader")
    instance = gongwen.runtime.start("t", owning_unit_id=leader.unit_id)
    (task,) = ready_for(gongwen, leader)
    monkeypatch.setattr(runtime, "MAX_STATE_CHARS", 2000)
    with pytest.raises(Refused, match="流程数据过大"):
        gongwen.runtime.complete(task.id, leader.id, {"decision": "approve", "opinion": "同意" * 250})
    with gongwen.db.session() as s:
        assert s.get(ProcessInstance, instance).status == InstanceStatus.RUNNING
    assert [t.id for t in ready_for(gongwen, leader)] == [task.id]
