"""留痕 pages of a document: the 花脸稿 (every change marked with who made it, at which step, when), the 清稿
(the current text, clean) and each version.

Only the issuing units' people find them (``web.access.drafting_history``); anyone else gets a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.models import Person
from handlers.documents.models import Document, DocumentRevision
from handlers.documents.revisions import paragraphs, revisions, tracked

from . import access, current_gongwen
from .auth import login_required
from .errors import or_404

bp = Blueprint("revisions", __name__)

# How many authors get a colour of their own; more share them (the legend and each mark's number still tell).
COLOURS = 6


@bp.route("/documents/<int:document_id>/traces")
@login_required
def traces(document_id: int) -> ResponseReturnValue:
    """花脸稿: the current wording with every version's insertions and deletions since the draft."""
    document, found, about = _history(document_id)
    return render_template("traces.html", view="traces", document=document, revisions=found, about=about,
                           title=tracked([(r.title, r) for r in found]) if found else [],
                           body=tracked([(r.body, r) for r in found]) if found else [])


@bp.route("/documents/<int:document_id>/clean")
@login_required
def clean(document_id: int) -> ResponseReturnValue:
    """清稿: the wording as it stands, without marks."""
    document, found, about = _history(document_id)
    return render_template("traces.html", view="clean", document=document, revisions=found, about=about)


@bp.route("/documents/<int:document_id>/revisions/<int:number>")
@login_required
def revision(document_id: int, number: int) -> ResponseReturnValue:
    """One version: what it changed from the one before, and its wording clean."""
    document, found, about = _history(document_id)
    shown = next((r for r in found if r.number == number), None)
    if shown is None:
        abort(404)
    compared = [r for r in found if r.number in (number - 1, number)]
    return render_template("traces.html", view="revision", document=document, revisions=found, about=about,
                           shown=shown, clean_body=paragraphs(shown.body),
                           title=tracked([(r.title, r) for r in compared]),
                           body=tracked([(r.body, r) for r in compared]))


def _history(document_id: int) -> tuple[Document, list[DocumentRevision], dict[int, dict]]:
    """The document, its revisions, and per revision number who made it (姓名 · 步骤 · 时间) and its author's colour."""
    with current_gongwen().db.session() as db:
        document = or_404(access.drafting_history, db, document_id, g.person.id)
        found = revisions(db, document_id)
        people = {r.person_id for r in found}
        names = dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(people))).all()) if people else {}
    colours: dict[int, int] = {}
    for r in found[1:]:  # the first version is the base text: it marks nothing
        colours.setdefault(r.person_id, len(colours) % COLOURS)
    about = {r.number: {"name": names[r.person_id], "step": r.step, "at": r.created_at,
                        "colour": colours.get(r.person_id, 0)} for r in found}
    return document, found, about
