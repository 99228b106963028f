"""Departments' own exchange boxes (处室收文箱): ``boxes open UNIT DEPARTMENT [--prefix P]``, ``boxes list``.

A box makes the department a recipient drafters may pick; its clerks are people granted ``clerk`` in the unit
with the department named (``users grant LOGIN clerk --unit UNIT --department DEPARTMENT``).
"""

from __future__ import annotations

import click
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import Department, Unit

from . import find_unit, gongwen_from


@click.group("boxes")
def boxes_group() -> None:
    """Departments' own exchange boxes (处室收文箱)."""


@boxes_group.command("open")
@click.argument("unit")
@click.argument("department")
@click.option("--prefix", help="The 收文号 prefix of its series (default: the department's name + 收文).")
@click.pass_context
def boxes_open(ctx: click.Context, unit: str, department: str, prefix: str | None) -> None:
    """Give DEPARTMENT of UNIT (id, name, short name or 机关代字) its own exchange box."""
    from handlers.forwarding.boxes import open_box

    with gongwen_from(ctx).db.write() as session:
        found = find_unit(session, unit)
        dept = session.scalar(select(Department).where(Department.unit_id == found.id, Department.name == department))
        if dept is None:
            raise NotFound(f"{found.name}没有{department}")
        box = open_box(session, dept, prefix)
        click.echo(f"已开设{found.name}{dept.name}收文箱，收文号：{box.prefix}〔年度〕N号")


@boxes_group.command("list")
@click.pass_context
def boxes_list(ctx: click.Context) -> None:
    """Every department box: unit, department, 收文号 prefix."""
    from handlers.forwarding.models import DepartmentBox

    with gongwen_from(ctx).db.session() as session:
        rows = session.execute(select(Unit.name, Department.name, DepartmentBox.prefix)
                               .join(Department, Department.id == DepartmentBox.department_id)
                               .join(Unit, Unit.id == Department.unit_id).order_by(Unit.id, Department.id)).all()
    if not rows:
        raise NotFound("还没有处室开设收文箱")
    for unit, department, prefix in rows:
        click.echo(f"{unit}\t{department}\t{prefix}")
