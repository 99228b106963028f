"""Running Gongwen: ``serve`` (the web app, web/asgi.py), ``worker`` (Celery) and ``tick`` (background work, once)."""

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
              help="web processes (gunicorn), each with its threads for pages and one event loop for streams")
@click.option("--dev", is_flag=True, help="uvicorn alone instead: one process, for debugging only")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, dev: bool) -> None:
    """Run the web app on HOST:PORT with a production server (gunicorn with uvicorn workers), and the
    timer and outbox scheduler.

    Each worker serves the pages (the Flask app, in threads) and the pages' event streams (web/push.py)
    as one ASGI app (web/asgi.py): thousands of open pages cost no thread each. Without
    GONGWEN_BROKER_URL each web process sweeps timers and the outbox itself (the work is idempotent and
    claimed row by row, so several processes never do it twice).
    """
    from ..asgi import App, serve_dev

    # Checked here, before any process starts: a worker that fails to boot would be restarted forever.
    check_fonts()
    settings = Settings.from_env()

    def app() -> App:
        gongwen = Gongwen(settings)  # each worker its own, after the fork: pools are never shared
        if not settings.broker_url:
            Scheduler(gongwen, every_s=10).start()
        return App(gongwen)

    click.echo(f"公文系统已启动：http://{host}:{port}/  （演示账号见 gongwen demo 的输出）")
    if dev:
        serve_dev(app(), host, port)
    else:
        # The access log is the app's own (web/asgi.py): uvicorn's would print query strings, and a
        # search's words are document content that stays out of logs.
        _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": "web.asgi.Worker",
                        "accesslog": "-", "timeout": 120, "graceful_timeout": 10}).run()


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
