"""The inbox: who may do which task, and what each person has to do.

Reads only the ``task`` projection; listing tasks never deserializes a workflow.
A task is offered to a role in a unit (optionally one department of it) or to one
person; claiming takes it out of the pool, delegating hands it to someone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session

from . import audit, clock
from .daily import add_to_day
from .errors import Conflict, Forbidden, NotFound
from .models import InboxLook, InstanceStatus, Person, PersonStatus, ProcessInstance, RoleGrant, Task, TaskState
from .registry import INSTANCE_SEARCHES

# Read by every completion: built once (building and keying it costs more CPU than its round trip).
_PERSON, _GRANT = Person.__table__, RoleGrant.__table__
_PERSON_AND_GRANTS = (
    select(_PERSON.c.name, _PERSON.c.status, _GRANT.c.role, _GRANT.c.unit_id, _GRANT.c.department_id)
    .select_from(_PERSON.outerjoin(_GRANT, _GRANT.c.person_id == _PERSON.c.id))
    .where(_PERSON.c.id == bindparam("person_id")))


def _active_person(session: Session, person_id: int) -> list[tuple]:
    """The business grants (role, unit, department) of an active person, in one query.

    Refuses an unknown or frozen account. Administrators' roles reach no business task.
    """
    rows = session.connection().execute(_PERSON_AND_GRANTS, {"person_id": person_id}).all()
    if not rows:
        raise NotFound("没有这个人员")
    if rows[0].status != PersonStatus.ACTIVE:
        raise Forbidden(f"{rows[0].name} 的账号已冻结")
    return [(r.role, r.unit_id, r.department_id) for r in rows if r.role is not None and not r.role.is_admin]


def _business_grants(session: Session, person_id: int) -> list[tuple]:
    grant = RoleGrant.__table__
    rows = session.connection().execute(
        select(grant.c.role, grant.c.unit_id, grant.c.department_id).where(grant.c.person_id == person_id)
    ).all()
    return [tuple(row) for row in rows if not row[0].is_admin]


def _offered_to(session: Session, person_id: int):
    """Ready tasks this person may work on now: assigned to them, or unassigned in their reach.

    A flat OR of branches that each repeat ``state = 'ready'``, so that SQLite, like
    PostgreSQL, answers it from the partial indexes instead of scanning every task.
    """
    ready = Task.state == TaskState.READY
    grants = _business_grants(session, person_id)
    if not grants:
        return false()  # administrators and people without a business role have no tasks
    # Their own tasks only in units where they still work (``ensure_can_act``).
    units = {unit_id for _, unit_id, _ in grants}
    in_their_units = or_(Task.candidate_unit_id.is_(None), Task.candidate_unit_id.in_(units))
    branches = [and_(ready, Task.assignee_id == person_id, in_their_units),
                and_(ready, Task.candidate_person_id == person_id, Task.assignee_id.is_(None), in_their_units)]
    for role, unit_id, department_id in grants:
        department = [Task.candidate_department_id.is_(None)] if department_id is None else \
            [or_(Task.candidate_department_id.is_(None), Task.candidate_department_id == department_id)]
        branches.append(and_(ready, Task.candidate_unit_id == unit_id, Task.candidate_role == role,
                             Task.candidate_person_id.is_(None), Task.assignee_id.is_(None), *department))
    return or_(*branches)


def ready_tasks(session: Session, person_id: int, *, limit: int = 50, offset: int = 0,
                text: str | None = None, form_keys: Collection[str] = ()) -> Sequence[Task]:
    """A person's ready tasks across all their roles and units, 特急 then 加急 first, then soonest due
    (``text``: see ``_matches``; ``form_keys``, when given: only tasks of those forms)."""
    query = select(Task).join(ProcessInstance, ProcessInstance.id == Task.instance_id) \
        .where(_offered_to(session, person_id))
    if text:
        query = query.where(_matches(text))
    if form_keys:
        query = query.where(Task.form_key.in_(form_keys))
    return session.scalars(
        query.order_by(ProcessInstance.priority.desc(), Task.due_at.is_(None), Task.due_at, Task.created_at)
        .limit(limit).offset(offset)
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


def _reaches(task: Task, person_id: int, grants: list[tuple]) -> bool:
    if task.candidate_person_id is not None:
        return task.candidate_person_id == person_id
    return _reaches_pool(task, grants)


def _reaches_pool(task: Task, grants: list[tuple]) -> bool:
    """Whether ``grants`` hold the role the task is offered to, in its unit (and department, if it names one)."""
    return any(
        role == task.candidate_role and unit_id == task.candidate_unit_id
        and task.candidate_department_id in (None, department_id)
        for role, unit_id, department_id in grants
    )


def ensure_can_act(session: Session, task: Task, person_id: int) -> None:
    """Raise unless ``person_id`` may complete ``task`` now.

    Someone with no business role (the three administrators under 三员分立) acts on no task,
    whatever a diagram named.
    """
    grants = _active_person(session, person_id)
    if not grants:
        raise Forbidden("管理员及无业务角色的人员不能办理业务")
    if task.assignee_id == person_id or (task.assignee_id is None and task.candidate_person_id == person_id):
        # Their own task, while they still work in its unit: one who moved away hands it over (交接).
        if task.candidate_unit_id is None or any(unit_id == task.candidate_unit_id for _, unit_id, _ in grants):
            return
        raise Forbidden("您已不在这个任务的办理单位，不能再办理；请由原单位接手人办理")
    if not _reaches(task, person_id, grants):  # before "taken": an outsider must not learn the task exists
        raise Forbidden("您无权办理这个任务")
    if task.assignee_id is not None:
        raise Conflict("这个任务已由他人签收办理")


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
    target_grants = _active_person(session, to_person_id)
    if not any(unit_id == task.candidate_unit_id for _, unit_id, _ in target_grants):
        name = session.get(Person, to_person_id).name
        raise Forbidden(f"{name} 不在办理单位中，不能转交给他")
    task.assignee_id = to_person_id
    audit.record(session, "task.delegate", actor_id=person_id, instance_id=task.instance_id,
                 task_id=str(task.id), to_person_id=to_person_id)



def _held(person_id: int):
    """Ready tasks that are one person's own: taken by them, or offered to them alone and not taken."""
    return or_(and_(Task.state == TaskState.READY, Task.assignee_id == person_id),
               and_(Task.state == TaskState.READY, Task.candidate_person_id == person_id, Task.assignee_id.is_(None)))


