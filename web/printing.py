"""Print pages (A4): the 发文稿纸 / 签发单 of an outgoing document and the 收文处理笺 / 阅办单 of a received one,
with every opinion, the person's 职务, the date and the handwritten signature; for a document with 份数, its
paper copies with their 份号 and the 发文清单 (dispatch list) the paper recipients sign.

Both are a unit's own record of how it worked the document: the sheet of the sign-off is for the issuing
unit's people (``access.own_instance`` on the sender's process), the handling sheet for the receiving unit's
people (their unit's register entry); anyone else, and the three administrators, get a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import NotFound, Refused
from engine.models import Department, Person, Role, RoleGrant
from handlers.documents.models import CLASSIFICATIONS, Document
from handlers.documents.paper import dispatch_list, print_paper_copies
from handlers.incoming.models import IncomingRecord
from handlers.opinions.trail import HANDLING_ROWS, SIGN_OFF_ROWS, opinion_trail, sheet_rows

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404, refused

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


def _issuing_clerk(db, document: Document, person_id: int) -> None:
    """The issuing unit's 收发员, who prints and sends the paper copies; NotFound for anyone else."""
    _issuing_process(db, document, person_id)
    if db.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role == Role.CLERK,
                                            RoleGrant.unit_id == document.issuing_unit_id)) is None:
        raise NotFound("只有发文单位的收发员可以打印纸质件")


@bp.app_template_global()
def prints_paper(document: Document) -> bool:
    """Whether the document page offers this person its paper copies and 发文清单: a document with 份数, to the
    issuing unit's 收发员 (anyone else would only meet a 404)."""
    if not document.print_run:
        return False
    with current_gongwen().db.session() as db:
        return db.scalar(select(RoleGrant.id).where(RoleGrant.person_id == g.person.id, RoleGrant.role == Role.CLERK,
                                                    RoleGrant.unit_id == document.issuing_unit_id)) is not None


@bp.post("/documents/<int:document_id>/print/copies")
@login_required
def paper_copies(document_id: int) -> ResponseReturnValue:
    """The sealed document's paper copies, each with its 份号 stamped, for the issuing unit's clerk to print;
    recorded as printed (by whom, when) and audited."""
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            document = or_404(access.readable_document, db, document_id, g.person.id)
            or_404(_issuing_clerk, db, document, g.person.id)
            pdf = print_paper_copies(db, gongwen.files, document, g.person.id)
    except Refused as err:   # not sealed yet, or no 份数: nothing printed, nothing recorded
        refused("document.print_copies_refused", document_id=document_id)
        flash(str(err))
        return redirect(url_for("documents.document_page", document_id=document_id))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="copies-{document_id}.pdf"'})


@bp.route("/documents/<int:document_id>/print/dispatch-list")
@login_required
def paper_dispatch_list(document_id: int) -> ResponseReturnValue:
    """发文清单: every paper copy's 份号 and recipient, with a column for the recipient to sign."""
    with current_gongwen().db.session() as db:
        document = or_404(access.readable_document, db, document_id, g.person.id)
        or_404(_issuing_clerk, db, document, g.person.id)
        return render_template("print/dispatch_list.html", document=document, rows=dispatch_list(db, document_id),
                               back=url_for("documents.document_page", document_id=document_id),
                               issuer=document.issuers[0].unit.name)
