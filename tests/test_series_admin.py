"""系统管理 · 发文字号 (issue 14): the system administrator lists each unit's number series with this year's last
number, adds one (the CLI's ``add_series`` rules, clashes refused in Chinese) and retires one after confirming;
a drafter of that unit is offered what was added and no longer what was retired. The other two administrators
and staff are refused, and hostile input changes nothing, is said in Chinese and is audited."""

from __future__ import annotations

import pytest
from lxml import html
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, UnitKind
from engine.organisation import create_unit
from handlers.documents.models import NumberSeries
from handlers.documents.numbering import allocate
from tests.outgoing_support import NOTICE, act, start, task_of
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")
PAGE = "/admin/system/numbers"


def _rows(page) -> dict[str, list[str]]:
    """The series table as the administrator reads it: each row's cells, by 机关代字."""
    rows = [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
            for tr in page.xpath("//table[@id='series']/tbody/tr")]
    return {cells[1]: cells for cells in rows if len(cells) > 1}


def _get(client, path: str = PAGE):
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return html.fromstring(answer.get_data(as_text=True))


def _post(client, path: str, **data):
    """Post as the page's form would and follow to the page it lands on."""
    answer = client.post(path, data={"csrf_token": csrf_token(client, PAGE), **data}, follow_redirects=True)
    assert answer.status_code == 200, answer.status_code
    return html.fromstring(answer.get_data(as_text=True))


def _series(gongwen) -> list[tuple]:
    with gongwen.db.session() as session:
        return session.execute(select(NumberSeries.unit_id, NumberSeries.code, NumberSeries.name,
                                      NumberSeries.doc_types, NumberSeries.telegram, NumberSeries.publication,
                                      NumberSeries.active).order_by(NumberSeries.id)).all()


def _events(gongwen, action: str) -> list[AuditEvent]:
    with gongwen.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _offered(app, gongwen, org, login: str) -> list[str]:
    """The 发文字号系列 a new draft of ``login`` offers, as the 拟稿 page lists them."""
    start(gongwen, org.person(login))
    page = _get(logged_in(app, login), f"/tasks/{task_of(gongwen, org.person(login), '拟稿').id}")
    return [o.text_content().strip() for o in page.xpath("//select[@name='series_id']/option") if o.get("value")]


def _add(admin, org, unit="donghai_office", **changes):
    return _post(admin, "/admin/system/series", **{"unit_id": str(org.unit(unit).id), "name": "函",
                                                   "code": "东政办函", "kind": "plain", "doc_types": ["letter"],
                                                   "total_from": "1", **changes})


def test_the_page_lists_every_series_with_its_kind_and_this_years_last_number(app, gongwen, org):
    drafter = org.person("lyg.drafter")
    start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    with gongwen.db.write() as session:
        for _ in range(3):
            allocate(session, "连政办函", clock.local_today().year)
    admin = logged_in(app, "sysadmin")
    page = _get(admin)
    rows = _rows(page)
    assert rows["连政办函"] == ["连云港市人民政府办公室", "连政办函", "函", "普通", "函", "第 3 号", "在用",
                              "确认停用 停用"]
    assert rows["连政办发明电"][2:7] == ["明电", "明传电报", "由拟稿人选用", "尚未编号", "在用"]
    assert NOTICE["title"] not in page.text_content()   # 三员分立: codes and counts, never a document

    city = _rows(_get(admin, f"{PAGE}?unit={org.unit('city_office').id}"))
    assert list(city) == ["连政办发", "连政办函", "连政办发明电"] and city["连政办发"][2] == "主系列"
    assert list(_rows(_get(admin, f"{PAGE}?unit={org.unit('donghai_office').id}"))) == ["东政办发"]
    for odd in ("abc", "-1", "9" * 30, str(2**31 - 1)):   # a filter the page never offered lists every unit
        assert list(_rows(_get(admin, f"{PAGE}?unit={odd}"))) == ["连政办函", "连政办发明电"], odd


