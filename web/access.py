"""Who may see or act on what: the one answer for pages and the API alike.

Each function takes the database session and the asking person's id, and either returns
the thing asked for or raises ``engine.errors.NotFound``: a document or task outside one's
reach does not exist for them, so an outsider cannot tell "not yours" from "no such thing".
Pages answer NotFound with a 404 page (``web.errors.or_404``), the API with a JSON 404.
The rules themselves live with their domain: ``handlers.exchange.holdings`` says who holds
a document, ``engine.inbox`` who may act on a task.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inbox
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import ProcessInstance, Task, TaskState
from engine.organisation import works_in
from handlers.documents.models import Attachment, Document
from handlers.exchange.holdings import can_read, document_for_instance
from handlers.exchange.models import Receipt
from handlers.opinions.trail import signature_of
from handlers.seals.applications import PROCESS_ID as SEAL_PROCESS
from handlers.seals.applications import followed_units

NO_TASK = "没有这个任务"
NO_DOCUMENT = "没有这份公文"


def reachable_task(db: Session, task_id: uuid.UUID, person_id: int) -> Task:
    """The ready task if it is within the person's reach (their roles and units, or offered to them).

    NotFound when it is missing, no longer ready, or out of reach (a frozen account reaches
    nothing). Conflict, from ``engine.inbox.ensure_can_act``, when someone else has taken it:
    for claiming and handing on, where the person is told it is too late.
    """
    task = db.get(Task, task_id)
    if task is None or task.state != TaskState.READY:
        raise NotFound(NO_TASK)
    try:
        inbox.ensure_can_act(db, task, person_id)
    except Forbidden:
        raise NotFound(NO_TASK) from None
    return task


def actionable_task(db: Session, task_id: uuid.UUID, person_id: int) -> Task:
    """The ready task the person may complete now; NotFound otherwise, including when someone else took it."""
    try:
        return reachable_task(db, task_id, person_id)
    except Conflict:
        raise NotFound(NO_TASK) from None


def readable_document(db: Session, document_id: int, person_id: int) -> Document:
    """The document if the person works in a unit that issued it or received it; NotFound otherwise."""
    return _readable(db, db.get(Document, document_id), person_id)


def readable_attachment(db: Session, document_id: int, attachment_id: int, person_id: int) -> Attachment:
    """An attachment of a document the person may read (``readable_document``); NotFound otherwise."""
    document = readable_document(db, document_id, person_id)
    found = next((a for a in document.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound("没有这个附件")
    return found


def instance_document(db: Session, instance_id: int, person_id: int) -> Document:
    """The document an instance drafts or received, if readable as above; NotFound otherwise."""
    return _readable(db, document_for_instance(db, instance_id), person_id)


def own_instance(db: Session, instance_id: int, person_id: int) -> ProcessInstance:
    """An instance of the person's own unit whose document they may read; NotFound otherwise.

    How a unit works a document internally (its steps, who holds them) is its own business:
    the sender sees its receipts, never the recipient's process, and the other way round.
    """
    instance_document(db, instance_id, person_id)
    instance = db.get(ProcessInstance, instance_id)
    if instance is None or not works_in(db, person_id, {instance.owning_unit_id}):
        raise NotFound(NO_DOCUMENT)
    return instance


def taken_part(db: Session, instance_id: int, person_id: int) -> ProcessInstance:
    """A process without a document (a leave application, an approval) that the person started or
    completed a step of; NotFound otherwise, and for a document's process (its page says who may read it)."""
    instance = db.get(ProcessInstance, instance_id)
    if instance is None or document_for_instance(db, instance_id) is not None:
        raise NotFound("没有这个流程")
    if instance.initiator_id != person_id and db.scalar(
            select(Task.id).where(Task.instance_id == instance_id, Task.completed_by_id == person_id).limit(1)) is None:
        raise NotFound("没有这个流程")
    return instance


def _readable(db: Session, document: Document | None, person_id: int) -> Document:
    if document is None or not can_read(db, document, person_id):
        raise NotFound(NO_DOCUMENT)
    return document


def issuing_side(db: Session, document: Document, person_id: int) -> bool:
    """Whether the person works in one of the document's issuing units: the sender, who follows the receipts."""
    return works_in(db, person_id, {i.unit_id for i in document.issuers})


def drafting_history(db: Session, document_id: int, person_id: int) -> Document:
    """A document whose drafting history (留痕: its revisions, 花脸稿, 清稿) the person may read; NotFound otherwise.

    Only its issuing units' people: a recipient unit holds the sealed document, not how its wording came about,
    and the administrators reach no document at all.
    """
    document = readable_document(db, document_id, person_id)
    if not issuing_side(db, document, person_id):
        raise NotFound(NO_DOCUMENT)
    return document


def chasable_receipt(db: Session, receipt_id: int, person_id: int) -> Receipt:
    """A receipt of a document the person's unit issued, so theirs to chase; NotFound otherwise."""
    receipt = db.get(Receipt, receipt_id)
    document = db.get(Document, receipt.document_id) if receipt else None
    if document is None or not issuing_side(db, document, person_id):
        raise NotFound("没有这份回执")
    return receipt


def own_draft(db: Session, document_id: int, person_id: int) -> Document:
    """A document the person is the drafter of (to add attachments, to preview); NotFound otherwise."""
    document = db.get(Document, document_id)
    if document is None or document.drafter_id != person_id:
        raise NotFound(NO_DOCUMENT)
    return document


def followed_seal_application(db: Session, instance_id: int, person_id: int) -> ProcessInstance:
    """A seal application of a unit whose seals the person follows, or one sent to such a unit to issue.

    NotFound otherwise: another unit's application does not exist for them, nor for the three administrators.
    """
    instance = db.get(ProcessInstance, instance_id)
    units = followed_units(db, person_id)
    if instance is None or instance.process_id != SEAL_PROCESS or not units:
        raise NotFound("没有这件申请")
    if instance.owning_unit_id not in units and db.scalar(select(Task.id).where(
            Task.instance_id == instance_id, Task.form_key == "seal_approval",
            Task.candidate_unit_id.in_(units)).limit(1)) is None:
        raise NotFound("没有这件申请")
    return instance


def signed_step(db: Session, task_id: uuid.UUID, person_id: int) -> Task:
    """A completed step that kept a handwritten signature, in a process of the person's own unit whose document
    they may read (``own_instance``: the same people who see the step in the trail); NotFound otherwise."""
    task = db.get(Task, task_id)
    if task is None or task.state != TaskState.COMPLETED or signature_of(task) is None:
        raise NotFound("没有这个签名")
    own_instance(db, task.instance_id, person_id)
    return task
