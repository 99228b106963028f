"""Handing over a person's work when they retire, move or are frozen (交接; Yan'an Art 26, Pingliang §三2).

A system administrator (from the people page) or a leader of the person's unit starts a handover to a
successor of the same unit, who is active there. The record lists what the person holds: their own ready
tasks (claimed, handed to them, or offered to them alone), their personal signing certificate, the unit's
seals if they keep them (印章管理员), and their rows in the duty-contact register. Starting it starts the
``handover`` process (``workflows/handover.bpmn``): 接手人确认 offered to the successor alone and, in parallel,
原办理人确认 to the predecessor alone (skipped when their account is frozen at the start); then 分管领导签字
offered to the 分管领导 of the unit (from its duty-contact register, or its 主要负责人); then the service task
``handover_sign_off`` moves the tasks to the successor (``engine.inbox.reassign_tasks``). The tasks are done
from the inbox or from the record's page (:func:`act` completes the same task); the forms' hooks and the
service task call :func:`confirm`, :func:`check_sign_off` and :func:`sign_off`, which write the record: it stays
the source of truth for the list and who confirmed when, and is kept. Everything is audited with ids only; no
item names a document title, so the system administrator reads the record without reading any document.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Conflict, Forbidden, NotFound, Refused
from engine.inbox import check_may_hold, held_tasks, reassign_tasks
from engine.models import (
    Person,
    PersonStatus,
    ProcessDefinition,
    ProcessInstance,
    Role,
    RoleGrant,
    Task,
    TaskState,
    Unit,
)
from engine.organisation import holds, works_in
from engine.runtime import Runtime

from ..contacts.models import Duty
from ..contacts.register import current as current_contacts
from ..notifications.tell import tell
from ..seals.models import Seal, SealStatus
from ..seals.personal import STATUS_LABELS
from ..seals.personal import current as current_certificate
from .models import Handover, HandoverItem, ItemKind, Occasion

NO_HANDOVER = "没有这份交接记录"
PROCESS = "handover"
# The diagram's user tasks: who does each is the record's (successor, predecessor, 分管领导), never a pool.
SUCCESSOR_CONFIRM, PERSON_CONFIRM, LEADER_SIGN = "successor_confirm", "person_confirm", "leader_sign"
FORM_KEYS = ("handover_confirm", "handover_sign_off")


def leader_for(session: Session, unit_id: int, leaving_id: int) -> int:
    """Who signs off a handover in ``unit_id``: its 分管领导 in the duty-contact register if they have an active
    account, else its 主要负责人; never the person leaving. ``Refused`` when the unit has neither."""
    unit = session.get(Unit, unit_id)
    candidates = [c.person_id for c in current_contacts(session, unit_id, Duty.LEADER_IN_CHARGE)] + [unit.principal_id]
    for person_id in candidates:
        if person_id is not None and person_id != leaving_id and _active(session, person_id):
            return person_id
    raise Refused(f"{unit.name}的收发文联系人登记簿中没有分管领导，也没有主要负责人，无人签字确认交接")


def _active(session: Session, person_id: int) -> bool:
    person = session.get(Person, person_id)
    return person is not None and person.status == PersonStatus.ACTIVE


def _predecessor_confirms(session: Session, handover: Handover) -> bool:
    """Whether the predecessor still has to confirm: while their account is active and they work in the unit
    (frozen or moved away, they can act on no task of it; the successor's confirmation then suffices)."""
    return _active(session, handover.person_id) and works_in(session, handover.person_id, {handover.unit_id})


def may_start(session: Session, actor_id: int, person: Person) -> bool:
    """Whether ``actor_id`` may start a handover of ``person``: the system administrator, or a leader of their unit."""
    if holds(session, actor_id, Role.SYSTEM_ADMIN):
        return True
    return person.unit_id is not None and session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == actor_id, RoleGrant.role == Role.LEADER, RoleGrant.unit_id == person.unit_id)
        .limit(1)) is not None and _active(session, actor_id)


def startable_people(session: Session, actor_id: int) -> Sequence[Person]:
    """The people whose handover ``actor_id`` may start as a leader of their unit (the system administrator starts
    one from the people page instead), by name."""
    units = select(RoleGrant.unit_id).where(RoleGrant.person_id == actor_id, RoleGrant.role == Role.LEADER)
    if not _active(session, actor_id):
        return []
    return session.scalars(select(Person).where(Person.unit_id.in_(units), Person.id != actor_id)
                           .order_by(Person.name)).all()


