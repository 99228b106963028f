"""The notification centre, a person's notice settings, and failed deliveries for the system administrator.

Every logged-in page shows the person's unread count in the navigation (``id="unread-count"``, for
the push script to update live). ``/notices`` lists one's notices, each linking to its task or
document; opening one marks it read. ``/settings/notices`` keeps one's mobile, email and the channels
that carry non-urgent notices. ``/admin/deliveries`` shows the system administrator the notices that
could not be delivered (never their words: 三员分立) and lets them try again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import MAX_ATTEMPTS
from engine.errors import NotFound, Refused
from engine.messages import after_commit
from engine.models import Outbox, OutboxStatus, Person, Task, TaskState, Unit
from engine.text import MOBILE_HINT, mobile_number
from handlers.notifications.mail import kind_label, normalise_email
from handlers.notifications.models import ChannelChoice, Notification, TextMessage, TextStatus
from handlers.notifications.tell import CHANNELS

from . import access, current_gongwen
from .admin import system_admin
from .auth import login_required
from .errors import refused
from .params import as_number

log = logging.getLogger(__name__)
bp = Blueprint("notices", __name__)
PAGE_SIZE = 20
MAX_PAGE = 10_000
NO_NOTICE = "没有这条通知"


def unread_count(db: Session, person_id: int) -> int:
    """How many of the person's notices are unread (answered from ``ix_notification_person``)."""
    return db.scalar(select(func.count()).select_from(Notification)
                     .where(Notification.person_id == person_id, Notification.read_at.is_(None)))


@bp.app_context_processor
def _unread() -> dict:
    """``unread_count`` for the navigation of every page a logged-in person sees; once per request."""
    if g.get("person") is None:
        return {}
    if "unread_count" not in g:
        try:
            with current_gongwen().db.session() as db:
                g.unread_count = unread_count(db, g.person.id)
        except SQLAlchemyError:  # an error page must still render when the database is what failed
            log.exception("unread count not available")
            g.unread_count = None
    return {"unread_count": g.unread_count}


# The notification centre


def target(db: Session, person_id: int, instance_id: int | None) -> str | None:
    """Where a notice about ``instance_id`` leads the person: their ready task there, else its document
    (or seal application) page if they may read it; None if nothing there is theirs to open."""
    if instance_id is None:
        return None
    tasks = db.scalars(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY)
                       .order_by(Task.created_at)).all()
    for task_id in tasks:
        try:
            access.actionable_task(db, task_id, person_id)
            return url_for("tasks.task", task_id=task_id)
        except NotFound:
            continue
    try:
        access.followed_seal_application(db, instance_id, person_id)
        return url_for("documents.instance_page", instance_id=instance_id)
    except NotFound:
        pass
    try:
        document = access.instance_document(db, instance_id, person_id)
        return url_for("documents.document_page", document_id=document.id)
    except NotFound:
        return None


@bp.route("/notices")
@login_required
def index() -> ResponseReturnValue:
    """My notices, newest first, twenty to a page; unread ones marked."""
    page = int(as_number(request.args.get("page"), 1, MAX_PAGE) or 1)
    with current_gongwen().db.session() as db:
        notes = db.scalars(select(Notification).where(Notification.person_id == g.person.id)
                           .order_by(Notification.id.desc()).limit(PAGE_SIZE + 1)
                           .offset((page - 1) * PAGE_SIZE)).all()
        more, notes = len(notes) > PAGE_SIZE, notes[:PAGE_SIZE]
        targets = {i: target(db, g.person.id, i) for i in {n.instance_id for n in notes if n.instance_id}}
    rows = [(n, kind_label(n.kind), bool(targets.get(n.instance_id))) for n in notes]
    return render_template("notices/index.html", rows=rows, page=page, more=more)


@bp.route("/notices/<int:notice_id>")
@login_required
def open_notice(notice_id: int) -> ResponseReturnValue:
    """Open one of my notices: it is marked read, and I am taken to its task or document."""
    with current_gongwen().db.write() as db:
        note = db.get(Notification, notice_id)
        if note is None or note.person_id != g.person.id:
            g.access_refused = True  # another's notice does not exist for me; audited by the error page
            abort(404, description=NO_NOTICE)
        if note.read_at is None:
            note.read_at = clock.now()
        goal = target(db, g.person.id, note.instance_id)
    if goal is None:
        flash("这条通知没有可打开的事项，已标为已读")
        return redirect(url_for("notices.index", _anchor=f"notice-{notice_id}"))
    return redirect(goal)


