"""公告, 邮件 and 电话记录 in Chromium (issue 13): the 财政局's clerk publishes an announcement from the menu, a
colleague finds it on the home's 通知公告 card and reads it, the clerk sees who has read it; the clerk mails that
colleague, who reads it, and the clerk sees the receipt; the clerk records a phone notice for another colleague, who
completes it from the inbox. Screenshots of each page go to ``SHOTS``. No other browser test works in the 财政局."""

from __future__ import annotations

from tests.browser_support import Person


def test_an_announcement_a_mail_and_a_phone_notice_on_their_pages(browser, server):
    clerk = Person(browser, server, "cz.clerk")
    page = clerk.page
    page.goto(server + "/announcements")
    page.get_by_role("link", name="发布公告").click()
    page.locator("#title").fill("关于年终财务决算工作的公告")
    page.locator("#body").fill("请各处室于12月20日前完成年终决算报表。")
    page.get_by_role("button", name="发布").click()
    page.wait_for_selector("text=公告已发布")
    announcement = page.url
    assert "阅读情况：已读 0 人" in page.inner_text("main")

    office = Person(browser, server, "cz.office")
    office.page.goto(server + "/")
    card = office.page.locator("#portal-notices")
    assert card.locator("strong", has_text="关于年终财务决算工作的公告").count() == 1  # unread: bold
    office.shot("office-notes-portal")
    card.get_by_role("link", name="关于年终财务决算工作的公告").click()
    assert "请各处室于12月20日前完成年终决算报表。" in office.page.inner_text("main")

    page.goto(announcement)
    assert "阅读情况：已读 1 人" in page.inner_text("main")
    clerk.shot("office-notes-readers")

    page.goto(server + "/mail/new")
    name = office.page.get_by_title("修改密码").inner_text().strip()
    page.locator("#person_ids").select_option(page.locator("#person_ids option", has_text=name).get_attribute("value"))
    page.locator("#subject").fill("决算报表模板")
    page.locator("#body").fill("模板见附件，请按此填报。")
    page.locator("#files").set_input_files({"name": "模板.txt", "mimeType": "text/plain",
                                            "buffer": "处室,金额\n".encode()})
    page.get_by_role("button", name="发送").click()
    page.wait_for_selector("text=邮件已发送")
    mail = page.url
    office.page.goto(server + "/mail")
    office.page.get_by_role("link", name="决算报表模板").click()
    assert "模板.txt" in office.page.inner_text("main")
    office.shot("office-notes-mail")
    page.goto(mail)
    receipts = page.locator("#receipts").inner_text()
    assert name in receipts and "未读" not in receipts
    clerk.shot("office-notes-receipts")
    office.close()

    handler = Person(browser, server, "cz.handler")
    handler_name = handler.page.get_by_title("修改密码").inner_text().strip()
    page.goto(server + "/phone-notices/new")
    page.locator("#direction").select_option(label="来电")
    page.locator("#called_at").fill("2026-11-23T08:40")
    page.locator("#other_unit").fill("江苏省财政厅")
    page.locator("#other_person").fill("李处长")
    page.locator("#other_phone").fill("025-83633114")
    page.locator("#subject").fill("报送决算进度")
    page.locator("#content").fill("请于本周五前电话报告决算进度。")
    page.locator("#assignee_id").select_option(
        page.locator("#assignee_id option", has_text=handler_name).get_attribute("value"))
    page.locator("#due_at").fill("2026-11-27T17:00")
    page.get_by_role("button", name="登记并送办").click()
    page.wait_for_selector("text=电话通知已登记")
    record = page.url
    clerk.shot("office-notes-phone-notice")

    handler.page.goto(server + "/")
    handler.page.get_by_role("link", name="电话通知：报送决算进度").first.click()
    assert "请于本周五前电话报告决算进度。" in handler.page.inner_text("main")
    handler.shot("office-notes-phone-task")
    handler.page.locator("#note").fill("已向省财政厅报告进度")
    handler.page.get_by_role("button", name="提交").click()
    handler.close()
    page.goto(record)
    assert "办结：已向省财政厅报告进度" in page.inner_text("main")
    clerk.close()
