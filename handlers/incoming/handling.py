"""The receiving unit's handling of a signed-for document (收文办理).

登记 (register) gives it the unit's incoming number; 分办 (route) names the lead and
assisting departments and the handling deadline; a leader's 批示 (instruct) may change
it; 承办 (handle) records what was done and may start a reply as a new outgoing
document; 传阅 (circulate) records who read it. Reminders and escalation follow the
handling deadline in working days.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Refused
from engine.models import Department, Person, Role, Unit
from engine.organisation import holders
from engine.registry import HandlerContext, handler

from ..documents.drafting import start_outgoing
from ..documents.models import Document
from ..documents.numbering import allocate
from ..exchange.replies import receipt_for
from ..forwarding.models import DepartmentBox
from ..notifications.tell import tell
from .models import ExternalDocument, IncomingRecord

# The unit's office, asked in every sign-for: built once (building and keying a statement costs more
# CPU than its round trip).
_OFFICE = select(Department.id).where(Department.unit_id == bindparam("unit_id"), Department.is_office)


# Runs in every sign-for: it reads first and writes last, so it needs no savepoint (two round trips less).
@handler("register_incoming", savepoint=False)
def register_incoming(ctx: HandlerContext, document_id: int | None, unit_id: int, version: int | None = None,
                      receipt_id: int | None = None, external_document_id: int | None = None,
                      box_department_id: int | None = None) -> dict:
    """登记: the unit's next incoming number of the year, and the office that proposes handling; for a document
    addressed to a department's box, the department's next number and the department itself.

    A Gongwen document signed for (``document_id``), or a document from outside a clerk registered
    (``external_document_id``, see :mod:`.external`; no receipt). ``receipt_id`` is the sender's receipt
    when the transport knew it; otherwise it is looked up. ``box_department_id``: the department box the copy
    arrived in (``receive_document`` found it), so that an ordinary sign-for asks nothing more.
    """
    if receipt_id is None and external_document_id is None:
        receipt_id = receipt_for(ctx.session, document_id, unit_id, version).id
    year = clock.local_today().year
    # Addressed to a department's own box: its series and its head propose (handlers.forwarding.boxes).
    box = ctx.session.get(DepartmentBox, box_department_id) if box_department_id is not None else None
    if box is not None:
        office, prefix = box.department_id, box.prefix
        seq = allocate(ctx.session, f"收文:{unit_id}:{box.department_id}", year)
    else:
        office, prefix = ctx.session.scalar(_OFFICE, {"unit_id": unit_id}), "收文"
        seq = allocate(ctx.session, f"收文:{unit_id}", year)
    record = IncomingRecord(instance_id=ctx.instance_id, unit_id=unit_id, document_id=document_id,
                            receipt_id=receipt_id, external_document_id=external_document_id, year=year, seq=seq,
                            department_id=box.department_id if box else None,
                            incoming_number=f"{prefix}〔{year}〕{seq}号",
                            registered_at=ctx.now())
    ctx.session.add(record)
    ctx.audit("incoming.register", document_id=document_id, external_document_id=external_document_id,
              number=record.incoming_number)
    return {"incoming_number": record.incoming_number, "office_department_id": office,
            "box_department_id": box.department_id if box else None}


def _record(ctx: HandlerContext) -> IncomingRecord:
    return ctx.session.scalar(select(IncomingRecord).where(IncomingRecord.instance_id == ctx.instance_id))


def _departments(session: Session, unit_id: int, ids: list[int]) -> None:
    found = set(session.scalars(select(Department.id).where(Department.unit_id == unit_id, Department.id.in_(ids))))
    if missing := [i for i in ids if i not in found]:
        raise Refused(f"本单位没有编号为 {'、'.join(map(str, missing))} 的处室")


@handler("plan_handling")
def plan_handling(ctx: HandlerContext, routing: dict) -> dict:
    """分办: the lead department, the assisting ones, and the handling deadline in working days."""
    record = _record(ctx)
    _departments(ctx.session, record.unit_id, [routing["lead_department"], *routing["assisting_departments"]])
    record.lead_department_id = routing["lead_department"]
    record.assisting_department_ids = routing["assisting_departments"]
    record.handle_due = ctx.calendar.add_working_days(ctx.now(), routing["deadline_days"])
    return {"lead_department_id": record.lead_department_id, **_handling_window(ctx, record)}


def _handling_window(ctx: HandlerContext, record: IncomingRecord) -> dict:
    """The handling deadline, and when to remind (half-way there)."""
    now = ctx.now()
    return {"handle_due": record.handle_due.isoformat(), "remind_at": (now + (record.handle_due - now) / 2).isoformat()}


@handler("apply_instruction")
def apply_instruction(ctx: HandlerContext, instruction: dict) -> dict:
    """A leader's 批示 may set a new handling deadline."""
    record = _record(ctx)
    if instruction.get("deadline_days"):
        record.handle_due = ctx.calendar.add_working_days(ctx.now(), instruction["deadline_days"])
    ctx.audit("incoming.instruct", actor_id=instruction.get("completed_by"))
    return _handling_window(ctx, record)


