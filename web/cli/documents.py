"""Documents and their exchange: ``verify`` (a sealed PDF), ``numbers`` (next, series), ``receipts``, ``deadline``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine import clock
from handlers.documents.models import Urgency
from handlers.exchange.deadlines import Measure

from . import find_unit, gongwen_from


@click.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def verify_cmd(ctx: click.Context, file: Path) -> None:
    """Verify a sealed PDF: integrity, seal chain and CRLs, and that its issuers sealed it."""
    from handlers.seals.verification import verify_document

    try:
        content = file.read_bytes()
    except OSError as err:
        click.echo(f"无法读取 {file}：{err.strerror}", err=True)
        sys.exit(2)
    with gongwen_from(ctx).db.session() as session:
        report = verify_document(session, content)
    for check in report.checks:
        click.echo(f"{'✓' if check.ok else '✗'} {check.label}：{check.detail}")
    for signer in report.signers:
        click.echo(f"  签章：{signer['unit']}（印章 {signer['seal_id']}，{signer['signed_at']}）")
    click.echo("验证通过" if report.ok else f"验证未通过：{report.reason}")
    sys.exit(0 if report.ok else 1)


@click.group()
def numbers() -> None:
    """Document numbers (发文字号)."""


@numbers.command("next")
@click.argument("code")
@click.argument("year", type=int)
@click.argument("next_seq", type=int)
@click.pass_context
def numbers_next(ctx: click.Context, code: str, year: int, next_seq: int) -> None:
    """Make CODE's next number in YEAR be NEXT_SEQ (a mid-year start); numbers are never reused."""
    from handlers.documents.numbering import set_next

    with gongwen_from(ctx).db.write() as session:
        set_next(session, code, year, next_seq)
    click.echo(f"{code}〔{year}〕下一个文号为 {next_seq} 号")


@numbers.command("series")
@click.argument("unit")
@click.pass_context
def numbers_series(ctx: click.Context, unit: str) -> None:
    """List UNIT's number series: the main one and those beside it (函, 明电 …)."""
    from handlers.documents.models import DOC_TYPE_LABELS, DocType
    from handlers.documents.numbering import unit_series

    with gongwen_from(ctx).db.session() as session:
        found = find_unit(session, unit)
        click.echo(f"{found.issuer_code or '（无机关代字）'}\t主系列")
        for series in unit_series(session, found.id):
            kinds = "、".join(DOC_TYPE_LABELS[DocType(t)] for t in series.doc_types) or "由拟稿人选用"
            telegram = "（明电）" if series.telegram else "（内部刊物）" if series.publication else ""
            click.echo(f"{series.code}\t{series.name}{telegram}\t{kinds}\t编号 {series.id}")


@numbers.command("add-series")
@click.argument("unit")
@click.argument("name")
@click.argument("code")
@click.option("--doc-type", "doc_types", multiple=True, help="numbered in this series by default (e.g. letter)")
@click.option("--telegram", is_flag=True, help="a 明传电报 series")
@click.option("--publication", is_flag=True, help="an internal publication (内部刊物) called NAME, issues 第N期")
@click.option("--total-from", type=int, default=1, show_default=True, help="a publication's first 总期号 here")
@click.pass_context
def numbers_add_series(ctx: click.Context, unit: str, name: str, code: str, doc_types: tuple[str, ...],
                       telegram: bool, publication: bool, total_from: int) -> None:
    """Give UNIT the series NAME (函, 明电, or a publication such as 陕政通报) with its own code CODE and counter."""
    from handlers.documents.numbering import add_series

    with gongwen_from(ctx).db.write() as session:
        add_series(session, find_unit(session, unit), name, code, list(doc_types), telegram=telegram,
                   publication=publication, total_from=total_from)
    click.echo(f"已设发文字号系列 {name}：{code}")


@numbers.command("retire-series")
@click.argument("code")
@click.pass_context
def numbers_retire_series(ctx: click.Context, code: str) -> None:
    """Stop numbering in the series CODE (its numbers stay given, its code taken)."""
    from sqlalchemy import select

    from engine.errors import NotFound
    from handlers.documents.models import NumberSeries
    from handlers.documents.numbering import retire_series

    with gongwen_from(ctx).db.write() as session:
        series = session.scalar(select(NumberSeries).where(NumberSeries.code == code, NumberSeries.active))
        if series is None:
            raise NotFound(f"没有在用的发文字号系列 {code}")
        retire_series(session, series)
    click.echo(f"发文字号系列 {code} 已停用")


@click.command("receipts")
@click.argument("document_id", type=int)
@click.pass_context
def receipts_cmd(ctx: click.Context, document_id: int) -> None:
    """Show who has signed for a dispatched document, who returned it, and who is overdue."""
    from handlers.exchange.models import ReceiptStatus
    from handlers.exchange.receipts import receipt_overview

    with gongwen_from(ctx).db.session() as session:
        overview = receipt_overview(session, document_id)
    for v in overview["receipts"]:
        detail = (f"{clock.local(v.signed_at):%m-%d %H:%M} {v.signed_by}" if v.signed_at else "") + \
            (f" 退回：{v.return_reason}" if v.return_reason else "") + \
            (f" 逾期自 {clock.local(v.overdue_since):%m-%d %H:%M}" if v.overdue_since else "")
        click.echo(f"{v.unit:<16} 第{v.version}版 {v.status.label} {detail}".rstrip())
    counts = "，".join(f"{ReceiptStatus(k).label} {n}" for k, n in overview["counts"].items())
    click.echo(f"共 {len(overview['receipts'])} 个单位：{counts}；逾期 {len(overview['overdue'])}")


@click.command("deadline")
@click.argument("urgency", type=click.Choice([u.value for u in Urgency]))
@click.argument("amount", type=float)
@click.argument("measure", type=click.Choice([m.value for m in Measure]))
@click.pass_context
def deadline_cmd(ctx: click.Context, urgency: str, amount: float, measure: str) -> None:
    """Set the sign-for window for one urgency (e.g. urgent 2 working_hours)."""
    from handlers.exchange.deadlines import set_deadline

    with gongwen_from(ctx).db.write() as session:
        set_deadline(session, urgency, amount, measure)
    click.echo(f"{urgency} 的签收时限设为 {amount:g} {measure}")
