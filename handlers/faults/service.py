"""Fault reports (故障报告), as Yan'an Art 13 sets the procedure.

1. The faulty unit reports to the 秘书科 of the city government's office and to the 网信办 within one working day of
   the fault's start; a later report is kept but marked 迟报 (``late``), since the unit then answers for the
   consequences.
2. The 网信办 (the "desk": ``GONGWEN_FAULT_DESK_UNIT``, a unit id; unset, the city government's office, which
   the demo organisation has in its place) has the 保障单位 repair it within five working days of the report.
   The report starts the ``fault`` process (``workflows/fault.bpmn``, its steps in ``steps``): the desk's
   承办人 find 安排维修 and then 维修完成 in their 待办; a timer reminds them one working day before the
   deadline and another, when it passes, alerts the desk's leaders and the faulty unit's 分管领导 through the
   duty-contact register (texts reach them while the unit's network is down). Who arranged it, with whom, and
   when it was repaired are kept on the report.
3. While the fault is open, each dispatching office's 收发员 (the 秘书科 for the city office) finds the documents
   their unit dispatched to the faulty unit since the fault began, to send on paper, and marks each 已纸质送达.
   The repair closes the list: later dispatches are not on it; what was on it stays.

Every change is audited with ids only; the three administrators reach none of it (they hold no unit role).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.calendar import WorkCalendar
from engine.config import Settings, option
from engine.errors import Conflict, NotFound, Refused
from engine.models import Role, RoleGrant, Task, TaskState, Unit, UnitKind
from engine.organisation import holders
from engine.runtime import Runtime
from engine.text import clean

from ..documents.models import Document
from ..exchange.models import Receipt
from ..notifications.tell import tell
from .models import FaultKind, FaultReport, PaperCopy

REPORT_WITHIN = 1     # working days from the fault's start (Art 13 (一))
REPAIR_WITHIN = 5     # working days from the report (Art 13 (二))
NO_FAULT = "没有这份故障报告"
# The desk staff who see the desk's list: its 承办人, who act on the process's tasks, and its leaders.
ARRANGERS = (Role.HANDLER, Role.LEADER)
PROCESS = "fault"   # workflows/fault.bpmn: the desk's two steps, the reminder and the escalation
STEPS = {"arrange": "arrange", "repaired": "finish"}   # the desk page's buttons and the tasks they complete


def _parse_unit_id(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("应为单位编号（数字）")
    return int(text)


# The city's 网信办, which arranges repairs. Unset: the office of the nearest city government.
FAULT_DESK = option("fault_desk_unit", "GONGWEN_FAULT_DESK_UNIT", _parse_unit_id, None)


# -- who --------------------------------------------------------------------------------------------------

def city_office(session: Session, unit_id: int) -> int:
    """The office of the nearest city government at or above ``unit_id`` (its 秘书科 receives fault reports); the
    nearest office at or above it when no city is; the unit itself when there is neither."""
    chain, unit = [], session.get(Unit, unit_id)
    while unit is not None and len(chain) < 32:  # a loop in the tree would otherwise never end
        chain.append(unit)
        unit = session.get(Unit, unit.parent_id) if unit.parent_id else None
    if city := next((u for u in chain if u.kind == UnitKind.CITY), None):
        office = session.scalar(select(Unit.id).where(Unit.parent_id == city.id, Unit.kind == UnitKind.OFFICE)
                                .order_by(Unit.id).limit(1))
        if office is not None:
            return office
    return next((u.id for u in chain if u.kind == UnitKind.OFFICE), unit_id)


def desk_for(session: Session, unit_id: int, settings: Settings) -> int:
    """The 网信办 arranging repairs of ``unit_id``'s faults: ``GONGWEN_FAULT_DESK_UNIT``, else the city office."""
    return settings.option(FAULT_DESK) or city_office(session, unit_id)


def _roles_in(session: Session, person_id: int, roles: Sequence[Role]) -> set[int]:
    return set(session.scalars(select(RoleGrant.unit_id).where(RoleGrant.person_id == person_id,
                                                               RoleGrant.role.in_(roles),
                                                               RoleGrant.unit_id.is_not(None))))


def desk_units(session: Session, person_id: int) -> set[int]:
    """The units whose faults ``person_id`` arranges as the 网信办's 承办人 or leader (desks with reports only)."""
    units = _roles_in(session, person_id, ARRANGERS)
    return set(session.scalars(select(FaultReport.desk_unit_id).where(FaultReport.desk_unit_id.in_(units))
                               .distinct())) if units else set()


