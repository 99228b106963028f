"""督查: how the units of an area use the system, for its 督查员; each unit's own figures for its leaders and clerks.

``/supervision`` is the area's overview for a 督查员 (``handlers.supervision.access``): the whole
area's figures beside the previous period's, the counties (and 市直单位), every unit ranked
(sortable; late or non-using units in red), the lists the bulletin names, and three charts drawn
on the server (``/supervision/chart/<name>.png``). ``/supervision/unit/<id>`` is one unit's figures
and its rank, for the 督查员 and for the unit's own leaders and clerks. ``/supervision/export.xlsx``
is the overview as a workbook. ``/supervision/spot-check`` is a 抽查 of the period's documents, drawn by a
抽查编号 (the seed) that its links carry so the same check can be opened again and printed. A POST to
``/supervision/bulletin`` (生成通报) drafts the period's 通报 and opens its 拟稿 task. Every view asks
``access`` on every request; a refusal is a page in Chinese with the reason, audited; a period, a sample
size or a seed that cannot be read falls back to the default with a flashed reason, audited too. The
figures themselves are computed in ``handlers.supervision.figures``.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from flask import Blueprint, Response, flash, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from engine.errors import Forbidden, GongwenError, NotFound
from engine.models import Person, Unit
from engine.periods import Period
from handlers.supervision import spot_checks
from handlers.supervision.access import ranking_root, supervised_area, visible_unit
from handlers.supervision.bulletin import draft_bulletin
from handlers.supervision.charts import groups_png, ranking_png, trend_png
from handlers.supervision.figures import (
    IN_TIME_BELOW,
    AreaFigures,
    Counts,
    GroupFigures,
    UnitFigures,
    area_figures,
    monthly,
    rank_of,
    ranked,
    shortfalls,
)
from handlers.supervision.workbook import (
    COLUMNS,
    MONEY,
    ONE_DECIMAL,
    PERCENT,
    Column,
    figures_xlsx,
    percent,
)

from . import current_gongwen
from .auth import login_required
from .drafting import first_task
from .errors import refused
from .notices import masked
from .params import MAX_ID, as_id, period_from_args, recent_quarters

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_ARGS = ("quarter", "month", "since", "until")
T = TypeVar("T")
TREND_MONTHS = 24  # the trend chart's months at most, the latest ones
SPOT_SIZE = 10  # the documents a spot check draws unless asked for another number
SEEDS = 999_999  # a 抽查编号 drawn here has at most six digits, to be written down and typed in again


_BY_HEADER = {column.header: column for column in COLUMNS}


def _columns(headers: str) -> tuple[Column, ...]:
    """The workbook's columns named (separated by spaces), so that a figure has the same name and the same
    number on the page and in the export."""
    return tuple(_BY_HEADER[header] for header in headers.split())


KEY_FIGURES = _columns("""收文 签收率 按时签收率 平件按时签收率 急件按时签收率 非办公时间急件按时签收率
    平均签收用时（小时） 最长签收用时（小时） 退回 逾期未签收 发文 普发 内部办文 归档率 未归档 登录次数 日均在线人数
    从未登录人数 查看待办次数 值守提醒 短信条数 短信费用（元） 故障 迟报故障 平均修复用时（工作日）""")
GROUP_COLUMNS = _columns("""收文 签收率 按时签收率 平均签收用时（小时） 逾期未签收 发文 内部办文 归档率 未归档 登录次数
    日均在线人数 从未登录人数 短信条数""")
PREVIOUS_COLUMNS = _columns("签收率 归档率")  # the groups table's figures of the previous period
RANKING_COLUMNS = _columns("""收文 签收率 按时签收率 平均签收用时（小时） 最长签收用时（小时） 退回 逾期未签收 发文 普发
    内部办文 归档率 未归档 登录次数 日均在线人数 人数 从未登录人数 查看待办次数 值守提醒 短信条数 故障 迟报故障
    平均修复用时（工作日）""")
# A state now (receipts overdue, the backlog, accounts never used): the previous period has nothing to compare.
CURRENT = frozenset({"逾期未签收", "未归档", "从未登录人数"})
_WRITTEN = {PERCENT: percent, ONE_DECIMAL: "{:.1f}".format, MONEY: "{:.2f}".format}


def shown(column: Column, value: object) -> str:
    """A figure as the page writes it (rates as percentages, hours to a tenth), ``—`` for none."""
    return "—" if value is None else _WRITTEN.get(column.number_format, str)(value)


@dataclass(frozen=True)
class Line:
    label: str
    now: str
    before: str
    change: str  # ↑, ↓, 持平, or empty when there is nothing to compare


def key_lines(figures: AreaFigures, now: Counts, previous: AreaFigures, before: Counts) -> list[Line]:
    """The key figures of ``now`` (a unit or group of ``figures``) beside ``before`` (the same of ``previous``),
    with the direction of the change."""
    lines = []
    for column in KEY_FIGURES:
        value = column.value(figures, now)
        if column.header in CURRENT:
            lines.append(Line(column.header, shown(column, value), "（当前状态）", ""))
            continue
        earlier = column.value(previous, before)
        now_text, before_text = shown(column, value), shown(column, earlier)
        # Equal as written is 持平: an arrow between "0.0" and "0.0" would be news nobody can see.
        change = "" if value is None or earlier is None else "持平" if now_text == before_text else \
            "↑" if value > earlier else "↓"
        lines.append(Line(column.header, now_text, before_text, change))
    return lines


@bp.errorhandler(Forbidden)
@bp.errorhandler(NotFound)
def _refusal(err: Forbidden | NotFound) -> ResponseReturnValue:
    """The reason, in Chinese, on the error page; audited once the view's transaction is over."""
    refused("supervision.refused", status=err.status, why=str(err))
    heading = "没有权限" if err.status == 403 else "找不到"
    return render_template("error.html", code=err.status, heading=heading, advice=str(err)), err.status


