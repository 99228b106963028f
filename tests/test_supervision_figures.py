"""Supervision's figures on a small office whose every number is checked by hand.

One week of the demo city, driven through the real processes: the city office sends a notice to the
three counties on Monday (a wide dispatch with this module's share, which its clerk confirms; 东海
signs within the hour, 灌云 returns it, 灌南 signs a day late), and an urgent one on Friday at 20:00
to 东海 and 灌南 (东海 signs at 21:00, after hours but in time; 灌南, whose county switched texting
off, never does). 东海 handles both and archives one; its clerk logs in three times on two days and
looks at the inbox once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import select

from engine import clock, schema
from engine.inbox import ready_tasks, record_look
from engine.models import LoginDay, ProcessInstance
from engine.organisation import authenticate
from engine.periods import Period
from handlers.exchange.models import Receipt, ReceiptDay, SentDay, SignClass
from handlers.notifications.texts_report import switch_texting
from handlers.supervision.figures import CITY_LEVEL, area_figures, area_root, monthly, ranked
from tests.outgoing_support import act, send

pytestmark = pytest.mark.usefixtures("deployed")
SH = clock.SHANGHAI
COUNTIES = ("donghai_office", "guanyun_office", "guannan_office")
URGENT_TITLE = "连云港市人民政府办公室关于做好寒潮防御工作的紧急通知"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def act_on(gongwen, person, name: str, title: str, data: dict) -> None:
    """Complete ``person``'s task ``name`` of the document titled ``title`` (two may wait at once)."""
    with gongwen.db.session() as session:
        (task,) = [t for t in ready_tasks(session, person.id)
                   if t.name == name and session.get(ProcessInstance, t.instance_id).title == title]
    gongwen.runtime.complete(task.id, person.id, data)


def handle(gongwen, org, title: str, *, archive: bool) -> None:
    """东海 registers, routes and handles the document; archives it when ``archive``."""
    act_on(gongwen, org.person("dh.clerk"), "分办", title,
           {"lead_department": org.departments["donghai_general"].id, "deadline_days": 3})
    act_on(gongwen, org.person("dh.head"), "拟办", title, {"proposal": "建议综合股办理"})
    act_on(gongwen, org.person("dh.handler"), "承办人决定下一步", title, {"next": "handle"})
    act_on(gongwen, org.person("dh.handler"), "办理", title, {"result": "已落实", "readers": []})
    if archive:
        act_on(gongwen, org.person("dh.handler"), "归档", title, {"retention": "Y"})


