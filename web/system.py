"""Pages for the system administrator (系统管理员): units, departments, people and accounts, distribution lists,
document numbers and each unit's number series, the holiday calendar, sign-for windows, and incidents to retry:
a page each.

三员分立: the system administrator runs the organisation and the machine but grants no roles (the
security officer does) and sees no document. Every change goes through the same functions as the
command line, which audit it.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from engine import clock
from engine.calendar import mark_year_entered, set_override, years_to_enter
from engine.errors import GongwenError, Refused
from engine.inbox import held_counts
from engine.models import CalendarOverride, CalendarYear, Department, Incident, Person, Unit, UnitKind
from engine.organisation import (
    create_department,
    create_person,
    create_unit,
    move_person,
    set_frozen,
    set_job_title,
)
from handlers.documents.distribution import delete_distribution_list, save_distribution_list
from handlers.documents.models import DOC_TYPE_LABELS, DistributionList, NumberCounter, NumberSeries, Urgency
from handlers.documents.numbering import TOTAL, add_series, last_given, retire_series, set_next
from handlers.exchange.deadlines import Measure, deadline_rules, set_deadline
from handlers.handover.service import takers

from . import current_gongwen
from .admin import system_admin
from .errors import refused
from .params import as_day, as_id, as_ids, as_number

bp = Blueprint("system", __name__, url_prefix="/admin/system")
URGENCIES = {u.value: u.label for u in Urgency}
UNIT_KINDS = {k.value: k.label for k in UnitKind}
MEASURES = {m.value: m.label for m in Measure}
SERIES_KINDS = {"plain": "普通", "telegram": "明传电报", "publication": "内部刊物"}
DOC_TYPES = {t.value: label for t, label in DOC_TYPE_LABELS.items()}


SECTIONS = {"units": "单位与部门", "people": "人员与账号", "lists": "分发列表", "numbers": "发文字号",
            "calendar": "节假日调整", "deadlines": "签收时限", "incidents": "故障"}


def _organisation(db) -> dict:
    units = db.scalars(select(Unit).order_by(Unit.id)).all()
    departments = db.scalars(select(Department).order_by(Department.unit_id, Department.id)).all()
    return {"units": units, "departments": departments, "names": {u.id: u.name for u in units},
            "departments_by_id": {d.id: d.name for d in departments}}


def _people(db) -> dict:
    """The unit's people, with how many tasks each holds as their own (a count, never what they are: 三员分立)
    and, for those who hold some, the colleagues who may take them over."""
    unit_id = as_id(request.args.get("unit", ""))
    people = db.scalars(select(Person).where(Person.unit_id == unit_id).order_by(Person.login)).all() \
        if unit_id else []
    held = held_counts(db, [p.id for p in people])
    return {**_organisation(db), "people": people, "held": held,
            "takers": {p.id: takers(db, p) for p in people if held.get(p.id)}}


def _issuers(db) -> list[Unit]:
    """The units a series may be added to: those with a 机关代字 (``add_series`` refuses the others)."""
    return list(db.scalars(select(Unit).where(Unit.issuer_code.is_not(None), Unit.issuer_code != "")
                           .order_by(Unit.id)))


def _numbers(db) -> dict:
    """发文字号: every number series beside the main ones (or, for the unit picked, its main series too), retired
    ones included, with the last number each gave this year; the counters. Codes and counts, never a document."""
    issuers = _issuers(db)
    unit = next((u for u in issuers if u.id == as_id(request.args.get("unit", ""))), None)
    query = select(NumberSeries).order_by(NumberSeries.unit_id, NumberSeries.id)
    series = db.scalars(query.where(NumberSeries.unit_id == unit.id) if unit else query).all()
    codes = [s.code for s in series] + ([unit.issuer_code] if unit else [])
    year = clock.local_today().year
    return {"issuers": issuers, "names": {u.id: u.name for u in issuers}, "unit": unit, "series": series,
            "year": year, "last": last_given(db, codes, year),
            "last_total": last_given(db, [s.code for s in series if s.publication], TOTAL),
            "counters": db.scalars(select(NumberCounter).order_by(NumberCounter.year.desc(), NumberCounter.code)).all()}


def _calendar(db) -> dict:
    this_year = date(clock.local_today().year, 1, 1)
    return {"entered": db.scalars(select(CalendarYear.year).order_by(CalendarYear.year)).all(),
            "overrides": db.scalars(select(CalendarOverride).where(CalendarOverride.day >= this_year)
                                    .order_by(CalendarOverride.day)).all()}


# What each section's page reads: only its own rows.
READS = {
    "units": _organisation,
    "people": _people,
    "lists": lambda db: {**_organisation(db), "lists": db.scalars(select(DistributionList).order_by(
        DistributionList.owner_unit_id, DistributionList.name)).all()},
    "numbers": _numbers,
    "calendar": _calendar,
    "deadlines": lambda db: {"deadlines": deadline_rules(db)},
    "incidents": lambda db: {"incidents": db.scalars(select(Incident).where(Incident.resolved_at.is_(None))
                                                     .order_by(Incident.id)).all()},
}


@bp.route("/")
@system_admin
def overview():
    """系统管理's first section, 单位与部门."""
    return _page("units")


