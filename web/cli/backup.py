"""Saving and bringing back an installation: ``backup DEST`` and ``restore SRC`` (the work is in engine/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from engine import backup

from . import gongwen_from

KEY_REMINDER = ("提醒：备份不含密钥。印章和 CA 的私钥在数据库中以 GONGWEN_SECRET_KEY（未设置时为 var/secret_key）加密，"
                "还原时必须使用同一个密钥，请将它与备份分开妥善保管。")


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def backup_cmd(ctx: click.Context, dest: Path) -> None:
    """Write the database, every stored file and a manifest of their hashes into the new folder DEST.

    The database is copied consistently while Gongwen runs (SQLite's backup API, or pg_dump). The secret
    key is not in the backup; restoring needs the same GONGWEN_SECRET_KEY.
    """
    report = backup.create(gongwen_from(ctx), dest)
    manifest = report.manifest
    click.echo(f"已备份到 {report.dest}：数据库（{manifest.backend}，版本 {manifest.alembic_revision}）和 "
               f"{len(manifest.stored_files)} 个存储文件，共 {report.total_bytes} 字节")
    click.echo(f"清单 {backup.MANIFEST} 的 SHA-256：{manifest.sha256}")
    click.echo(KEY_REMINDER)


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def restore_cmd(ctx: click.Context, src: Path) -> None:
    """Check the backup in SRC against its manifest, then restore it into this installation.

    Refused, changing nothing, if any file of the backup is missing, extra or altered, or if the
    database here already holds data. Stop the server and workers first; the same GONGWEN_SECRET_KEY
    as the backed-up installation's is needed.
    """
    report = backup.restore(gongwen_from(ctx), src)
    manifest = report.manifest
    click.echo(f"已从 {src} 还原：{manifest.created_at} 的备份，{len(manifest.stored_files)} 个存储文件，"
               f"数据库版本 {manifest.alembic_revision} → {report.revision}")
    click.echo("请用 gongwen audit verify 检查审计链；本安装须使用与备份时相同的 GONGWEN_SECRET_KEY。")
