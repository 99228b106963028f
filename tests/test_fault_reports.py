"""Fault reports (故障报告, issue 13, Yan'an Art 13): a fault reported more than a working day after it began is
marked late; the 网信办 (the city office in the demo) works it as the ``fault`` process, its 承办人 finding
安排维修 and 维修完成 in their 待办, reminded by a timer before the five-working-day deadline, its leaders and the
unit's 分管领导 alerted by another after it; the city office's clerk sends on paper what was dispatched
to the unit during the fault, and the list closes at the repair. Other units, the administrators and bad input
are refused, in Chinese, with nothing changed."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent
from handlers.faults.figures import fault_figures
from handlers.faults.models import FaultReport, PaperCopy
from handlers.notifications.models import Notification
from tests.outgoing_support import send
from tests.support import csrf_token, logged_in, ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


def post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def report(client, kind: str = "network", started_at: str = "2026-11-23T09:30", description: str = "交换专网中断"):
    return post(client, "/faults", "/faults", kind=kind, started_at=started_at, description=description)


def faults(gongwen) -> list[FaultReport]:
    with gongwen.db.session() as session:
        return session.scalars(select(FaultReport).order_by(FaultReport.id)).all()


def told(gongwen, person_id: int, kind: str) -> list[str]:
    with gongwen.db.session() as session:
        return session.scalars(select(Notification.text).where(Notification.person_id == person_id,
                                                               Notification.kind == kind)).all()


def _audited(gongwen, action: str) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def run_chase(gongwen, fixed_clock, when: str) -> dict:
    """Move the clock to ``when`` and fire the fault processes' due timers: how many reminders and escalations."""
    fixed_clock.set(at(when))
    actions = {"reminded": "fault.remind", "escalated": "fault.escalate"}
    before = {name: _audited(gongwen, action) for name, action in actions.items()}
    gongwen.runtime.fire_due_timers()
    return {name: _audited(gongwen, action) - before[name] for name, action in actions.items()}


def test_a_fault_that_began_on_monday_reported_on_wednesday_is_late(gongwen, org, app, fixed_clock):
    fixed_clock.set(at("2026-11-25T10:00"))  # Wednesday
    clerk = logged_in(app, "dh.clerk")
    assert report(clerk).status_code == 302
    assert "记为迟报" in clerk.get("/faults").get_data(as_text=True)
    assert report(clerk, kind="terminal", started_at="2026-11-24T11:00").status_code == 302  # Tuesday: in time
    network, terminal = faults(gongwen)
    assert (network.late, terminal.late) == (True, False)
    assert network.unit_id == org.unit("donghai_office").id and network.desk_unit_id == org.unit("city_office").id
    assert clock.local(network.due_at) == at("2026-12-02T10:00")  # five working days after the report
    page = clerk.get("/faults").get_data(as_text=True)
    assert page.count("迟报</span>") == 1 and "网络" in page and "终端" in page
    # The 网信办's 承办人 and the 秘书科 were told at once.
    assert any("迟报" in t for t in told(gongwen, org.person("lyg.handler").id, "fault"))
    assert told(gongwen, org.person("lyg.clerk").id, "fault")


