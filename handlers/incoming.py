"""The receiving side (收文): arrival, verified sign-for, register, routing, instructions, handling.

One incoming instance per recipient unit. Arrival sets the sign-for deadline from the
document's urgency; sign-for verifies the sealed PDF again and refuses to sign a
document that fails (it can only be returned); each sign or return updates the
sender's receipt row, and the sender's instance is told of returns and of the moment
every recipient has answered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.calendar import WorkCalendar
from engine.errors import Refused
from engine.models import (
    DeadlineRule,
    Department,
    Document,
    IncomingRecord,
    Person,
    Receipt,
    ReceiptStatus,
    Role,
    RoleGrant,
    Unit,
    Urgency,
)
from engine.registry import HandlerContext, handler

from .documents import ensure_unclassified, start_outgoing
from .notify import notify
from .numbering import allocate
from .verification import verify_document

# Sign-for windows when an administrator has set none: 平件 one working day, 加急 two working
# hours, 特急 at once (half an hour of clock time, nights and holidays included).
DEFAULT_DEADLINES = {"normal": (1.0, "working_days"), "urgent": (2.0, "working_hours"),
                     "extra_urgent": (0.5, "hours")}
MEASURES = ("working_days", "working_hours", "hours")
REQUIRED_ELEMENTS = {"doc_number": "发文字号", "title": "标题", "main_to_text": "主送机关", "signing_date": "成文日期"}


def sign_deadline(session: Session, calendar: WorkCalendar, urgency: Urgency, arrived: datetime) -> datetime:
    rule = session.get(DeadlineRule, urgency.value)
    amount, measure = (rule.amount, rule.measure) if rule else DEFAULT_DEADLINES[urgency.value]
    if measure == "working_days":
        return calendar.add_working_days(arrived, int(amount))
    if measure == "working_hours":
        return calendar.add_working_hours(arrived, amount)
    return arrived + timedelta(hours=amount)


def set_deadline(session: Session, urgency: str, amount: float, measure: str, *, actor_id: int | None = None) -> None:
    """An administrator's sign-for window for one urgency."""
    if urgency not in DEFAULT_DEADLINES or measure not in MEASURES or amount < 0:
        raise Refused(f"紧急程度应为 {'、'.join(DEFAULT_DEADLINES)}，单位应为 {'、'.join(MEASURES)}，时长不能为负")
    rule = session.get(DeadlineRule, urgency) or DeadlineRule(urgency=urgency)
    rule.amount, rule.measure = amount, measure
    session.add(rule)
    audit.record(session, "deadline.set", actor_id=actor_id, urgency=urgency, amount=amount, measure=measure)


def latest_receipt(session: Session, document_id: int, unit_id: int, *, lock: bool = False) -> Receipt:
    query = (select(Receipt).where(Receipt.document_id == document_id, Receipt.unit_id == unit_id)
             .order_by(Receipt.version.desc()).limit(1))
    if lock and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return session.scalar(query)


def _holders(session: Session, role: Role, unit_id: int) -> list[int]:
    return list(session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == role,
                                                                  RoleGrant.unit_id == unit_id)))


@handler("receive_document", savepoint=False)  # runs for every recipient of a dispatch; writes only last
def receive_document(ctx: HandlerContext, document_id: int, unit_id: int, window: dict) -> dict:
    """A document arrives: refuse a classified one, wake the clerks for 特急; the sender set the window."""
    document = ctx.session.get(Document, document_id)
    ensure_unclassified(document.classification, gate="收文")
    now = ctx.now()
    if document.urgency == Urgency.EXTRA_URGENT:
        when = "（非办公时间到达，请立即处理）" if not ctx.calendar.in_office_hours(now) else ""
        notify(ctx, f"特急公文到达：{document.title}{when}", role=Role.CLERK.value, unit=unit_id,
               reason="特急公文须即时签收", kind="urgent_arrival")
    ctx.audit("document.arrive", document_id=document_id, doc_number=document.doc_number, due=window["sign_due"])
    return {"doc_number": document.doc_number, "title": document.title, "urgency": document.urgency.value, **window}


def check_before_signing(session: Session, files, document: Document) -> dict:
    """The report a clerk sees before signing: seals, chain, CRLs, issuers, format elements, classification."""
    report = verify_document(session, files.get(document.sealed_sha256))
    checks = [{"key": c.key, "label": c.label, "ok": c.ok, "detail": c.detail} for c in report.checks]
    missing = [label for name, label in REQUIRED_ELEMENTS.items() if not getattr(document, name)]
    checks.append({"key": "format", "label": "格式要素齐全", "ok": not missing,
                   "detail": f"缺少{'、'.join(missing)}" if missing else "发文字号、标题、主送机关、成文日期齐全"})
    classified = document.classification != "非密"
    checks.append({"key": "classification", "label": "非涉密公文", "ok": not classified,
                   "detail": f"标为{document.classification}，涉密公文必须通过机要渠道传递" if classified else "非密"})
    failed = next((c for c in checks if not c["ok"]), None)
    return {"ok": failed is None, "checks": checks, "signers": report.signers,
            "reason": f"{failed['label']}：{failed['detail']}" if failed else None, "at": clock.now().isoformat()}


