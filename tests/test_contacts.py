"""The duty-contact register (收发文联系人): kept by each unit's office with dates and reasons, every change
in the history and the audit trail, read by the unit and by senders on the receipt table."""

import re
from datetime import date

import pytest
from sqlalchemy import event, select

from engine.errors import Forbidden, Refused
from engine.models import AuditEvent, Person, Role, Unit
from engine.organisation import grant_role
from handlers.contacts.models import Duty, DutyContact
from handlers.contacts.register import appoint, current, current_for_units, history, remove, replace
from handlers.notifications.models import Notification
from tests.support import csrf_token, logged_in
from web import demo

TODAY = date(2026, 11, 23)  # the fixed clock's day


def _events(gongwen, action: str) -> list[AuditEvent]:
    with gongwen.db.session() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _rows(gongwen, unit_id: int) -> list[tuple]:
    """The whole register of a unit, every column a change could touch."""
    with gongwen.db.session() as db:
        return [(c.id, c.duty, c.person_id, c.name, c.title, c.mobile, c.since, c.until, c.end_reason)
                for c in history(db, unit_id)]


def _register(gongwen, unit_id: int) -> list[tuple[str, str]]:
    with gongwen.db.session() as db:
        return [(c.duty.label, c.name) for c in current(db, unit_id)]


def test_every_demo_person_has_a_mobile_and_every_unit_with_people_its_register(gongwen, org):
    mobiles = [p.mobile for p in org.people.values()]
    assert all(re.fullmatch(r"1[3-9][0-9]{9}", m) for m in mobiles) and len(set(mobiles)) == len(mobiles)
    city = org.unit("city_office")
    assert _register(gongwen, city.id) == [("分管领导", org.person("lyg.leader").name),
                                           ("主要负责人", org.person("lyg.signer").name),
                                           ("收发文人员", org.person("lyg.clerk").name)]
    with gongwen.db.session() as db:
        registers = current_for_units(db, [u.id for u in org.units.values()])
        clerk = current(db, org.unit("donghai_office").id, Duty.CLERK)
    assert clerk[0].person_id == org.person("dh.clerk").id and clerk[0].mobile == org.person("dh.clerk").mobile
    assert clerk[0].since == demo.REGISTER_SINCE and clerk[0].reason == "初始登记"
    with_people = {p.unit_id for p in org.people.values() if p.unit_id}
    assert {u for u, rows in registers.items() if rows} == with_people
    assert registers[org.unit("city").id] == []  # no people, no register


def test_appoint_replace_and_remove_keep_the_history_and_are_audited(gongwen, org):
    city, clerk = org.unit("city_office").id, org.person("lyg.clerk")
    archivist, drafter2 = org.person("lyg.archivist"), org.person("lyg.drafter2")
    with gongwen.db.write() as db:
        second = appoint(db, city, Duty.CLERK, name=None, title="机要员", mobile="+86 139-0518 1234",
                         since=date(2026, 11, 20), reason="增设第二名收发文人员", person_id=archivist.id,
                         actor_id=clerk.id)
        first_id = current(db, city, Duty.CLERK)[0].id
    assert (second.name, second.mobile) == (archivist.name, "13905181234")  # the person's name, the number normalised

    with gongwen.db.write() as db:
        successor = replace(db, first_id, name="", title="文书", mobile="１３９ ０５１８ ５６７８", since=TODAY,
                            reason="原收发文人员调岗", person_id=drafter2.id, actor_id=clerk.id)
    with gongwen.db.write() as db:
        remove(db, second.id, until=TODAY, reason="机要员另有任用", actor_id=clerk.id)

    assert _register(gongwen, city)[2:] == [("收发文人员", drafter2.name)]
    rows = {r[0]: r for r in _rows(gongwen, city)}
    assert rows[first_id][6:] == (demo.REGISTER_SINCE, TODAY, "原收发文人员调岗")  # ended the day the successor began
    assert rows[successor.id][5:8] == ("13905185678", TODAY, None)
    assert rows[second.id][7:] == (TODAY, "机要员另有任用")
    with gongwen.db.session() as db:
        assert [c.id for c in history(db, city)][:2] == [successor.id, second.id]  # newest first
        assert len(history(db, city)) == 5
    (appointed,), (replaced,), (removed,) = ([e for e in _events(gongwen, f"contact.{a}") if e.actor_id == clerk.id]
                                             for a in ("appoint", "replace", "remove"))
    assert appointed.actor_id == clerk.id and appointed.unit_id == city and appointed.detail["contact_id"] == second.id
    assert replaced.detail == {"contact_id": first_id, "new_contact_id": successor.id, "duty": "clerk",
                               "person_id": drafter2.id}
    assert removed.detail["contact_id"] == second.id
    assert not any("调岗" in str(e.detail) for e in (appointed, replaced, removed))  # ids, not the words

    with gongwen.db.write() as db, pytest.raises(Refused, match="已被更换或移除"):  # ended rows are never edited
        replace(db, first_id, name="某某", title="文书", mobile="13900000000", since=TODAY, reason="再改",
                actor_id=clerk.id)


