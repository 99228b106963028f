"""Pages for people: log in, the inbox, a task's form, starting a leave application.

Every page needs a logged-in, active person, and every action is checked against
that person's roles and units by the engine, not by what the page happened to show.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from marshmallow import ValidationError, fields
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine import clock, inbox, organisation
from engine.errors import Conflict, Forbidden, FormInvalid, GongwenError, NotFound, Refused
from engine.models import Person, PersonStatus, ProcessInstance, RoleGrant, Task, TaskState
from engine.organisation import roles_of, works_in
from engine.registry import FORMS
from forms.choices import people
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES, add_attachment
from handlers.documents.drafting import draft_values, start_outgoing
from handlers.documents.layout import preview
from handlers.documents.models import Document
from handlers.exchange.holdings import can_read, document_for_instance
from handlers.exchange.models import Receipt
from handlers.exchange.receipts import chase, receipt_overview
from handlers.exchange.sign_for import check_before_signing
from handlers.notifications import tell as notifications

from . import current_gongwen

bp = Blueprint("pages", __name__)
IDLE_TIMEOUT = timedelta(minutes=30)


@bp.before_app_request
def _load_person() -> None:
    g.person = None
    person_id, last_seen = session.get("person_id"), session.get("last_seen")
    if person_id is None:
        return
    now = clock.now()
    if last_seen is None or now.timestamp() - last_seen > IDLE_TIMEOUT.total_seconds():
        session.clear()
        flash("长时间未操作，请重新登录")
        return
    with current_gongwen().db.session() as db:
        person = db.get(Person, person_id)
        if person is None or person.status != PersonStatus.ACTIVE:
            session.clear()
            return
        g.person = person
        g.task_count = inbox.task_count(db, person.id)
        g.roles = roles_of(db, person.id)
    session["last_seen"] = now.timestamp()


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.person is None:
            return redirect(url_for("pages.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        with current_gongwen().db.write() as db:
            result = organisation.authenticate(db, request.form.get("login", ""), request.form.get("password", ""))
            person_id = result.person.id if result.person else None
        if person_id is None:
            return render_template("login.html", error=result.refusal), 401
        session.clear()
        session.update(person_id=person_id, last_seen=clock.now().timestamp())
        target = request.args.get("next", "")
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("pages.index"))
    return render_template("login.html")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password: the current one, and the new one twice."""
    error = None
    if request.method == "POST":
        form = request.form
        if form.get("new", "") != form.get("repeat", ""):
            error = "两次输入的新密码不一致"
        else:
            try:
                with current_gongwen().db.write() as db:
                    organisation.change_own_password(db, db.get(Person, g.person.id), form.get("current", ""),
                                                     form.get("new", ""))
                flash("密码已修改")
                return redirect(url_for("pages.index"))
            except GongwenError as err:
                error = str(err)
    return render_template("password.html", error=error), 422 if error else 200


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.login"))


VIEWS = {"todo": "待办", "doing": "在办", "done": "已办", "finished": "办结"}
PAGE_SIZE = 20


def day_arg(name: str) -> datetime | None:
    """The start (Beijing time) of the day given as ``name`` in the query string, if it is a date."""
    try:
        return datetime.combine(date.fromisoformat(request.args[name]), time(0), clock.SHANGHAI)
    except (KeyError, ValueError):
        return None


