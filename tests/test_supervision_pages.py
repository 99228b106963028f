"""The 督查 pages: the area overview for a 督查员, a unit's own page for its leaders and clerks, the charts
and the workbook; refusals in Chinese, audited, for everyone else and for every hostile id or period.

The small office: on Monday 2026-11-23 at 09:00 the city office sends a notice to 东海 and 灌云 through
the real outgoing process; at 10:00 东海's clerk signs for it and 灌云's returns it. Nobody of the
counties has logged in; the 督查员 of the city office logs in to read the pages.

The last test opens the overview in Debian's Chromium (the browser tests' shared server, tests/browser_support.py).
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime

import pytest
from lxml import html
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Person, Role, Unit
from engine.organisation import grant_role
from engine.periods import Period
from handlers.supervision.charts import ranking_png
from handlers.supervision.figures import CITY_LEVEL, AreaFigures, GroupFigures, InTime, UnitFigures
from tests.browser_support import Person as BrowsingPerson
from tests.outgoing_support import act, send
from tests.support import logged_in

CITY_OFFICE, DONGHAI, GUANYUN = "连云港市人民政府办公室", "东海县人民政府办公室", "灌云县人民政府办公室"
ADMINISTRATORS = ("sysadmin", "secadmin", "auditor")


@pytest.fixture
def office(gongwen, sealed, deployed, fixed_clock):
    """The module's small office; returns the organisation."""
    send(gongwen, sealed, main_to=("donghai_office", "guanyun_office"))
    fixed_clock.set(datetime.fromisoformat("2026-11-23T10:00").replace(tzinfo=clock.SHANGHAI))
    act(gongwen, sealed.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, sealed.person("gy.clerk"), "签收", {"decision": "return", "opinion": "非本单位职责"})
    return sealed


def _page(answer) -> html.HtmlElement:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return html.fromstring(answer.get_data(as_text=True))


def _table(page: html.HtmlElement, table_id: str) -> dict[str, dict[str, str]]:
    """A table's rows by the text of their first cell naming a unit or figure, each as header -> text."""
    (table,) = page.xpath(f"//table[@id='{table_id}']")
    headers = [th.text_content().strip() for th in table.xpath("./thead/tr/th")]
    rows = {}
    for tr in table.xpath("./tbody/tr"):
        cells = dict(zip(headers, (td.text_content().strip() for td in tr.xpath("./td")), strict=True))
        cells["class"] = tr.get("class") or ""
        rows[cells.get("单位") or cells.get("地区") or cells["指标"]] = cells
    return rows


def _listed(page: html.HtmlElement, list_id: str) -> list[str]:
    return [li.text_content().strip() for li in page.xpath(f"//div[@id='{list_id}']/ul[1]/li")]


def _refusals(gongwen, action: str = "supervision.refused") -> list[AuditEvent]:
    with gongwen.db.session() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_supervisor_sees_the_areas_figures_beside_the_previous_quarter_with_late_units_in_red(app, office):
    supervisor = logged_in(app, "lyg.supervisor")
    page = _page(supervisor.get("/supervision?quarter=2026Q4"))
    assert page.xpath("//nav[@id='menu']//a[normalize-space()='督查']/@href") == ["/supervision"]
    assert "督查：连云港市人民政府" in page.xpath("string(//h1)")

    key = _table(page, "key-figures")
    assert (key["收文"]["本期"], key["收文"]["变化"]) == ("2", "↑")
    assert key["收文"]["上期（2026 年第三季度）"] == "0"
    assert (key["签收率"]["本期"], key["签收率"]["上期（2026 年第三季度）"]) == ("50.0%", "—")
    assert (key["退回"]["本期"], key["发文"]["本期"]) == ("1", "1")

    groups = _table(page, "group-table")
    assert (groups["东海县政府"]["收文"], groups["东海县政府"]["签收率"]) == ("1", "100.0%")
    assert (groups["灌云县政府"]["签收率"], groups["全地区"]["收文"]) == ("0.0%", "2")

    ranking = _table(page, "ranking-table")
    assert len(ranking) == 11                                      # the city's units; not the province's
    donghai, guanyun, city = ranking[DONGHAI], ranking[GUANYUN], ranking[CITY_OFFICE]
    assert donghai["名次"] == "1" and (donghai["收文"], donghai["按时签收率"]) == ("1", "100.0%")
    assert "late" in donghai["class"] and donghai["情况"] == "本期未发文；本期无人登录"
    assert (guanyun["退回"], guanyun["按时签收率"]) == ("1", "0.0%")
    assert guanyun["情况"].startswith("按时签收率低于 90%")
    assert "late" not in city["class"] and city["发文"] == "1" and (city["登录次数"], city["人数"]) == ("1", "13")

    assert DONGHAI in _listed(page, "sent-nothing") and CITY_OFFICE not in _listed(page, "sent-nothing")
    assert DONGHAI in _listed(page, "not-using") and CITY_OFFICE not in _listed(page, "not-using")
    assert GUANYUN in _listed(page, "no-internal-work")
    assert [img.get("src") for img in page.xpath("//section[@id='charts']//img")] == [
        f"/supervision/chart/{name}.png?quarter=2026Q4" for name in ("ranking", "groups", "trend")]
    assert page.xpath("//a[text()='导出 Excel']/@href") == ["/supervision/export.xlsx?quarter=2026Q4"]