def test_a_change_of_duty_staff_is_reported_to_the_supervisors_over_the_unit(gongwen, org):
    """Yan'an Art 26: the 督查员 of the city and of the county hear of a county clerk's replacement."""
    donghai, dh_clerk, dh_handler = org.unit("donghai_office").id, org.person("dh.clerk"), org.person("dh.handler")
    with gongwen.db.write() as db:
        county_supervisor = db.get(Person, org.person("dh.head").id)
        grant_role(db, county_supervisor, Role.SUPERVISOR, unit=db.get(Unit, org.unit("donghai").id))
        (old,) = current(db, donghai, Duty.CLERK)
        replace(db, old.id, name="", title="文书", mobile="13905189999", since=TODAY, reason="原收发文人员退休",
                person_id=dh_handler.id, actor_id=dh_clerk.id)
        appoint(db, org.unit("province_office").id, Duty.CLERK, name="周敏", title="机要员", mobile="13905180001",
                since=TODAY, reason="增设", actor_id=None)
    with gongwen.db.session() as db:
        told = db.execute(select(Notification.person_id, Notification.text).where(
            Notification.kind == "contact_change", Notification.text.contains("原收发文人员退休"))).all()
        province = db.scalars(select(Notification.person_id).where(Notification.kind == "contact_change",
                                                                   Notification.text.contains("周敏"))).all()
    assert sorted(p for p, _ in told) == sorted([org.person("lyg.supervisor").id, org.person("dh.head").id])
    assert f"收发文人员由{old.name}更换为{dh_handler.name}" in told[0][1]
    assert province == []  # no 督查员 oversees the province


@pytest.mark.parametrize("change, refusal", [
    (dict(duty=Duty.CLERK, person="lyg.archivist", then_clerk="lyg.drafter2"),
     "收发文人员最多两名，请先更换或移除一名"),
    (dict(duty=Duty.CLERK, person="cz.clerk"), "所选人员不属于连云港市人民政府办公室"),
    (dict(duty=Duty.PRINCIPAL, person="lyg.leader"), "本单位已登记主要负责人"),
    (dict(duty=Duty.CLERK, person="lyg.archivist", mobile="12345678901"), "手机号码应为 11 位数字"),
    (dict(duty=Duty.CLERK, person="lyg.archivist", mobile="139051812345"), "手机号码应为 11 位数字"),
    (dict(duty=Duty.CLERK, person="lyg.archivist", reason="  "), "请填写变更原因"),
    (dict(duty=Duty.CLERK, person="lyg.archivist", since=date(2026, 11, 24)), "起始日期不能晚于今天"),
    (dict(duty=Duty.CLERK, name="张\u202e三", title="文书"), "控制字符"),
    (dict(duty=Duty.CLERK, name="张三", title=""), "请填写职务"),
])
def test_a_change_against_the_rules_is_refused_and_changes_nothing(gongwen, org, change, refusal):
    city, clerk = org.unit("city_office").id, org.person("lyg.clerk").id
    change = dict(change)  # the parameters are shared by both backends' runs
    if then := change.pop("then_clerk", None):
        with gongwen.db.write() as db:
            appoint(db, city, Duty.CLERK, name=None, title="文书", mobile=None, since=TODAY, reason="增设",
                    person_id=org.person(then).id, actor_id=clerk)
    before, audited = _rows(gongwen, city), len(_events(gongwen, "contact.appoint"))
    person = change.pop("person", None)
    values = dict(name=None, title="文书", mobile="13905189999", since=TODAY, reason="人员调整",
                  person_id=org.person(person).id if person else None) | change
    duty = values.pop("duty")
    with gongwen.db.write() as db, pytest.raises(Refused, match=refusal):
        appoint(db, city, duty, actor_id=clerk, **values)
    assert _rows(gongwen, city) == before and len(_events(gongwen, "contact.appoint")) == audited


