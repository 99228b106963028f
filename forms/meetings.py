"""Forms of the ``meeting_reply`` process: a unit's reply slip (回执) and a person's answer to an internal meeting.

The reply slip's attendees are rows (name, 职务, mobile): the schema takes them as a list of objects, as the
API posts them; the page posts them as repeated fields that ``web.meetings.reply`` gathers into rows.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from engine import clock
from engine.errors import Refused
from engine.registry import form
from engine.text import mobile_number
from handlers.meetings.models import Answer, Invitation

from .fields import REQUIRED, FormSchema, choice, text

MAX_ATTENDEES = 50
UNIT_DECISIONS = {Answer.ATTEND.value: "参加", Answer.DECLINE.value: "不参加"}
PERSON_DECISIONS = {Answer.ATTEND.value: "确认参加", Answer.DECLINE.value: "请假"}


class _Mobile(fields.String):
    """A mainland mobile number, kept as 11 ASCII digits however it was typed."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        try:
            return mobile_number(super()._deserialize(value, attr, data, **kwargs))
        except Refused as err:
            raise ValidationError(str(err)) from None


class AttendeeRow(FormSchema):
    name = text("姓名", 30)
    job_title = text("职务", 50)
    mobile = _Mobile(required=True, error_messages=REQUIRED, metadata={"label": "手机号码"})


class MeetingReply(FormSchema):
    decision = choice("是否参加", UNIT_DECISIONS)
    reason = text("不参加的原因", 500, required=False)
    attendees = fields.List(fields.Nested(AttendeeRow), load_default=list, metadata={"label": "参会人员"},
                            validate=validate.Length(max=MAX_ATTENDEES, error=f"参会人员至多 {MAX_ATTENDEES} 名"))

    @validates_schema
    def _attendees_or_reason(self, data, **kwargs):
        if data["decision"] == Answer.ATTEND and not data.get("attendees"):
            raise ValidationError("参加会议请至少填写一名参会人员", field_name="attendees")
        if data["decision"] == Answer.DECLINE and not data.get("reason", "").strip():
            raise ValidationError("不参加时请写明原因", field_name="reason")


class MeetingAttend(FormSchema):
    decision = choice("是否参加", PERSON_DECISIONS)
    reason = text("请假事由", 500, required=False)

    @validates_schema
    def _excuse_needs_reason(self, data, **kwargs):
        if data["decision"] == Answer.DECLINE and not data.get("reason", "").strip():
            raise ValidationError("请假时请写明事由", field_name="reason")


def _meeting(session, task, data: dict) -> dict:
    """The meeting as it now stands beside the form, whether it changed since the answer, and the answer
    given before (to confirm or correct)."""
    invitation = session.get(Invitation, data["invitation_id"])
    meeting = invitation.meeting
    values = {}
    if invitation.answer != Answer.PENDING:
        values = {"decision": invitation.answer.value, "reason": invitation.reason or "",
                  "attendee_name": [a.name for a in invitation.attendees],
                  "attendee_job_title": [a.job_title for a in invitation.attendees],
                  "attendee_mobile": [a.mobile for a in invitation.attendees]}
    overdue = clock.now() > meeting.reply_by
    return {"meeting": meeting, "invitation": invitation, "values": values, "overdue": overdue}


form("meeting_reply", MeetingReply, "forms/meeting_reply.html", "填写会议回执", context=_meeting)
form("meeting_attend", MeetingAttend, "forms/meeting_attend.html", "确认参会", context=_meeting)
