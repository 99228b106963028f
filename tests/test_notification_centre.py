"""The notification centre, a person's notice settings, and the failed-deliveries page's limits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Outbox, OutboxStatus, Person
from handlers.notifications import tell as notifications
from handlers.notifications.models import ChannelChoice, Notification
from tests.support import csrf_token, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def _tell(gongwen, person, text, *, key, instance_id=None, urgent=False):
    with gongwen.db.write() as db:
        (note,) = notifications.tell(db, [person.id], text, kind="remind_handle", reason="待办提醒", key=key,
                                     instance_id=instance_id, urgent=urgent)
        db.flush()
        return note.id


def _unread_badge(page: str) -> tuple[str, bool]:
    """The navigation's unread count, and whether it is shown."""
    tag = re.search(r'<span id="unread-count"([^>]*)>([^<]*)</span>', page)
    assert tag, "the unread count is in the navigation"
    return tag.group(2), "hidden" not in tag.group(1)


def _leave(gongwen, person) -> int:
    return gongwen.runtime.start("leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                                 data={"department_id": person.department_id}, title=f"{person.name}的请假申请")


def _read_at(gongwen, notice_id):
    with gongwen.db.session() as db:
        return db.get(Notification, notice_id).read_at


def test_the_unread_count_shows_in_the_navigation_and_opening_a_notice_marks_it_read_and_leads_to_the_task(
        gongwen, org, app):
    drafter = org.person("lyg.drafter")
    instance = _leave(gongwen, drafter)
    (task,) = ready_for(gongwen, drafter)
    to_task = _tell(gongwen, drafter, "请补充请假单的工作交接安排", key="c1", instance_id=instance)
    plain = _tell(gongwen, drafter, "系统将于周六 22:00 维护", key="c2")

    client = logged_in(app, "lyg.drafter")
    assert _unread_badge(client.get("/password").get_data(as_text=True)) == ("2", True)  # any page, not the centre

    centre = client.get("/notices").get_data(as_text=True)
    assert centre.index("系统将于周六 22:00 维护") < centre.index("请补充请假单的工作交接安排")  # newest first
    assert f'href="/notices/{to_task}"' in centre
    assert f'href="/notices/{plain}"' not in centre  # nothing to open: no link
    assert centre.count("未读") >= 2

    opened = client.get(f"/notices/{to_task}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tasks/{task.id}")
    assert client.get(opened.headers["Location"]).status_code == 200
    assert _read_at(gongwen, to_task) is not None and _read_at(gongwen, plain) is None
    assert _unread_badge(client.get("/").get_data(as_text=True)) == ("1", True)

    # The inbox's latest notices lead into the centre.
    inbox = client.get("/").get_data(as_text=True)
    assert f'href="/notices/{plain}"' in inbox and 'href="/notices"' in inbox


def test_read_all_marks_every_notice_of_mine_read_and_needs_the_form_token(gongwen, org, app):
    clerk, other = org.person("lyg.clerk"), org.person("cz.clerk")
    mine = [_tell(gongwen, clerk, f"第{i}条通知", key=f"r{i}") for i in range(3)]
    theirs = _tell(gongwen, other, "财政局的通知", key="r-other")
    client = logged_in(app, "lyg.clerk")

    assert client.post("/notices/read-all").status_code == 400  # no CSRF token: refused, nothing read
    assert all(_read_at(gongwen, n) is None for n in mine)

    done = client.post("/notices/read-all", data={"csrf_token": csrf_token(client, "/notices")},
                       follow_redirects=True).get_data(as_text=True)
    assert "已将 3 条通知标为已读" in done
    assert all(_read_at(gongwen, n) is not None for n in mine)
    assert _read_at(gongwen, theirs) is None  # another's notices are untouched
    assert _unread_badge(done) == ("0", False)


def test_another_persons_notice_does_not_open(gongwen, org, app):
    theirs = _tell(gongwen, org.person("cz.clerk"), "财政局内部通知", key="x1")
    client = logged_in(app, "lyg.clerk")
    answer = client.get(f"/notices/{theirs}")
    assert answer.status_code == 404 and "找不到这个页面" in answer.get_data(as_text=True)
    assert "财政局内部通知" not in answer.get_data(as_text=True)
    assert _read_at(gongwen, theirs) is None
    assert client.get("/notices/999999").status_code == 404
    with gongwen.db.session() as db:
        refusals = db.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all()
    assert any(e.detail.get("path") == f"/notices/{theirs}" for e in refusals)


def _settings_of(gongwen, person_id):
    with gongwen.db.session() as db:
        person = db.get(Person, person_id)
        return person.mobile, person.email, sorted((c.channel, c.enabled) for c in db.scalars(
            select(ChannelChoice).where(ChannelChoice.person_id == person_id)))


@pytest.mark.parametrize("fields, message", [
    ({"mobile": "12345"}, "手机号码应为 11 位数字"),
    ({"mobile": "12812345678"}, "手机号码应为 11 位数字"),
    ({"email": "zhangsan.example.gov.cn"}, "电子邮箱格式不正确"),
    ({"email": "张三@政府.中国 <x@y>"}, "电子邮箱格式不正确"),
    ({"channel": ["mail", "pigeon"]}, "所选的通知方式不存在"),
])
def test_settings_refuse_a_bad_mobile_email_or_channel_and_change_nothing(gongwen, org, app, fields, message):
    before = _settings_of(gongwen, org.person("lyg.clerk").id)
    client = logged_in(app, "lyg.clerk")
    form = {"mobile": "13812345678", "email": "clerk@example.gov.cn", "channel": ["mail"], **fields,
            "csrf_token": csrf_token(client, "/settings/notices")}
    answer = client.post("/settings/notices", data=form)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert _settings_of(gongwen, org.person("lyg.clerk").id) == before
    with gongwen.db.session() as db:
        (refusal,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "notice.settings_refused")).all()
    assert refusal.actor_id == org.person("lyg.clerk").id
    assert set(refusal.detail["fields"]) <= {"mobile", "email", "channel"}