@bp.post("/notices/read-all")
@login_required
def read_all() -> ResponseReturnValue:
    """Mark every notice of mine read."""
    with current_gongwen().db.write() as db:
        done = db.execute(update(Notification).where(Notification.person_id == g.person.id,
                                                     Notification.read_at.is_(None))
                          .values(read_at=clock.now())).rowcount
    flash(f"已将 {done} 条通知标为已读" if done else "没有未读通知")
    return redirect(url_for("notices.index"))


# A person's notice settings

EMAIL_HINT = "电子邮箱格式不正确，应如 zhangsan@example.gov.cn"


def _mobile_or_none(text: str) -> str | None:
    try:
        return mobile_number(text)
    except Refused:
        return None


def _chosen(db: Session, person: Person) -> dict[str, bool]:
    """For each registered channel, whether it carries my non-urgent notices (my choice, else its default)."""
    rows = {c.channel: c.enabled for c in db.scalars(select(ChannelChoice)
                                                     .where(ChannelChoice.person_id == person.id))}
    return {name: rows.get(name, channel.default) for name, channel in CHANNELS.items()}


@bp.route("/settings/notices", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    """My mobile, my email, and the channels for my non-urgent notices."""
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        mobile_text, email_text = form.get("mobile", "").strip(), form.get("email", "").strip()
        mobile = _mobile_or_none(mobile_text) if mobile_text else None
        email = normalise_email(email_text) if email_text else None
        wanted = form.getlist("channel")
        if mobile_text and mobile is None:
            errors["mobile"] = MOBILE_HINT
        if email_text and email is None:
            errors["email"] = EMAIL_HINT
        if any(name not in CHANNELS for name in wanted):
            errors["channel"] = "所选的通知方式不存在，请刷新页面后重新选择"
        if not errors:
            changed = _save(mobile, email, set(wanted))
            flash("通知设置已保存" if changed else "通知设置没有变化")
            return redirect(url_for("notices.settings"))
        refused("notice.settings_refused", fields=sorted(errors))
    with current_gongwen().db.session() as db:
        person = db.get(Person, g.person.id)
        chosen = _chosen(db, person)
        reaches = {name: channel.reaches(person) for name, channel in CHANNELS.items()}
        values = form if errors else {"mobile": person.mobile or "", "email": person.email or ""}
    if errors:
        chosen = {name: name in form.getlist("channel") for name in CHANNELS}
    channels = [(name, channel.label, chosen[name], reaches[name]) for name, channel in CHANNELS.items()]
    return render_template("notices/settings.html", values=values, errors=errors,
                           channels=channels), 422 if errors else 200


def _save(mobile: str | None, email: str | None, wanted: set[str]) -> list[str]:
    """Store my settings; audit which of them changed (never their values). Returns the changed fields."""
    with current_gongwen().db.write() as db:
        person = db.get(Person, g.person.id)
        changed = []
        if person.mobile != mobile:
            person.mobile = mobile
            changed.append("mobile")
        if person.email != email:
            person.email = email
            changed.append("email")
        rows = {c.channel: c for c in db.scalars(select(ChannelChoice).where(ChannelChoice.person_id == person.id))}
        for name, now_on in _chosen(db, person).items():
            if (name in wanted) == now_on:
                continue
            if name in rows:
                rows[name].enabled = name in wanted
            else:
                db.add(ChannelChoice(person_id=person.id, channel=name, enabled=name in wanted))
            changed.append(f"channel:{name}")
        if changed:
            audit.record(db, "notice.settings", actor_id=person.id, unit_id=person.unit_id, changed=changed)
    return changed


# Failed deliveries, for the system administrator

TOPICS = ("tell", "sms")
SHOWN = 200


@dataclass
class Delivery:
    """One delivery as the system administrator sees it: who and how, never what."""

    id: int
    channel: str
    person: str
    unit: str
    error: str
    attempts: int
    created_at: datetime
    next_attempt: datetime | None
    given_up: bool


def masked(number: str | None) -> str:
    """A mobile number as pages show it to people who need not call it: ``138****5678``."""
    return f"{number[:3]}****{number[-4:]}" if number and len(number) >= 7 else "—"


def _delivery(db: Session, item: Outbox) -> Delivery:
    """What the page shows of ``item``: the notice's words are scrubbed even from the error."""
    payload, person_id, unit_id, words = item.payload or {}, None, None, []
    channel = CHANNELS.get(payload.get("channel", "")) if item.topic == "tell" else None
    label = channel.label if channel else ("短信" if item.topic == "sms" else payload.get("channel", "—"))
    if (note := db.get(Notification, payload["notification_id"]) if payload.get("notification_id") else None):
        person_id, words = note.person_id, [note.text, note.reason]
    text_id = payload.get("text_id")  # handlers.notifications.sms: one item per TextMessage
    if text := db.get(TextMessage, text_id) if isinstance(text_id, int) else None:
        person_id, unit_id, words = text.person_id or person_id, text.unit_id, [*words, text.text]
    person_id = person_id or payload.get("person_id")
    person = db.get(Person, person_id) if isinstance(person_id, int) else None
    unit_id = unit_id or (person.unit_id if person else payload.get("unit_id"))
    unit = db.get(Unit, unit_id) if isinstance(unit_id, int) else None
    who = person.name if person else (f"值班联系人 {masked(text.number)}" if text else "—")
    error = item.last_error or ""
    for word in words:
        if word and len(word) >= 2:
            error = error.replace(word, "（内容不予显示）")
    given_up = item.status == OutboxStatus.DEAD or item.attempts >= MAX_ATTEMPTS
    return Delivery(item.id, label, who, unit.name if unit else "—", error[:300], item.attempts, item.created_at,
                    None if given_up else item.not_before, given_up)


@bp.route("/admin/deliveries")
@system_admin
def deliveries() -> ResponseReturnValue:
    """Notices that could not be delivered (given up) and those still being retried."""
    with current_gongwen().db.session() as db:
        items = db.scalars(select(Outbox).where(Outbox.topic.in_(TOPICS),
                                                Outbox.status.in_([OutboxStatus.DEAD, OutboxStatus.FAILED]))
                           .order_by(Outbox.id.desc()).limit(SHOWN)).all()
        rows = [_delivery(db, item) for item in items]
    return render_template("notices/deliveries.html", given_up=[r for r in rows if r.given_up],
                           retrying=[r for r in rows if not r.given_up], max_attempts=MAX_ATTEMPTS)


@bp.post("/admin/deliveries/<int:item_id>/retry")
@system_admin
def redeliver(item_id: int) -> ResponseReturnValue:
    """Try a failed delivery again from the first attempt, now (重新投递)."""
    with current_gongwen().db.write() as db:
        item = db.get(Outbox, item_id)
        if item is None or item.topic not in TOPICS or item.status not in (OutboxStatus.DEAD, OutboxStatus.FAILED):
            flash("这项投递不存在或已不需要重新投递")
            return redirect(url_for("notices.deliveries"))
        audit.record(db, "outbox.redeliver", actor_id=g.person.id, instance_id=item.source_instance_id,
                     outbox_id=item.id, topic=item.topic, status=item.status.value, attempts=item.attempts)
        item.status, item.attempts, item.not_before, item.last_error = OutboxStatus.PENDING, 0, None, None
        text_id = (item.payload or {}).get("text_id")
        text = db.get(TextMessage, text_id) if item.topic == "sms" and isinstance(text_id, int) else None
        if text is not None and text.status in (TextStatus.FAILED, TextStatus.NO_GATEWAY):
            # The text was settled as not sent when the item gave up; the sender only sends a queued one.
            text.status, text.report = TextStatus.QUEUED, None
        after_commit(db, "deliver_outbox")
    with current_gongwen().db.session() as db:
        item = db.get(Outbox, item_id)
        status = item.status
        failed = _delivery(db, item) if status in (OutboxStatus.DEAD, OutboxStatus.FAILED) else None
    if status == OutboxStatus.DONE:
        flash("已重新投递，发送成功")
    elif failed is not None:
        flash(f"已重新投递，但仍未成功：{failed.error}")
    else:
        flash("已重新投递，等待发送")
    return redirect(url_for("notices.deliveries"))
