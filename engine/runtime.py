"""The BPMN runtime: start instances, complete tasks, fire timers, deliver messages.

Every change to an instance is one *step* (:meth:`Runtime.step`): one transaction that locks
the instance (a row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), loads its state, applies
an action, runs the engine, and writes the new state together with the inbox, timer and message
projections (:mod:`engine.projections`), the audit events and the outbox rows. Either all of it
commits or none. A handler that raises does not undo the step: its own writes roll back to a
savepoint, its task is left in error with an incident an administrator can retry. What code
running inside a step sees is in :mod:`engine.step`.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.orm import Bundle, Session

from . import audit, clock
from .bpmn import ParsedProcess, cached_spec, dump_state, load_spec, load_state, new_workflow, to_plain
from .calendar import CalendarData, WorkCalendar
from .db import is_sqlite
from .deploy import load_declared_forms
from .errors import Conflict, FormInvalid, GongwenError, NotFound, Refused, StepFailed
from .expressions import Evaluator, RestrictedEnvironment
from .files import Upload
from .inbox import ensure_can_act
from .messages import correlation_key, enqueue, send_message, send_thrown_messages
from .models import Incident, InstanceStatus, ProcessDefinition, ProcessInstance, Task, TaskState, Timer
from .projections import BATCH, Batch, instance_ids, project_tasks, project_waits, ready_ids, waits
from .registry import COMPLETION_SIGNERS, FORMS
from .step import (
    Completion,
    ScriptEngine,
    StepContext,
    describe_failure,
    diagram_functions,
    find_cause,
    step_in_progress,
)

if TYPE_CHECKING:
    from .core import Gongwen

log = logging.getLogger(__name__)
# A workflow's saved state, in characters of JSON: a document's journey needs tens of KiB; more
# than this is a diagram's script or a form piling data up, and the step is refused.
MAX_STATE_CHARS = 2 * 1024 * 1024

_LATEST = "gongwen.latest_definitions"


def _locking(query: Select) -> dict[bool, Select]:
    """``query`` by "is this SQLite?": there the step's ``BEGIN IMMEDIATE`` already locks; on PostgreSQL it
    locks the instance row it reads.

    Every step runs one of these: they are built once, because building and keying a statement anew
    costs more of the client's CPU than its loopback round trip (issue 16).
    """
    return {True: query, False: query.with_for_update(of=ProcessInstance)}


_TASK_AND_INSTANCE = _locking(
    select(ProcessInstance, Bundle("task", *Task.__table__.c))
    .join(Task.__table__, Task.__table__.c.instance_id == ProcessInstance.id)
    .where(Task.__table__.c.id == bindparam("task_id")))
_INSTANCE = _locking(select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id")))


class Runtime:
    """Starts and moves process instances. One per process; thread-safe."""

    def __init__(self, gongwen: Gongwen):
        self.gongwen = gongwen
        self.db = gongwen.db
        self.evaluator = Evaluator(diagram_functions(self), gongwen.settings.expression_timeout_s)
        self.script_engine = ScriptEngine(RestrictedEnvironment(self.evaluator))
        self.calendar_data = CalendarData()
        self._definitions: dict[int, tuple[str, str]] = {}
        FORMS.loader = functools.partial(load_declared_forms, gongwen.db)  # declared forms deployed elsewhere

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
        batch = session.info.get(BATCH)
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
            # The task's row and its instance, locked, in one statement (a round trip less per completion).
            found = session.execute(_TASK_AND_INSTANCE[is_sqlite(session)], {"task_id": task_id}).one_or_none()
            if found is None:
                raise NotFound("没有这个任务")
            instance, task_row = found
            spec = FORMS[task_row.form_key]
            try:
                # A pick must be one the form offered this person.
                offered = spec.offered(session, person_id, instance.owning_unit_id) if spec.choices is not None \
                    else None
                values = spec.load(data, offered=offered)
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
                for name, value in values.items():  # a file the form carries is kept by its hash, in this step
                    if isinstance(value, Upload):
                        values[name] = ctx.files.put(ctx.session, value.content, value.media_type)
                if spec.on_complete is not None:
                    spec.on_complete(ctx, task_row, person_id, values)
                if spec.signed:
                    for sign in COMPLETION_SIGNERS:
                        sign(ctx, task_row, person_id, to_plain(values))
                spiff_task.task_spec.add_data_from_form(spiff_task, values)
                spiff_task.run()
                ctx.completion = Completion(task_id, person_id, to_plain(values))
                ctx.audit("task.complete", actor_id=person_id, task=task_row.spec_name, task_name=task_row.name,
                          task_id=str(task_id))

            self._step(session, instance, action)

    # -- the step ----------------------------------------------------------------------------------------

    def step(self, instance_id: int, action: Callable[[BpmnWorkflow, StepContext], Any],
             session: Session | None = None) -> Any:
        """Lock the instance, apply ``action``, run the engine and save, in one transaction.

        ``action(workflow, ctx)`` changes the loaded workflow (completes a task, delivers an
        event, ...); what it returns, ``step`` returns. A handler that fails leaves its task in
        error with an incident and the step goes on. Anything else that raises fails the step
        and nothing of it may commit: a :class:`GongwenError` is raised as it is (also from
        under SpiffWorkflow's wrapping), any other error as :class:`StepFailed`. With
        ``session`` the step joins the caller's transaction; otherwise it has one of its own.
        """
        if session is None:
            with self.db.write() as own:
                return self.step(instance_id, action, own)
        row = session.scalar(_INSTANCE[is_sqlite(session)], {"instance_id": instance_id})
        if row is None:
            raise NotFound(f"没有编号为 {instance_id} 的流程实例")
        return self._step(session, row, action)

    def _step(self, session: Session, row: ProcessInstance, action: Callable[[BpmnWorkflow, StepContext], Any]) -> Any:
        """:meth:`step` on the instance ``row``, already locked by the caller."""
        if row.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
            raise Conflict("这个流程已经结束")
        parsed = self._parsed(session, row.definition_id)
        workflow = load_state(row.state, parsed, self.script_engine)
        return self._run(session, row, workflow, parsed, action)

    def _run(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow, parsed: ParsedProcess,
             action: Callable[[BpmnWorkflow, StepContext], Any]) -> Any:
        calendar = WorkCalendar(session, self.gongwen.settings.office_hours, self.calendar_data)
        ctx = StepContext(self, session, row, calendar, ready_before=ready_ids(workflow),
                          waits_before=waits(workflow, parsed.event_messages), listens=parsed.event_messages)
        token = step_in_progress.set(ctx)
        try:
            result = action(workflow, ctx)
            self._advance(workflow, ctx)
            self._save(workflow, ctx)
            return result
        except GongwenError:
            raise
        except Exception as err:
            if known := find_cause(err, GongwenError):
                raise known from None
            log.exception("step on instance %s failed", row.id)
            raise StepFailed(f"流程无法继续，本次操作未生效：{describe_failure(err)}") from err
        finally:
            step_in_progress.reset(token)

    def _advance(self, workflow: BpmnWorkflow, ctx: StepContext) -> None:
        try:
            workflow.do_engine_steps()
        except Exception as err:
            if refusal := find_cause(err, Refused):
                raise refusal from None
            failed = workflow.get_tasks(state=SpiffState.ERROR)
            if not failed:
                raise
            message = describe_failure(err)
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
        project_tasks(workflow, ctx, self.evaluator)
        project_waits(workflow, ctx)
        send_thrown_messages(workflow, ctx)
        row.state = dump_state(workflow)
        if len(row.state) > MAX_STATE_CHARS:
            raise Refused(f"流程数据过大（{len(row.state) // 1024} KiB，上限 {MAX_STATE_CHARS // 1024} KiB），"
                          "本次操作未生效；请精简表单内容，或请系统管理员检查流程图中的脚本")
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
        if BATCH not in session.info:
            session.flush()

    # -- many starts in one transaction ------------------------------------------------------------------

    @contextmanager
    def batch(self, session: Session, count: int) -> Iterator[None]:
        """Start up to ``count`` instances in ``session`` with a handful of statements.

        A dispatch to a thousand units starts a thousand instances; one by one that is five
        round trips each. Inside a batch the instance ids are drawn in one query, and the
        instances, their inbox rows and timers are written together at the end.
        """
        session.info[BATCH] = Batch(instance_ids(session, count)[::-1], {})
        try:
            yield
            batch = session.info.pop(BATCH)
            session.flush()
            for table, rows in batch.rows.items():
                session.connection().execute(insert(table), rows)
        finally:
            session.info.pop(BATCH, None)

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

    # Sending only adds an outbox row to the caller's transaction and needs no runtime (engine.messages
    # does it, and delivers); these are here for code that is handed a runtime: handlers and jobs.
    send_message = staticmethod(send_message)
    enqueue = staticmethod(enqueue)

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

    def task_data(self, session: Session, task_id: uuid.UUID) -> dict:
        """The variables a task sees (a plain copy): what a form shows beside its fields, e.g. which
        message started the event subprocess the task is in. Empty if the task is not in the saved state.

        Loads the instance's state, so it is for one task's page, never for a list.
        """
        row = session.get(ProcessInstance, session.scalar(select(Task.instance_id).where(Task.id == task_id)))
        if row is None:
            return {}
        workflow = load_state(row.state, self._parsed(session, row.definition_id), self.script_engine)
        try:
            return to_plain(dict(workflow.get_task_from_id(task_id).data))
        except TaskNotFoundException:
            return {}

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
