"""Seals and the CA: ``ca export-root`` (for readers' trust stores), ``seals list`` and ``seals revoke``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select

from engine import clock
from engine.errors import NotFound, Refused

from . import gongwen_from


@click.group("ca")
def ca_group() -> None:
    """Gongwen's certificate authority."""


@ca_group.command("export-root")
@click.argument("dest", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def export_root(ctx: click.Context, dest: Path) -> None:
    """Write the root certificate (PEM) to DEST, to import into PDF readers' trust stores.

    For poppler's pdfsig: ``certutil -N -d sql:DIR --empty-password`` then
    ``certutil -A -d sql:DIR -n gongwen-root -t CT,C,C -i DEST`` and ``pdfsig -nssdir sql:DIR FILE.pdf``.
    """
    from handlers.seals.models import CertificateAuthority

    with gongwen_from(ctx).db.session() as session:
        root = session.scalar(select(CertificateAuthority).where(CertificateAuthority.parent_id.is_(None)))
        if root is None:
            raise NotFound("本系统尚未建立电子印章证书体系（还没有制发过印章）")
        dest.write_text(root.certificate_pem)
    click.echo(f"根证书「{root.name}」已写入 {dest}")


@click.group("seals")
def seals_group() -> None:
    """The units' electronic seals."""


@seals_group.command("list")
@click.option("--unit", "unit_name", help="Only this unit's seals (its full name).")
@click.pass_context
def seals_list(ctx: click.Context, unit_name: str | None) -> None:
    """Every seal: code, unit, status, validity, and for revoked ones when, why and distrusted since when."""
    from engine.models import Unit
    from handlers.seals.models import Seal
    from handlers.seals.pki import REVOCATION_REASONS

    with gongwen_from(ctx).db.session() as session:
        query = select(Seal, Unit.name).join(Unit, Unit.id == Seal.unit_id).order_by(Unit.name, Seal.id)
        if unit_name:
            query = query.where(Unit.name == unit_name)
        rows = session.execute(query).all()
        for seal, unit in rows:
            line = (f"{seal.code}  {unit}  {_STATUS[seal.status.value]}  "
                    f"{clock.local(seal.valid_from):%Y-%m-%d} 至 {clock.local(seal.valid_to):%Y-%m-%d}")
            if seal.revoked_at:
                reason = REVOCATION_REASONS.get(seal.revoke_reason)
                label = reason.label if reason else seal.revoke_reason
                line += f"  吊销于 {clock.local(seal.revoked_at):%Y-%m-%d %H:%M}（{label}）"
            if seal.invalid_since:
                line += f"  自 {clock.local(seal.invalid_since):%Y-%m-%d %H:%M} 起不再可信"
            click.echo(line)
    if not rows:
        raise NotFound("没有符合条件的印章")


_STATUS = {"active": "在用", "revoked": "已吊销", "superseded": "已换发"}


@seals_group.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, type=click.Choice(["lost", "damaged", "dissolved", "renamed", "other"]),
              help="lost: 遗失或私钥泄露; damaged: 损坏; dissolved: 单位撤销; renamed: 单位更名; other: 其他.")
@click.option("--invalid-since", "invalid_since", help="For lost: from when the key is distrusted "
              "(Beijing time, e.g. 2026-11-20T08:00).")
@click.pass_context
def seals_revoke(ctx: click.Context, code: str, reason: str, invalid_since: str | None) -> None:
    """Revoke seal CODE and publish the CRL at once. What it sealed before keeps verifying by its timestamp,
    except, for a lost seal, what it sealed after --invalid-since."""
    from handlers.seals.models import Seal
    from handlers.seals.register import revoke_seal

    since = _moment(invalid_since) if invalid_since else None
    gongwen = gongwen_from(ctx)
    with gongwen.db.write() as session:
        seal = session.scalar(select(Seal).where(Seal.code == code))
        if seal is None:
            raise NotFound(f"没有编号为 {code} 的印章")
        revoke_seal(session, gongwen.settings, seal, reason, invalid_since=since)
    click.echo(f"印章 {code} 已吊销，吊销列表已发布")


def _moment(text: str) -> datetime:
    moment = clock.parse_local(text)
    if moment is None:
        raise Refused(f"时间格式不对：{text}（北京时间，例如 2026-11-20T08:00）")
    return moment