def clerk_units(session: Session, person_id: int) -> set[int]:
    """The units whose dispatches ``person_id`` sends on paper: where they are 收发员."""
    return _roles_in(session, person_id, (Role.CLERK,))


# -- reporting --------------------------------------------------------------------------------------------

def report(session: Session, unit_id: int, kind: str, started_at: datetime | None, description: str | None, *,
           actor_id: int, settings: Settings, calendar: WorkCalendar, runtime: Runtime) -> FaultReport:
    """``actor_id`` (of ``unit_id``; the caller checks) reports a fault and starts its ``fault`` process at the
    desk, in the caller's transaction; ``Refused`` in Chinese, nothing written, for an unknown kind, a start
    missing or in the future, an empty or over-long description, or a fault of the same kind still open. Late
    (迟报) when reported more than one working day after the start."""
    try:
        kind = FaultKind(kind)
    except ValueError:
        raise Refused("请选择故障类型：网络、终端、印章密钥或证书") from None
    now = clock.now()
    if started_at is None:
        raise Refused("请填写故障开始时间（年-月-日 时:分）")
    if started_at > now:
        raise Refused("故障开始时间不能晚于现在")
    if started_at < now - timedelta(days=366):
        raise Refused("故障开始时间不能早于一年前")
    description = clean(description, field="故障情况", max_length=1000, lines=True)
    if session.scalar(select(FaultReport.id).where(FaultReport.unit_id == unit_id, FaultReport.kind == kind,
                                                   FaultReport.repaired_at.is_(None))) is not None:
        raise Conflict(f"本单位已有一份未修复的{kind.label}故障报告")
    fault = FaultReport(unit_id=unit_id, kind=kind, description=description, started_at=started_at,
                        reported_at=now, reported_by_id=actor_id,
                        late=now > calendar.add_working_days(started_at, REPORT_WITHIN),
                        desk_unit_id=desk_for(session, unit_id, settings),
                        due_at=calendar.add_working_days(now, REPAIR_WITHIN))
    session.add(fault)
    session.flush()
    unit = session.get(Unit, unit_id).name
    fault.instance_id = runtime.start(
        PROCESS, owning_unit_id=fault.desk_unit_id, initiator_id=actor_id, session=session,
        title=f"{unit}{kind.label}故障", data={"fault_id": fault.id, "due_at": fault.due_at.isoformat()})
    audit.record(session, "fault.report", actor_id=actor_id, unit_id=unit_id, fault_id=fault.id, kind=kind.value,
                 late=fault.late, instance_id=fault.instance_id)
    told = holders(session, Role.HANDLER, fault.desk_unit_id)
    told += holders(session, Role.CLERK, city_office(session, unit_id))
    tell(session, told, f"{unit}报告{kind.label}故障（{clock.local(started_at):%m-%d %H:%M} 起）"
         f"{'，迟报' if fault.late else ''}；请于 {clock.local(fault.due_at):%Y-%m-%d %H:%M} 前安排修复",
         kind="fault", reason="故障报告", key=f"fault:{fault.id}:report")
    return fault


def of_unit(session: Session, unit_id: int) -> Sequence[FaultReport]:
    """The unit's fault reports, newest first."""
    return session.scalars(select(FaultReport).where(FaultReport.unit_id == unit_id)
                           .order_by(FaultReport.reported_at.desc(), FaultReport.id.desc()).limit(200)).all()


def at_desk(session: Session, person_id: int) -> Sequence[FaultReport]:
    """The reports of the desks ``person_id`` works at: open ones first, by deadline, then the repaired."""
    units = desk_units(session, person_id)
    return session.scalars(select(FaultReport).where(FaultReport.desk_unit_id.in_(units))
                           .order_by(FaultReport.repaired_at.is_not(None), FaultReport.due_at, FaultReport.id)
                           .limit(500)).all() if units else []


def _desk_fault(session: Session, fault_id: int | None, person_id: int) -> FaultReport:
    """An open fault of a desk ``person_id`` works at; ``NotFound`` for any other (another unit's staff, the faulty
    unit itself, the administrators), ``Conflict`` once repaired."""
    fault = session.get(FaultReport, fault_id) if fault_id is not None else None
    if fault is None or fault.desk_unit_id not in _roles_in(session, person_id, ARRANGERS):
        raise NotFound(NO_FAULT)
    if fault.repaired_at is not None:
        raise Conflict("这份故障已修复，不能再改动")
    return fault


