"""The inbox: who may do which task, and what each person has to do.

Reads only the ``task`` projection; listing tasks never deserializes a workflow.
A task is offered to a role in a unit (optionally one department of it) or to one
person; claiming takes it out of the pool, delegating hands it to someone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, Forbidden, NotFound
from .models import Person, PersonStatus, RoleGrant, Task, TaskState


def _active_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("没有这个人员")
    if person.status != PersonStatus.ACTIVE:
        raise Forbidden(f"{person.name} 的账号已冻结")
    return person


def _pool_condition(session: Session, person_id: int):
    """Tasks in the pools this person's business roles reach (assigned or not)."""
    grants = session.execute(
        select(RoleGrant.role, RoleGrant.unit_id, RoleGrant.department_id).where(RoleGrant.person_id == person_id)
    ).all()
    clauses = []
    for role, unit_id, department_id in grants:
        if role.is_admin:
            continue  # administrators reach no business task
        department = (Task.candidate_department_id.is_(None) if department_id is None else
                      or_(Task.candidate_department_id.is_(None), Task.candidate_department_id == department_id))
        clauses.append(and_(Task.candidate_role == role, Task.candidate_unit_id == unit_id, department))
    return or_(*clauses) if clauses else None


def _offered_to(session: Session, person_id: int):
    """Ready tasks this person may work on now: assigned to them, or unassigned in their reach."""
    pool = _pool_condition(session, person_id)
    unassigned = [Task.candidate_person_id == person_id]
    if pool is not None:
        unassigned.append(and_(Task.candidate_person_id.is_(None), pool))
    return and_(Task.state == TaskState.READY,
                or_(Task.assignee_id == person_id, and_(Task.assignee_id.is_(None), or_(*unassigned))))


def ready_tasks(session: Session, person_id: int, *, limit: int = 50, offset: int = 0) -> Sequence[Task]:
    """A person's ready tasks across all their roles and units, soonest due first."""
    return session.scalars(
        select(Task).where(_offered_to(session, person_id))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at).limit(limit).offset(offset)
    ).all()


def _ready_task(session: Session, task_id: uuid.UUID | str, for_update: bool = True) -> Task:
    query = select(Task).where(Task.id == uuid.UUID(str(task_id)))
    if for_update and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    task = session.scalar(query)
    if task is None:
        raise NotFound("没有这个任务")
    if task.state != TaskState.READY:
        raise Conflict("这个任务已经办理或已撤销")
    return task


def _reaches(session: Session, task: Task, person_id: int) -> bool:
    if task.candidate_person_id == person_id:
        return True
    pool = _pool_condition(session, person_id)
    return pool is not None and task.candidate_person_id is None and session.scalar(
        select(Task.id).where(Task.id == task.id, pool)) is not None


def ensure_can_act(session: Session, task: Task, person_id: int) -> None:
    """Raise unless ``person_id`` may complete ``task`` now."""
    _active_person(session, person_id)
    if task.assignee_id is not None:
        if task.assignee_id != person_id:
            raise Conflict("这个任务已由他人签收办理")
        return
    if not _reaches(session, task, person_id):
        raise Forbidden("您无权办理这个任务")


def claim(session: Session, task_id: uuid.UUID | str, person_id: int) -> None:
    task = _ready_task(session, task_id)
    if task.assignee_id == person_id:
        return
    ensure_can_act(session, task, person_id)
    task.assignee_id = person_id
    audit.record(session, "task.claim", actor_id=person_id, instance_id=task.instance_id, task_id=str(task.id))


def unclaim(session: Session, task_id: uuid.UUID | str, person_id: int) -> None:
    task = _ready_task(session, task_id)
    if task.assignee_id != person_id:
        raise Conflict("只能退回自己签收的任务")
    task.assignee_id = None
    audit.record(session, "task.unclaim", actor_id=person_id, instance_id=task.instance_id, task_id=str(task.id))


def delegate(session: Session, task_id: uuid.UUID | str, person_id: int, to_person_id: int) -> None:
    """Hand a task to another active person who holds a role in the task's unit."""
    task = _ready_task(session, task_id)
    ensure_can_act(session, task, person_id)
    target = _active_person(session, to_person_id)
    in_unit = session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == target.id, RoleGrant.unit_id == task.candidate_unit_id).limit(1))
    if in_unit is None:
        raise Forbidden(f"{target.name} 不在办理单位中，不能转交给他")
    task.assignee_id = target.id
    audit.record(session, "task.delegate", actor_id=person_id, instance_id=task.instance_id,
                 task_id=str(task.id), to_person_id=target.id)
