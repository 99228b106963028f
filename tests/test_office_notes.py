"""公告, 站内邮件 and 电话通知记录 (issue 13): an announcement's reader list, the city office announcing to its
counties, a mail with an attachment and its read receipts, a phone notice routed, reminded at its deadline and
done; and the attacks: another unit's or person's notes are 404s, the three administrators read none, recipients
the form did not offer and hostile or huge input are refused in Chinese with nothing stored."""

import hashlib
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, StoredFile
from handlers.notifications.models import Notification
from handlers.office_notes.models import Announcement, AnnouncementRead, Mail, PhoneNotice
from tests.support import csrf_token, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _post(client, path: str, page: str, files=None, **data):
    form = {"csrf_token": csrf_token(client, page), **data}
    if files:
        form["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(path, data=form, content_type="multipart/form-data")


def _count(gongwen, model) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _refusals(gongwen, action: str) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def _announce(client, units, title="关于元旦假期值班安排的公告", **extra):
    return _post(client, "/announcements/new", "/announcements/new", title=title,
                 body="元旦期间各单位安排专人值班，保持通讯畅通。", unit_ids=[str(u) for u in units], **extra)


def _id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_an_announcement_to_the_own_unit_shows_its_author_who_has_read_it(gongwen, org, app):
    clerk = logged_in(app, "dh.clerk")
    announcement_id = _id_of(_announce(clerk, [org.unit("donghai_office").id]))
    drafter = logged_in(app, "dh.drafter")
    home = drafter.get("/").get_data(as_text=True)
    assert "<strong>关于元旦假期值班安排的公告</strong>" in home  # on the 通知公告 card, unread
    for login in ("dh.leader", "dh.handler"):
        page = logged_in(app, login).get(f"/announcements/{announcement_id}").get_data(as_text=True)
        assert "元旦期间各单位安排专人值班" in page and "阅读情况" not in page  # the reader list is the author's
    logged_in(app, "dh.leader").get(f"/announcements/{announcement_id}")  # a second opening counts once

    page = clerk.get(f"/announcements/{announcement_id}").get_data(as_text=True)
    assert "阅读情况：已读 2 人，未读 2 人" in page
    rows = re.findall(r'<tr class="(read|unread)"><td>([^<]+)</td>', page)
    names = {login: org.person(login).name for login in ("dh.leader", "dh.handler", "dh.drafter", "dh.head")}
    assert sorted(rows[:2]) == sorted([("read", names["dh.leader"]), ("read", names["dh.handler"])])
    assert sorted(rows[2:]) == sorted([("unread", names["dh.drafter"]), ("unread", names["dh.head"])])
    assert _count(gongwen, AnnouncementRead) == 2
    leader_home = logged_in(app, "dh.leader").get("/").get_data(as_text=True)
    assert "关于元旦假期值班安排的公告" in leader_home  # still listed, no longer bold
    assert "<strong>关于元旦假期值班安排的公告</strong>" not in leader_home


def test_the_city_office_announces_to_its_counties_and_a_department_to_itself_only(gongwen, org, app):
    city = logged_in(app, "lyg.clerk")
    form = city.get("/announcements/new").get_data(as_text=True)
    counties = [org.unit(f"{k}_office").id for k in ("donghai", "guanyun", "guannan")]
    assert all(f'value="{u}"' in form for u in counties)
    announcement_id = _id_of(_announce(city, counties, title="关于做好寒潮防范工作的公告"))
    for login in ("dh.clerk", "gy.leader", "gn.handler"):
        client = logged_in(app, login)
        assert "关于做好寒潮防范工作的公告" in client.get("/announcements").get_data(as_text=True)
        assert client.get(f"/announcements/{announcement_id}").status_code == 200
    finance = logged_in(app, "cz.clerk")
    assert finance.get(f"/announcements/{announcement_id}").status_code == 404  # not sent to the 财政局
    assert "关于做好寒潮防范工作的公告" not in finance.get("/announcements").get_data(as_text=True)
    assert "阅读情况：已读 3 人" in city.get(f"/announcements/{announcement_id}").get_data(as_text=True)

    own = finance.get("/announcements/new").get_data(as_text=True)
    assert f'value="{org.unit("finance").id}"' in own and f'value="{counties[0]}"' not in own
    refused = _announce(finance, [counties[0]], title="越级公告")
    assert refused.status_code == 422 and "只能发往页面列出的单位" in refused.get_data(as_text=True)
    assert _count(gongwen, Announcement) == 1 and _refusals(gongwen, "announcement.publish_refused") == 1
    assert logged_in(app, "dh.handler").get("/announcements/new").status_code == 404  # neither leader nor clerk


def _mail(client, people=(), units=(), files=None, subject="请报送年度工作总结", body="请于周五前报送。"):
    return _post(client, "/mail/new", "/mail/new", files=files, subject=subject, body=body,
                 person_ids=[str(p) for p in people], unit_ids=[str(u) for u in units])


def test_a_mail_with_an_attachment_to_two_people_shows_the_sender_who_read_it(gongwen, org, app):
    sender = logged_in(app, "dh.clerk")
    to = [org.person("lyg.clerk"), org.person("dh.leader")]
    mail_id = _id_of(_mail(sender, [p.id for p in to], files=[("总结模板.pdf", PDF)]))
    with gongwen.db.session() as session:
        told = session.scalars(select(Notification.person_id).where(Notification.kind == "mail")).all()
    assert sorted(told) == sorted(p.id for p in to)

    reader = logged_in(app, "lyg.clerk")
    inbox = reader.get("/mail").get_data(as_text=True)
    assert "<strong>请报送年度工作总结</strong>" in inbox
    page = reader.get(f"/mail/{mail_id}").get_data(as_text=True)
    assert "请于周五前报送。" in page and "总结模板.pdf" in page and "已读回执" not in page
    download = reader.get(f"/mail/{mail_id}/files/1")
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert reader.get(f"/mail/{mail_id}/files/2").status_code == 404

    receipts = sender.get(f"/mail/{mail_id}").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>[^<]*</td><td>([^<]+)</td></tr>", receipts))
    assert rows[to[0].name] == f"{clock.local(clock.now()):%Y-%m-%d %H:%M}" and rows[to[1].name] == "未读"
    assert "<td>1/2</td>" in sender.get("/mail/sent").get_data(as_text=True)


def test_a_mail_to_a_unit_reaches_its_people_and_none_beyond(gongwen, org, app):
    mail_id = _id_of(_mail(logged_in(app, "lyg.clerk"), units=[org.unit("guanyun_office").id]))
    with gongwen.db.session() as session:
        mail = session.get(Mail, mail_id)
        assert {r.person_id for r in mail.recipients} == {
            org.person(f"gy.{r}").id for r in ("clerk", "leader", "handler", "drafter", "head")}
    assert logged_in(app, "gy.head").get(f"/mail/{mail_id}").status_code == 200


def _local(at: datetime) -> str:
    return f"{clock.local(at):%Y-%m-%dT%H:%M}"


def _phone(client, assignee_id, **changes):
    now = clock.now()
    values = {"direction": "received", "other_unit": "连云港市应急管理局", "other_person": "王科长",
              "other_phone": "0518-85821234", "subject": "报送防汛物资储备情况",
              "content": "请于明天17时前报送本县防汛物资储备情况。", "called_at": _local(now - timedelta(minutes=20)),
              "assignee_id": str(assignee_id), "due_at": _local(now + timedelta(days=1)), **changes}
    return _post(client, "/phone-notices/new", "/phone-notices/new", **values)


def test_a_phone_notice_routed_to_a_person_is_reminded_at_its_deadline_and_done(gongwen, org, app):
    clerk, handler = logged_in(app, "dh.clerk"), org.person("dh.handler")
    notice_id = _id_of(_phone(clerk, handler.id))
    (task,) = ready_for(gongwen, handler)
    assert task.name == "办理电话通知"
    assert task.due_at == clock.now().replace(second=0, microsecond=0) + timedelta(days=1)
    page = logged_in(app, "dh.handler").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "请于明天17时前报送本县防汛物资储备情况。" in page and "0518-85821234" in page

    clock.get_clock().set(task.due_at - timedelta(minutes=1))
    assert gongwen.runtime.fire_due_timers() == 0
    clock.get_clock().set(task.due_at + timedelta(minutes=1))
    assert gongwen.runtime.fire_due_timers() == 1
    with gongwen.db.session() as session:
        reasons = session.scalars(select(Notification.reason).where(Notification.person_id == handler.id)).all()
    assert reasons == ["电话通知到期未办结"]
    assert [t.id for t in ready_for(gongwen, handler)] == [task.id]  # a reminder, not a cancellation

    gongwen.runtime.complete(task.id, handler.id, {"note": "已报送应急管理局"})
    assert ready_for(gongwen, handler) == []
    clerk = logged_in(app, "dh.clerk")  # a day later: a new session
    record = clerk.get(f"/phone-notices/{notice_id}").get_data(as_text=True)
    assert f"{handler.name} 于 " in record and "办结：已报送应急管理局" in record
    assert "已办结" in clerk.get("/phone-notices").get_data(as_text=True)


def test_notes_of_others_are_not_found_and_administrators_read_none(gongwen, org, app):
    dh_clerk = logged_in(app, "dh.clerk")
    announcement_id = _id_of(_announce(dh_clerk, [org.unit("donghai_office").id]))
    mail_id = _id_of(_mail(dh_clerk, [org.person("dh.leader").id], files=[("a.pdf", PDF)]))
    notice_id = _id_of(_phone(dh_clerk, org.person("dh.handler").id))
    for login in ("gy.clerk", "dh.drafter"):  # another unit's clerk; a colleague the mail and the call were not for
        client = logged_in(app, login)
        assert client.get(f"/mail/{mail_id}").status_code == 404
        assert client.get(f"/mail/{mail_id}/files/1").status_code == 404
        assert client.get(f"/phone-notices/{notice_id}").status_code == 404
    assert logged_in(app, "gy.clerk").get(f"/announcements/{announcement_id}").status_code == 404
    for login in ("sysadmin", "secadmin", "auditor"):
        admin = logged_in(app, login)
        for path in (f"/announcements/{announcement_id}", f"/mail/{mail_id}", f"/phone-notices/{notice_id}",
                     f"/announcements/{announcement_id}/files/1", "/mail/new", "/announcements/new",
                     "/phone-notices/new"):
            assert admin.get(path).status_code == 404, (login, path)
        for path in ("/announcements", "/mail", "/phone-notices", "/"):
            page = admin.get(path).get_data(as_text=True)
            assert "关于元旦假期值班安排的公告" not in page and "请报送年度工作总结" not in page
            assert "报送防汛物资储备情况" not in page
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "access.refused")) >= 11
    log = logged_in(app, "auditor").get("/admin/audit").get_data(as_text=True)
    assert all(event in log for event in ("发布公告", "发送站内邮件", "登记电话通知"))  # who did what, never the words
    assert "关于元旦假期值班安排的公告" not in log and "请报送年度工作总结" not in log and "防汛" not in log
    assert app.test_client().get(f"/mail/{mail_id}").status_code in (302, 401)  # anonymous: to the login page