def test_a_series_added_on_the_page_is_offered_to_that_units_drafters_only(app, gongwen, org):
    admin = logged_in(app, "sysadmin")
    page = _add(admin, org)
    assert "已设发文字号系列 函（东政办函）" in page.text_content()
    assert _rows(page)["东政办函"][:7] == ["东海县人民政府办公室", "东政办函", "函", "普通", "函", "尚未编号", "在用"]
    assert [e.actor_id for e in _events(gongwen, "numbering.add_series")][-1] == org.person("sysadmin").id
    assert _offered(app, gongwen, org, "dh.drafter") == ["函（东政办函）"]
    assert "函（东政办函）" not in _offered(app, gongwen, org, "gy.drafter")

    page = _add(admin, org, unit="city_office", name="连政通报", code="连政通报", kind="publication", doc_types=[],
                total_from="215")
    assert _rows(page)["连政通报"][3:6] == ["内部刊物《连政通报》", "由拟稿人选用", "今年尚未出刊（总第 214 期）"]
    assert "连政通报（连政通报）" in _offered(app, gongwen, org, "lyg.drafter")


@pytest.mark.parametrize("code, holder", [("连政办发", "连云港市人民政府办公室"),
                                          ("连政办函", "连云港市人民政府办公室"), ("东政办发", "东海县人民政府办公室")])
def test_a_code_in_use_anywhere_is_refused_in_chinese_and_nothing_changes(app, gongwen, org, code, holder):
    admin = logged_in(app, "sysadmin")
    before, added = _series(gongwen), len(_events(gongwen, "numbering.add_series"))   # the demo's two
    page = _add(admin, org, code=code)
    assert f"未生效：机关代字 {code} 已由{holder}使用" in page.text_content()
    assert _series(gongwen) == before and len(_events(gongwen, "numbering.add_series")) == added
    assert [e.detail["reason"] for e in _events(gongwen, "numbering.add_series_refused")] == ["Conflict"]


def test_a_series_is_retired_only_when_confirmed_and_keeps_its_numbers(app, gongwen, org):
    with gongwen.db.write() as session:
        allocate(session, "连政办函", clock.local_today().year)
        letter = session.scalar(select(NumberSeries.id).where(NumberSeries.code == "连政办函"))
    admin = logged_in(app, "sysadmin")
    unconfirmed = _post(admin, f"/admin/system/series/{letter}/retire", back_unit=str(org.unit("city_office").id))
    assert "未生效：请勾选“确认停用”后再停用 连政办函" in unconfirmed.text_content()
    assert _rows(unconfirmed)["连政办函"][6] == "在用" and unconfirmed.xpath("//select[@id='series-filter']"
                                                                          "/option[@selected]/text()") == [
        "连云港市人民政府办公室"]   # back on the unit it was listed under

    page = _post(admin, f"/admin/system/series/{letter}/retire", confirm="yes")
    assert "已停用该发文字号系列，已编的文号保持不变" in page.text_content()
    assert _rows(page)["连政办函"][5:] == ["第 1 号", "已停用", ""]   # no button left to retire it again
    assert _offered(app, gongwen, org, "lyg.drafter") == ["明电（连政办发明电）"]
    assert [e.actor_id for e in _events(gongwen, "numbering.retire_series")] == [org.person("sysadmin").id]

    again = _post(admin, f"/admin/system/series/{letter}/retire", confirm="yes")
    assert "未生效：发文字号系列 连政办函 已经停用" in again.text_content()
    assert len(_events(gongwen, "numbering.retire_series")) == 1
    assert len(_events(gongwen, "numbering.retire_series_refused")) == 2
    assert "未生效：机关代字 连政办函 已由" in _add(admin, org, code="连政办函").text_content()  # its code stays taken


@pytest.mark.parametrize("login", ["secadmin", "auditor", "lyg.clerk", "lyg.drafter", "dh.leader"])
def test_nobody_but_the_system_administrator_sees_or_changes_the_series(app, gongwen, org, login):
    with gongwen.db.session() as session:
        letter = session.scalar(select(NumberSeries.id).where(NumberSeries.code == "连政办函"))
    before = _series(gongwen)
    client = logged_in(app, login)
    token = csrf_token(client, "/")
    assert client.get(PAGE).status_code == 403
    added = {"csrf_token": token, "unit_id": str(org.unit("city_office").id), "name": "字", "code": "连政字",
             "kind": "plain"}
    assert client.post("/admin/system/series", data=added).status_code == 403
    assert client.post(f"/admin/system/series/{letter}/retire", data={"csrf_token": token,
                                                                       "confirm": "yes"}).status_code == 403
    assert _series(gongwen) == before
    assert len(_events(gongwen, "request.refused")) >= 3   # each 403 audited
    anonymous = app.test_client()
    assert anonymous.get(PAGE).status_code == 302 and _series(gongwen) == before