@pytest.fixture
def week(gongwen, sealed, fixed_clock):
    """The week the module's docstring tells; returns the organisation."""
    org = sealed
    with gongwen.db.write() as session:
        switch_texting(session, org.unit("guannan").id, True, "县政府办来函申请关闭", None)
    fixed_clock.set(at("2026-11-23T09:00"))
    notice = send(gongwen, org, main_to=COUNTIES)
    act(gongwen, org.person("lyg.clerk"), "确认分发范围", {"decision": "dispatch"})  # a wide dispatch here
    fixed_clock.set(at("2026-11-23T10:00"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "return", "opinion": "非本单位职责"})
    with gongwen.db.write() as session:
        for _ in range(2):
            assert authenticate(session, "dh.clerk", "gongwen-demo").person is not None
        record_look(session, org.person("dh.clerk").id, org.unit("donghai_office").id)
    handle(gongwen, org, notice.title, archive=False)

    fixed_clock.set(at("2026-11-24T10:00"))  # a working day and an hour after dispatch: late
    act(gongwen, org.person("gn.clerk"), "签收", {"decision": "sign"})
    with gongwen.db.write() as session:
        assert authenticate(session, "dh.clerk", "gongwen-demo").person is not None

    fixed_clock.set(at("2026-11-27T20:00"))  # Friday evening: due at 22:00 (Yan'an Art 22)
    send(gongwen, org, main_to=("donghai_office", "guannan_office"), urgency="urgent", title=URGENT_TITLE)
    fixed_clock.set(at("2026-11-27T21:00"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    handle(gongwen, org, URGENT_TITLE, archive=True)
    fixed_clock.set(at("2026-11-30T09:00"))
    return org


@pytest.fixture
def settings(settings):
    """Dispatch to more than a fifth of the units counts as wide: the notice to three counties of 13 units."""
    return dataclasses.replace(settings, options={"wide_dispatch_share": 0.2})


def figures_of(gongwen, org, period: str = "2026Q4"):
    with gongwen.db.session() as session:
        root = area_root(session, org.unit("city_office").id)
        return area_figures(session, root, Period.quarter(period))


def test_each_units_sign_for_figures_are_the_ones_counted_by_hand(gongwen, week):
    figures = figures_of(gongwen, week)
    dh, gy, gn = (figures.unit(week.unit(u).id) for u in COUNTIES)

    assert (dh.received, dh.signed, dh.returned, dh.sign_rate) == (2, 2, 0, 1.0)
    assert (dh.normal.due, dh.normal.on_time, dh.after_hours.due, dh.after_hours.on_time) == (1, 1, 1, 1)
    assert dh.urgent.due == 0 and dh.in_time.rate == 1.0
    assert dh.average_sign_hours == pytest.approx(1.0) and dh.worst_sign_hours == pytest.approx(1.0)

    assert (gy.received, gy.signed, gy.returned, gy.sign_rate, gy.in_time.rate) == (1, 0, 1, 0.0, 0.0)

    assert (gn.received, gn.signed, gn.sign_rate) == (2, 1, 0.5)
    assert (gn.normal.due, gn.normal.on_time) == (1, 0)             # signed a day and an hour after dispatch
    assert (gn.after_hours.due, gn.after_hours.on_time) == (1, 0)   # never signed
    assert gn.worst_sign_hours == pytest.approx(25.0) and gn.overdue_now == 1 and dh.overdue_now == 0

    city = figures.unit(week.unit("city_office").id)
    assert (city.sent, city.wide, city.drafted, city.received) == (2, 1, 2, 0)  # 3 of 13 units is over 20 %, 2 not


def test_upgrading_counts_the_receipts_already_there_as_dispatch_and_the_answers_counted_them(
        gongwen, week, database_url, monkeypatch):
    def counted() -> tuple[list, list, list]:
        with gongwen.db.session() as session:
            return (session.execute(select(ReceiptDay).order_by(ReceiptDay.unit_id, ReceiptDay.day)).scalars()
                    .all(), session.execute(select(Receipt.id, Receipt.sign_class).order_by(Receipt.id)).all(),
                    session.execute(select(SentDay.unit_id, SentDay.day, SentDay.sent, SentDay.wide)
                                    .order_by(SentDay.unit_id, SentDay.day)).all())

    def rows(days: list) -> list[tuple]:
        return [(d.unit_id, d.day, d.sign_class, d.received, d.due, d.signed, d.on_time, d.returned,
                 round(d.sign_seconds), round(d.worst_sign_seconds)) for d in days]

    kept, classes, sent = counted()
    assert {c for _, c in classes} == {SignClass.NORMAL, SignClass.AFTER_HOURS}
    assert [(s, w) for _, _, s, w in sent] == [(1, 1), (1, 0)]   # Monday's wide notice, Friday's urgent one
    gongwen.db.engine.dispose()
    command.downgrade(schema.alembic_config(database_url), "0013")
    monkeypatch.setenv("GONGWEN_WIDE_DISPATCH_SHARE", "0.2")   # the share the week's dispatches ran with
    schema.upgrade(database_url)
    filled, filled_classes, filled_sent = counted()
    assert rows(filled) == rows(kept) and filled_classes == classes and filled_sent == sent


def test_handling_archiving_logins_looks_and_texts_are_counted_per_unit(gongwen, week):
    figures = figures_of(gongwen, week)
    dh, gy, gn = (figures.unit(week.unit(u).id) for u in COUNTIES)

    assert (dh.registered, dh.handled, dh.archived, dh.archive_rate, dh.backlog) == (2, 2, 1, 0.5, 1)
    assert (gn.registered, gn.handled, gn.archive_rate) == (1, 0, None)
    assert (gy.registered, gy.handled_inside) == (0, 0)

    assert (dh.logins, dh.person_days) == (3, 2)
    assert dh.people_never == dh.people - 1 and gn.people_never == gn.people > 0
    assert dh.looks == 1 and gn.looks == 0
    assert figures.online_per_day(dh) == pytest.approx(2 / 92)       # two person-days in a quarter of 92 days

    # The urgent document texted 东海's duty staff at once (recorded: no gateway here, so nothing is charged);
    # 灌南's county switched texting off, so its staff were told in the system only.
    assert dh.texts > 0 and dh.text_cost == 0
    assert gn.texts == 0


def test_the_area_groups_counties_and_names_the_units_that_lag(gongwen, week):
    figures = figures_of(gongwen, week)
    assert figures.root.name == "连云港市人民政府"
    names = {u.name for u in figures.units}
    assert "江苏省人民政府办公厅" not in names and len(names) == 11    # the province is not the city's area
    groups = {g.name: g for g in figures.groups}
    assert set(groups) == {CITY_LEVEL, "东海县政府", "灌云县政府", "灌南县政府"}
    assert (groups["东海县政府"].units, groups["东海县政府"].received, groups["东海县政府"].signed) == (2, 2, 2)
    assert (figures.total.received, figures.total.signed, figures.total.returned) == (5, 3, 1)
    assert figures.total.in_time.due == 5 and figures.total.in_time.on_time == 2
    assert figures.total.worst_sign_hours == pytest.approx(25.0)

    office = week.unit("city_office").id
    assert office not in {u.unit_id for u in figures.sent_nothing}
    assert week.unit("guanyun_office").id in {u.unit_id for u in figures.no_internal_work}
    assert week.unit("donghai_office").id in {u.unit_id for u in figures.sent_nothing}
    assert [u.name for u in figures.units if not u.not_using] == ["东海县人民政府办公室"]
    assert ranked(figures.units)[0].name == "东海县人民政府办公室"      # all signed in time
    assert ranked(figures.units)[-1].received == 0                   # nothing to judge: last

    previous = figures_of(gongwen, week, period="2026Q3")
    assert previous.total.received == 0 and previous.total.logins == 0


def test_a_county_supervisor_oversees_the_county_alone(gongwen, week):
    with gongwen.db.session() as session:
        root = area_root(session, week.unit("donghai_office").id)
        figures = area_figures(session, root, Period.quarter("2026Q4"))
    assert root.name == "东海县人民政府"
    assert sorted(u.name for u in figures.units) == ["东海县人民政府", "东海县人民政府办公室"]
    assert figures.total.received == 2 and [g.name for g in figures.groups] == ["东海县政府"]


def test_the_monthly_trend_splits_the_period_by_calendar_month(gongwen, week):
    with gongwen.db.session() as session:
        root = area_root(session, week.unit("city_office").id)
        months = monthly(session, root, Period.quarter("2026Q4"))
    assert [(m.label, whole.received) for m, whole in months] == [("2026 年 10 月", 0), ("2026 年 11 月", 5),
                                                                  ("2026 年 12 月", 0)]


def test_periods_know_their_predecessor():
    assert Period.quarter("2026Q1").previous() == Period.quarter("2025Q4")
    assert Period.month("2026-01").previous() == Period.month("2025-12")
    days = Period.days(datetime(2026, 11, 10).date(), datetime(2026, 11, 19).date())
    assert (days.previous().first.isoformat(), days.previous().last.isoformat()) == ("2026-10-31", "2026-11-09")
    for bad in ("2026Q5", "2026-13", "abc", ""):
        with pytest.raises(ValueError):
            Period.month(bad) if "-" in bad else Period.quarter(bad)


def test_logins_are_counted_once_per_person_and_day(gongwen, org, fixed_clock):
    fixed_clock.set(at("2026-11-23T23:59"))
    with gongwen.db.write() as session:
        authenticate(session, "dh.clerk", "gongwen-demo")
        authenticate(session, "dh.clerk", "wrong password")       # a refused login is not a login
    fixed_clock.set(at("2026-11-24T00:01"))                        # Beijing days, not UTC ones
    with gongwen.db.write() as session:
        authenticate(session, "dh.clerk", "gongwen-demo")
    with gongwen.db.session() as session:
        rows = session.execute(select(LoginDay.day, LoginDay.logins).order_by(LoginDay.day)).all()
    assert [(d.isoformat(), n) for d, n in rows] == [("2026-11-23", 1), ("2026-11-24", 1)]
