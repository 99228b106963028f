"""Arrivals pushed to open pages: one watcher per web process, and the streams it wakes.

Each page of a logged-in person holds one ``/events`` stream (server-sent events; web/asgi.py
authenticates it and hands it to :meth:`Hub.serve`). An open stream costs nothing while nothing
happens: it waits on an asyncio event, and every 25 s writes a comment so that proxies keep it.

One watcher thread per web process, started with the first stream, asks the database twice a
second, in one query, what is new since its last look: ``audit_event`` rows (every step writes
them, with its instance; so do claims, session ends and role changes) and ``notification`` rows.
From the tasks of the instances concerned it learns whose counts may have changed (the person a
task is offered or assigned to, who completed it, or the (unit, role) pool it is offered to) and
wakes only those people, whose counts are taken again off the event loop (the inbox's rule and
the unread notices, a hundred people in five queries) and sent only if they changed. No broker, no
change to the step: whichever process commits (a web or Celery worker, the CLI), the watcher sees it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from engine.core import Gongwen
from engine.models import AuditEvent, Person, PersonStatus, RoleGrant, Task, TaskState
from handlers.notifications.models import Notification

log = logging.getLogger(__name__)

LOOK_EVERY_S = 0.5      # the watcher's pace: the most an arrival waits before anyone is woken
HEARTBEAT_S = 25.0      # a comment on each idle stream, under the usual 30-60 s proxy timeouts
PER_PERSON = 5          # streams per person (a sixth ends the oldest): a browser's 6th HTTP/1.1 connection stays free
RETRY_MS = (3000, 15000)  # a dropped stream's browser reconnects after a time drawn from here: spread out
GAP_WAIT_S = 30.0       # how long an id below the last seen may still commit (PostgreSQL)
LOOK_LIMIT = 5000       # rows per table and look; a longer backlog is read by the next look at once
RECOUNT_BATCH = 100     # people counted per trip to the database thread
# Audit actions naming a person (detail.person_id) whose sessions or reach may have changed.
PERSON_ACTIONS = ("person.sessions_end", "person.freeze", "person.unfreeze", "person.move", "role.grant", "role.revoke")
# Why a stream ends, and what the page is told (a restart is not told: the browser reconnects).
TOLD = {"session": "登录已失效，请重新登录", "idle": "长时间未操作，请重新登录",
        "elsewhere": "打开的页面过多，本页不再自动更新"}
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
           (b"x-accel-buffering", b"no"), (b"x-content-type-options", b"nosniff")]

Pool = tuple[int, str]  # (unit id, role value): the pool of unassigned tasks a grant reaches
Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]


# -- what the database says ---------------------------------------------------------------------------

def counts(session: Session, person_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Each person's ready tasks (as the inbox counts them) and unread notices, in five queries for all."""
    people = list(person_ids)
    if not people:
        return {}
    unread = dict(session.execute(
        select(Notification.person_id, func.count()).where(Notification.person_id.in_(people),
                                                           Notification.read_at.is_(None))
        .group_by(Notification.person_id)).all())
    tasks = task_counts(session, people)
    return {p: {"tasks": tasks[p], "unread": unread.get(p, 0)} for p in people}


def task_counts(session: Session, people: list[int]) -> dict[int, int]:
    """``inbox.task_count`` of each of ``people``, for all of them at once.

    The inbox's rule (engine/inbox.py ``_offered_to``), summed from three grouped counts instead of
    one query per person: ready tasks assigned to the person; offered to them by name and not taken;
    and not taken in the pools of their business grants, a pool being (unit, role) and the task's
    department unset or one the person holds the role in. The three are disjoint (assigned or not;
    named or pooled), and someone without a business grant has none, as in the inbox.
    tests/test_push.py checks the sums against ``inbox.task_count`` for everyone in the demo.
    """
    ready = Task.state == TaskState.READY
    grants: dict[int, dict[Pool, set[int | None]]] = {}
    for person_id, role, unit_id, department_id in session.execute(
            select(RoleGrant.person_id, RoleGrant.role, RoleGrant.unit_id, RoleGrant.department_id)
            .where(RoleGrant.person_id.in_(people))):
        if not role.is_admin:
            grants.setdefault(person_id, {}).setdefault((unit_id, role.value), {None}).add(department_id)
    reached = [p for p in people if p in grants]
    assigned = dict(session.execute(
        select(Task.assignee_id, func.count()).where(ready, Task.assignee_id.in_(reached))
        .group_by(Task.assignee_id)).all()) if reached else {}
    named = dict(session.execute(
        select(Task.candidate_person_id, func.count()).where(ready, Task.candidate_person_id.in_(reached),
                                                             Task.assignee_id.is_(None))
        .group_by(Task.candidate_person_id)).all()) if reached else {}
    units = {unit for pools in grants.values() for unit, _ in pools}
    pooled: dict[tuple[int, str, int | None], int] = {}
    if units:
        for unit, role, department, count in session.execute(
                select(Task.candidate_unit_id, Task.candidate_role, Task.candidate_department_id, func.count())
                .where(ready, Task.candidate_unit_id.in_(units), Task.candidate_person_id.is_(None),
                       Task.assignee_id.is_(None), Task.candidate_role.is_not(None))
                .group_by(Task.candidate_unit_id, Task.candidate_role, Task.candidate_department_id)):
            pooled[(unit, role.value, department)] = count
    return {p: assigned.get(p, 0) + named.get(p, 0) + sum(
        pooled.get((unit, role, department), 0)
        for (unit, role), departments in grants[p].items() for department in departments)
        if p in grants else 0 for p in people}


