"""公告 pages: the list of announcements for me (and mine), publishing one, reading one (which marks it read) with
the author's reader list, and its attachments.

Who publishes to which units and who reads what is ``handlers.office_notes.announcements``'s answer: an
announcement not for the asker is a 404 (audited), whoever asks. The three administrators have no unit and find
none. A refused announcement comes back with what was typed and the reason in Chinese, audited, nothing stored.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import GongwenError, NotFound, Refused
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES, size_text
from handlers.office_notes import announcements, uploads
from handlers.office_notes.models import FileRef

from . import current_gongwen, documents
from .auth import login_required
from .errors import or_404, refused
from .params import as_ids

bp = Blueprint("announcements", __name__, url_prefix="/announcements")


def checked_uploads() -> uploads.Uploads:
    """The request's ``files`` inputs, checked (``uploads.check``), for the note's service to store once it accepts
    the note; ``Refused`` for a file refused."""
    given = [(f.filename or "", f.read()) for f in request.files.getlist("files")]
    gongwen = current_gongwen()
    return uploads.check(gongwen.files, given, gongwen.settings.option(ATTACHMENT_MAX_BYTES))


def stored_file(db, ref: FileRef) -> Response:
    """One attachment of a note the asker may read (``documents.stored_file``)."""
    return documents.stored_file(db, ref["sha256"], ref["filename"])


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """The announcements for me and those I published, newest first; 发布公告 if I may publish."""
    with current_gongwen().db.session() as db:
        return render_template("office_notes/announcements.html", rows=announcements.listed(db, g.person.id),
                               may_publish=bool(announcements.units_offered(db, g.person.id)))


def _offered(db) -> list:
    """The units I may announce to; NotFound (the 404 page) if I may not publish."""
    offered = announcements.units_offered(db, g.person.id)
    if not offered:
        raise NotFound("只有本单位的领导和收发员（办公室）可以发布公告")
    return offered


def _form(db, status: int = 200, error: str = "", values=None) -> ResponseReturnValue:
    offered = or_404(_offered, db)
    return render_template("office_notes/announcement_new.html", units=offered, error=error,
                           values=values or {"unit_ids": [str(offered[0].id)]}), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        return _form(db)


@bp.post("/new")
@login_required
def publish() -> ResponseReturnValue:
    """Publish to the units ticked, each one the form offered; a refusal changes nothing."""
    form = request.form
    unit_ids = as_ids(form.getlist("unit_ids"))
    try:
        with current_gongwen().db.write() as db:
            or_404(_offered, db)
            if unit_ids is None:
                raise Refused("请从列表中选择单位")
            announcement_id = announcements.publish(db, g.person.id, form.get("title", ""), form.get("body", ""),
                                                    unit_ids, checked_uploads()).id
    except GongwenError as err:
        refused("announcement.publish_refused", reason=type(err).__name__)
        values = {"title": form.get("title", "")[:200], "body": form.get("body", "")[:announcements.BODY_MAX],
                  "unit_ids": form.getlist("unit_ids")[:5000]}
        with current_gongwen().db.session() as db:
            return _form(db, 422, str(err), values)
    flash("公告已发布")
    return redirect(url_for("announcements.show", announcement_id=announcement_id))


@bp.get("/<int:announcement_id>")
@login_required
def show(announcement_id: int) -> ResponseReturnValue:
    """The announcement, marked read for me; its author also sees who has read it and who not yet."""
    with current_gongwen().db.write() as db:
        announcement = or_404(announcements.readable, db, announcement_id, g.person.id)
        announcements.mark_read(db, announcement, g.person.id)
        mine = announcement.author_id == g.person.id
        return render_template("office_notes/announcement.html", a=announcement,
                               units=announcements.audience_names(db, announcement), size_text=size_text,
                               readers=announcements.readers(db, announcement, g.person.id) if mine else None)


@bp.get("/<int:announcement_id>/files/<int:position>")
@login_required
def attachment(announcement_id: int, position: int) -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        announcement = or_404(announcements.readable, db, announcement_id, g.person.id)
        return stored_file(db, or_404(uploads.pick, announcement.files, position))
