"""Benchmark of the Gongwen engine on the real leave process (workflows/leave.bpmn).

Run it from the repository root::

    .venv/bin/python bench/engine.py            # full run, about a minute and a half
    .venv/bin/python bench/engine.py --quick    # a smaller run, for trying changes

For SQLite (a temporary file) and PostgreSQL (a temporary database ``gongwen_bench_*``
on ``GONGWEN_BENCH_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``) it
measures:

1. task completions per second, one process: many leave instances are started first
   (not timed), then the first task of each, "填写请假单", is completed with
   ``gongwen.runtime.complete``. One completion loads and locks the instance, runs the
   engine (a service task and a boundary timer), saves the state, updates the inbox,
   timer and audit tables, and commits;
2. the same with two worker processes, each completing half of the tasks;
3. the inbox query ``engine.inbox.ready_tasks`` (p50, p95) over 100,000 open tasks
   spread across ~300 units, the nine business roles and two thousand people, for the
   demo's lyg.clerk and lyg.head, one session per query as in the web app.

It also times SpiffWorkflow on its own doing the same step in memory (deserialize,
complete the task, run the engine, serialize) and prints how many times slower a
Gongwen completion is. Temporary databases and files are removed even on error.
The last line sums up the figures for machines to read::

    RESULT pg_completions_per_s_2w=... pg_completions_per_s=... sqlite_completions_per_s=...
           pg_raw_ratio=... sqlite_raw_ratio=... raw_ms=... inbox_p95_ms=...
"""

# This file is called engine.py: run as a script, its own folder would shadow the ``engine``
# package, so the path is fixed before the project's imports (hence the E402 exemption).
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from bench.common import (
    StatementCounter,
    configure_process,
    exit_on_sigterm,
    make_gongwen,
    ms,
    percentile,
    postgres_database,
    seed,
    sqlite_database,
)
from bench.raw import APPLY_FORM, bench_raw
from engine import clock
from engine.core import Gongwen
from engine.inbox import ready_tasks
from engine.models import (
    Department,
    InstanceStatus,
    Person,
    PersonStatus,
    ProcessDefinition,
    ProcessInstance,
    Role,
    Task,
    TaskState,
    Timer,
    Unit,
    UnitKind,
    UnitStatus,
)
from web import demo

# Applicants from outside the city office, so the inbox people measured below keep small pools.
APPLICANTS = ("cz.drafter", "dh.drafter", "gy.drafter", "gn.drafter")
INBOX_PEOPLE = ("lyg.clerk", "lyg.head")
WARM_UP = 20  # completions per process before timing starts (spec cache, statement cache, pool)


@dataclass(frozen=True)
class Sizes:
    completions: int  # timed single-process completions
    completions_2w: int  # timed completions shared by the two workers
    raw_iterations: int
    inbox_rows: int
    inbox_queries: int  # per person


FULL = Sizes(completions=2000, completions_2w=2000, raw_iterations=1000, inbox_rows=100_000, inbox_queries=300)
QUICK = Sizes(completions=300, completions_2w=300, raw_iterations=200, inbox_rows=20_000, inbox_queries=100)


@dataclass
class BackendResult:
    name: str
    completions_per_s: float = 0.0
    median_ms: float = 0.0
    completions_per_s_2w: float = 0.0
    inbox_p50_ms: float = 0.0
    inbox_p95_ms: float = 0.0


# -- setting up instances ---------------------------------------------------------------------------------

def start_leaves(gongwen: Gongwen, org: demo.DemoOrg, count: int, batch: int = 100) -> list[tuple[str, int]]:
    """Start ``count`` leave instances; returns (task id, applicant id) of each first task."""
    applicants = [org.person(login) for login in APPLICANTS]
    instance_ids = []
    for first in range(0, count, batch):
        with gongwen.db.write() as session:
            for i in range(first, min(count, first + batch)):
                person = applicants[i % len(applicants)]
                instance_ids.append(gongwen.runtime.start(
                    "leave", owning_unit_id=person.unit_id, initiator_id=person.id,
                    data={"department_id": person.department_id}, title=f"请假 {i}", session=session))
    with gongwen.db.session() as session:
        rows = session.execute(
            select(Task.instance_id, Task.id, Task.candidate_person_id)
            .where(Task.spec_name == "apply", Task.state == TaskState.READY)
        ).all()
    by_instance = {instance_id: (str(task_id), person_id) for instance_id, task_id, person_id in rows}
    return [by_instance[i] for i in instance_ids]


