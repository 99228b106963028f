"""The supervising office's outputs: the workbook, spot checks, the 通报 that writes itself, ``gongwen bulletin``.

One day of the demo city, driven through the real processes: on Monday 09:00 the city office sends a
notice to 东海 and 灌南; 东海 signs at 10:00; 灌南 is reminded at 14:00, told it is overdue on Tuesday
at 09:00 (its duty staff texted), chased by the sender at 09:30, and signs at 10:00, an office hour late.
lyg.drafter, a 拟稿人 of the city office, is also its 督查员.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine import clock
from engine.errors import Refused
from engine.models import Person, Role
from engine.organisation import authenticate, grant_role
from engine.periods import Period
from handlers.documents.drafting import draft_values
from handlers.documents.models import DocStatus, DocType, Document
from handlers.exchange.models import Receipt, ReceiptStatus
from handlers.exchange.receipts import chase
from handlers.supervision.bulletin import DEFAULT_TEMPLATE, PLACEHOLDERS, draft_bulletin, save_template
from handlers.supervision.figures import area_figures, area_root
from handlers.supervision.spot_checks import spot_check
from handlers.supervision.workbook import RED, figures_xlsx
from tests.outgoing_support import act, send, task_of, trail
from tests.outgoing_support import document as outgoing_document

pytestmark = pytest.mark.usefixtures("deployed")
SH = clock.SHANGHAI
QUARTER = Period.quarter("2026Q4")
NOT_SUPERVISOR = "不是连云港市人民政府办公室的督查员"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def tick(gongwen, fixed_clock, when: str) -> None:
    fixed_clock.set(at(when))
    gongwen.runtime.fire_due_timers()


def supervisor(gongwen, org, login: str) -> Person:
    with gongwen.db.write() as session:
        person = session.get(Person, org.person(login).id)
        grant_role(session, person, Role.SUPERVISOR, unit=person.unit)
    return org.person(login)


@pytest.fixture
def day(gongwen, sealed, fixed_clock):
    """The day the module's docstring tells; returns the organisation."""
    org = sealed
    supervisor(gongwen, org, "lyg.drafter")
    fixed_clock.set(at("2026-11-23T09:00"))
    with gongwen.db.write() as session:
        assert authenticate(session, "lyg.drafter", "gongwen-demo").person is not None
    notice = send(gongwen, org, main_to=("donghai_office", "guannan_office"))
    fixed_clock.set(at("2026-11-23T10:00"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    tick(gongwen, fixed_clock, "2026-11-23T14:01")     # 灌南 reminded half-way through its window
    tick(gongwen, fixed_clock, "2026-11-24T09:01")     # and told it is overdue, its duty staff texted
    fixed_clock.set(at("2026-11-24T09:30"))
    with gongwen.db.write() as session:
        receipt = session.scalar(select(Receipt).where(Receipt.document_id == notice.id,
                                                       Receipt.unit_id == org.unit("guannan_office").id))
        chase(session, receipt.id, org.person("lyg.drafter").id)
    fixed_clock.set(at("2026-11-24T10:00"))
    act(gongwen, org.person("gn.clerk"), "签收", {"decision": "sign"})
    return org


def figures_of(gongwen, org, period: Period = QUARTER):
    with gongwen.db.session() as session:
        root = area_root(session, org.unit("city_office").id)
        return area_figures(session, root, period), \
            area_figures(session, root, period.previous())


def rows(sheet) -> list[list]:
    """A sheet's rows below its heading line, as a header row and the rows under it."""
    return [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]


# -- the workbook -------------------------------------------------------------------------------------------

def test_the_workbook_opens_with_the_figures_and_the_lagging_units_in_red(gongwen, day):
    figures, previous = figures_of(gongwen, day)
    book = load_workbook(io.BytesIO(figures_xlsx(figures, previous)))
    assert book.sheetnames == ["汇总", "单位排名", "未发文单位", "无内部办文单位", "未启用"]

    header, *summary = rows(book["汇总"])
    column = {name: i for i, name in enumerate(header)}
    whole, whole_before = summary[0], summary[1]
    assert (whole[0], whole[1], whole_before[1]) == ("连云港市人民政府", "2026 年第四季度", "2026 年第三季度")
    assert whole[column["收文"]] == figures.total.received == 2
    assert whole[column["签收率"]] == figures.total.sign_rate == 1.0
    assert whole[column["按时签收率"]] == figures.total.in_time.rate == 0.5     # 灌南 was an hour late
    assert whole[column["最长签收用时（小时）"]] == pytest.approx(25.0)
    assert whole_before[column["收文"]] == 0
    assert book["汇总"].cell(row=3, column=column["签收率"] + 1).number_format == "0.0%"

    header, *ranking = rows(book["单位排名"])
    column = {name: i for i, name in enumerate(header)}
    by_name = {r[column["单位"]]: (n, r) for n, r in enumerate(ranking)}
    assert len(ranking) == len(figures.units)
    for unit in figures.units:
        _, row = by_name[unit.name]
        assert (row[column["收文"]], row[column["签收率"]], row[column["发文"]], row[column["登录次数"]]) == \
            (unit.received, unit.sign_rate, unit.sent, unit.logins)
    sheet = book["单位排名"]
    fill = {name: sheet.cell(row=n + 3, column=1).fill.start_color.rgb for name, (n, _) in by_name.items()}
    assert fill["灌南县人民政府办公室"].endswith(RED)          # signed late
    assert not fill["连云港市人民政府办公室"].endswith(RED)    # sent, logged in, nothing to sign
    assert by_name["东海县人民政府办公室"][0] == 0              # all signed in time: first

    sent_nothing = {r[1] for r in rows(book["未发文单位"])[1:]}
    assert "东海县人民政府办公室" in sent_nothing and "连云港市人民政府办公室" not in sent_nothing
    idle = {r[1]: r[-1] for r in rows(book["未启用"])[1:]}
    assert idle["灌南县人民政府办公室"] == "本期无人登录" and idle["连云港市人民政府办公室"] == "有人员从未登录"


# -- spot checks --------------------------------------------------------------------------------------------

def test_a_spot_check_shows_a_late_sign_for_with_every_reminder_and_text(gongwen, day):
    with gongwen.db.session() as session:
        root = area_root(session, day.unit("city_office").id)
        (document,) = spot_check(session, root, QUARTER, size=5, seed=7)
    assert document.issuer == "连云港市人民政府办公室" and document.doc_number.startswith("连政办发")
    receipts = {r.unit: r for r in document.receipts}
    on_time, late = receipts["东海县人民政府办公室"], receipts["灌南县人民政府办公室"]

    assert (on_time.status, on_time.late, on_time.reminders, on_time.texts) == ("已签收", False, [], [])
    assert on_time.answered_by == day.person("dh.clerk").name

    assert late.status == "已签收" and late.late and late.answered_by == day.person("gn.clerk").name
    assert clock.local(late.arrived) == at("2026-11-23T09:00") and clock.local(late.due) == at("2026-11-24T09:00")
    assert clock.local(late.answered_at) == at("2026-11-24T10:00")
    assert late.late_hours == pytest.approx(1.0) and late.late_office_hours == pytest.approx(1.0)
    told = [(clock.local(r.at).strftime("%d %H:%M"), r.kind) for r in late.reminders]
    assert told == [("23 14:01", "签收提醒"), ("24 09:01", "办理逾期"), ("24 09:01", "签收提醒"), ("24 09:30", "催签")]
    assert all(r.people >= 1 for r in late.reminders)
    assert late.texts and {t.number for t in late.texts} == {day.person("gn.clerk").mobile}


def test_a_spot_check_draws_the_same_sample_from_the_same_seed(gongwen, day, fixed_clock):
    for title in ("关于报送年度工作总结的通知", "关于做好元旦春节期间值班工作的通知", "关于开展安全检查的通知"):
        send(gongwen, day, main_to=("donghai_office",), title=title)
    with gongwen.db.session() as session:
        root = area_root(session, day.unit("city_office").id)
        draws = [[d.title for d in spot_check(session, root, QUARTER, size=2, seed=seed)] for seed in (1, 1, 2, 3)]
        assert len(spot_check(session, root, QUARTER, size=200)) == 4
        assert spot_check(session, root, Period.quarter("2026Q3"), size=5) == []
        for size in (0, 201):
            with pytest.raises(Refused, match="抽查件数应为 1 至 200"):
                spot_check(session, root, QUARTER, size=size)
    assert draws[0] == draws[1] and len(draws[0]) == 2
    assert len({tuple(d) for d in draws}) > 1                  # other seeds, other samples


# -- the bulletin -------------------------------------------------------------------------------------------

def draft(gongwen, person, period: Period = QUARTER) -> Document:
    with gongwen.db.write() as session:
        document = draft_bulletin(gongwen, session, session.get(Person, person.id), period)
        return session.get(Document, document.id)


def test_the_generated_bulletin_goes_through_review_sign_off_numbering_sealing_and_dispatch(gongwen, day):
    drafter = day.person("lyg.drafter")
    started = draft(gongwen, drafter)
    task = task_of(gongwen, drafter, "拟稿")                     # the supervisor's draft waits, filled in
    with gongwen.db.session() as session:
        document = session.get(Document, started.id)
        values = draft_values(document)
        attachments = [(a.name, gongwen.files.get(a.sha256)) for a in document.attachments]
    assert task.instance_id == document.instance_id and document.status == DocStatus.DRAFTING
    assert document.doc_type == DocType.CIRCULAR
    assert document.title == "连云港市人民政府办公室关于2026年第四季度全市电子公文系统应用情况的通报"
    body = "\n".join(document.body)
    assert "截至2026年12月31日" in body and "签收率100.0%，按时签收率50.0%" in body
    assert "按时签收率低于90.0%的单位：灌南县人民政府办公室" in body
    assert "{" not in body
    counties = {day.unit(k).id for k in ("donghai", "guanyun", "guannan")}
    assert counties <= set(document.main_to) and day.unit("city_office").id not in document.main_to

    assert [name for name, _ in attachments] == ["市直单位电子公文系统使用情况统计表",
                                                 "县（区）电子公文系统使用情况统计表", "未启用电子公文系统单位名单"]
    counties_table = load_workbook(io.BytesIO(attachments[1][1])).active
    lines = {(r[0], r[1]): r for r in counties_table.iter_rows(min_row=3, values_only=True)}
    assert lines[("灌南县政府", "灌南县人民政府办公室")][2:5] == (1, 1.0, 0.0)   # 收文, 签收率, 按时签收率
    assert lines[("东海县政府", "合计")][2] == 1

    # The ordinary outgoing process, the draft submitted as its page shows it filled in. Six of the demo's
    # fourteen units are a wide dispatch, which the office's clerk confirms.
    main_to = values.pop("main_to")
    keys = tuple(k for k, u in day.units.items() if u.id in main_to)
    send(gongwen, day, document_id=document.id, main_to=keys, **values)
    act(gongwen, day.person("lyg.clerk"), "确认分发范围", {"decision": "dispatch"})
    sent = outgoing_document(gongwen, document.id)
    assert sent.status == DocStatus.DISPATCHED and sent.doc_number.startswith("连政办发〔2026〕")
    assert sent.sealed_sha256 and sent.signing_date is not None and len(sent.attachments) == 3
    steps = [step for step, _, _ in trail(gongwen, sent.instance_id)]
    assert steps == ["拟稿", "部门审核", "办公室核稿", "签发", "校对", "用印", "确认分发范围"]
    with gongwen.db.session() as session:
        sent_to = set(session.scalars(select(Receipt.unit_id).where(Receipt.document_id == sent.id)))
        assert sent_to == set(document.main_to)
        assert all(r.status == ReceiptStatus.PENDING for r in session.scalars(
            select(Receipt).where(Receipt.document_id == sent.id)))
    task_of(gongwen, day.person("cz.clerk"), "签收")             # it arrived at 市财政局


def test_only_a_supervisor_who_is_also_a_drafter_generates_a_bulletin(gongwen, day):
    reviewer = supervisor(gongwen, day, "lyg.reviewer")           # 督查员, but no 拟稿人
    with pytest.raises(Refused, match="不是本单位的拟稿人，不能起草公文"):
        draft(gongwen, reviewer)
    with pytest.raises(Refused, match="不是连云港市人民政府办公室的督查员"):
        draft(gongwen, day.person("lyg.drafter2"))               # 拟稿人, but no 督查员
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1   # the notice alone


def test_the_office_edits_its_body_template_and_the_next_bulletin_uses_it(gongwen, day):
    drafter, office = day.person("lyg.drafter"), day.unit("city_office").id
    with pytest.raises(Refused, match=r"未知的占位符：\{收文率\}"), gongwen.db.write() as session:
        save_template(session, office, session.get(Person, drafter.id), "本期收文率{收文率}。")
    with pytest.raises(Refused, match="不是连云港市人民政府办公室的督查员"), gongwen.db.write() as session:
        save_template(session, office, session.get(Person, day.person("lyg.clerk").id), "本期签收率{签收率}。")
    with gongwen.db.write() as session:
        save_template(session, office, session.get(Person, drafter.id), "{期间}签收率{签收率}。\n\n请各单位对照整改。")
    assert draft(gongwen, drafter).body == ["2026年第四季度签收率100.0%。", "请各单位对照整改。"]
    assert set(re.findall(r"\{([^{}]+)\}", DEFAULT_TEMPLATE)) == set(PLACEHOLDERS)


# -- the command line ---------------------------------------------------------------------------------------

def test_the_command_prints_the_figures_and_writes_the_workbook(gongwen, day, run, tmp_path):
    result = run("bulletin", "--quarter", "2026Q4", "--unit", "连政办发", "--xlsx", str(tmp_path / "q4.xlsx"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("督查统计：连云港市人民政府，2026 年第四季度")
    assert "签收率\t按时签收率" in lines[1] and "归档率" in lines[1]
    by_scope = {line.split("\t")[0]: line.split("\t") for line in lines[2:] if "\t" in line}
    assert by_scope["灌南县政府"][2:6] == ["1", "1", "100.0%", "0.0%"]
    assert by_scope["合计"][2:6] == ["2", "2", "100.0%", "50.0%"]
    summary = load_workbook(tmp_path / "q4.xlsx")["汇总"]
    assert summary.cell(row=3, column=1).value == "连云港市人民政府" and summary.cell(row=3, column=4).value == 2

    december = run("bulletin", "--month", "2026-12", "--unit", "连云港市人民政府办公室").output.splitlines()
    assert "上期为2026 年 11 月" in december[0]
    whole = december[-1].split("\t")
    assert whole[0] == "合计" and whole[2] == "0" and whole[-3:] == ["100.0%", "50.0%", "—"]   # November's rates


def test_the_command_starts_the_draft_and_edits_the_template(gongwen, day, run, tmp_path):
    result = run("bulletin", "--quarter", "2026Q4", "--unit", "连政办发", "--draft", "--as", "lyg.drafter")
    assert result.exit_code == 0, result.output
    assert "已生成通报草稿：连云港市人民政府办公室关于2026年第四季度全市电子公文系统应用情况的通报" in result.output
    assert task_of(gongwen, day.person("lyg.drafter"), "拟稿")

    template = tmp_path / "template.txt"
    template.write_text("{期间}全市签收率为{签收率}。\n", encoding="utf-8")
    saved = run("bulletin", "--unit", "连政办发", "--set-template", str(template), "--as", "lyg.drafter")
    assert saved.exit_code == 0 and "已保存通报正文模板" in saved.output
    shown = run("bulletin", "--unit", "连政办发", "--show-template").output
    assert shown.startswith("{期间}全市签收率为{签收率}。") and "{按时签收率}" in shown
    assert run("bulletin", "--unit", "连政办发", "--reset-template", "--as", "lyg.drafter").exit_code == 0
    assert run("bulletin", "--unit", "连政办发", "--show-template").output.startswith(DEFAULT_TEMPLATE.split("\n")[0])


@pytest.mark.parametrize("args, refusal", [
    (("--quarter", "2026Q5", "--unit", "连政办发"), "季度的格式应为 2026Q4"),
    (("--month", "2026-13", "--unit", "连政办发"), "月份的格式应为 2026-11"),
    (("--unit", "连政办发"), "请给出 --quarter"),
    (("--quarter", "2026Q4", "--month", "2026-11", "--unit", "连政办发"), "二者选一"),
    (("--quarter", "2026Q4", "--unit", "不存在的单位"), "没有单位 不存在的单位"),
    (("--quarter", "2026Q4", "--unit", "99999999999999999999"), "没有单位"),
    (("--quarter", "2026Q4", "--unit", "连政办发", "--draft"), "须用 --as"),
    (("--quarter", "2026Q4", "--unit", "连政办发", "--draft", "--as", "lyg.clerk"), NOT_SUPERVISOR),
    (("--quarter", "2026Q4", "--unit", "东政办发", "--draft", "--as", "lyg.drafter"), "不是东海县人民政府办公室的人员"),
    (("--quarter", "2026Q4", "--unit", "连政办发", "--draft", "--as", "nobody"), "没有登录名为 nobody 的人员"),
    (("--unit", "连政办发", "--set-template", "{template}"), "须用 --as"),
    (("--unit", "连政办发", "--set-template", "{template}", "--as", "lyg.clerk"), NOT_SUPERVISOR),
    (("--unit", "连政办发", "--show-template", "--reset-template"), "只能选一个"),
    (("--quarter", "2026Q4", "--unit", "连政办发", "--xlsx", "/nonexistent/q4.xlsx"), "不能写入 /nonexistent/q4.xlsx"),
])
def test_the_command_refuses_bad_periods_units_and_people_in_chinese(gongwen, day, run, tmp_path, args, refusal):
    template = tmp_path / "template.txt"
    template.write_text("{签收率}", encoding="utf-8")
    result = run("bulletin", *(str(template) if a == "{template}" else a for a in args))
    assert result.exit_code != 0 and refusal in result.output and "Traceback" not in result.output
    with gongwen.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1   # nothing drafted
