"""Keeping the system healthy: ``incidents list|retry``, ``messages dead`` and ``audit verify``."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from engine import audit, clock
from engine.models import Incident, Outbox, OutboxStatus

from . import gongwen_from


@click.group()
def incidents() -> None:
    """Failed handler steps."""


@incidents.command("list")
@click.pass_context
def incidents_list(ctx: click.Context) -> None:
    """List open incidents."""
    with gongwen_from(ctx).db.session() as session:
        rows = session.scalars(select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.id)).all()
        for i in rows:
            when = clock.local(i.created_at)
            click.echo(f"#{i.id} 流程实例 {i.instance_id} 任务“{i.task_name}” {when:%F %T}：{i.error}")
    if not rows:
        click.echo("没有未处理的故障")


@incidents.command("retry")
@click.argument("incident_id", type=int)
@click.pass_context
def incidents_retry(ctx: click.Context, incident_id: int) -> None:
    """Run a failed task again."""
    again = gongwen_from(ctx).runtime.retry_incident(incident_id)
    click.echo(f"重试后再次失败：{again.error}" if again else "已重试，流程继续运行")


@click.group()
def messages() -> None:
    """Messages between process instances."""


@messages.command("dead")
@click.pass_context
def messages_dead(ctx: click.Context) -> None:
    """List messages nobody was waiting for (dead letters)."""
    with gongwen_from(ctx).db.session() as session:
        rows = session.scalars(select(Outbox).where(Outbox.topic == "message",
                                                    Outbox.status == OutboxStatus.DEAD)).all()
        for m in rows:
            click.echo(f"#{m.id} {m.payload['name']} → {m.payload['correlation']} "
                       f"（来自实例 {m.source_instance_id}，{clock.local(m.created_at):%F %T}）")
    if not rows:
        click.echo("没有死信")


@click.group(name="audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; print the first broken link, exit 1 if there is one."""
    with gongwen_from(ctx).db.session() as session:
        report = audit.verify(session)
    if report.whole:
        click.echo(f"审计链完整：共 {report.checked} 条事件")
    else:
        click.echo(f"审计链断裂：第 {report.broken_at} 号事件{report.reason}（此前 {report.checked} 条完好）")
        sys.exit(1)
