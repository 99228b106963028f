"""A meeting notice in Chromium (issue 13): 灌云县's clerk sends it from the menu with the unit picker, 灌南县's
clerk fills the reply slip's rows in the inbox, the organiser reads the answer, prints the sign-in sheet;
screenshots of each page go to ``SHOTS``. No other browser test organises meetings, so the titles are ours."""

from __future__ import annotations

from tests.browser_support import SHOTS, Person

TITLE = "全县防汛工作视频调度会（浏览器）"


def test_a_meeting_is_sent_with_the_unit_picker_answered_in_the_inbox_and_read_by_the_organiser(browser, server):
    organiser = Person(browser, server, "gy.clerk", title=TITLE)
    page = organiser.page
    page.get_by_role("link", name="会议").click()
    page.get_by_role("link", name="发会议通知").click()
    page.locator("#title").fill(TITLE)
    page.locator("#starts_at").fill("2026-12-10T09:00")
    page.locator("#ends_at").fill("2026-12-10T11:00")
    page.locator("#reply_by").fill("2026-12-08T17:00")
    page.locator("#place").fill("县政府视频会议室")
    page.locator("#attendance").fill("分管负责同志1名")
    page.locator("#agenda").fill("一、通报汛情\n二、部署防汛工作")
    page.locator("#invited-search").fill("灌南")
    page.get_by_label("灌南县人民政府办公室").check()
    organiser.shot("meeting-new")
    page.get_by_role("button", name="发出").click()
    page.wait_for_selector("text=会议通知已发出")
    overview = page.url
    assert "共 1 个单位：参加 0，不参加 0，未回复 1" in page.inner_text("main")

    clerk = Person(browser, server, "gn.clerk", title=TITLE)
    clerk.open_task("填写会议回执")
    assert "县政府视频会议室" in clerk.page.inner_text("main")
    clerk.page.locator("#decision").select_option(label="参加")
    clerk.page.get_by_label("第1位姓名").fill("孙南")
    clerk.page.get_by_label("第1位职务").fill("副县长")
    clerk.page.get_by_label("第1位手机号码").fill("139 0013 9000")
    clerk.page.get_by_label("第2位姓名").fill("钱汛")
    clerk.page.get_by_label("第2位职务").fill("水利局局长")
    clerk.page.get_by_label("第2位手机号码").fill("1390013900")      # one digit short
    clerk.page.get_by_role("button", name="提交").press("Enter")
    clerk.page.wait_for_selector("text=第 2 位参会人员：手机号码应为 11 位数字")
    clerk.shot("meeting-reply-refused")
    clerk.page.get_by_label("第2位手机号码").fill("13900139001")
    clerk.submit()
    assert clerk.row("填写会议回执").count() == 0
    clerk.close()

    page.goto(overview)
    text = page.inner_text("main")
    assert "参加 1，不参加 0，未回复 0" in text and "孙南（副县长，13900139000）" in text
    organiser.shot("meeting-overview")
    page.get_by_role("link", name="打印签到表").click()
    assert "钱汛" in page.inner_text("body")
    organiser.shot("meeting-sign-in")
    assert (SHOTS / "meeting-sign-in.png").exists()
    organiser.close()