@bp.context_processor
def _helpers() -> dict:
    return {"shown": shown, "shortfalls": shortfalls, "in_time_below": IN_TIME_BELOW, "quarters": recent_quarters(),
            "masked": masked}


def _period(values: Mapping[str, str] | None = None) -> tuple[Period, dict[str, str]]:
    """The period asked for in the query, or in ``values`` (see ``web.params.period_from_args``); one it
    could not read is audited."""
    values = request.args if values is None else values
    period, args = period_from_args(values)
    if _unread(values, args):
        refused("supervision.period_refused")
    return period, args


def _unread(values: Mapping[str, str], args: dict[str, str]) -> bool:
    """Whether ``values`` ask for a period that could not be read (``args``: the arguments read)."""
    return not args and any(values.get(name) for name in PERIOD_ARGS)


def _figures(db: Session, root: Unit, period: Period) -> tuple[AreaFigures, AreaFigures]:
    """The area's figures for the period and for the one before."""
    return area_figures(db, root, period), area_figures(db, root, period.previous())


def _supervised(read: Callable[[Session, Unit, Period], T]) -> tuple[T, Period, dict[str, str]]:
    """What ``read`` finds in the asking 督查员's area for the requested period (Forbidden for anyone else),
    with the period and the arguments that repeat it."""
    period, args = _period()
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        return read(db, supervised_area(db, g.person.id), period), period, args


@bp.get("")
@login_required
def area() -> ResponseReturnValue:
    """The area's overview: key figures, counties, every unit ranked, the lists, the charts."""
    (figures, previous), _, args = _supervised(_figures)
    return render_template(
        "supervision/area.html", figures=figures, previous=previous, args=args, ranking=ranked(figures.units),
        lines=key_lines(figures, figures.total, previous, previous.total), group_rows=_group_rows(figures, previous),
        group_columns=GROUP_COLUMNS, previous_columns=PREVIOUS_COLUMNS, ranking_columns=RANKING_COLUMNS)


def _group_rows(figures: AreaFigures, previous: AreaFigures) -> list[tuple[GroupFigures, GroupFigures]]:
    """Each county (or 市直单位) and then the whole area, beside the same of the previous period."""
    before = {group.name: group for group in previous.groups}
    return [(group, before.get(group.name, GroupFigures(name=group.name))) for group in figures.groups] \
        + [(figures.total, previous.total)]


