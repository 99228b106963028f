"""The recipient's side of an exchange: arrival, the check before signing, sign-for or return, overdue.

One receiving instance per recipient unit. An urgent arrival (加急, 特急) texts the unit's duty
staff at once, day or night; a deadline that passes texts them again, and half a window later
the unit's 分管领导 (see :mod:`.deadlines`). Sign-for verifies the sealed file again and refuses
to sign a document that fails (it can only be returned). Each answer goes back to the sender as
a reply (see :mod:`.receipts`); nothing here writes the sender's rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import clock
from engine.errors import NotFound, Refused
from engine.files import FileStore
from engine.models import Role
from engine.registry import HandlerContext, handler

from ..contacts.models import Duty
from ..documents.drafting import ensure_unclassified
from ..documents.models import CLASSIFICATIONS, Document, Urgency
from ..forwarding.boxes import box_of
from ..notifications.alerts import alert_unit
from ..seals.verification import verify_document
from .receipts import send_reply
from .replies import Reply, ReplyKind, lock_document

REQUIRED_ELEMENTS = {"doc_number": "发文字号", "title": "标题", "main_to_text": "主送机关", "signing_date": "成文日期"}


@handler("receive_document", savepoint=False)  # runs for every recipient of a dispatch; writes only last
def receive_document(ctx: HandlerContext, document_id: int, unit_id: int, window: dict) -> dict:
    """A document arrives: refuse a classified one, wake the duty staff for an urgent one; the sender set the window."""
    document = ctx.session.get(Document, document_id)
    ensure_unclassified(document.classification, gate="收文")
    now = ctx.now()
    if document.urgency != Urgency.NORMAL:
        when = "（非办公时间到达）" if not ctx.calendar.in_office_hours(now) else ""
        due = clock.local(datetime.fromisoformat(window["sign_due"])).strftime("%m月%d日%H:%M")
        alert_unit(ctx.session, unit_id, f"{document.urgency.label}公文到达{when}，请于{due}前签收：{document.title}",
                   duty=Duty.CLERK, role=Role.CLERK, kind="urgent_arrival",
                   reason=f"{document.urgency.label}公文须即时签收", instance_id=ctx.instance_id,
                   key=f"urgent_arrival:{ctx.instance_id}")
    ctx.audit("document.arrive", document_id=document_id, doc_number=document.doc_number, due=window["sign_due"])
    box = box_of(ctx.session, document_id, unit_id)  # addressed to a department's box: its clerks sign for it
    return {"doc_number": document.doc_number, "title": document.title, "urgency": document.urgency.value,
            "department_id": box.department_id if box else None, **window}


def check_before_signing(session: Session, files: FileStore, document: Document) -> dict:
    """The report a clerk sees before signing: seals, chain, CRLs, issuers, format elements, classification."""
    try:
        report = verify_document(session, files.get(document.sealed_sha256), document.id)
        checks = [{"key": c.key, "label": c.label, "ok": c.ok, "detail": c.detail} for c in report.checks]
        signers = report.signers
    except NotFound as lost:  # the stored file is gone or its bytes no longer match their hash: return it
        checks, signers = [{"key": "file", "label": "文件完整", "ok": False, "detail": str(lost)}], []
    missing = [label for name, label in REQUIRED_ELEMENTS.items() if not getattr(document, name)]
    checks.append({"key": "format", "label": "格式要素齐全", "ok": not missing,
                   "detail": f"缺少{'、'.join(missing)}" if missing else "发文字号、标题、主送机关、成文日期齐全"})
    classified = document.classification not in CLASSIFICATIONS
    checks.append({"key": "classification", "label": "非涉密公文", "ok": not classified,
                   "detail": f"标为{document.classification}，涉密公文必须通过机要渠道传递" if classified
                   else CLASSIFICATIONS[document.classification]})
    failed = next((c for c in checks if not c["ok"]), None)
    return {"ok": failed is None, "checks": checks, "signers": signers,
            "reason": f"{failed['label']}：{failed['detail']}" if failed else None, "at": clock.now().isoformat()}


# Every recipient signs: the lock and the checks come first and the reply's writes last (nothing that
# can fail follows them), so it needs no savepoint (two round trips less).
@handler("record_receipt", savepoint=False)
def record_receipt(ctx: HandlerContext, document_id: int, unit_id: int, decision: str, reason: str,
                   person_id: int, version: int | None = None) -> dict:
    """The clerk signs (only a document that passes verification) or returns it with a reason."""
    # Locked now, as the reply below locks it (one statement; ``document`` keeps it in the session).
    document, report = lock_document(ctx.session, document_id), None
    if decision == "sign":
        report = check_before_signing(ctx.session, ctx.files, document)
        if not report["ok"]:
            raise Refused(f"验证未通过，不能签收，只能退回：{report['reason']}")
    kind = ReplyKind.SIGNED if decision == "sign" else ReplyKind.RETURNED
    receipt_id = send_reply(ctx, Reply(document_id, unit_id, version, kind, ctx.now().isoformat(), person_id,
                                       reason=None if kind == ReplyKind.SIGNED else reason, verification=report))
    ctx.audit("receipt." + kind.value, actor_id=person_id, document_id=document_id, version=version)
    return {"status": kind.value, "receipt_id": receipt_id}


@handler("escalate_sign_for")
def escalate_sign_for(ctx: HandlerContext, document_id: int, unit_id: int, version: int | None = None) -> dict:
    """Overdue: the sender learns since when; the unit's duty staff are texted, its clerks told."""
    send_reply(ctx, Reply(document_id, unit_id, version, ReplyKind.OVERDUE, ctx.now().isoformat()))
    title = ctx.session.get(Document, document_id).title
    alert_unit(ctx.session, unit_id, f"来文已超过签收时限，请立即签收：{title}", duty=Duty.CLERK, role=Role.CLERK,
               kind="overdue", reason="超过签收时限", instance_id=ctx.instance_id, key=f"overdue:{ctx.instance_id}")
    return {"escalated": True, "overdue_since": ctx.now().isoformat()}


@handler("escalate_to_leader")
def escalate_to_leader(ctx: HandlerContext, document_id: int, unit_id: int) -> dict:
    """Still not signed half a window after the deadline: the unit's 分管领导 is texted, its leaders told."""
    title = ctx.session.get(Document, document_id).title
    texted = alert_unit(ctx.session, unit_id, f"本单位来文逾期仍未签收，请督促收发文人员签收：{title}",
                        duty=Duty.LEADER_IN_CHARGE, role=Role.LEADER, kind="escalation", reason="逾期仍未签收",
                        instance_id=ctx.instance_id, key=f"escalation:{ctx.instance_id}")
    ctx.audit("receipt.escalate", document_id=document_id, texted=len(texted))
    return {"escalated_to_leader": True, "at": ctx.now().isoformat()}
