"""Pages for the system administrator: process definitions, their versions and the modeler.

Under 三员分立 these pages offer no business document; the definitions are data about
processes, not documents. Every deploy goes through the same checks as ``gongwen deploy``.
"""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from engine.core import Gongwen
from engine.deploy import deploy
from engine.errors import DeployError
from engine.models import ProcessDefinition, Role
from engine.organisation import holds

from .pages import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _gongwen() -> Gongwen:
    return current_app.extensions["gongwen"]


def system_admin(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        with _gongwen().db.session() as db:
            if not holds(db, g.person.id, Role.SYSTEM_ADMIN):
                abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/processes")
@system_admin
def processes():
    with _gongwen().db.session() as db:
        latest = select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version")) \
            .group_by(ProcessDefinition.process_id).subquery()
        rows = db.scalars(select(ProcessDefinition).join(latest, (ProcessDefinition.process_id == latest.c.process_id)
                                                         & (ProcessDefinition.version == latest.c.version))
                          .order_by(ProcessDefinition.process_id)).all()
    return render_template("admin/processes.html", definitions=rows)


@bp.post("/processes/upload")
@system_admin
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择 .bpmn 文件")
        return redirect(url_for("admin.processes"))
    try:
        with _gongwen().db.write() as db:
            results = deploy(db, [(file.filename, file.read())], actor_id=g.person.id)
        flash("；".join(r.describe() for r in results))
    except DeployError as err:
        flash(f"部署失败：{err}")
    return redirect(url_for("admin.processes"))


@bp.route("/processes/<process_id>/<int:version>.bpmn")
@system_admin
def download(process_id, version):
    with _gongwen().db.session() as db:
        definition = db.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id,
                                                               ProcessDefinition.version == version))
        if definition is None:
            abort(404)
        content, filename = definition.source.content, definition.filename
    return Response(content, mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/processes/<process_id>/edit")
@system_admin
def edit(process_id):
    with _gongwen().db.session() as db:
        definition = db.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                               .order_by(ProcessDefinition.version.desc()).limit(1))
        if definition is None:
            abort(404)
    return render_template("admin/modeler.html", definition=definition)


@bp.post("/processes/deploy")
@system_admin
def deploy_from_modeler():
    """The modeler's save: JSON {filename, xml}; errors name the element so the page can highlight it."""
    body = request.get_json(silent=True) or {}
    xml, filename = body.get("xml", ""), body.get("filename") or "diagram.bpmn"
    try:
        with _gongwen().db.write() as db:
            results = deploy(db, [(filename, xml.encode())], actor_id=g.person.id)
    except DeployError as err:
        return {"ok": False, "message": str(err), "element": err.element_id}, 422
    return {"ok": True, "deployed": [{**r.__dict__, "message": r.describe()} for r in results]}
