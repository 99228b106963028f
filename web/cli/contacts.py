"""The duty-contact registers: ``contacts list [UNIT] [--history]``."""

from __future__ import annotations

import unicodedata

import click
from sqlalchemy import or_, select

from engine.errors import NotFound
from engine.models import Unit

from . import gongwen_from


@click.group("contacts")
def contacts_group() -> None:
    """The units' duty-contact registers (收发文联系人)."""


@contacts_group.command("list")
@click.argument("unit", required=False)
@click.option("--history", "with_history", is_flag=True,
              help="Every row, ended ones too, with their dates and reasons (newest first).")
@click.pass_context
def contacts_list(ctx: click.Context, unit: str | None, with_history: bool) -> None:
    """Print the register of UNIT (its id, full name or short name), or of every unit that keeps one."""
    from handlers.contacts.models import DutyContact
    from handlers.contacts.register import current, history

    with gongwen_from(ctx).db.session() as session:
        if unit:
            units = [_find_unit(session, unit)]
        else:
            kept = select(DutyContact.unit_id).distinct()
            units = list(session.scalars(select(Unit).where(Unit.id.in_(kept)).order_by(Unit.id)))
        header = ["单位", "类别", "姓名", "职务", "手机", "起始日期"]
        if with_history:
            header += ["截止日期", "登记原因", "结束原因"]
        table = [header]
        for u in units:
            for c in (history if with_history else current)(session, u.id):
                row = [u.name, c.duty.label, c.name, c.title, c.mobile, c.since.isoformat()]
                if with_history:
                    row += [c.until.isoformat() if c.until else "—", c.reason, c.end_reason or ""]
                table.append(row)
    if len(table) == 1:
        raise NotFound(f"{units[0].name}尚未登记收发文联系人" if unit else "还没有单位登记收发文联系人")
    widths = _widths(table)
    for row in table:
        click.echo(_line(row, widths).rstrip())


def _find_unit(session, key: str) -> Unit:
    """A unit by id, or by its full or short name."""
    query = select(Unit).where(Unit.id == int(key)) if key.isascii() and key.isdigit() and len(key) < 10 else \
        select(Unit).where(or_(Unit.name == key, Unit.short_name == key)).order_by(Unit.id)
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(f"没有单位 {key}")
    return found


def _width(text: str) -> int:
    """Columns a text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _widths(table: list[list[str]]) -> list[int]:
    return [max(_width(row[i]) for row in table) for i in range(len(table[0]))]


def _line(row: list[str], widths: list[int]) -> str:
    return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True))
