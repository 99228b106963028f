"""Meetings with reply slips (issue 13; Pingliang §三3: "会议通知必须通过公文回执功能模组上报参会人员名单"): the city
office's clerk sends a meeting to three units; their clerks answer in their inboxes (attendees, a refusal, a late
slip after a reminder); the organiser reads every answer at once, exports the list, prints the sign-in sheet,
changes and cancels the meeting; an internal meeting is confirmed or excused by each person. Outsiders, the
three administrators and bad rows are refused in Chinese with nothing changed."""

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, InstanceStatus, ProcessInstance
from handlers.meetings import service
from handlers.meetings.models import Answer, Invitation, Meeting, ReplySlipDay
from handlers.notifications.models import Notification
from tests.support import csrf_token, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")

UNITS = ("finance", "education", "donghai_office")   # answered by cz.clerk, jy.clerk, dh.clerk
MEETING = {"title": "全市电子公文系统应用推进会", "place": "市政府3号楼第一会议室", "attendance": "分管负责同志1名",
           "agenda": "一、通报第一季度电子公文应用情况\n二、部署下一阶段工作",
           "starts_at": "2026-11-27T09:00", "ends_at": "2026-11-27T11:30", "reply_by": "2026-11-25T09:00"}


def _post(client, path: str, page: str, data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _send(app, org, login="lyg.clerk", kind="units", invited=None, **changes):
    client = logged_in(app, login)
    invited = invited if invited is not None else [org.unit(u).id for u in UNITS]
    response = _post(client, "/meetings/new", f"/meetings/new?kind={kind}",
                     {**MEETING, **changes, "kind": kind, "invited": [str(i) for i in invited]})
    return client, response


def _meeting(app, org, **changes) -> tuple[object, int]:
    client, response = _send(app, org, **changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, int(response.headers["Location"].rsplit("/", 1)[1])


def _slip_task(gongwen, org, login):
    tasks = [t for t in ready_for(gongwen, org.person(login)) if t.form_key in ("meeting_reply", "meeting_attend")]
    assert len(tasks) <= 1
    return tasks[0] if tasks else None


def _reply(app, gongwen, org, login, decision="attend", rows=(), reason=""):
    client, task = logged_in(app, login), _slip_task(gongwen, org, login)
    data = {"decision": decision, "reason": reason, "attendee_name": [r[0] for r in rows],
            "attendee_job_title": [r[1] for r in rows], "attendee_mobile": [r[2] for r in rows]}
    return client, task, _post(client, f"/meetings/slips/{task.id}", f"/tasks/{task.id}", data)


def _invitation(gongwen, org, meeting_id, unit_key) -> Invitation:
    with gongwen.db.session() as session:
        found = session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                        Invitation.unit_id == org.unit(unit_key).id))
        session.expunge(found)
        return found


def _notices(gongwen, org, login, kind) -> list[str]:
    with gongwen.db.session() as session:
        return list(session.scalars(select(Notification.text).where(
            Notification.person_id == org.person(login).id, Notification.kind == kind)))


