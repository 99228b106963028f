"""Helpers shared by the benchmark scripts in bench/: temporary databases, a seeded Gongwen, timing.

The scripts run as ``.venv/bin/python bench/<name>.py``; each fixes ``sys.path`` first (the
repository root in, the bench/ folder out) and then imports these as ``from bench.common import ...``
(bench/ is a namespace package: it has no ``__init__.py``).
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from argon2 import PasswordHasher
from sqlalchemy import event, select

import forms  # noqa: F401  (registers the forms)
import handlers  # noqa: F401  (registers the handlers)
from engine import clock, organisation
from engine.config import Settings
from engine.core import Gongwen
from engine.deploy import collect, deploy
from engine.models import Task, TaskState
from engine.schema import upgrade
from web import demo

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("GONGWEN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
MONDAY_9AM = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


# -- process set-up ---------------------------------------------------------------------------------------

def configure_process() -> None:
    """What every process of a benchmark needs: a fixed clock and a cheap password hash."""
    clock.set_clock(clock.FixedClock(MONDAY_9AM))
    organisation.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks still drop temporary databases."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))


# -- numbers ----------------------------------------------------------------------------------------------

def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> float:
    return seconds * 1000


def timed(fn: Callable[[], Any], iterations: int) -> list[float]:
    """The seconds each of ``iterations`` calls of ``fn`` took."""
    durations = []
    for _ in range(iterations):
        began = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - began)
    return durations


class StatementCounter:
    """Counts SQL statements sent on a Gongwen's engine while active."""

    def __init__(self, gongwen: Gongwen):
        self.engine = gongwen.db.engine
        self.count = 0

    def _on_execute(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


# -- temporary databases ----------------------------------------------------------------------------------

def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def sqlite_database(workdir: Path | None = None) -> Iterator[str]:
    """A migrated SQLite file (``bench.db`` under ``workdir``, or in a temporary folder), removed afterwards."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as own, sqlite_database(Path(own)) as url:
            yield url
        return
    path = workdir / "bench.db"
    try:
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
    finally:
        _remove_sqlite(path)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A migrated, freshly created PostgreSQL database ``gongwen_bench_*``, dropped afterwards whatever happens."""
    name = f"gongwen_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = PG_SERVER.replace("+psycopg", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_SERVER}/{name}"
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- Gongwen ----------------------------------------------------------------------------------------------

def make_gongwen(url: str, files_dir: Path, **settings: Any) -> Gongwen:
    """A Gongwen on ``url`` storing files in ``files_dir``; ``settings`` override other Settings fields."""
    return Gongwen(Settings(env="bench", files_dir=files_dir, database_url=url, secret_key="bench", **settings))


@contextmanager
def gongwen_on(url: str, files_dir: Path, **settings: Any) -> Iterator[Gongwen]:
    """:func:`make_gongwen`, closed (its connection pool disposed) afterwards."""
    gongwen = make_gongwen(url, files_dir, **settings)
    try:
        yield gongwen
    finally:
        gongwen.close()


def seed(gongwen: Gongwen, *, certificates: bool = True) -> demo.DemoOrg:
    """The demo organisation and the deployed workflows/ folder (passwords hashed cheaply, see configure_process).

    ``certificates``: its leaders get their personal certificates now, as 签发 and 批示 need; not for the
    demo's stories (``seed_documents``), which issue them, with the CA, on the days they tell.
    """
    with gongwen.db.write() as session:
        org = demo.seed(session)
        if certificates:
            demo.issue_personal_certificates(session, gongwen.settings, org)
    with gongwen.db.write() as session:
        deploy(session, collect([ROOT / "workflows"]))
    return org


def ready_task(gongwen: Gongwen, instance_id: int, name: str) -> str:
    """The one ready task called ``name`` (拟稿, 签发 ...) of the instance."""
    with gongwen.db.session() as session:
        task_ids = session.scalars(select(Task.id).where(
            Task.instance_id == instance_id, Task.name == name, Task.state == TaskState.READY)).all()
    if len(task_ids) != 1:
        raise RuntimeError(f"instance {instance_id}: expected one ready {name}, found {len(task_ids)}")
    return str(task_ids[0])
