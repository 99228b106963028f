"""Seal pages for units and issuing offices: apply for a seal, follow the applications, read the register.

A unit's seal keeper or clerk starts an application (its form opens as their first task; the head
and the issuing office act from their inboxes). The applications page lists the unit's own and, for
an issuing office, those sent to it. The register lists each seal's history: a unit's people see
their unit's seals, an issuing office's people also the seals it issued, the security officer all.
The system administrator and the auditor hold no business role and see none of it (三员分立).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import GongwenError
from engine.models import Person, Role
from handlers.seals.applications import (
    ACTIONS,
    REISSUE_REASONS,
    RETURN_REASONS,
    applications,
    followed_units,
    may_apply,
    start_application,
)
from handlers.seals.history import seal_history

from . import current_gongwen
from .auth import login_required
from .drafting import first_task
from .errors import refused

bp = Blueprint("seals", __name__, url_prefix="/seals")


@bp.app_template_global()
def seal_label(kind: str, key: str | None) -> str:
    """The words an applicant chose (``kind`` "action" or "reason"), for the pages that show an application."""
    labels = ACTIONS if kind == "action" else {**REISSUE_REASONS, **RETURN_REASONS}
    return labels.get(key or "", key or "")


@bp.post("/applications/new")
@login_required
def apply() -> ResponseReturnValue:
    """Start an application for my unit's seal and open its form; only its seal keeper or clerk may."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        allowed = may_apply(db, g.person.id, g.person.unit_id)
    if not allowed:
        abort(403)  # audited by the error page
    try:
        with gongwen.db.write() as db:
            instance_id = start_application(gongwen.runtime, db, db.get(Person, g.person.id))
    except GongwenError as err:
        refused("seal.apply_refused", reason=type(err).__name__)
        flash(f"未能发起印章申请：{err}")
        return redirect(url_for("seals.list_applications"))
    return first_task(instance_id)


@bp.get("/applications")
@login_required
def list_applications() -> ResponseReturnValue:
    """My units' applications, and for an issuing office those sent to it, with where each stands."""
    with current_gongwen().db.session() as db:
        units = followed_units(db, g.person.id)
        if not units:
            abort(403)
        own = applications(db, units)
        addressed = applications(db, units, addressed_to=True)
        can_apply = may_apply(db, g.person.id, g.person.unit_id)
    return render_template("seals/applications.html", own=own, addressed=addressed, can_apply=can_apply,
                           now=clock.now())


@bp.get("/register")
@login_required
def register() -> ResponseReturnValue:
    """The seal register with each seal's history, as far as the person may see it."""
    with current_gongwen().db.session() as db:
        if Role.SECURITY_OFFICER in g.roles:
            entries = seal_history(db)
        else:
            units = followed_units(db, g.person.id)
            if not units:
                abort(403)
            entries = seal_history(db, units=units)
    return render_template("seals/register.html", entries=entries)
