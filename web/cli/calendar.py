"""The working-day calendar: ``calendar set`` (one day's override) and ``calendar entered`` (a year's)."""

from __future__ import annotations

from datetime import datetime

import click

from engine.calendar import mark_year_entered, set_override
from engine.errors import GongwenError

from . import gongwen_from


@click.group(name="calendar")
def calendar_group() -> None:
    """Holiday overrides for the working-day calendar."""


@calendar_group.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["workday", "holiday"]))
@click.option("--note", default="")
@click.pass_context
def calendar_set(ctx: click.Context, day: datetime, kind: str, note: str) -> None:
    """Declare DAY a workday or a holiday, overriding the calendar package."""
    with gongwen_from(ctx).db.write() as session:
        set_override(session, day.date(), kind == "workday", note)
    click.echo(f"{day.date()} 设为{'工作日' if kind == 'workday' else '休息日'}")


@calendar_group.command("entered")
@click.argument("year", type=int)
@click.pass_context
def calendar_entered(ctx: click.Context, year: int) -> None:
    """Mark YEAR's official schedule as entered (its days off entered with `calendar set`): the warning stops."""
    try:
        with gongwen_from(ctx).db.write() as session:
            mark_year_entered(session, year)
    except GongwenError as err:
        raise click.BadParameter(str(err)) from None
    click.echo(f"{year} 年放假安排已标记为录入")