def pools_of(session: Session, person_id: int) -> frozenset[Pool]:
    """The (unit, role) pools of the person's business grants (administrators' roles reach no task)."""
    rows = session.execute(select(RoleGrant.role, RoleGrant.unit_id).where(RoleGrant.person_id == person_id))
    return frozenset((unit, role.value) for role, unit in rows if not role.is_admin and unit is not None)


@dataclass
class Touched:
    """Whom a look found changes for."""

    persons: set[int] = field(default_factory=set)
    pools: set[Pool] = field(default_factory=set)
    recheck: set[int] = field(default_factory=set)  # sessions or grants may have changed
    full: bool = False                                # a look hit LOOK_LIMIT: look again at once
    everyone: bool = False                            # the watcher (re)started: check every stream again

    def __bool__(self) -> bool:
        return bool(self.persons or self.pools or self.recheck or self.everyone)


class Cursor:
    """The ids of one table not yet seen: those above ``last``, and gaps below it that may still commit.

    PostgreSQL draws an id when a row is inserted and shows the row when its transaction commits,
    so a row may appear below one already seen; each gap is looked at again for ``GAP_WAIT_S``
    (a rolled-back insert leaves one for good). SQLite serialises writers and leaves none.
    """

    MAX_GAPS = 50

    def __init__(self, column: Any, last: int):
        self.column, self.last = column, last
        self.gaps: list[tuple[int, int, float, set[int]]] = []  # (low, high, until, ids seen in it)

    def where(self) -> Any:
        return or_(self.column > self.last, *(self.column.between(low, high) for low, high, _, _ in self.gaps))

    def take(self, ids: Iterable[int], now: float) -> set[int]:
        """Which of the ids a look returned are new; records the gaps they leave."""
        new = set()
        for i in sorted(ids):
            gap = next((g for g in self.gaps if g[0] <= i <= g[1]), None)
            if gap is not None:
                if i not in gap[3]:
                    gap[3].add(i)
                    new.add(i)
            elif i > self.last:
                if i > self.last + 1:
                    self.gaps.append((self.last + 1, i - 1, now + GAP_WAIT_S, set()))
                self.last = i
                new.add(i)
        self.gaps = [g for g in self.gaps if g[2] > now and len(g[3]) <= g[1] - g[0]][-self.MAX_GAPS:]
        return new


