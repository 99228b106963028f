"""Faults that must leave nothing half-done (issue "Back up, restore, and keep running").

Each test breaks a real part while Gongwen works: the OS process delivering a dispatch is
SIGKILLed, a private PostgreSQL cluster is stopped and started under completions, a private
Redis goes away under a Celery worker. Nothing is mocked; the parts are guarded by ``require``
(skipped on a developer's machine without them, failing under ``CI=true``).
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, InvalidRequestError

from engine import audit
from engine.background import deliver_outbox
from engine.bpmn import load_state
from engine.config import Settings
from engine.core import Gongwen
from engine.deploy import collect, deploy
from engine.errors import StepFailed
from engine.models import (
    AuditEvent,
    InstanceStatus,
    Outbox,
    OutboxStatus,
    ProcessInstance,
    Task,
    TaskState,
    Unit,
    UnitKind,
)
from engine.organisation import create_unit
from engine.projections import ready_ids
from engine.schema import upgrade
from handlers.documents.models import DocStatus, Document
from handlers.exchange.models import Receipt
from tests.conftest import MONDAY_9AM
from tests.outgoing_support import NOTICE, act, start, task_of
from tests.support import ROOT, deploy_bytes, program, ready_for, require
from tests.test_messages import RECEIVER, SENDER
from web import demo


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until(condition, seconds: float, what: str, alive=lambda: True) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds`` or once ``alive()`` says the helper died."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline or not alive():
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


# -- 1. the web process killed in the middle of a dispatch ------------------------------------------------

UNITS = 200
CHILD_BATCH = 50   # the child queues four outbox items of 50 recipients ...
HANG_IN = 3        # ... commits two, and is killed inside the third

# The web process completing 用印, as the page would: the step seals and queues the dispatch, commits,
# and the in-process runner delivers the batches, one transaction each. Two changes, in this process
# only: smaller batches, so that "some but not all" exists between commits; and a pause inside the third
# batch's transaction, after its instances and receipts are written and before they commit, so that the
# SIGKILL lands there every time.
WEB_PROCESS = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path

    import forms, handlers
    from engine import background
    from engine.core import Gongwen
    from handlers.exchange import dispatch

    dispatch.DISPATCH_BATCH = int(os.environ["FAULT_BATCH"])
    deliver, batches = background.CONSUMERS["dispatch"], []

    def deliver_then_hang(job, session, item):
        deliver(job, session, item)
        batches.append(item.id)
        if len(batches) == int(os.environ["FAULT_HANG_IN"]):
            session.flush()
            Path(os.environ["FAULT_MARKER"]).write_text(str(item.id))
            time.sleep(600)

    background.CONSUMERS["dispatch"] = deliver_then_hang
    Gongwen().runtime.complete(sys.argv[1], int(sys.argv[2]), {"confirm": True})
""")


def _delivered(gongwen: Gongwen, document_id: int) -> tuple[int, int]:
    """(receipts of the document, receiving instances) as committed."""
    with gongwen.db.session() as session:
        receipts = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.document_id == document_id))
        instances = session.scalar(select(func.count()).select_from(ProcessInstance)
                                   .where(ProcessInstance.process_id == "incoming"))
    return receipts, instances


def _open_dispatch_items(gongwen: Gongwen) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.topic == "dispatch", Outbox.status != OutboxStatus.DONE))


