"""Work that runs after a commit: timer sweeps, outbox delivery, and later rendering.

One interface, two runners. With no broker, jobs run in-process right after the
transaction that asked for them commits (and on the ``serve`` scheduler's beat).
With ``GONGWEN_BROKER_URL`` set, jobs become Celery tasks that any number of
``gongwen worker`` processes on any machine pick up; Celery beat runs the sweep.
A job only ever reads its work from the database, so running one twice is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import or_, select

from . import audit, clock
from .config import Settings
from .db import Database, is_sqlite
from .errors import GongwenError
from .files import FileStore
from .messages import deliver_message
from .models import Outbox, OutboxStatus

if TYPE_CHECKING:
    from celery import Celery
    from sqlalchemy.orm import Session

    from .core import Gongwen
    from .runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A failed delivery waits 30 s, then 1, 2, 4 ... minutes, at most an hour, before the next attempt:
# a gateway that is down for an hour is not hammered, and ten attempts span about five hours.
FIRST_BACKOFF = timedelta(seconds=30)
LONGEST_BACKOFF = timedelta(hours=1)


class Deferred(Exception):
    """Raised by a consumer to hold its item until ``until`` (a text in quiet hours); no attempt is counted."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def backoff(attempts: int) -> timedelta:
    """How long an item that has failed ``attempts`` times waits before the next attempt."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), LONGEST_BACKOFF)
SWEEP_SECONDS = 30.0

class JobContext(Protocol):
    """What background work gets: the installation's settings, database, files and runtime."""

    settings: Settings
    db: Database
    files: FileStore
    runtime: Runtime


Consumer = Callable[[JobContext, "Session", Outbox], None]
# topic -> fn(job, session, outbox item); runs inside the delivery transaction.
CONSUMERS: dict[str, Consumer] = {
    "message": lambda job, session, item: deliver_message(job.runtime, session, item),
}


def consumer(topic: str) -> Callable[[Consumer], Consumer]:
    """Register ``fn(job, session, item)`` to deliver outbox items of ``topic``."""

    def register(fn: Consumer) -> Consumer:
        if topic in CONSUMERS and CONSUMERS[topic] is not fn:
            raise ValueError(f"outbox topic {topic!r} has two consumers")
        CONSUMERS[topic] = fn
        return fn

    return register


@dataclass
class Periodic:
    """Work done on a schedule by the sweep: ``fn(job)`` at most once every ``every``."""

    name: str
    every: timedelta
    fn: Callable[[JobContext], object]
    last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last_run is None or now - self.last_run >= self.every


# Scheduled work besides timers and the outbox, registered by the domains. The schedule is
# kept per process, so a job must be harmless to run twice (idempotent, or keyed in the outbox).
PERIODIC: dict[str, Periodic] = {}


def periodic(every: timedelta) -> Callable[[Callable[[JobContext], object]], Callable[[JobContext], object]]:
    """Register ``fn(job)`` to run on the sweep at most once every ``every``."""

    def register(fn: Callable[[JobContext], object]) -> Callable[[JobContext], object]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        PERIODIC[name] = Periodic(name, every, fn)
        return fn

    return register


def run_periodic(job: JobContext) -> list[str]:
    """Run every scheduled job that is due on Gongwen's clock; returns their names."""
    now, ran = clock.now(), []
    for scheduled in PERIODIC.values():
        if scheduled.due(now):
            scheduled.last_run = now
            scheduled.fn(job)
            ran.append(scheduled.name)
    return ran


def deliver_outbox(gongwen: Gongwen, limit: int = 500) -> int:
    """Deliver pending outbox items, each in its own transaction; returns how many were handled."""
    handled = 0
    for _ in range(limit):
        item_id = _deliver_next(gongwen)
        if item_id is None:
            break
        handled += 1
    return handled