class Watcher:
    """What is new in the database since the last look, as people and pools to wake."""

    def __init__(self, session: Session):
        self.audit = Cursor(AuditEvent.id, session.scalar(select(func.max(AuditEvent.id))) or 0)
        self.notes = Cursor(Notification.id, session.scalar(select(func.max(Notification.id))) or 0)

    def look(self, session: Session) -> Touched:
        """One query when nothing happened; then the tasks of the instances that changed."""
        audit = select(literal("a").label("kind"), AuditEvent.id.label("id"), AuditEvent.instance_id.label("ref"),
                       AuditEvent.action.label("action"), AuditEvent.at.label("at")) \
            .where(self.audit.where()).order_by(AuditEvent.id).limit(LOOK_LIMIT).subquery()
        notes = select(literal("n"), Notification.id, Notification.person_id, null(), Notification.created_at) \
            .where(self.notes.where()).order_by(Notification.id).limit(LOOK_LIMIT).subquery()
        rows = session.execute(union_all(select(audit), select(notes))).all()
        now, touched = time.monotonic(), Touched()
        events = [r for r in rows if r.kind == "a"]
        notices = [r for r in rows if r.kind == "n"]
        touched.full = max(len(events), len(notices)) >= LOOK_LIMIT
        fresh = self.audit.take((r.id for r in events), now)
        events = [r for r in events if r.id in fresh]
        fresh = self.notes.take((r.id for r in notices), now)
        touched.persons = {r.ref for r in notices if r.id in fresh}
        personal = [r.id for r in events if r.action in PERSON_ACTIONS]
        if personal:
            details = session.scalars(select(AuditEvent.detail).where(AuditEvent.id.in_(personal)))
            touched.recheck = {d["person_id"] for d in details if isinstance(d.get("person_id"), int)}
        instances = sorted({r.ref for r in events if r.ref is not None})
        if instances:
            # A task closed by these events carries their time; earlier closed ones changed nobody's count.
            since = min(r.at for r in events if r.ref is not None) - timedelta(minutes=1)
            for start in range(0, len(instances), 500):
                for unit, role, *people in session.execute(
                        select(Task.candidate_unit_id, Task.candidate_role, Task.candidate_person_id,
                               Task.assignee_id, Task.completed_by_id)
                        .where(Task.instance_id.in_(instances[start:start + 500]),
                               or_(Task.state == TaskState.READY, Task.completed_at >= since))):
                    touched.persons.update(p for p in people if p is not None)
                    if role is not None and unit is not None:
                        touched.pools.add((unit, role.value))
        return touched


# -- the streams ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Visitor:
    """Who opened a stream, as the Flask app's session check found them."""

    person_id: int
    generation: int | None   # the session's
    idle_left_s: float       # until the session's idle timeout
    pools: frozenset[Pool]


class Watch:
    """One person's open streams and what they were last counted at."""

    def __init__(self, person_id: int, pools: frozenset[Pool]):
        self.person_id, self.pools = person_id, pools
        self.listeners: list[Listener] = []
        self.counts: dict[str, int] | None = None


class Listener:
    """One open stream."""

    def __init__(self, watch: Watch, generation: int | None, deadline: float):
        self.watch, self.generation, self.deadline = watch, generation, deadline
        self.wake = asyncio.Event()
        self.ended: str | None = None
        self.sent: dict[str, int] | None = None

    def end(self, reason: str) -> None:
        self.ended = self.ended or reason
        self.wake.set()


_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


def shutdown_all() -> None:
    """End every stream of this process (the server is stopping; browsers reconnect to another)."""
    for hub in list(_HUBS):
        hub.shutdown()


