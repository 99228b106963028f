"""The ``gongwen`` command line: set-up, deployment, the server, workers and administration."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from sqlalchemy import select

import forms  # noqa: F401  (registers forms)
import handlers  # noqa: F401  (registers handlers)
from engine import audit, clock, organisation, schema
from engine.background import Scheduler, celery_app, deliver_outbox
from engine.calendar import mark_year_entered, set_override
from engine.config import ConfigError
from engine.core import Gongwen
from engine.deploy import collect, deploy
from engine.errors import GongwenError
from engine.models import Department, Incident, Outbox, OutboxStatus, Person, Role, Unit
from handlers.documents.typesetting.fonts import FontMissing, check_fonts

ROOT = Path(__file__).resolve().parent.parent


class _Group(click.Group):
    """Turns Gongwen's own errors into one line and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (GongwenError, ConfigError, FontMissing) as err:
            click.echo(f"错误：{err}", err=True)
            sys.exit(1)


def _gongwen(ctx: click.Context) -> Gongwen:
    if ctx.obj is None:
        ctx.obj = Gongwen()
    return ctx.obj


@click.group(cls=_Group)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Gongwen (公文): electronic official documents on BPMN processes."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group(cls=_Group)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every pending migration to the configured database."""
    gongwen = _gongwen(ctx)
    schema.upgrade(gongwen.settings.database_url)
    click.echo(f"数据库已是最新结构：{gongwen.db.engine.url.render_as_string(hide_password=True)}")