def complete_all(gongwen: Gongwen, tasks: list[tuple[str, int]]) -> list[float]:
    """Complete each task with the leave form; returns the seconds each completion took."""
    durations = []
    for task_id, person_id in tasks:
        began = time.perf_counter()
        gongwen.runtime.complete(task_id, person_id, APPLY_FORM)
        durations.append(time.perf_counter() - began)
    return durations


def check_completed(gongwen: Gongwen, expected: int) -> None:
    """Each completion must have reached the department head's review with its reminder timer."""
    with gongwen.db.session() as session:
        reviews = session.scalar(select(func.count()).select_from(Task).where(
            Task.spec_name == "dept_review", Task.state == TaskState.READY))
        timers = session.scalar(select(func.count()).select_from(Timer))
    if reviews != expected or timers != expected:
        raise RuntimeError(f"expected {expected} department reviews and reminder timers after the completions, "
                           f"found {reviews} and {timers}")


# -- 1. one process ---------------------------------------------------------------------------------------

def bench_single(gongwen: Gongwen, org: demo.DemoOrg, sizes: Sizes, result: BackendResult) -> None:
    began = time.perf_counter()
    tasks = start_leaves(gongwen, org, WARM_UP + sizes.completions)
    print(f"  setup:      started {len(tasks)} leave instances in {time.perf_counter() - began:.1f} s (not timed)")
    complete_all(gongwen, tasks[:WARM_UP])
    with StatementCounter(gongwen) as statements:
        began, cpu_began = time.perf_counter(), time.process_time()
        durations = complete_all(gongwen, tasks[WARM_UP:])
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    check_completed(gongwen, len(tasks))
    result.completions_per_s = len(durations) / elapsed
    result.median_ms = ms(statistics.median(durations))
    print(f"  1 process:  {len(durations)} completions in {elapsed:.2f} s = {result.completions_per_s:.0f}/s; "
          f"median {result.median_ms:.2f} ms, p95 {ms(percentile(durations, 95)):.2f} ms; "
          f"{statements.count / len(durations):.1f} SQL statements and {ms(cpu / len(durations)):.2f} ms "
          f"of this process's CPU per completion")


# -- 2. two worker processes ------------------------------------------------------------------------------

def worker(url: str, files_dir: str, warm_up: list[tuple[str, int]], tasks: list[tuple[str, int]],
           barrier: Any, results: Any) -> None:
    """One worker process: its own Gongwen; warms up, waits for the other, completes its tasks."""
    configure_process()
    gongwen = make_gongwen(url, Path(files_dir))
    try:
        complete_all(gongwen, warm_up)
        barrier.wait(timeout=300)
        began = time.monotonic()  # CLOCK_MONOTONIC is shared by all processes on Linux
        complete_all(gongwen, tasks)
        results.put((began, time.monotonic(), len(tasks)))
    except BaseException as err:
        barrier.abort()
        results.put(f"{type(err).__name__}: {err}")  # as text: not every exception pickles
        raise
    finally:
        gongwen.close()


def bench_two_workers(gongwen: Gongwen, org: demo.DemoOrg, url: str, files_dir: Path, sizes: Sizes,
                      result: BackendResult) -> None:
    tasks = start_leaves(gongwen, org, 2 * WARM_UP + sizes.completions_2w)
    warm_ups, measured = tasks[:2 * WARM_UP], tasks[2 * WARM_UP:]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=worker, args=(url, str(files_dir), warm_ups[i::2], measured[i::2], barrier, results))
        for i in range(2)
    ]
    try:
        for process in processes:
            process.start()
        reports = [results.get(timeout=600) for _ in processes]
    except BaseException:
        for process in processes:
            if process.is_alive():
                process.terminate()
        raise
    finally:
        for process in processes:
            process.join(timeout=30)
    failures = [report for report in reports if isinstance(report, str)]
    if failures:
        raise RuntimeError(f"a worker failed: {failures[0]}")
    check_completed(gongwen, len(tasks) + WARM_UP + sizes.completions)
    elapsed = max(end for _, end, _ in reports) - min(start for start, _, _ in reports)
    done = sum(n for _, _, n in reports)
    result.completions_per_s_2w = done / elapsed
    print(f"  2 workers:  {done} completions in {elapsed:.2f} s = {result.completions_per_s_2w:.0f}/s")


