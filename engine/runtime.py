"""The BPMN runtime: start instances, complete tasks, fire timers, deliver messages.

Every change to an instance is one *step*: one transaction that locks the instance
(a row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), loads its state, runs the
engine, and writes the new state together with the inbox, timer and message
projections, the audit events and the outbox rows. Either all of it commits or none.
A handler that raises does not undo the step: its own writes roll back to a
savepoint, its task is left in error with an incident an administrator can retry.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn import (
    INITIATOR_LANE,
    LANE_ROLES,
    ParsedProcess,
    cached_spec,
    dump_state,
    load_spec,
    load_state,
    new_workflow,
    to_plain,
)
from .calendar import CalendarData, WorkCalendar
from .config import Settings
from .db import is_sqlite
from .errors import Conflict, FormInvalid, GongwenError, NotFound, Refused, StepFailed
from .expressions import Evaluator, ExpressionError, RestrictedEnvironment
from .files import FileStore
from .inbox import ensure_can_act
from .models import (
    Incident,
    InstanceStatus,
    MessageWait,
    Outbox,
    OutboxStatus,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskState,
    Timer,
)
from .registry import FORMS, HANDLERS, NO_SAVEPOINT

if TYPE_CHECKING:
    from .core import Gongwen

log = logging.getLogger(__name__)

_TIMER_EVENTS = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
_JOBS = "gongwen.jobs"
_BATCH = "gongwen.batch"


@dataclass
class _Batch:
    ids: list[int]                # pre-drawn instance ids, taken from the end
    rows: dict[Any, list[dict]]   # table -> rows to insert when the batch ends
_LATEST = "gongwen.latest_definitions"


def correlation_key(correlation: dict | None) -> str | None:
    """The canonical text of a correlation, e.g. ``{"doc_id":7,"unit_id":3}``."""
    if not correlation:
        return None
    return json.dumps(correlation, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def after_commit(session: Session, job: str) -> None:
    """Run background ``job`` once this session's transaction has committed."""
    session.info.setdefault(_JOBS, set()).add(job)


def pop_jobs(session: Session) -> set[str]:
    return session.info.pop(_JOBS, set())


@dataclass
class _Completion:
    task_id: uuid.UUID
    person_id: int
    data: dict


@dataclass
class StepContext:
    """The state of the step in progress; handlers receive it as their context."""

    runtime: Runtime
    session: Session
    instance: ProcessInstance
    calendar: WorkCalendar
    task_name: str = ""
    completion: _Completion | None = None
    incidents: list[Incident] = field(default_factory=list)
    # What the projections held when the step began; they always match the loaded state.
    ready_before: set[uuid.UUID] = field(default_factory=set)
    waits_before: tuple[list, list] = ([], [])
    listens: tuple[str, ...] = ()

    @property
    def instance_id(self) -> int:
        return self.instance.id

    @property
    def owning_unit_id(self) -> int:
        return self.instance.owning_unit_id

    @property
    def initiator_id(self) -> int | None:
        return self.instance.initiator_id

    @property
    def files(self) -> FileStore:
        return self.runtime.gongwen.files

    @property
    def settings(self) -> Settings:
        return self.runtime.gongwen.settings

    def now(self) -> datetime:
        return clock.now()

    def audit(self, action: str, *, actor_id: int | None = None, **detail: Any) -> None:
        audit.record(self.session, action, actor_id=actor_id, unit_id=self.owning_unit_id,
                     instance_id=self.instance_id, **detail)

    def outbox(self, topic: str, key: str, payload: dict) -> None:
        self.runtime.enqueue(self.session, topic, key, payload, source_instance_id=self.instance_id)


_current: ContextVar[StepContext | None] = ContextVar("gongwen_step", default=None)


def current_step() -> StepContext:
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("no step in progress")
    return ctx


class _ScriptEngine(PythonScriptEngine):
    """Routes service tasks to registered handlers, each inside a savepoint."""

    def call_service(self, task, operation_name, operation_params):
        ctx = current_step()
        handler = HANDLERS.get(operation_name)
        if handler is None:
            raise StepFailed(f"处理程序 {operation_name!r} 未注册")
        params = {name: p["value"] for name, p in operation_params.items()}
        ctx.task_name = task.task_spec.bpmn_name or task.task_spec.name
        if operation_name in NO_SAVEPOINT:
            result = handler(ctx, **params)
        else:
            with ctx.session.begin_nested():
                result = handler(ctx, **params)
        return json.dumps(to_plain(result), ensure_ascii=False)


