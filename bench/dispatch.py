"""Benchmark of dispatching one sealed document to 10, 100 and 1,000 units, on SQLite and PostgreSQL.

Run it from the repository root::

    .venv/bin/python bench/dispatch.py            # full run, under a minute
    .venv/bin/python bench/dispatch.py --quick    # 1,000 units only, no separate dispatch-only timing

On a temporary SQLite file and a temporary PostgreSQL database ``gongwen_bench_*`` (on
``GONGWEN_BENCH_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``), both removed even
on error, it seeds the demo organisation, issues the city office's seal and adds 1,000 active units
(``engine.organisation.create_unit``, kind DEPARTMENT under the demo city). Each measured document is
a notice of the city office to the first N of those units, driven through workflows/outgoing.bpmn
up to its last step (drafting, reviews, sign-off with typesetting, proofreading: not timed). Then:

1. seal + dispatch: the sealer's ``gongwen.runtime.complete`` of 用印, until it returns. That step runs
   apply_seals, prepare_dispatch and dispatch, commits, and the in-process background runner then
   delivers the outbox items (200 recipients each) before the call returns: one incoming instance,
   one receipt and the clerk's 签收 task per unit, each batch committed. This Gongwen has
   ``wide_dispatch_share=1.0`` so that no dispatch, however wide, waits for the clerk's confirmation
   (the default, 0.3, would make the 1,000-unit dispatch wait for 确认分发范围);
2. dispatch only: the same on a Gongwen with ``wide_dispatch_share=0.0``, where every dispatch waits
   for the clerk: 用印 then only seals, and the timed completion of 确认分发范围 runs dispatch and
   the delivery.

After each timed step the receipts and ready 签收 tasks of the document are counted: both must be N.
Before both backends it times raw SpiffWorkflow doing the leave process's first step in memory
(bench/raw.py), this run's yardstick of the machine's speed, printed beside the figures. Target
(issue 16): 用印 with dispatch to 1,000 units ≤ 1 s on both backends.
The last line sums up the figures (seconds of step 1) and the raw baseline (ms)::

    RESULT sqlite_1000_s=... pg_1000_s=... sqlite_10_s=... pg_10_s=... raw_ms=...
"""

# Run as a script, bench/ would be first on sys.path; the path is fixed before the project's imports
# (hence the E402 exemption) so that the repository root comes first, as for bench/engine.py.
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bench.common import (
    StatementCounter,
    configure_process,
    exit_on_sigterm,
    gongwen_on,
    postgres_database,
    ready_task,
    seed,
    sqlite_database,
)
from bench.raw import bench_raw
from engine.core import Gongwen
from engine.models import Task, TaskState, Unit, UnitKind
from engine.organisation import create_unit
from handlers.documents.drafting import start_outgoing
from handlers.documents.models import DocStatus, Document
from handlers.exchange.models import Receipt
from web import demo

EXTRA_UNITS = 1000
NOTICE = {
    "doc_type": "notice", "direction": "downward", "urgency": "normal", "classification": "非密",
    "title": "连云港市人民政府办公室关于做好冬季安全生产工作的通知",
    "body": "为做好今冬明春安全生产工作，现将有关事项通知如下。\n一、压实安全责任\n请各单位于12月底前完成排查。",
}
MAIN_TO_TEXT = "市各委办局，市各直属单位"
TARGET_S = 1.0  # for 1,000 units, on both backends (issue 16)
RAW_ITERATIONS = 300


@dataclass(frozen=True)
class Sizes:
    counts: tuple[int, ...]
    dispatch_only: bool  # also time the 确认分发范围 completion


FULL = Sizes(counts=(10, 100, 1000), dispatch_only=True)
QUICK = Sizes(counts=(10, 1000), dispatch_only=False)


@dataclass
class Timing:
    seconds: float
    statements: int


@dataclass
class BackendResult:
    name: str
    sealed_and_dispatched: dict[int, Timing] = field(default_factory=dict)
    sealed_only: dict[int, Timing] = field(default_factory=dict)
    dispatched_only: dict[int, Timing] = field(default_factory=dict)


# -- setting up -------------------------------------------------------------------------------------------

def add_units(gongwen: Gongwen, org: demo.DemoOrg, count: int) -> list[int]:
    """``count`` more active departments of the demo city; returns their ids."""
    with gongwen.db.write() as session:
        city = session.get(Unit, org.unit("city").id)
        return [create_unit(session, f"测试局{i:04d}", UnitKind.DEPARTMENT, parent=city).id for i in range(count)]


