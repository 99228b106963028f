"""The inbox: 待办, 在办, 已办 and 办结, searched and paged; arrivals reach an open page by push (``web/push.py``).

An arrival's row shows its sender, 文号 and urgency, and a passed deadline in working days; the clerk may
tick several arrivals and sign for them at once (批量签收), each exactly as its own page would sign it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from engine import audit, clock, inbox
from engine.calendar import WorkCalendar
from engine.errors import GongwenError, NotFound
from engine.models import ProcessInstance, Task
from handlers.exchange.holdings import arrivals

from . import access, current_gongwen, tasks
from .auth import login_required
from .errors import refused
from .params import as_day, as_number

bp = Blueprint("inbox", __name__)
VIEWS = {"todo": "待办", "doing": "在办", "done": "已办", "finished": "办结"}
PAGE_SIZE = 20
MAX_PAGE = 10_000
SIGN_FOR = "incoming_sign_for"
SIGN = MultiDict({"decision": "sign"})  # what the sign-for page posts when the clerk chooses 签收


def day_arg(name: str) -> datetime | None:
    """The start (Beijing time) of the day given as ``name`` in the query string, if it is a date."""
    day = as_day(request.args.get(name))
    return datetime.combine(day, time(0), clock.SHANGHAI) if day else None


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    view = request.args.get("view", "todo") if request.args.get("view") in VIEWS else "todo"
    page = int(as_number(request.args.get("page"), 1, MAX_PAGE) or 1)
    text = request.args.get("q", "").strip() or None
    since, until = day_arg("since"), day_arg("until")
    until = until + timedelta(days=1) if until else None
    window = {"limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    if view == "todo":  # the clerk looked at what waits (the duty watch counts looks)
        with current_gongwen().db.write() as db:
            inbox.record_look(db, g.person.id, g.person.unit_id)
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
        arrived = arrivals(db, ids) if view == "todo" else {}
        late = overdue_days(db, rows[:PAGE_SIZE]) if view == "todo" else {}
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    template = "_rows.html" if request.args.get("fragment") else "inbox.html"
    return render_template(template, view=view, views=VIEWS, rows=rows, titles=titles, priorities=priorities,
                           arrived=arrived, late=late, sign_for=SIGN_FOR,
                           now=clock.now(), page=page, more=more, q=text or "",
                           since=request.args.get("since", ""), until=request.args.get("until", ""))


def overdue_days(db: Session, rows: Sequence[Task]) -> dict[uuid.UUID, int]:
    """For each task past its deadline: how many working days (of the official calendar) have begun since the
    day it fell due, 0 when it fell due today."""
    now, gongwen = clock.now(), current_gongwen()
    calendar = WorkCalendar(db, gongwen.settings.office_hours, gongwen.runtime.calendar_data)
    return {t.id: calendar.count_workdays(clock.local(t.due_at).date() + timedelta(days=1), clock.local(now).date())
            for t in rows if t.due_at and t.due_at < now}


@dataclass(frozen=True)
class Outcome:
    """One ticked arrival after 批量签收: signed, or left waiting with the reason."""

    title: str
    doc_number: str | None
    signed: bool
    reason: str = ""


@bp.post("/sign-for")
@login_required
def batch_sign_for() -> ResponseReturnValue:
    """批量签收: the ticked arrivals signed one by one, each verified and completed in its own transaction as
    its own page would sign it; one that may not be signed (not a sign-for task this person may complete now,
    or failing verification) is listed with its reason and left as it was. At most a page of them at once."""
    ticked = list(dict.fromkeys(request.form.getlist("task_id")))
    if not ticked or len(ticked) > PAGE_SIZE:
        if ticked:
            refused("sign_for.batch_refused", count=len(ticked))
        flash("请勾选要签收的来文" if not ticked else f"一次最多批量签收 {PAGE_SIZE} 件，未签收任何来文")
        return redirect(url_for("inbox.index"))
    outcomes = [_sign_for(text) for text in ticked]
    with current_gongwen().db.write() as db:
        audit.record(db, "sign_for.batch", actor_id=g.person.id, signed=sum(o.signed for o in outcomes),
                     not_signed=sum(not o.signed for o in outcomes))
    return render_template("batch_sign_for.html", outcomes=outcomes)


def _sign_for(text: str) -> Outcome:
    """Sign for one ticked arrival (``text``: its task id as posted)."""
    with current_gongwen().db.session() as db:
        try:
            row = access.actionable_task(db, uuid.UUID(text), g.person.id)
        except (ValueError, NotFound):
            row = None
        if row is not None:
            title = db.get(ProcessInstance, row.instance_id).title or row.name
            number = arrivals(db, {row.instance_id}).get(row.instance_id, (None, None))[1]
    if row is None:  # an outsider must not learn whether it exists
        refused("access.refused", task_id=text[:40])
        return Outcome("（无法识别的事项）", None, False, "没有这件待签收的来文，或已由他人办理")
    if row.form_key != SIGN_FOR:
        return Outcome(title, number, False, f"“{row.name}”不是签收事项，请在其页面办理")
    try:
        tasks.complete(row, SIGN)
    except GongwenError as err:
        return Outcome(title, number, False, str(err))
    return Outcome(title, number, True)