def test_only_the_units_office_may_change_its_register(gongwen, org):
    city = org.unit("city_office").id
    (clerk_row,) = (c for c in _rows(gongwen, city) if c[1] == Duty.CLERK)
    for login in ("cz.clerk", "lyg.drafter", "lyg.head", "sysadmin", "secadmin", "auditor"):
        with gongwen.db.write() as db, pytest.raises(Forbidden, match="只有本单位办公室"):
            replace(db, clerk_row[0], name="某某", title="文书", mobile="13905189999", since=TODAY, reason="调整",
                    actor_id=org.person(login).id)
    with gongwen.db.write() as db:  # the head of the office department (综合处) may
        remove(db, current(db, city, Duty.LEADER_IN_CHARGE)[0].id, until=TODAY, reason="退休",
               actor_id=org.person("lyg.head3").id)
    with gongwen.db.write() as db, pytest.raises(Refused, match="只登记了一名收发文人员"):
        remove(db, clerk_row[0], until=TODAY, reason="调岗", actor_id=org.person("lyg.clerk").id)


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/contacts"), **data})


def test_the_office_keeps_the_register_on_its_page(app, gongwen, org):
    city, clerk = org.unit("city_office").id, logged_in(app, "lyg.clerk")
    page = clerk.get("/contacts").get_data(as_text=True)
    leader = org.person("lyg.leader")
    assert "连云港市人民政府办公室" in page and leader.name in page and "分管领导" in page
    assert f'href="tel:{leader.mobile}"' in page and "初始登记" in page
    assert "新增收发文人员" in page and "新增主要负责人" not in page  # one clerk of two; the principal is there
    form = clerk.get("/contacts/new?duty=clerk").get_data(as_text=True)
    assert 'value="clerk" selected' in form and org.person("lyg.archivist").name in form
    assert org.person("cz.clerk").name not in form  # only the unit's own people are offered

    added = _post(clerk, "/contacts/new", {"duty": "clerk", "person_id": org.person("lyg.archivist").id,
                                           "name": "", "title": "机要员", "mobile": "139 0518 1234",
                                           "since": "2026-11-20", "reason": "增设第二名收发文人员"})
    assert added.status_code == 302
    page = clerk.get("/contacts").get_data(as_text=True)
    assert "已登记收发文人员" in page and "13905181234" in page and "新增收发文人员" not in page

    (row,) = (c for c in _rows(gongwen, city) if c[5] == "13905181234")
    replaced = _post(clerk, f"/contacts/{row[0]}/replace", {"person_id": "", "name": "赵一", "title": "机要员",
                                                             "mobile": "13905180000", "since": "2026-11-23",
                                                             "reason": "原机要员借调"})
    assert replaced.status_code == 302
    page = clerk.get("/contacts").get_data(as_text=True)
    assert "赵一" in page and "原机要员借调" in page and "2026-11-20 至 2026-11-23" in page
    (new_row,) = (c for c in _rows(gongwen, city) if c[3] == "赵一")
    assert _post(clerk, f"/contacts/{new_row[0]}/remove", {"until": "2026-11-23", "reason": "借调结束"}) \
        .status_code == 302
    page = clerk.get("/contacts").get_data(as_text=True)
    assert "已移除收发文人员：赵一" in page and "借调结束" in page
    # Someone of the unit who is not its office reads the register but changes nothing.
    drafter = logged_in(app, "lyg.drafter")
    page = drafter.get("/contacts").get_data(as_text=True)
    assert "赵一" in page and "更换</a>" not in page and "新增" not in page
    assert drafter.get("/contacts/new").status_code == 403
    assert _post(drafter, "/contacts/new", {"duty": "clerk", "name": "某某", "title": "文书",
                                            "mobile": "13905189999", "since": "2026-11-23", "reason": "x"}) \
        .status_code == 403


