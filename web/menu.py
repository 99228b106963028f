"""The module menu (模块菜单) every page's frame shows: one list, each entry shown only to whom it serves.

A new module adds one ``Entry`` to ``MENU``. An entry is either a link to a page (``GET``) or an action
that starts something (``post=True``: a button in a form with the page's CSRF token, as on the home
page). Whether a person sees it is a predicate of the person and their roles; the page itself still
authorises every request, the menu only keeps people from being offered what they would be refused.
三员分立: the document modules need a unit, which the three administrators do not have, so they see
their own sections only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import groupby

from flask import Blueprint, g, request, url_for

from engine.models import Person, Role

from .registers import KEEPERS as REGISTER_KEEPERS

bp = Blueprint("menu", __name__)
Shown = Callable[[Person, set[Role]], bool]


def in_unit(person: Person, roles: set[Role]) -> bool:
    """Anyone who works in a unit (everyone but the three administrators)."""
    return person.unit_id is not None


def holding(*wanted: Role) -> Shown:
    """Shown to a holder of any of ``wanted``."""
    return lambda person, roles: bool(roles & set(wanted))


def _unit_supervision(person: Person, roles: set[Role]) -> bool:
    return Role.SUPERVISOR not in roles and bool(roles & {Role.LEADER, Role.CLERK}) and person.unit_id is not None


@dataclass(frozen=True)
class Entry:
    """One line of the menu: ``args`` gives the endpoint's values for the person (e.g. their unit)."""

    group: str
    label: str
    endpoint: str
    shown: Shown
    icon: str
    args: Callable[[Person], Mapping[str, object]] = field(default=lambda person: {})
    post: bool = False
    also: tuple[str, ...] = ()  # the module's other pages, where its entry is marked current too
    current: Callable[[], bool] | None = None  # instead of comparing endpoint and values


def is_home() -> bool:
    """The page is the home (门户): the inbox's 待办 view, unsearched; every other page shows the way back to it."""
    return request.endpoint == "inbox.index" and request.args.get("view", "todo") == "todo" \
        and set(request.args) <= {"view"}


MENU: tuple[Entry, ...] = (
    Entry("", "首页", "inbox.index", lambda person, roles: True, "house", current=is_home),
    Entry("公文", "发文拟稿", "drafting.new_document", lambda person, roles: Role.DRAFTER in roles
          and person.unit_id is not None, "file-earmark-plus", post=True),
    Entry("公文", "在办公文", "inbox.index", in_unit, "hourglass-split", lambda person: {"view": "doing"}),
    Entry("公文", "已办公文", "inbox.index", in_unit, "check2-square", lambda person: {"view": "done"}),
    Entry("公文", "办结公文", "inbox.index", in_unit, "archive", lambda person: {"view": "finished"}),
    Entry("公文", "外来文登记", "external.new", holding(Role.CLERK), "file-earmark-arrow-down"),
    Entry("公文", "收文登记簿", "registers.incoming_page", holding(*REGISTER_KEEPERS), "journal-arrow-down"),
    Entry("公文", "发文登记簿", "registers.outgoing_page", holding(*REGISTER_KEEPERS), "journal-arrow-up"),
    Entry("公文", "档案查询", "archive.search", holding(Role.ARCHIVIST), "archive-fill"),
    Entry("公文", "档案鉴定", "archive.appraisal_page", holding(Role.ARCHIVIST, Role.LEADER), "hourglass-bottom"),
    Entry("办公", "请假申请", "drafting.start_leave", in_unit, "calendar2-minus", post=True),
    Entry("办公", "发起", "start.index", in_unit, "send-plus"),
    Entry("办公", "督查", "supervision.area", holding(Role.SUPERVISOR), "clipboard-data"),
    Entry("办公", "督查", "supervision.unit", _unit_supervision, "clipboard-data",
          lambda person: {"text": person.unit_id}),
    Entry("办公", "通讯录", "contacts.register", in_unit, "person-lines-fill"),
    Entry("办公", "工作交接", "handover.index", in_unit, "arrow-left-right"),
    Entry("办公", "故障报告", "faults.index", in_unit, "exclamation-triangle", also=("faults.desk", "faults.paper")),
    Entry("办公", "会议", "meetings.index", in_unit, "people", also=("meetings.new", "meetings.overview")),
    Entry("办公", "公告", "announcements.index", in_unit, "megaphone",
          also=("announcements.new", "announcements.show")),
    Entry("办公", "邮件", "mailbox.index", in_unit, "envelope", also=("mailbox.new", "mailbox.show")),
    Entry("办公", "电话记录", "phone_notices.index", in_unit, "telephone",
          also=("phone_notices.new", "phone_notices.show")),
    Entry("办公", "电子印章", "seals.list_applications",
          holding(Role.SEAL_KEEPER, Role.CLERK, Role.LEADER), "patch-check"),
    Entry("系统管理", "系统管理", "system.overview", holding(Role.SYSTEM_ADMIN), "gear",
          also=("system.section",)),
    Entry("系统管理", "流程管理", "admin.processes", holding(Role.SYSTEM_ADMIN), "diagram-3",
          also=("admin.edit",)),
    Entry("系统管理", "通知投递", "notices.deliveries", holding(Role.SYSTEM_ADMIN), "send"),
    Entry("系统管理", "短信", "texts.overview", holding(Role.SYSTEM_ADMIN), "chat-dots"),
    Entry("安全保密", "安全管理", "security.overview", holding(Role.SECURITY_OFFICER), "shield-lock"),
    Entry("安全保密", "签名证书", "certificates.register", holding(Role.SECURITY_OFFICER), "person-badge"),
    Entry("安全审计", "审计日志", "admin.audit_log", holding(Role.AUDITOR), "journal-text"),
    Entry("个人设置", "通知中心", "notices.index", lambda person, roles: True, "bell"),
    Entry("个人设置", "通知设置", "notices.settings", lambda person, roles: True, "sliders"),
    Entry("个人设置", "修改密码", "auth.password", lambda person, roles: True, "key"),
    Entry("个人设置", "常用意见", "opinions.settings", in_unit, "chat-quote"),
    Entry("个人设置", "个人签名证书", "certificates.mine", in_unit, "pen"),
)


@dataclass(frozen=True)
class Item:
    """An entry as one person's page draws it."""

    group: str
    label: str
    url: str
    icon: str
    post: bool
    current: bool


def _is_current(entry: Entry, args: Mapping[str, object]) -> bool:
    """This request shows ``entry``'s page: its endpoint (or one of ``also``) with the values it links with."""
    if entry.current is not None:
        return entry.current()
    if request.endpoint not in (entry.endpoint, *entry.also):
        return False
    given = {**request.args, **(request.view_args or {})}
    return all(str(given.get(name)) == str(value) for name, value in args.items())


def items(person: Person, roles: set[Role]) -> list[Item]:
    """The person's menu, in ``MENU``'s order, with the entry of the page being shown marked current."""
    shown = []
    for entry in MENU:
        if entry.shown(person, roles):
            args = entry.args(person)
            shown.append(Item(entry.group, entry.label, url_for(entry.endpoint, **args), entry.icon, entry.post,
                              _is_current(entry, args)))
    return shown


@bp.app_context_processor
def _menu() -> dict:
    """``menu`` (the person's items by group, or none before login) and ``is_home`` for the frame of every page."""
    person = g.get("person")
    if person is None or request.endpoint is None:
        return {"menu": [], "is_home": False}
    grouped = [(group, list(entries)) for group, entries in groupby(items(person, g.roles), lambda i: i.group)]
    return {"menu": grouped, "is_home": is_home()}