def ready_steps(session: Session, faults: Sequence[FaultReport]) -> dict[int, Task]:
    """The 网信办's task each open fault waits on (安排维修 or 维修完成), by fault id, in one query."""
    by_instance = {f.instance_id: f.id for f in faults if f.repaired_at is None and f.instance_id is not None}
    if not by_instance:
        return {}
    tasks = session.scalars(select(Task).where(Task.instance_id.in_(by_instance), Task.state == TaskState.READY,
                                               Task.spec_name.in_(STEPS.values())))
    return {by_instance[t.instance_id]: t for t in tasks}


def complete_step(runtime: Runtime, fault_id: int | None, step: str, data: dict, *, actor_id: int) -> None:
    """The desk page's buttons: complete the fault's ``step`` task (``arrange`` or ``repaired``) as ``actor_id``
    with the form's ``data``, exactly as the task's own page would; its service task writes the result.
    ``NotFound`` for a fault of another desk, ``Conflict`` when the fault does not wait on that step."""
    with runtime.db.session() as session:
        fault = _desk_fault(session, fault_id, actor_id)
        task = ready_steps(session, [fault]).get(fault.id)
        task_id = task.id if task is not None and task.spec_name == STEPS[step] else None
    if task_id is None:
        raise Conflict("请先安排维修" if step == "repaired" else "这份故障已安排维修，修复后请点“已修复”")
    runtime.complete(task_id, actor_id, data)


def repair_working_days(calendar: WorkCalendar, fault: FaultReport) -> int | None:
    """On which working day after the report the fault was repaired (the report's day is day 0); None if open."""
    if fault.repaired_at is None:
        return None
    return calendar.count_workdays(clock.local(fault.reported_at).date() + timedelta(days=1),
                                   clock.local(fault.repaired_at).date())


# -- the paper list ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaperItem:
    """A document the clerk's unit dispatched to a faulty unit during the fault, and whether it went on paper."""

    fault: FaultReport
    receipt_id: int
    unit_name: str
    title: str
    doc_number: str | None
    dispatched_at: datetime
    sent_at: datetime | None


def _in_window():
    return and_(FaultReport.unit_id == Receipt.unit_id, Receipt.dispatched_at >= FaultReport.started_at,
                or_(FaultReport.repaired_at.is_(None), Receipt.dispatched_at < FaultReport.repaired_at))


def paper_list(session: Session, person_id: int) -> list[PaperItem]:
    """What ``person_id``'s units (where they are 收发员) dispatched to units while these were faulty, open faults
    first, each with when it was sent on paper."""
    units = clerk_units(session, person_id)
    if not units:
        return []
    rows = session.execute(
        select(FaultReport, Receipt.id, Unit.name, Document.title, Document.doc_number, Receipt.dispatched_at,
               PaperCopy.sent_at)
        .join(Receipt, _in_window()).join(Document, Document.id == Receipt.document_id)
        .join(Unit, Unit.id == Receipt.unit_id)
        .outerjoin(PaperCopy, and_(PaperCopy.fault_id == FaultReport.id, PaperCopy.receipt_id == Receipt.id))
        .where(Document.issuing_unit_id.in_(units))
        .order_by(FaultReport.repaired_at.is_not(None), FaultReport.id.desc(), Receipt.dispatched_at)
        .limit(1000)).all()
    return [PaperItem(*row) for row in rows]


def mark_sent(session: Session, fault_id: int | None, receipt_id: int | None, *, actor_id: int) -> PaperCopy:
    """The clerk marks one item of their paper list 已纸质送达; ``NotFound`` for anything not on their list,
    ``Conflict`` if already marked."""
    item = next((i for i in paper_list(session, actor_id)
                 if i.fault.id == fault_id and i.receipt_id == receipt_id), None)
    if item is None:
        raise NotFound("纸质送达清单中没有这份公文")
    if item.sent_at is not None:
        raise Conflict("这份公文已标记为已纸质送达")
    copy = PaperCopy(fault_id=fault_id, receipt_id=receipt_id, sent_at=clock.now(), sent_by_id=actor_id)
    session.add(copy)
    session.flush()
    audit.record(session, "fault.paper_sent", actor_id=actor_id, unit_id=item.fault.unit_id, fault_id=fault_id,
                 receipt_id=receipt_id)
    return copy