def test_repaired_on_working_day_six_after_escalation_with_the_paper_list_closing(gongwen, sealed, app, fixed_clock):
    org = sealed
    send(gongwen, org, title="故障前分发的通知")                          # Monday 09:00
    fixed_clock.set(at("2026-11-23T10:00"))
    assert report(logged_in(app, "dh.clerk")).status_code == 302        # began 09:30, reported 10:00
    during = send(gongwen, org, title="故障期间分发的通知")
    (fault,) = faults(gongwen)
    assert not fault.late

    city_clerk = logged_in(app, "lyg.clerk")
    paper = city_clerk.get("/faults/paper").get_data(as_text=True)
    assert "故障期间分发的通知" in paper and "故障前分发的通知" not in paper
    receipt = _receipt_of(gongwen, during.id)
    response = post(city_clerk, "/faults/paper", "/faults/paper", fault_id=fault.id, receipt_id=receipt)
    assert "已标记为已纸质送达" in city_clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert "已纸质送达（2026-11-23 10:" in city_clerk.get("/faults/paper").get_data(as_text=True)
    again = post(city_clerk, "/faults/paper", "/faults/paper", fault_id=fault.id, receipt_id=receipt)
    assert "这份公文已标记为已纸质送达" in city_clerk.get(again.headers["Location"]).get_data(as_text=True)
    # Another unit's clerk has no such list, and cannot mark what is on the city office's.
    finance = logged_in(app, "cz.clerk")
    assert "故障期间分发的通知" not in finance.get("/faults/paper").get_data(as_text=True)
    post(finance, "/faults/paper", "/faults/paper", fault_id=fault.id, receipt_id=receipt)
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PaperCopy)) == 1

    handler, leader = org.person("lyg.handler"), org.person("dh.leader")
    assert run_chase(gongwen, fixed_clock, "2026-11-27T09:30") == {"reminded": 0, "escalated": 0}
    assert run_chase(gongwen, fixed_clock, "2026-11-27T10:05") == {"reminded": 1, "escalated": 0}  # a day before
    assert run_chase(gongwen, fixed_clock, "2026-11-27T11:00") == {"reminded": 0, "escalated": 0}  # once
    assert any("2026-11-30 10:00 前修复" in t for t in told(gongwen, handler.id, "fault_reminder"))
    assert run_chase(gongwen, fixed_clock, "2026-11-30T10:30") == {"reminded": 0, "escalated": 1}
    assert run_chase(gongwen, fixed_clock, "2026-11-30T11:30") == {"reminded": 0, "escalated": 0}
    (overdue,) = told(gongwen, leader.id, "fault_overdue")                  # the unit's leader
    assert "东海县人民政府办公室的网络故障已超过 5 个工作日" in overdue
    assert told(gongwen, org.person("lyg.leader").id, "fault_overdue")     # the desk's leader
    assert "超期未修复" in logged_in(app, "dh.clerk").get("/faults").get_data(as_text=True)

    fixed_clock.set(at("2026-12-01T15:00"))  # Tuesday: the sixth working day after the report
    desk = logged_in(app, "lyg.handler")
    assert "已超期" in desk.get("/faults/desk").get_data(as_text=True)
    post(desk, f"/faults/{fault.id}/arrange", "/faults/desk", contractor="中国电信连云港分公司")
    assert "已修复（2026-12-01 15:00" in desk.get(post(desk, f"/faults/{fault.id}/repaired", "/faults/desk",
                                                      note="更换光猫").headers["Location"]).get_data(as_text=True)
    assert "第 6 个工作日" in logged_in(app, "dh.clerk").get("/faults").get_data(as_text=True)

    send(gongwen, org, title="修复后分发的通知")
    paper = logged_in(app, "lyg.clerk").get("/faults/paper").get_data(as_text=True)  # a week on: a new session
    assert "修复后分发的通知" not in paper and "故障期间分发的通知" in paper and "已修复，清单关闭" in paper
    with gongwen.db.session() as session:
        figures = fault_figures(session, [org.unit("donghai_office").id, org.unit("finance").id],
                                at("2026-11-01T00:00"), at("2026-12-01T00:00"))
    assert (figures[org.unit("donghai_office").id].faults, figures[org.unit("donghai_office").id].mean_repair_days) \
        == (1, 6.0)
    assert figures[org.unit("finance").id].faults == 0


def _receipt_of(gongwen, document_id: int) -> int:
    from handlers.exchange.models import Receipt

    with gongwen.db.session() as session:
        return session.scalar(select(Receipt.id).where(Receipt.document_id == document_id))


def _fault_of_donghai(app, gongwen) -> FaultReport:
    assert report(logged_in(app, "dh.clerk")).status_code == 302
    (fault,) = faults(gongwen)
    return fault


