"""Benchmark of arrivals pushed to open pages: 2,000 ``/events`` streams, one dispatch to 1,000 units.

Run it from the repository root::

    .venv/bin/python -m bench.push                    # SQLite, 2,000 streams, 30 s idle
    .venv/bin/python -m bench.push --postgresql       # PostgreSQL too
    .venv/bin/python -m bench.push --clients 200 --idle 10

On a temporary database (SQLite in a temporary folder, or a fresh PostgreSQL database) it seeds the
demo organisation, the city office's seal and 1,000 more units with two clerks each, and starts the
real server as ``gongwen serve`` would (gunicorn with two uvicorn workers, web/asgi.py). Each clerk
gets a session cookie signed with the app's secret, as a login would leave (2,000 Argon2 logins
would time the hasher, not the push), and one asyncio client on loopback opens a stream per clerk
and reads each one's first event (its counts).

Then another process drives a notice of the city office to the 1,000 units (bench/dispatch.py's
road: drafting to 用印, whose step dispatches and whose in-process outbox delivery starts the
1,000 receiving instances in batches of 200, each committed; the server's own scheduler may deliver
some batches too, as it would). A third process looks every 20 ms for the units' 签收 tasks: the
moment a unit's task is visible is the commit that made it so, to within those 20 ms. For each
clerk, the time from that moment to the stream's event with one more task is the push latency (the
processes read the same CLOCK_MONOTONIC). Last, with the 2,000 streams open and idle, the server's
processes' CPU time over ``--idle`` seconds, from /proc/<pid>/stat, as a share of one core.

Prints the figures and ends with::

    RESULT push_p95_s=... idle_cpu_pct=...
"""

# ruff: noqa: E402  (the path is fixed before the project's imports, as in bench/dispatch.py)

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select

from bench.common import (
    MONDAY_9AM,
    configure_process,
    exit_on_sigterm,
    gongwen_on,
    percentile,
    postgres_database,
    seed,
    sqlite_database,
)
from engine import clock
from engine.core import Gongwen
from engine.models import Person, Role, Task, TaskState, Unit
from engine.organisation import create_person, grant_role

UNITS_PER_TWO_CLERKS = 2
TARGETS = {"push_p95_s": 2.0, "idle_cpu_pct": 10.0}
OBSERVE_EVERY_S = 0.02  # how often the observer looks for arrivals: the resolution of the latencies
CONNECT_AT_ONCE = 100   # streams being opened at one time, as pages load over a morning, not in one instant


# -- setting up -------------------------------------------------------------------------------------------

def add_clerks(gongwen: Gongwen, org, units: int) -> dict[int, list[int]]:
    """``units`` more departments of the demo city, each with two clerks; unit id -> clerk ids."""
    from bench.dispatch import add_units

    unit_ids = add_units(gongwen, org, units)
    clerks: dict[int, list[int]] = {}
    with gongwen.db.write() as session:
        for number, unit_id in enumerate(unit_ids):
            unit = session.get(Unit, unit_id)
            for which in (1, 2):
                person = create_person(session, f"bench.clerk{number:04d}.{which}", f"收文员{number:04d}{which}",
                                       "gongwen-demo", unit=unit)
                grant_role(session, person, Role.CLERK, unit=unit)
                clerks.setdefault(unit_id, []).append(person.id)
    return clerks


