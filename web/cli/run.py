"""Running Gongwen: ``serve`` (the web app), ``worker`` (Celery) and ``tick`` (background work, once)."""

from __future__ import annotations

import click
from gunicorn.app.base import BaseApplication

from engine.background import Scheduler, celery_app, deliver_outbox
from engine.config import Settings
from engine.core import Gongwen
from handlers.documents.typesetting.fonts import check_fonts

from . import gongwen_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="web processes (gunicorn), each with its own threads")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead: one process, for debugging only")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, dev: bool) -> None:
    """Run the web app on HOST:PORT with a production server (gunicorn), and the timer and outbox scheduler.

    Without GONGWEN_BROKER_URL each web process sweeps timers and the outbox itself (the work is
    idempotent and claimed row by row, so several processes never do it twice).
    """
    from .. import create_app

    # Checked here, before any process starts: a worker that fails to boot would be restarted forever.
    check_fonts()
    settings = Settings.from_env()

    def app():
        gongwen = Gongwen(settings)  # each worker its own, after the fork: pools are never shared
        if not settings.broker_url:
            Scheduler(gongwen, every_s=10).start()
        return create_app(gongwen)

    click.echo(f"公文系统已启动：http://{host}:{port}/  （演示账号见 gongwen demo 的输出）")
    if dev:
        app().run(host=host, port=port, threaded=True, use_reloader=False)
    else:
        _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": 8,
                        "accesslog": "-", "access_log_format": _ACCESS_LOG, "timeout": 120,
                        "graceful_timeout": 10}).run()


# The path without its query string: a search's words are document content and stay out of logs.
_ACCESS_LOG = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


class _Gunicorn(BaseApplication):
    """gunicorn run from here: each worker process builds its own app (and database pool) after the fork."""

    def __init__(self, factory, options: dict):
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.factory()


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