def held_tasks(session: Session, person_id: int) -> Sequence[Task]:
    """The ready tasks that are ``person_id``'s own (claimed, delegated to them, or offered to them alone),
    oldest first: what nobody else is offered while they hold them, so what a handover must pass on."""
    return session.scalars(select(Task).where(_held(person_id)).order_by(Task.created_at, Task.name)).all()


def held_counts(session: Session, person_ids: Collection[int]) -> dict[int, int]:
    """How many ready tasks each of ``person_ids`` holds as their own (absent: none), in one query."""
    ids = list(person_ids)
    if not ids:
        return {}
    holder = func.coalesce(Task.assignee_id, Task.candidate_person_id)
    return dict(session.execute(select(holder, func.count()).where(
        Task.state == TaskState.READY, holder.in_(ids)).group_by(holder)).all())


def check_may_hold(session: Session, task: Task, person_id: int) -> None:
    """Raise ``Forbidden`` (a reason in Chinese, naming the step, never what it is about) unless the active
    person ``person_id`` may hold ``task``: the role (and department) it was offered to in its unit, or, for a
    task offered to one person, any business role in its unit."""
    grants = _active_person(session, person_id)
    if task.candidate_role is None:
        if any(unit_id == task.candidate_unit_id for _, unit_id, _ in grants):
            return
    elif _reaches_pool(task, grants):
        return
    name = session.get(Person, person_id).name
    raise Forbidden(f"{name} 不在“{task.name}”的办理单位或没有办理它所需的角色，不能接手")


