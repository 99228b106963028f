"""The home (门户), the module menu by role, the way back, and 系统管理 a section per page."""

from __future__ import annotations

import pytest
from lxml import html

from tests.outgoing_support import NOTICE, act, send, start
from tests.support import csrf_token as _token
from tests.support import logged_in as _login

pytestmark = pytest.mark.usefixtures("deployed")
SECTIONS = ("units", "people", "lists", "numbers", "calendar", "deadlines", "incidents")


def _page(response):
    assert response.status_code == 200, response.status_code
    return html.fromstring(response.get_data(as_text=True))


def _menu(page) -> list[str]:
    return [" ".join(e.text_content().split()) for e in page.xpath("//nav[@id='menu']//*[self::a or self::button]")]


def _portal(page, section: str) -> str:
    return " ".join("".join(page.xpath(f"//section[@id='{section}']//text()")).split())


def test_a_drafter_is_offered_drafting_and_a_clerk_is_not(app, org):
    drafter = _page(_login(app, "lyg.drafter").get("/"))
    assert "发文拟稿" in _menu(drafter) and "起草公文" in _portal(drafter, "actions")
    assert {"首页", "在办公文", "已办公文", "办结公文", "请假申请", "通讯录", "修改密码"} <= set(_menu(drafter))
    clerk = _page(_login(app, "lyg.clerk").get("/"))
    assert "发文拟稿" not in _menu(clerk) and "起草公文" not in _portal(clerk, "actions")
    assert "申请电子印章" in _portal(clerk, "actions") and "电子印章" in _menu(clerk)
    assert "申请电子印章" not in _portal(drafter, "actions") and "电子印章" not in _menu(drafter)


def test_the_home_shows_what_waits_what_to_read_and_the_latest_notices(app, gongwen, sealed):
    org = sealed
    send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "阅知"})
    act(gongwen, org.person("dh.handler"), "承办人决定下一步", {"next": "circulate",
                                                             "readers": [org.person("dh.leader").id]})
    leader = _login(app, "dh.leader")
    home = _page(leader.get("/"))
    assert NOTICE["title"] in _portal(home, "portal-reading") and "传阅" in _portal(home, "portal-reading")
    todo_count = home.xpath("string(//*[@id='portal-todo-count'])")
    assert todo_count == home.xpath("string(//*[@id='todo-count'])") and int(todo_count) >= 1
    assert [a.get("href") for a in home.xpath("//section[@id='portal-todo']//li/a")] \
        == [a.get("href") for a in home.xpath("//div[@id='rows']//tbody/tr//a[starts-with(@href, '/tasks/')]")][:5]
    assert "全部通知" in _portal(home, "portal-notices")
    assert not home.xpath("//nav[@aria-label='位置']")  # the home needs no way back

    searched = _page(leader.get("/?q=" + NOTICE["title"][:6]))  # a search is the inbox, not the home
    assert not searched.xpath("//section[@id='portal-todo']") and searched.xpath("//nav[@aria-label='位置']")


def test_the_administrators_see_their_sections_and_no_document(app, gongwen, org):
    drafter = org.person("lyg.drafter")
    start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    expected = {"sysadmin": ({"系统管理", "流程管理", "通知投递", "短信"}, "安全管理"),
                "secadmin": ({"安全管理", "签名证书"}, "系统管理"),
                "auditor": ({"审计日志"}, "系统管理")}
    for login, (own, other) in expected.items():
        page = _page(_login(app, login).get("/"))
        menu = set(_menu(page))
        assert own <= menu and other not in menu, login
        assert not menu & {"发文拟稿", "在办公文", "已办公文", "请假申请", "通讯录", "电子印章", "督查"}, login
        assert own <= {" ".join(a.text_content().split()) for a in page.xpath("//section[@aria-labelledby="
                                                                                  "'sections-title']//a")}
        assert not page.xpath("//section[@id='portal-todo' or @id='actions']"), login
        assert not page.xpath("//*[@id='rows' or @id='todo-count']"), login  # no empty inbox under the sections
        assert NOTICE["title"] not in page.text_content(), login


def test_the_menu_marks_the_page_shown_and_every_page_below_the_home_leads_back(app, org):
    drafter = _login(app, "lyg.drafter")
    home = _page(drafter.get("/"))
    assert [" ".join(a.text_content().split()) for a in home.xpath("//nav[@id='menu']//a[@aria-current='page']")] \
        == ["首页"]
    done = _page(drafter.get("/?view=done"))
    assert [a.text_content().strip() for a in done.xpath("//nav[@id='menu']//a[@aria-current='page']")] == ["已办公文"]
    for path in ("/?view=done", "/notices", "/settings/notices", "/password", "/contacts", "/certificate"):
        crumbs = _page(drafter.get(path)).xpath("//nav[@aria-label='位置']//a/@href")
        assert crumbs[:1] == ["/"], path


def test_the_system_administrator_has_a_page_per_section_and_nobody_else_has_any(app, org):
    admin = _login(app, "sysadmin")
    for name in SECTIONS:
        page = _page(admin.get(f"/admin/system/{name}"))
        assert page.xpath("//main//section/@id") == [name]  # one section a page
        assert page.xpath("//nav[@aria-label='系统管理分区']//a[@aria-current='page']/@href") == [
            f"/admin/system/{name}"]
        assert page.xpath("//nav[@id='menu']//a[@aria-current='page']/@href") == ["/admin/system/"]
    assert _page(admin.get("/admin/system/")).xpath("//section/@id") == ["units"]
    for bad in ("nothing", "units.html", "..%2f..%2fetc", "x" * 5000, "%00"):
        answer = admin.get(f"/admin/system/{bad}")
        assert answer.status_code in (400, 404), bad
    for outsider in ("secadmin", "auditor", "lyg.clerk", "lyg.drafter"):
        client = _login(app, outsider)
        assert all(client.get(f"/admin/system/{name}").status_code == 403 for name in SECTIONS), outsider
    assert app.test_client().get("/admin/system/people").status_code == 302  # anonymous: to the login page


def test_a_change_lands_back_on_its_own_section(app, org):
    admin = _login(app, "sysadmin")
    token = _token(admin, "/admin/system/")
    answer = admin.post("/admin/system/numbers", data={"csrf_token": token, "code": "连政办发", "year": "2026",
                                                       "next_seq": "12"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/system/numbers")
    bad = admin.post("/admin/system/deadlines", follow_redirects=True, data={
        "csrf_token": token, "urgency": "normal", "amount": "很多", "measure": "working_days"})
    page = _page(bad)
    assert "未生效：请检查填写的内容" in page.text_content() and page.xpath("//section[@id='deadlines']")
