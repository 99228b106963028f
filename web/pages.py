"""Pages for people: log in, the inbox, a task's form, starting a leave application.

Every page needs a logged-in, active person, and every action is checked against
that person's roles and units by the engine, not by what the page happened to show.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from engine import clock, inbox, organisation
from engine.core import Gongwen
from engine.errors import Conflict, Forbidden, FormInvalid, GongwenError, NotFound
from engine.models import Notification, Person, PersonStatus, ProcessInstance, Task, TaskState
from engine.registry import FORMS

bp = Blueprint("pages", __name__)
IDLE_TIMEOUT = timedelta(minutes=30)


def _gongwen() -> Gongwen:
    return current_app.extensions["gongwen"]


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
    with _gongwen().db.session() as db:
        person = db.get(Person, person_id)
        if person is None or person.status != PersonStatus.ACTIVE:
            session.clear()
            return
        g.person = person
        g.unread = db.scalar(select(Notification.id).where(Notification.person_id == person.id,
                                                           Notification.read_at.is_(None)).limit(1)) is not None
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
        with _gongwen().db.write() as db:
            result = organisation.authenticate(db, request.form.get("login", ""), request.form.get("password", ""))
            person_id = result.person.id if result.person else None
        if person_id is None:
            return render_template("login.html", error=result.refusal), 401
        session.clear()
        session.update(person_id=person_id, last_seen=clock.now().timestamp())
        target = request.args.get("next", "")
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("pages.index"))
    return render_template("login.html")


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.login"))


@bp.route("/")
@login_required
def index():
    with _gongwen().db.session() as db:
        tasks = inbox.ready_tasks(db, g.person.id, limit=100)
        titles = dict(db.execute(select(ProcessInstance.id, ProcessInstance.title).where(
            ProcessInstance.id.in_({t.instance_id for t in tasks}))).all()) if tasks else {}
        notes = db.scalars(select(Notification).where(Notification.person_id == g.person.id)
                           .order_by(Notification.id.desc()).limit(10)).all()
    return render_template("inbox.html", tasks=tasks, titles=titles, notes=notes, now=clock.now())


@bp.route("/tasks/<uuid:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id):
    gongwen = _gongwen()
    with gongwen.db.session() as db:
        row = db.get(Task, task_id)
        if row is None or row.state != TaskState.READY:
            abort(404)
        try:
            inbox.ensure_can_act(db, row, g.person.id)
        except (Forbidden, Conflict):
            abort(404)  # a task outside one's reach does not exist for them
        instance = db.get(ProcessInstance, row.instance_id)
    spec = FORMS[row.form_key]
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        values.pop("csrf_token", None)
        try:
            gongwen.runtime.complete(task_id, g.person.id, values)
            flash(f"已办理：{row.name}")
            return redirect(url_for("pages.index"))
        except FormInvalid as err:
            errors = err.errors
        except (Conflict, NotFound, Forbidden) as err:
            flash(str(err))
            return redirect(url_for("pages.index"))
        except GongwenError as err:
            flash(str(err))
    return render_template(spec.template, task=row, instance=instance, form=spec, values=values,
                           errors=errors), 422 if errors else 200


@bp.route("/leave/new", methods=["POST"])
@login_required
def start_leave():
    person = g.person
    if person.unit_id is None:
        abort(403)
    gongwen = _gongwen()
    instance_id = gongwen.runtime.start("leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                                        data={"department_id": person.department_id},
                                        title=f"{person.name}的请假申请")
    with gongwen.db.session() as db:
        first = db.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY))
    return redirect(url_for("pages.task", task_id=first))