# -- 3. inbox ---------------------------------------------------------------------------------------------

def add_units(session: Session, count: int, rng: random.Random) -> list[tuple[int, list[int]]]:
    """``count`` more units of three departments each; returns every unit with its departments' ids."""
    parent = session.scalar(select(Unit.id).where(Unit.parent_id.is_(None)))
    session.execute(insert(Unit), [
        {"name": f"测试单位{i}", "kind": rng.choice(list(UnitKind)), "parent_id": parent, "status": UnitStatus.ACTIVE}
        for i in range(count)
    ])
    new_units = session.scalars(select(Unit.id).where(Unit.name.like("测试单位%"))).all()
    session.execute(insert(Department), [
        {"unit_id": unit_id, "name": name, "is_office": name == "办公室"}
        for unit_id in new_units for name in ("办公室", "综合科", "业务科")
    ])
    departments: dict[int, list[int]] = {}
    for unit_id, department_id in session.execute(select(Department.unit_id, Department.id)):
        departments.setdefault(unit_id, []).append(department_id)
    return [(unit_id, departments.get(unit_id, [])) for unit_id in session.scalars(select(Unit.id))]


def add_people(session: Session, count: int) -> list[int]:
    """``count`` more people (no usable password, no roles); returns every person's id."""
    session.execute(insert(Person), [
        {"login": f"bench.{i:05d}", "name": f"测试{i}", "password_hash": "!", "status": PersonStatus.ACTIVE,
         "failed_logins": 0, "created_at": clock.now()}
        for i in range(count)
    ])
    return list(session.scalars(select(Person.id)))


def add_instances(session: Session, count: int, units: list[int]) -> list[int]:
    """``count`` empty leave instances for the open tasks to belong to."""
    definition = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == "leave"))
    now = clock.now()
    session.execute(insert(ProcessInstance), [
        {"definition_id": definition, "process_id": "leave", "owning_unit_id": units[i % len(units)],
         "title": "填充", "status": InstanceStatus.RUNNING, "state": "{}", "revision": 0,
         "created_at": now, "updated_at": now}
        for i in range(count)
    ])
    return list(session.scalars(select(ProcessInstance.id).where(ProcessInstance.title == "填充")))


def open_task_rows(count: int, rng: random.Random, units: list[tuple[int, list[int]]], people: list[int],
                   instances: list[int]) -> Iterator[dict]:
    """Open tasks: 85% in a role's pool of a unit, 10% offered to one person, 5% claimed by someone."""
    now = clock.now()
    roles = demo.BUSINESS_ROLES
    for _ in range(count):
        unit_id, departments = rng.choice(units)
        role = rng.choice(roles)
        offer = rng.random()
        person = rng.choice(people) if offer < 0.10 else None
        department = None
        if role == Role.DEPARTMENT_HEAD and departments and rng.random() < 0.8:
            department = rng.choice(departments)
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4), "instance_id": rng.choice(instances),
            "spec_name": "dept_review", "name": "部门负责人审批", "form_key": "leave_decision", "lane": None,
            "candidate_role": None if person else role, "candidate_unit_id": unit_id,
            "candidate_department_id": department, "candidate_person_id": person,
            "assignee_id": rng.choice(people) if offer >= 0.95 else None, "state": TaskState.READY,
            "created_at": now - timedelta(minutes=rng.randrange(28 * 24 * 60)),
            "due_at": None if rng.random() < 0.2 else now + timedelta(hours=rng.randrange(-14 * 24, 28 * 24)),
        }


def load_open_tasks(gongwen: Gongwen, rows: int, chunk: int = 5000) -> None:
    rng = random.Random(20261123)
    with gongwen.db.write() as session:
        units = add_units(session, 300, rng)
        people = add_people(session, 2000)
        instances = add_instances(session, 300, [unit_id for unit_id, _ in units])
    generated = open_task_rows(rows, rng, units, people, instances)
    while batch := list(islice(generated, chunk)):
        with gongwen.db.write() as session:
            session.execute(insert(Task), batch)
    with gongwen.db.engine.connect() as conn:  # fresh statistics, as a live database would have
        conn.execute(text("ANALYZE"))
        conn.commit()


