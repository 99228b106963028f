"""Browser tests: Playwright drives Debian's Chromium against a real ``gongwen serve`` on localhost.

A notice goes from a drafter to two counties (returned once on the way), is signed off on a
phone-sized screen, sealed, arrives at a county clerk's open inbox without a reload and is signed
for after the clerk read the verification report; the demo's own documents wait in the same
inboxes, so rows are found by the notice's title and step; the sender sees the receipt; the system
administrator renames a task in the modeler and the next document uses it. The main pages are
saved as screenshots (see ``SHOTS``).
"""

from __future__ import annotations

from functools import partial

from tests.browser_support import Person

TITLE = "连云港市人民政府办公室关于做好冬季安全生产工作的通知"
Person = partial(Person, title=TITLE)


def test_a_notice_from_draft_to_a_county_clerk_and_a_new_process_version(browser, server):
    drafter = Person(browser, server, "lyg.drafter")
    drafter.page.get_by_role("button", name="起草公文").click()
    page = drafter.page
    page.locator("#doc_type").select_option(label="通知")
    page.locator("#direction").select_option(label="下行文")
    assert page.locator("#classification").input_value() == "非密"  # 密级 is a pick: 无（非密） chosen already
    page.locator("#title").fill(TITLE)
    page.locator("#main_to").select_option(label=["东海县人民政府办公室", "灌云县人民政府办公室"])
    page.locator("#body").fill("为做好今冬明春安全生产工作，现通知如下。\n一、压实安全责任\n请各地于12月底前完成排查。")
    drafter.shot("drafting")
    drafter.submit()

    head = Person(browser, server, "lyg.head")
    head.decide("部门审核", "退回修改", "请补充排查时限")
    drafter.open_task("拟稿")
    assert "请补充排查时限" in drafter.page.content()  # the opinion trail, shown at the later step
    drafter.submit()  # the draft comes back filled in
    head.decide("部门审核", "同意")
    Person(browser, server, "lyg.reviewer").decide("办公室核稿", "同意")

    signer = Person(browser, server, "lyg.signer", phone=True)
    signer.open_task("签发")
    signer.shot("sign-off-on-a-phone")
    signer.page.locator("#decision").select_option(label="同意签发")
    signer.submit()

    drafter.decide("校对", "校对无误")
    clerk = Person(browser, server, "dh.clerk")  # the clerk's inbox is open before the document is sealed
    waiting = int(clerk.page.locator("#todo-count").inner_text())  # the demo's documents
    assert clerk.row("签收").count() == 0
    sealer = Person(browser, server, "lyg.sealer")
    sealer.open_task("用印")
    sealer.page.locator("#confirm").press("Space")  # the keyboard, for the reason given in submit()
    assert sealer.page.locator("#confirm").is_checked()
    sealer.submit()

    clerk.row("签收").wait_for(timeout=20_000)  # arrived without a reload
    assert "有 1 件新的待办" in clerk.page.locator("#arrival").inner_text()
    assert clerk.page.locator("#todo-count").inner_text() == str(waiting + 1)
    clerk.shot("inbox")
    clerk.open_task("签收")
    assert "验证通过：可以签收" in clerk.page.content()
    clerk.shot("sign-for-with-verification")
    clerk.page.locator("#decision").select_option(label="签收")
    clerk.submit()

    drafter.page.goto(server + "/?view=doing")
    drafter.page.get_by_role("link", name=TITLE).click()
    drafter.page.get_by_text("查看流程图").click()  # 流程跟踪 first; the diagram behind its toggle
    drafter.page.locator(".djs-container").wait_for()
    receipts = drafter.page.locator("table").inner_text()
    assert "东海县人民政府办公室" in receipts and "已签收" in receipts and "灌云县人民政府办公室" in receipts
    drafter.shot("document-where-is-it-now")

    admin = Person(browser, server, "sysadmin")
    admin.page.goto(server + "/admin/processes/outgoing/edit")
    admin.page.locator('[data-element-id="draft"]').wait_for()
    admin.page.locator('[data-element-id="draft"]').dblclick()
    editor = admin.page.locator(".djs-direct-editing-parent")
    editor.press("Control+A")
    editor.type("起草公文稿")
    admin.page.locator("#modeler").click(position={"x": 5, "y": 5})
    admin.page.get_by_role("button", name="保存为新版本").click()
    admin.page.get_by_text("已部署为第 2 版").wait_for()
    admin.shot("modeler")

    drafter.page.goto(server + "/")
    drafter.page.get_by_role("button", name="起草公文").click()
    assert drafter.page.locator("h1").inner_text() == "起草公文稿"
    for person in (drafter, head, signer, clerk, sealer, admin):
        person.close()


def test_a_county_renews_its_seal_from_the_browser_and_the_register_shows_both(browser, server, tmp_path):
    title = "东海县人民政府办公室电子印章申请"

    def open_task(person: Person, step: str):
        person.page.goto(server + "/")
        person.page.locator("#rows tr", has_text=title).filter(has_text=step).get_by_role("link").click()
        person.page.wait_for_selector("h1")

    keeper = Person(browser, server, "dh.drafter")
    keeper.page.get_by_role("button", name="申请电子印章").click()
    page = keeper.page
    page.locator("#action").select_option(label="到期换发")
    page.locator("#seal_code").select_option(index=1)  # the county's seal in use, the only one offered
    old_code = page.locator("#seal_code").input_value()
    page.locator("#explanation").fill("证书将于明年到期，申请换发")
    scan = tmp_path / "换发申请.pdf"
    scan.write_bytes(b"%PDF-1.7\n% signed request\n")
    page.locator("#explanation_upload").set_input_files(str(scan))
    keeper.submit()

    head = Person(browser, server, "dh.leader")
    open_task(head, "单位负责人审核")
    assert head.page.get_by_role("link", name="换发申请.pdf").is_visible()
    head.page.locator("#decision").select_option(label="同意")
    head.submit()

    province = Person(browser, server, "js.leader")
    open_task(province, "签发单位审批")
    assert "办理时限：2026-11-30 09:00" in province.page.content()
    province.page.locator("#decision").select_option(label="同意，制发或办理")
    province.submit()

    keeper.page.goto(server + "/seals/register")
    old = keeper.page.locator(f"#seal-{old_code}")
    assert "已换发" in old.inner_text() and "替代" in old.inner_text()
    keeper.shot("seal_register")
    for person in (keeper, head, province):
        person.close()