def test_a_clerk_of_another_unit_cannot_change_this_units_register(app, gongwen, org):
    city = org.unit("city_office").id
    before = _rows(gongwen, city)
    (clerk_row,) = (c for c in before if c[1] == Duty.CLERK)
    outsider = logged_in(app, "cz.clerk")
    for path in (f"/contacts/{clerk_row[0]}/replace", f"/contacts/{clerk_row[0]}/remove"):
        assert "没有权限" in outsider.get(path).get_data(as_text=True)
        answer = _post(outsider, path, {"name": "某某", "title": "文书", "mobile": "13905189999",
                                        "since": "2026-11-23", "until": "2026-11-23", "reason": "冒名更换"})
        assert answer.status_code == 403 and "没有权限" in answer.get_data(as_text=True)
    assert _rows(gongwen, city) == before
    refusals = [e for e in _events(gongwen, "access.refused") if e.actor_id == org.person("cz.clerk").id]
    assert [e.detail["path"] for e in refusals] == [f"/contacts/{clerk_row[0]}/replace"] * 2 + \
        [f"/contacts/{clerk_row[0]}/remove"] * 2
    # Their own unit's register is theirs to keep, and does not show the city's.
    page = outsider.get("/contacts").get_data(as_text=True)
    assert "连云港市财政局" in page and org.person("lyg.clerk").name not in page
    assert outsider.get("/contacts/999999/replace").status_code == 404


@pytest.mark.parametrize("login", ["sysadmin", "secadmin", "auditor"])
def test_the_three_administrators_see_and_change_nothing_here(app, gongwen, org, login):
    admin = logged_in(app, login)
    before = _rows(gongwen, org.unit("city_office").id)
    assert "收发文联系人" not in admin.get("/", follow_redirects=True).get_data(as_text=True)
    for path in ("/contacts", "/contacts/new"):
        answer = admin.get(path)
        assert answer.status_code == 403 and org.person("lyg.clerk").mobile not in answer.get_data(as_text=True)
    (row,) = (c for c in before if c[1] == Duty.CLERK)
    token = csrf_token(admin, "/password")
    assert admin.post(f"/contacts/{row[0]}/remove", data={"csrf_token": token, "until": "2026-11-23",
                                                          "reason": "x"}).status_code == 403
    assert _rows(gongwen, org.unit("city_office").id) == before


HUGE = "长" * 100_000