def issue_city_seal(gongwen: Gongwen, org: demo.DemoOrg) -> None:
    """The city office's seal, issued as the app does (handlers.seals.issue_seal)."""
    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office"])


def complete(gongwen: Gongwen, instance_id: int, name: str, person_id: int, data: dict) -> Timing:
    """Complete the one ready task ``name`` of the instance, timed (with the SQL statements it sent)."""
    task_id = ready_task(gongwen, instance_id, name)
    with StatementCounter(gongwen) as statements:
        began = time.perf_counter()
        gongwen.runtime.complete(task_id, person_id, data)
        elapsed = time.perf_counter() - began
    return Timing(elapsed, statements.count)


def ready_to_seal(gongwen: Gongwen, org: demo.DemoOrg, recipients: list[int]) -> Document:
    """A notice to ``recipients`` drafted, reviewed, signed off, typeset and proofread: waiting for 用印."""
    drafter = org.person("lyg.drafter")
    with gongwen.db.write() as session:
        document = start_outgoing(gongwen.runtime, session, session.get(type(drafter), drafter.id))
    complete(gongwen, document.instance_id, "拟稿", drafter.id, {**NOTICE, "main_to": recipients[:1]})
    widen(gongwen, document.id, recipients)
    steps = [
        ("部门审核", org.person("lyg.head"), {"decision": "approve"}),
        ("办公室核稿", org.person("lyg.reviewer"), {"decision": "approve"}),
        ("签发", org.person("lyg.signer"), {"decision": "approve"}),
        ("校对", drafter, {"decision": "ok"}),
    ]
    for name, person, data in steps:
        complete(gongwen, document.instance_id, name, person.id, data)
    return document


def widen(gongwen: Gongwen, document_id: int, recipients: list[int]) -> None:
    """Send the drafted document to all of ``recipients``, with a short 主送 line as a wide notice has.

    The draft goes to one unit and the list is set here, on both backends, so that what is timed is
    the dispatch and not a draft step writing a thousand names into the 主送 line.
    """
    with gongwen.db.write() as session:
        document = session.get(Document, document_id)
        document.main_to, document.main_to_text = list(recipients), MAIN_TO_TEXT


# -- checking ---------------------------------------------------------------------------------------------

def check_delivered(gongwen: Gongwen, document: Document, expected: int) -> None:
    """The document was dispatched and every recipient has its receipt and its clerk's 签收 task."""
    with gongwen.db.session() as session:
        status = session.get(Document, document.id).status
        receipts = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.document_id == document.id))
        tasks = session.scalar(
            select(func.count()).select_from(Task).join(Receipt, Receipt.incoming_instance_id == Task.instance_id)
            .where(Receipt.document_id == document.id, Task.name == "签收", Task.state == TaskState.READY))
    if status != DocStatus.DISPATCHED or receipts != expected or tasks != expected:
        raise RuntimeError(f"document {document.id}: status {status}, {receipts} receipts and {tasks} 签收 tasks; "
                           f"expected dispatched, {expected} and {expected}")


def check_sealed_only(gongwen: Gongwen, document: Document) -> None:
    with gongwen.db.session() as session:
        status = session.get(Document, document.id).status
        receipts = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.document_id == document.id))
    if status != DocStatus.SEALED or receipts:
        raise RuntimeError(f"document {document.id}: status {status} and {receipts} receipts before confirmation")


# -- measuring --------------------------------------------------------------------------------------------

def seal_and_dispatch(gongwen: Gongwen, org: demo.DemoOrg, recipients: list[int]) -> Timing:
    """Time 用印 on a Gongwen that never asks for confirmation: sealing, dispatch and delivery."""
    document = ready_to_seal(gongwen, org, recipients)
    timing = complete(gongwen, document.instance_id, "用印", org.person("lyg.sealer").id, {"confirm": True})
    check_delivered(gongwen, document, len(recipients))
    return timing


