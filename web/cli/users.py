"""Accounts and roles: ``users create``, ``users freeze``, ``users unfreeze`` and ``users grant``."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import organisation
from engine.errors import GongwenError
from engine.models import Department, Role, Unit

from . import gongwen_from


@click.group()
def users() -> None:
    """Accounts and roles."""


def _unit(session: Session, name_or_id: str) -> Unit:
    unit = session.get(Unit, int(name_or_id)) if name_or_id.isdigit() else \
        session.scalar(select(Unit).where(Unit.name == name_or_id))
    if unit is None:
        raise GongwenError(f"没有单位 {name_or_id}")
    return unit


@users.command("create")
@click.argument("login")
@click.argument("name")
@click.option("--unit", "unit_name", help="Unit name or id (none for administrators).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_context
def users_create(ctx: click.Context, login: str, name: str, unit_name: str | None, password: str) -> None:
    """Create an account."""
    with gongwen_from(ctx).db.write() as session:
        unit = _unit(session, unit_name) if unit_name else None
        organisation.create_person(session, login, name, password, unit=unit)
    click.echo(f"已创建账号 {login}")


def _freezing(frozen: bool, done: str, help_text: str) -> None:
    @users.command("freeze" if frozen else "unfreeze", help=help_text)
    @click.argument("login")
    @click.pass_context
    def command(ctx: click.Context, login: str) -> None:
        with gongwen_from(ctx).db.write() as session:
            organisation.set_frozen(session, organisation.find_person(session, login), frozen)
        click.echo(f"{done} {login}")


_freezing(True, "已冻结", "Freeze an account: it can no longer log in or act.")
_freezing(False, "已解冻", "Unfreeze an account (and clear a login lockout).")


@users.command("grant")
@click.argument("login")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_name", help="Unit name or id (business roles).")
@click.option("--department", "department_name", help="Department name inside the unit (department heads).")
@click.pass_context
def users_grant(ctx: click.Context, login: str, role: str, unit_name: str | None,
                department_name: str | None) -> None:
    """Grant ROLE to LOGIN (三员分立 combinations are refused)."""
    with gongwen_from(ctx).db.write() as session:
        person = organisation.find_person(session, login)
        unit = _unit(session, unit_name) if unit_name else None
        department = None
        if department_name:
            department = session.scalar(select(Department).where(
                Department.unit_id == (unit.id if unit else None), Department.name == department_name))
            if department is None:
                raise GongwenError(f"单位中没有部门 {department_name}")
        organisation.grant_role(session, person, Role(role), unit=unit, department=department)
    click.echo(f"已授予 {login} {Role(role).label}")