def _chain(err: BaseException | None) -> list[BaseException]:
    chain, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def _find(err: BaseException, kind: type[Exception]) -> Exception | None:
    return next((e for e in _chain(err) if isinstance(e, kind)), None)


def _describe(err: BaseException) -> str:
    """The message of the error that started it all, not SpiffWorkflow's wrapping of it."""
    chain = _chain(err)
    for link in chain:
        if isinstance(link, (GongwenError, ExpressionError)):
            return str(link)
    inner = next((e for e in reversed(chain) if not isinstance(e, WorkflowTaskException)), chain[0])
    return f"{type(inner).__name__}: {inner}"


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), clock.SHANGHAI)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.SHANGHAI)
    return value.astimezone(clock.UTC)


class Runtime:
    """Starts and moves process instances. One per process; thread-safe."""

    def __init__(self, gongwen: Gongwen):
        self.gongwen = gongwen
        self.db = gongwen.db
        self.evaluator = Evaluator(self._diagram_functions(), gongwen.settings.expression_timeout_s)
        self.script_engine = _ScriptEngine(RestrictedEnvironment(self.evaluator))
        self.calendar_data = CalendarData()
        self._definitions: dict[int, tuple[str, str]] = {}

    # -- what diagrams may call --------------------------------------------------------------------------

    def _diagram_functions(self) -> dict[str, Callable]:
        def calendar() -> WorkCalendar:
            ctx = _current.get()
            return ctx.calendar if ctx else WorkCalendar(None, self.gongwen.settings.office_hours, self.calendar_data)

        def working_days(days: int, start: Any = None) -> str:
            return calendar().add_working_days(_as_datetime(start) or clock.now(), int(days)).isoformat()

        def working_hours(hours: float, start: Any = None) -> str:
            return calendar().add_working_hours(_as_datetime(start) or clock.now(), float(hours)).isoformat()

        def count_working_days(first: Any, last: Any) -> int:
            def to_date(value: Any) -> date:
                return date.fromisoformat(value) if isinstance(value, str) else value

            return calendar().count_workdays(to_date(first), to_date(last))

        return {
            "now": lambda: clock.now().isoformat(),
            "today": lambda: clock.local_today().isoformat(),
            "working_days": working_days,
            "working_hours": working_hours,
            "count_working_days": count_working_days,
        }

    # -- definitions -------------------------------------------------------------------------------------

    def latest_definition(self, session: Session, process_id: str) -> ProcessDefinition:
        definition = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
            .order_by(ProcessDefinition.version.desc()).limit(1)
        )
        if definition is None:
            raise NotFound(f"流程 {process_id!r} 尚未部署")
        return definition

    def _parsed(self, session: Session, definition_id: int) -> ParsedProcess:
        """The parsed spec of a stored definition (rows never change, so both lookups are cached)."""
        known = self._definitions.get(definition_id)
        if known is None:
            definition = session.get(ProcessDefinition, definition_id)
            known = self._definitions[definition_id] = (definition.source_sha256, definition.process_id)
        sha256, process_id = known
        if cached := cached_spec(sha256, process_id):
            return cached
        definition = session.get(ProcessDefinition, definition_id)
        return load_spec(sha256, definition.source.content, definition.filename, process_id)

    # -- starting ----------------------------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        *,
        owning_unit_id: int,
        initiator_id: int | None = None,
        data: dict | None = None,
        correlation: dict | None = None,
        title: str = "",
        priority: int = 0,
        session: Session | None = None,
    ) -> int:
        """Start the latest version of ``process_id``; returns the new instance's id.

        ``title`` and ``priority`` (``Urgency.rank``) are how the inbox lists the instance's tasks.

        With ``session`` the start joins the caller's transaction (for starting many
        instances in one commit); otherwise it is a step of its own.
        """
        if session is None:
            with self.db.write() as own:
                return self.start(process_id, owning_unit_id=owning_unit_id, initiator_id=initiator_id,
                                  data=data, correlation=correlation, title=title, priority=priority,
                                  session=own)
        # A dispatch starts hundreds of instances in one transaction: look the definition up once.
        latest = session.info.setdefault(_LATEST, {})
        if process_id not in latest:
            found = self.latest_definition(session, process_id)
            latest[process_id] = (found.id, found.version)
        definition_id, version = latest[process_id]
        parsed = self._parsed(session, definition_id)
        now = clock.now()
        row = ProcessInstance(
            definition_id=definition_id, process_id=process_id, owning_unit_id=owning_unit_id,
            initiator_id=initiator_id, title=title, priority=priority, correlation=correlation_key(correlation),
            status=InstanceStatus.RUNNING, state="", revision=0, created_at=now, updated_at=now,
        )
        batch = session.info.get(_BATCH)
        if batch is not None and batch.ids:
            row.id = batch.ids.pop()  # written with its final state when the batch ends
        session.add(row)
        if row.id is None:
            session.flush()
        workflow = new_workflow(parsed, self.script_engine)
        start_task = workflow.get_tasks(state=SpiffState.READY)[0]
        start_task.data.update(data or {})
        start_task.data.update(instance_id=row.id, owning_unit_id=owning_unit_id, initiator_id=initiator_id)
        audit.record(session, "instance.start", actor_id=initiator_id, unit_id=owning_unit_id, instance_id=row.id,
                     process_id=process_id, version=version)
        self._run(session, row, workflow, parsed, lambda wf, ctx: None)
        return row.id

    # -- completing tasks --------------------------------------------------------------------------------

    def complete(self, task_id: uuid.UUID | str, person_id: int, data: dict | None = None) -> None:
        """Complete a ready task as ``person_id`` with form ``data``.

        The form's schema validates ``data`` first: :class:`FormInvalid` lists each bad
        field and nothing is changed. A task someone else completed, claimed or that was
        cancelled meanwhile raises :class:`Conflict`.
        """
        task_id = uuid.UUID(str(task_id))
        try:
            self._complete(task_id, person_id, data or {})
        except (FormInvalid, Refused) as err:
            # The step is undone; the refusal itself is kept, in a transaction of its own.
            log.info("task %s refused for person %s: %s", task_id, person_id, err)
            with self.db.write() as session:
                audit.record(session, "task.refused", actor_id=person_id, task_id=str(task_id), reason=str(err))
            raise

    def _complete(self, task_id: uuid.UUID, person_id: int, data: dict) -> None:
        with self.db.write() as session:
            table = Task.__table__
            task_row = session.connection().execute(select(table).where(table.c.id == task_id)).one_or_none()
            if task_row is None:
                raise NotFound("没有这个任务")
            try:
                values = FORMS[task_row.form_key].load(data)
            except ValidationError as err:
                messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
                raise FormInvalid(messages) from None

            def action(workflow: BpmnWorkflow, ctx: StepContext) -> None:
                if task_row.state != TaskState.READY:
                    raise Conflict("这个任务已经办理或已撤销，请刷新待办")
                ensure_can_act(ctx.session, task_row, person_id)
                spiff_task = workflow.get_task_from_id(task_id)
                if spiff_task is None or spiff_task.state != SpiffState.READY:
                    raise Conflict("这个任务当前不能办理，请刷新待办")
                # Who did it and for which unit travel with the form's data (e.g. into MI outputs).
                values.update(completed_by=person_id, completed_for_unit=task_row.candidate_unit_id)
                spiff_task.task_spec.add_data_from_form(spiff_task, values)
                spiff_task.run()
                ctx.completion = _Completion(task_id, person_id, to_plain(values))
                ctx.audit("task.complete", actor_id=person_id, task=task_row.spec_name, task_name=task_row.name,
                          task_id=str(task_id))

            self.step(task_row.instance_id, action, session)

    # -- the step ----------------------------------------------------------------------------------------

    def step(self, instance_id: int, action: Callable[[BpmnWorkflow, StepContext], Any],
             session: Session | None = None) -> Any:
        """Lock the instance, apply ``action``, run the engine and save, in one transaction."""
        if session is None:
            with self.db.write() as own:
                return self.step(instance_id, action, own)
        query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if not is_sqlite(session):
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise NotFound(f"没有编号为 {instance_id} 的流程实例")
        if row.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
            raise Conflict("这个流程已经结束")
        parsed = self._parsed(session, row.definition_id)
        workflow = load_state(row.state, parsed, self.script_engine)
        return self._run(session, row, workflow, parsed, action)

    def _run(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow, parsed: ParsedProcess,
             action: Callable[[BpmnWorkflow, StepContext], Any]) -> Any:
        calendar = WorkCalendar(session, self.gongwen.settings.office_hours, self.calendar_data)
        ctx = StepContext(self, session, row, calendar, ready_before=self._ready_ids(workflow),
                          waits_before=self._waits(workflow, parsed.event_messages), listens=parsed.event_messages)
        token = _current.set(ctx)
        try:
            result = action(workflow, ctx)
            self._advance(workflow, ctx)
            self._save(workflow, ctx)
            return result
        except GongwenError:
            raise
        except Exception as err:
            if known := _find(err, GongwenError):
                raise known from None
            log.exception("step on instance %s failed", row.id)
            raise StepFailed(f"流程无法继续，本次操作未生效：{_describe(err)}") from err
        finally:
            _current.reset(token)

    def _advance(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        try:
            workflow.do_engine_steps()
        except Exception as err:
            if refusal := _find(err, Refused):
                raise refusal from None
            failed = workflow.get_tasks(state=SpiffState.ERROR)
            if not failed:
                raise
            message = _describe(err)
            for task in failed:
                incident = Incident(instance_id=ctx.instance_id, task_id=task.id,
                                    task_name=task.task_spec.bpmn_name or task.task_spec.name,
                                    error=message, created_at=clock.now())
                ctx.session.add(incident)
                ctx.incidents.append(incident)
                ctx.audit("incident.open", task=task.task_spec.name, error=message)
            log.warning("instance %s: task failed: %s", ctx.instance_id, message)

    def _save(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        row, session, now = ctx.instance, ctx.session, clock.now()
        self._project_tasks(workflow, ctx)
        self._project_waits(workflow, ctx)
        self._send_thrown_messages(workflow, ctx)
        row.state = dump_state(workflow)
        row.revision += 1
        row.updated_at = now
        if workflow.is_completed():
            row.status = InstanceStatus.COMPLETED
            row.completed_at = now
            ctx.audit("instance.complete")
        elif ctx.incidents or (row.status == InstanceStatus.ERROR and workflow.get_tasks(state=SpiffState.ERROR)):
            # Only a failed handler makes a task ERROR, so the tree is searched only when one may remain.
            row.status = InstanceStatus.ERROR
        else:
            row.status = InstanceStatus.RUNNING
        if _BATCH not in session.info:
            session.flush()

    # -- projections -------------------------------------------------------------------------------------

    @staticmethod
    def _insert(session: Session, table, rows: list[dict]) -> None:
        batch = session.info.get(_BATCH)
        if batch is not None:
            batch.rows.setdefault(table, []).extend(rows)
        else:
            session.connection().execute(insert(table), rows)

    @contextmanager
    def batch(self, session: Session, count: int) -> Iterator[None]:
        """Start up to ``count`` instances in ``session`` with a handful of statements.

        A dispatch to a thousand units starts a thousand instances; one by one that is five
        round trips each. Inside a batch, PostgreSQL instance ids are drawn from the sequence in
        one query, and the instances, their inbox rows and timers are written together at the end.
        """
        ids = []
        if count and not is_sqlite(session):
            ids = list(session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('process_instance', 'id')) FROM generate_series(1, :n)"),
                {"n": count}))
        session.info[_BATCH] = _Batch(ids[::-1], {})
        try:
            yield
            batch = session.info.pop(_BATCH)
            session.flush()
            for table, rows in batch.rows.items():
                session.connection().execute(insert(table), rows)
        finally:
            session.info.pop(_BATCH, None)

    @staticmethod
    def _ready_ids(workflow: BpmnWorkflow) -> set[uuid.UUID]:
        return {t.id for t in workflow.get_tasks(state=SpiffState.READY, manual=True)}

    @staticmethod
    def _waits(workflow: BpmnWorkflow, listens: tuple[str, ...] = ()) -> tuple[list[datetime], list[str]]:
        """Due times of waiting timers and names of awaited messages, sorted."""
        timers, messages = [], list(listens) if listens and not workflow.is_completed() else []
        for event in workflow.waiting_events():
            if event.event_type in _TIMER_EVENTS and isinstance(event.value, str):
                timers.append(datetime.fromisoformat(event.value).astimezone(clock.UTC))
            elif event.event_type == "MessageEventDefinition":
                messages.append(event.name)
        return sorted(timers), sorted(messages)

    def _project_tasks(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        # Core statements on the session's connection: the ORM's bulk machinery costs more than the SQL.
        conn, table = ctx.session.connection(), Task.__table__
        ready = {t.id: t for t in workflow.get_tasks(state=SpiffState.READY, manual=True)}
        now = clock.now()
        for task_id in ctx.ready_before - ready.keys():
            done = ctx.completion is not None and ctx.completion.task_id == task_id
            values: dict[str, Any] = {"state": TaskState.COMPLETED if done else TaskState.CANCELLED,
                                      "completed_at": now}
            if done:
                values |= {"completed_by_id": ctx.completion.person_id, "form_data": ctx.completion.data}
            conn.execute(update(table).where(table.c.id == task_id).values(**values))
        new = [self._task_row(task, ctx, now) for task_id, task in ready.items() if task_id not in ctx.ready_before]
        if new:
            self._insert(ctx.session, table, new)

    def _task_row(self, task, ctx: StepContext, now: datetime) -> dict:
        spec = task.task_spec
        props = spec.extensions.get("properties", {})
        lane = spec.lane

        def prop(name: str) -> Any:
            if name not in props:
                return None
            try:
                return self.evaluator.evaluate(props[name], task.data)
            except ExpressionError as err:
                raise StepFailed(f"任务“{spec.bpmn_name or spec.name}”的 {name} 表达式出错：{err}") from None

        person = prop("candidatePerson")
        if person is None and lane == INITIATOR_LANE:
            person = ctx.initiator_id
        role = props.get("candidateRole") or (LANE_ROLES.get(lane) if lane else None)
        return {
            "id": task.id, "instance_id": ctx.instance_id, "spec_name": spec.name,
            "name": spec.bpmn_name or spec.name, "form_key": props["formKey"], "lane": lane,
            "candidate_role": role if lane != INITIATOR_LANE else None,
            "candidate_unit_id": prop("candidateUnit") or ctx.owning_unit_id,
            "candidate_department_id": prop("candidateDepartment"),
            "candidate_person_id": person, "assignee_id": None, "state": TaskState.READY,
            "created_at": now, "due_at": _as_datetime(prop("due")),
        }

    def _project_waits(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        conn, row = ctx.session.connection(), ctx.instance
        (timers, messages), (old_timers, old_messages) = self._waits(workflow, ctx.listens), ctx.waits_before
        if timers != old_timers:
            timer = Timer.__table__
            if old_timers:
                conn.execute(delete(timer).where(timer.c.instance_id == row.id))
            if timers:
                self._insert(ctx.session, timer, [{"instance_id": row.id, "due_at": t} for t in timers])
        if messages != old_messages:
            wait = MessageWait.__table__
            if old_messages:
                conn.execute(delete(wait).where(wait.c.instance_id == row.id))
            if messages:
                self._insert(ctx.session, wait, [
                    {"instance_id": row.id, "name": name, "correlation": row.correlation} for name in messages
                ])

    def _send_thrown_messages(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        for i, event in enumerate(workflow.get_events()):
            payload = to_plain(event.payload) if event.payload is not None else {}
            target = payload.pop("to", None) if isinstance(payload, dict) else None
            self.send_message(ctx.session, event.event_definition.name, target, payload,
                              key=f"message:{ctx.instance_id}:{ctx.instance.revision + 1}:{i}",
                              source_instance_id=ctx.instance_id)

    # -- timers ------------------------------------------------------------------------------------------

    @staticmethod
    def due_instances(session: Session, limit: int = 500) -> list[int]:
        """Instances with a timer due by now, soonest first.

        Rows come in due order straight off the due_at index and are deduplicated here: a
        GROUP BY makes SQLite walk every waiting timer through the instance index instead.
        """
        rows = session.scalars(
            select(Timer.instance_id).where(Timer.due_at <= clock.now()).order_by(Timer.due_at).limit(limit * 4)
        ).all()
        return list(dict.fromkeys(rows))[:limit]

    def fire_due_timers(self, limit: int = 500) -> int:
        """Fire every timer due by now, each instance in its own step; returns instances stepped."""
        with self.db.session() as session:
            due = self.due_instances(session, limit)

        def fire(workflow: BpmnWorkflow, ctx: StepContext) -> None:
            workflow.refresh_timers()
            ctx.audit("timer.fire")

        fired = 0
        for instance_id in due:
            try:
                self.step(instance_id, fire)
                fired += 1
            except GongwenError as err:
                log.warning("timer on instance %s not fired: %s", instance_id, err)
        return fired

    # -- messages ----------------------------------------------------------------------------------------

    def send_message(self, session: Session, name: str, correlation: dict | None, payload: dict | None = None,
                     *, key: str | None = None, source_instance_id: int | None = None) -> None:
        """Send message ``name`` to the instances that wait for it under ``correlation``.

        Delivered after the caller's transaction commits, each receiver in a step of its
        own; a message nobody waits for becomes a dead letter.
        """
        self.enqueue(session, "message", key or f"message:{uuid.uuid4()}",
                     {"name": name, "correlation": correlation_key(correlation), "data": payload or {}},
                     source_instance_id=source_instance_id)

    def enqueue(self, session: Session, topic: str, key: str, payload: dict,
                source_instance_id: int | None = None) -> None:
        session.add(Outbox(topic=topic, key=key, payload=payload, status=OutboxStatus.PENDING,
                           source_instance_id=source_instance_id, created_at=clock.now()))
        after_commit(session, "deliver_outbox")

    def deliver_message(self, session: Session, item: Outbox) -> None:
        name, correlation, data = item.payload["name"], item.payload["correlation"], item.payload["data"]
        waiting = session.scalars(
            select(MessageWait.instance_id).where(MessageWait.name == name, MessageWait.correlation == correlation)
        ).all() if correlation else []

        def receive(workflow: BpmnWorkflow, ctx: StepContext) -> bool:
            definition = next((t.task_spec.event_definition for t in workflow.event_manager.tasks.values()
                               if getattr(t.task_spec.event_definition, "name", None) == name), None)
            if definition is None and name in ctx.listens:
                definition = MessageEventDefinition(name)  # starts an event subprocess
            if definition is None:
                return False
            try:
                workflow.send_event(BpmnEvent(definition, payload=data))
            except WorkflowException:
                return False
            ctx.audit("message.receive", message=name, outbox_id=item.id)
            return True

        delivered = 0
        for instance_id in waiting:
            try:
                with session.begin_nested():
                    delivered += bool(self.step(instance_id, receive, session))
            except GongwenError as err:
                log.warning("message %s not delivered to instance %s: %s", name, instance_id, err)
        if delivered:
            item.status = OutboxStatus.DONE
        else:
            item.status = OutboxStatus.DEAD
            audit.record(session, "message.dead_letter", instance_id=item.source_instance_id,
                         message=name, correlation=correlation)
        item.done_at = clock.now()

    # -- progress, for the diagram ----------------------------------------------------------------------

    def progress(self, session: Session, instance_id: int) -> dict:
        """Which diagram elements are done and which are waiting now (for "where is it now")."""
        row = session.get(ProcessInstance, instance_id)
        parsed = self._parsed(session, row.definition_id)
        workflow = load_state(row.state, parsed, self.script_engine)
        done, current = set(), set()
        for task in workflow.get_tasks():
            element = getattr(task.task_spec, "bpmn_id", None)
            if element is None:
                continue
            if task.state == SpiffState.COMPLETED:
                done.add(element)
            elif task.state in (SpiffState.READY, SpiffState.WAITING, SpiffState.STARTED, SpiffState.ERROR):
                current.add(element)
        return {"xml": parsed.content.decode(), "done": sorted(done - current), "current": sorted(current)}

    # -- incidents ---------------------------------------------------------------------------------------

    def retry_incident(self, incident_id: int, actor_id: int | None = None) -> Incident | None:
        """Put the failed task back to ready and run the engine again.

        Returns the new incident if the task failed again, else None.
        """
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(f"没有编号为 {incident_id} 的故障")
            if incident.resolved_at is not None:
                raise Conflict("这个故障已经处理过")
            instance_id, task_id = incident.instance_id, incident.task_id

        def retry(workflow: BpmnWorkflow, ctx: StepContext) -> None:
            task = workflow.get_task_from_id(task_id)
            if task is None or task.state != SpiffState.ERROR:
                raise Conflict("这个任务不处于故障状态")
            task._set_state(SpiffState.READY)
            ctx.session.get(Incident, incident_id).resolved_at = clock.now()
            ctx.audit("incident.retry", actor_id=actor_id, incident_id=incident_id)

        self.step(instance_id, retry)
        with self.db.session() as session:
            return session.scalar(select(Incident).where(Incident.instance_id == instance_id, Incident.id > incident_id,
                                                         Incident.resolved_at.is_(None)).limit(1))