def seal_then_confirm(gongwen: Gongwen, org: demo.DemoOrg, recipients: list[int]) -> tuple[Timing, Timing]:
    """Time 用印 and then 确认分发范围 on a Gongwen that always asks: sealing, then dispatch and delivery."""
    document = ready_to_seal(gongwen, org, recipients)
    sealing = complete(gongwen, document.instance_id, "用印", org.person("lyg.sealer").id, {"confirm": True})
    check_sealed_only(gongwen, document)
    dispatching = complete(gongwen, document.instance_id, "确认分发范围", org.person("lyg.clerk").id,
                           {"decision": "dispatch"})
    check_delivered(gongwen, document, len(recipients))
    return sealing, dispatching


def describe(timing: Timing, count: int) -> str:
    return (f"{timing.seconds:6.3f} s ({timing.seconds / count * 1000:5.2f} ms and "
            f"{timing.statements / count:5.1f} SQL statements per unit)")


def bench_backend(name: str, url: str, workdir: Path, sizes: Sizes) -> BackendResult:
    print(f"\n{name}")
    result = BackendResult(name)
    files = workdir / f"{name}-files"
    with gongwen_on(url, files, options={"wide_dispatch_share": 1.0}) as direct, \
            gongwen_on(url, files, options={"wide_dispatch_share": 0.0}) as confirming:
        began = time.perf_counter()
        org = seed(direct)
        issue_city_seal(direct, org)
        units = add_units(direct, org, EXTRA_UNITS)
        seal_and_dispatch(direct, org, units[:10])  # warm-up: both Gongwens parse and cache their processes
        seal_then_confirm(confirming, org, units[:10])
        print(f"  setup:    demo organisation, seal, {EXTRA_UNITS} more units, warm-up in "
              f"{time.perf_counter() - began:.1f} s (not timed)")
        for count in sizes.counts:
            timing = result.sealed_and_dispatched[count] = seal_and_dispatch(direct, org, units[:count])
            print(f"  {count:4d} units, 用印 (seal + dispatch):     {describe(timing, count)}")
            if sizes.dispatch_only:
                sealing, dispatching = seal_then_confirm(confirming, org, units[:count])
                result.sealed_only[count], result.dispatched_only[count] = sealing, dispatching
                print(f"  {count:4d} units, 确认分发范围 (dispatch only): {describe(dispatching, count)}; "
                      f"用印 before it (seal only) {sealing.seconds:.3f} s")
    achieved = result.sealed_and_dispatched[1000].seconds
    print(f"  1,000 units: {achieved:.2f} s, target ≤ {TARGET_S:.0f} s: {'met' if achieved <= TARGET_S else 'MISSED'}")
    return result


# -- main -------------------------------------------------------------------------------------------------

def databases(workdir: Path, skip_postgresql: bool) -> Iterator[tuple[str, AbstractContextManager[str]]]:
    yield "SQLite", sqlite_database(workdir)
    if not skip_postgresql:
        yield "PostgreSQL", postgres_database()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="10 and 1,000 units, no dispatch-only timing")
    arguments.add_argument("--skip-postgresql", action="store_true", help="SQLite only")
    options = arguments.parse_args()
    sizes = QUICK if options.quick else FULL
    exit_on_sigterm()
    configure_process()
    began = time.perf_counter()
    print(f"Gongwen dispatch benchmark ({'quick' if options.quick else 'full'} run)")
    raw_ms = bench_raw(RAW_ITERATIONS)
    results: dict[str, BackendResult] = {}
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir:
        for name, database in databases(Path(workdir), options.skip_postgresql):
            with database as url:
                results[name] = bench_backend(name, url, Path(workdir), sizes)
    seconds = {(name, count): r.sealed_and_dispatched[count].seconds
               for name, r in results.items() for count in r.sealed_and_dispatched}
    print(f"\n1,000 units beside raw SpiffWorkflow's leave step ({raw_ms:.3f} ms in this run):")
    for name in results:
        per_unit = seconds[(name, 1000)] / 1000 * 1000
        print(f"  {name}: {seconds[(name, 1000)]:.3f} s, {per_unit:.2f} ms per unit = {per_unit / raw_ms:.2f}× raw")
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    print(f"RESULT sqlite_1000_s={seconds[('SQLite', 1000)]:.3f} pg_1000_s={seconds.get(('PostgreSQL', 1000), 0):.3f} "
          f"sqlite_10_s={seconds[('SQLite', 10)]:.3f} pg_10_s={seconds.get(('PostgreSQL', 10), 0):.3f} "
          f"raw_ms={raw_ms:.3f}")


if __name__ == "__main__":
    main()
