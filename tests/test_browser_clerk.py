"""Browser test of the clerk's inbox: three notices reach 灌南, one of them tampered with on the way; the county
clerk sees each arrival's sender, 文号 and urgency, ticks all three and presses 批量签收, and is told two were
signed and the third refused, with the verification's reason; the third still waits for her.

The notices are drafted by clicking through the city office's steps; the first picks its recipient by
searching the unit tree, the second through the select the tree enhances, the third by ticking a
distribution list's group and removing two of its units in the 已选 panel. The tampering
reaches behind the server, as an attacker with the file store would: the stored sealed PDF of the second
notice is replaced by one with a changed byte (``server_env`` is the server's database and files).
"""

from __future__ import annotations

import subprocess
import sys

from tests.browser_support import Person

TITLES = ("连云港市人民政府办公室关于做好冬季森林防火工作的通知",
          "连云港市人民政府办公室关于开展冬春安全生产大检查的通知",
          "连云港市人民政府办公室关于做好元旦春节期间值班工作的通知")
COUNTY = "灌南县人民政府办公室"
GROUP = "各县政府办公室（流程测试）"

# Run with the server's environment: the sealed file of the document titled argv[1] is tampered with.
SPOIL = """
import sys
from sqlalchemy import select
import forms, handlers
from engine.config import Settings
from engine.core import Gongwen
from handlers.documents.models import Document
gongwen = Gongwen(Settings.from_env())
with gongwen.db.write() as session:
    doc = session.scalar(select(Document).where(Document.title == sys.argv[1]))
    pdf = bytearray(gongwen.files.get(doc.sealed_sha256))
    pdf[pdf.index(b"/Creator") + 4] = ord("7")
    doc.sealed_sha256 = gongwen.files.put(session, bytes(pdf), "application/pdf")
gongwen.close()
"""


def send(people: dict[str, Person], title: str, urgency: str, how: str) -> None:
    """The city office's road for one notice to 灌南, from 拟稿 to 用印 (dispatch follows at once); 灌南 is
    picked by searching the tree, through the distribution list's group less two units, or in the select."""
    drafter = people["lyg.drafter"]
    page = drafter.page
    page.goto(drafter.server + "/")
    page.get_by_role("button", name="起草公文").click()
    page.locator("#doc_type").select_option(label="通知")
    page.locator("#direction").select_option(label="下行文")
    page.locator("#urgency").select_option(label=urgency)
    page.locator("#title").fill(title)
    picker, picked = page.locator("#main_to-picker"), page.locator("#main_to-picker .unit-picked-panel")
    if how == "search":
        picker.get_by_label("搜索单位").fill("灌南")
        assert not picker.get_by_label("东海县人民政府办公室", exact=False).is_visible()  # filtered out
        picker.get_by_label(COUNTY, exact=False).check()
        assert COUNTY in picked.inner_text()
        drafter.shot("unit-picker")
    elif how == "group":
        picker.get_by_label(f"分发名单：{GROUP}", exact=False).check()
        assert picked.inner_text().count("县人民政府办公室") == 3
        for other in ("东海县人民政府办公室", "灌云县人民政府办公室"):
            picked.get_by_role("button", name=f"移除{other}").click()
        assert picker.get_by_label(f"分发名单：{GROUP}", exact=False).evaluate("box => box.indeterminate")
        assert picked.inner_text().count("县人民政府办公室") == 1 and COUNTY in picked.inner_text()
        assert page.locator("#main_to").evaluate("s => Array.from(s.selectedOptions, o => o.text)") == [COUNTY]
    else:
        page.locator("#main_to").select_option(label=[COUNTY])
    page.locator("#body").fill("请认真贯彻落实。\n一、提高思想认识\n二、压实工作责任")
    drafter.submit()
    people["lyg.head"].decide("部门审核", "同意")
    people["lyg.reviewer"].decide("办公室核稿", "同意")
    people["lyg.signer"].decide("签发", "同意签发")
    people["lyg.drafter"].decide("校对", "校对无误")
    sealer = people["lyg.sealer"]
    sealer.open_task("用印")
    sealer.page.locator("#confirm").press("Space")
    sealer.submit()


