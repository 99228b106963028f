"""The service tasks of the ``fault`` process (``workflows/fault.bpmn``): what the 网信办's two steps write on the
fault report, and what its two timers say and to whom.

Each runs in the step that completed the task or fired the timer, so the report, the notices and the audit
events commit with the process's state or not at all. A non-interrupting timer fires once and is cancelled when
the repair is done, so "told once" needs no bookkeeping beyond ``reminded_at`` / ``escalated_at``, which the pages
show.
"""

from __future__ import annotations

from engine import clock
from engine.models import Role, Unit
from engine.organisation import holders
from engine.registry import HandlerContext, handler
from engine.text import clean

from ..contacts.models import Duty
from ..notifications.alerts import alert_unit
from ..notifications.tell import tell
from .models import FaultReport
from .service import REPAIR_WITHIN, repair_working_days


def _fault(ctx: HandlerContext, fault_id: int) -> tuple[FaultReport, str]:
    fault = ctx.session.get(FaultReport, fault_id)
    return fault, ctx.session.get(Unit, fault.unit_id).name


@handler("fault_arranged")
def fault_arranged(ctx: HandlerContext, fault_id: int, contractor: str, person: int) -> dict:
    """安排维修 done: which 保障单位 repairs it, told to the reporter (the deadline stays five working days from
    the report). ``Refused`` for a contractor that is only blanks, the task left open."""
    row, _ = _fault(ctx, fault_id)
    row.contractor = clean(contractor, field="保障单位", max_length=100)
    row.arranged_at, row.arranged_by_id = ctx.now(), person
    ctx.audit("fault.arrange", actor_id=person, fault_id=row.id, faulty_unit_id=row.unit_id)
    tell(ctx.session, [row.reported_by_id], f"您报告的{row.kind.label}故障已安排{row.contractor}维修，"
         f"限 {clock.local(row.due_at):%Y-%m-%d %H:%M} 前修复", kind="fault", reason="故障报告",
         instance_id=ctx.instance_id, key=f"fault:{row.id}:arranged")
    return {"contractor": row.contractor, "at": row.arranged_at.isoformat()}


@handler("fault_repaired")
def fault_repaired(ctx: HandlerContext, fault_id: int, note: str, person: int) -> dict:
    """维修完成 done: the fault is repaired, on which working day after the report is kept, and the paper list
    closes (no later dispatch joins it)."""
    row, _ = _fault(ctx, fault_id)
    row.repair_note = clean(note, field="修复情况", max_length=500, required=False) or None
    row.repaired_at, row.repaired_by_id = ctx.now(), person
    row.repair_days = repair_working_days(ctx.calendar, row)
    ctx.audit("fault.repaired", actor_id=person, fault_id=row.id, faulty_unit_id=row.unit_id)
    tell(ctx.session, [row.reported_by_id], f"您报告的{row.kind.label}故障已修复，恢复电子公文传输",
         kind="fault", reason="故障报告", instance_id=ctx.instance_id, key=f"fault:{row.id}:repaired")
    return {"at": row.repaired_at.isoformat()}


@handler("fault_remind")
def fault_remind(ctx: HandlerContext, fault_id: int) -> dict:
    """A working day before the deadline: the 承办人 who arranged the repair, or before anyone has, every
    承办人 of the desk."""
    row, unit = _fault(ctx, fault_id)
    people = [row.arranged_by_id] if row.arranged_by_id else holders(ctx.session, Role.HANDLER, row.desk_unit_id)
    tell(ctx.session, people, f"{unit}的{row.kind.label}故障须于 {clock.local(row.due_at):%Y-%m-%d %H:%M} 前修复，"
         "请督促保障单位", kind="fault_reminder", reason="故障修复期限将到", instance_id=ctx.instance_id,
         key=f"fault:{row.id}:remind")
    row.reminded_at = ctx.now()
    ctx.audit("fault.remind", fault_id=row.id, faulty_unit_id=row.unit_id, told=len(people))
    return {"reminded": people, "at": row.reminded_at.isoformat()}


@handler("fault_escalate")
def fault_escalate(ctx: HandlerContext, fault_id: int) -> dict:
    """The deadline passed unrepaired: the desk's leaders and the faulty unit's 分管领导 are texted through each
    unit's duty-contact register (the unit's own network may be down) and told in the app."""
    row, unit = _fault(ctx, fault_id)
    text = (f"{unit}的{row.kind.label}故障已超过 {REPAIR_WITHIN} 个工作日修复期限"
            f"（{clock.local(row.due_at):%Y-%m-%d %H:%M}），尚未修复，请督促")
    for unit_id in (row.desk_unit_id, row.unit_id):
        alert_unit(ctx.session, unit_id, text, duty=Duty.LEADER_IN_CHARGE, role=Role.LEADER, kind="fault_overdue",
                   reason="故障超期未修复", instance_id=ctx.instance_id, key=f"fault:{row.id}:escalate:{unit_id}")
    row.escalated_at = ctx.now()
    ctx.audit("fault.escalate", fault_id=row.id, faulty_unit_id=row.unit_id)
    return {"escalated": True, "at": row.escalated_at.isoformat()}
