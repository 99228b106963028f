"""外来文登记: a clerk registers a document from outside Gongwen or on paper, and its people read it.

``/external/new`` is the form (the scan, the editable file, the sender organ, its number, date, urgency
and a non-classified level) for the unit's clerks (收发员) only; anyone else, the three administrators
included, meets a 404 (audited). A refused registration comes back on the form with the reason in
Chinese, audited as a refusal, and saves nothing. ``/external/<id>/pdf`` (the searchable scan, else
the scan) and ``/external/<id>/editable`` are for the people of the registering unit only.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from engine import clock
from engine.errors import Refused
from handlers.documents.models import CLASSIFICATIONS, Urgency
from handlers.incoming.external import (
    EXTERNAL_MAX_BYTES,
    Received,
    archival_pdf,
    can_read_external,
    clerk_units,
    register_external,
)
from handlers.incoming.models import ExternalDocument

from . import current_gongwen
from .auth import login_required
from .errors import refused

bp = Blueprint("external", __name__, url_prefix="/external")
FIELDS = ("title", "sender_organ", "sender_number", "written_on", "urgency", "classification")
EDITABLE_MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "doc": "application/msword", "wps": "application/vnd.ms-works", "txt": "text/plain; charset=utf-8"}


def received(upload: FileStorage | None) -> Received | None:
    """A posted file as the registration takes it; None when the field was not sent."""
    if upload is None:
        return None
    return Received(upload.read(), upload.filename or "")


def _clerk_unit() -> int:
    """The asking person's unit, where they are a clerk; a 404 (audited) for anyone else."""
    with current_gongwen().db.session() as db:
        units = clerk_units(db, g.person.id)
    if g.person.unit_id not in units:
        g.access_refused = True
        abort(404)
    return g.person.unit_id


def _form(values: dict, error: str | None = None) -> ResponseReturnValue:
    return render_template("external/new.html", values=values, error=error, urgencies=list(Urgency),
                           classifications=CLASSIFICATIONS, today=clock.local_today().isoformat(),
                           max_size=current_gongwen().settings.option(EXTERNAL_MAX_BYTES)), 422 if error else 200


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    _clerk_unit()
    return _form({"urgency": Urgency.NORMAL.value, "classification": next(iter(CLASSIFICATIONS)), "paper": "1"})


@bp.post("/new")
@login_required
def create() -> ResponseReturnValue:
    """Register it and start its handling; the clerk goes on to 分办 in their inbox."""
    unit_id = _clerk_unit()
    values = {name: request.form.get(name, "") for name in FIELDS}
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            external = register_external(
                gongwen.runtime, db, gongwen.files, person_id=g.person.id, unit_id=unit_id, values=values,
                scan=received(request.files.get("scan")), editable=received(request.files.get("editable")),
                paper=request.form.get("paper") == "1", max_bytes=gongwen.settings.option(EXTERNAL_MAX_BYTES))
            number = external.id
    except Refused as err:
        refused("external.register_refused")
        return _form({**values, "paper": request.form.get("paper", "")}, str(err))
    flash(f"外来文已登记（登记号 {number}），请在待办中分办；扫描件正在进行文字识别，完成后可按正文检索")
    return redirect(url_for("inbox.index"))


def _readable(external_id: int) -> ExternalDocument:
    with current_gongwen().db.session() as db:
        external = db.get(ExternalDocument, external_id)
        if external is None or not can_read_external(db, external, g.person.id):
            g.access_refused = True
            abort(404)
        return external


@bp.get("/<int:external_id>/pdf")
@login_required
def pdf(external_id: int) -> ResponseReturnValue:
    """The scan, searchable once its OCR is done, as a PDF."""
    external = _readable(external_id)
    content = archival_pdf(current_gongwen().files, external)
    return content, 200, {"Content-Type": "application/pdf",
                          "Content-Disposition": f"inline; filename=external-{external.id}.pdf"}


@bp.get("/<int:external_id>/editable")
@login_required
def editable(external_id: int) -> ResponseReturnValue:
    """The editable file as the sender gave it."""
    external = _readable(external_id)
    if not external.editable_sha256:
        abort(404)
    return current_gongwen().files.get(external.editable_sha256), 200, {
        "Content-Type": EDITABLE_MEDIA[external.editable_kind],
        "Content-Disposition": f"attachment; filename=external-{external.id}.{external.editable_kind}"}
