"""电话记录 pages: a unit's phone notices (for its clerks) and those routed to me, recording one (a clerk) and
reading one with what was done about it.

Who records, to whom it may be routed and who reads a record is ``handlers.office_notes.phone_notices``'s answer:
a record not the asker's to read is a 404 (audited); the form of recording is a 404 for anyone but a clerk. The
person routed to acts from their inbox (the ``phone_notice`` process's task). A refused record comes back with
what was typed and the reason in Chinese, audited, nothing stored and no process started.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import GongwenError, NotFound
from engine.models import Person
from engine.organisation import names_by_id
from handlers.office_notes import phone_notices
from handlers.office_notes.models import Direction

from . import current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .params import as_id, as_minute

bp = Blueprint("phone_notices", __name__, url_prefix="/phone-notices")
FIELDS = ("direction", "other_unit", "other_person", "other_phone", "subject", "content", "called_at",
          "assignee_id", "due_at")


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """My unit's phone notices if I am its clerk, and those routed to me; newest first."""
    with current_gongwen().db.session() as db:
        rows = phone_notices.listed(db, g.person.id)
        return render_template("office_notes/phone_notices.html", rows=rows,
                               names=names_by_id(db, Person, {r.assignee_id for r in rows}),
                               may_record=phone_notices.may_record(db, g.person.id))


def _assignees(db) -> list[Person]:
    """Whom I may route a phone notice to; NotFound (the 404 page) unless I am a clerk of a unit."""
    if not phone_notices.may_record(db, g.person.id):
        raise NotFound("只有本单位的收发员可以登记电话通知")
    return phone_notices.assignees_offered(db, g.person.id)


def _form(db, status: int = 200, error: str = "", values=None) -> ResponseReturnValue:
    return render_template("office_notes/phone_notice_new.html", assignees=or_404(_assignees, db),
                           directions=list(Direction), error=error, values=values or {}), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        return _form(db)


@bp.post("/new")
@login_required
def record() -> ResponseReturnValue:
    """Record the call and route it; the person picked must be one the form offered."""
    form, gongwen = request.form, current_gongwen()
    try:
        with gongwen.db.write() as db:
            or_404(_assignees, db)
            notice_id = phone_notices.record(
                db, gongwen.runtime, g.person.id, direction=form.get("direction", ""),
                other_unit=form.get("other_unit", ""), other_person=form.get("other_person", ""),
                other_phone=form.get("other_phone", ""), subject=form.get("subject", ""),
                content=form.get("content", ""), called_at=as_minute(form.get("called_at")),
                assignee_id=as_id(form.get("assignee_id")), due_at=as_minute(form.get("due_at"))).id
    except GongwenError as err:
        refused("phone_notice.record_refused", reason=type(err).__name__)
        with gongwen.db.session() as db:
            return _form(db, 422, str(err), {k: form.get(k, "")[:5000] for k in FIELDS})
    flash("电话通知已登记，并已送办理人办理")
    return redirect(url_for("phone_notices.show", notice_id=notice_id))


@bp.get("/<int:notice_id>")
@login_required
def show(notice_id: int) -> ResponseReturnValue:
    """The record: the call, who recorded it, to whom it went, by when, and what they did."""
    with current_gongwen().db.session() as db:
        notice = or_404(phone_notices.readable, db, notice_id, g.person.id)
        return render_template("office_notes/phone_notice.html", n=notice, names=names_by_id(
            db, Person, {notice.recorded_by_id, notice.assignee_id, notice.done_by_id}))
