"""The home (门户), the menu and the one design in Chromium, checked with axe-core on the main pages.

axe-core (npm, served from node_modules like the other browser libraries) runs in each page; a
violation of impact serious or critical fails the test with its rule, its help and the elements.
Screenshots, desktop and a 390 px phone, go to ``SHOTS``.
"""

from __future__ import annotations

from tests.browser_support import SHOTS, Person

GRAVE = ("serious", "critical")
AXE = """async (grave) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => grave.includes(v.impact))
    .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map(n => n.target.join(" ")).slice(0, 5).join(", ")}`);
}"""


def _axe(page, server: str, what: str) -> list[str]:
    """The serious and critical violations axe finds in ``page``, each named with ``what``."""
    page.wait_for_load_state("networkidle")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=server + "/vendor/axe-core/axe.min.js")
    return [f"{what}: {v}" for v in page.evaluate(AXE, list(GRAVE))]


def _menu(person: Person) -> list[str]:
    return [" ".join(t.split()) for t in person.page.locator("#menu a, #menu button").all_inner_texts()]


def test_the_main_pages_have_no_serious_accessibility_violations(browser, server):
    found = []
    visitor = browser.new_context(locale="zh-CN")
    login = visitor.new_page()
    login.goto(server + "/login")
    found += _axe(login, server, "登录")
    visitor.close()

    drafter = Person(browser, server, "lyg.drafter")
    found += _axe(drafter.page, server, "首页")
    drafter.shot("portal-home")
    drafter.page.goto(server + "/?view=doing")
    found += _axe(drafter.page, server, "在办")
    drafter.page.get_by_role("navigation", name="模块").get_by_role("button", name="发文拟稿").click()
    drafter.page.wait_for_selector("h1")
    found += _axe(drafter.page, server, "拟稿")

    head = Person(browser, server, "lyg.signer")  # the demo's 待签发 document waits for them
    task = head.page.locator("#rows tbody tr a[href^='/tasks/']").first
    task.click()
    head.page.wait_for_selector("h1")
    found += _axe(head.page, server, "任务")
    head.shot("portal-task")
    head.page.get_by_role("link", name="办理进度与流程图").click()
    head.page.wait_for_selector("h1")
    found += _axe(head.page, server, "公文")

    admins = (("sysadmin", "/admin/system/", "系统管理"), ("secadmin", "/admin/security/", "安全管理"),
              ("auditor", "/admin/audit", "审计日志"))
    for login_name, path, what in admins:
        admin = Person(browser, server, login_name)
        found += _axe(admin.page, server, f"{what}的首页")
        admin.page.goto(server + path)
        found += _axe(admin.page, server, what)
        if login_name == "sysadmin":
            admin.shot("portal-system")
        admin.close()
    drafter.close()
    head.close()
    assert not found, "\n".join(found)


def test_the_menu_offers_each_person_their_modules_only(browser, server):
    drafter, clerk, auditor = (Person(browser, server, login) for login in ("lyg.drafter", "lyg.clerk", "auditor"))
    assert "发文拟稿" in _menu(drafter) and drafter.page.get_by_role("button", name="起草公文").is_visible()
    assert "发文拟稿" not in _menu(clerk) and not clerk.page.get_by_role("button", name="起草公文").count()
    menu = _menu(auditor)
    assert "审计日志" in menu
    assert not {"首页", "审计日志", "通知中心", "通知设置", "修改密码"} ^ set(menu)  # no document module at all
    drafter.page.goto(server + "/?view=done")
    assert drafter.page.locator("#menu [aria-current='page']").inner_text().strip() == "已办公文"
    drafter.page.get_by_role("navigation", name="位置").get_by_role("link", name="首页").click()
    drafter.page.wait_for_url(server + "/")
    for person in (drafter, clerk, auditor):
        person.close()


def test_the_home_counts_the_inbox_rows_and_fits_a_phone(browser, server):
    drafter = Person(browser, server, "lyg.drafter")
    count = int(drafter.page.locator("#portal-todo-count").inner_text())
    rows = drafter.page.locator("#rows tbody tr").count()
    assert count == rows == int(drafter.page.locator("#todo-count").inner_text())
    drafter.close()

    for login in ("lyg.signer", "sysadmin"):
        phone = Person(browser, server, login, phone=True)
        page = phone.page
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), login
        assert not page.locator("#menu").is_visible()  # folded away until asked for
        page.get_by_role("button", name="菜单").click()
        page.locator("#menu").wait_for(state="visible")
        phone.shot(f"portal-home-phone-{login}")
        if login == "lyg.signer":
            page.goto(server + "/?view=done")
            phone.shot("portal-inbox-phone")
            page.goto(server + "/")
            page.locator("#rows tbody tr a[href^='/tasks/']").first.click()
            page.wait_for_selector("h1")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            phone.shot("portal-task-phone")
        else:
            page.goto(server + "/admin/system/people")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            phone.shot("portal-system-phone")
        phone.close()
    desktop = Person(browser, server, "lyg.clerk")
    desktop.page.goto(server + "/?view=done")
    desktop.shot("portal-inbox")
    desktop.close()
    assert SHOTS.exists()