def test_each_unit_links_to_its_page_with_its_rank_and_the_same_period(app, office):
    supervisor = logged_in(app, "lyg.supervisor")
    page = _page(supervisor.get("/supervision?month=2026-11"))
    (link,) = page.xpath(f"//table[@id='ranking-table']//a[text()='{DONGHAI}']/@href")
    unit_page = _page(supervisor.get(link))
    assert link == f"/supervision/unit/{office.unit('donghai_office').id}?month=2026-11"
    assert "在连云港市人民政府的 11 个单位中排第 1 名" in unit_page.xpath("string(//p[@id='rank'])")
    key = _table(unit_page, "key-figures")
    figures = (key["收文"]["本期"], key["签收率"]["本期"], key["平均签收用时（小时）"]["本期"])
    assert figures == ("1", "100.0%", "1.0")
    assert "上期（2026 年 10 月）" in key["收文"]
    assert "本期未发文" in unit_page.xpath("string(//p[@id='shortfalls'])")
    assert unit_page.xpath("//a[contains(., '连云港市人民政府督查')]/@href") == ["/supervision?month=2026-11"]


@pytest.mark.parametrize("name", ["ranking", "groups", "trend"])
def test_the_charts_are_small_pngs_drawn_from_the_chosen_period(app, office, name):
    supervisor = logged_in(app, "lyg.supervisor")
    answer = supervisor.get(f"/supervision/chart/{name}.png?quarter=2026Q4")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    image = Image.open(io.BytesIO(answer.data))
    assert image.format == "PNG" and image.width >= 800 and len(answer.data) < 150_000
    assert supervisor.get(f"/supervision/chart/{name}.png?quarter=2026Q4").data == answer.data  # deterministic
    assert supervisor.get(f"/supervision/chart/{name}.png?quarter=2025Q4").data != answer.data


def test_the_export_is_a_workbook_of_the_chosen_period(app, office):
    answer = logged_in(app, "lyg.supervisor").get("/supervision/export.xlsx?quarter=2026Q4")
    assert answer.status_code == 200 and "20261001-20261231.xlsx" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    assert {DONGHAI, GUANYUN, CITY_OFFICE} <= cells


def test_a_clerk_sees_their_own_units_page_and_is_refused_every_other(app, gongwen, office):
    clerk = logged_in(app, "dh.clerk")
    own = f"/supervision/unit/{office.unit('donghai_office').id}"
    home = _page(clerk.get("/"))
    assert home.xpath("//nav[@id='menu']//a[normalize-space()='督查']/@href") == [own]
    page = _page(clerk.get(own))
    assert page.xpath("string(//h1)") == f"督查：{DONGHAI}"
    assert "/supervision" not in {href.split("?")[0] for href in page.xpath("//a/@href")}  # no way to the area
    assert _table(page, "key-figures")["收文"]["本期"] == "1"

    refusals = {
        f"/supervision/unit/{office.unit('guanyun_office').id}": "只能查看本单位的督查统计",
        "/supervision": "只有督查员可以查看",
        "/supervision/chart/ranking.png": "只有督查员可以查看",
        "/supervision/export.xlsx": "只有督查员可以查看",
    }
    for path, reason in refusals.items():
        answer = clerk.get(path)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 403 and reason in text and GUANYUN not in text, path
    assert [(e.actor_id, e.detail["path"]) for e in _refusals(gongwen)] == [
        (office.person("dh.clerk").id, path) for path in refusals]


