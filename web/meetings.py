"""会议 pages: send a meeting notice to units (or an internal meeting to people of one's unit), read every answer
at once, change or cancel the meeting, export the attendees (XLSX), print the sign-in sheet (签到表); and the
reply slip's own submission, whose attendee rows the generic task page cannot gather.

Who may do what is the domain's answer (``handlers.meetings.service``): a 收发员 or 拟稿人 organises, they and
the unit's leaders read the overview; anyone else, the three administrators included (三员分立: a meeting is
content), meets a 404 (audited). A refused value is said in Chinese, audited, and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine import audit, clock
from engine.errors import FormInvalid, GongwenError, NotFound, Refused
from engine.models import Person, Task, Unit
from engine.organisation import names_by_id
from forms.choices import unit_tree
from handlers.meetings import service
from handlers.meetings.models import Answer, Meeting, MeetingKind, MeetingStatus
from handlers.supervision.workbook import Table, table_xlsx

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .params import FIRST_YEAR, LAST_YEAR
from .registers import XLSX
from .tasks import task_page

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
_LOCAL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})")
_DETAILS = ("title", "starts_at", "ends_at", "place", "agenda", "attendance", "reply_by")
_ROWS = ("attendee_name", "attendee_job_title", "attendee_mobile")
MAX_ROWS = 200  # posted rows read at most; the form refuses more than 50 attendees in words


def _local_time(text: str | None, label: str) -> datetime:
    """A time typed in a ``datetime-local`` field (Beijing time) as an aware datetime; ``Refused`` otherwise."""
    found = _LOCAL_TIME.fullmatch((text or "").strip())
    try:
        if found is None or not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
            raise ValueError(text)
        return datetime(*map(int, found.groups()), tzinfo=clock.SHANGHAI)
    except ValueError:
        raise Refused(f"{label}格式应为 2026-12-10 09:00") from None


def _kind() -> MeetingKind:
    return MeetingKind.INTERNAL if request.values.get("kind") == MeetingKind.INTERNAL else MeetingKind.UNITS


def _in_unit(person: Person) -> None:
    if person.unit_id is None:  # the three administrators: no meeting is theirs to read
        raise NotFound("没有会议")


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """The meetings of the units whose overview the person reads, latest first; the buttons to send one."""
    with current_gongwen().db.session() as db:
        or_404(_in_unit, g.person)
        meetings = service.organised(db, g.person.id)
        try:
            service.organising_unit(db, g.person.id)
            organiser = True
        except NotFound:
            organiser = False
        return render_template("meetings/index.html", meetings=meetings, organiser=organiser, Answer=Answer)


def _form(db, kind: MeetingKind, unit_id: int, status: int = 200, error: str = "",
          values: MultiDict | None = None) -> ResponseReturnValue:
    offered = service.offered_units(db, unit_id) if kind == MeetingKind.UNITS else service.offered_people(db, unit_id)
    picker = {"units": [u for u in unit_tree(db) if u["id"] != unit_id], "fields": ["invited"], "groups": []} \
        if kind == MeetingKind.UNITS else None
    return render_template("meetings/new.html", kind=kind, offered=offered, picker=picker, error=error,
                           values=values or MultiDict()), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    """The form: title, time, place, agenda, who should attend, the reply deadline, and the units (or people)."""
    with current_gongwen().db.session() as db:
        unit_id = or_404(service.organising_unit, db, g.person.id)
        return _form(db, _kind(), unit_id)


@bp.post("/new")
@login_required
def send() -> ResponseReturnValue:
    form, kind, gongwen = request.form, _kind(), current_gongwen()
    with gongwen.db.session() as db:
        or_404(service.organising_unit, db, g.person.id)
    try:
        details = service.MeetingDetails(
            title=form.get("title", ""), place=form.get("place", ""), agenda=form.get("agenda", ""),
            attendance=form.get("attendance", ""), starts_at=_local_time(form.get("starts_at"), "会议开始时间"),
            ends_at=_local_time(form.get("ends_at"), "会议结束时间"),
            reply_by=_local_time(form.get("reply_by"), "回执截止时间"))
        invited = form.getlist("invited")[:service.MAX_INVITED + 1]
        if not all(re.fullmatch(r"[0-9]{1,9}", i) for i in invited):
            raise Refused("所选参会单位或人员不在可选范围内")
        with gongwen.db.write() as db:
            meeting_id = service.create(db, gongwen.runtime, g.person.id, kind, details, [int(i) for i in invited]).id
    except GongwenError as err:
        refused("meeting.send_refused", reason=type(err).__name__)
        with gongwen.db.session() as db:
            kept = MultiDict([(k, v[:5000]) for k in (*_DETAILS, "invited") for v in form.getlist(k)[:500]])
            return _form(db, kind, service.organising_unit(db, g.person.id), 422, str(err), kept)
    flash("会议通知已发出" if kind == MeetingKind.UNITS else "内部会议通知已发出")
    return redirect(url_for("meetings.overview", meeting_id=meeting_id))


def _overview_rows(db, meeting: Meeting) -> list[dict]:
    invitations = meeting.invitations
    units = names_by_id(db, Unit, [i.unit_id for i in invitations])
    people = names_by_id(db, Person, [i.person_id for i in invitations] + [i.answered_by_id for i in invitations])
    return [{"invitation": i, "name": people.get(i.person_id) if i.person_id else units.get(i.unit_id),
             "answer": i.answer.label(meeting.kind), "by": people.get(i.answered_by_id, "")} for i in invitations]


@bp.get("/<int:meeting_id>")
@login_required
def overview(meeting_id: int) -> ResponseReturnValue:
    """Every unit's (or person's) answer at once: replied, refused, not yet, late, to confirm after a change."""
    with current_gongwen().db.session() as db:
        meeting = or_404(service.readable, db, meeting_id, g.person.id)
        rows = _overview_rows(db, meeting)
        counts = {a: sum(r["invitation"].answer == a for r in rows) for a in Answer}
        return render_template("meetings/overview.html", meeting=meeting, rows=rows, counts=counts, Answer=Answer,
                               late=sum(r["invitation"].late for r in rows), MeetingStatus=MeetingStatus,
                               organiser=db.get(Person, meeting.organiser_id).name)


@bp.post("/<int:meeting_id>/<any('change', 'cancel'):action>")
@login_required
def act(meeting_id: int, action: str) -> ResponseReturnValue:
    """Change the time or place, or cancel, as an organiser of the unit; every invited unit or person is told."""
    form, gongwen = request.form, current_gongwen()
    try:
        with gongwen.db.write() as db:
            meeting = or_404(service.readable, db, meeting_id, g.person.id)
            if service.organising_unit(db, g.person.id) != meeting.unit_id:
                raise Refused("只有组织单位的收发员或拟稿人可以变更或取消会议")
            if action == "change":
                service.change(db, meeting, g.person.id, _local_time(form.get("starts_at"), "会议开始时间"),
                               _local_time(form.get("ends_at"), "会议结束时间"), form.get("place", ""))
            else:
                service.cancel(db, meeting, g.person.id, form.get("reason", ""))
    except GongwenError as err:
        refused(f"meeting.{action}_refused", reason=type(err).__name__, meeting_id=meeting_id)
        flash(f"未生效：{err}")
        return redirect(url_for("meetings.overview", meeting_id=meeting_id))
    flash("已变更，已通知各参会单位（人员）确认" if action == "change" else "会议已取消，已通知各参会单位（人员）")
    return redirect(url_for("meetings.overview", meeting_id=meeting_id))


def attendee_table(db, meeting: Meeting) -> Table:
    """The attendees as the organiser exports and prints them: a unit's named people, or the people who
    confirmed an internal meeting, in the order invited."""
    rows = _overview_rows(db, meeting)
    if meeting.kind == MeetingKind.INTERNAL:
        titles = dict(db.execute(select(Person.id, Person.job_title).where(
            Person.id.in_([r["invitation"].person_id for r in rows]))).all()) if rows else {}
        people = [[r["name"], titles.get(r["invitation"].person_id) or "", ""] for r in rows
                  if r["invitation"].answer == Answer.ATTEND]
        return Table("参会人员", ["序号", "姓名", "职务", "手机号码"],
                     [[n, *p] for n, p in enumerate(people, 1)], [None] * 4)
    listed = [[r["name"], a.name, a.job_title, a.mobile, "迟报" if r["invitation"].late else ""]
              for r in rows for a in r["invitation"].attendees]
    return Table("参会人员", ["序号", "单位", "姓名", "职务", "手机号码", "报送"],
                 [[n, *row] for n, row in enumerate(listed, 1)], [None] * 6)


@bp.get("/<int:meeting_id>/attendees.xlsx")
@login_required
def export(meeting_id: int) -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        meeting = or_404(service.readable, db, meeting_id, g.person.id)
        table, title = attendee_table(db, meeting), meeting.title
    with current_gongwen().db.write() as db:
        audit.record(db, "meeting.export", actor_id=g.person.id, unit_id=meeting.unit_id, meeting_id=meeting_id,
                     rows=len(table.rows))
    return Response(table_xlsx(table, f"{title} 参会人员名单"), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote('参会人员名单.xlsx')}"})


@bp.get("/<int:meeting_id>/sign-in")
@login_required
def sign_in(meeting_id: int) -> ResponseReturnValue:
    """签到表: an A4 sheet of the attendees with a blank to sign, printed at the door."""
    with current_gongwen().db.session() as db:
        meeting = or_404(service.readable, db, meeting_id, g.person.id)
        return render_template("meetings/sign_in.html", meeting=meeting, table=attendee_table(db, meeting),
                               back=url_for("meetings.overview", meeting_id=meeting_id))


def _rows(form: MultiDict) -> tuple[list[dict], MultiDict]:
    """The posted attendee rows (a wholly blank row is none) and the form as it is shown again: the rows
    kept, in order, so that an error's row number is the row's number on the page."""
    columns = [form.getlist(name)[:MAX_ROWS] for name in _ROWS]
    width = max(map(len, columns))
    cells = [[col[i] if i < len(col) else "" for col in columns] for i in range(width)]
    rows = [row for row in cells if any(c.strip() for c in row)]
    shown = MultiDict([(k, v) for k, v in form.items(multi=True) if k not in _ROWS])
    for row in rows:
        for name, cell in zip(_ROWS, row, strict=True):
            shown.add(name, cell)
    return [{"name": n, "job_title": t, "mobile": m} for n, t, m in rows], shown


@bp.post("/slips/<uuid:task_id>")
@login_required
def reply(task_id: uuid.UUID) -> ResponseReturnValue:
    """Submit a reply slip: the engine's form validates every row; a refusal shows the slip again, in words."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        row = or_404(_slip, db, task_id, g.person.id)
    attendees, shown = _rows(request.form)
    data = {"decision": request.form.get("decision", ""), "attendees": attendees}
    if request.form.get("reason", ""):
        data["reason"] = request.form["reason"]
    try:
        gongwen.runtime.complete(row.id, g.person.id, data)
    except FormInvalid as err:
        return task_page(task_id, shown, err.errors)
    except GongwenError as err:  # taken or ended meanwhile (Conflict, NotFound), or refused
        flash(str(err))
        return redirect(url_for("inbox.index"))
    flash("回执已报送")
    return redirect(url_for("inbox.index"))


def _slip(db, task_id: uuid.UUID, person_id: int) -> Task:
    """A reply-slip task the person may complete now; NotFound otherwise (any other task posts to its own page)."""
    task = access.actionable_task(db, task_id, person_id)
    if task.form_key != "meeting_reply":
        raise NotFound(access.NO_TASK)
    return task