@pytest.mark.usefixtures("deployed")
def test_a_web_process_killed_mid_dispatch_leaves_the_rest_to_the_outbox_and_no_unit_gets_it_twice(
        gongwen, org, settings, tmp_path):
    with gongwen.db.write() as session:
        demo.issue_seals(session, settings, org, ["city_office"])
        city = session.get(Unit, org.unit("city").id)
        units = [create_unit(session, f"故障演练局{i:03d}", UnitKind.DEPARTMENT, parent=city).id
                 for i in range(UNITS)]
    drafter, sealer = org.person("lyg.drafter"), org.person("lyg.sealer")
    document_id = start(gongwen, drafter).id
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": units[:1]})
    with gongwen.db.write() as session:
        # A 主送 line naming 200 units outgrows document.main_to_text (see bench/dispatch.py, widen()).
        document = session.get(Document, document_id)
        document.main_to, document.main_to_text = units, "市各委办局"
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    act(gongwen, drafter, "校对", {"decision": "ok"})

    marker, output = tmp_path / "hanging", tmp_path / "web-process.log"
    env = {**os.environ, "GONGWEN_DATABASE_URL": settings.database_url, "GONGWEN_FILES_DIR": str(settings.files_dir),
           "GONGWEN_SECRET_KEY": settings.secret_key, "GONGWEN_NOW": MONDAY_9AM.isoformat(), "GONGWEN_ENV": "test",
           "GONGWEN_WIDE_DISPATCH_SHARE": "1.0", "PYTHONPATH": str(ROOT), "FAULT_BATCH": str(CHILD_BATCH),
           "FAULT_HANG_IN": str(HANG_IN), "FAULT_MARKER": str(marker)}
    with output.open("w") as log_file:
        web_process = subprocess.Popen(
            [sys.executable, "-c", WEB_PROCESS, str(task_of(gongwen, sealer, "用印").id), str(sealer.id)],
            env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            if web_process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the web process never reached the third batch:\n" + output.read_text()[-3000:])
            time.sleep(0.05)
        web_process.send_signal(signal.SIGKILL)
    finally:
        web_process.kill()
        web_process.wait(30)

    # Killed mid-way: the sealing step and some deliveries committed (two batches), others not; the
    # outbox still holds what is left.
    receipts, instances = _delivered(gongwen, document_id)
    assert receipts == instances and 0 < receipts < UNITS
    assert _open_dispatch_items(gongwen) > 0

    # The sweeps that follow finish the dispatch. On PostgreSQL the dead process's backend may hold
    # its row lock for a moment (SKIP LOCKED passes the item by), so they sweep until nothing is open.
    def swept() -> bool:
        deliver_outbox(gongwen)
        return _open_dispatch_items(gongwen) == 0

    _wait_until(swept, 30, "the outbox to finish the dispatch")
    deliver_outbox(gongwen)  # a later sweep, as the beat would run, must change nothing

    with gongwen.db.session() as session:
        receipts = session.execute(select(Receipt.unit_id, Receipt.incoming_instance_id)
                                   .where(Receipt.document_id == document_id)).all()
        incoming = session.execute(select(ProcessInstance.id, ProcessInstance.owning_unit_id)
                                   .where(ProcessInstance.process_id == "incoming")).all()
        items = session.scalars(select(Outbox).where(Outbox.topic == "dispatch")).all()
        status = session.get(Document, document_id).status
        chain = audit.verify(session)
    assert len(receipts) == UNITS and sorted(u for u, _ in receipts) == sorted(units)
    assert len(incoming) == UNITS and sorted(u for _, u in incoming) == sorted(units)  # one per unit, never two
    assert dict(receipts) == {unit: instance for instance, unit in incoming}  # each receipt names its unit's own
    assert [(i.status, len(i.payload["recipients"])) for i in items] == \
        [(OutboxStatus.DONE, CHILD_BATCH)] * (UNITS // CHILD_BATCH)
    assert status == DocStatus.DISPATCHED
    assert chain.whole, chain


# -- 2. PostgreSQL restarted while completions run --------------------------------------------------------

def _postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: [int(n) for n in Path(p).parts[-3].split(".") if n.isdigit()])
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder, on a free port."""

    def __init__(self, bindir: Path):
        self.bindir, self.port = bindir, _free_port()
        self.home = Path(tempfile.mkdtemp(prefix="gongwen_pg_"))
        self.data, self.log = self.home / "data", self.home / "server.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root: the postgres account owns the cluster
            owner = pwd.getpwnam("postgres")
            os.chown(self.home, owner.pw_uid, owner.pw_gid)
            self.as_owner = [shutil.which("runuser"), "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/gongwen"

    def _run(self, program_name: str, *args: str) -> None:
        done = subprocess.run([*self.as_owner, str(self.bindir / program_name), *args], capture_output=True,
                              text=True, timeout=120)
        if done.returncode:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program_name} {' '.join(args)} failed:\n{done.stdout}{done.stderr}{log}")

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        self.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE gongwen")

    def _pg_ctl(self, action: str, *args: str) -> None:
        # fsync off: the test stops the server cleanly and never the machine, so nothing depends on it.
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", *args, action)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        """A fast shutdown: transactions in flight are cut off, then new connections are refused."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    bindir = _postgres_bindir()
    require(bindir is not None and (bindir / "initdb").exists(), "the PostgreSQL server programs (initdb, pg_ctl)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "the postgres account, to run a private PostgreSQL cluster as root")
        require(shutil.which("runuser") is not None, "the program runuser")
    cluster = PrivateCluster(bindir)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.remove()


LEAVES = 40
LEAVE_FORM = {"kind": "annual", "start_date": "2026-11-24", "end_date": "2026-11-25", "reason": "探亲"}
LEAVE_STEPS = ["填写请假单", "部门负责人审批", "销假"]


def _is_clean(err: BaseException) -> bool:
    """A failure the caller can show and retry: the database's error, the step's refusal caused by it, or
    SQLAlchemy's report that the step's transaction was rolled back when the connection died under it
    (the checks after the restart prove nothing of such a step was kept)."""
    if isinstance(err, InvalidRequestError) and "transaction was rolled back" in str(err):
        return True
    if not isinstance(err, DBAPIError | StepFailed):
        return False
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, DBAPIError | psycopg.OperationalError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class Completer(threading.Thread):
    """Completes the leave instances' tasks round-robin, as the people would, noting each attempt."""

    def __init__(self, gongwen: Gongwen, people: dict[str, object], instances: list[int]):
        super().__init__(name="completer", daemon=True)
        self.gongwen, self.people, self.pending = gongwen, people, list(instances)
        self.done: list[tuple[float, str, int]] = []            # (began, task id, person id)
        self.failed: list[tuple[float, BaseException]] = []     # (began, error)
        self.go, self.parked, self.stopped = threading.Event(), threading.Event(), threading.Event()
        self.go.set()

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while self.pending and not self.stopped.is_set() and time.monotonic() < deadline:
            if not self.go.is_set():
                self.parked.set()
                self.go.wait()
                self.parked.clear()
            instance_id, began = self.pending[0], time.monotonic()
            try:
                with self.gongwen.db.session() as session:
                    task = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                                             Task.state == TaskState.READY))
                if task is None:
                    self.pending.pop(0)  # the instance has ended
                    continue
                person, data = {"填写请假单": (self.people["applicant"], LEAVE_FORM),
                                "部门负责人审批": (self.people["head"], {"decision": "approve"}),
                                "销假": (self.people["applicant"], {"returned_on": "2026-11-26"})}[task.name]
                self.gongwen.runtime.complete(task.id, person.id, data)
            except Exception as err:  # every failure is recorded, and judged by the test
                self.failed.append((began, err))
                time.sleep(0.02)
                continue
            self.done.append((began, str(task.id), person.id))
            self.pending.append(self.pending.pop(0))


