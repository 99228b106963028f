"""Supervision from the command line: ``bulletin`` prints an area's figures, writes the workbook, starts
the draft 通报, and shows or changes the office's body template."""

from __future__ import annotations

from pathlib import Path

import click

from engine.core import Gongwen
from engine.errors import GongwenError, Refused
from engine.organisation import find_person
from engine.periods import Period
from handlers.supervision.bulletin import PLACEHOLDERS, draft_bulletin, save_template, template_of
from handlers.supervision.figures import area_figures, area_root
from handlers.supervision.workbook import figures_xlsx, percent

from . import find_unit, gongwen_from

READ_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _period(quarter: str | None, month: str | None) -> Period:
    if bool(quarter) == bool(month):
        raise Refused("请给出 --quarter（如 2026Q4）或 --month（如 2026-11），二者选一")
    try:
        return Period.quarter(quarter) if quarter else Period.month(month)
    except ValueError as err:
        raise Refused(str(err)) from None


@click.command("bulletin")
@click.option("--unit", "unit_key", required=True,
              help="The supervising unit (its id, name, short name or 机关代字); its government's area is reported.")
@click.option("--quarter", help="A quarter, e.g. 2026Q4.")
@click.option("--month", help="A month, e.g. 2026-11.")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Also write the workbook to FILE.")
@click.option("--draft", is_flag=True, help="Start the draft 通报 (with --as): it waits at the person's 拟稿 task.")
@click.option("--as", "login", help="The 督查员 (a login) who drafts, or who changes the template.")
@click.option("--show-template", is_flag=True, help="Print the unit's body template and its placeholders.")
@click.option("--set-template", type=READ_FILE, help="Make the text of FILE (UTF-8) the unit's body template.")
@click.option("--reset-template", is_flag=True, help="Go back to the default body template.")
@click.pass_context
def bulletin_cmd(ctx: click.Context, unit_key: str, quarter: str | None, month: str | None, xlsx: Path | None,
                 draft: bool, login: str | None, show_template: bool, set_template: Path | None,
                 reset_template: bool) -> None:
    """An area's figures for a period (签收率, 按时签收率, 归档率 per county and the whole), the workbook,
    the draft 通报; or the unit's body template."""
    gongwen = gongwen_from(ctx)
    if show_template or set_template or reset_template:
        _template(gongwen, unit_key, login, show_template, set_template, reset_template)
        return
    period = _period(quarter, month)
    if draft:
        if not login:
            raise Refused("生成通报须用 --as 指明起草的督查员")
        with gongwen.db.write() as session:
            unit, person = find_unit(session, unit_key), find_person(session, login)
            if person.unit_id != unit.id:
                raise Refused(f"{person.name}不是{unit.name}的人员，不能以其名义生成通报")
            document = draft_bulletin(gongwen, session, person, period)
            title, attached = document.title, len(document.attachments)
        click.echo(f"已生成通报草稿：{title}")
        click.echo(f"附件 {attached} 个；请 {login} 在待办中打开“拟稿”，核对后送审")
        return
    with gongwen.db.session() as session:
        unit = find_unit(session, unit_key)
        root = area_root(session, unit.id)
        figures = area_figures(session, root, period)
        previous = area_figures(session, root, period.previous())
    click.echo(f"督查统计：{root.name}，{period.label}（{period.first} 至 {period.last}），"
               f"上期为{previous.period.label}")
    click.echo("范围\t单位数\t收文\t签收\t签收率\t按时签收率\t内部办文\t归档率\t上期签收率\t上期按时签收率\t上期归档率")
    before = {g.name: g for g in previous.groups}
    for scope, earlier in [*((g, before.get(g.name)) for g in figures.groups), (figures.total, previous.total)]:
        last = [percent(earlier.sign_rate), percent(earlier.in_time.rate), percent(earlier.archive_rate)] \
            if earlier is not None else ["—"] * 3
        name = "合计" if scope is figures.total else scope.name
        click.echo("\t".join([name, str(scope.units), str(scope.received), str(scope.signed), percent(scope.sign_rate),
                              percent(scope.in_time.rate), str(scope.handled_inside), percent(scope.archive_rate),
                              *last]))
    if xlsx:
        try:
            xlsx.write_bytes(figures_xlsx(figures, previous))
        except OSError as err:
            raise GongwenError(f"不能写入 {xlsx}：{err.strerror}") from None
        click.echo(f"已写入 {xlsx}")


def _template(gongwen: Gongwen, unit_key: str, login: str | None, show: bool, new: Path | None, reset: bool) -> None:
    """Print, replace or reset the unit's body template (changing it takes a 督查员 of the unit)."""
    if show + bool(new) + reset != 1:
        raise Refused("--show-template、--set-template、--reset-template 只能选一个")
    if show:
        with gongwen.db.session() as session:
            text = template_of(session, find_unit(session, unit_key).id)
        click.echo(text.rstrip("\n"))
        click.echo("\n可用的占位符：")
        for name, meaning in PLACEHOLDERS.items():
            click.echo(f"  {{{name}}}\t{meaning}")
        return
    if not login:
        raise Refused("修改通报模板须用 --as 指明督查员")
    try:
        text = new.read_text(encoding="utf-8") if new else None
    except UnicodeDecodeError:
        raise GongwenError(f"{new} 不是 UTF-8 编码的文本文件") from None
    with gongwen.db.write() as session:
        unit = find_unit(session, unit_key)
        save_template(session, unit.id, find_person(session, login), text)
    click.echo(f"{unit.name}：{'已保存通报正文模板' if new else '已恢复默认的通报正文模板'}")