def test_three_units_answer_one_after_a_reminder_and_late_and_the_organiser_sees_exports_and_prints(
        gongwen, org, app):
    organiser, meeting_id = _meeting(app, org)
    for login in ("cz.clerk", "jy.clerk", "dh.clerk"):
        task = _slip_task(gongwen, org, login)
        assert task.name == "填写会议回执"
        page = logged_in(app, login).get(f"/tasks/{task.id}").get_data(as_text=True)
        assert MEETING["place"] in page and "分管负责同志1名" in page
    assert _notices(gongwen, org, "cz.clerk", "meeting_notice")

    _, _, answered = _reply(app, gongwen, org, "cz.clerk", rows=[("王财", "副局长", "138 0013 8000"),
                                                                  ("李会", "科长", "13900139000")])
    assert answered.status_code == 302
    _reply(app, gongwen, org, "jy.clerk", decision="decline", reason="当日召开全市教育工作会议，无法参加")
    assert _slip_task(gongwen, org, "cz.clerk") is None and _slip_task(gongwen, org, "jy.clerk") is None

    with gongwen.db.write() as session:
        assert service.remind(session, timedelta(hours=24)) == 0       # 48 hours before the deadline: too early
    clock.get_clock().advance(timedelta(hours=30))                     # 18 hours before it
    with gongwen.db.write() as session:
        assert service.remind(session, timedelta(hours=24)) == 1
        assert service.remind(session, timedelta(hours=24)) == 0       # once
    assert len(_notices(gongwen, org, "dh.clerk", "meeting_reminder")) == 1
    assert not _notices(gongwen, org, "cz.clerk", "meeting_reminder")

    clock.get_clock().advance(timedelta(days=1))                       # past the reply deadline
    page = logged_in(app, "dh.clerk").get(f"/tasks/{_slip_task(gongwen, org, 'dh.clerk').id}").get_data(as_text=True)
    assert "现在报送将记为迟报" in page
    _reply(app, gongwen, org, "dh.clerk", rows=[("周海", "副县长", "+86 137-0013-7000")])
    assert _invitation(gongwen, org, meeting_id, "donghai_office").late
    assert not _invitation(gongwen, org, meeting_id, "finance").late

    with gongwen.db.session() as session:  # counted by day for supervision: received, in time, late
        days = {(org.units[k].id, d): (i, o, lt) for k in UNITS for d, i, o, lt in session.execute(
            select(ReplySlipDay.day, ReplySlipDay.invited, ReplySlipDay.on_time, ReplySlipDay.late)
            .where(ReplySlipDay.unit_id == org.unit(k).id)).all()}
    monday, wednesday = date(2026, 11, 23), date(2026, 11, 25)
    assert days == {(org.unit("finance").id, monday): (1, 1, 0), (org.unit("education").id, monday): (1, 1, 0),
                    (org.unit("donghai_office").id, monday): (1, 0, 0),
                    (org.unit("donghai_office").id, wednesday): (0, 0, 1)}

    organiser = logged_in(app, "lyg.clerk")                           # two days on: a new session
    overview = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "参加 2，不参加 1，未回复 0，迟报 1" in overview
    assert "王财（副局长，13800138000）" in overview and "当日召开全市教育工作会议" in overview
    assert re.search(r"东海县[^<]*</td>\s*<td>参加 <span[^>]*>迟报", overview)

    workbook = openpyxl.load_workbook(io.BytesIO(organiser.get(f"/meetings/{meeting_id}/attendees.xlsx").data))
    rows = [[c for c in row] for row in workbook.active.iter_rows(values_only=True)]
    header = rows.index(["序号", "单位", "姓名", "职务", "手机号码", "报送"])
    assert [r[2:6] for r in rows[header + 1:]] == [["王财", "副局长", "13800138000", None],
                                                   ["李会", "科长", "13900139000", None],
                                                   ["周海", "副县长", "13700137000", "迟报"]]
    sheet = organiser.get(f"/meetings/{meeting_id}/sign-in").get_data(as_text=True)
    assert "签到表" in sheet and "周海" in sheet and "李会" in sheet and "迟报" not in sheet


def test_a_change_reaches_every_unit_and_asks_those_who_answered_to_confirm(gongwen, org, app):
    organiser, meeting_id = _meeting(app, org)
    _reply(app, gongwen, org, "cz.clerk", rows=[("王财", "副局长", "13800138000")])
    _reply(app, gongwen, org, "jy.clerk", decision="decline", reason="另有公务")
    response = _post(organiser, f"/meetings/{meeting_id}/change", f"/meetings/{meeting_id}",
                     {"starts_at": "2026-11-27T14:30", "ends_at": "2026-11-27T17:00", "place": "市政府5楼视频会议室"})
    assert response.status_code == 302
    for login in ("cz.clerk", "jy.clerk", "dh.clerk"):
        assert any("市政府5楼视频会议室" in text for text in _notices(gongwen, org, login, "meeting_change"))
    overview = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert overview.count("变更待确认") == 2 and "14:30" in overview and "王财" in overview  # answers kept

    task = _slip_task(gongwen, org, "cz.clerk")                    # the answered unit is asked again
    page = logged_in(app, "cz.clerk").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "会议时间或地点已变更" in page and 'value="王财"' in page and "市政府5楼视频会议室" in page
    _reply(app, gongwen, org, "cz.clerk", rows=[("王财", "副局长", "13800138000")])
    assert organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True).count("变更待确认") == 1


