"""A declared-form approval drawn in the modeler, from the browser: the system administrator renames a step of
用车申请 in the modeler and deploys it; a staff member starts 用车申请 from 发起, fills the form the diagram
declares (a wrong number is refused in words), and it is approved and a car dispatched under the new name."""

from tests.browser_support import Person


def test_a_vehicle_request_drawn_in_the_modeler_is_started_from_the_start_page_and_approved(browser, server):
    admin = Person(browser, server, "sysadmin")
    admin.page.goto(server + "/admin/processes/vehicle/edit")
    step = admin.page.locator('[data-element-id="dispatch"]')
    step.wait_for()
    step.dblclick()
    editor = admin.page.locator(".djs-direct-editing-parent")
    editor.press("Control+A")
    editor.type("派车登记")
    admin.page.locator("#modeler").click(position={"x": 5, "y": 5})
    admin.page.get_by_role("button", name="保存为新版本").click()
    admin.page.get_by_text("已部署为第 2 版").wait_for()
    admin.shot("declared-modeler")

    applicant = Person(browser, server, "lyg.drafter2", title="的用车申请")
    applicant.page.get_by_role("link", name="发起").click()
    assert applicant.page.get_by_role("heading", name="行政事务").is_visible()
    applicant.shot("declared-start")
    applicant.page.get_by_role("button", name="用车申请").click()
    page = applicant.page
    assert page.locator("h1").inner_text() == "填写用车申请"
    page.get_by_label("用车事由").fill("陪同检查组赴灌云县")
    page.get_by_label("用车日期（起）").fill("2026-11-25")
    page.get_by_label("用车日期（止）").fill("2026-11-25")
    page.get_by_label("用车时段").select_option(label="上午")
    page.get_by_label("目的地").fill("灌云县人民政府")
    page.get_by_label("人数").fill("四")
    page.get_by_label("是否需要驾驶员").select_option(label="需要")
    page.get_by_role("button", name="提交").press("Enter")
    page.get_by_text("应为整数").wait_for()  # refused in words, everything typed still there
    assert page.get_by_label("目的地").input_value() == "灌云县人民政府"
    page.get_by_label("人数").fill("4")
    applicant.shot("declared-form")
    applicant.submit()

    head = Person(browser, server, "lyg.head2", title="的用车申请")
    head.decide("部门负责人审批", "同意", "同意用车")
    office = Person(browser, server, "lyg.head3", title="的用车申请")
    office.decide("办公室主任审批", "同意")
    dispatcher = Person(browser, server, "lyg.handler", title="的用车申请")
    dispatcher.open_task("派车登记")
    assert "同意用车" in dispatcher.page.locator("section[aria-label=办理过程]").inner_text()
    dispatcher.page.get_by_label("派车（车牌号）").fill("苏G·A1234")
    dispatcher.page.get_by_label("驾驶员").select_option(index=1)
    dispatcher.shot("declared-dispatch")
    dispatcher.submit()

    applicant.page.goto(server + "/?view=finished")  # 办结: the request went all the way
    assert applicant.row("").count() == 1
    for person in (admin, applicant, head, office, dispatcher):
        person.close()