def test_a_leader_reaches_their_unit_but_a_drafter_has_no_supervision(app, office):
    leader = logged_in(app, "dh.leader")
    assert _page(leader.get(f"/supervision/unit/{office.unit('donghai_office').id}")).xpath("string(//h1)") \
        == f"督查：{DONGHAI}"
    drafter = logged_in(app, "dh.drafter")
    assert not _page(drafter.get("/")).xpath("//nav[@id='menu']//a[normalize-space()='督查']")
    assert drafter.get(f"/supervision/unit/{office.unit('donghai_office').id}").status_code == 403


def test_the_supervisor_is_refused_units_outside_the_area(app, gongwen, office):
    supervisor = logged_in(app, "lyg.supervisor")
    outside = supervisor.get(f"/supervision/unit/{office.unit('province_office').id}")
    assert outside.status_code == 403 and "该单位不在您督查的地区范围内" in outside.get_data(as_text=True)
    assert "江苏省人民政府办公厅" not in outside.get_data(as_text=True)
    missing = supervisor.get("/supervision/unit/999999")
    assert missing.status_code == 404 and "没有这个单位" in missing.get_data(as_text=True)
    assert [e.detail["status"] for e in _refusals(gongwen)] == [403, 404]


def test_a_county_supervisor_sees_the_county_and_its_clerks_are_ranked_there(app, gongwen, office):
    with gongwen.db.write() as db:
        grant_role(db, db.get(Person, office.person("dh.head").id), Role.SUPERVISOR,
                   unit=db.get(Unit, office.unit("donghai_office").id))
    county = logged_in(app, "dh.head")
    page = _page(county.get("/supervision"))
    assert "督查：东海县人民政府" in page.xpath("string(//h1)")
    assert set(_table(page, "ranking-table")) == {"东海县人民政府", DONGHAI}
    finance = county.get(f"/supervision/unit/{office.unit('finance').id}")
    assert finance.status_code == 403 and "该单位不在您督查的地区范围内" in finance.get_data(as_text=True)

    own = _page(logged_in(app, "dh.clerk").get(f"/supervision/unit/{office.unit('donghai_office').id}"))
    assert "在东海县人民政府的 2 个单位中排第 1 名" in own.xpath("string(//p[@id='rank'])")
    city = _page(logged_in(app, "cz.clerk").get(f"/supervision/unit/{office.unit('finance').id}"))
    assert "在连云港市人民政府的 11 个单位中" in city.xpath("string(//p[@id='rank'])")


@pytest.mark.parametrize("login", ADMINISTRATORS)
def test_the_three_administrators_see_no_supervision(app, gongwen, office, login):
    admin = logged_in(app, login)
    assert not _page(admin.get("/", follow_redirects=True)).xpath("//nav[@id='menu']//a[normalize-space()='督查']")
    for path in ("/supervision", f"/supervision/unit/{office.unit('city_office').id}",
                 "/supervision/chart/ranking.png", "/supervision/export.xlsx"):
        answer = admin.get(path)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 403 and "三员分立" in text and DONGHAI not in text, path
    assert len(_refusals(gongwen)) == 4