def session_cookies(gongwen: Gongwen, person_ids: list[int]) -> dict[int, str]:
    """A signed Flask session per person, as logging in leaves it (web/auth.py)."""
    from web import create_app

    app = create_app(gongwen)
    serializer = app.session_interface.get_signing_serializer(app)
    with gongwen.db.session() as session:
        generations = dict(session.execute(select(Person.id, Person.session_generation)
                                           .where(Person.id.in_(person_ids))).all())
    now = clock.now().timestamp()
    name = app.config["SESSION_COOKIE_NAME"]
    return {p: f"{name}={serializer.dumps({'person_id': p, 'generation': generations[p], 'last_seen': now})}"
            for p in person_ids}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, files: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    """``gongwen serve`` on ``url``, as an administrator starts it; returns once it answers."""
    env = {**os.environ, "GONGWEN_DATABASE_URL": url, "GONGWEN_FILES_DIR": str(files), "GONGWEN_SECRET_KEY": "bench",
           "GONGWEN_NOW": MONDAY_9AM.isoformat()}
    process = subprocess.Popen([str(Path(sys.executable).parent / "gongwen"), "serve", "--port", str(port),
                                "--workers", str(workers)], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start; see {log}")


def cpu_seconds(root_pid: int) -> float:
    """User and system CPU seconds of ``root_pid`` and its children (gunicorn's master and workers)."""
    pids = [root_pid, *(int(p) for p in Path(f"/proc/{root_pid}/task/{root_pid}/children").read_text().split())]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


# -- the dispatching process ------------------------------------------------------------------------------

def _dispatch(url: str, files: str, units: list[int], ready: Any, go: Any, results: Any) -> None:
    """In a process of its own: prepare the notice, wait for ``go``, seal and dispatch it."""
    from bench.dispatch import complete, ready_to_seal

    configure_process()
    with gongwen_on(url, Path(files), options={"wide_dispatch_share": 1.0}) as gongwen:
        org = _Org(gongwen)
        with gongwen.db.session() as session:
            donghai = session.scalar(select(Unit.id).where(Unit.name == "东海县人民政府办公室"))
        # A first notice to a demo county (no stream listens there): processes parsed, signer warm, as
        # in bench/dispatch.py; what is timed is then the dispatch, not the first use of everything.
        warm = ready_to_seal(gongwen, org, [donghai])
        complete(gongwen, warm.instance_id, "用印", org.person("lyg.sealer").id, {"confirm": True})
        document = ready_to_seal(gongwen, org, units)
        ready.set()
        go.wait()
        began = time.monotonic()
        complete(gongwen, document.instance_id, "用印", org.person("lyg.sealer").id, {"confirm": True})
        results.put({"began": began, "ended": time.monotonic()})


def _observe(url: str, units: list[int], go: Any, results: Any) -> None:
    """In a process of its own: when each unit's 签收 task became visible, to within ``OBSERVE_EVERY_S``.

    Whichever process commits a batch of arrivals (the dispatching one, or a web worker's scheduler
    sweeping the outbox), the task is visible from its commit on; this looks every few milliseconds.
    """
    from engine.db import make_engine

    engine, low, high, seen = make_engine(url), min(units), max(units), {}
    go.wait()
    deadline = time.monotonic() + 180
    with engine.connect() as connection:
        while len(seen) < len(units) and time.monotonic() < deadline:
            at = time.monotonic()
            for unit in connection.scalars(select(Task.candidate_unit_id).where(
                    Task.state == TaskState.READY, Task.name == "签收", Task.candidate_unit_id.between(low, high))):
                seen.setdefault(unit, at)
            connection.rollback()
            time.sleep(OBSERVE_EVERY_S)
    engine.dispose()
    results.put(seen)


class _Org:
    """The demo's people by login, read back from the database (a DemoOrg for bench/dispatch.py's helpers)."""

    def __init__(self, gongwen: Gongwen):
        with gongwen.db.session() as session:
            self.people = {p.login: p for p in session.scalars(select(Person))}

    def person(self, login: str) -> Person:
        return self.people[login]


# -- the client -------------------------------------------------------------------------------------------

class Page:
    """One open page's stream: its counts as they arrive, and when the tasks went up."""

    def __init__(self, person_id: int, unit_id: int, cookie: str):
        self.person_id, self.unit_id, self.cookie = person_id, unit_id, cookie
        self.first: dict | None = None
        self.arrived_at: float | None = None
        self.opened = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.error: str | None = None

    async def run(self, port: int, limit: asyncio.Semaphore) -> None:
        try:
            await self._read(port, limit)
        except (OSError, RuntimeError, asyncio.IncompleteReadError, ValueError) as err:
            self.error = f"{type(err).__name__}: {err}"
            self.opened.set()

    async def _read(self, port: int, limit: asyncio.Semaphore) -> None:
        async with limit:  # held until the first counts: pages load a few at a time
            reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
            self.writer.write(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                              f"Cookie: {self.cookie}\r\n\r\n".encode())
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"person {self.person_id}: {status!r}")
            while (await reader.readline()) not in (b"\r\n", b""):
                pass  # headers
            messages = self._messages(reader)
            while self.first is None:
                self._on(await anext(messages))
        async for message in messages:
            self._on(message)

    @staticmethod
    async def _messages(reader: asyncio.StreamReader):
        """The stream's messages, out of HTTP's chunked transfer coding."""
        buffer = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2]
            *messages, buffer = buffer.split(b"\n\n")
            for message in messages:
                yield message.decode()

    def _on(self, message: str) -> None:
        lines = dict(line.split(": ", 1) for line in message.splitlines() if ": " in line)
        if lines.get("event") != "inbox":
            return
        counts = json.loads(lines["data"])
        if self.first is None:
            self.first = counts
            self.opened.set()
        elif self.arrived_at is None and counts["tasks"] > self.first["tasks"]:
            self.arrived_at = time.monotonic()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _measure(port: int, pages: list[Page], ready: Any, go: Any, results: Any, observed: Any,
                   server: subprocess.Popen, idle_s: float) -> dict:
    limit = asyncio.Semaphore(CONNECT_AT_ONCE)
    began, opening_cpu = time.monotonic(), cpu_seconds(server.pid)
    readers = [asyncio.create_task(page.run(port, limit)) for page in pages]
    await asyncio.wait_for(asyncio.gather(*(page.opened.wait() for page in pages)), 300)
    opened_s = time.monotonic() - began
    failed = [p.error for p in pages if p.error]
    if failed:
        raise RuntimeError(f"{len(failed)} streams failed to open, the first: {failed[0]}")
    opening_cpu = cpu_seconds(server.pid) - opening_cpu
    print(f"  {len(pages)} streams open, each with its first counts, in {opened_s:.1f} s "
          f"(the server's CPU: {opening_cpu / len(pages) * 1000:.1f} ms a stream)")
    await asyncio.to_thread(ready.wait, 600)
    cpu_before = cpu_seconds(server.pid)
    go.set()
    report = await asyncio.to_thread(results.get, True, 900)
    visible_at = await asyncio.to_thread(observed.get, True, 900)
    deadline = time.monotonic() + 60
    while any(p.arrived_at is None for p in pages) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    busy_cpu = cpu_seconds(server.pid) - cpu_before
    latencies = [p.arrived_at - visible_at[p.unit_id] for p in pages
                 if p.arrived_at is not None and p.unit_id in visible_at]
    missing = sum(p.arrived_at is None for p in pages)
    from_start = [p.arrived_at - report["began"] for p in pages if p.arrived_at is not None]
    print(f"  用印 + dispatch to {len(visible_at)} units: {report['ended'] - report['began']:.2f} s; "
          f"the server's CPU meanwhile: {busy_cpu:.1f} s")
    await asyncio.sleep(3)  # the last recounts settle before the idle window
    cpu_before, at_before = cpu_seconds(server.pid), time.monotonic()
    await asyncio.sleep(idle_s)
    idle_cpu = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - at_before) * 100
    for page in pages:
        page.close()
    for reader in readers:
        reader.cancel()
    return {"opened_s": opened_s, "latencies": latencies, "from_start": from_start, "missing": missing,
            "idle_cpu_pct": idle_cpu,
            "dispatch_s": report["ended"] - report["began"]}


