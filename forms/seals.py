"""Forms of the seal application process (电子印章申请).

The applicant (the unit's seal keeper or clerk) says what the unit needs; its head approves or
returns it; the issuing office issues or returns it with a reason. The seal an application is
about is picked from the unit's seals in use (the pick list is what the server accepts), and the
fields an action does not use are refused rather than silently kept.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.registry import form
from handlers.seals.applications import ACTIONS, REISSUE_REASONS, RETURN_REASONS
from handlers.seals.explanation import uploaded_by
from handlers.seals.models import Seal, SealStatus

from .fields import FormSchema, choice, text
from .outgoing import decision

REASONS = {**REISSUE_REASONS, **RETURN_REASONS}
# Which reasons each action takes; the others take none.
ACTION_REASONS = {"reissue": REISSUE_REASONS, "return": RETURN_REASONS}
_NAMED = ("apply", "rename")  # the actions that may name the new seal


def what_an_applicant_picks(session: Session, person_id: int, unit_id: int) -> dict[str, list[tuple[str, str]]]:
    """The applying unit's seals in use (the only ones an application may be about), and the files the
    applicant uploaded (the only ones it may name)."""
    rows = session.execute(select(Seal.code, Seal.name).where(Seal.unit_id == unit_id,
                                                              Seal.status == SealStatus.ACTIVE)
                           .order_by(Seal.id)).all()
    return {"seal_code": [(code, f"{code}（{name}）") for code, name in rows],
            "explanation_file": [(sha256, "") for sha256 in uploaded_by(session, person_id)]}


class SealRequest(FormSchema):
    action = choice("申请事项", ACTIONS)
    seal_code = fields.String(load_default=None, metadata={"label": "原印章"})
    name = text("新印章名称（申请新印章或更名时填写，默认为单位名称）", 64, required=False)
    reason = fields.String(load_default=None, metadata={"label": "补发或缴回的原因", "options": REASONS})
    explanation = text("情况说明（补发须写明遗失或损坏的经过）", 500)
    # Set by the page from the uploaded file (web/seals.py), never typed: a file's SHA-256 and name.
    explanation_file = fields.String(load_default=None, metadata={"label": "情况说明附件"})
    explanation_file_name = text("附件文件名", 200, required=False)

    @validates_schema
    def _what_the_action_needs(self, data, **kwargs):
        action = data["action"]
        if action == "apply" and data.get("seal_code"):
            raise ValidationError("申请新印章不需选择原印章", field_name="seal_code")
        if action != "apply" and not data.get("seal_code"):
            raise ValidationError("请选择原印章", field_name="seal_code")
        allowed = ACTION_REASONS.get(action, {})
        if data.get("reason") and data["reason"] not in allowed:
            raise ValidationError("请选择：" + "、".join(allowed.values()) if allowed else "这一申请事项不需选择原因",
                                  field_name="reason")
        if allowed and not data.get("reason"):
            raise ValidationError("请选择原因", field_name="reason")
        if data.get("name", "").strip() and action not in _NAMED:
            raise ValidationError("只有申请新印章或更名换发时填写印章名称", field_name="name")
        if action == "rename" and not data.get("name", "").strip():
            raise ValidationError("请填写更名后的印章名称", field_name="name")
        if data.get("explanation_file_name") and not data.get("explanation_file"):
            raise ValidationError("没有附件", field_name="explanation_file_name")


def _moment(value: str) -> None:
    if clock.parse_local(value) is None:
        raise ValidationError("时间格式应为 2026-11-20T09:30")


class SealIssuing(FormSchema):
    """The issuing office's decision; for a lost seal, from when its key is no longer trusted."""

    decision = choice("审批意见", {"approve": "同意，制发或办理", "return": "退回"})
    opinion = text("意见", 1000, required=False)
    invalid_since = fields.String(load_default=None, validate=_moment,
                                  metadata={"label": "原印章自何时起不再可信（仅遗失补发，北京时间，可不填）",
                                            "moment": True})

    @validates_schema
    def _reason(self, data, **kwargs):
        if data.get("decision") == "return" and not data.get("opinion", "").strip():
            raise ValidationError("请写明退回的理由", field_name="opinion")

    @post_load
    def _in_beijing_time(self, data, **kwargs):
        # The page's datetime-local has no zone: it is the office's time, Beijing's.
        if data.get("invalid_since"):
            data["invalid_since"] = clock.parse_local(data["invalid_since"]).isoformat()
        return data


form("seal_request", SealRequest, "forms/seal_request.html", "印章申请", choices=what_an_applicant_picks)
form("seal_head_decision", decision("审核意见", {"approve": "同意", "return": "退回"}), "forms/seal_decision.html",
     "印章申请审核")
form("seal_approval", SealIssuing, "forms/seal_decision.html", "印章审批")
