"""The ``handover`` process's steps: the 分管领导's signature moves the tasks (交接), and a predecessor who leaves
before confirming no longer holds the process up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.messages import send_message
from engine.models import Person, Task, TaskState
from engine.registry import HandlerContext, handler, on_departure

from . import service
from .models import Handover

DEPARTED = "原办理人离岗"  # the diagram's message: ends 原办理人确认 where it waits


@handler("handover_sign_off")
def handover_sign_off(ctx: HandlerContext, record: int) -> dict:
    """Right after 分管领导签字 in the same step: the record ``record`` signed off by who completed it and the
    predecessor's tasks moved to the successor. A move that fails (the successor lost a role meanwhile) leaves
    this task in error with an incident to retry, the signature kept."""
    signer = ctx.completion.person_id if ctx.completion is not None else ctx.session.get(
        Handover, record).leader_id
    handover = service.sign_off(ctx.session, record, signer)
    return {"tasks_moved": sum(1 for item in handover.items if item.passed_on)}


@on_departure
def predecessor_departs(session: Session, person: Person, actor_id: int | None) -> None:
    """When a person whose open handover still waits for their confirmation is frozen or moved away, the
    process goes on without it (as a handover started after that would): today's rule, kept by the diagram."""
    waiting = session.scalars(select(Handover.id).join(Task, Task.instance_id == Handover.instance_id).where(
        Handover.person_id == person.id, Handover.signed_off_at.is_(None), Task.spec_name == service.PERSON_CONFIRM,
        Task.state == TaskState.READY))
    for handover_id in waiting:
        send_message(session, DEPARTED, {"handover": handover_id}, {}, key=f"handover:{handover_id}:departed")
