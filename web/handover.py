"""Handover (交接) pages: start one for a person who retires, moves or leaves; read a record; confirm it (the two
sides) and sign it off (the 分管领导), completing the same ``handover`` process tasks their inbox offers them; and
the system administrator's reassigning of a person's tasks.

Who may do what is the service's answer (``handlers.handover.service``): a record is found only by the people on
it, who started it and the system administrator (404 for anyone else, audited). No page here shows a document
title: a task is named by its step and its process, so the system administrator reads every page (三员分立).
Refused input comes back with the reason in Chinese, audited as a refusal, and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import GongwenError, NotFound
from engine.models import Person, Unit
from engine.organisation import names_by_id
from handlers.handover import service
from handlers.handover.models import ItemKind, Occasion

from . import current_gongwen
from .admin import system_admin
from .auth import login_required
from .errors import or_404, refused
from .params import as_id

bp = Blueprint("handover", __name__, url_prefix="/handovers")


def _startable(db, person_id: int | None) -> Person:
    """The person whose handover the asking person may start; NotFound otherwise (another unit's, or nobody)."""
    person = db.get(Person, person_id) if person_id is not None else None
    if person is None or not service.may_start(db, g.person.id, person):
        raise NotFound("没有这个人员")
    return person


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """The handover records I am on (all of them, for the system administrator)."""
    with current_gongwen().db.session() as db:
        rows = service.records(db, g.person.id)
        names = names_by_id(db, Person, {i for r in rows for i in (r.person_id, r.successor_id, r.leader_id)})
        units = dict(db.execute(select(Unit.id, Unit.name).where(Unit.id.in_({r.unit_id for r in rows}))).all())
        return render_template("handover/index.html", rows=rows, names=names, units=units,
                               startable=service.startable_people(db, g.person.id))


def _form(db, person: Person, status: int = 200, error: str = "", values: dict | None = None) -> ResponseReturnValue:
    return render_template("handover/new.html", person=person, successors=service.successors_offered(db, person),
                           occasions=Occasion, error=error, values=values or {}), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    """The form starting a handover of ``?person=``: its successor (picked from the unit's active people able
    to hold every task) and why."""
    with current_gongwen().db.session() as db:
        person = or_404(_startable, db, as_id(request.args.get("person")))
        return _form(db, person)


@bp.post("/new")
@login_required
def start() -> ResponseReturnValue:
    form = request.form
    person_id = as_id(form.get("person_id"))
    try:
        with current_gongwen().db.write() as db:
            or_404(_startable, db, person_id)
            handover_id = service.start(db, current_gongwen().runtime, person_id, as_id(form.get("successor_id")),
                                        form.get("occasion", ""), actor_id=g.person.id).id
    except GongwenError as err:
        refused("handover.start_refused", reason=type(err).__name__, person_id=person_id)
        with current_gongwen().db.session() as db:
            values = {k: form.get(k, "")[:40] for k in ("successor_id", "occasion")}
            return _form(db, db.get(Person, person_id), 422, str(err), values)
    flash("已发起交接，待交接双方确认、分管领导签字")
    return redirect(url_for("handover.record", handover_id=handover_id))


@bp.get("/<int:handover_id>")
@login_required
def record(handover_id: int) -> ResponseReturnValue:
    """The record: who hands over to whom and why, what is on it, who confirmed, who signed off and when."""
    with current_gongwen().db.session() as db:
        handover = or_404(service.readable, db, handover_id, g.person.id)
        return render_template("handover/record.html", handover=handover, names=service.party_names(db, handover),
                               kinds=list(ItemKind), unit=db.get(Unit, handover.unit_id).name,
                               ready=service.ready_to_sign(db, handover), me=g.person.id)


@bp.post("/<int:handover_id>/<any('confirm', 'sign-off'):step>")
@login_required
def act(handover_id: int, step: str) -> ResponseReturnValue:
    """Confirm (either side) or sign off (the 分管领导) by completing their task of the handover's process; a refusal
    is said and audited, and changes nothing."""
    with current_gongwen().db.session() as db:
        or_404(service.readable, db, handover_id, g.person.id)
    try:
        service.act(current_gongwen().runtime, handover_id, g.person.id, step)
    except GongwenError as err:
        refused(f"handover.{step.replace('-', '_')}_refused", reason=type(err).__name__, handover_id=handover_id)
        flash(f"未生效：{err}")
        return redirect(url_for("handover.record", handover_id=handover_id))
    flash("已确认交接清单" if step == "confirm" else "已签字确认，待办已转给接手人")
    return redirect(url_for("handover.record", handover_id=handover_id))


@bp.post("/reassign/<int:person_id>")
@system_admin
def reassign(person_id: int) -> ResponseReturnValue:
    """The system administrator hands a person's tasks (typically a frozen one's, offered to nobody) to a
    colleague the people page offered; the page shows counts only."""
    back = url_for("system.section", name="people", unit=as_id(request.form.get("back_unit")) or "")
    try:
        with current_gongwen().db.write() as db:
            moved = service.reassign_all(db, person_id, as_id(request.form.get("to_person_id")),
                                         actor_id=g.person.id)
    except GongwenError as err:
        refused("task.reassign_refused", reason=type(err).__name__, person_id=person_id)
        flash(f"未生效：{err}")
        return redirect(back)
    flash(f"已转交 {moved} 件待办")
    return redirect(back)
