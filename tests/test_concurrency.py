"""Two people acting on one instance at the same moment: serialised, nothing lost, no double completion."""

import threading
import time

import pytest

from engine.errors import Conflict
from engine.models import InstanceStatus, ProcessInstance
from engine.runtime import Runtime
from tests.support import bpmn, deploy_bytes, flows, ready_for, user_task

PARALLEL = bpmn(
    "<bpmn:startEvent id='s'/><bpmn:parallelGateway id='split'/>"
    + user_task("a", "甲处意见") + user_task("b", "乙处意见")
    + "<bpmn:parallelGateway id='join'/><bpmn:endEvent id='e'/>"
    + flows("s", "split") + flows("split", "a", "join") + flows("split", "b", "join") + flows("join", "e"),
    process_id="parallel", lanes={"领导": ["s", "split", "a", "b", "join", "e"]})


@pytest.fixture
def slow_steps(monkeypatch):
    """Hold each step's lock a little longer, so that concurrent steps really overlap."""
    original = Runtime._advance

    def slow(self, workflow, ctx):
        original(self, workflow, ctx)
        time.sleep(0.2)

    monkeypatch.setattr(Runtime, "_advance", slow)


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            call()
            outcomes[i] = "ok"
        except Exception as err:  # the outcome is what the test inspects
            outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_parallel_completions_on_one_instance_are_both_kept(gongwen, org, slow_steps):
    leader = org.person("lyg.leader")
    deploy_bytes(gongwen, "parallel.bpmn", PARALLEL)
    instance = gongwen.runtime.start("parallel", owning_unit_id=leader.unit_id)
    a, b = ready_for(gongwen, leader)
    outcomes = _together(lambda: gongwen.runtime.complete(a.id, leader.id, {"decision": "approve"}),
                         lambda: gongwen.runtime.complete(b.id, leader.id, {"decision": "approve"}))
    assert outcomes == ["ok", "ok"]
    with gongwen.db.session() as s:
        row = s.get(ProcessInstance, instance)
        assert (row.status, row.revision) == (InstanceStatus.COMPLETED, 3)


def test_the_same_task_completed_twice_at_once_is_done_once(gongwen, org, slow_steps):
    leader, signer = org.person("lyg.leader"), org.person("lyg.signer")
    deploy_bytes(gongwen, "parallel.bpmn", PARALLEL)
    instance = gongwen.runtime.start("parallel", owning_unit_id=leader.unit_id)
    task = ready_for(gongwen, leader)[0]
    outcomes = _together(lambda: gongwen.runtime.complete(task.id, leader.id, {"decision": "approve"}),
                         lambda: gongwen.runtime.complete(task.id, signer.id, {"decision": "return",
                                                                                "opinion": "不同意"}))
    assert outcomes.count("ok") == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert len(ready_for(gongwen, leader)) == 1
    with gongwen.db.session() as s:
        assert s.get(ProcessInstance, instance).revision == 2


def test_the_last_two_recipients_signing_at_once_finish_the_senders_instance(gongwen, org, deployed, slow_steps):
    """Each sign-for counts the pending receipts; two at once must not each see the other as pending."""
    from tests.outgoing_support import act, send
    from web import demo

    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office", "donghai_office", "guanyun_office"])
    sent = send(gongwen, org, main_to=("donghai_office", "guanyun_office"))
    outcomes = _together(lambda: act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"}),
                         lambda: act(gongwen, org.person("gy.clerk"), "签收", {"decision": "sign"}))
    assert outcomes == ["ok", "ok"]
    with gongwen.db.session() as s:
        assert s.get(ProcessInstance, sent.instance_id).status == InstanceStatus.COMPLETED
