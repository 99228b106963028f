"""Archiving: ``archive export`` (packages to a folder) and ``archive check`` (the four-properties check)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from engine.errors import GongwenError

from . import gongwen_from


@click.group()
def archive() -> None:
    """Archive packages and the four-properties check."""


@archive.command("export")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--code", "codes", multiple=True, help="Archive code(s) to export; all items when omitted.")
@click.pass_context
def archive_export(ctx: click.Context, dest: Path, codes: tuple[str, ...]) -> None:
    """Write archive packages (sealed PDF, attachments, DA/T 46 metadata, history, manifest) to DEST."""
    from handlers.archive.models import ArchiveItem
    from handlers.archive.packages import export_package

    gongwen = gongwen_from(ctx)
    with gongwen.db.write() as session:
        query = select(ArchiveItem).where(ArchiveItem.destroyed_at.is_(None)).order_by(ArchiveItem.id)
        if codes:
            query = query.where(ArchiveItem.archive_code.in_(codes))
        items = session.scalars(query).all()
        for item in items:
            click.echo(f"{item.archive_code} → {export_package(session, gongwen.files, item, dest)}")
    if not items:
        raise GongwenError("没有符合条件的归档文件")


@archive.command("check")
@click.argument("package", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.pass_context
def archive_check(ctx: click.Context, package: Path) -> None:
    """Run the four-properties check (四性检测) on PACKAGE; exit 1 on any failure."""
    from handlers.archive.packages import check_package

    with gongwen_from(ctx).db.session() as session:
        checks = check_package(session, package)
    for check in checks:
        click.echo(f"{'✓' if check.ok else '✗'} {check.name}")
        for line in check.problems:
            click.echo(f"    ✗ {line}")
        for line in check.passed:
            click.echo(f"    ✓ {line}")
    ok = all(c.ok for c in checks)
    click.echo("四性检测通过" if ok else "四性检测未通过")
    sys.exit(0 if ok else 1)
