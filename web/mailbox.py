"""站内邮件 pages: 收件箱, 已发送, writing a mail (to people or the people of units), reading one (a recipient's
first opening is their read receipt; the sender sees every recipient's), and its attachments.

Whom one may mail and who reads what is ``handlers.office_notes.mailbox``'s answer: a mail neither sent nor
received by the asker is a 404 (audited). The three administrators have no unit and neither send nor receive
mail (三员分立). A refused mail comes back with what was typed and the reason in Chinese, audited, nothing sent.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import GongwenError, NotFound, Refused
from engine.models import Person
from handlers.documents.attachments import size_text
from handlers.office_notes import mailbox, uploads

from . import current_gongwen
from .announcements import checked_uploads, stored_file
from .auth import login_required
from .errors import or_404, refused
from .params import as_ids

bp = Blueprint("mailbox", __name__, url_prefix="/mail")


@bp.get("", defaults={"box": "inbox"})
@bp.get("/sent", defaults={"box": "sent"})
@login_required
def index(box: str) -> ResponseReturnValue:
    """收件箱 (unread in bold) or 已发送 (how many of the recipients have read each)."""
    with current_gongwen().db.session() as db:
        rows = mailbox.inbox(db, g.person.id) if box == "inbox" else mailbox.sent(db, g.person.id)
        return render_template("office_notes/mailbox.html", box=box, rows=rows,
                               may_write=g.person.unit_id is not None)


def _offered(db) -> list:
    """Whom I may mail; NotFound (the 404 page) for an administrator, who has nobody."""
    offered = mailbox.people_offered(db, g.person.id)
    if not offered:
        raise NotFound("管理员账号不收发站内邮件")
    return offered


def _form(db, status: int = 200, error: str = "", values=None) -> ResponseReturnValue:
    people = or_404(_offered, db)
    return render_template("office_notes/mail_new.html", people=people, units=mailbox.units_offered(people),
                           error=error, values=values or {}), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        return _form(db)


@bp.post("/new")
@login_required
def send() -> ResponseReturnValue:
    """Send to the people and units picked, each one the form offered; a refusal sends nothing."""
    form = request.form
    person_ids, unit_ids = as_ids(form.getlist("person_ids")), as_ids(form.getlist("unit_ids"))
    try:
        with current_gongwen().db.write() as db:
            or_404(_offered, db)
            if person_ids is None or unit_ids is None:
                raise Refused("只能发给页面列出的人员或单位")
            mail_id = mailbox.send(db, g.person.id, form.get("subject", ""), form.get("body", ""), person_ids,
                                   unit_ids, checked_uploads()).id
    except GongwenError as err:
        refused("mail.send_refused", reason=type(err).__name__)
        values = {"subject": form.get("subject", "")[:200], "body": form.get("body", "")[:mailbox.BODY_MAX],
                  "person_ids": form.getlist("person_ids")[:mailbox.MAX_RECIPIENTS],
                  "unit_ids": form.getlist("unit_ids")[:mailbox.MAX_RECIPIENTS]}
        with current_gongwen().db.session() as db:
            return _form(db, 422, str(err), values)
    flash("邮件已发送")
    return redirect(url_for("mailbox.show", mail_id=mail_id))


@bp.get("/<int:mail_id>")
@login_required
def show(mail_id: int) -> ResponseReturnValue:
    """The mail, read receipt written for a recipient; the sender sees when each recipient read it."""
    with current_gongwen().db.write() as db:
        mail = or_404(mailbox.readable, db, mail_id, g.person.id)
        mailbox.mark_read(db, mail, g.person.id)
        sender = db.get(Person, mail.sender_id)
        return render_template("office_notes/mail.html", mail=mail, sender=sender.name,
                               receipts=mailbox.receipts(db, mail, g.person.id), size_text=size_text)


@bp.get("/<int:mail_id>/files/<int:position>")
@login_required
def attachment(mail_id: int, position: int) -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        mail = or_404(mailbox.readable, db, mail_id, g.person.id)
        return stored_file(db, or_404(uploads.pick, mail.files, position))