def _no_issuer_code(gongwen) -> str:
    with gongwen.db.write() as session:
        return str(create_unit(session, "连云港市机关事务管理局", UnitKind.DEPARTMENT).id)


@pytest.mark.parametrize("changes, said", [
    ({"name": "函" * 100_000}, "系列名称不能超过 20 个字（现有 100000 个）"),
    ({"code": "东" * 21}, "机关代字不能超过 20 个字"),
    ({"name": "  "}, "请填写系列名称"),
    ({"code": ""}, "请填写机关代字"),
    ({"code": "东政办\u202e函"}, "机关代字含有不可见的控制字符（U+202E）"),
    ({"unit_id": "99999999"}, "请从列表中选择有机关代字的单位"),
    ({"unit_id": str(2**40)}, "请从列表中选择有机关代字的单位"),
    ({"unit_id": "一"}, "请从列表中选择有机关代字的单位"),
    ({"unit_id": None}, "请从列表中选择有机关代字的单位"),
    ({"unit_id": _no_issuer_code}, "请从列表中选择有机关代字的单位"),
    ({"kind": "<script>alert(1)</script>"}, "请检查填写的内容"),
    ({"kind": ""}, "请检查填写的内容"),
    ({"doc_types": ["letter", "'; DROP TABLE number_series; --"]}, "请检查填写的内容"),
    ({"doc_types": ["x" * 100_000]}, "请检查填写的内容"),
    ({"total_from": "-1"}, "请检查填写的内容"),
    ({"total_from": "1e9"}, "请检查填写的内容"),
    ({"total_from": "1000000", "kind": "publication"}, "总期号应在 1 到 999999 之间"),
], ids=lambda v: None if isinstance(v, dict) else v[:12])
def test_hostile_input_is_refused_in_chinese_and_changes_nothing(app, gongwen, org, changes, said):
    changes = {k: v(gongwen) if callable(v) else v for k, v in changes.items()}
    admin = logged_in(app, "sysadmin")
    before, added = _series(gongwen), len(_events(gongwen, "numbering.add_series"))
    data = {"unit_id": str(org.unit("donghai_office").id), "name": "函", "code": "东政办函", "kind": "plain",
            "doc_types": ["letter"], "total_from": "1", "csrf_token": csrf_token(admin, PAGE), **changes}
    answer = admin.post("/admin/system/series", data={k: v for k, v in data.items() if v is not None},
                        follow_redirects=True)
    assert answer.status_code == 200
    page = html.fromstring(answer.get_data(as_text=True))
    assert f"未生效：{said}" in page.text_content() and page.xpath("//section[@id='numbers']")
    assert _series(gongwen) == before and len(_events(gongwen, "numbering.add_series")) == added
    assert len(_events(gongwen, "numbering.add_series_refused")) == 1


@pytest.mark.parametrize("series_id", ["99999999", str(2**40), "abc", "-1"])
def test_retiring_a_series_that_does_not_exist_is_a_page_not_found(app, gongwen, org, series_id):
    admin = logged_in(app, "sysadmin")
    before = _series(gongwen)
    answer = admin.post(f"/admin/system/series/{series_id}/retire",
                        data={"csrf_token": csrf_token(admin, PAGE), "confirm": "yes"})
    assert answer.status_code == 404 and "找不到这个页面" in answer.get_data(as_text=True)
    assert _series(gongwen) == before


def test_a_form_without_its_csrf_token_changes_nothing(app, gongwen, org):
    admin = logged_in(app, "sysadmin")
    before = _series(gongwen)
    answer = admin.post("/admin/system/series", data={"unit_id": str(org.unit("donghai_office").id), "name": "函",
                                                       "code": "东政办函", "kind": "plain"})
    assert answer.status_code == 400 and _series(gongwen) == before

