"""The duty-contact register (收发文联系人) of my unit: read by anyone in the unit, kept by its office.

The office (the unit's clerks, or the head of its office department: ``register.may_keep``) adds,
replaces and removes contacts, each with a date and a reason; every row stays in the history below
the current register. A person of another unit, or one of the three administrators, changes nothing
here (403, audited by the error page). Refused input comes back on the form with the reason in
Chinese, audited as a refusal, and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import NoReturn

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import GongwenError, Refused
from engine.models import Person, PersonStatus, Unit
from engine.organisation import works_in
from handlers.contacts.models import Duty, DutyContact
from handlers.contacts.register import DUTY_ORDER, MAX_CLERKS, appoint, current, history, may_keep, remove, replace

from . import current_gongwen
from .auth import login_required
from .errors import refused
from .params import as_day, as_id

bp = Blueprint("contacts", __name__, url_prefix="/contacts")
FIELDS = ("duty", "person_id", "name", "title", "mobile", "since", "reason")


def _refuse(code: int) -> NoReturn:
    """End the request with ``code``; the error page audits it as an access refusal."""
    g.access_refused = True
    abort(code)


def _my_unit(db: Session) -> int:
    """The asking person's unit, if they work in it (the administrators work in none)."""
    unit_id = g.person.unit_id
    if unit_id is None or not works_in(db, g.person.id, {unit_id}):
        _refuse(403)
    return unit_id


def _keepable(db: Session, contact_id: int) -> DutyContact:
    """A row of a register the asking person keeps; 404 if there is none, 403 if it is another's."""
    contact = db.get(DutyContact, contact_id)
    if contact is None:
        _refuse(404)
    if not may_keep(db, g.person.id, contact.unit_id):
        _refuse(403)
    return contact


def _offered_people(db: Session, unit_id: int) -> list[Person]:
    """The people a contact may be picked from: the unit's own active people."""
    return list(db.scalars(select(Person).where(Person.unit_id == unit_id, Person.status == PersonStatus.ACTIVE)
                           .order_by(Person.name, Person.id)))


def _picked(form, offered: list[Person]) -> int | None:
    """The person picked on the form, who must be one the form offered; None for someone without an account."""
    text = form.get("person_id", "")
    if not text:
        return None
    person_id = as_id(text)
    if person_id is None or person_id not in {p.id for p in offered}:
        raise Refused("请从列表中选择本单位人员")
    return person_id


def _day(form, field: str, label: str) -> date:
    day = as_day(form.get(field, ""))
    if day is None:
        raise Refused(f"{label}应为有效日期，如 {clock.local_today():%Y-%m-%d}")
    return day


@bp.get("")
@login_required
def register() -> ResponseReturnValue:
    """My unit's register now, what the office may do with it, and its history."""
    with current_gongwen().db.session() as db:
        unit_id = _my_unit(db)
        rows, past = current(db, unit_id), history(db, unit_id)
        keeper = may_keep(db, g.person.id, unit_id)
        recorders = {r.recorded_by_id for r in past} - {None}
        names = dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(recorders))).all()) \
            if recorders else {}
        unit = db.get(Unit, unit_id).name
    vacant = [d for d in DUTY_ORDER
              if sum(r.duty == d for r in rows) < (MAX_CLERKS if d == Duty.CLERK else 1)]
    return render_template("contacts/register.html", unit=unit, rows=rows, history=past, keeper=keeper,
                           vacant=vacant, names=names, duties=DUTY_ORDER)


def _form_page(template: str, status: int = 200, **context) -> ResponseReturnValue:
    return render_template(f"contacts/{template}", duties=DUTY_ORDER, today=clock.local_today(), **context), status


def _values(form) -> dict[str, str]:
    """What was typed, to show again on a refused form (cut short: a huge value is not echoed back)."""
    return {k: form.get(k, "")[:300] for k in FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """Add a contact to my unit's register (the office only)."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        unit_id = _my_unit(db)
        if not may_keep(db, g.person.id, unit_id):
            _refuse(403)
        offered = _offered_people(db, unit_id)
    context = dict(action="new", contact=None, people=offered)
    if request.method == "GET":
        return _form_page("form.html", values={"duty": request.args.get("duty", "")[:32]}, **context)
    form = request.form
    try:
        try:
            duty = Duty(form.get("duty", ""))
        except ValueError:
            raise Refused("请选择联系人类别：分管领导、主要负责人或收发文人员") from None
        person_id, since = _picked(form, offered), _day(form, "since", "起始日期")
        with gongwen.db.write() as db:
            row = appoint(db, unit_id, duty, name=form.get("name"), title=form.get("title"),
                          mobile=form.get("mobile"), since=since, reason=form.get("reason"), person_id=person_id,
                          actor_id=g.person.id)
            done = f"已登记{duty.label}：{row.name}"
    except GongwenError as err:
        refused("contact.appoint_refused", reason=type(err).__name__)
        return _form_page("form.html", 422, values=_values(form), error=str(err), **context)
    flash(done)
    return redirect(url_for("contacts.register"))


@bp.route("/<int:contact_id>/replace", methods=["GET", "POST"])
@login_required
def change(contact_id: int) -> ResponseReturnValue:
    """Put someone in the place of a current contact from a date, with the reason."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        contact = _keepable(db, contact_id)
        offered = _offered_people(db, contact.unit_id)
    if contact.until is not None:
        flash("该联系人已被更换或移除，请在当前登记中选择")
        return redirect(url_for("contacts.register"))
    context = dict(action="replace", contact=contact, people=offered)
    if request.method == "GET":
        return _form_page("form.html", values={"title": contact.title}, **context)
    form = request.form
    try:
        person_id, since = _picked(form, offered), _day(form, "since", "起始日期")
        with gongwen.db.write() as db:
            row = replace(db, contact_id, name=form.get("name"), title=form.get("title"),
                          mobile=form.get("mobile"), since=since, reason=form.get("reason"), person_id=person_id,
                          actor_id=g.person.id)
            done = f"已更换{row.duty.label}：{contact.name} → {row.name}"
    except GongwenError as err:
        refused("contact.replace_refused", reason=type(err).__name__, contact_id=contact_id)
        return _form_page("form.html", 422, values=_values(form), error=str(err), **context)
    flash(done)
    return redirect(url_for("contacts.register"))


@bp.route("/<int:contact_id>/remove", methods=["GET", "POST"])
@login_required
def end(contact_id: int) -> ResponseReturnValue:
    """End a current contact without a successor, from a date, with the reason."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        contact = _keepable(db, contact_id)
    if contact.until is not None:
        flash("该联系人已被更换或移除，请在当前登记中选择")
        return redirect(url_for("contacts.register"))
    if request.method == "GET":
        return _form_page("remove.html", contact=contact, values={})
    form = request.form
    try:
        until = _day(form, "until", "截止日期")
        with gongwen.db.write() as db:
            remove(db, contact_id, until=until, reason=form.get("reason"), actor_id=g.person.id)
    except GongwenError as err:
        refused("contact.remove_refused", reason=type(err).__name__, contact_id=contact_id)
        values = {"until": form.get("until", "")[:30], "reason": form.get("reason", "")[:300]}
        return _form_page("remove.html", 422, contact=contact, values=values, error=str(err))
    flash(f"已移除{contact.duty.label}：{contact.name}")
    return redirect(url_for("contacts.register"))