@bp.route("/<name>")
@system_admin
def section(name: str):
    """One section of what the system administrator keeps, with the way to the others; every section
    warns of a coming year whose holidays are not entered yet."""
    if name not in SECTIONS:
        abort(404)
    return _page(name)


def _page(name: str):
    with current_gongwen().db.session() as db:
        return render_template("admin/system.html", section=name, sections=SECTIONS,
                               unit_id=request.args.get("unit", ""), years_to_enter=years_to_enter(db),
                               urgencies=URGENCIES, measures=MEASURES, unit_kinds=UNIT_KINDS,
                               series_kinds=SERIES_KINDS, doc_types=DOC_TYPES, **READS[name](db))


def _act(done: str, change, anchor: str, refusal: str | None = None, **back):
    """Run ``change(db)`` in one transaction; then say ``done``, or why nothing changed, on section ``anchor``.
    With ``refusal``, a change refused is audited under that action, after its transaction has rolled back."""
    reason = None
    try:
        with current_gongwen().db.write() as db:
            change(db)
        flash(done)
    except GongwenError as err:
        flash(f"未生效：{err}")
        reason = type(err).__name__
    except (KeyError, ValueError):
        flash("未生效：请检查填写的内容")
        reason = "malformed"
    if refusal and reason:
        refused(refusal, reason=reason)
    return redirect(url_for("system.section", name=anchor, **back))


T = TypeVar("T")


def _given(value: T | None) -> T:
    """A parsed form value, or ``ValueError`` (which ``_act`` reports as "请检查填写的内容")."""
    if value is None:
        raise ValueError("a missing or malformed value")
    return value


def _unit(db) -> Unit:
    return db.get(Unit, as_id(request.form.get("unit_id")) or 0) or abort(404)


def _department(db) -> Department | None:
    department_id = as_id(request.form.get("department_id"))
    return db.get(Department, department_id) if department_id else None


def _person(db, person_id: int) -> Person:
    return db.get(Person, person_id) or abort(404)


@bp.post("/units")
@system_admin
def add_unit():
    form = request.form
    parent = form.get("parent_id", "")

    def change(db):
        create_unit(db, form.get("name", ""), UnitKind(form.get("kind", "")),
                    parent=db.get(Unit, parent_id) if (parent_id := as_id(parent)) else None,
                    issuer_code=form.get("issuer_code", "").strip(), short_name=form.get("short_name", "").strip(),
                    actor_id=g.person.id)
    return _act(f"已创建单位 {form.get('name', '')}", change, "units")


@bp.post("/departments")
@system_admin
def add_department():
    form = request.form
    return _act(f"已创建部门 {form.get('name', '')}", lambda db: create_department(
        db, _unit(db), form.get("name", ""), is_office=form.get("is_office") == "true", actor_id=g.person.id),
        "units", unit=form.get("unit_id"))


@bp.post("/people")
@system_admin
def add_person():
    form = request.form
    return _act(f"已创建账号 {form.get('login', '')}", lambda db: create_person(
        db, form["login"].strip(), form["name"].strip(), form["password"], unit=_unit(db),
        department=_department(db), actor_id=g.person.id), "people", unit=form.get("unit_id"))


@bp.post("/people/<int:person_id>/freeze")
@system_admin
def freeze(person_id):
    frozen = request.form.get("frozen") == "1"
    return _act("已冻结账号" if frozen else "已解冻账号",
                lambda db: set_frozen(db, _person(db, person_id), frozen, actor_id=g.person.id),
                "people", unit=request.form.get("back_unit"))


@bp.post("/people/<int:person_id>/move")
@system_admin
def move(person_id):
    return _act("已调动；原单位的角色已随调动撤销",
                lambda db: move_person(db, _person(db, person_id), _unit(db), _department(db), actor_id=g.person.id),
                "people", unit=request.form.get("unit_id"))


