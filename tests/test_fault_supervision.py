"""Faults in the supervision figures (issue 13: "The supervision figures show faults and repair times").

In November 2026 东海 reports a network fault the morning it began, repaired by the 网信办 on the second working
day; 灌云 reports one four days after it began (迟报), still open; 财政局 has none. A fault 东海 reports in December
is not November's. Counted by hand: 东海 1 fault, 0 late, 2.0 working days; 灌云 1, 1 late, no repair time yet;
the 东海县 group sums its units. The unit's page and the workbook show the same numbers.
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from lxml import html
from openpyxl import load_workbook
from sqlalchemy import select

from engine import clock
from engine.periods import Period
from handlers.faults.models import FaultReport
from handlers.supervision.figures import area_figures, area_root
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")
NOVEMBER = Period.month("2026-11")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


def report(app, login: str, started_at: str, kind: str = "network"):
    client = logged_in(app, login)
    response = client.post("/faults", data={"csrf_token": csrf_token(client, "/faults"), "kind": kind,
                                            "started_at": started_at, "description": "交换专网中断"})
    assert response.status_code == 302


def desk_step(app, fault_path: str, **data) -> None:
    desk = logged_in(app, "lyg.handler")
    response = desk.post(fault_path, data={"csrf_token": csrf_token(desk, "/faults/desk"), **data})
    assert "未生效" not in desk.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def faults(gongwen, org, app, fixed_clock):
    """The month's faults, as the module's docstring tells them; returns the organisation."""
    fixed_clock.set(at("2026-11-23T10:00"))                               # Monday
    report(app, "dh.clerk", "2026-11-23T09:30")
    report(app, "gy.clerk", "2026-11-19T09:00")                           # Thursday before: late
    with gongwen.db.session() as session:
        donghai = session.scalar(select(FaultReport.id).where(FaultReport.unit_id == org.unit("donghai_office").id))
    desk_step(app, f"/faults/{donghai}/arrange", contractor="中国电信东海分公司")
    fixed_clock.set(at("2026-11-25T15:00"))                               # Wednesday: working day 2
    desk_step(app, f"/faults/{donghai}/repaired", note="更换光猫")
    fixed_clock.set(at("2026-12-01T09:00"))
    report(app, "dh.clerk", "2026-12-01T08:30", kind="terminal")          # December's, not November's
    return org


def test_each_units_faults_late_reports_and_repair_days_are_the_ones_counted_by_hand(gongwen, faults):
    with gongwen.db.session() as session:
        figures = area_figures(session, area_root(session, faults.unit("city_office").id), NOVEMBER)
    donghai, guanyun, finance = (figures.unit(faults.unit(key).id)
                                 for key in ("donghai_office", "guanyun_office", "finance"))
    assert (donghai.faults, donghai.faults_late, donghai.faults_repaired, donghai.mean_repair_days) == (1, 0, 1, 2.0)
    assert (guanyun.faults, guanyun.faults_late, guanyun.faults_repaired, guanyun.mean_repair_days) == (1, 1, 0, None)
    assert (finance.faults, finance.mean_repair_days) == (0, None)
    (county,) = [g for g in figures.groups if g.name == donghai.group]
    assert (county.faults, county.mean_repair_days) == (1, 2.0)
    assert (figures.total.faults, figures.total.faults_late, figures.total.mean_repair_days) == (2, 1, 2.0)


def test_the_units_page_and_the_workbook_show_them(app, faults):
    supervisor = logged_in(app, "lyg.supervisor")
    page = html.fromstring(supervisor.get(f"/supervision/unit/{faults.unit('guanyun_office').id}?month=2026-11")
                           .get_data(as_text=True))
    key = {tr.xpath("string(./td[1])"): tr.xpath("string(./td[2])")
           for tr in page.xpath("//table[@id='key-figures']/tbody/tr")}
    assert (key["故障"], key["迟报故障"], key["平均修复用时（工作日）"]) == ("1", "1", "—")

    answer = supervisor.get("/supervision/export.xlsx?month=2026-11")
    rows = list(load_workbook(io.BytesIO(answer.data))["单位排名"].iter_rows(values_only=True))
    header = next(r for r in rows if r and "故障" in r)
    by_unit = {r[header.index("单位")]: dict(zip(header, r, strict=True)) for r in rows[rows.index(header) + 1:]}
    donghai, guanyun = by_unit["东海县人民政府办公室"], by_unit["灌云县人民政府办公室"]
    assert (donghai["故障"], donghai["迟报故障"], donghai["平均修复用时（工作日）"]) == (1, 0, 2.0)
    assert (guanyun["故障"], guanyun["迟报故障"], guanyun["平均修复用时（工作日）"]) == (1, 1, None)
    assert by_unit["连云港市财政局"]["故障"] == 0
