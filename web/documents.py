"""A document once it exists: its page (where is it now, and for the sender the receipts), its PDF,
the page of a process one took part in, the diagram's progress, and chasing a receipt.

Only the units holding a copy find a document (``web.access``); anyone else gets a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import GongwenError, NotFound
from engine.models import Person, RoleGrant, StoredFile, Task, TaskState
from handlers.archive.models import ArchiveItem
from handlers.contacts.models import DutyContact
from handlers.contacts.register import current_for_units
from handlers.documents.drafting import draft_values
from handlers.documents.layout import preview
from handlers.documents.models import Document
from handlers.exchange.models import Receipt
from handlers.exchange.receipts import chase, receipt_overview
from handlers.forwarding.forward import forward_links, may_forward
from handlers.opinions.trail import opinion_trail

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404

bp = Blueprint("documents", __name__)


@bp.route("/documents/<int:document_id>")
@login_required
def document_page(document_id: int) -> ResponseReturnValue:
    """The document for whoever may read it: its text, PDF and attachments, its 档号 once their unit archived
    it; where it is now (the diagram with done and waiting steps); for the sender, the receipts."""
    with current_gongwen().db.session() as db:
        document = or_404(access.readable_document, db, document_id, g.person.id)
        instance_id = _instance_for(db, document)
        waiting = db.execute(select(Task.name, Task.assignee_id, Task.candidate_person_id, Task.candidate_role,
                                    Task.due_at).where(Task.instance_id == instance_id,
                                                       Task.state == TaskState.READY)).all()
        people = {w.assignee_id or w.candidate_person_id for w in waiting} - {None}
        names = dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(people))).all()) if people else {}
        overview = receipt_overview(db, document_id) if access.issuing_side(db, document, g.person.id) else None
        contacts = _recipients_contacts(db, document_id) if overview else {}
        attachments = list(document.attachments)
        steps = opinion_trail(db, instance_id) if instance_id else []  # 流程跟踪
        filed = db.scalar(select(ArchiveItem).join(RoleGrant, RoleGrant.unit_id == ArchiveItem.unit_id).where(
            ArchiveItem.document_id == document_id, RoleGrant.person_id == g.person.id).limit(1))
        forwarding = forward_links(db, document, g.person.id)  # 转发: from what, and the forwards of it
        forwardable = may_forward(db, document, db.get(Person, g.person.id))
    waits = [(name, names.get(assignee or person) or (role.label if role else ""), due)
             for name, assignee, person, role, due in waiting]
    return render_template("document.html", document=document, instance_id=instance_id, waits=waits, steps=steps,
                           overview=overview, contacts=contacts, attachments=attachments, filed=filed,
                           forwarding=forwarding, may_forward=forwardable,
                           now=clock.now())


def _recipients_contacts(db: Session, document_id: int) -> dict[int, list[DutyContact]]:
    """Each receipt's unit's duty contacts now, by receipt id: whom the sender calls to 及时联系."""
    unit_of = dict(db.execute(select(Receipt.id, Receipt.unit_id).where(Receipt.document_id == document_id)).all())
    registers = current_for_units(db, set(unit_of.values()))
    return {receipt_id: registers[unit_id] for receipt_id, unit_id in unit_of.items()}


def _instance_for(db: Session, document: Document) -> int | None:
    """The instance this person follows: the receiving unit's own, else the sender's."""
    mine = db.scalar(select(Receipt.incoming_instance_id).join(
        RoleGrant, RoleGrant.unit_id == Receipt.unit_id).where(
        Receipt.document_id == document.id, RoleGrant.person_id == g.person.id).order_by(Receipt.version.desc()))
    return mine or document.instance_id


@bp.route("/documents/<int:document_id>/pdf")
@login_required
def document_pdf(document_id: int) -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        document = or_404(access.readable_document, db, document_id, g.person.id)
        sha256 = document.sealed_sha256 or document.pdf_sha256
        if sha256 is None:
            if not document.title:
                abort(404)
            # Not typeset yet: reviewers and the signing leader read the draft as it will look.
            return Response(preview(db, document, draft_values(document)), mimetype="application/pdf")
    return Response(current_gongwen().files.get(sha256), mimetype="application/pdf")


@bp.route("/documents/<int:document_id>/attachments/<int:attachment_id>")
@login_required
def attachment(document_id: int, attachment_id: int) -> ResponseReturnValue:
    """One attachment, for whoever may read the document: its issuing units' people (the drafter, the
    reviewers, the signing leader) and the units it was sent to; 404 for anyone else. PDFs and pictures
    open in the browser, other files (DOCX, XLSX, OFD, ...) download under the name they were uploaded with."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        found = or_404(access.readable_attachment, db, document_id, attachment_id, g.person.id)
        return stored_file(db, found.sha256, found.filename)


def stored_file(db, sha256: str, filename: str) -> Response:
    """A stored file as its uploader named it: PDFs and pictures open in the browser, others download."""
    media_type = db.get(StoredFile, sha256).media_type
    shown = "inline" if media_type == "application/pdf" or media_type.startswith("image/") else "attachment"
    return Response(current_gongwen().files.get(sha256), mimetype=media_type,
                    headers={"Content-Disposition": f"{shown}; filename*=UTF-8''{quote(filename)}"})


@bp.route("/instances/<int:instance_id>")
@login_required
def instance_page(instance_id: int) -> ResponseReturnValue:
    """A process I took part in: its document's page, for a seal application its row in the list, for
    any other process (a leave application) its steps: who did each and when."""
    with current_gongwen().db.session() as db:
        try:
            access.followed_seal_application(db, instance_id, g.person.id)
            return redirect(url_for("seals.list_applications", _anchor=f"application-{instance_id}"))
        except NotFound:
            pass  # not a seal application they follow: a document's process, another process, or nothing of theirs
        try:
            instance = access.taken_part(db, instance_id, g.person.id)
        except NotFound:
            document = or_404(access.instance_document, db, instance_id, g.person.id)
            return redirect(url_for("documents.document_page", document_id=document.id))
        steps = db.scalars(select(Task).where(Task.instance_id == instance_id)
                           .order_by(Task.created_at, Task.name)).all()
        people = {s.completed_by_id for s in steps} | {instance.initiator_id}
        names = dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(people - {None}))).all())
        return render_template("instance.html", instance=instance, process=instance.definition.name, steps=steps,
                               names=names)


@bp.route("/instances/<int:instance_id>/progress")
@login_required
def instance_progress(instance_id: int) -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        or_404(access.own_instance, db, instance_id, g.person.id)
        return current_gongwen().runtime.progress(db, instance_id)


@bp.post("/receipts/<int:receipt_id>/chase")
@login_required
def chase_receipt(receipt_id: int) -> ResponseReturnValue:
    with current_gongwen().db.write() as db:
        receipt = or_404(access.chasable_receipt, db, receipt_id, g.person.id)
        try:
            chase(db, receipt_id, g.person.id)
            flash("已催签")
        except GongwenError as err:
            flash(str(err))
        target = receipt.document_id
    return redirect(url_for("documents.document_page", document_id=target))