def successors_offered(session: Session, person: Person) -> Sequence[Person]:
    """Who may take over from ``person`` in a handover: the other active people with a business role in their
    unit who may hold every task ``person`` holds there, by name; never the leader who signs the handover off
    (nobody signs off what they receive)."""
    if person.unit_id is None:
        return []
    try:
        signer = leader_for(session, person.unit_id, person.id)
    except Refused:
        signer = None
    return [p for p in _able(session, person, _tasks_in(session, person.id, person.unit_id), person.unit_id)
            if p.id != signer]


def takers(session: Session, person: Person) -> Sequence[Person]:
    """Who the system administrator may hand all of ``person``'s tasks to: the other active people who may hold
    every one of them (each in its unit: a person moved away still holds the tasks of their old unit), by name."""
    tasks = held_tasks(session, person.id)
    units = {t.candidate_unit_id for t in tasks}
    return _able(session, person, tasks, units.pop()) if len(units) == 1 else []


def _able(session: Session, person: Person, tasks: Sequence[Task], unit_id: int) -> list[Person]:
    return [p for p in session.scalars(select(Person).where(
        Person.unit_id == unit_id, Person.status == PersonStatus.ACTIVE, Person.id != person.id)
        .order_by(Person.name)) if works_in(session, p.id, {unit_id}) and _may_hold_all(session, tasks, p.id)]


def _may_hold_all(session: Session, tasks: Sequence[Task], person_id: int) -> bool:
    try:
        for task in tasks:
            check_may_hold(session, task, person_id)
    except Forbidden:
        return False
    return True