def test_recipients_and_assignees_not_offered_are_refused_and_nothing_is_stored(gongwen, org, app):
    clerk = logged_in(app, "dh.clerk")
    for people in ([org.person("sysadmin").id], ["abc"], [org.person("dh.clerk").id], ["99999999999"]):
        response = _mail(clerk, people)
        assert response.status_code == 422 and "只能发给页面列出的人员或单位" in response.get_data(as_text=True)
    assert "请选择收件人" in _mail(clerk).get_data(as_text=True)
    assert _count(gongwen, Mail) == 0 and _refusals(gongwen, "mail.send_refused") == 5
    for assignee in (org.person("gy.handler").id, org.person("sysadmin").id, "x"):
        response = _phone(clerk, assignee)
        assert response.status_code == 422 and "请从列表中选择本单位的在岗人员" in response.get_data(as_text=True)
    assert logged_in(app, "dh.handler").get("/phone-notices/new").status_code == 404  # not a clerk
    assert _count(gongwen, PhoneNotice) == 0 and ready_for(gongwen, org.person("gy.handler")) == []


@pytest.mark.parametrize("field, value, said", [
    ("title", "公" * 101, "公告标题不能超过 100 个字"),
    ("title", "", "请填写公告标题"),
    ("body", "正文\u202e倒序", "公告正文含有不可见的控制字符"),
    ("body", "长" * 20001, "公告正文不能超过 20000 个字"),
    ("unit_ids", "1 OR 1=1", "请从列表中选择单位"),
])
def test_hostile_or_huge_announcements_are_refused_in_chinese(gongwen, org, app, field, value, said):
    clerk = logged_in(app, "dh.clerk")
    values = {"title": "公告", "body": "正文", "unit_ids": [str(org.unit("donghai_office").id)], field: value}
    response = _post(clerk, "/announcements/new", "/announcements/new", **values)
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert _count(gongwen, Announcement) == 0


