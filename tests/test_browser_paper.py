"""Browser test of registering a paper document: the city office's clerk opens 外来文登记 from the menu, fills in
the sender organ, its number, date and urgency, attaches the scan (an image-only PDF) and registers it; it waits
for her in the inbox at 分办, and its task page shows what she registered and the scan."""

from __future__ import annotations

from tests.browser_support import SHOTS, Person
from tests.test_external import BODY, scan_pdf

TITLE = "国务院办公厅关于加强冬季水库安全管理的通知（纸质来文）"


def test_the_clerk_registers_a_paper_scan_through_the_page(browser, server, tmp_path):
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(scan_pdf(BODY))
    clerk = Person(browser, server, "lyg.clerk", title=TITLE)
    page = clerk.page
    page.get_by_role("link", name="外来文登记").first.click()
    page.wait_for_selector("h1:has-text('外来文登记')")
    page.locator("#title").fill(TITLE)
    page.locator("#sender_organ").fill("国务院办公厅")
    page.locator("#sender_number").fill("国办发〔2026〕30号")
    page.locator("#written_on").fill("2026-11-18")
    page.locator("#urgency").select_option(label="加急")
    page.locator("#paper").check()
    page.locator("#scan").set_input_files(str(scan))
    clerk.shot("paper-register-form")

    # A file that is not a scan is refused in words and nothing is registered.
    (tmp_path / "fake.pdf").write_bytes(b"PK\x03\x04 not a pdf")
    page.locator("#scan").set_input_files(str(tmp_path / "fake.pdf"))
    page.get_by_role("button", name="登记").click()
    page.wait_for_selector(".alert-danger")
    assert "扫描件只能是" in page.locator(".alert-danger").inner_text()
    assert page.locator("#sender_organ").input_value() == "国务院办公厅"  # what she typed stays

    page.locator("#scan").set_input_files(str(scan))
    page.get_by_role("button", name="登记").click()
    page.wait_for_url(server + "/")
    assert "外来文已登记" in page.content()
    assert clerk.row("分办").count() == 1

    clerk.open_task("分办")
    shown = page.locator("section[aria-label='外来文']")
    assert "纸质来文" in shown.inner_text() and "国务院办公厅" in shown.inner_text()
    assert "国办发〔2026〕30号" in shown.inner_text() and "加急" in shown.inner_text()
    page.wait_for_selector(".pdf-view canvas")  # the scan drawn by pdf.js
    clerk.shot("paper-route-task")
    assert (SHOTS / "paper-route-task.png").exists()
    clerk.close()
