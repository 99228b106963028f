"""Forms of the seal lifecycle process (电子印章管理)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validates_schema

from engine.registry import form

from .fields import FormSchema, choice, text
from .outgoing import decision

ACTIONS = {"apply": "申请新印章", "renew": "到期换发", "change": "变更印章名称", "revoke": "吊销印章",
           "reissue": "补发印章（原印章作废）"}
REASONS = {"lost": "遗失", "damaged": "损坏", "dissolved": "单位撤销", "renamed": "单位更名", "other": "其他"}


class SealRequest(FormSchema):
    action = choice("申请事项", ACTIONS)
    seal_code = fields.String(load_default=None, metadata={"label": "原印章编号"})
    name = text("印章名称", 64, required=False)
    reason = fields.String(load_default=None, metadata={"label": "吊销原因", "options": REASONS})
    explanation = text("申请说明", 500)

    @validates_schema
    def _what_the_action_needs(self, data, **kwargs):
        if data["action"] != "apply" and not data.get("seal_code"):
            raise ValidationError("请填写原印章编号", field_name="seal_code")
        if data["action"] in ("revoke", "reissue") and data.get("reason") not in REASONS:
            raise ValidationError("请选择吊销原因", field_name="reason")
        if data["action"] == "change" and not data.get("name", "").strip():
            raise ValidationError("请填写变更后的印章名称", field_name="name")


form("seal_request", SealRequest, "forms/seal_request.html", "印章申请")
form("seal_approval", decision("审批意见", {"approve": "同意", "return": "退回"}), "forms/outgoing_decision.html",
     "印章审批")