def test_another_unit_neither_sees_nor_closes_a_units_fault(gongwen, org, app, fixed_clock):
    fixed_clock.set(at("2026-11-23T10:00"))
    fault = _fault_of_donghai(app, gongwen)
    finance = logged_in(app, "cz.clerk")
    page = finance.get("/faults").get_data(as_text=True)
    assert "本单位没有故障报告" in page and "交换专网中断" not in page
    for login in ("cz.clerk", "gy.handler", "dh.clerk", "dh.leader"):  # the faulty unit does not close it either
        client = logged_in(app, login)
        assert client.get("/faults/desk").status_code == 404
        for step, data in (("arrange", {"contractor": "某公司"}), ("repaired", {"note": "好了"})):
            assert post(client, f"/faults/{fault.id}/{step}", "/faults", **data).status_code == 404
    assert post(finance, "/faults/999999/repaired", "/faults").status_code == 404
    (unchanged,) = faults(gongwen)
    assert (unchanged.repaired_at, unchanged.contractor, unchanged.arranged_at) == (None, None, None)
    desk = logged_in(app, "lyg.handler")  # the desk refuses an empty contractor, in words
    refused = post(desk, f"/faults/{fault.id}/arrange", "/faults/desk", contractor="  ")
    assert "未生效：请填写保障单位" in desk.get(refused.headers["Location"]).get_data(as_text=True)
    assert faults(gongwen)[0].contractor is None


@pytest.mark.parametrize("login", ["sysadmin", "secadmin", "auditor"])
def test_the_administrators_are_refused_every_fault_page(gongwen, org, app, fixed_clock, login):
    fixed_clock.set(at("2026-11-23T10:00"))
    fault = _fault_of_donghai(app, gongwen)
    admin = logged_in(app, login)
    assert "故障报告" not in admin.get("/").get_data(as_text=True)  # not offered in the menu
    for path in ("/faults", "/faults/desk", "/faults/paper"):
        assert admin.get(path).status_code == 404
        assert "交换专网中断" not in admin.get(path).get_data(as_text=True)
    assert post(admin, "/faults", "/", kind="network", started_at="2026-11-23T09:00",
                description="x").status_code == 404
    assert post(admin, f"/faults/{fault.id}/repaired", "/").status_code == 404
    assert len(faults(gongwen)) == 1 and faults(gongwen)[0].repaired_at is None
    assert app.test_client().get("/faults").status_code == 302  # anonymous: to the login page


@pytest.mark.parametrize(("data", "said"), [
    ({"kind": "power"}, "请选择故障类型：网络、终端、印章密钥或证书"),
    ({"kind": ""}, "请选择故障类型"),
    ({"started_at": ""}, "请填写故障开始时间"),
    ({"started_at": "去年冬天<script>"}, "请填写故障开始时间"),
    ({"started_at": "1800-01-01T00:00"}, "请填写故障开始时间"),
    ({"started_at": "2026-11-23T09:30+08:00"}, "请填写故障开始时间"),
    ({"started_at": "2026-11-23T11:00"}, "故障开始时间不能晚于现在"),
    ({"started_at": "2025-01-01T09:00"}, "故障开始时间不能早于一年前"),
    ({"description": "   "}, "请填写故障情况"),
    ({"description": "断" * 100_000}, "故障情况不能超过 1000 个字"),
    ({"description": "断网\u202e了"}, "故障情况含有不可见的控制字符（U+202E）"),
])
def test_bad_input_is_refused_in_chinese_with_nothing_written(gongwen, org, app, fixed_clock, data, said):
    fixed_clock.set(at("2026-11-23T10:00"))
    clerk = logged_in(app, "dh.clerk")
    response = post(clerk, "/faults", "/faults", **{"kind": "network", "started_at": "2026-11-23T09:30",
                                                     "description": "<b>交换专网中断</b>", **data})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"未报告：{said}" in page and "<b>交换专网中断</b>" not in page
    assert faults(gongwen) == []
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "fault.report_refused")) == 1


def test_a_second_open_fault_of_the_same_kind_is_refused(gongwen, org, app, fixed_clock):
    fixed_clock.set(at("2026-11-23T10:00"))
    _fault_of_donghai(app, gongwen)
    response = report(logged_in(app, "dh.leader"), description="又断了")
    assert response.status_code == 422 and "本单位已有一份未修复的网络故障报告" in response.get_data(as_text=True)
    assert len(faults(gongwen)) == 1