def bench_inbox(gongwen: Gongwen, org: demo.DemoOrg, sizes: Sizes, result: BackendResult) -> None:
    began = time.perf_counter()
    load_open_tasks(gongwen, sizes.inbox_rows)
    with gongwen.db.session() as session:
        open_tasks = session.scalar(select(func.count()).select_from(Task).where(Task.state == TaskState.READY))
    print(f"  inbox:      {open_tasks} open tasks in the table ({sizes.inbox_rows} added in "
          f"{time.perf_counter() - began:.1f} s)")
    worst_p50 = worst_p95 = 0.0
    for login in INBOX_PEOPLE:
        person_id = org.person(login).id
        durations, found = [], 0
        for _ in range(sizes.inbox_queries):
            with gongwen.db.session() as session:  # one session per page view, as in the web app
                began = time.perf_counter()
                found = len(ready_tasks(session, person_id))
                durations.append(time.perf_counter() - began)
        p50, p95 = ms(percentile(durations, 50)), ms(percentile(durations, 95))
        print(f"              ready_tasks({login}): {found} tasks on the page; "
              f"p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(durations)} queries")
        worst_p50, worst_p95 = max(worst_p50, p50), max(worst_p95, p95)
    result.inbox_p50_ms, result.inbox_p95_ms = worst_p50, worst_p95


# -- one backend ------------------------------------------------------------------------------------------

def bench_backend(name: str, url: str, workdir: Path, sizes: Sizes) -> BackendResult:
    print(f"\n{name}")
    result = BackendResult(name)
    files_dir = workdir / f"{name}-files"
    gongwen = make_gongwen(url, files_dir)
    try:
        org = seed(gongwen)
        bench_single(gongwen, org, sizes, result)
        bench_two_workers(gongwen, org, url, files_dir, sizes, result)
        bench_inbox(gongwen, org, sizes, result)
    finally:
        gongwen.close()
    return result


# -- main -------------------------------------------------------------------------------------------------

def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="fewer completions, queries and rows")
    arguments.add_argument("--skip-postgresql", action="store_true", help="SQLite only")
    options = arguments.parse_args()
    sizes = QUICK if options.quick else FULL
    exit_on_sigterm()  # so that the cleanup below still runs
    configure_process()
    began = time.perf_counter()
    print(f"Gongwen engine benchmark ({'quick' if options.quick else 'full'} run, {os.cpu_count()} CPUs)")

    raw_ms = bench_raw(sizes.raw_iterations)
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir:
        with sqlite_database(Path(workdir)) as url:
            sqlite = bench_backend("SQLite", url, Path(workdir), sizes)
        pg = BackendResult("PostgreSQL (skipped)")
        if not options.skip_postgresql:
            with postgres_database() as url:
                pg = bench_backend("PostgreSQL", url, Path(workdir), sizes)

    print("\nGongwen completion median / raw SpiffWorkflow median (targets, issue 16: SQLite ≤ 2×, PostgreSQL ≤ 2.5×):")
    for result, target in ((sqlite, 2.0), (pg, 2.5)):
        if not result.median_ms:  # skipped
            continue
        ratio = result.median_ms / raw_ms
        print(f"  {result.name}: {result.median_ms:.2f} ms / {raw_ms:.2f} ms = {ratio:.2f}x, "
              f"{'met' if ratio <= target else 'MISSED'}")
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    print(f"RESULT pg_completions_per_s_2w={pg.completions_per_s_2w:.0f} "
          f"pg_completions_per_s={pg.completions_per_s:.0f} sqlite_completions_per_s={sqlite.completions_per_s:.0f} "
          f"pg_raw_ratio={pg.median_ms / raw_ms:.2f} sqlite_raw_ratio={sqlite.median_ms / raw_ms:.2f} "
          f"raw_ms={raw_ms:.3f} inbox_p95_ms={max(sqlite.inbox_p95_ms, pg.inbox_p95_ms):.2f}")


if __name__ == "__main__":
    main()
