"""Running Gongwen: ``serve`` (the web app), ``worker`` (Celery) and ``tick`` (background work, once)."""

from __future__ import annotations

import click

from engine.background import Scheduler, celery_app, deliver_outbox
from handlers.documents.typesetting.fonts import check_fonts

from . import gongwen_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app, with the timer and outbox scheduler, on HOST:PORT."""
    from .. import create_app

    gongwen = gongwen_from(ctx)
    app = create_app(gongwen)
    if not gongwen.settings.broker_url:
        Scheduler(gongwen, every_s=10).start()
    click.echo(f"公文系统已启动：http://{host}:{port}/  （演示账号见 gongwen demo 的输出）")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@click.command()
@click.pass_context
def tick(ctx: click.Context) -> None:
    """Fire the timers due now and deliver pending outbox items, once."""
    gongwen = gongwen_from(ctx)
    fired = gongwen.runtime.fire_due_timers()
    delivered = deliver_outbox(gongwen)
    click.echo(f"到期定时器：{fired} 个流程；投递：{delivered} 条")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def worker(ctx: click.Context, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (with the sweep beat) for GONGWEN_BROKER_URL."""
    gongwen = gongwen_from(ctx)
    if not gongwen.settings.broker_url:
        raise click.UsageError("未设置 GONGWEN_BROKER_URL：不设置时后台工作在 serve 进程内完成，无需 worker")
    check_fonts()  # workers typeset documents
    celery_app(gongwen).worker_main(["worker", "-B", "--loglevel=INFO", *celery_args])
