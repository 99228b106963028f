"""The web app as served: ASGI, with ``/events`` native and every other path through the Flask app.

``/events`` is a stream held open by every page of a logged-in person (web/push.py): thousands of
them must cost a web process nothing but memory, which a thread per stream (gunicorn's gthread)
cannot give. So the app is served by uvicorn (under gunicorn: ``Worker``), the stream is an asyncio
task, and the Flask app runs unchanged in a pool of threads through a2wsgi's ``WSGIMiddleware``
(responses and request bodies stream through it; Flask's ``MAX_CONTENT_LENGTH`` still bounds uploads).

Who opens a stream is decided by the Flask app itself: its session interface reads the cookie and
its ``before_request`` functions (web/auth.py: active account, session generation, idle timeout)
set ``g.person`` or not. The access log is written here, without query strings: a search's words
are document content and stay out of logs.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from typing import ClassVar

import uvicorn
from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask, g, session
from gunicorn.arbiter import Arbiter
from uvicorn_worker import UvicornWorker
from werkzeug.exceptions import HTTPException

from engine import clock
from engine.core import Gongwen

from . import push
from .auth import IDLE_TIMEOUT

EVENTS_PATH = "/events"
WSGI_THREADS = 8  # as many requests at once per process as gunicorn's gthread workers had
access_log = logging.getLogger("gongwen.access")


class App:
    """The ASGI app of one web process: the Flask app for pages, the push hub for ``/events``."""

    def __init__(self, gongwen: Gongwen, flask_app: Flask | None = None, *, threads: int = WSGI_THREADS):
        if flask_app is None:
            from . import create_app

            flask_app = create_app(gongwen)
        self.gongwen, self.flask = gongwen, flask_app
        self.wsgi = WSGIMiddleware(flask_app, workers=threads)
        self.hub = push.Hub(gongwen)

    async def __call__(self, scope: dict, receive: push.Receive, send: push.Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        began, answer = time.perf_counter(), {"status": 0, "bytes": 0}

        async def logged(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            if scope["path"] == EVENTS_PATH:
                await self._events(scope, receive, logged)
            else:
                await self.wsgi(scope, receive, logged)
        finally:
            _log(scope, answer["status"], answer["bytes"], time.perf_counter() - began)

    async def _events(self, scope: dict, receive: push.Receive, send: push.Send) -> None:
        if scope["method"] != "GET":
            await _plain(send, 405, "请求方式不对", [(b"allow", b"GET")])
            return
        visitor = await asyncio.get_running_loop().run_in_executor(self.hub.executor, self.visitor, scope)
        if isinstance(visitor, int):  # the Flask app refused the request itself (a NUL in the query: 400)
            await _plain(send, visitor, "请求无效")
        elif visitor is None:
            # A browser's EventSource does not retry a 401: a page whose session ended stops asking.
            await _plain(send, 401, "未登录或登录已失效，请重新登录")
        else:
            await self.hub.serve(visitor, receive, send)

    def visitor(self, scope: dict) -> push.Visitor | int | None:
        """Who the request's session cookie belongs to, as the Flask app decides it for its pages
        (None: nobody logged in; a number: the status of the app's own refusal)."""
        environ = build_environ(scope, io.BytesIO())
        with self.flask.request_context(environ):
            last_seen = session.get("last_seen")
            try:
                refused = self.flask.preprocess_request()  # web/auth.py's _load_person sets g.person
            except HTTPException as err:
                return err.code or 400
            person = g.get("person")
            if refused is not None or person is None or last_seen is None:
                return None
            idle_left = IDLE_TIMEOUT.total_seconds() - (clock.now().timestamp() - last_seen)
            with self.gongwen.db.session() as db:
                pools = push.pools_of(db, person.id)
            return push.Visitor(person.id, session.get("generation"), idle_left, pools)

    async def _lifespan(self, receive: push.Receive, send: push.Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.hub.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _plain(send: push.Send, status: int, text: str, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"), *(headers or [])]})
    await send({"type": "http.response.body", "body": text.encode()})


def _log(scope: dict, status: int, size: int, seconds: float) -> None:
    """One line per request, as gunicorn's '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss': no query string."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = (scope.get("client") or ("-",))[0]
    at = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
    path = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0]
    access_log.info('%s %s "%s %s" %s %s %.6fs', client, at, scope["method"], path, status or "-",
                    size or "-", seconds)


class Server(uvicorn.Server):
    """uvicorn's server, ending the open event streams first when it stops.

    A stream never ends by itself; without this, a restart would wait out the graceful timeout
    and then cut them. Ended, each browser reconnects (to the next process) a few seconds later (``push.RETRY_MS``).
    """

    async def shutdown(self, sockets=None) -> None:
        push.shutdown_all()
        await super().shutdown(sockets=sockets)


class Worker(UvicornWorker):
    """gunicorn's worker for ``gongwen serve``: uvicorn without its own access log (it prints query strings)."""

    CONFIG_KWARGS: ClassVar[dict] = {"loop": "auto", "http": "auto", "access_log": False, "lifespan": "on"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        access_log.handlers = self.log.access_log.handlers
        access_log.setLevel(logging.INFO if self.cfg.accesslog else logging.WARNING)
        access_log.propagate = False
        self.config.timeout_graceful_shutdown = self.cfg.graceful_timeout

    async def _serve(self) -> None:  # UvicornWorker's, with the Server above
        self.config.app = self.wsgi
        server = Server(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def serve_dev(app: App, host: str, port: int) -> None:
    """One uvicorn process, no gunicorn: for debugging (``gongwen serve --dev``)."""
    handler = logging.StreamHandler(sys.stdout)
    access_log.handlers, access_log.propagate = [handler], False
    access_log.setLevel(logging.INFO)
    Server(uvicorn.Config(app, host=host, port=port, access_log=False, lifespan="on",
                          timeout_graceful_shutdown=10)).run()


def create() -> App:
    """The app on a Gongwen from the environment, for a server started by hand (no scheduler, as
    ``web.wsgi:app``): ``gunicorn -k web.asgi.Worker 'web.asgi:create()'``."""
    return App(Gongwen())
