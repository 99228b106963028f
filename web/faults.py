"""Fault report pages (故障报告, Yan'an Art 13): a unit reports a fault and follows its own; the 网信办 arranges
repairs against their deadlines and marks them repaired; a dispatching office's 收发员 sends on paper what their
unit dispatched to a faulty unit and marks each 已纸质送达.

Who sees what is the service's answer (``handlers.faults.service``): a unit's reports to its own people, a desk's
to its 承办人 and leaders, a paper list to the clerks of the unit that dispatched. The three administrators work
in no unit and are refused every page (三员分立). Refused input is said in Chinese, audited, and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.calendar import WorkCalendar
from engine.clock import parse_local
from engine.errors import FormInvalid, GongwenError
from engine.models import Unit
from engine.organisation import names_by_id
from engine.registry import FORMS
from handlers.faults import service
from handlers.faults.models import FaultKind

from . import current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .params import as_id

bp = Blueprint("faults", __name__, url_prefix="/faults")
STEP_FORMS = {"arrange": "fault_arrange", "repaired": "fault_repaired"}  # the desk's buttons' task forms


def _unit_id() -> int:
    """The asking person's unit; 404 for the administrators, who have none."""
    if g.person.unit_id is None:
        abort(404)
    return g.person.unit_id


def _index(db, status: int = 200, error: str = "", values: dict | None = None) -> ResponseReturnValue:
    faults = service.of_unit(db, _unit_id())
    return render_template("faults/index.html", faults=faults, kinds=FaultKind, error=error, values=values or {},
                           desk=bool(service.desk_units(db, g.person.id)),
                           clerk=bool(service.clerk_units(db, g.person.id))), status


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """故障报告: the form, and the unit's reports with their state and deadline."""
    with current_gongwen().db.session() as db:
        return _index(db)


@bp.post("")
@login_required
def report() -> ResponseReturnValue:
    form = request.form
    unit_id = _unit_id()
    try:
        with current_gongwen().db.write() as db:
            fault = service.report(db, unit_id, form.get("kind", ""), parse_local(form.get("started_at")),
                                   form.get("description"), actor_id=g.person.id,
                                   settings=current_gongwen().settings, calendar=WorkCalendar(db),
                                   runtime=current_gongwen().runtime)
            late = fault.late
    except GongwenError as err:
        refused("fault.report_refused", reason=type(err).__name__, unit_id=unit_id)
        with current_gongwen().db.session() as db:
            values = {k: form.get(k, "")[:1000] for k in ("kind", "started_at", "description")}
            return _index(db, 422, str(err), values)
    flash("已报告市政府办公室秘书科和网信办" + ("（超过 1 个工作日，记为迟报）" if late else ""))
    return redirect(url_for("faults.index"))


@bp.get("/desk")
@login_required
def desk() -> ResponseReturnValue:
    """The 网信办's list: every reported fault with its deadline, open ones first, each open one with the step of
    its process it waits on (安排维修, then 已修复); 404 for anyone else."""
    with current_gongwen().db.session() as db:
        if not service.desk_units(db, g.person.id):
            abort(404)
        faults = service.at_desk(db, g.person.id)
        units = names_by_id(db, Unit, {f.unit_id for f in faults})
        return render_template("faults/desk.html", faults=faults, units=units, waiting=service.ready_steps(db, faults))


@bp.post("/<int:fault_id>/<any('arrange', 'repaired'):step>")
@login_required
def act(fault_id: int, step: str) -> ResponseReturnValue:
    """The desk completes the fault's 安排维修 (the 保障单位) or 维修完成 task, as its 待办 would; a fault of
    another desk is 404."""
    data = {"contractor": request.form.get("contractor", "")} if step == "arrange" else \
        {"note": request.form.get("note", "")}
    try:
        or_404(service.complete_step, current_gongwen().runtime, fault_id, step, data, actor_id=g.person.id)
    except GongwenError as err:
        refused(f"fault.{step}_refused", reason=type(err).__name__, fault_id=fault_id)
        flash(f"未生效：{_said(err, step)}")
        return redirect(url_for("faults.desk"))
    flash("已记录维修安排" if step == "arrange" else "已标记修复，纸质送达清单关闭")
    return redirect(url_for("faults.desk"))


def _said(err: GongwenError, step: str) -> str:
    """A refusal in words; a form's, by its fields' Chinese labels (the desk shows no field to mark)."""
    if not isinstance(err, FormInvalid):
        return str(err)
    fields = FORMS[STEP_FORMS[step]].schema._declared_fields
    return "；".join(f"{fields[name].metadata['label'] if name in fields else '表单'}{'，'.join(map(str, said))}"
                    for name, said in err.errors.items())


@bp.get("/paper")
@login_required
def paper() -> ResponseReturnValue:
    """The paper list of the clerk's units: documents dispatched to faulty units during their faults."""
    with current_gongwen().db.session() as db:
        if not service.clerk_units(db, g.person.id):
            abort(404)
        return render_template("faults/paper.html", items=service.paper_list(db, g.person.id))


@bp.post("/paper")
@login_required
def mark_sent() -> ResponseReturnValue:
    fault_id, receipt_id = as_id(request.form.get("fault_id")), as_id(request.form.get("receipt_id"))
    try:
        with current_gongwen().db.write() as db:
            service.mark_sent(db, fault_id, receipt_id, actor_id=g.person.id)
    except GongwenError as err:
        refused("fault.paper_sent_refused", reason=type(err).__name__, fault_id=fault_id, receipt_id=receipt_id)
        flash(f"未生效：{err}")
        return redirect(url_for("faults.paper"))
    flash("已标记为已纸质送达")
    return redirect(url_for("faults.paper"))
