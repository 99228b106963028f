"""Forms of the incoming process (收文)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from engine.models import Role
from engine.registry import form
from handlers.archive.models import Retention

from . import choices
from .fields import REQUIRED, FormSchema, choice, handwriting, text
from .outgoing import decision


def _people(label: str) -> fields.List:
    return fields.List(fields.Integer(strict=False), load_default=list, metadata={"label": label})


class Route(FormSchema):
    lead_department = fields.Integer(strict=False, required=True, error_messages=REQUIRED,
                                     metadata={"label": "主办处室"})
    assisting_departments = fields.List(fields.Integer(strict=False), load_default=list,
                                        metadata={"label": "协办处室"})
    deadline_days = fields.Integer(strict=False, load_default=5, metadata={"label": "办理时限（工作日）"},
                                   validate=validate.Range(min=1, max=60, error="办理时限应为 1 到 60 个工作日"))


class Propose(FormSchema):
    proposal = text("拟办意见", 1000, opinion=True)
    opinion = text("备注", 200, required=False)


NEXT = {"instruct": "呈批（呈领导批示）", "handle": "直接承办", "circulate": "阅知（传阅后归档）"}


class Decide(FormSchema):
    next = choice("下一步", NEXT)
    leader = fields.Integer(strict=False, load_default=None, metadata={"label": "批示领导"})
    readers = _people("传阅人员")

    @validates_schema
    def _needs(self, data, **kwargs):
        if data["next"] == "instruct" and not data.get("leader"):
            raise ValidationError("请选择批示领导", field_name="leader")
        if data["next"] == "circulate" and not data.get("readers"):
            raise ValidationError("请选择传阅人员", field_name="readers")


class Instruct(FormSchema):
    instruction = text("批示", 1000, opinion=True)
    signature = handwriting()
    deadline_days = fields.Integer(strict=False, load_default=None, metadata={"label": "办理时限（工作日）"},
                                   validate=validate.Range(min=1, max=60, error="办理时限应为 1 到 60 个工作日"))


class Handle(FormSchema):
    result = text("承办结果", 2000)
    start_reply = fields.Boolean(load_default=False, metadata={"label": "起草复文（如对请示的批复）"})
    readers = _people("传阅人员")


class Read(FormSchema):
    note = text("阅示", 200, required=False)


class Archive(FormSchema):
    retention = choice("保管期限", {r.value: r.label for r in Retention})


form("incoming_sign_for", decision("签收", {"sign": "签收", "return": "退回"}), "forms/outgoing_decision.html", "签收")
def _route_choices(session, person_id: int, unit_id: int) -> dict:
    departments = choices.departments(session, unit_id)
    return {"lead_department": departments, "assisting_departments": departments}


def _decide_choices(session, person_id: int, unit_id: int) -> dict:
    return {"leader": choices.people(session, unit_id, Role.LEADER), "readers": choices.people(session, unit_id)}


form("incoming_route", Route, "forms/incoming_route.html", "分办", _route_choices)
form("incoming_propose", Propose, "forms/incoming_propose.html", "拟办")
form("incoming_decide", Decide, "forms/incoming_decide.html", "承办人决定下一步", _decide_choices)
form("incoming_instruct", Instruct, "forms/incoming_instruct.html", "领导批示", signed=True)  # with their certificate
form("incoming_handle", Handle, "forms/incoming_handle.html", "办理",
     lambda session, person_id, unit_id: {"readers": choices.people(session, unit_id)})
form("incoming_read", Read, "forms/incoming_read.html", "传阅")
form("incoming_archive", Archive, "forms/incoming_archive.html", "归档")
