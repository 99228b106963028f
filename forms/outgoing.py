"""Forms of the outgoing process (发文): the draft and the decisions of each later step."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from engine.models import ProcessInstance
from engine.registry import form
from handlers.documents.distribution import distribution_groups, distribution_lists
from handlers.documents.drafting import classification_problem, draft_values
from handlers.documents.models import CLASSIFICATIONS, DOC_TYPE_LABELS, UNCLASSIFIED, Urgency
from handlers.documents.numbering import unit_series
from handlers.documents.paper import MAX_PRINT_RUN
from handlers.documents.revisions import edit_body
from handlers.exchange.holdings import document_for_instance
from handlers.exchange.receipts import returned_delivery
from handlers.forwarding.boxes import offered_boxes, saved_picks, take_box_picks

from . import choices
from .fields import REQUIRED, FormSchema, choice, handwriting, text

DOC_TYPES = {t.value: label for t, label in DOC_TYPE_LABELS.items()}
DIRECTIONS = {"downward": "下行文", "parallel": "平行文", "upward": "上行文"}
URGENCIES = {u.value: u.label for u in Urgency}


def _ids(label: str, *, required: bool = False) -> fields.List:
    extra = {} if required else {"load_default": list}
    return fields.List(fields.Integer(strict=False), required=required, error_messages=REQUIRED,
                       validate=validate.Length(min=1, error="至少选择一个") if required else None,
                       metadata={"label": label}, **extra)


def _level(value: str) -> None:
    if problem := classification_problem(value):
        raise ValidationError(problem)


class Draft(FormSchema):
    doc_type = choice("文种", DOC_TYPES)
    # One of the unit's series beside its main one (函, 明电 …); left blank, the 文种 decides.
    series_id = fields.Integer(load_default=None, strict=False, error_messages=REQUIRED,
                               metadata={"label": "发文字号系列（不选则按文种）"})
    direction = choice("行文方向", DIRECTIONS)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(list(URGENCIES), error="不是可选的值"),
                            metadata={"label": "紧急程度", "options": URGENCIES})
    # A pick from the non-classified levels; a classified one is told where it must go instead.
    classification = fields.String(load_default=UNCLASSIFIED, validate=_level,
                                   metadata={"label": "密级", "options": CLASSIFICATIONS})
    title = text("标题", 300)
    main_to = _ids("主送机关")
    main_to_lists = _ids("主送分发名单")
    main_to_boxes = _ids("主送处室（处室收文箱）")
    cc = _ids("抄送机关")
    cc_lists = _ids("抄送分发名单")
    co_issuers = _ids("联合发文机关")
    countersign_departments = _ids("会签处室")
    # 纸质: those of 主送/抄送 not connected, sent a numbered paper copy instead of an envelope (份数 covers them).
    paper_to = _ids("纸质收文单位（未联网，发纸质件）")
    print_run = fields.Integer(load_default=0, strict=False, error_messages=REQUIRED,
                               validate=validate.Range(0, MAX_PRINT_RUN, error=f"份数应在 0 到 {MAX_PRINT_RUN} 之间"),
                               metadata={"label": "纸质份数（不印纸质件填 0）"})
    countersign_units = _ids("会签单位")
    body = text("正文", 50_000)
    note = text("附注", 300, required=False)
    important = fields.Boolean(load_default=False, metadata={"label": "重要公文（由主要负责人签发）"})
    one_matter = fields.Boolean(load_default=False, metadata={"label": "本请示只请示一件事项"})
    in_department_name = fields.Boolean(load_default=False, metadata={"label": "以处室名义发文"})

    @validates_schema
    def _someone_to_send_to(self, data, **kwargs):
        if not data.get("main_to") and not data.get("main_to_lists") and not data.get("main_to_boxes"):
            raise ValidationError("请选择主送机关或分发名单", field_name="main_to")


def decision(label: str, options: dict[str, str], *, reason_for: tuple[str, ...] = ("return",),
             opinion_required: bool = False, edits_body: bool = False, handwritten: bool = False
             ) -> type[FormSchema]:
    """A step's decision with an opinion; returning (or any of ``reason_for``) needs a reason.

    ``edits_body``: the step may also change the document's body (留痕, ``handlers.documents.revisions``); left out
    or blank, the body stays as it is. ``handwritten``: the step (签发) may carry a handwritten signature.
    """

    class Decision(FormSchema):
        decision = choice(label, options)
        opinion = text("意见", 1000, required=opinion_required, opinion=True)
        if handwritten:
            signature = handwriting()
        if edits_body:
            body = text("修改正文（留痕）", 50_000, required=False)

        @validates_schema
        def _reason(self, data, **kwargs):
            if data.get("decision") in reason_for and not data.get("opinion", "").strip():
                raise ValidationError("请写明退回的理由", field_name="opinion")

    return Decision


class Correction(FormSchema):
    """What proofreading may correct: the wording, never the recipients or the issuers."""

    title = text("标题", 300)
    body = text("正文", 50_000)
    opinion = text("更正说明", 500)


class SealConfirmation(FormSchema):
    confirm = fields.Boolean(required=True, error_messages=REQUIRED, metadata={"label": "已核对，同意用印"},
                             validate=validate.Equal(True, error="请核对后勾选同意用印"))


def _draft_choices(session, person_id: int, unit_id: int) -> dict:
    all_units, lists = choices.units(session), distribution_lists(session, unit_id)
    series = [(s.id, f"{s.name}（{s.code}）") for s in unit_series(session, unit_id)]
    return {"series_id": series, "main_to": all_units, "cc": all_units, "paper_to": all_units, "co_issuers": all_units,
            "countersign_units": all_units, "main_to_lists": lists, "cc_lists": lists,
            "countersign_departments": choices.departments(session, unit_id),
            "main_to_boxes": offered_boxes(session)}


def _draft_context(session, task, data: dict) -> dict:
    """What the unit picker (``web/static/unitpicker.js``) draws over 主送, 抄送, 联合发文机关 and 会签单位: the
    units' tree and the drafting unit's distribution lists as groups of units. The selects stay the form's
    fields, validated as offered."""
    unit_id = session.get(ProcessInstance, task.instance_id).owning_unit_id
    document = document_for_instance(session, task.instance_id)
    # A returned draft that went to a department's box opens with the box picked again, not its unit.
    picks = saved_picks(session, document) if document is not None and document.title else {}
    return {**({"values": {**draft_values(document), **picks}} if picks else {}),
            "unit_picker": {"units": choices.unit_tree(session),
                            "fields": ["main_to", "cc", "paper_to", "co_issuers", "countersign_units"],
                            "groups": [{"id": i, "name": n, "units": members}
                                       for i, n, members in distribution_groups(session, unit_id)]}}


def _current_body(session, task, data: dict) -> dict:
    """A reviewer's or signing leader's form opens with the body as it stands, to change in place."""
    document = document_for_instance(session, task.instance_id)
    return {"values": {"body": "\n".join(document.body)}}


APPROVE = {"approve": "同意", "return": "退回修改"}
form("outgoing_draft", Draft, "forms/outgoing_draft.html", "拟稿", _draft_choices, context=_draft_context,
     on_complete=take_box_picks)  # 主送处室: a department's box (handlers.forwarding.boxes)
# Reviewers and the signing leader may change the body (留痕); 会签 parties give opinions only.
form("outgoing_review", decision("审核意见", APPROVE, edits_body=True), "forms/outgoing_decision.html", "审核",
     context=_current_body, on_complete=edit_body)
form("outgoing_countersign", decision("会签意见", {"agree": "同意", "disagree": "不同意"}, reason_for=("disagree",)),
     "forms/outgoing_decision.html", "会签")
# 签发 is signed with the leader's personal certificate (handlers.seals.opinions).
form("outgoing_sign_off", decision("签发意见", {"approve": "同意签发", "return": "退回修改"}, edits_body=True,
                                      handwritten=True),
     "forms/outgoing_decision.html", "签发", signed=True, context=_current_body, on_complete=edit_body)
form("outgoing_proofread", decision("校对结果", {"ok": "校对无误", "return": "需要更正"}),
     "forms/outgoing_decision.html", "校对")
form("outgoing_correct", Correction, "forms/outgoing_correct.html", "更正")
form("outgoing_seal", SealConfirmation, "forms/outgoing_seal.html", "用印")
form("outgoing_confirm_dispatch", decision("分发确认", {"dispatch": "确认分发", "return": "退回拟稿人"}),
     "forms/outgoing_decision.html", "确认分发范围")


class HandleReturn(FormSchema):
    """A recipient returned the document: correct it and send it again, or let the return stand."""

    decision = choice("处理方式", {"redispatch": "更正后重新分发", "close": "不再重发"})
    title = text("标题", 300, required=False)
    body = text("正文", 50_000, required=False)
    opinion = text("处理说明", 500)

    @validates_schema
    def _correction(self, data, **kwargs):
        if data["decision"] == "redispatch" and not (data.get("title") and data.get("body")):
            raise ValidationError("重新分发前请给出更正后的标题和正文", field_name="body")


def _return_context(session, task, data: dict) -> dict:
    """Who returned the document and why; the form opens with the document's title and body to correct."""
    document = document_for_instance(session, task.instance_id)
    returned = data.get("returned") or {}
    return {"returned": returned_delivery(session, document.id, returned.get("unit_id"), returned.get("version")),
            "values": {"title": document.title, "body": "\n".join(document.body)}}


form("outgoing_handle_return", HandleReturn, "forms/outgoing_handle_return.html", "处理退文",
     context=_return_context)
