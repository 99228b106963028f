"""Texts: ``sms report`` (messages, segments and cost per paying unit and unit), ``sms off`` and ``sms on``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from engine.periods import Period
from handlers.notifications.texts_report import cost_report, money, report_xlsx, switch_texting

from . import find_unit, gongwen_from


@click.group(name="sms")
def sms_group() -> None:
    """Texts (SMS): their cost, and switching a county's texting off or on."""


@sms_group.command("report")
@click.option("--quarter", help="A quarter, e.g. 2026Q4.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (with --until).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day, inclusive.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Also write an Excel file.")
@click.pass_context
def sms_report(ctx: click.Context, quarter: str | None, since: datetime | None, until: datetime | None,
               xlsx: Path | None) -> None:
    """Messages, segments and cost per paying unit (county) and per unit."""
    try:
        if quarter:
            period = Period.quarter(quarter)
        elif since and until:
            period = Period.days(since.date(), until.date())
        else:
            raise click.UsageError("请给出 --quarter 2026Q4，或 --since 与 --until")
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    gongwen = gongwen_from(ctx)
    with gongwen.db.session() as session:
        report = cost_report(session, gongwen.settings, period)
    click.echo(f"短信费用：{period.label}（{period.first} 至 {period.last}），单价 {money(report.price)} 元/条")
    click.echo("付费单位\t单位\t短信条数\t计费条数\t费用（元）\t未发出")
    for p in report.payers:
        state = "（已关闭短信）" if p.off else ""
        click.echo(f"{p.name}{state}\t小计\t{p.messages}\t{p.segments}\t{money(p.cost)}\t{p.unsent}")
        for u in p.units:
            click.echo(f"{p.name}\t{u.name}\t{u.messages}\t{u.segments}\t{money(u.cost)}\t{u.unsent}")
    total = report.total
    click.echo(f"合计\t\t{total.messages}\t{total.segments}\t{money(total.cost)}\t{total.unsent}")
    if xlsx:
        xlsx.write_bytes(report_xlsx(report))
        click.echo(f"已写入 {xlsx}")


@sms_group.command("off")
@click.argument("unit")
@click.option("--reason", required=True, help="Why (the county's request and its number).")
@click.pass_context
def sms_off(ctx: click.Context, unit: str, reason: str) -> None:
    """Switch texting off for the units UNIT (a county or the city's payer) pays for."""
    gongwen = gongwen_from(ctx)
    with gongwen.db.write() as session:
        found = find_unit(session, unit)
        changed = switch_texting(session, found.id, True, reason, None, settings=gongwen.settings)
    click.echo(f"{found.name}：已关闭短信，其所属单位只收到系统内通知" if changed else f"{found.name}：短信本已关闭")


@sms_group.command("on")
@click.argument("unit")
@click.option("--reason", default="", help="Why (optional).")
@click.pass_context
def sms_on(ctx: click.Context, unit: str, reason: str) -> None:
    """Switch texting on again for the units UNIT pays for."""
    gongwen = gongwen_from(ctx)
    with gongwen.db.write() as session:
        found = find_unit(session, unit)
        changed = switch_texting(session, found.id, False, reason, None, settings=gongwen.settings)
    click.echo(f"{found.name}：已恢复短信" if changed else f"{found.name}：短信本已开启")
