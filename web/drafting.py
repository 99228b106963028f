"""Starting something from the inbox, and the drafter's tools while drafting.

A new document (its 拟稿 task opens), a leave application (its first form opens), and for the
drafter of a document: adding attachments and previewing the PDF from the form as filled in.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select

from engine.errors import GongwenError, Refused
from engine.models import Person, Task, TaskState
from engine.registry import FORMS
from handlers.documents.attachments import (
    ATTACHMENT_MAX_BYTES,
    add_attachment,
    remove_attachment,
    replace_attachment,
)
from handlers.documents.drafting import start_outgoing
from handlers.documents.layout import preview
from handlers.exchange.holdings import document_for_instance

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .tasks import form_data, task_page

bp = Blueprint("drafting", __name__)


def first_task(instance_id: int) -> ResponseReturnValue:
    """The new instance's first ready task, opened."""
    with current_gongwen().db.session() as db:
        first = db.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY))
    if first is None:  # the process went on without anyone (or stopped on an incident the administrator sees)
        flash("已发起，当前没有需要您办理的步骤")
        return redirect(url_for("inbox.index", view="doing"))
    return redirect(url_for("tasks.task", task_id=first))


@bp.post("/documents/new")
@login_required
def new_document() -> ResponseReturnValue:
    """Start a draft in my unit and open its 拟稿 task."""
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            document = start_outgoing(gongwen.runtime, db, db.get(Person, g.person.id))
            instance_id = document.instance_id
    except GongwenError as err:
        flash(str(err))
        return redirect(url_for("inbox.index"))
    return first_task(instance_id)


@bp.route("/leave/new", methods=["POST"])
@login_required
def start_leave() -> ResponseReturnValue:
    person = g.person
    if person.unit_id is None:
        abort(403)
    try:
        instance_id = current_gongwen().runtime.start("leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                                                      data={"department_id": person.department_id},
                                                      title=f"{person.name}的请假申请")
    except GongwenError as err:
        flash(f"未能发起请假：{err}")
        return redirect(url_for("inbox.index"))
    return first_task(instance_id)


@bp.post("/tasks/<uuid:task_id>/attachments", defaults={"attachment_id": None, "action": "add"})
@bp.post("/tasks/<uuid:task_id>/attachments/<int:attachment_id>/<any(remove, replace):action>")
@login_required
def change_attachments(task_id: uuid.UUID, attachment_id: int | None, action: str) -> ResponseReturnValue:
    """Add, remove or replace an attachment from the 拟稿 page, whose form came along: the page comes back
    with everything typed in it, the change or the refusal (in Chinese, audited, nothing changed) flashed.

    Only the person who may complete the document's ready 拟稿 task reaches this (404 otherwise), and
    only while the document is not signed off (``handlers.documents.attachments``).
    """
    gongwen = current_gongwen()
    upload = request.files.get("attachment_file")
    try:
        with gongwen.db.write() as db:
            row = or_404(access.actionable_task, db, task_id, g.person.id)
            document = document_for_instance(db, row.instance_id) if row.form_key == "outgoing_draft" else None
            if document is None:
                abort(404)
            limit = gongwen.settings.option(ATTACHMENT_MAX_BYTES)
            if action == "remove":
                changed = remove_attachment(db, document, attachment_id)
            elif upload is None or not upload.filename:
                raise Refused("请先选择文件")
            elif action == "replace":
                changed = replace_attachment(db, gongwen.files, document, attachment_id, filename=upload.filename,
                                             content=upload.read(), max_bytes=limit)
            else:
                changed = add_attachment(db, gongwen.files, document,
                                         name=request.form.get("attachment_name") or upload.filename,
                                         filename=upload.filename, content=upload.read(), max_bytes=limit)
        flash(f"已{ {'add': '添加', 'remove': '删除', 'replace': '替换'}[action] }附件：{changed.name}")
    except GongwenError as err:
        refused("attachment.refused", change=action, reason=type(err).__name__)
        flash(f"附件未更改：{err}")
    return task_page(task_id, request.form)


@bp.post("/documents/<int:document_id>/preview")
@login_required
def preview_document(document_id: int) -> ResponseReturnValue:
    """The PDF as the draft would look now, from the form as filled in; nothing is saved."""
    with current_gongwen().db.session() as db:
        document = or_404(access.own_draft, db, document_id, g.person.id)
        try:
            spec = FORMS["outgoing_draft"]
            values = spec.load(form_data(spec, request.form),
                               offered=spec.offered(db, g.person.id, document.issuing_unit_id))
            pdf = preview(db, document, values)
        except (ValidationError, GongwenError) as err:
            message = err.messages if isinstance(err, ValidationError) else str(err)
            return render_template("preview_error.html", message=message), 422
    return Response(pdf, mimetype="application/pdf")