@bp.post("/people/<int:person_id>/job-title")
@system_admin
def job_title(person_id):
    return _act("已修改职务", lambda db: set_job_title(db, _person(db, person_id), request.form.get("job_title"),
                                                   actor_id=g.person.id), "people", unit=request.form.get("back_unit"))


@bp.post("/lists")
@system_admin
def save_list():
    form = request.form
    return _act(f"已保存分发列表 {form.get('name', '')}",
                lambda db: save_distribution_list(db, _unit(db), form.get("name", ""),
                                                  _given(as_ids(form.getlist("members"))), actor_id=g.person.id),
                "lists")


@bp.post("/lists/<int:list_id>/delete")
@system_admin
def delete_list(list_id):
    return _act("已删除分发列表", lambda db: delete_distribution_list(
        db, db.get(DistributionList, list_id) or abort(404), actor_id=g.person.id), "lists")


@bp.post("/numbers")
@system_admin
def numbers():
    form = request.form
    return _act(f"已设定 {form.get('code', '')}〔{form.get('year', '')}〕的下一个文号",
                lambda db: set_next(db, form["code"].strip(), _given(as_id(form.get("year"))),
                                    _given(as_id(form.get("next_seq"))), actor_id=g.person.id), "numbers")


@bp.post("/series")
@system_admin
def add_number_series():
    """Give an issuing unit a series beside its main one, through ``add_series`` (the CLI's rules); every value is
    one the page offered (a unit with a 机关代字, a kind, 文种), else nothing changes and the refusal is audited."""
    form = request.form
    unit_id = as_id(form.get("unit_id"))

    def change(db):
        unit = next((u for u in _issuers(db) if u.id == unit_id), None)
        kind, doc_types = form.get("kind", ""), form.getlist("doc_types")
        if unit is None:
            raise Refused("请从列表中选择有机关代字的单位")
        if kind not in SERIES_KINDS or not set(doc_types) <= DOC_TYPES.keys():
            raise ValueError("a kind or 文种 the page did not offer")
        add_series(db, unit, form.get("name", ""), form.get("code", ""), doc_types, telegram=kind == "telegram",
                   publication=kind == "publication", total_from=_given(as_id(form.get("total_from") or "1")),
                   actor_id=g.person.id)
    return _act(f"已设发文字号系列 {form.get('name', '').strip()}（{form.get('code', '').strip()}）", change,
                "numbers", refusal="numbering.add_series_refused", unit=unit_id)


@bp.post("/series/<int:series_id>/retire")
@system_admin
def retire_number_series(series_id: int):
    """Retire a series once the page's 确认停用 box is ticked; its numbers stay given, its code taken."""
    def change(db):
        series = db.get(NumberSeries, series_id) or abort(404)
        if request.form.get("confirm") != "yes":
            raise Refused(f"请勾选“确认停用”后再停用 {series.code}")
        retire_series(db, series, actor_id=g.person.id)
    return _act("已停用该发文字号系列，已编的文号保持不变", change, "numbers",
                refusal="numbering.retire_series_refused", unit=as_id(request.form.get("back_unit")))


@bp.post("/calendar")
@system_admin
def calendar():
    form = request.form
    return _act(f"已调整 {form.get('day', '')}",
                lambda db: set_override(db, _given(as_day(form.get("day"))), form["kind"] == "workday",
                                        form.get("note", "").strip(), actor_id=g.person.id), "calendar")


@bp.post("/calendar/year")
@system_admin
def calendar_year():
    year = request.form.get("year", "")
    return _act(f"{year} 年放假安排已标记为录入",
                lambda db: mark_year_entered(db, _given(as_id(year)), actor_id=g.person.id), "calendar")


@bp.post("/deadlines")
@system_admin
def deadlines():
    form = request.form
    return _act(f"已设定{URGENCIES.get(form.get('urgency', ''), '')}的签收时限",
                lambda db: set_deadline(db, form["urgency"], _given(as_number(form.get("amount"), 0, 1e6)),
                                        form["measure"], actor_id=g.person.id), "deadlines")


@bp.post("/incidents/<int:incident_id>/retry")
@system_admin
def retry(incident_id):
    try:
        again = current_gongwen().runtime.retry_incident(incident_id, actor_id=g.person.id)
        flash(f"重试未成功，再次出错：{again.error}" if again else f"故障 {incident_id} 已重试，流程继续运行")
    except GongwenError as err:
        flash(f"重试未成功：{err}")
    return redirect(url_for("system.section", name="incidents"))
