"""Print pages (A4): the 发文稿纸 / 签发单 of an outgoing document and the 收文处理笺 / 阅办单 of a received one,
with every opinion, the person's 职务, the date and the handwritten signature.

Both are a unit's own record of how it worked the document: the sheet of the sign-off is for the issuing
unit's people (``access.own_instance`` on the sender's process), the handling sheet for the receiving unit's
people (their unit's register entry); anyone else, and the three administrators, get a 404.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import Department, Person, RoleGrant
from handlers.documents.models import CLASSIFICATIONS, Document
from handlers.incoming.models import IncomingRecord
from handlers.opinions.trail import HANDLING_ROWS, SIGN_OFF_ROWS, opinion_trail, sheet_rows

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404

bp = Blueprint("printing", __name__)

@bp.route("/documents/<int:document_id>/print/sign-off")
@login_required
def sign_off(document_id: int) -> ResponseReturnValue:
    """发文稿纸 / 签发单: the document's particulars and every review, countersign and sign-off opinion."""
    with current_gongwen().db.session() as db:
        document = or_404(access.readable_document, db, document_id, g.person.id)
        or_404(_issuing_process, db, document, g.person.id)
        drafter = db.get(Person, document.drafter_id)
        department = db.get(Department, document.drafting_department_id) if document.drafting_department_id else None
        trail = opinion_trail(db, document.instance_id)
        return render_template("print/sign_off.html", back=url_for("documents.document_page", document_id=document_id),
                               document=document, drafter=drafter, department=department,
                               rows=sheet_rows(trail, SIGN_OFF_ROWS), drafted=trail[0] if trail else None,
                               issuers=[i.unit.name for i in document.issuers],
                               classification=CLASSIFICATIONS.get(document.classification, document.classification))


def _issuing_process(db, document: Document, person_id: int) -> None:
    if document.instance_id is None:
        raise NotFound("没有这份公文的发文流程")
    access.own_instance(db, document.instance_id, person_id)


@bp.route("/documents/<int:document_id>/print/handling")
@login_required
def handling(document_id: int) -> ResponseReturnValue:
    """收文处理笺 / 阅办单: the register entry, the proposal, the leader's instruction and the handling."""
    with current_gongwen().db.session() as db:
        document = or_404(access.readable_document, db, document_id, g.person.id)
        record = or_404(_own_record, db, document.id, g.person.id)
        trail = opinion_trail(db, record.instance_id)
        return render_template("print/handling.html", back=url_for("documents.document_page", document_id=document_id),
                               document=document, record=record,
                               rows=sheet_rows(trail, HANDLING_ROWS), senders=[i.unit.name for i in document.issuers],
                               classification=CLASSIFICATIONS.get(document.classification, document.classification))


def _own_record(db, document_id: int, person_id: int) -> IncomingRecord:
    """The latest register entry of the document in a unit the person works in."""
    record = db.scalar(select(IncomingRecord).join(RoleGrant, RoleGrant.unit_id == IncomingRecord.unit_id)
                       .where(IncomingRecord.document_id == document_id, RoleGrant.person_id == person_id)
                       .order_by(IncomingRecord.id.desc()).limit(1))
    if record is None:
        raise NotFound("本单位没有收到这份公文")
    access.own_instance(db, record.instance_id, person_id)
    return record