def test_a_cancellation_reaches_every_unit_and_ends_the_open_reply_slips(gongwen, org, app):
    organiser, meeting_id = _meeting(app, org)
    _reply(app, gongwen, org, "cz.clerk", rows=[("王财", "副局长", "13800138000")])
    assert _slip_task(gongwen, org, "dh.clerk") is not None
    response = _post(organiser, f"/meetings/{meeting_id}/cancel", f"/meetings/{meeting_id}",
                     {"reason": "因工作安排调整，会议另行通知"})
    assert response.status_code == 302
    for login in ("cz.clerk", "jy.clerk", "dh.clerk"):
        assert any("另行通知" in text for text in _notices(gongwen, org, login, "meeting_cancel"))
        assert _slip_task(gongwen, org, login) is None
    with gongwen.db.session() as session:
        statuses = session.scalars(select(ProcessInstance.status).where(
            ProcessInstance.process_id == "meeting_reply")).all()
    assert statuses == [InstanceStatus.COMPLETED] * 3
    assert "会议已于" in organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    again = _post(organiser, f"/meetings/{meeting_id}/cancel", f"/meetings/{meeting_id}", {"reason": "再取消"})
    assert "会议已取消，不能再修改" in organiser.get(again.headers["Location"]).get_data(as_text=True)


def test_an_internal_meeting_is_confirmed_by_one_and_excused_by_another(gongwen, org, app):
    leader, handler = org.person("lyg.leader"), org.person("lyg.handler")
    organiser, meeting_id = _meeting(app, org, kind="internal", invited=[leader.id, handler.id],
                                     title="办公室周例会")
    assert _slip_task(gongwen, org, "lyg.clerk") is None              # a person's task, not the clerks'
    for login, data in (("lyg.leader", {"decision": "attend"}),
                        ("lyg.handler", {"decision": "decline", "reason": "当日赴省厅参加培训"})):
        client, task = logged_in(app, login), _slip_task(gongwen, org, login)
        assert task.name == "确认参会"
        assert _post(client, f"/tasks/{task.id}", f"/tasks/{task.id}", data).status_code == 302
    overview = organiser.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "确认参加 1，请假 1，未回复 0" in overview and "当日赴省厅参加培训" in overview

    outsider = org.person("cz.clerk")  # the person picker is the organiser's unit only
    _, refused = _send(app, org, kind="internal", invited=[outsider.id], title="不应发出")
    assert refused.status_code == 422 and "不在可选范围内" in refused.get_data(as_text=True)


