"""Signing off on a phone in the browser: the signer picks a 常用意见, draws a handwritten signature on the pad
with the pointer, and submits from the bar fixed at the bottom of a 390×844 screen; the PDF is drawn by pdf.js;
the trail shows the signature, and so does the printed 发文稿纸 / 签发单."""

from __future__ import annotations

import re

from tests.browser_support import SHOTS, Person

TITLE = "连云港市人民政府办公室关于开展冬季消防安全检查的通知"
SAVED = "同意，请按程序印发"

# Pixels of a canvas that are not white (pdf.js drew the page) or not transparent (a signature was drawn).
INKED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) inked += 1;
  }
  return inked;
}"""


def _loaded(page, selector: str) -> bool:
    return page.locator(selector).evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_leader_signs_off_on_a_phone_with_a_saved_opinion_and_a_handwritten_signature(browser, server):
    drafter = Person(browser, server, "lyg.drafter", title=TITLE)
    drafter.draft("为切实做好冬季消防安全工作，现将有关事项通知如下。\n一、全面排查隐患\n请于12月底前完成。")
    Person(browser, server, "lyg.head", title=TITLE).decide("部门审核", "同意", "拟同意")
    Person(browser, server, "lyg.reviewer", title=TITLE).decide("办公室核稿", "同意")

    signer = Person(browser, server, "lyg.signer", phone=True, title=TITLE)
    phone = signer.page
    phone.goto(server + "/settings/opinions")
    phone.get_by_label("新增常用意见").fill(SAVED)
    phone.get_by_role("button", name="保存").press("Enter")
    phone.get_by_text("已存为常用意见").wait_for()

    phone.goto(server + "/")
    row = signer.row("签发")
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"  # the inbox as cards on a phone
    signer.shot("signoff-inbox-cards-on-a-phone")
    signer.open_task("签发")
    pdf = phone.locator(".pdf-view canvas").first
    pdf.wait_for(timeout=30_000)
    phone.locator(".pdf-view[data-drawn]").wait_for(timeout=30_000)
    assert re.fullmatch(r"文稿 第 1 页，共 \d+ 页", pdf.get_attribute("aria-label"))
    assert pdf.evaluate(INKED) > 1000  # pdf.js drew the page: black and red on white

    phone.locator("#decision").select_option(label="同意签发")
    phone.get_by_label("常用意见").select_option(label=SAVED)
    assert phone.locator("#opinion").input_value() == SAVED
    pad = phone.get_by_label("手写签名板")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    phone.mouse.down()
    for x, y in ((0.25, 0.2), (0.4, 0.8), (0.6, 0.25), (0.8, 0.7), (0.9, 0.3)):
        phone.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=8)
    phone.mouse.up()
    assert pad.evaluate(INKED) > 100
    assert phone.locator("#signature").input_value().startswith("data:image/png;base64,")
    bar = phone.locator(".submit-bar")
    assert bar.evaluate("bar => getComputedStyle(bar).position") == "fixed"
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] <= 844 + 1  # on screen, at the bottom
    signer.shot("signoff-signature-on-a-phone")
    signer.submit()

    drafter.open_task("校对")
    signature = drafter.page.get_by_role("img", name="手写签名")
    assert "同意签发" in drafter.page.locator(".trail").inner_text()
    assert "（主任）" in drafter.page.locator(".trail").inner_text()
    assert _loaded(drafter.page, ".trail img.handwriting") and signature.count() == 1
    drafter.shot("signoff-trail-with-signature")

    drafter.page.get_by_role("link", name="打印发文稿纸（签发单）").click()
    sheet = drafter.page
    sheet.get_by_role("button", name="打印").wait_for()
    assert "发文稿纸" in sheet.locator("h1").inner_text()
    assert SAVED in sheet.locator("table.sheet").inner_text() and TITLE in sheet.locator("table.sheet").inner_text()
    assert _loaded(sheet, "table.sheet img[alt='手写签名']")
    SHOTS.mkdir(parents=True, exist_ok=True)
    sheet.emulate_media(media="print")
    assert not sheet.get_by_role("button", name="打印").is_visible()  # the button is not printed
    sheet.screenshot(path=str(SHOTS / "signoff-print-sheet.png"), full_page=True)
    for person in (drafter, signer):
        person.close()
