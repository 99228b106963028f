"""The 发起 page: every deployed process a person may start, as the diagrams declare (``startRoles``,
``category``), grouped by category; starting one opens its first step.

The 发文拟稿 and 请假申请 buttons keep their own routes (``web.drafting``): their diagrams do not
declare ``startRoles``, because starting them does more than start a process (a document row, the leave's
department). A start here puts the applicant's department and the unit's 办公室 in the instance's data
(``department_id``, ``office_department_id``), which a declared diagram routes its approvals by.
"""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine import organisation
from engine.deploy import check_may_start, startable
from engine.errors import Forbidden, GongwenError, NotFound
from engine.models import Department, Person

from . import current_gongwen
from .auth import login_required
from .drafting import first_task
from .errors import refused

bp = Blueprint("start", __name__)


def start_process(person: Person, process_id: str) -> int:
    """Start the latest ``process_id`` as ``person`` in their unit; returns the instance's id.

    NotFound: no such process, or one not started by people; Forbidden: ``person`` holds none of its
    ``startRoles`` (or works in no unit: the three administrators start nothing).
    """
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        roles = organisation.roles_of(db, person.id) if person.unit_id is not None else set()
        process = check_may_start(db, process_id, roles)
        office = db.scalar(select(Department.id).where(Department.unit_id == person.unit_id, Department.is_office)
                           .order_by(Department.id).limit(1))
    return gongwen.runtime.start(process.process_id, owning_unit_id=person.unit_id, initiator_id=person.id,
                                 data={"department_id": person.department_id, "office_department_id": office},
                                 title=f"{person.name}的{process.name}")


@bp.get("/start")
@login_required
def index() -> ResponseReturnValue:
    """The processes this person may start, by category."""
    with current_gongwen().db.session() as db:
        found = startable(db, g.roles) if g.person.unit_id is not None else []
    groups = [(category, list(rows)) for category, rows in groupby(found, lambda s: s.category)]
    return render_template("start.html", groups=groups)


@bp.post("/start/<process_id>")
@login_required
def start(process_id: str) -> ResponseReturnValue:
    """Start ``process_id`` and open its first step; a refusal is said in Chinese, audited, and starts nothing."""
    try:
        instance_id = start_process(g.person, process_id)
    except (NotFound, Forbidden) as err:
        refused("start.refused", process_id=process_id[:100], status=err.status)
        flash(f"未能发起：{err}")
        return redirect(url_for("start.index"))
    except GongwenError as err:
        flash(f"未能发起：{err}")
        return redirect(url_for("start.index"))
    return first_task(instance_id)