def test_settings_keep_a_normalised_mobile_email_and_channels_audited_without_values(gongwen, org, app):
    client = logged_in(app, "lyg.clerk")
    page = client.get("/settings/notices").get_data(as_text=True)
    assert "紧急通知" in page and "值班人员" in page and "邮件" in page
    answer = client.post("/settings/notices", data={
        "mobile": "+86 138-1234-5678", "email": "Clerk@Example.GOV.CN",
        "csrf_token": csrf_token(client, "/settings/notices")}, follow_redirects=True)
    assert "通知设置已保存" in answer.get_data(as_text=True)
    assert 'value="13812345678"' in answer.get_data(as_text=True)
    clerk = org.person("lyg.clerk")
    with gongwen.db.session() as db:
        person = db.get(Person, clerk.id)
        assert (person.mobile, person.email) == ("13812345678", "Clerk@example.gov.cn")
        choices = {c.channel: c.enabled for c in db.scalars(select(ChannelChoice))}
        assert choices.get("mail") is False  # unticked: no mail for non-urgent notices
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "notice.settings")).all()
    assert {"mobile", "email", "channel:mail"} <= set(event.detail["changed"])
    assert "13812345678" not in str(event.detail) and "example" not in str(event.detail).lower()

    assert client.post("/settings/notices", data={"mobile": "13812345678"}).status_code == 400  # CSRF
    # The administrators have the page too: it is about themselves.
    assert logged_in(app, "sysadmin").get("/settings/notices").status_code == 200


def test_only_the_system_administrator_sees_failed_deliveries_and_never_a_notices_text(gongwen, org, app):
    clerk = org.person("lyg.clerk")
    with gongwen.db.write() as db:
        db.get(Person, clerk.id).email = "clerk@example.gov.cn"
    notice = _tell(gongwen, clerk, "《关于调整市级机关会议费标准的通知》请签收", key="secret")  # no mail server
    with gongwen.db.session() as db:
        (item,) = [i for i in db.scalars(select(Outbox).where(Outbox.topic == "tell"))
                   if i.payload["channel"] == "mail"]
        assert item.status == OutboxStatus.DEAD and item.payload["notification_id"] == notice

    for login in ("lyg.clerk", "lyg.leader", "secadmin", "auditor"):
        client = logged_in(app, login)
        assert client.get("/admin/deliveries").status_code == 403, login
        assert client.post(f"/admin/deliveries/{item.id}/retry",
                           data={"csrf_token": csrf_token(client, "/notices")}).status_code == 403, login
    page = logged_in(app, "sysadmin").get("/admin/deliveries").get_data(as_text=True)
    assert f'id="delivery-{item.id}"' in page and clerk.name in page and "未配置邮件服务器" in page
    assert "会议费标准" not in page and "请签收" not in page
    with gongwen.db.session() as db:
        assert db.get(Outbox, item.id).status == OutboxStatus.DEAD  # the refused retries changed nothing