@handler("escalate_handling")
def escalate_handling(ctx: HandlerContext) -> dict:
    record = _record(ctx)
    title = ctx.session.get(Document, record.document_id).title if record.document_id else \
        ctx.session.get(ExternalDocument, record.external_document_id).title
    tell(ctx.session, holders(ctx.session, Role.LEADER, record.unit_id),
         f"来文逾期未办结：{title}（{record.incoming_number}）", kind="escalation", reason="超过办理时限",
         instance_id=ctx.instance_id, key=f"handling_escalation:{ctx.instance_id}:{ctx.now().isoformat()}")
    return {"escalated_at": ctx.now().isoformat()}


@handler("record_handling")
def record_handling(ctx: HandlerContext, handling: dict) -> dict:
    """承办 done: what was done; a reply (e.g. a 批复 to a 请示) starts as a new outgoing document."""
    record = _record(ctx)
    record.result, record.handled_at = handling["result"], ctx.now()
    reply_id = None
    if handling.get("start_reply"):
        reply_id = _start_reply(ctx, record, ctx.session.get(Person, handling["completed_by"]))
        record.reply_document_id = reply_id
    ctx.audit("incoming.handle", actor_id=handling.get("completed_by"), reply_document_id=reply_id)
    return {"reply_document_id": reply_id}


def _start_reply(ctx: HandlerContext, record: IncomingRecord, handler_person: Person) -> int:
    reply = start_outgoing(ctx.runtime, ctx.session, handler_person)
    if record.document_id is None:
        # From outside Gongwen: its sender is no unit here, so the reply names the organ and goes on paper.
        external = ctx.session.get(ExternalDocument, record.external_document_id)
        reply.title = f"关于{external.title.removeprefix('关于').removesuffix('的请示')}的复函"
        reply.main_to_text = external.sender_organ
        return reply.id
    request = ctx.session.get(Document, record.document_id)
    reply.reply_to_id = request.id
    # 事由 of the request: its title without the issuer, "关于" and the document type.
    subject = request.title.removeprefix(ctx.session.get(Unit, request.issuing_unit_id).name).removeprefix("关于")
    subject = subject.removesuffix(f"的{request.doc_type.label}")
    reply.title = f"关于{subject}的{'批复' if request.doc_type.value == 'request' else '复函'}"
    reply.main_to = [request.issuing_unit_id]
    reply.main_to_text = ctx.session.get(Unit, request.issuing_unit_id).name
    return reply.id


@handler("record_reading")
def record_reading(ctx: HandlerContext, readings: list) -> dict:
    """传阅: who read it and when, as the circulation trail."""
    ctx.audit("incoming.circulate", readers=[r["completed_by"] for r in readings])
    return {"read_by": [r["completed_by"] for r in readings]}
