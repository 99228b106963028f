"""Pages for the three administrators (三员分立).

The system administrator has the process definitions, their versions and the modeler (every
deploy goes through the same checks as ``gongwen deploy``); the auditor has the audit log and its
chain check. None of these pages shows a business document's content.
"""

from __future__ import annotations

import functools
import io
from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select

from engine import audit
from engine.deploy import deploy
from engine.errors import DeployError
from engine.models import AuditEvent, Person, ProcessDefinition, Role, Unit

from . import current_gongwen
from .audit_labels import detail_items, event_label
from .auth import login_required
from .inbox import day_arg
from .params import as_id

bp = Blueprint("admin", __name__, url_prefix="/admin")


def requires(role: Role):
    """Only a holder of ``role`` may open the page; anyone else gets 403."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if role not in g.roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


system_admin = requires(Role.SYSTEM_ADMIN)


@bp.route("/processes")
@system_admin
def processes():
    with current_gongwen().db.session() as db:
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
        with current_gongwen().db.write() as db:
            results = deploy(db, [(file.filename, file.read())], actor_id=g.person.id)
        flash("；".join(r.describe() for r in results))
    except DeployError as err:
        flash(f"部署失败：{err}")
    return redirect(url_for("admin.processes"))


@bp.route("/processes/<process_id>/<int:version>.bpmn")
@system_admin
def download(process_id, version):
    with current_gongwen().db.session() as db:
        definition = db.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id,
                                                               ProcessDefinition.version == version))
        if definition is None:
            abort(404)
        content, filename = definition.source.content, definition.filename
    # send_file quotes the name and adds an RFC 5987 filename* for a Chinese one.
    return send_file(io.BytesIO(content), mimetype="application/xml", as_attachment=True, download_name=filename)


@bp.route("/processes/<process_id>/edit")
@system_admin
def edit(process_id):
    with current_gongwen().db.session() as db:
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
        with current_gongwen().db.write() as db:
            results = deploy(db, [(filename, xml.encode())], actor_id=g.person.id)
    except DeployError as err:
        return {"ok": False, "message": str(err), "element": err.element_id}, 422
    return {"ok": True, "deployed": [{**r.__dict__, "message": r.describe()} for r in results]}


AUDIT_PAGE = 50
# No event records the words of a document any more (engine.audit.record); events written before
# that did, under these keys, and the auditor must not read them there either.
CONTENT_KEYS = frozenset({"title", "text", "opinion", "body", "instruction", "note"})


def _shown(event: AuditEvent) -> dict:
    """The event's detail as the auditor sees it; a return's reason is the recipient's words."""
    hidden = CONTENT_KEYS | ({"reason"} if event.action.startswith("receipt.") else set())
    return {k: ("（内容不予显示）" if k in hidden else v) for k, v in event.detail.items()}


@bp.route("/audit")
@requires(Role.AUDITOR)
def audit_log():
    """The audit log, newest first, filtered by action, person, time and process; and the chain check."""
    args = request.args
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if args.get("action"):
        query = query.where(AuditEvent.action.startswith(args["action"]))
    if before := as_id(args.get("before")):
        query = query.where(AuditEvent.id < before)
    if instance := as_id(args.get("instance")):
        query = query.where(AuditEvent.instance_id == instance)
    since, until = day_arg("since"), day_arg("until")
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until + timedelta(days=1))
    with current_gongwen().db.session() as db:
        if args.get("login"):
            person = db.scalar(select(Person).where(Person.login == args["login"]))
            query = query.where(AuditEvent.actor_id == (person.id if person else -1))
        events = db.scalars(query).all()
        people = dict(db.execute(select(Person.id, Person.name)
                                 .where(Person.id.in_({e.actor_id for e in events if e.actor_id}))).all())
        units = dict(db.execute(select(Unit.id, Unit.name)
                                .where(Unit.id.in_({e.unit_id for e in events if e.unit_id}))).all())
        actions = db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
        chain = audit.verify(db) if args.get("check") else None
    rows = [(e, people.get(e.actor_id, ""), units.get(e.unit_id, ""), _shown(e)) for e in events]
    older = {**args.to_dict(), "before": events[-1].id} if len(events) == AUDIT_PAGE else None
    return render_template("admin/audit.html", rows=rows, actions=actions, chain=chain, args=args, older=older,
                           event_label=event_label, detail_items=detail_items)
