"""Forms of the leave process (请销假)."""

from __future__ import annotations

from marshmallow import ValidationError, validates_schema

from engine.registry import form

from .fields import FormSchema, choice, day, text

LEAVE_KINDS = {"personal": "事假", "sick": "病假", "annual": "年休假", "marriage": "婚假",
               "maternity": "产假", "bereavement": "丧假", "family_visit": "探亲假"}
DECISIONS = {"approve": "同意", "return": "退回修改"}


class LeaveApply(FormSchema):
    kind = choice("请假类别", LEAVE_KINDS)
    start_date = day("开始日期")
    end_date = day("结束日期")
    reason = text("事由", 500)

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data["end_date"] < data["start_date"]:
            raise ValidationError("结束日期不能早于开始日期", field_name="end_date")


class LeaveDecision(FormSchema):
    decision = choice("审批意见", DECISIONS)
    opinion = text("意见", 500, required=False)

    @validates_schema
    def _return_needs_reason(self, data, **kwargs):
        if data["decision"] == "return" and not data.get("opinion", "").strip():
            raise ValidationError("退回时请写明理由", field_name="opinion")


class LeaveReportBack(FormSchema):
    returned_on = day("返岗日期")
    note = text("备注", 200, required=False)


def _application(session, task, data: dict) -> dict:
    """The application as the approver and, at 销假, the applicant read it: type, dates, working days, reason."""
    return {"application": {"kind": LEAVE_KINDS.get(data.get("kind"), ""), "start_date": data.get("start_date"),
                            "end_date": data.get("end_date"), "reason": data.get("reason", ""),
                            "working_days": (data.get("leave") or {}).get("working_days")}}


form("leave_apply", LeaveApply, "forms/leave_apply.html", "填写请假单")
form("leave_decision", LeaveDecision, "forms/leave_decision.html", "请假审批", context=_application)
form("leave_report_back", LeaveReportBack, "forms/leave_report_back.html", "销假", context=_application)