def _check_consistent(gongwen: Gongwen, instances: list[int]) -> None:
    """Every instance's saved state, revision, inbox rows and audit trail tell the same story."""
    with gongwen.db.session() as session:
        completions = {}
        for event in session.scalars(select(AuditEvent).where(AuditEvent.action == "task.complete")):
            completions[event.instance_id] = completions.get(event.instance_id, 0) + 1
        for instance_id in instances:
            row = session.get(ProcessInstance, instance_id)
            tasks = session.scalars(select(Task).where(Task.instance_id == instance_id)).all()
            completed = [t for t in tasks if t.state == TaskState.COMPLETED]
            workflow = load_state(row.state, gongwen.runtime._parsed(session, row.definition_id),
                                  gongwen.runtime.script_engine)
            assert row.revision == 1 + len(completed) == 1 + completions.get(instance_id, 0), instance_id
            assert {t.id for t in tasks if t.state == TaskState.READY} == ready_ids(workflow), instance_id
        chain = audit.verify(session)
    assert chain.whole, chain


def test_completions_while_postgresql_restarts_fail_cleanly_then_succeed_and_none_is_lost(
        private_postgres, fixed_clock, tmp_path):
    upgrade(private_postgres.url)
    gongwen = Gongwen(Settings(env="test", files_dir=tmp_path / "files", database_url=private_postgres.url,
                               secret_key="test-secret"))
    completer = None
    try:
        with gongwen.db.write() as session:
            org = demo.seed(session)
        with gongwen.db.write() as session:
            deploy(session, [f for f in collect([ROOT / "workflows"]) if f[0].endswith("leave.bpmn")])
        applicant, head = org.person("lyg.drafter"), org.person("lyg.head")
        instances = [gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                                           data={"department_id": applicant.department_id}, title=f"请假{i}")
                     for i in range(LEAVES)]
        completer = Completer(gongwen, {"applicant": applicant, "head": head}, instances)
        completer.start()
        _wait_until(lambda: len(completer.done) >= 15, 60, "the first completions", completer.is_alive)

        private_postgres.stop()  # under load: the completion in flight is cut off, the next ones refused
        stopped = time.monotonic()
        _wait_until(lambda: sum(began > stopped for began, _ in completer.failed) >= 3, 30,
                    "completions to fail while the server is down", completer.is_alive)
        private_postgres.start()

        completer.go.clear()  # while nobody works, restart again: every pooled connection is now dead
        _wait_until(completer.parked.is_set, 30, "the completer to pause", completer.is_alive)
        private_postgres.restart()
        restarted = time.monotonic()
        _check_consistent(gongwen, instances)  # on the same pool: pre-ping replaces the dead connections
        completer.go.set()
        completer.join(120)
        assert not completer.is_alive() and not completer.pending, "the work did not finish after the restart"
    finally:
        if completer is not None:
            completer.stopped.set()
            completer.go.set()
        gongwen.close()

    unclean = [repr(err) for _, err in completer.failed if not _is_clean(err)]
    assert not unclean, unclean
    assert [repr(err) for began, err in completer.failed if began > restarted] == []  # pre-ping reconnects
    assert sum(began > restarted for began, _, _ in completer.done) > 0

    gongwen = Gongwen(Settings(env="test", files_dir=tmp_path / "files", database_url=private_postgres.url,
                               secret_key="test-secret"))
    try:
        _check_consistent(gongwen, instances)
        with gongwen.db.session() as session:
            tasks = {str(t.id): t for t in session.scalars(select(Task))}
            statuses = set(session.scalars(select(ProcessInstance.status)))
            trail = {instance_id: [t.name for t in sorted(ts, key=lambda t: t.completed_at or MONDAY_9AM)]
                     for instance_id in instances
                     for ts in [[t for t in tasks.values() if t.instance_id == instance_id]]}
    finally:
        gongwen.close()
    for _, task_id, person_id in completer.done:  # nothing that succeeded was lost
        assert (tasks[task_id].state, tasks[task_id].completed_by_id) == (TaskState.COMPLETED, person_id)
    assert statuses == {InstanceStatus.COMPLETED}
    assert all(names == LEAVE_STEPS for names in trail.values()), trail  # and nothing done twice


