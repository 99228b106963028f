"""The archive step's journey: an own outgoing document archived by its issuing unit, and the deadline.

Once an outgoing document is dispatched, ``start_archiving`` (a service task of ``outgoing.bpmn``) starts
``outgoing_archive`` for the issuing unit: a process of its own, so the sender's instance still ends when
every recipient has signed, and the archivist's step neither waits for a late recipient nor holds up the
sender's tracking. Its 归档 step is due ``GONGWEN_ARCHIVE_DAYS`` working days after dispatch (default 10:
the notices ask for archiving "及时" without a number, and 随办随归 within two working weeks is the common
office rule; hand-over to the archives by the end of June of the next year is a later, separate duty).
The archivists are reminded from half-way, once a working day, at most three times; past the deadline the
inbox shows the step 超期. A received document's 归档 step (``incoming.bpmn``) is planned by the same step.
"""

from __future__ import annotations

from engine.config import option
from engine.registry import HandlerContext, handler

from ..documents.models import Document

ARCHIVE_DAYS = option("archive_days", "GONGWEN_ARCHIVE_DAYS", int, 10)
PROCESS_ID = "outgoing_archive"


@handler("start_archiving")
def start_archiving(ctx: HandlerContext, document_id: int) -> dict:
    """Start the issuing unit's 发文归档 of ``document_id`` in this step's transaction; returns its instance."""
    document = ctx.session.get(Document, document_id)
    instance_id = ctx.runtime.start(PROCESS_ID, owning_unit_id=document.issuing_unit_id,
                                    data={"document_id": document.id}, title=document.title,
                                    priority=document.urgency.rank, session=ctx.session)
    ctx.audit("archive.started", document_id=document.id, archive_instance_id=instance_id)
    return {"instance_id": instance_id}


@handler("plan_archiving")
def plan_archiving(ctx: HandlerContext) -> dict:
    """The 归档 step's deadline in working days from now, and when to start reminding: half-way there in
    working days, at the same time of day, so a reminder falls on a working day, not at a weekend."""
    days = ctx.settings.option(ARCHIVE_DAYS)
    due = ctx.calendar.add_working_days(ctx.now(), days)
    remind = ctx.calendar.add_working_days(ctx.now(), max(days // 2, 1)) if days > 1 else ctx.now()
    return {"archive_due": due.isoformat(), "remind_at": remind.isoformat()}
