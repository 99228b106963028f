"""The forms of the fault process (故障维修): the 网信办's 承办人 names the 保障单位 (安排维修), then records the
repair (维修完成). The desk page (``/faults/desk``) completes the same tasks with the same schemas."""

from __future__ import annotations

from engine.models import Unit
from engine.registry import form
from handlers.faults.models import FaultReport

from .fields import FormSchema, text


class FaultArrange(FormSchema):
    contractor = text("保障单位", 100)


class FaultRepaired(FormSchema):
    note = text("修复情况", 500, required=False)


def _fault(session, task, data: dict) -> dict:
    """The fault as reported, beside the form: which unit, what, since when, by when."""
    fault = session.get(FaultReport, data.get("fault_id"))
    return {"fault": fault, "unit_name": session.get(Unit, fault.unit_id).name if fault else ""}


form("fault_arrange", FaultArrange, "forms/fault_step.html", "安排维修", context=_fault)
form("fault_repaired", FaultRepaired, "forms/fault_step.html", "维修完成", context=_fault)
