"""Messages between instances, through the outbox.

Sending is writing: :func:`send_message` (and :func:`enqueue`, for any outbox topic) adds an
outbox row in the caller's transaction and asks for ``deliver_outbox`` to run once it commits
(:func:`after_commit`), so a message exists if and only if the transaction that sent it does.
It needs no runtime. :func:`deliver_message`, the consumer of the ``message`` topic, steps each
instance that waits for the message under its correlation, each in a savepoint of its own; a
message nobody takes becomes a dead letter.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn import to_plain
from .errors import GongwenError
from .models import MessageWait, Outbox, OutboxStatus

if TYPE_CHECKING:
    from .runtime import Runtime
    from .step import StepContext

log = logging.getLogger(__name__)

_JOBS = "gongwen.jobs"


def after_commit(session: Session, job: str) -> None:
    """Run background ``job`` once this session's transaction has committed."""
    session.info.setdefault(_JOBS, set()).add(job)


def pop_jobs(session: Session) -> set[str]:
    """The jobs :func:`after_commit` asked for in ``session``, forgotten once taken."""
    return session.info.pop(_JOBS, set())


def correlation_key(correlation: dict | None) -> str | None:
    """The canonical text of a correlation, e.g. ``{"doc_id":7,"unit_id":3}``."""
    if not correlation:
        return None
    return json.dumps(correlation, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def enqueue(session: Session, topic: str, key: str, payload: dict, source_instance_id: int | None = None) -> None:
    """Add an outbox item for ``topic``'s consumer, delivered after the caller's transaction commits."""
    session.add(Outbox(topic=topic, key=key, payload=payload, status=OutboxStatus.PENDING,
                       source_instance_id=source_instance_id, created_at=clock.now()))
    after_commit(session, "deliver_outbox")


def send_message(session: Session, name: str, correlation: dict | None, payload: dict | None = None,
                 *, key: str | None = None, source_instance_id: int | None = None) -> None:
    """Send message ``name`` to the instances that wait for it under ``correlation``.

    Delivered after the caller's transaction commits, each receiver in a step of its
    own; a message nobody waits for becomes a dead letter.
    """
    enqueue(session, "message", key or f"message:{uuid.uuid4()}",
            {"name": name, "correlation": correlation_key(correlation), "data": payload or {}},
            source_instance_id=source_instance_id)


def send_thrown_messages(workflow: BpmnWorkflow, ctx: StepContext) -> None:
    """Send what the step's message throw events threw; a payload's ``to`` is the correlation."""
    for i, event in enumerate(workflow.get_events()):
        payload = to_plain(event.payload) if event.payload is not None else {}
        target = payload.pop("to", None) if isinstance(payload, dict) else None
        send_message(ctx.session, event.event_definition.name, target, payload,
                     key=f"message:{ctx.instance_id}:{ctx.instance.revision + 1}:{i}",
                     source_instance_id=ctx.instance_id)


def deliver_message(runtime: Runtime, session: Session, item: Outbox) -> None:
    """Deliver outbox ``item`` of topic ``message`` to every instance waiting for it, and mark it done or dead."""
    name, correlation, data = item.payload["name"], item.payload["correlation"], item.payload["data"]
    waiting = session.scalars(
        select(MessageWait.instance_id).where(MessageWait.name == name, MessageWait.correlation == correlation)
    ).all() if correlation else []

    def receive(workflow: BpmnWorkflow, ctx: StepContext) -> bool:
        definition = next((t.task_spec.event_definition for t in workflow.event_manager.tasks.values()
                           if getattr(t.task_spec.event_definition, "name", None) == name), None)
        if definition is None and name in ctx.listens:
            definition = MessageEventDefinition(name)  # starts an event subprocess
        if definition is None:
            return False
        try:
            workflow.send_event(BpmnEvent(definition, payload=data))
        except WorkflowException:
            return False
        ctx.audit("message.receive", message=name, outbox_id=item.id)
        return True

    delivered = 0
    for instance_id in waiting:
        try:
            with session.begin_nested():
                delivered += bool(runtime.step(instance_id, receive, session))
        except GongwenError as err:
            log.warning("message %s not delivered to instance %s: %s", name, instance_id, err)
    if delivered:
        item.status = OutboxStatus.DONE
    else:
        item.status = OutboxStatus.DEAD
        audit.record(session, "message.dead_letter", instance_id=item.source_instance_id,
                     message=name, correlation=correlation)
    item.done_at = clock.now()
