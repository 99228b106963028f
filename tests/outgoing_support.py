"""Driving the outgoing process in tests: start a document, act as a person, read the trail.

Starting and acting come from :mod:`web.demo_documents`, which drives the demo's documents
the same way.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Task, TaskState
from handlers.documents.models import Document
from web.demo_documents import act, task_of
from web.demo_documents import start_draft as start

__all__ = ["NOTICE", "act", "document", "send", "start", "task_of", "trail"]

NOTICE = {
    "doc_type": "notice", "direction": "downward", "urgency": "normal", "classification": "非密",
    "title": "连云港市人民政府办公室关于做好冬季安全生产工作的通知",
    "body": "为做好今冬明春安全生产工作，现将有关事项通知如下。\n一、压实安全责任\n请各地于12月底前完成排查。",
}


def send(gongwen, org, *, drafter="lyg.drafter", main_to=("donghai_office",), document_id: int | None = None,
         **changes) -> Document:
    """A notice from the city office (or ``drafter``'s county) through to dispatch; the seals must exist.

    ``document_id``: a document already started, waiting at 拟稿.
    """
    head, reviewer, signer, sealer = {"lyg": ("lyg.head", "lyg.reviewer", "lyg.signer", "lyg.sealer"),
                                      "dh": ("dh.head", "dh.head", "dh.leader", "dh.drafter")}[drafter.split(".")[0]]
    author = org.person(drafter)
    document_id = document_id or start(gongwen, author).id
    act(gongwen, author, "拟稿", {**NOTICE, "main_to": [org.unit(u).id for u in main_to], **changes})
    act(gongwen, org.person(head), "部门审核", {"decision": "approve"})
    act(gongwen, org.person(reviewer), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person(signer), "签发", {"decision": "approve"})
    act(gongwen, author, "校对", {"decision": "ok"})
    act(gongwen, org.person(sealer), "用印", {"confirm": True})
    return document(gongwen, document_id)


def document(gongwen, document_id: int) -> Document:
    with gongwen.db.session() as session:
        doc = session.get(Document, document_id)
        _ = doc.issuers, doc.attachments
        return doc


def trail(gongwen, instance_id: int) -> list[tuple[str, int, dict]]:
    """(step, who, form data) of every completed task, in order."""
    with gongwen.db.session() as session:
        rows = session.execute(select(Task.name, Task.completed_by_id, Task.form_data).where(
            Task.instance_id == instance_id, Task.state == TaskState.COMPLETED).order_by(Task.completed_at)).all()
    return [tuple(r) for r in rows]