@pytest.mark.parametrize("data, refusal", [
    ({}, "请选择联系人类别"),
    ({"duty": "admin"}, "请选择联系人类别"),
    ({"duty": "clerk", "person_id": "{cz_clerk}"}, "请从列表中选择本单位人员"),
    ({"duty": "clerk", "person_id": "-1"}, "请从列表中选择本单位人员"),
    ({"duty": "clerk", "person_id": str(2**40)}, "请从列表中选择本单位人员"),
    ({"duty": "clerk", "person_id": "1e3"}, "请从列表中选择本单位人员"),
    ({"duty": "clerk", "since": "去年"}, "起始日期应为有效日期"),
    ({"duty": "clerk", "since": "0001-01-01"}, "起始日期应为有效日期"),
    ({"duty": "clerk", "since": "2099-01-01"}, "起始日期不能晚于今天"),
    ({"duty": "clerk", "name": HUGE}, "姓名不能超过 50 个字"),
    ({"duty": "clerk", "title": HUGE}, "职务不能超过 50 个字"),
    ({"duty": "clerk", "mobile": HUGE}, "手机号码应为 11 位数字"),
    ({"duty": "clerk", "reason": HUGE}, "变更原因不能超过 200 个字"),
    ({"duty": "clerk", "name": "<script>alert(1)</script>", "reason": ""}, "请填写变更原因"),
    ({"duty": "clerk", "mobile": ""}, "请填写手机号码"),
    ({"duty": "clerk", "mobile": "1390518123４5"}, "手机号码应为 11 位数字"),
    ({"duty": "clerk", "name": "张\u202e三"}, "控制字符"),
    ({"duty": ["clerk", "principal"], "name": "", "title": ""}, "请填写姓名"),
])
def test_hostile_huge_and_empty_input_is_refused_in_chinese_and_changes_nothing(app, gongwen, org, data, refusal):
    city = org.unit("city_office").id
    before = _rows(gongwen, city)
    clerk = logged_in(app, "lyg.clerk")
    good = {"name": "钱二", "title": "文书", "mobile": "13905189999", "since": "2026-11-23", "reason": "增设"}
    form = good | {k: (v.format(cz_clerk=org.person("cz.clerk").id) if isinstance(v, str) else v)
                   for k, v in data.items()}
    answer = clerk.post("/contacts/new", data={"csrf_token": csrf_token(clerk, "/contacts"), **form})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and refusal in page and "未登记" in page
    assert "<script>alert" not in page and HUGE not in page
    assert _rows(gongwen, city) == before
    assert [e.actor_id for e in _events(gongwen, "contact.appoint_refused")] == [org.person("lyg.clerk").id]


def test_a_form_without_its_csrf_token_is_refused(app, gongwen, org):
    clerk = logged_in(app, "lyg.clerk")
    before = _rows(gongwen, org.unit("city_office").id)
    answer = clerk.post("/contacts/new", data={"duty": "clerk", "name": "钱二", "title": "文书",
                                               "mobile": "13905189999", "since": "2026-11-23", "reason": "增设"})
    assert answer.status_code == 400 and _rows(gongwen, org.unit("city_office").id) == before


def test_the_senders_receipt_table_shows_whom_to_call_at_each_recipient(app, gongwen, sealed, deployed):
    from handlers.exchange.models import Receipt
    from tests.outgoing_support import send

    org = sealed
    with gongwen.db.write() as db:  # 东海县 has a second clerk on duty; 灌云县 has no register
        appoint(db, org.unit("donghai_office").id, Duty.CLERK, name="钱二", title="机要员",
                mobile="13905187777", since=TODAY, reason="增设", actor_id=org.person("dh.clerk").id)
        for row in current(db, org.unit("guanyun_office").id):
            db.delete(row)  # as an installation would be before anyone kept one
    doc = send(gongwen, org, main_to=("donghai_office", "finance", "guanyun_office"))

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sender = logged_in(app, "lyg.drafter")
    event.listen(gongwen.db.engine, "before_cursor_execute", count)
    try:
        page = sender.get(f"/documents/{doc.id}").get_data(as_text=True)
    finally:
        event.remove(gongwen.db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "duty_contact" in s]) == 1  # one query, however many recipients

    with gongwen.db.session() as db:
        receipts = dict(db.execute(select(Receipt.unit_id, Receipt.id).where(Receipt.document_id == doc.id)).all())
    rows = {unit: page.split(f'action="/receipts/{rid}/chase"')[0].rsplit("<tr", 1)[1]
            for unit, rid in receipts.items()}
    donghai = rows[org.unit("donghai_office").id]
    for login in ("dh.leader", "dh.clerk"):
        person = org.person(login)
        assert person.name in donghai and f'<a href="tel:{person.mobile}">{person.mobile}</a>' in donghai
    assert "钱二（机要员）" in donghai and 'href="tel:13905187777"' in donghai
    assert "分管领导" in donghai and "主要负责人" in donghai and "收发文人员" in donghai
    finance = rows[org.unit("finance").id]
    assert org.person("cz.clerk").mobile in finance and org.person("dh.clerk").name not in finance
    assert "未登记" in rows[org.unit("guanyun_office").id]
    # The recipient reads the document, not the sender's table of whom to call.
    receiver = logged_in(app, "dh.clerk").get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "签收情况" not in receiver and org.person("cz.clerk").mobile not in receiver