# -- 3. Redis down with GONGWEN_BROKER_URL set ------------------------------------------------------------

class PrivateRedis:
    """A redis-server of the test's own on a free port, with nothing persisted: stopping it loses its queues."""

    def __init__(self, tmp_path: Path):
        self.program, self.port, self.cwd = program("redis-server"), _free_port(), tmp_path
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until(self._answers, 20, "redis-server to answer", lambda: self.process.poll() is None)

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_with_redis_down_work_waits_in_the_outbox_and_goes_out_when_redis_returns(
        settings, org, private_redis, tmp_path, caplog):
    celery_side = Gongwen(dataclasses.replace(settings, broker_url=private_redis.url))
    deploy_bytes(celery_side, "receiver.bpmn", RECEIVER)
    deploy_bytes(celery_side, "sender.bpmn", SENDER)
    city, county, leader = org.unit("city_office"), org.unit("donghai_office"), org.person("lyg.leader")
    receiver = celery_side.runtime.start("receiver", owning_unit_id=city.id, correlation={"doc": 1, "unit": city.id})

    output = tmp_path / "worker.log"
    env = {**os.environ, "GONGWEN_DATABASE_URL": settings.database_url, "GONGWEN_BROKER_URL": private_redis.url,
           "GONGWEN_FILES_DIR": str(settings.files_dir), "GONGWEN_SECRET_KEY": settings.secret_key,
           "GONGWEN_NOW": MONDAY_9AM.isoformat(), "GONGWEN_ENV": "test", "PYTHONPATH": str(ROOT)}
    with output.open("w") as log_file:
        worker = subprocess.Popen([str(Path(sys.executable).parent / "gongwen"), "worker", "--pool=solo",
                                   "--concurrency=1"], env=env, cwd=tmp_path, stdout=log_file,
                                  stderr=subprocess.STDOUT)

    def worker_log() -> str:
        return output.read_text()[-4000:]

    def outbox() -> list[tuple[str, OutboxStatus]]:
        with celery_side.db.session() as session:
            return [(o.payload["name"], o.status) for o in session.scalars(select(Outbox).order_by(Outbox.id))]

    try:
        _wait_until(lambda: " ready." in output.read_text(), 60, "the worker to start", lambda: worker.poll() is None)
        private_redis.stop()

        with caplog.at_level(logging.WARNING, logger="engine.background"):
            sender = celery_side.runtime.start("sender", owning_unit_id=county.id,
                                               data={"doc": 1, "sender_unit": city.id, "signer": "东海县收发员"})
        with celery_side.db.session() as session:  # the step committed; its message waits in the outbox
            assert session.get(ProcessInstance, sender).status == InstanceStatus.COMPLETED
        assert outbox() == [("签收回执", OutboxStatus.PENDING)]
        assert any("deliver_outbox" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
        assert ready_for(celery_side, leader) == []

        private_redis.start()
        celery_side.background.submit("sweep")  # as the worker's beat does every SWEEP_SECONDS
        deadline = time.monotonic() + 60
        while outbox() != [("签收回执", OutboxStatus.DONE)]:
            if time.monotonic() > deadline or worker.poll() is not None:
                pytest.fail(f"the message did not go out once Redis was back: {outbox()}\n{worker_log()}")
            time.sleep(0.1)
        assert [t.instance_id for t in ready_for(celery_side, leader)] == [receiver]
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
        celery_side.close()