def reassign_tasks(session: Session, from_person_id: int, to_person_id: int, actor_id: int | None,
                   task_ids: Collection[uuid.UUID] | None = None) -> list[Task]:
    """Move the ready tasks ``from_person_id`` holds as their own (``held_tasks``; with ``task_ids``, only
    those of them) to ``to_person_id``, all or none: each must be one the successor may hold
    (``check_may_hold``), else ``Forbidden`` and nothing moves. A task offered to the predecessor alone is
    offered to the successor instead. Audited per task with ids only (三员分立: the system administrator
    reassigns without reading what the tasks are about). Returns the tasks moved."""
    if from_person_id == to_person_id:
        raise Conflict("接手人不能是原办理人本人")
    wanted = None if task_ids is None else set(task_ids)
    tasks = [t for t in held_tasks(session, from_person_id) if wanted is None or t.id in wanted]
    for task in tasks:
        check_may_hold(session, task, to_person_id)
    for task in tasks:
        if task.candidate_person_id == from_person_id:
            task.candidate_person_id = to_person_id
        task.assignee_id = to_person_id
        audit.record(session, "task.reassign", actor_id=actor_id, instance_id=task.instance_id, task_id=str(task.id),
                     from_person_id=from_person_id, to_person_id=to_person_id)
    return tasks

# Page reloads within this time are one look: the table grows by looks, not by clicks.
LOOK_GRANULARITY = timedelta(minutes=5)


def record_look(session: Session, person_id: int, unit_id: int | None) -> bool:
    """Record that the person looked at their inbox now (the duty watch and supervision count looks)."""
    now = clock.now()
    last = session.scalar(select(func.max(InboxLook.at)).where(InboxLook.person_id == person_id,
                                                               InboxLook.at > now - LOOK_GRANULARITY))
    if last is not None:
        return False
    session.add(InboxLook(person_id=person_id, unit_id=unit_id, at=now))
    add_to_day(session, unit_id, now, looks=1)
    return True


def task_count(session: Session, person_id: int) -> int:
    """How many ready tasks the person has (the number shown in the navigation)."""
    return session.scalar(select(func.count()).select_from(Task).where(_offered_to(session, person_id)))


def _took_part(person_id: int):
    return select(Task.instance_id).where(Task.completed_by_id == person_id).distinct()


def _matches(text: str):
    """Instances whose title contains ``text`` (a sender's own titles carry the number), or that a
    registered search finds (e.g. a received document by its number or sender)."""
    return or_(ProcessInstance.title.contains(text),
               *(ProcessInstance.id.in_(search(text)) for search in INSTANCE_SEARCHES))


def _searched(query, text: str | None, since, until):
    if text:
        query = query.where(_matches(text))
    if since is not None:
        query = query.where(ProcessInstance.created_at >= since)
    if until is not None:
        query = query.where(ProcessInstance.created_at < until)
    return query


def instances_taken_part_in(session: Session, person_id: int, *, finished: bool, text: str | None = None,
                            since=None, until=None, limit: int = 50, offset: int = 0) -> Sequence[ProcessInstance]:
    """在办 (still moving) or 办结 (finished) processes in which the person completed a task."""
    done = ProcessInstance.status.in_([InstanceStatus.COMPLETED, InstanceStatus.CANCELLED])
    query = select(ProcessInstance).where(ProcessInstance.id.in_(_took_part(person_id)),
                                          done if finished else ~done)
    return session.scalars(_searched(query, text, since, until)
                           .order_by(ProcessInstance.updated_at.desc()).limit(limit).offset(offset)).all()


def completed_tasks(session: Session, person_id: int, *, text: str | None = None, since=None, until=None,
                    limit: int = 50, offset: int = 0) -> Sequence[Task]:
    """已办: the tasks the person completed, latest first."""
    query = select(Task).join(ProcessInstance, ProcessInstance.id == Task.instance_id).where(
        Task.completed_by_id == person_id, Task.state == TaskState.COMPLETED)
    return session.scalars(_searched(query, text, since, until)
                           .order_by(Task.completed_at.desc()).limit(limit).offset(offset)).all()