def test_the_command_line_prints_the_register(run, gongwen, org):
    printed = run("contacts", "list")
    assert printed.exit_code == 0
    lines = printed.output.splitlines()
    assert re.match(r"单位\s+类别\s+姓名\s+职务\s+手机\s+起始日期$", lines[0])
    clerk = org.person("dh.clerk")
    expected = rf"东海县人民政府办公室\s+收发文人员\s+{clerk.name}\s+文书\s+{clerk.mobile}\s+2025-01-02$"
    assert any(re.match(expected, line) for line in lines)
    assert len(lines) == 1 + sum(len(r) for r in _all_registers(gongwen, org).values())

    one = run("contacts", "list", "东海县人民政府办公室").output
    assert "东海县" in one and "连云港市财政局" not in one
    assert run("contacts", "list", str(org.unit("finance").id)).output.count("连云港市财政局") == 3
    assert run("contacts", "list", "市财政局").output.count("连云港市财政局") == 3  # its short name

    with gongwen.db.write() as db:
        (row,) = current(db, org.unit("finance").id, Duty.CLERK)
        replace(db, row.id, name="孙三", title="文书", mobile="13905186666", since=TODAY, reason="原收发员退休",
                actor_id=org.person("cz.office").id)
    now = run("contacts", "list", "市财政局").output
    assert "孙三" in now and org.person("cz.clerk").name not in now
    past = run("contacts", "list", "市财政局", "--history").output
    assert "截止日期" in past and "原收发员退休" in past and "2025-01-02  2026-11-23" in past
    missing = run("contacts", "list", "不存在的单位")
    assert missing.exit_code == 1 and "没有单位 不存在的单位" in missing.output
    empty = run("contacts", "list", "连云港市人民政府")
    assert empty.exit_code == 1 and "尚未登记收发文联系人" in empty.output


def _all_registers(gongwen, org) -> dict[int, list[DutyContact]]:
    with gongwen.db.session() as db:
        return current_for_units(db, [u.id for u in org.units.values()])


def test_a_person_picked_must_belong_to_the_unit_after_a_move(gongwen, org):
    """The register names a person by their account; a person of another unit is refused even by id."""
    with gongwen.db.session() as db:
        stranger = db.scalar(select(Person.id).where(Person.login == "jy.clerk"))
    with gongwen.db.write() as db, pytest.raises(Refused, match="不属于"):
        replace(db, current(db, org.unit("finance").id, Duty.CLERK)[0].id, name=None, title="文书", mobile=None,
                since=TODAY, reason="调整", person_id=stranger, actor_id=org.person("cz.clerk").id)


@pytest.mark.parametrize("data, refusal", [
    ({"until": "", "reason": "退休"}, "截止日期应为有效日期"),
    ({"until": "2026-13-01", "reason": "退休"}, "截止日期应为有效日期"),
    ({"until": "2026-11-24", "reason": "退休"}, "截止日期不能晚于今天"),
    ({"until": "2024-12-31", "reason": "退休"}, "截止日期不能早于起始日期（2025-01-02）"),
    ({"until": "2026-11-23", "reason": ""}, "请填写变更原因"),
    ({"until": "2026-11-23", "reason": HUGE}, "变更原因不能超过 200 个字"),
])
def test_a_refused_removal_says_why_and_changes_nothing(app, gongwen, org, data, refusal):
    city = org.unit("city_office").id
    before = _rows(gongwen, city)
    (leader,) = (c for c in before if c[1] == Duty.LEADER_IN_CHARGE)
    clerk = logged_in(app, "lyg.clerk")
    answer = _post(clerk, f"/contacts/{leader[0]}/remove", data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "未移除" in page and refusal in page and HUGE not in page
    assert _rows(gongwen, city) == before
    assert [e.detail["contact_id"] for e in _events(gongwen, "contact.remove_refused")] == [leader[0]]
