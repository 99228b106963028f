"""A task's page, whatever its form: show the form with the document and the trail, complete it;
and the role pool's actions on it: take it (claim), put it back (unclaim), hand it on (delegate).

Only someone who may act on the task finds it (``web.access``); the engine checks again on completion.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import fields
from werkzeug.datastructures import MultiDict

from engine import inbox
from engine.errors import Conflict, Forbidden, FormInvalid, GongwenError, NotFound
from engine.models import ProcessInstance, Task
from engine.registry import FORMS, FormSpec
from forms.choices import people
from handlers.documents.drafting import draft_values
from handlers.documents.models import Document
from handlers.exchange.holdings import document_for_instance
from handlers.exchange.sign_for import check_before_signing
from handlers.incoming.external import external_for_instance
from handlers.opinions import saved
from handlers.opinions.trail import opinion_trail
from handlers.seals.opinions import trail_signatures

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404
from .params import as_id

bp = Blueprint("tasks", __name__)


@bp.route("/tasks/<uuid:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: uuid.UUID) -> ResponseReturnValue:
    if request.method == "POST":
        with current_gongwen().db.session() as db:
            row = or_404(access.actionable_task, db, task_id, g.person.id)
        try:
            complete(row, request.form)
            flash(f"已办理：{row.name}")
            return redirect(url_for("inbox.index"))
        except FormInvalid as err:
            return task_page(task_id, request.form, err.errors)
        except (Conflict, NotFound, Forbidden) as err:
            flash(str(err))
            return redirect(url_for("inbox.index"))
        except GongwenError as err:
            flash(str(err))
    return task_page(task_id, request.form if request.method == "POST" else None)


def complete(row: Task, values: MultiDict) -> None:
    """Complete ``row`` (a task ``access.actionable_task`` gave this person) with posted ``values``, as its page
    does; the engine validates, verifies and checks again, raising what ``Runtime.complete`` raises."""
    current_gongwen().runtime.complete(row.id, g.person.id, form_data(FORMS[row.form_key], values))


def task_page(task_id: uuid.UUID, values: MultiDict | None = None,
              errors: dict[str, list[str]] | None = None) -> ResponseReturnValue:
    """The task's page with its form showing ``values`` (None: as saved, e.g. a returned draft) and ``errors``
    (422 when there are any); NotFound (404) unless the person may act on it now."""
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        row = or_404(access.actionable_task, db, task_id, g.person.id)
        instance = db.get(ProcessInstance, row.instance_id)
        trail = opinion_trail(db, row.instance_id)
        signatures = trail_signatures(db, [entry.step for entry in trail])
        saved_opinions = saved.offered(db, g.person.id)
        document = document_for_instance(db, row.instance_id)
        attachments = list(document.attachments) if document is not None else []
        external = external_for_instance(db, row.instance_id) if document is None else None
        report = check_before_signing(db, gongwen.files, document) \
            if document is not None and document.sealed_sha256 and row.form_key == "incoming_sign_for" else None
        spec = FORMS[row.form_key]
        choices = spec.choices(db, g.person.id, instance.owning_unit_id) if spec.choices else {}
        context = spec.context(db, row, gongwen.runtime.task_data(db, row.id)) if spec.context else {}
        if values is None:
            values = as_form_values(context["values"]) if "values" in context else _saved_draft(row, document)
        colleagues = [(pid, name) for pid, name in people(db, row.candidate_unit_id) if pid != g.person.id] \
            if row.candidate_unit_id else []
    errors = errors or {}
    return render_template(spec.template, task=row, instance=instance, form=spec, values=values, errors=errors,
                           trail=trail, signatures=signatures, document=document, attachments=attachments,
                           external=external, report=report, choices=choices, colleagues=colleagues,
                           saved_opinions=saved_opinions, context=context), 422 if errors else 200


@bp.post("/tasks/<uuid:task_id>/<any(claim, unclaim, delegate):action>")
@login_required
def task_action(task_id: uuid.UUID, action: str) -> ResponseReturnValue:
    """Take a shared task as mine, put it back for the others, or hand it to a colleague."""
    try:
        with current_gongwen().db.write() as db:
            # Out of reach, the task does not exist for them (404); taken by someone else, they are told so.
            or_404(access.reachable_task, db, task_id, g.person.id)
            if action == "claim":
                inbox.claim(db, task_id, g.person.id)
            elif action == "unclaim":
                inbox.unclaim(db, task_id, g.person.id)
            else:
                to = as_id(request.form.get("to_person_id"))
                if to is None:
                    raise ValueError("no person chosen")
                inbox.delegate(db, task_id, g.person.id, to)
    except (Conflict, Forbidden, NotFound) as err:
        flash(str(err))
        return redirect(url_for("inbox.index"))
    except ValueError:
        flash("请选择转交给谁")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash({"claim": "已由您办理，其他人的待办中不再显示", "unclaim": "已放回，本单位有权办理的人都能看到",
           "delegate": "已转交"}[action])
    return redirect(url_for("tasks.task", task_id=task_id) if action == "claim" else url_for("inbox.index"))


def _saved_draft(task: Task, document: Document | None) -> MultiDict:
    """A returned draft opens with what was drafted before, not an empty form."""
    if task.form_key != "outgoing_draft" or document is None or not document.title:
        return MultiDict()
    return as_form_values(draft_values(document))


def as_form_values(saved: dict) -> MultiDict:
    """Values as a posted form would carry them: a list as repeated fields, a yes as "true", a no or a
    nothing left out."""
    values = MultiDict()
    for name, value in saved.items():
        if value is None:
            continue
        if isinstance(value, list):
            for item in value:
                values.add(name, str(item))
        elif isinstance(value, bool):
            values.add(name, "true" if value else "")
        else:
            values.add(name, value)
    return values


def form_data(spec: FormSpec, form: MultiDict) -> dict:
    """The posted fields the form declares: lists as lists, blanks left out so defaults apply."""
    data = {}
    for name, field in spec.schema._declared_fields.items():
        if isinstance(field, fields.List):
            if name in form:
                data[name] = [v for v in form.getlist(name) if v != ""]
        elif form.get(name, "") != "":
            data[name] = form[name]
    return data
