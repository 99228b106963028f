"""The home page (门户) on top of the inbox's 待办: what waits, what to read, the latest notices, common actions.

The home is the inbox's first page (``/``): after logging in and after every completed task people land
there, and the push code and the tests find the 待办 rows there. This module only gathers what the
portal above the rows shows; ``portal()`` is called by the template, so a page without the portal
costs nothing. The three administrators (三员分立) get their own sections and their own notices, never a
document's title.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, g, url_for
from sqlalchemy import select

from engine import inbox
from engine.models import ProcessInstance, Role, Task
from handlers.notifications import tell as notifications
from handlers.notifications.models import Notification
from handlers.office_notes import announcements
from handlers.office_notes.announcements import Listed
from handlers.seals.applications import may_apply

from . import current_gongwen
from .menu import Item, items

bp = Blueprint("home", __name__)
SHOWN = 5  # rows of each list on the home; the rest are a click away
READING_FORMS = ("incoming_read",)  # 传阅: a document sent to be read
ADMIN_GROUPS = ("系统管理", "安全保密", "安全审计")


@dataclass(frozen=True)
class Action:
    """A common action: a page to open, or (``post``) a process to start."""

    label: str
    url: str
    icon: str
    post: bool = False


@dataclass(frozen=True)
class Portal:
    """What the home shows one person (``todo``/``reading``: tasks with their instance's title)."""

    todo: list[tuple[Task, str]]
    reading: list[tuple[Task, str]]
    unread: int
    notices: list[Notification]
    announcements: list[Listed]  # 公告 for the person's unit, newest first, unread ones marked
    actions: list[Action]
    sections: list[Item]


def _titled(db, tasks: list[Task]) -> list[tuple[Task, str]]:
    ids = {t.instance_id for t in tasks}
    titles = dict(db.execute(select(ProcessInstance.id, ProcessInstance.title)
                             .where(ProcessInstance.id.in_(ids))).all()) if ids else {}
    return [(t, titles.get(t.instance_id) or f"流程 {t.instance_id}") for t in tasks]


def actions(db, person, roles: set[Role]) -> list[Action]:
    """The common actions offered to ``person``: each only to whom the page behind it would allow."""
    if person.unit_id is None:
        return []
    offered = []
    if Role.DRAFTER in roles:
        offered.append(Action("起草公文", url_for("drafting.new_document"), "file-earmark-plus", post=True))
    offered.append(Action("申请请假", url_for("drafting.start_leave"), "calendar2-minus", post=True))
    if may_apply(db, person.id, person.unit_id):
        offered.append(Action("申请电子印章", url_for("seals.apply"), "patch-check", post=True))
    if Role.SUPERVISOR in roles:
        offered.append(Action("督查统计", url_for("supervision.area"), "clipboard-data"))
    elif roles & {Role.LEADER, Role.CLERK}:
        offered.append(Action("本单位督查", url_for("supervision.unit", text=person.unit_id), "clipboard-data"))
    offered.append(Action("收发文联系人", url_for("contacts.register"), "person-lines-fill"))
    return offered


def portal() -> Portal:
    """The home's content for the person logged in."""
    person, roles = g.person, g.roles
    with current_gongwen().db.session() as db:
        working = person.unit_id is not None
        todo = _titled(db, list(inbox.ready_tasks(db, person.id, limit=SHOWN))) if working else []
        reading = _titled(db, list(inbox.ready_tasks(db, person.id, limit=SHOWN, form_keys=READING_FORMS))) \
            if working else []
        notices = notifications.latest(db, person.id, limit=SHOWN)
        published = announcements.listed(db, person.id, limit=SHOWN) if working else []
        offered = actions(db, person, roles)
    sections = [] if working else [i for i in items(person, roles) if i.group in ADMIN_GROUPS]
    return Portal(todo, reading, g.get("unread_count") or 0, notices, published, offered, sections)


@bp.app_context_processor
def _portal() -> dict:
    return {"portal": portal}