def test_the_clerk_signs_for_three_arrivals_at_once_and_the_tampered_one_is_refused(browser, server, server_env):
    admin = Person(browser, server, "sysadmin")  # the city office's list of the three county offices
    admin.page.goto(server + "/admin/system/lists")
    admin.page.locator("#list-owner").select_option(label="连云港市人民政府办公室")
    admin.page.locator("#list-name").fill(GROUP)
    admin.page.locator("#list-members").select_option(label=["东海县人民政府办公室", "灌云县人民政府办公室", COUNTY])
    admin.page.get_by_role("button", name="保存").click()
    admin.page.locator("#lists tr", has_text=GROUP).wait_for()
    people = {}
    for title, urgency, how in zip(TITLES, ("平件", "加急", "平件"), ("search", "select", "group"), strict=True):
        for login in ("lyg.drafter", "lyg.head", "lyg.reviewer", "lyg.signer", "lyg.sealer"):
            if login in people:
                people[login].title = title
            else:
                people[login] = Person(browser, server, login, title=title)
        send(people, title, urgency, how)
    admin.page.locator("#lists tr", has_text=GROUP).get_by_role("button", name="删除").click()  # as it was
    admin.page.get_by_text("还没有分发列表").wait_for()
    subprocess.run([sys.executable, "-c", SPOIL, TITLES[1]], env=server_env, check=True, timeout=60)

    clerk = Person(browser, server, "gn.clerk")
    page = clerk.page
    for title in TITLES:
        row = page.locator("#rows tr", has_text=title)
        row.wait_for()
        text = row.inner_text()
        assert "连云港市人民政府办公室" in text and "连政办发" in text and "签收" in text
    assert "加急" in page.locator("#rows tr", has_text=TITLES[1]).inner_text()
    boxes = page.locator('#rows input[name="task_id"]')
    page.get_by_label("全选可签收的来文").check()  # 全选 ticks every arrival offered, and unticks them again
    assert boxes.count() >= 3 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.get_by_label("全选可签收的来文").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    for title in TITLES:
        page.get_by_label(f"选择签收：{title}").check()
    clerk.shot("clerk-inbox-batch")
    page.get_by_role("button", name="批量签收").click()
    page.locator("#batch-results").wait_for()
    clerk.shot("batch-sign-for-result")
    assert "已签收 2 件，未签收 1 件" in page.content()
    for title, result in zip(TITLES, ("已签收", "未签收", "已签收"), strict=True):
        assert result in page.locator("#batch-results tr", has_text=title).inner_text()
    refused = page.locator("#batch-results tr", has_text=TITLES[1]).inner_text()
    assert "验证未通过，不能签收，只能退回：文件完整" in refused

    page.goto(server + "/")
    assert page.locator("#rows tr", has_text=TITLES[1]).filter(has_text="签收").count() == 1  # still waiting
    for title in (TITLES[0], TITLES[2]):
        assert page.locator("#rows tr", has_text=title).filter(has_text="分办").count() == 1  # signed: 分办 next

    # 流程跟踪 on the document's page: who signed when, where it waits now; the diagram behind its toggle.
    page.goto(server + "/?view=done")
    page.locator("#rows tr", has_text=TITLES[0]).get_by_role("link").click()
    assert "签收：签收" in page.locator("ol.timeline").inner_text()
    assert "当前在：分办 · 收发员" in page.content()
    assert not page.locator("#diagram").is_visible()
    page.get_by_text("查看流程图").click()
    page.locator("#diagram .djs-container").wait_for()
    clerk.shot("document-tracking")
    for person in (*people.values(), clerk, admin):
        person.close()