def test_a_file_that_is_not_a_document_or_too_many_files_are_refused(gongwen, org, app):
    clerk = logged_in(app, "dh.clerk")
    exe = _mail(clerk, [org.person("dh.leader").id], files=[("通知.pdf", b"MZ\x90\x00" + b"\x00" * 64)])
    assert exe.status_code == 422 and "不是允许的格式" in exe.get_data(as_text=True)
    many = _announce(clerk, [org.unit("donghai_office").id], files=[(f"{n}.txt", b"x") for n in range(11)])
    assert many.status_code == 422 and "附件最多 10 个" in many.get_data(as_text=True)
    assert _count(gongwen, Mail) == 0 and _count(gongwen, Announcement) == 0


def test_a_refused_note_leaves_its_good_attachment_nowhere(gongwen, org, app):
    clerk, stored = logged_in(app, "dh.clerk"), _count(gongwen, StoredFile)
    fine = b"%PDF-1.4\n% kept only with a note that was accepted\n%%EOF\n"
    refused = _announce(clerk, [org.unit("guanyun_office").id], files=[("a.pdf", fine)])
    assert refused.status_code == 422 and "只能发往页面列出的单位" in refused.get_data(as_text=True)
    refused = _mail(clerk, [org.person("sysadmin").id], files=[("a.pdf", fine)])
    assert refused.status_code == 422
    assert _count(gongwen, StoredFile) == stored
    assert not gongwen.files.path(hashlib.sha256(fine).hexdigest()).exists()


@pytest.mark.parametrize("changes, said", [
    ({"other_phone": "<script>alert(1)</script>"}, "电话号码应为"),
    ({"due_at": "2020-01-01T09:00"}, "办理期限应晚于现在"),
    ({"due_at": "tomorrow"}, "办理期限应晚于现在"),
    ({"called_at": "9999-99-99T99:99"}, "通话时间应为最近一个月内"),
    ({"direction": "sideways"}, "请选择来电或去电"),
    ({"content": "内" * 5001}, "通知内容不能超过 5000 个字"),
    ({"other_person": "王\x00"}, ""),
])
def test_hostile_or_huge_phone_notices_are_refused_in_chinese(gongwen, org, app, changes, said):
    response = _phone(logged_in(app, "dh.clerk"), org.person("dh.handler").id, **changes)
    assert response.status_code in (400, 422) and said in response.get_data(as_text=True)
    assert _count(gongwen, PhoneNotice) == 0 and ready_for(gongwen, org.person("dh.handler")) == []