class Hub:
    """The streams of one web process, indexed by person and by pool, and the watcher that wakes them."""

    def __init__(self, gongwen: Gongwen, *, look_every_s: float = LOOK_EVERY_S, per_person: int = PER_PERSON):
        self.gongwen, self.look_every_s, self.per_person = gongwen, look_every_s, per_person
        self.executor = ThreadPoolExecutor(2, thread_name_prefix="push")  # sessions checked, counts taken
        self.watches: dict[int, Watch] = {}
        self.pools: dict[Pool, set[int]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._dirty: set[int] = set()
        self._recheck: set[int] = set()
        self._counting: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.counted: Counter[int] = Counter()  # how often each person was counted: only those concerned are
        _HUBS.add(self)

    # on the event loop ----------------------------------------------------------------------------------

    async def serve(self, visitor: Visitor, receive: Receive, send: Send) -> None:
        """The stream of one page: its counts now, again whenever they change, until it ends."""
        listener = self._open(visitor)
        gone = asyncio.ensure_future(_disconnected(receive))
        gone.add_done_callback(lambda _: listener.end("gone"))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await _write(send, f"retry: {random.randint(*RETRY_MS)}\n\n")
            while await self._next(listener, send):
                pass
            if listener.ended in TOLD:
                await _write(send, _event("ended", {"reason": listener.ended, "text": TOLD[listener.ended]}))
            if listener.ended != "gone":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            self._close(listener)

    async def _next(self, listener: Listener, send: Send) -> bool:
        """Wait for a wake, the heartbeat or the idle timeout; False when the stream is to end."""
        left = listener.deadline - self.loop.time()
        if left <= 0:
            listener.end("idle")
        elif not listener.wake.is_set():
            try:
                await asyncio.wait_for(listener.wake.wait(), min(HEARTBEAT_S, left))
            except TimeoutError:
                if listener.deadline > self.loop.time():
                    await _write(send, ": \n\n")
                return True
        listener.wake.clear()
        if listener.ended:
            return False
        current = listener.watch.counts
        if current is not None and current != listener.sent:
            listener.sent = current
            await _write(send, _event("inbox", current))
        return True

    def _open(self, visitor: Visitor) -> Listener:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        watch = self.watches.get(visitor.person_id)
        if watch is None:
            watch = self.watches[visitor.person_id] = Watch(visitor.person_id, visitor.pools)
            self._index(watch, frozenset(), visitor.pools)
        if len(watch.listeners) >= self.per_person:
            watch.listeners[0].end("elsewhere")
            watch.listeners.pop(0)
        listener = Listener(watch, visitor.generation, self.loop.time() + visitor.idle_left_s)
        watch.listeners.append(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="push-watcher", daemon=True)
            self._thread.start()
        # Counted after the stream is registered: a change committed meanwhile wakes it, none is lost.
        self._wake({visitor.person_id}, set())
        return listener

    def _close(self, listener: Listener) -> None:
        watch = listener.watch
        if listener in watch.listeners:
            watch.listeners.remove(listener)
        if not watch.listeners and self.watches.get(watch.person_id) is watch:
            del self.watches[watch.person_id]
            self._index(watch, watch.pools, frozenset())

    def _index(self, watch: Watch, old: frozenset[Pool], new: frozenset[Pool]) -> None:
        for pool in old - new:
            people = self.pools.get(pool, set())
            people.discard(watch.person_id)
            if not people:
                self.pools.pop(pool, None)
        for pool in new - old:
            self.pools.setdefault(pool, set()).add(watch.person_id)
        watch.pools = new

    def _wake(self, persons: set[int], recheck: set[int]) -> None:
        self._dirty |= {p for p in persons | recheck if p in self.watches}
        self._recheck |= recheck & self.watches.keys()
        if self._dirty and (self._counting is None or self._counting.done()):
            self._counting = self.loop.create_task(self._count())

    def _touched(self, touched: Touched) -> None:
        persons = touched.persons | {p for pool in touched.pools for p in self.pools.get(pool, ())}
        everyone = set(self.watches) if touched.everyone else set()
        self._wake(persons, touched.recheck | everyone)

    async def _count(self) -> None:
        """Count the woken people, a batch at a time, and wake the streams whose counts changed."""
        while self._dirty:
            batch = set(list(self._dirty)[:RECOUNT_BATCH])
            self._dirty -= batch
            self.counted.update(batch)
            recheck, self._recheck = self._recheck & batch, self._recheck - batch
            try:
                found, people = await self.loop.run_in_executor(self.executor, self._counts, batch, recheck)
            except Exception:
                log.exception("push: counting %d people failed", len(batch))
                await asyncio.sleep(1)
                continue
            for person_id, (status, generation, pools) in people.items():
                watch = self.watches.get(person_id)
                for listener in list(watch.listeners) if watch else []:
                    if status != PersonStatus.ACTIVE or listener.generation != generation:
                        listener.end("session")
                if watch:
                    self._index(watch, watch.pools, pools)
            for person_id, current in found.items():
                watch = self.watches.get(person_id)
                if watch is None:
                    continue
                watch.counts = current
                for listener in watch.listeners:
                    if listener.sent != current:  # a new stream, or counts that changed
                        listener.wake.set()

    def shutdown(self) -> None:
        """Stop the watcher and end every stream (they end quietly: browsers reconnect elsewhere)."""
        self._stop.set()
        for watch in list(self.watches.values()):
            for listener in watch.listeners:
                listener.end("restart")

    # on threads -----------------------------------------------------------------------------------------

    def _counts(self, batch: set[int], recheck: set[int]) -> tuple[dict, dict]:
        with self.gongwen.db.session() as session:
            found = counts(session, batch)
            people = {person_id: (status, generation, pools_of(session, person_id))
                      for person_id, status, generation in session.execute(
                          select(Person.id, Person.status, Person.session_generation)
                          .where(Person.id.in_(recheck)))} if recheck else {}
        return found, people

    def _watch(self) -> None:
        """The watcher thread: look, wake, wait; while nobody listens, it does not look."""
        watcher, delay = None, 0.0
        while not self._stop.wait(delay):
            delay = self.look_every_s
            if not self.watches:
                watcher = None  # nobody to tell: a new stream is counted anyway
                continue
            try:
                with self.gongwen.db.session() as session:
                    if watcher is None:
                        watcher = Watcher(session)
                        # Streams opened before its first look are checked again: nothing slips between.
                        touched = Touched(everyone=True)
                    else:
                        touched = watcher.look(session)
            except Exception:
                log.exception("push: looking for changes failed")
                delay = 5.0
                continue
            if touched.full:
                delay = 0.0
            if touched and self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._touched, touched)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _write(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
