"""A handover in Chromium (issue 13): the system administrator starts it from the people page, both sides
confirm it (the predecessor on the record page, the successor from the task in their inbox), the unit's
分管领导 signs it off; screenshots of each page go to ``SHOTS``.

The education bureau's clerk hands over to a colleague: no other browser test works in that unit."""

from __future__ import annotations

from tests.browser_support import SHOTS, Person


def test_a_handover_is_started_confirmed_and_signed_off_on_its_pages(browser, server):
    admin = Person(browser, server, "sysadmin")
    page = admin.page
    page.goto(server + "/admin/system/people")
    page.locator("#unit").select_option(label="连云港市教育局")
    page.get_by_role("button", name="列出人员").click()
    admin.shot("handover-people")
    page.locator("tr", has_text="jy.clerk").get_by_role("link", name="交接").click()
    page.locator("#successor_id").select_option(index=1)
    successor = page.locator("#successor_id option:checked").inner_text().split("（")[0]
    page.locator("#occasion").select_option(label="退休")
    page.get_by_role("button", name="发起交接").click()
    page.wait_for_selector("text=已发起交接")
    record = page.url
    assert "收发文联系人登记（1）" in page.inner_text("main")
    admin.close()

    clerk = Person(browser, server, "jy.clerk")  # the predecessor confirms on the record's page
    clerk.page.goto(record)
    clerk.page.get_by_role("button", name="核对无误，确认交接").click()
    clerk.page.wait_for_selector("text=已确认交接清单")
    clerk.close()

    taker = Person(browser, server, "jy.head")  # the successor finds 接手人确认 in the 待办 inbox
    taker.page.goto(server + "/")
    taker.page.locator("tr", has_text="接手人确认").get_by_role("link").click()
    assert "收发文联系人登记（1）" in taker.page.inner_text("main") and successor in taker.page.inner_text("main")
    taker.shot("handover-task-confirm")
    taker.page.get_by_role("button", name="提交").click()
    taker.page.wait_for_selector("text=已办理：接手人确认")
    taker.close()

    leader = Person(browser, server, "jy.leader")
    leader.page.goto(server + "/handovers")
    leader.page.get_by_role("link", name="待确认").first.click()
    leader.shot("handover-record-to-sign")
    leader.page.get_by_role("button", name="签字确认，待办转给接手人").click()
    leader.page.wait_for_selector("text=已签字确认，待办已转给接手人")
    text = leader.page.inner_text("main")
    assert "已签字确认" in text and successor in text
    leader.shot("handover-record-signed")
    assert (SHOTS / "handover-record-signed.png").exists()
    leader.close()
