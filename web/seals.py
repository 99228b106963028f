"""Seal pages for units and issuing offices: apply for a seal, follow the applications, read the register.

A unit's seal keeper or clerk starts an application (its form opens as their first task; the head
and the issuing office act from their inboxes). The applications page lists the unit's own and, for
an issuing office, those sent to it. The register lists each seal's history: a unit's people see
their unit's seals, an issuing office's people also the seals it issued, the security officer all.
The system administrator and the auditor hold no business role and see none of it (三员分立).
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from engine import clock
from engine.errors import FormInvalid, GongwenError
from engine.models import Person, ProcessInstance, Role
from engine.registry import FORMS
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES
from handlers.seals.applications import (
    ACTIONS,
    REISSUE_REASONS,
    RETURN_REASONS,
    applications,
    followed_units,
    may_apply,
    start_application,
)
from handlers.seals.explanation import explanation_of, store_explanation
from handlers.seals.history import seal_history

from . import access, current_gongwen
from .auth import login_required
from .drafting import first_task
from .errors import or_404, refused
from .tasks import form_data
from .tasks import task as task_page

bp = Blueprint("seals", __name__, url_prefix="/seals")


@bp.app_template_global()
def seal_label(kind: str, key: str | None) -> str:
    """The words an applicant chose (``kind`` "action" or "reason"), for the pages that show an application."""
    labels = ACTIONS if kind == "action" else {**REISSUE_REASONS, **RETURN_REASONS}
    return labels.get(key or "", key or "")


@bp.post("/applications/new")
@login_required
def apply() -> ResponseReturnValue:
    """Start an application for my unit's seal and open its form; only its seal keeper or clerk may."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        allowed = may_apply(db, g.person.id, g.person.unit_id)
    if not allowed:
        abort(403)  # audited by the error page
    try:
        with gongwen.db.write() as db:
            instance_id = start_application(gongwen.runtime, db, db.get(Person, g.person.id))
    except GongwenError as err:
        refused("seal.apply_refused", reason=type(err).__name__)
        flash(f"未能发起印章申请：{err}")
        return redirect(url_for("seals.list_applications"))
    return first_task(instance_id)


@bp.get("/applications")
@login_required
def list_applications() -> ResponseReturnValue:
    """My units' applications, and for an issuing office those sent to it, with where each stands."""
    with current_gongwen().db.session() as db:
        units = followed_units(db, g.person.id)
        if not units:
            abort(403)
        own = applications(db, units)
        addressed = applications(db, units, addressed_to=True)
        can_apply = may_apply(db, g.person.id, g.person.unit_id)
    return render_template("seals/applications.html", own=own, addressed=addressed, can_apply=can_apply,
                           now=clock.now())


@bp.get("/register")
@login_required
def register() -> ResponseReturnValue:
    """The seal register with each seal's history, as far as the person may see it."""
    with current_gongwen().db.session() as db:
        if Role.SECURITY_OFFICER in g.roles:
            entries = seal_history(db)
        else:
            units = followed_units(db, g.person.id)
            if not units:
                abort(403)
            entries = seal_history(db, units=units)
    return render_template("seals/register.html", entries=entries)


@bp.post("/tasks/<uuid:task_id>/application")
@login_required
def submit_application(task_id: uuid.UUID) -> ResponseReturnValue:
    """The application form with the file its explanation may have: the file is checked and stored, then
    the task completes as on any task page (which does it all when no file came)."""
    gongwen = current_gongwen()
    upload = request.files.get("explanation_upload")
    with gongwen.db.session() as db:
        row = or_404(access.actionable_task, db, task_id, g.person.id)
        if row.form_key != "seal_request":
            abort(404)
        unit_id = db.get(ProcessInstance, row.instance_id).owning_unit_id
        spec = FORMS["seal_request"]
        data = form_data(spec, request.form)
        try:
            spec.load(data, offered=spec.offered(db, g.person.id, unit_id))
        except ValidationError:
            upload = None  # the task page lists what is wrong; a file is only kept with a valid form
    if upload is None or not upload.filename:
        return task_page(task_id=task_id)
    back = redirect(url_for("tasks.task", task_id=task_id))
    try:
        with gongwen.db.write() as db:
            data["explanation_file"], data["explanation_file_name"] = store_explanation(
                db, gongwen.files, instance_id=row.instance_id, person_id=g.person.id, filename=upload.filename,
                content=upload.read(), max_bytes=gongwen.settings.option(ATTACHMENT_MAX_BYTES))
    except GongwenError as err:
        refused("seal.explanation_refused", reason=type(err).__name__)
        flash(f"未提交：{err}")
        return back
    try:
        gongwen.runtime.complete(task_id, g.person.id, data)
    except (FormInvalid, GongwenError) as err:  # changed meanwhile (e.g. the seal was revoked)
        flash(f"未提交：{err}")
        return back
    flash(f"已办理：{row.name}")
    return redirect(url_for("inbox.index"))


@bp.get("/applications/<int:instance_id>/explanation")
@login_required
def explanation_file(instance_id: int) -> ResponseReturnValue:
    """The file attached to an application's explanation, for the unit and the issuing office."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        or_404(access.followed_seal_application, db, instance_id, g.person.id)
        found = explanation_of(db, instance_id) or abort(404)
    return Response(gongwen.files.get(found.sha256), mimetype=found.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}"})
