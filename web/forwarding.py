"""转发 from a document's page, and the check of the original a covering notice carries.

``POST /documents/<id>/forward`` starts the covering notice as the asking person's draft and opens its 拟稿
step; only a drafter of a unit that signed for the document may (anyone else, the three administrators
included, meets a 404, audited, or for a unit's drafter before signing, a refusal in Chinese, audited, with
nothing started). ``/documents/<id>/forwarded-original`` shows whether the original's seal verifies on the very
bytes the notice carries, for whoever may read the notice.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import Refused
from engine.models import Person, Task, TaskState
from handlers.forwarding.forward import start_forward, verify_original

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404, refused

bp = Blueprint("forwarding", __name__)


@bp.post("/documents/<int:document_id>/forward")
@login_required
def forward(document_id: int) -> ResponseReturnValue:
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            original = or_404(access.readable_document, db, document_id, g.person.id)
            notice = start_forward(gongwen.runtime, db, original, db.get(Person, g.person.id))
            task_id = db.scalar(select(Task.id).where(Task.instance_id == notice.instance_id,
                                                      Task.state == TaskState.READY))
    except Refused as err:
        refused("document.forward.refused", document_id=document_id)
        flash(f"未转发：{err}")
        return redirect(url_for("documents.document_page", document_id=document_id))
    flash("已起草转发通知：请核对标题、正文和主送单位后提交；原件已作为附件1附上")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.get("/documents/<int:document_id>/forwarded-original")
@login_required
def forwarded_original(document_id: int) -> ResponseReturnValue:
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        notice = or_404(access.readable_document, db, document_id, g.person.id)
        original, report = or_404(verify_original, db, gongwen.files, notice)
        return render_template("forwarding/original.html", notice=notice, original=original, report=report)