@bp.route("/")
@login_required
def index():
    view = request.args.get("view", "todo") if request.args.get("view") in VIEWS else "todo"
    page = max(request.args.get("page", 1, type=int), 1)
    text = request.args.get("q", "").strip() or None
    since, until = day_arg("since"), day_arg("until")
    until = until + timedelta(days=1) if until else None
    window = {"limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    with current_gongwen().db.session() as db:
        if view == "todo":
            rows = inbox.ready_tasks(db, g.person.id, text=text, **window)
        elif view == "done":
            rows = inbox.completed_tasks(db, g.person.id, text=text, since=since, until=until, **window)
        else:
            rows = inbox.instances_taken_part_in(db, g.person.id, finished=view == "finished", text=text,
                                                 since=since, until=until, **window)
        ids = {getattr(r, "instance_id", None) or r.id for r in rows}
        found = db.execute(select(ProcessInstance.id, ProcessInstance.title, ProcessInstance.priority)
                           .where(ProcessInstance.id.in_(ids))).all() if ids else []
        titles = {i: title for i, title, _ in found}
        priorities = {i: priority for i, _, priority in found}
        notes = notifications.latest(db, g.person.id)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    template = "_rows.html" if request.args.get("fragment") else "inbox.html"
    return render_template(template, view=view, views=VIEWS, rows=rows, titles=titles, priorities=priorities,
                           notes=notes, now=clock.now(), page=page, more=more, q=text or "",
                           since=request.args.get("since", ""), until=request.args.get("until", ""))


@bp.route("/inbox/count")
@login_required
def inbox_count():
    """How many ready tasks I have: the inbox page asks every few seconds to show arrivals live."""
    return {"count": g.task_count}


@bp.route("/tasks/<uuid:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id):
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        row = db.get(Task, task_id)
        if row is None or row.state != TaskState.READY:
            abort(404)
        try:
            inbox.ensure_can_act(db, row, g.person.id)
        except (Forbidden, Conflict):
            abort(404)  # a task outside one's reach does not exist for them
        instance = db.get(ProcessInstance, row.instance_id)
        trail = inbox.trail(db, row.instance_id)
        document = document_for_instance(db, row.instance_id)
        attachments = list(document.attachments) if document is not None else []
        report = check_before_signing(db, gongwen.files, document) \
            if document is not None and document.sealed_sha256 and row.form_key == "incoming_sign_for" else None
        spec = FORMS[row.form_key]
        choices = spec.choices(db, g.person.id, instance.owning_unit_id) if spec.choices else {}
        values = request.form if request.method == "POST" else _saved_draft(row, document)
        colleagues = [(pid, name) for pid, name in people(db, row.candidate_unit_id) if pid != g.person.id] \
            if row.candidate_unit_id else []
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            gongwen.runtime.complete(task_id, g.person.id, _form_data(spec, request.form))
            flash(f"已办理：{row.name}")
            return redirect(url_for("pages.index"))
        except FormInvalid as err:
            errors = err.errors
        except (Conflict, NotFound, Forbidden) as err:
            flash(str(err))
            return redirect(url_for("pages.index"))
        except GongwenError as err:
            flash(str(err))
    return render_template(spec.template, task=row, instance=instance, form=spec, values=values, errors=errors,
                           trail=trail, document=document, attachments=attachments, report=report,
                           choices=choices, colleagues=colleagues), 422 if errors else 200


@bp.post("/tasks/<uuid:task_id>/<any(claim, unclaim, delegate):action>")
@login_required
def task_action(task_id, action):
    """Take a shared task as mine, put it back for the others, or hand it to a colleague."""
    try:
        with current_gongwen().db.write() as db:
            row = db.get(Task, task_id)
            if row is None or row.state != TaskState.READY:
                abort(404)
            try:
                inbox.ensure_can_act(db, row, g.person.id)
            except Forbidden:
                abort(404)  # as on the task page: a task outside one's reach does not exist for them
            if action == "claim":
                inbox.claim(db, task_id, g.person.id)
            elif action == "unclaim":
                inbox.unclaim(db, task_id, g.person.id)
            else:
                to = int(request.form.get("to_person_id", "0") or 0)
                inbox.delegate(db, task_id, g.person.id, to)
    except (Conflict, Forbidden, NotFound) as err:
        flash(str(err))
        return redirect(url_for("pages.index"))
    except ValueError:
        flash("请选择转交给谁")
        return redirect(url_for("pages.task", task_id=task_id))
    flash({"claim": "已由您办理，其他人的待办中不再显示", "unclaim": "已放回，本单位有权办理的人都能看到",
           "delegate": "已转交"}[action])
    return redirect(url_for("pages.task", task_id=task_id) if action == "claim" else url_for("pages.index"))


def _saved_draft(task: Task, document: Document | None) -> MultiDict:
    """A returned draft opens with what was drafted before, not an empty form."""
    if task.form_key != "outgoing_draft" or document is None or not document.title:
        return MultiDict()
    values = MultiDict()
    for name, value in draft_values(document).items():
        if isinstance(value, list):
            for item in value:
                values.add(name, str(item))
        elif isinstance(value, bool):
            values.add(name, "true" if value else "")
        else:
            values.add(name, value)
    return values


def _form_data(spec, form: MultiDict) -> dict:
    """The posted fields the form declares: lists as lists, blanks left out so defaults apply."""
    data = {}
    for name, field in spec.schema._declared_fields.items():
        if isinstance(field, fields.List):
            if name in form:
                data[name] = [v for v in form.getlist(name) if v != ""]
        elif form.get(name, "") != "":
            data[name] = form[name]
    return data


def _readable(db, document: Document | None) -> Document:
    """``document`` if the person may read it; otherwise 404, as if it did not exist."""
    if document is None or not can_read(db, document, g.person.id):
        abort(404)
    return document


@bp.route("/documents/<int:document_id>/pdf")
@login_required
def document_pdf(document_id):
    with current_gongwen().db.session() as db:
        document = _readable(db, db.get(Document, document_id))
        sha256 = document.sealed_sha256 or document.pdf_sha256
        if sha256 is None:
            if not document.title:
                abort(404)
            # Not typeset yet: reviewers and the signing leader read the draft as it will look.
            return Response(preview(db, document, draft_values(document)), mimetype="application/pdf")
    return Response(current_gongwen().files.get(sha256), mimetype="application/pdf")


@bp.route("/leave/new", methods=["POST"])
@login_required
def start_leave():
    person = g.person
    if person.unit_id is None:
        abort(403)
    gongwen = current_gongwen()
    instance_id = gongwen.runtime.start("leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                                        data={"department_id": person.department_id},
                                        title=f"{person.name}的请假申请")
    with gongwen.db.session() as db:
        first = db.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY))
    return redirect(url_for("pages.task", task_id=first))