# -- measuring --------------------------------------------------------------------------------------------

def _database(backend: str, workdir: Path) -> AbstractContextManager[str]:
    if backend == "sqlite":
        return sqlite_database(workdir)
    if backend == "postgresql":
        return postgres_database()
    raise ValueError(f"backend must be sqlite or postgresql, not {backend!r}")


def measure_push(backend: str = "sqlite", clients: int = 2000, *, workers: int = 2, idle_s: float = 30.0,
                 workdir: Path | None = None) -> dict:
    """Push latency from a dispatch's commits to ``clients`` open streams, and the server's idle CPU.

    ``backend``: "sqlite" (a file in a temporary folder) or "postgresql" (a fresh database on
    GONGWEN_BENCH_PG). Returns ``push_p50_s``, ``push_p95_s``, ``push_max_s``, ``idle_cpu_pct`` and more.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="gongwen_push_") as own:
            return measure_push(backend, clients, workers=workers, idle_s=idle_s, workdir=Path(own))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a descriptor per stream, here and in the server
    if hard < clients + 500:
        raise RuntimeError(f"ulimit -n is {hard}: {clients} streams need more")
    configure_process()
    files = workdir / f"{backend}-files"
    print(f"\n{backend}: {clients} open pages, {clients // UNITS_PER_TWO_CLERKS} units")
    with _database(backend, workdir) as url:
        began = time.perf_counter()
        with gongwen_on(url, files) as gongwen:
            from bench.dispatch import issue_city_seal

            org = seed(gongwen)
            issue_city_seal(gongwen, org)
            clerks = add_clerks(gongwen, org, clients // UNITS_PER_TWO_CLERKS)
            cookies = session_cookies(gongwen, [p for people in clerks.values() for p in people])
        print(f"  setup: demo organisation, seal, {len(clerks)} units and {len(cookies)} clerks in "
              f"{time.perf_counter() - began:.1f} s (not timed)")
        port = _free_port()
        server = start_server(url, files, port, workers, workdir / f"{backend}-serve.log")
        context = multiprocessing.get_context("spawn")
        ready, go, results, observed = context.Event(), context.Event(), context.Queue(), context.Queue()
        dispatch = context.Process(target=_dispatch, args=(url, str(files), list(clerks), ready, go, results))
        observer = context.Process(target=_observe, args=(url, list(clerks), go, observed))
        dispatch.start()
        observer.start()
        pages = [Page(p, unit, cookies[p]) for unit, people in clerks.items() for p in people]
        try:
            figures = asyncio.run(_measure(port, pages, ready, go, results, observed, server, idle_s))
        finally:
            for child in (dispatch, observer):
                child.join(60)
                if child.is_alive():
                    child.kill()
            stopping = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            figures_stop = time.monotonic() - stopping
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    latencies = figures["latencies"]
    if not latencies:
        raise RuntimeError("no stream heard of the dispatch")
    result = {
        "backend": backend, "clients": clients, "received": len(latencies), "missing": figures["missing"],
        "push_p50_s": percentile(latencies, 50), "push_p95_s": percentile(latencies, 95),
        "push_max_s": max(latencies), "from_start_p95_s": percentile(figures["from_start"], 95),
        "from_start_max_s": max(figures["from_start"]), "idle_cpu_pct": figures["idle_cpu_pct"], "idle_s": idle_s,
        "open_s": figures["opened_s"], "dispatch_s": figures["dispatch_s"], "stop_s": figures_stop,
    }
    print(f"  push latency, commit to event: p50 {result['push_p50_s']:.3f} s, p95 {result['push_p95_s']:.3f} s, "
          f"max {result['push_max_s']:.3f} s ({result['received']} of {clients} heard, {result['missing']} not)")
    print(f"  from the start of 用印 to the event: p95 {result['from_start_p95_s']:.3f} s, "
          f"max {result['from_start_max_s']:.3f} s")
    print(f"  idle: {result['idle_cpu_pct']:.1f} % of one core over {idle_s:.0f} s with {clients} streams open")
    print(f"  server stopped {result['stop_s']:.1f} s after SIGTERM")
    for name, target in TARGETS.items():
        print(f"  {name}: {result[name]:.3f}, target ≤ {target}: {'met' if result[name] <= target else 'MISSED'}")
    return result


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--clients", type=int, default=2000, help="open pages (two clerks per unit)")
    arguments.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    arguments.add_argument("--workers", type=int, default=2, help="web processes, as gongwen serve --workers")
    arguments.add_argument("--postgresql", action="store_true", help="PostgreSQL after SQLite")
    options = arguments.parse_args()
    exit_on_sigterm()
    print("Gongwen push benchmark")
    results = [measure_push(backend, options.clients, workers=options.workers, idle_s=options.idle)
               for backend in ("sqlite", "postgresql")[:2 if options.postgresql else 1]]
    worst = {"push_p95_s": max(r["push_p95_s"] for r in results),
             "idle_cpu_pct": max(r["idle_cpu_pct"] for r in results)}
    print(f"RESULT push_p95_s={worst['push_p95_s']:.3f} idle_cpu_pct={worst['idle_cpu_pct']:.1f}")


if __name__ == "__main__":
    main()
