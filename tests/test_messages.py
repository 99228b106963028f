"""Messages between instances by correlation; a message nobody waits for is kept as a dead letter."""

import pytest
from sqlalchemy import select

from engine.models import InstanceStatus, Outbox, OutboxStatus, ProcessInstance
from tests.support import bpmn, deploy_bytes, flows, ready_for, user_task

MESSAGE = "<bpmn:message id='receipt_msg' name='签收回执'/>"
RECEIVER = bpmn(
    "<bpmn:startEvent id='s'/>"
    "<bpmn:intermediateCatchEvent id='wait' name='等待回执'><bpmn:messageEventDefinition id='wait_def' "
    "messageRef='receipt_msg'><bpmn:extensionElements><spiffworkflow:messageVariable>receipt"
    "</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:messageEventDefinition>"
    "</bpmn:intermediateCatchEvent>" + user_task("read", "阅知回执") + "<bpmn:endEvent id='e'/>"
    + flows("s", "wait", "read", "e"),
    process_id="receiver", lanes={"领导": ["s", "wait", "read", "e"]}, definitions=MESSAGE)
SENDER = bpmn(
    "<bpmn:startEvent id='s'/>"
    "<bpmn:intermediateThrowEvent id='send' name='发送回执'><bpmn:messageEventDefinition id='send_def' "
    "messageRef='receipt_msg'><bpmn:extensionElements><spiffworkflow:messagePayload>"
    "{'to': {'doc': doc, 'unit': sender_unit}, 'signed_by': signer}"
    "</spiffworkflow:messagePayload></bpmn:extensionElements></bpmn:messageEventDefinition>"
    "</bpmn:intermediateThrowEvent><bpmn:endEvent id='e'/>" + flows("s", "send", "e"),
    process_id="sender", definitions=MESSAGE)


@pytest.fixture
def waiting(gongwen, org):
    deploy_bytes(gongwen, "receiver.bpmn", RECEIVER)
    deploy_bytes(gongwen, "sender.bpmn", SENDER)
    unit = org.unit("city_office")
    return {doc: gongwen.runtime.start("receiver", owning_unit_id=unit.id, correlation={"doc": doc, "unit": unit.id})
            for doc in (7, 8)}


def _outbox(gongwen):
    with gongwen.db.session() as s:
        return [(o.payload["name"], o.status) for o in s.scalars(select(Outbox).order_by(Outbox.id))]


def test_a_thrown_message_reaches_the_instance_with_the_same_correlation(gongwen, org, waiting):
    city, county = org.unit("city_office"), org.unit("donghai_office")
    gongwen.runtime.start("sender", owning_unit_id=county.id, data={"doc": 8, "sender_unit": city.id,
                                                                    "signer": "东海县收发员"})
    (task,) = ready_for(gongwen, org.person("lyg.leader"))
    assert task.instance_id == waiting[8]
    with gongwen.db.session() as s:
        receiver = s.get(ProcessInstance, waiting[8])
        assert '"signed_by":"东海县收发员"' in receiver.state
        assert s.get(ProcessInstance, waiting[7]).status == InstanceStatus.RUNNING
    assert _outbox(gongwen) == [("签收回执", OutboxStatus.DONE)]


def test_a_message_nobody_waits_for_is_a_dead_letter(gongwen, org, waiting):
    county = org.unit("donghai_office")
    gongwen.runtime.start("sender", owning_unit_id=county.id, data={"doc": 99, "sender_unit": county.id,
                                                                    "signer": "无人"})
    assert _outbox(gongwen) == [("签收回执", OutboxStatus.DEAD)]
    assert ready_for(gongwen, org.person("lyg.leader")) == []


def test_host_code_can_send_a_message_that_arrives_after_commit(gongwen, org, waiting):
    unit = org.unit("city_office")
    with gongwen.db.write() as s:
        gongwen.runtime.send_message(s, "签收回执", {"doc": 7, "unit": unit.id}, {"signed_by": "市财政局"})
        assert ready_for(gongwen, org.person("lyg.leader")) == []  # not before the commit
    (task,) = ready_for(gongwen, org.person("lyg.leader"))
    assert task.instance_id == waiting[7]
