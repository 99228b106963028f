"""登记簿: a unit's 收文登记簿 and 发文登记簿 as pages, filtered by year, state and words, and as XLSX.

``/registers/incoming`` and ``/registers/outgoing`` show the person's own unit's register to those who
keep or answer for it there (收发员, 领导, 签发人, 档案员); anyone else, administrators included
(三员分立: titles are content), meets a 404. A year, state or search that the page did not offer is
refused in words (audited) and the register is shown unfiltered. ``?format=xlsx`` gives the same rows,
all of them, as a workbook; the page shows the latest :data:`PAGE_ROWS`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine import audit, clock
from engine.errors import Refused
from engine.models import Role, RoleGrant
from engine.text import clean
from handlers.documents import register as outgoing
from handlers.incoming import register as incoming
from handlers.supervision.workbook import Table, table_xlsx

from . import current_gongwen
from .auth import login_required
from .errors import refused
from .params import as_id

bp = Blueprint("registers", __name__, url_prefix="/registers")
PAGE_ROWS = 200
EXPORT_ROWS = 50_000
KEEPERS = (Role.CLERK, Role.LEADER, Role.SIGNING_LEADER, Role.ARCHIVIST)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TIME, _DAY = "%Y-%m-%d %H:%M", "%Y-%m-%d"


def _keeper_unit() -> int:
    """The unit whose registers the person keeps or answers for; a 404 for anyone else."""
    unit_id = g.person.unit_id
    with current_gongwen().db.session() as db:
        keeps = unit_id is not None and db.scalar(select(RoleGrant.id).where(
            RoleGrant.person_id == g.person.id, RoleGrant.unit_id == unit_id, RoleGrant.role.in_(KEEPERS)).limit(1))
    if not keeps:
        g.access_refused = True  # audited by the error page
        abort(404)
    return unit_id


def _filters(states: dict[str, str]) -> tuple[int, str | None, str]:
    """The year, state and words asked for; what the page did not offer is refused in words, audited."""
    this_year = clock.local_today().year
    year, state, words = this_year, request.args.get("state") or None, ""
    problems = []
    if request.args.get("year"):
        asked = as_id(request.args["year"])
        if asked is None or not 2000 <= asked <= this_year:
            problems.append(f"年份应为 2000 年至 {this_year} 年")
        else:
            year = asked
    if state is not None and state not in states:
        problems.append("没有这种办理状态")
        state = None
    try:
        words = clean(request.args.get("q", ""), field="检索词", max_length=100, required=False)
    except Refused as err:  # a control character or a search too long
        problems.append(str(err))
    for problem in problems:
        flash(f"{problem}，已按默认条件显示")
    if problems:
        refused("register.filter_refused", problems="；".join(problems)[:200])
    return year, state, words


def _register(kind: str) -> ResponseReturnValue:
    module = incoming if kind == "incoming" else outgoing
    unit_id = _keeper_unit()
    year, state, words = _filters(module.STATES)
    export = request.args.get("format") == "xlsx"
    read = incoming.incoming_register if kind == "incoming" else outgoing.outgoing_register
    with current_gongwen().db.session() as db:
        rows = read(db, unit_id, year, state=state, words=words, limit=EXPORT_ROWS if export else PAGE_ROWS)
    name = f"{'收文' if kind == 'incoming' else '发文'}登记簿"
    if not export:
        return render_template("registers/register.html", kind=kind, name=name, rows=rows, year=year, state=state,
                               words=words, states=module.STATES, years=range(clock.local_today().year, 1999, -1),
                               page_rows=PAGE_ROWS)
    with current_gongwen().db.write() as db:
        audit.record(db, "register.export", actor_id=g.person.id, unit_id=unit_id, register=kind, year=year,
                     rows=len(rows))
    table = _incoming_table(rows) if kind == "incoming" else _outgoing_table(rows)
    filename = f"{name}{year}.xlsx"
    return Response(table_xlsx(table, f"{name}（{year}年）"), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


def _incoming_table(rows: list[incoming.IncomingEntry]) -> Table:
    header = ["收文号", "登记时间", "来文单位", "文号", "标题", "紧急程度", "承办处室", "办理期限", "办结时间",
              "归档时间", "状态"]
    return Table("收文登记簿", header, [
        [r.incoming_number, _local(r.registered_at), r.sender, r.doc_number,
         r.title, r.urgency.label, r.lead_department, _local(r.handle_due), _local(r.handled_at),
         _local(r.archived_at), r.state] for r in rows], [None] * len(header))


def _outgoing_table(rows: list[outgoing.OutgoingEntry]) -> Table:
    header = ["文号", "标题", "文种", "紧急程度", "拟稿人", "拟稿处室", "成文日期", "主送", "状态", "收文单位",
              "已签收"]
    return Table("发文登记簿", header, [
        [r.doc_number, r.title, r.doc_type.label, r.urgency.label, r.drafter, r.department,
         f"{r.signing_date:{_DAY}}" if r.signing_date else "", r.main_to, r.state, r.recipients, r.signed]
        for r in rows], [None] * len(header))


def _local(moment: datetime | None) -> str:
    return f"{clock.local(moment):{_TIME}}" if moment else ""


@bp.route("/incoming")
@login_required
def incoming_page() -> ResponseReturnValue:
    """收文登记簿 of the person's unit."""
    return _register("incoming")


@bp.route("/outgoing")
@login_required
def outgoing_page() -> ResponseReturnValue:
    """发文登记簿 of the person's unit."""
    return _register("outgoing")