@bp.get("/unit/<path:text>")
@login_required
def unit(text: str) -> ResponseReturnValue:
    """One unit's figures beside the previous period's, and its rank in its area.

    The id is read here, not by the route, so that a mistyped or hostile one is refused in words and audited.
    """
    unit_id = as_id(text)
    if unit_id is None:
        raise NotFound("单位编号无效")
    period, args = _period()
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        as_supervisor = visible_unit(db, g.person.id, unit_id)
        root = supervised_area(db, g.person.id) if as_supervisor else ranking_root(db, unit_id)
        # The unit's own figures, and of the area only what its rank needs: a page, not a bulletin.
        figures = area_figures(db, root, period, only={unit_id})
        previous = area_figures(db, root, period.previous(), only={unit_id})
        mine = figures.unit(unit_id)
        if mine is None:
            raise NotFound("该单位已撤销或合并，没有统计")
        rank, of = rank_of(db, root, period, unit_id)
    earlier = previous.unit(unit_id) or UnitFigures(unit_id=unit_id, name=mine.name, group=mine.group)
    return render_template(
        "supervision/unit.html", unit=mine, figures=figures, args=args, as_supervisor=as_supervisor,
        rank=rank, of=of, previous_period=previous.period, lines=key_lines(figures, mine, previous, earlier))


def _trend_span(period: Period) -> Period:
    """The months of the period and of the one before, the latest :data:`TREND_MONTHS` of them."""
    month = period.last.year * 12 + period.last.month - TREND_MONTHS
    earliest = date(month // 12, month % 12 + 1, 1)
    return Period.days(max(period.previous().first, earliest), period.last)


CHARTS: dict[str, Callable[[Session, Unit, Period], bytes]] = {
    "ranking": lambda db, root, period: ranking_png(area_figures(db, root, period)),
    "groups": lambda db, root, period: groups_png(*_figures(db, root, period)),
    "trend": lambda db, root, period: trend_png(monthly(db, root, _trend_span(period))),
}


@bp.get("/chart/<name>.png")
@login_required
def chart(name: str) -> Response:
    """One of the overview's charts (:data:`CHARTS`), for the period the overview shows."""
    if name not in CHARTS:
        raise NotFound("没有这张图表")
    content, _, _ = _supervised(CHARTS[name])
    return Response(content, mimetype="image/png")


@bp.get("/export.xlsx")
@login_required
def export() -> Response:
    """The overview's tables as a workbook, this period beside the previous one."""
    (figures, previous), period, _ = _supervised(_figures)
    name = f"督查统计-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    return send_file(io.BytesIO(figures_xlsx(figures, previous)), mimetype=XLSX, as_attachment=True,
                     download_name=name)


def _asked(name: str, high: int, refusal: str) -> int | None:
    """The whole number from 1 to ``high`` asked for as ``name``; None when it is not asked for, or when it
    cannot be read (then ``refusal`` is flashed and the refusal audited)."""
    text = request.args.get(name)
    if not text:
        return None
    value = as_id(text)
    if value is None or value > high:
        flash(refusal)
        refused("supervision.spot_check_refused", field=name)
        return None
    return value


@bp.get("/spot-check")
@login_required
def spot_check() -> ResponseReturnValue:
    """抽查: ``size`` of the period's documents drawn by the 抽查编号 ``seed`` (a new one drawn and shown when
    none is asked for), each with every recipient's receipt record; late receipts in red."""
    size = _asked("size", spot_checks.MAX_SAMPLE,
                  f"抽查件数应为 1 至 {spot_checks.MAX_SAMPLE} 的整数，已按 {SPOT_SIZE} 件抽查") or SPOT_SIZE
    seed = _asked("seed", MAX_ID, f"抽查编号应为 1 至 {MAX_ID} 的整数，已重新随机抽取") or secrets.randbelow(SEEDS) + 1
    (root, documents), period, args = _supervised(
        lambda db, root, period: (root, spot_checks.spot_check(db, root, period, size, seed)))
    return render_template("supervision/spot_check.html", root=root, documents=documents, period=period, args=args,
                           size=size, seed=seed, max_size=spot_checks.MAX_SAMPLE)


@bp.post("/bulletin")
@login_required
def bulletin() -> ResponseReturnValue:
    """生成通报: a draft 通报 of the person's unit on the period in the form's fields, its 拟稿 task opened.

    A refusal (not a 督查员 and 拟稿人 of the unit, a period that cannot be read) goes back to the overview
    with the reason, audited; nothing is created.
    """
    period, args = _period(request.form)
    if _unread(request.form, args):
        flash("未生成通报")
        return redirect(url_for("supervision.area"))
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            instance_id = draft_bulletin(gongwen, db, db.get(Person, g.person.id), period).instance_id
    except GongwenError as err:
        refused("supervision.bulletin_refused", why=str(err))
        flash(f"未生成通报：{err}")
        return redirect(url_for("supervision.area", **args))
    return first_task(instance_id)