@bp.post("/documents/new")
@login_required
def new_document():
    """Start a draft in my unit and open its 拟稿 task."""
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            document = start_outgoing(gongwen.runtime, db, db.get(Person, g.person.id))
            instance_id = document.instance_id
    except GongwenError as err:
        flash(str(err))
        return redirect(url_for("pages.index"))
    with gongwen.db.session() as db:
        first = db.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY))
    return redirect(url_for("pages.task", task_id=first))


def _own_draft(db, document_id: int) -> Document:
    """A document I am drafting, else 404."""
    document = db.get(Document, document_id)
    if document is None or document.drafter_id != g.person.id:
        abort(404)
    return document


@bp.post("/documents/<int:document_id>/attachments")
@login_required
def add_document_attachment(document_id):
    gongwen = current_gongwen()
    upload = request.files.get("file")
    try:
        with gongwen.db.write() as db:
            document = _own_draft(db, document_id)
            if upload is None or not upload.filename:
                raise Refused("请选择要上传的附件")
            add_attachment(db, gongwen.files, document, name=request.form.get("name") or upload.filename,
                           filename=upload.filename, content=upload.read(),
                           max_bytes=gongwen.settings.option(ATTACHMENT_MAX_BYTES))
        flash(f"已添加附件：{upload.filename}")
    except GongwenError as err:
        flash(str(err))
    return redirect(request.referrer or url_for("pages.index"))


@bp.post("/documents/<int:document_id>/preview")
@login_required
def preview_document(document_id):
    """The PDF as the draft would look now, from the form as filled in; nothing is saved."""
    with current_gongwen().db.session() as db:
        document = _own_draft(db, document_id)
        try:
            values = FORMS["outgoing_draft"].load(_form_data(FORMS["outgoing_draft"], request.form))
            pdf = preview(db, document, values)
        except (ValidationError, GongwenError) as err:
            message = err.messages if isinstance(err, ValidationError) else str(err)
            return render_template("preview_error.html", message=message), 422
    return Response(pdf, mimetype="application/pdf")


VENDOR = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_FILES = ("bpmn-js/dist/",)


@bp.route("/vendor/<path:filename>")
def vendor(filename):
    """Browser libraries installed from npm (never copied into the repository)."""
    if not filename.startswith(VENDOR_FILES):
        abort(404)
    return send_from_directory(VENDOR, filename, max_age=86400)


def _instance_for(db, document: Document) -> int | None:
    """The instance this person follows: the receiving unit's own, else the sender's."""
    mine = db.scalar(select(Receipt.incoming_instance_id).join(
        RoleGrant, RoleGrant.unit_id == Receipt.unit_id).where(
        Receipt.document_id == document.id, RoleGrant.person_id == g.person.id).order_by(Receipt.version.desc()))
    return mine or document.instance_id


@bp.route("/documents/<int:document_id>")
@login_required
def document_page(document_id):
    """Where is it now: the diagram with done and waiting steps; for the sender, the receipts."""
    with current_gongwen().db.session() as db:
        document = _readable(db, db.get(Document, document_id))
        instance_id = _instance_for(db, document)
        waiting = db.execute(select(Task.name, Task.assignee_id, Task.candidate_person_id, Task.candidate_role,
                                    Task.due_at).where(Task.instance_id == instance_id,
                                                       Task.state == TaskState.READY)).all()
        names = dict(db.execute(select(Person.id, Person.name)).all()) if waiting else {}
        sender = works_in(db, g.person.id, {i.unit_id for i in document.issuers})
        overview = receipt_overview(db, document_id) if sender else None
    waits = [(name, names.get(assignee or person) or (role.label if role else ""), due)
             for name, assignee, person, role, due in waiting]
    return render_template("document.html", document=document, instance_id=instance_id, waits=waits,
                           overview=overview, now=clock.now())


@bp.route("/instances/<int:instance_id>")
@login_required
def instance_page(instance_id):
    """A process I took part in: its document's page."""
    with current_gongwen().db.session() as db:
        document = _readable(db, document_for_instance(db, instance_id))
        return redirect(url_for("pages.document_page", document_id=document.id))


@bp.route("/instances/<int:instance_id>/progress")
@login_required
def instance_progress(instance_id):
    with current_gongwen().db.session() as db:
        _readable(db, document_for_instance(db, instance_id))
        return current_gongwen().runtime.progress(db, instance_id)


@bp.post("/receipts/<int:receipt_id>/chase")
@login_required
def chase_receipt(receipt_id):
    with current_gongwen().db.write() as db:
        receipt = db.get(Receipt, receipt_id)
        document = db.get(Document, receipt.document_id) if receipt else None
        if document is None or not works_in(db, g.person.id, {i.unit_id for i in document.issuers}):
            abort(404)
        try:
            chase(db, receipt_id, g.person.id)
            flash("已催签")
        except GongwenError as err:
            flash(str(err))
        target = document.id
    return redirect(url_for("pages.document_page", document_id=target))
