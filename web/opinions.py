"""常用意见 and handwritten signatures: a person's 个人设置 page for their saved opinions (and, for a unit's
办公室 leader, the unit's defaults), saving one from a task page, and the signature images in the trails.

Whoever has no business role (the three administrators) has no saved opinions and sees no signature: their
requests are refused (403, audited) or find nothing (404).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, NotFound, Refused
from engine.models import Unit
from handlers.opinions import saved
from handlers.opinions.models import MAX_LENGTH
from handlers.opinions.trail import signature_of

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .params import as_id

bp = Blueprint("opinions", __name__)


@bp.route("/settings/opinions")
@login_required
def settings() -> ResponseReturnValue:
    """个人设置 · 常用意见: one's own phrases, and the defaults of the units one keeps."""
    if g.person.unit_id is None:
        abort(403)
    with current_gongwen().db.session() as db:
        kept = saved.kept_units(db, g.person.id)
        units = dict(db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(kept))).all()) if kept else {}
        return render_template("opinions.html", own=saved.own(db, g.person.id), units=units,
                               defaults=saved.unit_defaults(db, kept), limit=saved.PERSONAL_LIMIT,
                               max_length=MAX_LENGTH)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/settings/opinions")
@login_required
def add() -> ResponseReturnValue:
    """Save a phrase: one's own, or with ``unit_id`` a default of a unit one keeps. From a task page (JSON
    asked for) the answer is JSON with a Chinese ``message``; from the settings page, back to it."""
    unit_text = request.form.get("unit_id", "")
    unit_id = as_id(unit_text)
    try:
        if unit_text and unit_id is None:
            raise Forbidden("没有这个单位")
        with current_gongwen().db.write() as db:
            row = saved.add(db, g.person.id, request.form.get("text"), unit_id=unit_id)
            text = row.text
    except Forbidden as err:
        refused("opinion.refused", reason=str(err))
        return _answer(str(err), 403)
    except (Refused, Conflict) as err:
        return _answer(str(err), 422)
    return _answer("已存为常用意见", 200, text)


def _answer(message: str, status: int, text: str = "") -> ResponseReturnValue:
    if _wants_json():
        return jsonify(message=message, text=text), status
    flash(message)
    return redirect(url_for("opinions.settings"))


@bp.post("/settings/opinions/<int:opinion_id>/delete")
@login_required
def remove(opinion_id: int) -> ResponseReturnValue:
    """Remove one of one's own phrases or a default of a unit one keeps; anyone else's is a 404."""
    with current_gongwen().db.write() as db:
        or_404(saved.remove, db, g.person.id, opinion_id)
    flash("已删除")
    return redirect(url_for("opinions.settings"))


@bp.route("/signatures/<uuid:task_id>")
@login_required
def signature(task_id: uuid.UUID) -> ResponseReturnValue:
    """The handwritten signature a step kept, for the people who see that step in its trail; 404 for others."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        step = or_404(access.signed_step, db, task_id, g.person.id)
        sha256 = signature_of(step)
    try:
        return Response(gongwen.files.get(sha256), mimetype="image/png")
    except NotFound:
        abort(404)