def _tell_sender(ctx: HandlerContext, document: Document, receipt: Receipt) -> None:
    """Returns reach the sender's instance at once; so does the moment nobody is left to answer."""
    if receipt.status == ReceiptStatus.RETURNED:
        ctx.runtime.send_message(ctx.session, "退文", {"document_id": document.id},
                                 {"unit_id": receipt.unit_id, "reason": receipt.return_reason,
                                  "version": receipt.version})
    pending = ctx.session.scalar(select(func.count()).select_from(Receipt).where(
        Receipt.document_id == document.id, Receipt.status == ReceiptStatus.PENDING))
    if pending == 0:
        ctx.runtime.send_message(ctx.session, "全部签收", {"document_id": document.id}, {"version": document.version})


@handler("record_receipt")
def record_receipt(ctx: HandlerContext, document_id: int, unit_id: int, decision: str, reason: str,
                   person_id: int) -> dict:
    """The clerk signs (only a document that passes verification) or returns it with a reason."""
    document = ctx.session.get(Document, document_id, with_for_update=ctx.session.get_bind().dialect.name != "sqlite")
    receipt = latest_receipt(ctx.session, document_id, unit_id)
    if decision == "sign":
        report = check_before_signing(ctx.session, ctx.files, document)
        receipt.verification = report
        if not report["ok"]:
            raise Refused(f"验证未通过，不能签收，只能退回：{report['reason']}")
        receipt.status = ReceiptStatus.SIGNED
    else:
        receipt.status, receipt.return_reason = ReceiptStatus.RETURNED, reason
    receipt.signed_by_id, receipt.signed_at = person_id, ctx.now()
    ctx.audit("receipt." + receipt.status.value, actor_id=person_id, document_id=document_id,
              version=receipt.version, reason=reason if decision != "sign" else None)
    _tell_sender(ctx, document, receipt)
    return {"status": receipt.status.value, "receipt_id": receipt.id}


@handler("escalate_sign_for")
def escalate_sign_for(ctx: HandlerContext, document_id: int, unit_id: int) -> dict:
    """Overdue: the receipt shows since when, the unit's leaders are told."""
    receipt = latest_receipt(ctx.session, document_id, unit_id)
    if receipt.status != ReceiptStatus.PENDING:
        return {"escalated": False}
    receipt.overdue_since = receipt.overdue_since or ctx.now()
    title = ctx.session.get(Document, document_id).title
    notify(ctx, f"来文逾期未签收：{title}", role=Role.LEADER.value, unit=unit_id,
           reason="超过签收时限", kind="escalation")
    return {"escalated": True, "overdue_since": receipt.overdue_since.isoformat()}


@handler("register_incoming")
def register_incoming(ctx: HandlerContext, document_id: int, unit_id: int, receipt_id: int) -> dict:
    """登记: the unit's next incoming number of the year, and the office that proposes handling."""
    year = clock.local_today().year
    seq = allocate(ctx.session, f"收文:{unit_id}", year)
    record = IncomingRecord(instance_id=ctx.instance_id, unit_id=unit_id, document_id=document_id,
                            receipt_id=receipt_id, year=year, seq=seq, incoming_number=f"收文〔{year}〕{seq}号",
                            registered_at=ctx.now())
    ctx.session.add(record)
    office = ctx.session.scalar(select(Department.id).where(Department.unit_id == unit_id, Department.is_office))
    ctx.audit("incoming.register", document_id=document_id, number=record.incoming_number)
    return {"incoming_number": record.incoming_number, "office_department_id": office}


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
    ctx.audit("incoming.instruct", actor_id=instruction.get("completed_by"), text=instruction.get("instruction"))
    return _handling_window(ctx, record)


@handler("escalate_handling")
def escalate_handling(ctx: HandlerContext) -> dict:
    record = _record(ctx)
    title = ctx.session.get(Document, record.document_id).title
    notify(ctx, f"来文逾期未办结：{title}（{record.incoming_number}）", role=Role.LEADER.value,
           unit=record.unit_id, reason="超过办理时限", kind="escalation")
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
    request = ctx.session.get(Document, record.document_id)
    reply = start_outgoing(ctx.runtime, ctx.session, handler_person)
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