@main.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def deploy_cmd(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check and deploy BPMN files (or folders of them) as new process versions."""
    gongwen = _gongwen(ctx)
    with gongwen.db.write() as session:
        results = deploy(session, collect(list(paths)))
    for r in results:
        click.echo(r.describe())


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create the database, deploy workflows/ and seed the demo organisation; print the logins.

    The first time, when the organisation is created, its seals are issued and a few documents
    are driven through the processes, so that the main inboxes have work in them
    (web/demo_documents.py).
    """
    from . import demo as demo_org
    from .demo_documents import seed_documents, summary

    gongwen = _gongwen(ctx)
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app, with the timer and outbox scheduler, on HOST:PORT."""
    from . import create_app

    gongwen = _gongwen(ctx)
    app = create_app(gongwen)
    if not gongwen.settings.broker_url:
        Scheduler(gongwen, every_s=10).start()
    click.echo(f"公文系统已启动：http://{host}:{port}/  （演示账号见 gongwen demo 的输出）")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command()
@click.pass_context
def tick(ctx: click.Context) -> None:
    """Fire the timers due now and deliver pending outbox items, once."""
    gongwen = _gongwen(ctx)
    fired = gongwen.runtime.fire_due_timers()
    delivered = deliver_outbox(gongwen)
    click.echo(f"到期定时器：{fired} 个流程；投递：{delivered} 条")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def worker(ctx: click.Context, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (with the sweep beat) for GONGWEN_BROKER_URL."""
    gongwen = _gongwen(ctx)
    if not gongwen.settings.broker_url:
        raise click.UsageError("未设置 GONGWEN_BROKER_URL：不设置时后台工作在 serve 进程内完成，无需 worker")
    check_fonts()  # workers typeset documents
    celery_app(gongwen).worker_main(["worker", "-B", "--loglevel=INFO", *celery_args])


@main.command("verify")
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
    with _gongwen(ctx).db.session() as session:
        report = verify_document(session, content)
    for check in report.checks:
        click.echo(f"{'✓' if check.ok else '✗'} {check.label}：{check.detail}")
    for signer in report.signers:
        click.echo(f"  签章：{signer['unit']}（印章 {signer['seal_id']}，{signer['signed_at']}）")
    click.echo("验证通过" if report.ok else f"验证未通过：{report.reason}")
    sys.exit(0 if report.ok else 1)


@main.group(cls=_Group)
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

    with _gongwen(ctx).db.write() as session:
        set_next(session, code, year, next_seq)
    click.echo(f"{code}〔{year}〕下一个文号为 {next_seq} 号")


@main.command("receipts")
@click.argument("document_id", type=int)
@click.pass_context
def receipts_cmd(ctx: click.Context, document_id: int) -> None:
    """Show who has signed for a dispatched document, who returned it, and who is overdue."""
    from handlers.exchange.models import ReceiptStatus
    from handlers.exchange.receipts import receipt_overview

    with _gongwen(ctx).db.session() as session:
        overview = receipt_overview(session, document_id)
    for v in overview["receipts"]:
        detail = (f"{clock.local(v.signed_at):%m-%d %H:%M} {v.signed_by}" if v.signed_at else "") + \
            (f" 退回：{v.return_reason}" if v.return_reason else "") + \
            (f" 逾期自 {clock.local(v.overdue_since):%m-%d %H:%M}" if v.overdue_since else "")
        click.echo(f"{v.unit:<16} 第{v.version}版 {v.status.label} {detail}".rstrip())
    counts = "，".join(f"{ReceiptStatus(k).label} {n}" for k, n in overview["counts"].items())
    click.echo(f"共 {len(overview['receipts'])} 个单位：{counts}；逾期 {len(overview['overdue'])}")


@main.group(cls=_Group)
def archive() -> None:
    """Archive packages and the four-properties check."""


@archive.command("export")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--code", "codes", multiple=True, help="Archive code(s) to export; all items when omitted.")
@click.pass_context
def archive_export(ctx: click.Context, dest: Path, codes: tuple[str, ...]) -> None:
    """Write archive packages (sealed PDF, attachments, DA/T 46 metadata, history, manifest) to DEST."""
    from handlers.archive.archiving import export_package
    from handlers.archive.models import ArchiveItem

    gongwen = _gongwen(ctx)
    with gongwen.db.write() as session:
        query = select(ArchiveItem).order_by(ArchiveItem.id)
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
    from handlers.archive.archiving import check_package

    with _gongwen(ctx).db.session() as session:
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


@main.command("deadline")
@click.argument("urgency", type=click.Choice(["normal", "urgent", "extra_urgent"]))
@click.argument("amount", type=float)
@click.argument("measure", type=click.Choice(["working_days", "working_hours", "hours"]))
@click.pass_context
def deadline_cmd(ctx: click.Context, urgency: str, amount: float, measure: str) -> None:
    """Set the sign-for window for one urgency (e.g. urgent 2 working_hours)."""
    from handlers.exchange.deadlines import set_deadline

    with _gongwen(ctx).db.write() as session:
        set_deadline(session, urgency, amount, measure)
    click.echo(f"{urgency} 的签收时限设为 {amount:g} {measure}")


@main.group(cls=_Group, name="audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; print the first broken link, exit 1 if there is one."""
    with _gongwen(ctx).db.session() as session:
        report = audit.verify(session)
    if report.whole:
        click.echo(f"审计链完整：共 {report.checked} 条事件")
    else:
        click.echo(f"审计链断裂：第 {report.broken_at} 号事件{report.reason}（此前 {report.checked} 条完好）")
        sys.exit(1)


@main.group(cls=_Group)
def users() -> None:
    """Accounts and roles."""


def _unit(session, name_or_id: str) -> Unit:
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
    with _gongwen(ctx).db.write() as session:
        unit = _unit(session, unit_name) if unit_name else None
        organisation.create_person(session, login, name, password, unit=unit)
    click.echo(f"已创建账号 {login}")


def _freezing(frozen: bool, done: str, help_text: str) -> None:
    @users.command("freeze" if frozen else "unfreeze", help=help_text)
    @click.argument("login")
    @click.pass_context
    def command(ctx: click.Context, login: str) -> None:
        with _gongwen(ctx).db.write() as session:
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
    with _gongwen(ctx).db.write() as session:
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


@main.group(cls=_Group)
def incidents() -> None:
    """Failed handler steps."""


@incidents.command("list")
@click.pass_context
def incidents_list(ctx: click.Context) -> None:
    """List open incidents."""
    with _gongwen(ctx).db.session() as session:
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
    again = _gongwen(ctx).runtime.retry_incident(incident_id)
    click.echo(f"重试后再次失败：{again.error}" if again else "已重试，流程继续运行")


@main.group(cls=_Group)
def messages() -> None:
    """Messages between process instances."""


@messages.command("dead")
@click.pass_context
def messages_dead(ctx: click.Context) -> None:
    """List messages nobody was waiting for (dead letters)."""
    with _gongwen(ctx).db.session() as session:
        rows = session.scalars(select(Outbox).where(Outbox.topic == "message",
                                                    Outbox.status == OutboxStatus.DEAD)).all()
        for m in rows:
            click.echo(f"#{m.id} {m.payload['name']} → {m.payload['correlation']} "
                       f"（来自实例 {m.source_instance_id}，{clock.local(m.created_at):%F %T}）")
    if not rows:
        click.echo("没有死信")


@main.group(cls=_Group, name="calendar")
def calendar_group() -> None:
    """Holiday overrides for the working-day calendar."""


@calendar_group.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["workday", "holiday"]))
@click.option("--note", default="")
@click.pass_context
def calendar_set(ctx: click.Context, day, kind: str, note: str) -> None:
    """Declare DAY a workday or a holiday, overriding the calendar package."""
    with _gongwen(ctx).db.write() as session:
        set_override(session, day.date(), kind == "workday", note)
    click.echo(f"{day.date()} 设为{'工作日' if kind == 'workday' else '休息日'}")


@calendar_group.command("entered")
@click.argument("year", type=int)
@click.pass_context
def calendar_entered(ctx: click.Context, year: int) -> None:
    """Mark YEAR's official schedule as entered: other days follow Monday to Friday."""
    try:
        with _gongwen(ctx).db.write() as session:
            mark_year_entered(session, year)
    except GongwenError as err:
        raise click.BadParameter(str(err)) from None
    click.echo(f"{year} 年放假安排已标记为录入")
