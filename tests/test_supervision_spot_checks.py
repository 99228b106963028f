"""The 抽查 page and the 生成通报 button of the 督查 pages.

The day of tests/test_bulletin.py: on Monday 09:00 the city office sends a notice to 东海 and 灌南; 东海
signs at 10:00; 灌南 is reminded, told it is overdue on Tuesday at 09:00 (its clerk texted), chased at
09:30, and signs at 10:00, an hour late. lyg.supervisor, the demo's 督查员 of the city office, is also
one of its 拟稿人; lyg.reviewer is made a 督查员 who is not.
"""

from __future__ import annotations

import pytest
from lxml import html
from sqlalchemy import func, select

from handlers.documents.models import Document
from tests import test_bulletin
from tests.outgoing_support import send
from tests.support import logged_in
from tests.test_supervision_pages import ADMINISTRATORS, _page, _refusals

day = test_bulletin.day  # the fixture the module's docstring tells
pytestmark = pytest.mark.usefixtures("deployed")
DONGHAI, GUANNAN = "东海县人民政府办公室", "灌南县人民政府办公室"
BULLETIN = "连云港市人民政府办公室关于2026年第四季度全市电子公文系统应用情况的通报"


def _receipts(page: html.HtmlElement) -> dict[str, dict[str, str]]:
    """Every sampled document's recipients by unit, each as header -> text, with the row's class."""
    rows = {}
    for table in page.xpath("//table[contains(@class, 'receipts')]"):
        headers = [th.text_content().strip() for th in table.xpath("./thead/tr/th")]
        for tr in table.xpath("./tbody/tr"):
            cells = dict(zip(headers, (" ".join(td.text_content().split()) for td in tr.xpath("./td")), strict=True))
            rows[cells["收文单位"]] = cells | {"class": tr.get("class") or ""}
    return rows


def _sampled(client, query: str) -> list[str]:
    """The headings (文号 and title) of the documents the spot check of ``query`` draws."""
    return [h.text_content() for h in _page(client.get(f"/supervision/spot-check?{query}")).xpath("//section/h2")]


def _documents(gongwen) -> int:
    with gongwen.db.session() as db:
        return db.scalar(select(func.count()).select_from(Document))


def test_the_spot_check_shows_each_recipients_record_and_the_late_one_in_red(app, day):
    supervisor = logged_in(app, "lyg.supervisor")
    area = _page(supervisor.get("/supervision?quarter=2026Q4"))
    (link,) = area.xpath("//a[text()='抽查']/@href")
    assert link == "/supervision/spot-check?quarter=2026Q4"

    page = _page(supervisor.get(link))
    (heading,) = page.xpath("//section/h2/text()")
    assert heading.startswith("连政办发") and "连云港市人民政府办公室" in page.xpath("string(//section/p)")
    rows = _receipts(page)
    on_time, late = rows[DONGHAI], rows[GUANNAN]
    assert (on_time["状态"], on_time["主送/抄送"], on_time["逾期（小时）"]) == ("已签收", "主送", "—")
    assert "late" not in on_time["class"]
    assert on_time["签收/退回人"] == day.person("dh.clerk").name and on_time["提醒"] == "无"

    assert "late" in late["class"] and (late["送达"], late["签收时限"]) == ("2026-11-23 09:00", "2026-11-24 09:00")
    assert (late["签收/退回时间"], late["签收/退回人"]) == ("2026-11-24 10:00", day.person("gn.clerk").name)
    assert (late["逾期（小时）"], late["逾期（工作小时）"]) == ("1.0", "1.0")
    assert "2026-11-23 14:01 签收提醒" in late["提醒"] and "2026-11-24 09:30 催签" in late["提醒"]
    mobile = day.person("gn.clerk").mobile
    assert f"{mobile[:3]}****{mobile[-4:]}" in late["短信"] and mobile not in page.text_content()


def test_the_same_number_draws_the_same_documents_and_a_new_check_shows_its_number(app, gongwen, day):
    for title in ("关于报送年度工作总结的通知", "关于开展安全检查的通知"):
        send(gongwen, day, main_to=("donghai_office",), title=title)
    supervisor = logged_in(app, "lyg.supervisor")
    draws = {seed: _sampled(supervisor, f"quarter=2026Q4&size=2&seed={seed}") for seed in range(1, 7)}
    assert all(_sampled(supervisor, f"quarter=2026Q4&size=2&seed={seed}") == d for seed, d in draws.items())
    assert all(len(d) == 2 for d in draws.values()) and len({tuple(d) for d in draws.values()}) > 1

    page = _page(supervisor.get("/supervision/spot-check?quarter=2026Q4&size=2"))
    (link,) = page.xpath("//a[@id='spot-link']/@href")
    seed = link.rsplit("seed=", 1)[1].split("&")[0]
    assert f"抽查编号 {seed}" in page.xpath("string(//p[@id='spot-summary'])")
    assert _sampled(supervisor, link.split("?", 1)[1]) == [h.text_content() for h in page.xpath("//section/h2")]