FIRE = "连云港市人民政府办公室关于开展冬季消防安全检查的通知"


def test_attachments_travel_a_return_is_resent_without_retyping_and_done_rows_open_the_document(
        browser, server, tmp_path):
    """Two attachments uploaded while drafting lose nothing typed; 灌云 returns the notice and the drafter
    re-sends it from the filled-in 处理退文 page; 东海's clerk opens an attachment before signing, then
    finds the document again under 已办 with its text and attachments."""
    people = {login: Person(browser, server, login, title=FIRE) for login in (
        "lyg.drafter", "lyg.head", "lyg.reviewer", "lyg.signer", "lyg.sealer", "dh.clerk", "gy.clerk")}
    drafter = people["lyg.drafter"]
    page = drafter.page
    page.get_by_role("button", name="起草公文").click()
    page.locator("#doc_type").select_option(label="通知")
    page.locator("#direction").select_option(label="下行文")
    page.locator("#title").fill(FIRE)
    page.locator("#main_to").select_option(label=["东海县人民政府办公室", "灌云县人民政府办公室"])
    body = "为切实做好今冬消防安全工作，现就开展消防安全检查通知如下。\n请于12月15日前报送检查情况。"
    page.locator("#body").fill(body)
    files = {"检查表": ("消防安全检查表.txt", "检查项目：疏散通道、消防设施、用火用电。"),
             "联系人": ("联系人名单.txt", "东海县：张伟，85800001。")}
    for name, (filename, text) in files.items():
        (tmp_path / filename).write_text(text, encoding="utf-8")
        page.locator("#attachment_name").fill(name)
        page.locator("#attachment_file").set_input_files(str(tmp_path / filename))
        page.get_by_role("button", name="上传附件").press("Enter")
        page.get_by_text(f"已添加附件：{name}").wait_for()
        assert page.locator("#title").input_value() == FIRE and page.locator("#body").input_value() == body
        assert page.locator("#main_to").evaluate("s => [...s.selectedOptions].length") == 2
    assert "附件1：检查表" in page.content() and "附件2：联系人" in page.content()
    drafter.shot("drafting-with-attachments")
    drafter.submit()

    people["lyg.head"].decide("部门审核", "同意")
    people["lyg.reviewer"].open_task("办公室核稿")
    assert people["lyg.reviewer"].page.get_by_role("link", name="附件1：检查表").is_visible()
    people["lyg.reviewer"].page.locator("#decision").select_option(label="同意")
    people["lyg.reviewer"].submit()
    people["lyg.signer"].decide("签发", "同意签发")
    drafter.decide("校对", "校对无误")
    sealer = people["lyg.sealer"]
    sealer.open_task("用印")
    sealer.page.locator("#confirm").press("Space")
    sealer.submit()

    returner = people["gy.clerk"]
    returner.page.goto(server + "/")
    returner.row("签收").wait_for(timeout=20_000)
    returner.decide("签收", "退回", "检查表缺少填报说明")
    drafter.open_task("处理退文")
    content = drafter.page.content()
    assert "灌云县人民政府办公室" in content and "退回理由：<strong>检查表缺少填报说明</strong>" in content
    assert drafter.page.locator("#title").input_value() == FIRE and drafter.page.locator("#body").input_value() == body
    drafter.shot("handling-a-return")
    drafter.page.locator("#decision").select_option(label="更正后重新分发")
    drafter.page.locator("#opinion").fill("已补充说明，重新分发")
    drafter.submit()  # nothing retyped
    sealer.open_task("更正稿用印")
    sealer.page.locator("#confirm").press("Space")
    sealer.submit()
    returner.page.goto(server + "/")
    returner.row("签收").wait_for(timeout=20_000)  # version 2 arrived

    clerk = people["dh.clerk"]
    clerk.page.goto(server + "/")
    clerk.row("签收").wait_for(timeout=20_000)
    clerk.open_task("签收")
    link = clerk.page.get_by_role("link", name="附件1：检查表")
    opened = clerk.page.request.get(server + link.get_attribute("href"))
    assert opened.ok and opened.text() == files["检查表"][1]
    clerk.shot("sign-for-with-attachments")
    clerk.page.locator("#decision").select_option(label="签收")
    clerk.submit()

    clerk.page.goto(server + "/?view=done")
    clerk.page.locator("#rows tr", has_text=FIRE).filter(has_text="签收").get_by_role("link").click()
    clerk.page.get_by_role("heading", name="正文").wait_for()
    text = clerk.page.locator("section[aria-label=正文]").inner_text()
    assert "请于12月15日前报送检查情况。" in text and "东海县人民政府办公室" in text
    assert clerk.page.get_by_role("link", name="附件2：联系人").is_visible()
    clerk.shot("document-opened-from-done")
    for person in people.values():
        person.close()
