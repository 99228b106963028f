"""The tables that mirror an instance's state, kept equal to it in the step that changes it.

An instance's workflow state is one JSON blob nobody can query. What the rest of the system
asks about it lives in projections: ``task`` (the inbox: one row per ready user task, completed
or cancelled when it stops being ready), ``timer`` (when a waiting timer is due) and
``message_wait`` (which messages it waits for, under its correlation). A step compares what it
found when it began (:func:`ready_ids`, :func:`waits`) with what the engine left and writes only
the difference, in the step's own transaction.

Inside :meth:`Runtime.batch <engine.runtime.Runtime.batch>`, new rows are held back in a
:class:`Batch` and inserted together when the batch ends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from . import clock
from .bpmn import INITIATOR_LANE, LANE_ROLES
from .db import is_sqlite
from .errors import StepFailed
from .expressions import Evaluator, ExpressionError
from .models import MessageWait, ProcessInstance, Task, TaskState, Timer
from .step import as_datetime

if TYPE_CHECKING:
    from .step import StepContext

_TIMER_EVENTS = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
BATCH = "gongwen.batch"  # the session.info key of the batch in progress
# Statements most steps send, built once: building and keying a statement anew costs more of the
# client's CPU than its loopback round trip (issue 16). The closing values are the parameters' columns.
_CLOSE_TASK = update(Task.__table__).where(Task.__table__.c.id == bindparam("closed_id"))
_DELETE_TIMERS = delete(Timer.__table__).where(Timer.__table__.c.instance_id == bindparam("of_instance"))
_DELETE_WAITS = delete(MessageWait.__table__).where(MessageWait.__table__.c.instance_id == bindparam("of_instance"))


@dataclass
class Batch:
    """What a :meth:`Runtime.batch <engine.runtime.Runtime.batch>` holds back until it ends."""

    ids: list[int]                 # pre-drawn instance ids, taken from the end
    rows: dict[Table, list[dict]]  # table -> rows to insert when the batch ends


def instance_ids(session: Session, count: int) -> list[int]:
    """``count`` ids for new instances, or none where they cannot be known before the insert.

    PostgreSQL draws them from the sequence. SQLite gives a new row the largest id plus one; in a
    transaction begun with ``BEGIN IMMEDIATE`` (``Database.write``) no other writer can insert
    until it ends, so the next ``count`` ids are known. Otherwise each instance is flushed to learn
    its id.
    """
    if not count:
        return []
    if not is_sqlite(session):
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('process_instance', 'id')) FROM generate_series(1, :n)"),
            {"n": count}))
    if not session.connection().get_execution_options().get("immediate"):
        return []
    top = session.scalar(select(func.max(ProcessInstance.id))) or 0
    return list(range(top + 1, top + count + 1))


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` into ``table`` now, or when the batch in progress ends."""
    batch = session.info.get(BATCH)
    if batch is not None:
        batch.rows.setdefault(table, []).extend(rows)
    else:
        session.connection().execute(insert(table), rows)


def ready_ids(workflow: BpmnWorkflow) -> set[uuid.UUID]:
    """The ready user tasks: what the inbox holds for the instance."""
    return {t.id for t in workflow.get_tasks(state=SpiffState.READY, manual=True)}


def waits(workflow: BpmnWorkflow, listens: tuple[str, ...] = ()) -> tuple[list[datetime], list[str]]:
    """Due times of waiting timers and names of awaited messages, sorted."""
    timers, messages = [], list(listens) if listens and not workflow.is_completed() else []
    for event in workflow.waiting_events():
        if event.event_type in _TIMER_EVENTS and isinstance(event.value, str):
            timers.append(datetime.fromisoformat(event.value).astimezone(clock.UTC))
        elif event.event_type == "MessageEventDefinition":
            messages.append(event.name)
    return sorted(timers), sorted(messages)


def project_tasks(workflow: BpmnWorkflow, ctx: StepContext, evaluator: Evaluator) -> None:
    """Close the inbox rows of tasks no longer ready and add rows for the newly ready ones."""
    # Core statements on the session's connection: the ORM's bulk machinery costs more than the SQL.
    conn, table = ctx.session.connection(), Task.__table__
    ready = {t.id: t for t in workflow.get_tasks(state=SpiffState.READY, manual=True)}
    now = clock.now()
    for task_id in ctx.ready_before - ready.keys():
        done = ctx.completion is not None and ctx.completion.task_id == task_id
        values: dict[str, Any] = {"state": TaskState.COMPLETED if done else TaskState.CANCELLED,
                                  "completed_at": now}
        if done:
            values |= {"completed_by_id": ctx.completion.person_id, "form_data": ctx.completion.data}
        conn.execute(_CLOSE_TASK, {"closed_id": task_id, **values})
    new = [_task_row(task, ctx, now, evaluator) for task_id, task in ready.items() if task_id not in ctx.ready_before]
    if new:
        insert_rows(ctx.session, table, new)


def _task_row(task: SpiffTask, ctx: StepContext, now: datetime, evaluator: Evaluator) -> dict:
    spec = task.task_spec
    props = spec.extensions.get("properties", {})
    lane = spec.lane

    def prop(name: str) -> Any:
        if name not in props:
            return None
        try:
            return evaluator.evaluate(props[name], task.data)
        except ExpressionError as err:
            raise StepFailed(f"任务“{spec.bpmn_name or spec.name}”的 {name} 表达式出错：{err}") from None

    person = prop("candidatePerson")
    if person is None and lane == INITIATOR_LANE:
        person = ctx.initiator_id
    role = props.get("candidateRole") or (LANE_ROLES.get(lane) if lane else None)
    return {
        "id": task.id, "instance_id": ctx.instance_id, "spec_name": spec.name,
        "name": spec.bpmn_name or spec.name, "form_key": props["formKey"], "lane": lane,
        "candidate_role": role if lane != INITIATOR_LANE else None,
        "candidate_unit_id": prop("candidateUnit") or ctx.owning_unit_id,
        "candidate_department_id": prop("candidateDepartment"),
        "candidate_person_id": person, "assignee_id": None, "state": TaskState.READY,
        "created_at": now, "due_at": as_datetime(prop("due")),
    }


def project_waits(workflow: BpmnWorkflow, ctx: StepContext) -> None:
    """Rewrite the instance's timers and message waits if the step changed them."""
    conn, row = ctx.session.connection(), ctx.instance
    (timers, messages), (old_timers, old_messages) = waits(workflow, ctx.listens), ctx.waits_before
    if timers != old_timers:
        timer = Timer.__table__
        if old_timers:
            conn.execute(_DELETE_TIMERS, {"of_instance": row.id})
        if timers:
            insert_rows(ctx.session, timer, [{"instance_id": row.id, "due_at": t} for t in timers])
    if messages != old_messages:
        wait = MessageWait.__table__
        if old_messages:
            conn.execute(_DELETE_WAITS, {"of_instance": row.id})
        if messages:
            insert_rows(ctx.session, wait, [
                {"instance_id": row.id, "name": name, "correlation": row.correlation} for name in messages
            ])
