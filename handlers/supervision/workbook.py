"""The supervision workbook (XLSX) and the bulletin's three attachment tables, laid out from the figures.

Every number comes from :mod:`.figures`; nothing is computed here but the layout. Rates are written
as fractions with a percentage format, so Excel shows 97.0% and a formula reads 0.97. Units that are
late or do not use the system have their rows filled red (``UnitFigures.lagging``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .figures import CITY_LEVEL, AreaFigures, Counts, GroupFigures, UnitFigures, ranked

__all__ = ["COLUMNS", "Column", "Table", "bulletin_tables", "figures_xlsx", "percent", "table_xlsx"]

PERCENT, ONE_DECIMAL, MONEY = "0.0%", "0.0", "0.00"
RED = "FFC7CE"


@dataclass(frozen=True)
class Column:
    """One figure as a column: its header, how it is read from a unit or group, and its number format."""

    header: str
    value: Callable[[AreaFigures, Counts], Any]
    number_format: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("收文", lambda a, c: c.received),
    Column("签收", lambda a, c: c.signed),
    Column("签收率", lambda a, c: c.sign_rate, PERCENT),
    Column("按时签收率", lambda a, c: c.in_time.rate, PERCENT),
    Column("平件按时签收率", lambda a, c: c.normal.rate, PERCENT),
    Column("急件按时签收率", lambda a, c: c.urgent.rate, PERCENT),
    Column("非办公时间急件按时签收率", lambda a, c: c.after_hours.rate, PERCENT),
    Column("平均签收用时（小时）", lambda a, c: c.average_sign_hours, ONE_DECIMAL),
    Column("最长签收用时（小时）", lambda a, c: c.worst_sign_hours, ONE_DECIMAL),
    Column("退回", lambda a, c: c.returned),
    Column("逾期未签收", lambda a, c: c.overdue_now),
    Column("发文", lambda a, c: c.sent),
    Column("普发", lambda a, c: c.wide),
    Column("收文登记", lambda a, c: c.registered),
    Column("拟稿", lambda a, c: c.drafted),
    Column("内部办文", lambda a, c: c.handled_inside),
    Column("办结", lambda a, c: c.handled),
    Column("归档", lambda a, c: c.archived),
    Column("归档率", lambda a, c: c.archive_rate, PERCENT),
    Column("未归档", lambda a, c: c.backlog),
    Column("人数", lambda a, c: c.people),
    Column("从未登录人数", lambda a, c: c.people_never),
    Column("登录次数", lambda a, c: c.logins),
    Column("日均在线人数", lambda a, c: a.online_per_day(c), ONE_DECIMAL),
    Column("查看待办次数", lambda a, c: c.looks),
    Column("值守提醒", lambda a, c: c.watch_reminders),
    Column("短信条数", lambda a, c: c.texts),
    Column("计费条数", lambda a, c: c.text_segments),
    Column("短信费用（元）", lambda a, c: c.text_cost, MONEY),
    Column("故障", lambda a, c: c.faults),
    Column("迟报故障", lambda a, c: c.faults_late),
    Column("平均修复用时（工作日）", lambda a, c: c.mean_repair_days, ONE_DECIMAL),
)
_BY_HEADER = {c.header: c for c in COLUMNS}
# What the bulletin's attachments show of each unit (the Pingliang tables' columns).
BULLETIN_COLUMNS = tuple(_BY_HEADER[h] for h in ("收文", "签收率", "按时签收率", "发文", "内部办文", "归档率",
                                                 "人数", "登录次数", "日均在线人数"))


@dataclass(frozen=True)
class Table:
    """A table as rows under a header; ``formats`` gives each column's number format (None: as is);
    ``red`` the indexes of rows to fill red."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[str | None]
    red: frozenset[int] = frozenset()


