"""Benchmark of the web layer: the inbox page in-process, and the inbox and task completion under gunicorn.

Run it from the repository root::

    .venv/bin/python bench/web.py            # full run, about three minutes
    .venv/bin/python bench/web.py --quick    # a smaller run, for trying changes

On a temporary PostgreSQL database ``gongwen_bench_*`` (on ``GONGWEN_BENCH_PG``, default
``postgresql+psycopg://postgres@127.0.0.1:5432``) holding the demo organisation and 100,000
open tasks (the bulk load of bench/engine.py: ~300 units, the nine business roles, two
thousand people), it measures:

1. the inbox page's server time: ``GET /`` through the Flask test client in this process
   (no network) for lyg.clerk, logged in through the login page with its CSRF token, whose
   inbox holds a few dozen tasks; p50 and p95 over 300 requests after a warm-up, then the
   SQL statements of one request and the time spent in them (``--profile`` adds cProfile's
   top functions). The same on SQLite unless ``--skip-sqlite``;
2. gunicorn with two workers on a free loopback port, started as a subprocess configured
   by ``GONGWEN_*`` variables (``GONGWEN_NOW`` fixes its clock at the benchmark's Monday
   9:00), driven by 50 client threads, each with its own keep-alive ``http.client``
   connection:

   - the inbox: 50 sessions of ten demo people, logged in through the page, ``GET /`` for
     15 s; requests per second, client-side latency p50/p95, non-200 answers;
   - task completion: thousands of leave applications of four county and bureau drafters
     are taken to 部门负责人审批 beforehand (through the engine, not timed); each client,
     with a bearer token of the right department head from ``POST /api/v1/auth/token``,
     completes distinct tasks with ``POST /api/v1/tasks/<id>/complete``
     ``{"decision": "approve"}`` for 15 s (or until the tasks run out); a 204 is a success,
     anything else an error, and the database must show exactly that many tasks completed.

Workers are what ``gongwen serve`` runs by default: uvicorn workers (``web.asgi.Worker``) with Flask
behind a2wsgi's thread pool, keeping the clients' connections alive as a browser or an API client
would. ``--worker-class gthread`` (four threads each) and ``sync`` measure the WSGI workers used
before, for comparison.
The gunicorn subprocess and the temporary databases and files are removed whatever
happens, Ctrl-C and SIGTERM included. The last line sums up for machines::

    RESULT inbox_p50_ms=... inbox_p95_ms=... inbox_rps=... complete_rps=... errors=...

(the inbox times are PostgreSQL's, in-process; ``errors`` counts every failed HTTP request).
"""

# This file is called web.py: run as a script, its own folder would shadow the ``web``
# package, so the path is fixed before the project's imports (hence the E402 exemption).
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from bench.common import (
    MONDAY_9AM,
    configure_process,
    exit_on_sigterm,
    make_gongwen,
    ms,
    percentile,
    postgres_database,
    seed,
    sqlite_database,
)
from bench.engine import complete_all, load_open_tasks, start_leaves
from engine import inbox
from engine.core import Gongwen
from engine.models import Person, Task, TaskState
from web import create_app, demo
from web.demo import DEMO_PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
INBOX_LOGIN = "lyg.clerk"  # the person timed in-process
# The people behind the 50 inbox sessions: none of them sees the leave applications prepared below.
INBOX_LOGINS = ("lyg.clerk", "lyg.head", "lyg.drafter", "lyg.reviewer", "lyg.signer", "lyg.sealer",
                "lyg.archivist", "jy.clerk", "cz.clerk", "dh.clerk")
# bench.engine.start_leaves's applicants (in its order) and the department head each one's leave goes to.
HEADS = {"cz.drafter": "cz.head", "dh.drafter": "dh.head", "gy.drafter": "gy.head", "gn.drafter": "gn.head"}
APPROVE = json.dumps({"decision": "approve"})
WARM_UP_REQUESTS = 20  # in-process, before timing
PROFILED_REQUESTS = 50
WORKERS = 2


@dataclass(frozen=True)
class Sizes:
    inbox_rows: int  # open tasks bulk-loaded
    inbox_requests: int  # timed in-process requests
    completion_tasks: int  # department reviews prepared for the completion phase
    clients: int
    phase_s: float  # each timed phase under gunicorn
    warm_up_s: float


FULL = Sizes(inbox_rows=100_000, inbox_requests=300, completion_tasks=5000, clients=50, phase_s=15, warm_up_s=2)
QUICK = Sizes(inbox_rows=20_000, inbox_requests=100, completion_tasks=800, clients=50, phase_s=5, warm_up_s=1)