def test_a_size_or_number_that_cannot_be_read_is_refused_in_words_and_the_defaults_drawn(app, gongwen, day):
    supervisor = logged_in(app, "lyg.supervisor")
    refusals = {
        "size=0": "抽查件数应为 1 至 200 的整数，已按 10 件抽查",
        "size=201": "抽查件数应为 1 至 200 的整数",
        "size=1.5": "抽查件数应为 1 至 200 的整数",
        "size=%EF%BC%91": "抽查件数应为 1 至 200 的整数",           # a full-width digit
        "seed=-7": "抽查编号应为 1 至 2147483647 的整数，已重新随机抽取",
        "seed=99999999999999999999": "抽查编号应为 1 至 2147483647 的整数",
        "seed=<script>alert(1)</script>": "抽查编号应为 1 至 2147483647 的整数",
    }
    for number, (query, refusal) in enumerate(refusals.items(), start=1):
        answer = supervisor.get(f"/supervision/spot-check?quarter=2026Q4&{query}")
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200 and refusal in page and "<script>alert" not in page, query
        assert GUANNAN in page and "随机抽查 10 件" in _page(answer).xpath("string(//p[@id='spot-summary'])")
        assert len(_refusals(gongwen, "supervision.spot_check_refused")) == number


def test_a_clerk_and_the_administrators_are_refused_the_spot_check(app, gongwen, day):
    for login, reason in [("gn.clerk", "只有督查员可以查看"), *((admin, "三员分立") for admin in ADMINISTRATORS)]:
        answer = logged_in(app, login).get("/supervision/spot-check?quarter=2026Q4&seed=7")
        text = answer.get_data(as_text=True)
        assert answer.status_code == 403 and reason in text and DONGHAI not in text, login
    assert len(_refusals(gongwen)) == 1 + len(ADMINISTRATORS)


def _bulletin_form(client) -> dict[str, str]:
    """The fields of the overview's 生成通报 form, as the page fills them for the 2026 fourth quarter."""
    (form,) = _page(client.get("/supervision?quarter=2026Q4")).xpath("//form[@id='bulletin']")
    assert form.xpath("string(.//button)") == "生成通报"
    return {field.get("name"): field.get("value") for field in form.xpath(".//input[@type='hidden']")}


def test_generating_a_bulletin_opens_the_drafting_task_with_the_bulletin_filled_in(app, day):
    supervisor = logged_in(app, "lyg.supervisor")
    fields = _bulletin_form(supervisor)
    assert fields["quarter"] == "2026Q4" and fields["csrf_token"]
    answer = supervisor.post("/supervision/bulletin", data=fields)
    assert answer.status_code == 302 and answer.location.startswith("/tasks/")
    task = _page(supervisor.get(answer.location))
    assert task.xpath("string(//h1)") == "拟稿"
    assert task.xpath("//textarea[@name='title']/text()") == [BULLETIN]


def test_a_supervisor_who_may_not_draft_is_refused_and_nothing_is_created(app, gongwen, day):
    reviewer = test_bulletin.supervisor(gongwen, day, "lyg.reviewer")
    client, before = logged_in(app, "lyg.reviewer"), _documents(gongwen)
    answer = client.post("/supervision/bulletin", data=_bulletin_form(client))
    assert answer.status_code == 302 and answer.location == "/supervision?quarter=2026Q4"
    page = client.get(answer.location).get_data(as_text=True)
    assert "未生成通报" in page and "不是本单位的拟稿人，不能起草公文" in page
    (event,) = _refusals(gongwen, "supervision.bulletin_refused")
    assert event.actor_id == reviewer.id and "拟稿人" in event.detail["why"]

    bad_period = client.post("/supervision/bulletin", data=_bulletin_form(client) | {"quarter": "2026Q5"})
    assert bad_period.location == "/supervision" and "未生成通报" in client.get("/supervision").get_data(as_text=True)
    assert _documents(gongwen) == before


def test_generating_a_bulletin_without_the_forms_token_is_refused(app, gongwen, day):
    supervisor, before = logged_in(app, "lyg.supervisor"), _documents(gongwen)
    fields = _bulletin_form(supervisor)
    del fields["csrf_token"]
    assert supervisor.post("/supervision/bulletin", data=fields).status_code == 400
    assert _documents(gongwen) == before and len(_refusals(gongwen, "csrf.refused")) == 1