def _deliver_next(gongwen: Gongwen) -> int | None:
    item_id = None
    try:
        with gongwen.db.write() as session:
            query = (select(Outbox).where(Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
                                          Outbox.attempts < MAX_ATTEMPTS,
                                          or_(Outbox.not_before.is_(None), Outbox.not_before <= clock.now()))
                     .order_by(Outbox.id).limit(1))
            if not is_sqlite(session):
                query = query.with_for_update(skip_locked=True)
            item = session.scalar(query)
            if item is None:
                return None
            item_id = item.id
            consumer = CONSUMERS.get(item.topic)
            if consumer is None:
                raise LookupError(f"no consumer for outbox topic {item.topic!r}")
            item.attempts += 1
            consumer(gongwen, session, item)
            if item.status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
                item.status, item.done_at = OutboxStatus.DONE, clock.now()
        return item_id
    except Deferred as held:
        with gongwen.db.write() as session:
            session.get(Outbox, item_id).not_before = held.until
        return item_id
    except Exception as err:
        if item_id is None:
            raise
        log.exception("outbox item %s failed", item_id)
        with gongwen.db.write() as session:
            item = session.get(Outbox, item_id)
            item.attempts += 1
            item.status, item.last_error = OutboxStatus.FAILED, str(err) if isinstance(err, GongwenError) else \
                f"{type(err).__name__}: {err}"
            item.not_before = clock.now() + backoff(item.attempts)
            audit.record(session, "outbox.failed", instance_id=item.source_instance_id, topic=item.topic,
                         key=item.key, error=item.last_error)
        return item_id


def sweep(gongwen: Gongwen) -> None:
    gongwen.runtime.fire_due_timers()
    deliver_outbox(gongwen)
    run_periodic(gongwen)


JOBS: dict[str, Callable[[Gongwen], object]] = {
    "deliver_outbox": deliver_outbox,
    "sweep": sweep,
}


def run_job(gongwen: Gongwen, name: str) -> None:
    try:
        JOBS[name](gongwen)
    except Exception:
        log.exception("background job %s failed", name)


class Background(Protocol):
    def submit(self, job: str) -> None: ...


class InProcess:
    """Runs jobs in the submitting thread once its transaction has committed.

    A job that submits more jobs does not recurse: they queue and run in turn.
    """

    def __init__(self, gongwen: Gongwen):
        self.gongwen = gongwen
        self._local = threading.local()

    def submit(self, job: str) -> None:
        queue = getattr(self._local, "queue", None)
        if queue is not None:
            if job not in queue:
                queue.append(job)
            return
        self._local.queue = queue = [job]
        try:
            while queue:
                run_job(self.gongwen, queue.pop(0))
        finally:
            self._local.queue = None


class Scheduler(threading.Thread):
    """The beat inside ``gongwen serve``: a sweep every few seconds while the server runs."""

    def __init__(self, gongwen: Gongwen, every_s: float = SWEEP_SECONDS):
        super().__init__(name="gongwen-scheduler", daemon=True)
        self.gongwen, self.every_s = gongwen, every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every_s):
            self.gongwen.background.submit("sweep")


_worker_gongwen: Gongwen | None = None


def celery_app(gongwen: Gongwen) -> Celery:
    """The Celery application for ``gongwen``; the same object submits and (in a worker) runs jobs."""
    from celery import Celery

    global _worker_gongwen
    _worker_gongwen = gongwen
    app = Celery("gongwen", broker=gongwen.settings.broker_url)
    app.conf.update(
        task_acks_late=True, worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
        task_ignore_result=True, worker_hijack_root_logger=False,
        beat_schedule={"sweep": {"task": "gongwen.job", "schedule": SWEEP_SECONDS, "args": ("sweep",)}},
    )

    @app.task(name="gongwen.job")
    def job(name: str) -> None:
        run_job(_worker_gongwen, name)

    return app


class CeleryBackground:
    def __init__(self, gongwen: Gongwen):
        self.app = celery_app(gongwen)

    def submit(self, job: str) -> None:
        # Called after the commit: the work is already in the database, so a broker that cannot be
        # reached must not fail the request that committed it. The beat's next sweep finds the work.
        try:
            self.app.send_task("gongwen.job", args=(job,))
        except Exception:
            log.exception("background job %s not submitted to the broker; the next sweep will do it", job)