@dataclass
class InboxFigures:
    p50_ms: float = 0.0
    p95_ms: float = 0.0


@dataclass
class Load:
    """What the clients of one phase did."""

    durations: list[float] = field(default_factory=list)  # of successful requests
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # requests that got no answer
    elapsed: float = 0.0
    ok_status: int = 200
    client_cpu: float = 0.0  # seconds of this process's CPU while the clients ran
    server_cpu: float | None = None  # seconds of the gunicorn workers' CPU, where /proc tells

    @property
    def successes(self) -> int:
        return self.statuses[self.ok_status]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.successes + sum(self.failures.values())

    @property
    def per_s(self) -> float:
        return self.successes / self.elapsed if self.elapsed else 0.0

    def merge(self, other: Load) -> None:
        self.durations += other.durations
        self.statuses.update(other.statuses)
        self.failures.update(other.failures)

    def summary(self) -> str:
        if not self.durations:
            return f"no successful request; answers {dict(self.statuses)}, failures {dict(self.failures)}"
        text = (f"{self.successes} in {self.elapsed:.1f} s = {self.per_s:.0f}/s; latency p50 "
                f"{ms(percentile(self.durations, 50)):.1f} ms, p95 {ms(percentile(self.durations, 95)):.1f} ms; "
                f"{self.errors} errors")
        text += f"; CPU per request: {ms(self.client_cpu) / self.successes:.1f} ms in the clients"
        if self.server_cpu is not None:
            text += f", {ms(self.server_cpu) / self.successes:.1f} ms in the workers"
        others = {status: n for status, n in self.statuses.items() if status != self.ok_status}
        if others or self.failures:
            text += f" (answers {others}, no answer {dict(self.failures)})"
        return text


# -- 1. the inbox page in-process -------------------------------------------------------------------------

def log_in(client: FlaskClient, login: str) -> None:
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"logging in as {login}: HTTP {response.status_code}")


def get_inbox(client: FlaskClient) -> str:
    response = client.get("/")
    if response.status_code != 200:
        raise RuntimeError(f"GET / answered {response.status_code}")
    return response.get_data(as_text=True)


def time_inbox(client: FlaskClient, requests: int) -> list[float]:
    durations = []
    for _ in range(requests):
        began = time.perf_counter()
        get_inbox(client)
        durations.append(time.perf_counter() - began)
    return durations