def reassign_all(session: Session, person_id: int, to_person_id: int | None, *, actor_id: int) -> int:
    """The system administrator hands every task ``person_id`` holds to a colleague the people page offered
    (``takers``); ``Refused`` for anyone else. Returns how many moved."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("没有这个人员")
    if to_person_id not in {p.id for p in takers(session, person)}:
        raise Refused("请从列表中选择同一单位在岗、能办理这些待办的人员")
    return len(reassign_tasks(session, person.id, to_person_id, actor_id))


def _task_label(session: Session, task: Task) -> str:
    """A task in words the system administrator may read: its step and its process, never its title."""
    process = session.scalar(select(ProcessDefinition.name).join(
        ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.id == task.instance_id))
    return f"{process}：{task.name}（{clock.local(task.created_at):%Y-%m-%d %H:%M} 到达）"


def _tasks_in(session: Session, person_id: int, unit_id: int) -> list[Task]:
    """What a handover passes on: the person's own ready tasks in the unit, but not a handover's own steps
    (confirming or signing another person's handover is theirs to do, or that handover's to restart)."""
    return [t for t in held_tasks(session, person_id)
            if t.candidate_unit_id == unit_id and t.form_key not in FORM_KEYS]


def _items(session: Session, person: Person, unit_id: int) -> list[HandoverItem]:
    items = [HandoverItem(kind=ItemKind.TASK, ref=str(t.id), label=_task_label(session, t))
             for t in _tasks_in(session, person.id, unit_id)]
    if (certificate := current_certificate(session, person.id)) is not None:
        serial = certificate.serial or "（未签发）"
        items.append(HandoverItem(kind=ItemKind.CERTIFICATE, ref=str(certificate.id), label=(
            f"序列号 {serial}，{STATUS_LABELS[certificate.status]}；随本人离岗吊销，不移交")))
    if session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person.id, RoleGrant.unit_id == unit_id,
                                                 RoleGrant.role == Role.SEAL_KEEPER).limit(1)) is not None:
        items += [HandoverItem(kind=ItemKind.SEAL, ref=str(seal.id), label=f"{seal.name}（{seal.code}）")
                  for seal in session.scalars(select(Seal).where(Seal.unit_id == unit_id,
                                                                 Seal.status == SealStatus.ACTIVE).order_by(Seal.id))]
    items += [HandoverItem(kind=ItemKind.CONTACT, ref=str(row.id),
                          label=f"{row.duty.label}（{row.since:%Y-%m-%d} 起）；请办公室在登记簿中更换")
              for row in current_contacts(session, unit_id) if row.person_id == person.id]
    return items


def start(session: Session, runtime: Runtime, person_id: int, successor_id: int | None, occasion: str, *,
          actor_id: int) -> Handover:
    """Start the handover of ``person_id``'s work in their unit to ``successor_id`` and its ``handover`` process,
    in the caller's transaction; ``Refused`` / ``Forbidden`` (in Chinese, nothing written) for a successor who is
    not an active colleague able to hold every task."""
    person = session.get(Person, person_id)
    if person is None or not may_start(session, actor_id, person):
        raise NotFound("没有这个人员")
    try:
        occasion = Occasion(occasion)
    except ValueError:
        raise Refused("请选择交接原因：退休、调动或离岗") from None
    successor = session.get(Person, successor_id) if successor_id is not None else None
    if successor is None or successor.id not in {p.id for p in successors_offered(session, person)}:
        raise Refused("接手人须是同一单位在岗、能办理其全部待办的其他人员，请从列表中选择")
    if session.scalar(select(Handover.id).where(Handover.person_id == person.id,
                                                Handover.signed_off_at.is_(None))) is not None:
        raise Conflict(f"{person.name} 已有一份未完成的交接")
    tasks = _tasks_in(session, person.id, person.unit_id)
    handover = Handover(unit_id=person.unit_id, person_id=person.id, successor_id=successor.id,
                        leader_id=leader_for(session, person.unit_id, person.id), occasion=occasion,
                        started_by_id=actor_id, started_at=clock.now(), items=_items(session, person, person.unit_id))
    try:
        # Two starts at once both pass the check above; the open record's unique index stops the second.
        with session.begin_nested():
            session.add(handover)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{person.name} 已有一份未完成的交接") from None
    # Started once the list is taken: the predecessor's own 原办理人确认 is not a task to hand over.
    handover.instance_id = runtime.start(
        PROCESS, owning_unit_id=handover.unit_id, initiator_id=actor_id, session=session,
        title=f"工作交接：{person.name}（{occasion.label}）", correlation={"handover": handover.id},
        data={"handover_id": handover.id, "person_id": person.id, "successor_id": successor.id,
              "leader_id": handover.leader_id, "predecessor_confirms": _predecessor_confirms(session, handover)})
    audit.record(session, "handover.start", actor_id=actor_id, unit_id=handover.unit_id, handover_id=handover.id,
                 person_id=person.id, successor_id=successor.id, tasks=len(tasks))
    tell(session, [successor.id] + ([person.id] if person.status == PersonStatus.ACTIVE else []),
         f"{person.name}（{occasion.label}）的工作交接给{successor.name}，请核对交接清单并确认",
         kind="handover", reason="工作交接", key=f"handover:{handover.id}:start")
    return handover


def readable(session: Session, handover_id: int, person_id: int) -> Handover:
    """The record, for the predecessor, the successor, the signing leader, who started it and the system
    administrator; ``NotFound`` for anyone else."""
    handover = session.get(Handover, handover_id)
    if handover is None or not (person_id in (handover.person_id, handover.successor_id, handover.leader_id,
                                              handover.started_by_id) or holds(session, person_id, Role.SYSTEM_ADMIN)):
        raise NotFound(NO_HANDOVER)
    return handover


def of_instance(session: Session, instance_id: int) -> int:
    """The id of the record whose ``handover`` process is ``instance_id`` (for the steps inside it)."""
    return session.scalar(select(Handover.id).where(Handover.instance_id == instance_id))


def party_names(session: Session, handover: Handover) -> dict[int, str]:
    """The names of the people on the record (predecessor, successor, 分管领导, who started it) by id."""
    ids = {handover.person_id, handover.successor_id, handover.leader_id, handover.started_by_id}
    return dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all())


def records(session: Session, person_id: int) -> Sequence[Handover]:
    """The records the person is party to (every record, for the system administrator), newest first."""
    query = select(Handover).order_by(Handover.started_at.desc(), Handover.id.desc())
    if not holds(session, person_id, Role.SYSTEM_ADMIN):
        query = query.where(or_(Handover.person_id == person_id, Handover.successor_id == person_id,
                                Handover.leader_id == person_id, Handover.started_by_id == person_id))
    return session.scalars(query.limit(200)).all()


def _open(session: Session, handover_id: int, person_id: int) -> Handover:
    handover = readable(session, handover_id, person_id)
    session.refresh(handover, with_for_update=session.get_bind().dialect.name != "sqlite")
    if handover.signed_off_at is not None:
        raise Conflict("这份交接已签字确认，不能再改动")
    return handover


def _confirming_step(session: Session, handover: Handover, person_id: int) -> str:
    """The confirmation that is ``person_id``'s on ``handover`` (the successor's, or the predecessor's while they
    have to confirm); ``Forbidden`` for anyone else."""
    if person_id == handover.successor_id and _active(session, person_id):
        return SUCCESSOR_CONFIRM
    if person_id == handover.person_id and _predecessor_confirms(session, handover):
        return PERSON_CONFIRM
    raise Forbidden("只有交接双方可以确认交接清单")


def act(runtime: Runtime, handover_id: int, person_id: int, step: str) -> None:
    """Do ``person_id``'s step of the handover from its record's page (``confirm`` or ``sign-off``): complete the
    same inbox task the process offers them, so the record page and the inbox are one way of doing it.
    ``NotFound`` / ``Forbidden`` / ``Conflict`` in Chinese, nothing changed, for a step that is not theirs now."""
    with runtime.db.session() as session:
        handover = readable(session, handover_id, person_id)
        if handover.signed_off_at is not None:
            raise Conflict("这份交接已签字确认，不能再改动")
        if handover.instance_id is None:  # started before the process (migration 0027): nothing to complete
            raise Conflict("这份交接没有办理流程，请重新发起交接，或由系统管理员转交待办")
        if step == "confirm":
            spec_name = _confirming_step(session, handover, person_id)
        else:
            _check_signer(session, handover, person_id)
            spec_name = LEADER_SIGN
        task_id = session.scalar(select(Task.id).where(
            Task.instance_id == handover.instance_id, Task.spec_name == spec_name, Task.state == TaskState.READY))
    if task_id is None:
        raise Conflict("您已确认过交接清单" if step == "confirm" else "签字这一步尚未到达或已经办理，请刷新页面")
    runtime.complete(task_id, person_id, {})


def confirm(session: Session, handover_id: int, person_id: int, step: str) -> Handover:
    """The work of the predecessor's or the successor's confirmation, the ``step`` task (``successor_confirm``
    or ``person_confirm``) they complete: the time on the record, the audit, and the 分管领导 told once both sides
    have confirmed. ``Forbidden`` for anyone else, e.g. a colleague the task was passed to."""
    handover = _open(session, handover_id, person_id)
    if _confirming_step(session, handover, person_id) != step:
        raise Forbidden("只有交接双方本人可以确认交接清单")
    if step == SUCCESSOR_CONFIRM:
        handover.successor_confirmed_at = handover.successor_confirmed_at or clock.now()
    else:
        handover.person_confirmed_at = handover.person_confirmed_at or clock.now()
    audit.record(session, "handover.confirm", actor_id=person_id, unit_id=handover.unit_id, handover_id=handover.id)
    if ready_to_sign(session, handover):
        tell(session, [handover.leader_id], "一份工作交接已由交接双方确认，请签字确认", kind="handover",
             reason="工作交接", key=f"handover:{handover.id}:confirmed")
    return handover


def ready_to_sign(session: Session, handover: Handover) -> bool:
    """Both sides have confirmed (the predecessor only while they have to: active and in the unit)."""
    predecessor_done = handover.person_confirmed_at is not None or not _predecessor_confirms(session, handover)
    return handover.successor_confirmed_at is not None and predecessor_done


def _check_signer(session: Session, handover: Handover, person_id: int) -> None:
    if person_id != handover.leader_id or not _active(session, person_id):
        raise Forbidden("只有本单位分管领导可以签字确认交接")
    if not ready_to_sign(session, handover):
        raise Conflict("交接双方确认后才能签字")


def check_sign_off(session: Session, handover_id: int, person_id: int) -> Handover:
    """Raise unless ``person_id`` may sign the open record off now: its 分管领导, both sides having confirmed."""
    handover = _open(session, handover_id, person_id)
    _check_signer(session, handover, person_id)
    return handover


def sign_off(session: Session, handover_id: int, person_id: int) -> Handover:
    """The work of the 分管领导's signature, the ``handover_sign_off`` service task after it: the predecessor's
    tasks in the unit move to the successor (all or none, each checked again), tasks that reached the predecessor
    since the record began are added to it."""
    handover = check_sign_off(session, handover_id, person_id)
    moved = reassign_tasks(session, handover.person_id, handover.successor_id, person_id,
                           [t.id for t in _tasks_in(session, handover.person_id, handover.unit_id)])
    listed = {item.ref: item for item in handover.items if item.kind == ItemKind.TASK}
    for task in moved:
        item = listed.get(str(task.id))
        if item is None:
            item = HandoverItem(kind=ItemKind.TASK, ref=str(task.id), label=_task_label(session, task))
            handover.items.append(item)
        item.passed_on = True
    handover.signed_off_at = clock.now()
    audit.record(session, "handover.sign_off", actor_id=person_id, unit_id=handover.unit_id, handover_id=handover.id,
                 tasks=len(moved))
    tell(session, [handover.successor_id], f"工作交接已签字确认，{len(moved)} 件待办已转给您", kind="handover",
         reason="工作交接", key=f"handover:{handover.id}:signed")
    return handover
