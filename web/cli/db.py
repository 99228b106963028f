"""Putting things in the database: ``db upgrade`` (the schema), ``deploy`` (BPMN files) and ``demo``."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from engine import schema
from engine.deploy import collect, deploy
from engine.models import Person
from handlers.documents.typesetting.fonts import check_fonts

from . import gongwen_from

ROOT = Path(__file__).resolve().parents[2]


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every pending migration to the configured database."""
    gongwen = gongwen_from(ctx)
    schema.upgrade(gongwen.settings.database_url)
    click.echo(f"数据库已是最新结构：{gongwen.db.engine.url.render_as_string(hide_password=True)}")


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def deploy_cmd(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check and deploy BPMN files (or folders of them) as new process versions."""
    gongwen = gongwen_from(ctx)
    with gongwen.db.write() as session:
        results = deploy(session, collect(list(paths)))
    for r in results:
        click.echo(r.describe())


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create the database, deploy workflows/ and seed the demo organisation; print the logins.

    The first time, when the organisation is created, its seals are issued and a few documents
    are driven through the processes, so that the main inboxes have work in them
    (web/demo_documents.py).
    """
    from .. import demo as demo_org
    from ..demo_documents import seed_documents, summary

    gongwen = gongwen_from(ctx)
    schema.upgrade(gongwen.settings.database_url)
    org = None
    with gongwen.db.write() as session:
        deploy(session, collect([ROOT / "workflows"]))
        if session.scalar(select(Person.id).limit(1)) is None:
            check_fonts()  # the demo documents are typeset: fail before anything is seeded
            org = demo_org.seed(session)
    documents = seed_documents(gongwen, org) if org is not None else None
    with gongwen.db.session() as session:
        people = session.scalars(select(Person).order_by(Person.id)).all()
        rows = [(p.login, p.name, p.unit.name if p.unit else "（系统）",
                 "、".join(sorted({g.role.label for g in p.grants}))) for p in people]
    click.echo("已创建演示单位。" if org is not None else "演示单位已就绪。")
    click.echo(f"演示账号（密码均为 {demo_org.DEMO_PASSWORD}）：")
    for login, name, unit, roles in rows:
        click.echo(f"  {login:<16} {name:<4} {unit:<14} {roles}")
    if documents is not None:
        click.echo(summary(documents))