class SqlProfile:
    """Each SQL statement sent on a Gongwen's engine while active, with the time until its cursor returned."""

    def __init__(self, gongwen: Gongwen):
        self.engine = gongwen.db.engine
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: Counter[str] = Counter()

    def _before(self, conn: Any, _cursor: Any, *_args: Any) -> None:
        conn.info.setdefault("bench_began", []).append(time.perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = " ".join(statement.split())
        self.seconds[key] += time.perf_counter() - conn.info["bench_began"].pop()
        self.counts[key] += 1

    def __enter__(self) -> SqlProfile:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def profile_inbox(gongwen: Gongwen, client: FlaskClient, cprofile: bool) -> None:
    """Where one inbox request's time goes: its SQL statements, and optionally cProfile's top functions."""
    profiler = cProfile.Profile() if cprofile else None
    with SqlProfile(gongwen) as sql:
        if profiler:
            profiler.enable()
        durations = time_inbox(client, PROFILED_REQUESTS)
        if profiler:
            profiler.disable()
    n = PROFILED_REQUESTS
    total, in_sql = ms(sum(durations)) / n, ms(sum(sql.seconds.values())) / n
    print(f"              one request: {sum(sql.counts.values()) / n:.0f} SQL statements, {in_sql:.2f} ms waiting "
          f"for them of {total:.2f} ms (profiled, so slower); by statement (ms per request):")
    for statement, seconds in sorted(sql.seconds.items(), key=lambda item: -item[1]):
        print(f"                {ms(seconds) / n:6.2f} ms  {sql.counts[statement] / n:.0f}x  {statement[:150]}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print("\n".join("              " + line for line in out.getvalue().splitlines()[4:] if line.strip()))


def bench_inbox_in_process(name: str, gongwen: Gongwen, org: demo.DemoOrg, sizes: Sizes,
                           cprofile: bool) -> InboxFigures:
    app: Flask = create_app(gongwen)
    client = app.test_client()
    log_in(client, INBOX_LOGIN)
    with gongwen.db.session() as session:
        count = inbox.task_count(session, org.person(INBOX_LOGIN).id)
        open_tasks = session.scalar(select(func.count()).select_from(Task).where(Task.state == TaskState.READY))
    page = get_inbox(client)
    if f'<span id="todo-count">{count}</span>' not in page:
        raise RuntimeError(f"the inbox page of {INBOX_LOGIN} does not show its {count} tasks")
    time_inbox(client, WARM_UP_REQUESTS)
    durations = time_inbox(client, sizes.inbox_requests)
    figures = InboxFigures(ms(percentile(durations, 50)), ms(percentile(durations, 95)))
    print(f"  inbox page: GET / as {INBOX_LOGIN} ({count} tasks in the inbox, 20 on the page, {open_tasks} open "
          f"tasks in the table), Flask test client: p50 {figures.p50_ms:.2f} ms, p95 {figures.p95_ms:.2f} ms "
          f"over {len(durations)} requests [{name}]")
    profile_inbox(gongwen, client, cprofile)
    return figures


def load_tasks(gongwen: Gongwen, rows: int) -> None:
    began = time.perf_counter()
    load_open_tasks(gongwen, rows)
    print(f"  setup:      {rows} open tasks bulk-loaded in {time.perf_counter() - began:.1f} s")


def bench_sqlite(workdir: Path, sizes: Sizes, cprofile: bool) -> InboxFigures:
    print("\nSQLite")
    with sqlite_database(workdir) as url:
        gongwen = make_gongwen(url, workdir / "sqlite-files")
        try:
            org = seed(gongwen)
            load_tasks(gongwen, sizes.inbox_rows)
            return bench_inbox_in_process("SQLite", gongwen, org, sizes, cprofile)
        finally:
            gongwen.close()


# -- tasks to complete ------------------------------------------------------------------------------------

def prepare_reviews(gongwen: Gongwen, org: demo.DemoOrg, count: int) -> dict[str, list[str]]:
    """``count`` leave applications at 部门负责人审批; returns each head's task ids."""
    began = time.perf_counter()
    complete_all(gongwen, start_leaves(gongwen, org, count))
    head_of = {org.person(applicant).department_id: head for applicant, head in HEADS.items()}
    with gongwen.db.session() as session:
        rows = session.execute(select(Task.id, Task.candidate_department_id).where(
            Task.spec_name == "dept_review", Task.state == TaskState.READY)).all()
    tasks: dict[str, list[str]] = defaultdict(list)
    for task_id, department_id in rows:
        tasks[head_of[department_id]].append(str(task_id))
    if sum(map(len, tasks.values())) != count:
        raise RuntimeError(f"expected {count} department reviews, found {len(rows)}")
    print(f"  setup:      {count} leave applications taken to 部门负责人审批 in "
          f"{time.perf_counter() - began:.1f} s (not timed)")
    return tasks


def completed_reviews(gongwen: Gongwen) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(Task).where(
            Task.spec_name == "dept_review", Task.state == TaskState.COMPLETED))


# -- gunicorn ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # of gunicorn's master

    def workers_cpu(self) -> float | None:
        """User and system CPU seconds the master's children (the workers) used so far; None without Linux's /proc."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            ticks = 0
            for child in children:
                stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(stat[11]) + int(stat[12])  # utime and stime, fields 14 and 15 of proc(5)
            return ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(port: int, worker_class: str, threads: int, log: Path) -> list[str]:
    # "asgi" is what `gongwen serve` runs: uvicorn workers, Flask through a2wsgi (web/asgi.py).
    app = ["--worker-class", "web.asgi.Worker", "web.asgi:create()"] if worker_class == "asgi" else \
        ["--worker-class", worker_class, "--threads", str(threads), "web.wsgi:app"]
    return [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
            "--backlog", "512", "--keep-alive", "30", "--timeout", "60", "--error-logfile", str(log),
            "--log-level", "warning", *app]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop) to the master we started, SIGKILL to its process group if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_answering(process: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(url: str, workdir: Path, worker_class: str, threads: int) -> Iterator[Server]:
    """A running gunicorn on the database ``url``, stopped afterwards whatever happens."""
    port, log = free_port(), workdir / "gunicorn.log"
    env = {**os.environ, "GONGWEN_DATABASE_URL": url, "GONGWEN_FILES_DIR": str(workdir / "gunicorn-files"),
           "GONGWEN_SECRET_KEY": "bench-web", "GONGWEN_NOW": MONDAY_9AM.isoformat(), "GONGWEN_ENV": "bench"}
    began = time.perf_counter()
    # Its own session: a Ctrl-C in the terminal reaches this script only, which then stops gunicorn in order.
    process = subprocess.Popen(gunicorn_command(port, worker_class, threads, log), cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_until_answering(process, port, log)
        kind = {"gthread": f"gthread workers x {threads} threads", "asgi": "uvicorn (ASGI) workers"}.get(
            worker_class, f"{worker_class} workers")
        print(f"  gunicorn:   {WORKERS} {kind} on 127.0.0.1:{port}, answering after "
              f"{time.perf_counter() - began:.1f} s")
        yield Server(port, process.pid)
    finally:
        stop(process)
        problems = [line for line in log.read_text().splitlines() if "ERROR" in line or "Traceback" in line] \
            if log.exists() else []
        if problems:
            print(f"  gunicorn's log has {len(problems)} error lines, the first: {problems[0]}")


# -- HTTP clients -----------------------------------------------------------------------------------------

class HttpClient:
    """One keep-alive connection with its own session cookie, bearer token and tasks to complete."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie: str | None = None
        self.headers: dict[str, str] = {}
        self.tasks: queue.SimpleQueue[str] | None = None

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        sent = {**self.headers, **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request opens a new connection
            raise
        for cookie in response.headers.get_all("Set-Cookie") or []:
            if cookie.startswith("session="):
                self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def close(self) -> None:
        self.conn.close()


def page_login(port: int, login: str) -> HttpClient:
    client = HttpClient(port)
    _, page = client.request("GET", "/login")
    token = CSRF_FIELD.search(page.decode()).group(1)
    form = urlencode({"login": login, "password": DEMO_PASSWORD, "csrf_token": token})
    status, _ = client.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 302:
        raise RuntimeError(f"logging in as {login} through the page: HTTP {status}")
    return client


def api_login(port: int, login: str) -> HttpClient:
    client = HttpClient(port)
    credentials = json.dumps({"login": login, "password": DEMO_PASSWORD})
    status, body = client.request("POST", "/api/v1/auth/token", credentials, {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"a token for {login}: HTTP {status} {body[:200]!r}")
    client.headers["Authorization"] = f"Bearer {json.loads(body)['token']}"
    return client


def inbox_step(client: HttpClient) -> int:
    return client.request("GET", "/")[0]


def complete_step(client: HttpClient) -> int | None:
    """Complete the client's next task; None when there is none left."""
    try:
        task_id = client.tasks.get_nowait()
    except queue.Empty:
        return None
    return client.request("POST", f"/api/v1/tasks/{task_id}/complete", APPROVE,
                          {"Content-Type": "application/json"})[0]


def run_client(client: HttpClient, step: Callable[[HttpClient], int | None], start: threading.Barrier,
               deadline: list[float], load: Load, ended: list[float]) -> None:
    start.wait()
    while time.perf_counter() < deadline[0]:
        began = time.perf_counter()
        try:
            status = step(client)
        except (OSError, http.client.HTTPException) as err:
            load.failures[type(err).__name__] += 1
            continue
        if status is None:
            break
        load.statuses[status] += 1
        if status == load.ok_status:
            load.durations.append(time.perf_counter() - began)
    ended.append(time.perf_counter())


def drive(server: Server, clients: list[HttpClient], step: Callable[[HttpClient], int | None], seconds: float,
          ok_status: int) -> Load:
    """All clients call ``step`` in a loop, together, for ``seconds`` (or until ``step`` has nothing left)."""
    start, deadline, ended = threading.Barrier(len(clients) + 1), [0.0], []
    loads = [Load(ok_status=ok_status) for _ in clients]
    threads = [threading.Thread(target=run_client, args=(client, step, start, deadline, load, ended), daemon=True)
               for client, load in zip(clients, loads, strict=True)]
    for thread in threads:
        thread.start()
    server_cpu, client_cpu = server.workers_cpu(), time.process_time()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    total = Load(ok_status=ok_status, elapsed=max(ended) - began, client_cpu=time.process_time() - client_cpu)
    if server_cpu is not None and (after := server.workers_cpu()) is not None:
        total.server_cpu = after - server_cpu
    for load in loads:
        total.merge(load)
    return total


def bench_inbox_http(server: Server, gongwen: Gongwen, sizes: Sizes) -> tuple[Load, int]:
    """The inbox phase; returns it and the errors of its warm-up."""
    clients = [page_login(server.port, INBOX_LOGINS[i % len(INBOX_LOGINS)]) for i in range(sizes.clients)]
    with gongwen.db.session() as session:
        ids = session.scalars(select(Person.id).where(Person.login.in_(INBOX_LOGINS))).all()
        counts = [inbox.task_count(session, person_id) for person_id in ids]
    try:
        warm_up = drive(server, clients, inbox_step, sizes.warm_up_s, 200)
        load = drive(server, clients, inbox_step, sizes.phase_s, 200)
    finally:
        for client in clients:
            client.close()
    print(f"  inbox:      {sizes.clients} clients as {len(INBOX_LOGINS)} people ({min(counts)}–{max(counts)} "
          f"tasks in their inboxes), GET / for {sizes.phase_s:.0f} s: {load.summary()}")
    return load, warm_up.errors


def bench_completion_http(server: Server, gongwen: Gongwen, tasks: dict[str, list[str]],
                          sizes: Sizes) -> tuple[Load, int]:
    """The completion phase; returns it and the errors of its warm-up."""
    queues: dict[str, queue.SimpleQueue[str]] = {head: queue.SimpleQueue() for head in tasks}
    for head, ids in tasks.items():
        for task_id in ids:
            queues[head].put(task_id)
    heads = sorted(tasks)
    clients = [api_login(server.port, heads[i % len(heads)]) for i in range(sizes.clients)]
    for i, client in enumerate(clients):
        client.tasks = queues[heads[i % len(heads)]]
    before = completed_reviews(gongwen)
    try:
        warm_up = drive(server, clients, complete_step, sizes.warm_up_s / 2, 204)
        load = drive(server, clients, complete_step, sizes.phase_s, 204)
    finally:
        for client in clients:
            client.close()
    done = completed_reviews(gongwen) - before
    left = sum(q.qsize() for q in queues.values())
    print(f"  complete:   {sizes.clients} clients as {len(heads)} department heads, POST /api/v1/tasks/<id>/complete "
          f"for {sizes.phase_s:.0f} s: {load.summary()}" + ("" if left else "; ran out of tasks"))
    answered = warm_up.successes + load.successes
    if done != answered:  # an error of its own: a 204 must mean completed, and anything else must not
        print(f"  MISMATCH:   {answered} completions answered 204 but {done} department reviews were completed")
    return load, warm_up.errors + (done != answered)


# -- PostgreSQL -------------------------------------------------------------------------------------------

@dataclass
class PgResult:
    inbox: InboxFigures
    inbox_http: Load
    complete_http: Load
    errors: int


def bench_postgresql(workdir: Path, sizes: Sizes, worker_class: str, threads: int, cprofile: bool) -> PgResult:
    print("\nPostgreSQL")
    with postgres_database() as url:
        gongwen = make_gongwen(url, workdir / "pg-files")
        try:
            org = seed(gongwen)
            tasks = prepare_reviews(gongwen, org, sizes.completion_tasks)
            load_tasks(gongwen, sizes.inbox_rows)
            figures = bench_inbox_in_process("PostgreSQL", gongwen, org, sizes, cprofile)
            with gunicorn(url, workdir, worker_class, threads) as server:
                inbox_load, inbox_warm_errors = bench_inbox_http(server, gongwen, sizes)
                complete_load, complete_warm_errors = bench_completion_http(server, gongwen, tasks, sizes)
        finally:
            gongwen.close()
    errors = inbox_load.errors + complete_load.errors + inbox_warm_errors + complete_warm_errors
    return PgResult(figures, inbox_load, complete_load, errors)


# -- main -------------------------------------------------------------------------------------------------

def parse_arguments() -> argparse.Namespace:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="fewer rows, requests and tasks; 5 s phases")
    arguments.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    arguments.add_argument("--worker-class", choices=("asgi", "gthread", "sync"), default="asgi",
                           help="asgi: as gongwen serve runs (default); gthread or sync: WSGI workers, to compare")
    arguments.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    arguments.add_argument("--profile", action="store_true", help="cProfile's top functions of the inbox request")
    return arguments.parse_args()


def main() -> None:
    options = parse_arguments()
    sizes = QUICK if options.quick else FULL
    exit_on_sigterm()  # so that the cleanup below still runs
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C too, even if started in the background
    configure_process()
    began = time.perf_counter()
    print(f"Gongwen web benchmark ({'quick' if options.quick else 'full'} run, {os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir:
        if not options.skip_sqlite:
            bench_sqlite(Path(workdir), sizes, options.profile)
        pg = bench_postgresql(Path(workdir), sizes, options.worker_class, options.threads, options.profile)
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    print(f"RESULT inbox_p50_ms={pg.inbox.p50_ms:.2f} inbox_p95_ms={pg.inbox.p95_ms:.2f} "
          f"inbox_rps={pg.inbox_http.per_s:.0f} complete_rps={pg.complete_http.per_s:.0f} errors={pg.errors}")


if __name__ == "__main__":
    main()