def test_anonymous_visitors_are_sent_to_log_in(app, office):
    anonymous = app.test_client()
    for path in ("/supervision", "/supervision/unit/1", "/supervision/chart/trend.png", "/supervision/export.xlsx"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.location.startswith("/login?next="), path


@pytest.mark.parametrize("path, status, reason", [
    ("/supervision/unit/abc", 404, "单位编号无效"),
    ("/supervision/unit/-1", 404, "单位编号无效"),
    ("/supervision/unit/99999999999999999999", 404, "单位编号无效"),
    ("/supervision/unit/1/../2", 404, "单位编号无效"),
    ("/supervision/unit/0", 404, "单位编号无效"),
    ("/supervision/unit/2147483647", 404, "没有这个单位"),
    ("/supervision/chart/secret.png", 404, "没有这张图表"),
])
def test_hostile_ids_get_a_clear_refusal(app, gongwen, office, path, status, reason):
    answer = logged_in(app, "lyg.supervisor").get(path)
    assert answer.status_code == status and reason in answer.get_data(as_text=True)
    assert [e.detail["path"] for e in _refusals(gongwen)] == [answer.request.path]


@pytest.mark.parametrize("query", [
    "quarter=2026Q5", "quarter=<script>alert(1)</script>", "month=2026-13", "month=%E5%8D%81%E4%B8%80%E6%9C%88",
    "since=2026-12-01&until=2026-11-01", "since=2026-11-01", "since=0001-01-01&until=9999-12-31",
    "since=2000-01-01&until=2026-11-30",
])
def test_a_period_that_cannot_be_read_shows_this_quarter_with_the_reason(app, gongwen, office, query):
    supervisor = logged_in(app, "lyg.supervisor")
    answer = supervisor.get(f"/supervision?{query}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "统计期间无效" in page and "2026 年第四季度" in page
    assert "<script>alert" not in page
    assert len(_refusals(gongwen, "supervision.period_refused")) == 1
    assert supervisor.get(f"/supervision/chart/ranking.png?{query}").mimetype == "image/png"


def test_a_long_range_draws_the_trend_of_its_last_two_years(app, office):
    answer = logged_in(app, "lyg.supervisor").get("/supervision/chart/trend.png?since=2020-01-01&until=2026-11-30")
    assert answer.status_code == 200 and answer.mimetype == "image/png"


def _area_of(count: int) -> AreaFigures:
    """An area of ``count`` units, each with a different share of ten receipts signed in time."""
    units = [UnitFigures(unit_id=n, name=f"连云港市第{n}局", group=CITY_LEVEL, received=10, normal=InTime(10, n % 11))
             for n in range(1, count + 1)]
    return AreaFigures(period=Period.quarter("2026Q4"), root=Unit(name="连云港市人民政府"), days=92, units=units,
                       groups=[], total=GroupFigures(name="连云港市人民政府"))


def test_the_ranking_chart_draws_at_most_the_thirty_lowest_units_and_stays_small():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the font would be a warning
        thirty_one, thousand = ranking_png(_area_of(31)), ranking_png(_area_of(1000))
    assert Image.open(io.BytesIO(thousand)).size == Image.open(io.BytesIO(thirty_one)).size  # as many bars
    assert Image.open(io.BytesIO(ranking_png(_area_of(5)))).height < Image.open(io.BytesIO(thousand)).height
    assert len(thousand) < 150_000 and ranking_png(_area_of(1000)) == thousand


def test_the_supervisor_opens_supervision_in_a_browser_the_charts_load_and_headers_sort(browser, server):
    supervisor = BrowsingPerson(browser, server, "lyg.supervisor")
    page = supervisor.page
    page.get_by_role("navigation", name="模块").get_by_role("link", name="督查").click()
    page.wait_for_url(server + "/supervision")
    for name in ("ranking", "groups", "trend"):
        page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                               arg=page.locator(f"#chart-{name}").element_handle())

    table = page.locator("#ranking-table")
    received = table.locator("tbody tr td:nth-child(4)")
    before = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    table.get_by_role("button", name="收文", exact=True).click()
    ascending = [int(n) for n in received.all_inner_texts()]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert table.locator("th[aria-sort=ascending]").inner_text().startswith("收文")
    table.get_by_role("button", name="收文", exact=True).click()
    assert [int(n) for n in received.all_inner_texts()] == sorted(ascending, reverse=True)
    assert sorted(table.locator("tbody tr td:nth-child(2)").all_inner_texts()) == sorted(before)
    table.get_by_role("button", name="名次", exact=True).click()
    assert table.locator("tbody tr td:nth-child(2)").all_inner_texts() == before
    supervisor.shot("supervision")
    supervisor.close()
