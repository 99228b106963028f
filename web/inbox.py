"""The inbox: 待办, 在办, 已办 and 办结, searched and paged; arrivals reach an open page by push (``web/push.py``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine import clock, inbox
from engine.models import ProcessInstance
from handlers.notifications import tell as notifications

from . import current_gongwen
from .auth import login_required
from .params import as_day, as_number

bp = Blueprint("inbox", __name__)
VIEWS = {"todo": "待办", "doing": "在办", "done": "已办", "finished": "办结"}
PAGE_SIZE = 20
MAX_PAGE = 10_000


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
        notes = notifications.latest(db, g.person.id)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    template = "_rows.html" if request.args.get("fragment") else "inbox.html"
    return render_template(template, view=view, views=VIEWS, rows=rows, titles=titles, priorities=priorities,
                           notes=notes, now=clock.now(), page=page, more=more, q=text or "",
                           since=request.args.get("since", ""), until=request.args.get("until", ""))