def test_the_desks_steps_are_in_its_handlers_inbox_and_nowhere_else(gongwen, org, app, fixed_clock):
    fixed_clock.set(at("2026-11-23T10:00"))
    fault = _fault_of_donghai(app, gongwen)
    handler = org.person("lyg.handler")
    (task,) = ready_for(gongwen, handler)
    assert (task.name, clock.local(task.due_at)) == ("安排维修", at("2026-11-30T10:00"))
    inbox = logged_in(app, "lyg.handler").get("/").get_data(as_text=True)
    assert "安排维修" in inbox and "东海县人民政府办公室网络故障" in inbox
    # The reporting unit, the desk's clerk and leader, another unit's handler and the administrators: nothing.
    others = ("dh.clerk", "dh.leader", "dh.handler", "lyg.clerk", "lyg.leader", "lyg.drafter", "cz.handler",
              "sysadmin", "secadmin", "auditor")
    assert all(ready_for(gongwen, org.person(login)) == [] for login in others)
    assert "安排维修" not in logged_in(app, "cz.handler").get("/").get_data(as_text=True)
    assert logged_in(app, "cz.handler").get(f"/tasks/{task.id}").status_code == 404

    # From the inbox: the task's page shows the fault and names the 保障单位; 维修完成 follows, to the same pool.
    desk = logged_in(app, "lyg.handler")
    huge = post(desk, f"/faults/{fault.id}/arrange", "/faults/desk", contractor="厂" * 100_000)
    assert "未生效：保障单位长度应在 1 到 100 字之间" in desk.get(huge.headers["Location"]).get_data(as_text=True)
    assert faults(gongwen)[0].contractor is None and [t.id for t in ready_for(gongwen, handler)] == [task.id]
    page = desk.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "交换专网中断" in page and "东海县人民政府办公室" in page and "保障单位" in page
    desk.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(desk, f"/tasks/{task.id}"),
                                         "contractor": "中国电信连云港分公司"})
    (finish,) = ready_for(gongwen, handler)
    assert finish.name == "维修完成"
    assert faults(gongwen)[0].contractor == "中国电信连云港分公司"
    assert any("已安排中国电信连云港分公司维修" in t for t in told(gongwen, org.person("dh.clerk").id, "fault"))
    assert all(ready_for(gongwen, org.person(login)) == [] for login in others)
    # Arranged once: the desk page now offers only 已修复, and a second 安排维修 is refused in words.
    again = post(desk, f"/faults/{fault.id}/arrange", "/faults/desk", contractor="另一家公司")
    assert "未生效：这份故障已安排维修" in desk.get(again.headers["Location"]).get_data(as_text=True)
    assert faults(gongwen)[0].contractor == "中国电信连云港分公司"
    post(desk, f"/faults/{fault.id}/repaired", "/faults/desk", note="更换光猫")
    assert ready_for(gongwen, handler) == [] and faults(gongwen)[0].repaired_at is not None
    run_chase(gongwen, fixed_clock, "2026-12-08T10:00")  # the repair cancelled both timers: nobody is told
    assert told(gongwen, handler.id, "fault_reminder") == []
    assert told(gongwen, org.person("lyg.leader").id, "fault_overdue") == []


def test_the_desks_leader_sees_the_list_but_the_steps_are_the_handlers(gongwen, org, app, fixed_clock):
    fixed_clock.set(at("2026-11-23T10:00"))
    fault = _fault_of_donghai(app, gongwen)
    leader = logged_in(app, "lyg.leader")
    assert "交换专网中断" in leader.get("/faults/desk").get_data(as_text=True)
    refused = post(leader, f"/faults/{fault.id}/arrange", "/faults/desk", contractor="某公司")
    assert "未生效：" in leader.get(refused.headers["Location"]).get_data(as_text=True)
    assert faults(gongwen)[0].contractor is None
    repaired_first = post(logged_in(app, "lyg.handler"), f"/faults/{fault.id}/repaired", "/faults/desk")
    assert repaired_first.status_code == 302 and faults(gongwen)[0].repaired_at is None