def test_outsiders_and_the_administrators_cannot_see_or_answer_another_units_slip(gongwen, org, app):
    _, meeting_id = _meeting(app, org)
    slip = _slip_task(gongwen, org, "dh.clerk")
    outsider = logged_in(app, "cz.clerk")           # invited too, but this is 东海县's slip
    assert outsider.get(f"/tasks/{slip.id}").status_code == 404
    posted = _post(outsider, f"/meetings/slips/{slip.id}", "/meetings",
                   {"decision": "attend", "attendee_name": "冒名", "attendee_job_title": "科员",
                    "attendee_mobile": "13800000000"})
    assert posted.status_code == 404
    assert outsider.get(f"/meetings/{meeting_id}").status_code == 404
    assert outsider.get(f"/meetings/{meeting_id}/attendees.xlsx").status_code == 404
    assert outsider.get(f"/meetings/{meeting_id}/sign-in").status_code == 404
    cancel = _post(outsider, f"/meetings/{meeting_id}/cancel", "/meetings", {"reason": "冒名取消"})
    assert cancel.status_code == 404
    for admin in ("sysadmin", "secadmin", "auditor"):
        client = logged_in(app, admin)
        for path in ("/meetings", "/meetings/new", f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/sign-in"):
            response = client.get(path)
            assert response.status_code == 404 and MEETING["title"] not in response.get_data(as_text=True)
        assert "会议" not in re.findall(r'<a[^>]*href="/meetings"[^>]*>([^<]*)', client.get("/").get_data(as_text=True))
    assert app.test_client().get(f"/meetings/{meeting_id}").status_code == 302   # to the login page
    assert logged_in(app, "cz.handler").get("/meetings/new").status_code == 404   # a handler organises nothing
    assert _invitation(gongwen, org, meeting_id, "donghai_office").answer == Answer.PENDING
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access.refused")) >= 5


@pytest.mark.parametrize("rows, reason, message", [
    ([("", "副局长", "13800138000")], "", "第 1 位参会人员：姓名长度应在 1 到 30 字之间"),
    ([("王财", "副局长", "1380013800")], "", "第 1 位参会人员：手机号码应为 11 位数字"),
    ([("王财", "副局长", "abc")], "", "手机号码应为 11 位数字"),
    ([("王" * 10_000, "副局长", "13800138000")], "", "长度应在 1 到 30 字之间"),
    ([("王财", "职" * 10_000, "13800138000")], "", "长度应在 1 到 50 字之间"),
    ([], "", "参加会议请至少填写一名参会人员"),
    ([("王财", "副局长", "13800138000")] * 51, "", "参会人员至多 50 名"),
])
def test_bad_attendee_rows_are_refused_in_chinese_and_change_nothing(gongwen, org, app, rows, reason, message):
    _, meeting_id = _meeting(app, org)
    _, task, response = _reply(app, gongwen, org, "dh.clerk", rows=rows, reason=reason)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert _slip_task(gongwen, org, "dh.clerk").id == task.id
    invitation = _invitation(gongwen, org, meeting_id, "donghai_office")
    assert invitation.answer == Answer.PENDING and invitation.answered_at is None


def test_a_refusal_needs_a_reason_and_a_huge_one_is_refused(gongwen, org, app):
    _, meeting_id = _meeting(app, org)
    for reason, message in (("", "不参加时请写明原因"), ("因" * 10_000, "长度应在 0 到 500 字之间")):
        _, _, response = _reply(app, gongwen, org, "jy.clerk", decision="decline", reason=reason)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    _, _, response = _reply(app, gongwen, org, "jy.clerk", decision="maybe")
    assert response.status_code == 422 and "不是可选的值" in response.get_data(as_text=True)
    assert _invitation(gongwen, org, meeting_id, "education").answer == Answer.PENDING


@pytest.mark.parametrize("changes, message", [
    ({"invited": ["999999"]}, "不在可选范围内"),
    ({"invited": ["abc"]}, "不在可选范围内"),
    ({"invited": []}, "请选择参会单位"),
    ({"own": True}, "不在可选范围内"),
    ({"title": ""}, "请填写会议名称"),
    ({"title": "会" * 10_000}, "会议名称不能超过 200 个字"),
    ({"agenda": "议" * 10_000}, "会议议程不能超过 5000 个字"),
    ({"place": "礼堂\u202e"}, "会议地点含有不可见的控制字符"),
    ({"starts_at": "2026-13-40T09:00"}, "会议开始时间格式应为"),
    ({"ends_at": "2026-11-27T08:00"}, "会议结束时间应晚于开始时间"),
    ({"reply_by": "2026-11-20T09:00"}, "回执截止时间已过"),
    ({"reply_by": "2026-11-28T09:00"}, "回执截止时间不能晚于会议开始时间"),
])
def test_a_bad_meeting_is_refused_in_chinese_and_nothing_is_sent(gongwen, org, app, changes, message):
    changes = dict(changes)  # the parameters are shared by both databases' runs
    if changes.pop("own", False):
        changes["invited"] = [str(org.unit("city_office").id)]
    invited = [int(i) if i.isdigit() else i for i in changes.pop("invited")] if "invited" in changes else None
    _, response = _send(app, org, invited=invited, **changes)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "meeting.send_refused")) == 1
    assert _slip_task(gongwen, org, "cz.clerk") is None