def percent(rate: float | None) -> str:
    """A rate as the bulletin prints it: ``97.0%``; ``—`` when there was nothing to count."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _figures(area: AreaFigures, counts: Counts, columns: Sequence[Column]) -> list[Any]:
    return [c.value(area, counts) for c in columns]


def _formats(leading: int, columns: Sequence[Column]) -> list[str | None]:
    return [None] * leading + [c.number_format for c in columns]


# -- the workbook -------------------------------------------------------------------------------------------

def _summary(figures: AreaFigures, previous: AreaFigures) -> Table:
    """The whole area and each group, this period's row above the previous period's."""
    before = {g.name: g for g in previous.groups}
    rows = []
    for scope, earlier in ((figures.total, previous.total),
                           *((g, before.get(g.name, GroupFigures(name=g.name))) for g in figures.groups)):
        rows.append([scope.name, figures.period.label, scope.units, *_figures(figures, scope, COLUMNS)])
        rows.append([scope.name, previous.period.label, earlier.units, *_figures(previous, earlier, COLUMNS)])
    return Table("汇总", ["范围", "期间", "单位数", *(c.header for c in COLUMNS)], rows, _formats(3, COLUMNS))


def _ranking(figures: AreaFigures) -> Table:
    units = ranked(figures.units)
    rows = [[rank, u.name, u.group, *_figures(figures, u, COLUMNS)] for rank, u in enumerate(units, start=1)]
    return Table("单位排名", ["名次", "单位", "所属", *(c.header for c in COLUMNS)], rows, _formats(3, COLUMNS),
                 frozenset(i for i, u in enumerate(units) if u.lagging))


def _listing(title: str, figures: AreaFigures, units: list[UnitFigures], headers: Sequence[str], *,
             why: Callable[[UnitFigures], str] | None = None,
             red: Callable[[UnitFigures], bool] = lambda unit: unit.lagging) -> Table:
    """Units numbered, with their group, the figures under ``headers`` and, given ``why``, a 情况 column."""
    columns = [_BY_HEADER[h] for h in headers]
    rows = [[n, u.name, u.group, *_figures(figures, u, columns), *([why(u)] if why else [])]
            for n, u in enumerate(units, start=1)]
    extra = ["情况"] if why else []
    return Table(title, ["序号", "单位", "所属", *headers, *extra], rows, _formats(3, columns) + [None] * len(extra),
                 frozenset(i for i, u in enumerate(units) if red(u)))


def _not_using(figures: AreaFigures) -> Table:
    """Units nobody of which logged in during the period (red), then units with people who never logged in."""
    units = [u for u in figures.units if u.not_using] + [u for u in figures.units
                                                          if not u.not_using and u.people_never]
    return _listing("未启用", figures, units, ("人数", "登录次数", "从未登录人数"),
                    why=lambda u: "本期无人登录" if u.not_using else "有人员从未登录",
                    red=lambda u: u.not_using)


def figures_xlsx(figures: AreaFigures, previous: AreaFigures) -> bytes:
    """The area's figures as a workbook: 汇总 (with the previous period), 单位排名 (late or non-using
    units red), 未发文单位, 无内部办文单位 and 未启用."""
    tables = [
        _summary(figures, previous),
        _ranking(figures),
        _listing("未发文单位", figures, figures.sent_nothing, ("收文", "签收率", "内部办文", "登录次数")),
        _listing("无内部办文单位", figures, figures.no_internal_work, ("收文登记", "拟稿", "收文", "登录次数")),
        _not_using(figures),
    ]
    heading = f"{figures.root.name}电子公文系统使用情况：{figures.period.label}（{figures.period.first} 至 " \
              f"{figures.period.last}）"
    return _book(tables, heading)


# -- the bulletin's attachments -----------------------------------------------------------------------------

def bulletin_tables(figures: AreaFigures) -> list[Table]:
    """The bulletin's three attachments: (1) the city-level units, (2) each county's units under its
    total, (3) the units not yet using the system, each with why. A table may have no rows (a county's
    area has no city-level units)."""
    city = [u for u in ranked(figures.units) if u.group == CITY_LEVEL]
    city_rows = [[n, u.name, *_figures(figures, u, BULLETIN_COLUMNS)] for n, u in enumerate(city, start=1)]
    county_rows: list[list[Any]] = []
    for group in (g for g in figures.groups if g.name != CITY_LEVEL):
        county_rows.append([group.name, "合计", *_figures(figures, group, BULLETIN_COLUMNS)])
        county_rows += [[group.name, u.name, *_figures(figures, u, BULLETIN_COLUMNS)]
                        for u in ranked(figures.units) if u.group == group.name]
    idle = [u for u in figures.units if u.not_using or u.handled_inside == 0]
    headers = [c.header for c in BULLETIN_COLUMNS]
    return [
        Table(f"{CITY_LEVEL}电子公文系统使用情况统计表", ["序号", "单位", *headers], city_rows,
              _formats(2, BULLETIN_COLUMNS)),
        Table("县（区）电子公文系统使用情况统计表", ["县（区）", "单位", *headers], county_rows,
              _formats(2, BULLETIN_COLUMNS)),
        _listing("未启用电子公文系统单位名单", figures, idle, (),
                 why=lambda u: "本期无人登录" if u.not_using else "未开展内部办文", red=lambda u: False),
    ]


def table_xlsx(table: Table, heading: str) -> bytes:
    """One table as a workbook of one sheet, under ``heading`` (an attachment of the bulletin)."""
    return _book([table], heading)


# -- writing ------------------------------------------------------------------------------------------------

def _book(tables: list[Table], heading: str) -> bytes:
    """The tables as sheets, written as a stream (openpyxl's write-only mode): a city's thousand units
    times five sheets costs a fraction of building every cell in memory first.

    Each look (a number format, red, bold) is styled once, on a model cell, and every cell of that look
    is made with the model's style array: setting a cell's format and fill one by one looks each style up
    by hashing it, which took most of the workbook's time at a city's scale."""
    from openpyxl import Workbook  # only the export needs it
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    book = Workbook(write_only=True)
    red_fill, bold_font = PatternFill("solid", start_color=RED, end_color=RED), Font(bold=True)
    looks: dict[tuple[str | None, bool, bool], Any] = {}

    def look(sheet: Any, number_format: str | None, red: bool, bold: bool) -> Any:
        key = (number_format, red, bold)
        if key not in looks:
            model = WriteOnlyCell(sheet)
            if number_format:
                model.number_format = number_format
            if red:
                model.fill = red_fill
            if bold:
                model.font = bold_font
            looks[key] = model._style  # the style's ids in the book: the same for every sheet
        return looks[key]

    for table in tables:
        sheet = book.create_sheet(table.title[:31])  # Excel's limit on a sheet's name
        sheet.freeze_panes = "A3"
        for letter in ("A", "B", "C"):
            sheet.column_dimensions[letter].width = 24

        def cell(value: Any, number_format: str | None = None, *, red: bool = False, bold: bool = False,
                 sheet: Any = sheet) -> Any:
            number_format = number_format if value is not None else None
            if number_format is None and not red and not bold:
                return value
            return Cell(sheet, row=1, column=1, value=value, style_array=look(sheet, number_format, red, bold))

        sheet.append([heading])
        sheet.append([cell(header, bold=True) for header in table.header])
        for index, row in enumerate(table.rows):
            red = index in table.red
            sheet.append([cell(value, number_format, red=red)
                          for value, number_format in zip(row, table.formats, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
