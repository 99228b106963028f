"""The step in progress, and the code that runs inside it.

:class:`~engine.runtime.Runtime` runs every change to an instance as one step and, for exactly
that long, makes its :class:`StepContext` the value of :data:`step_in_progress`. Code that
SpiffWorkflow calls back during the step finds it there: :class:`ScriptEngine` hands it to the
registered handler of each service task (inside a savepoint, so a failing handler undoes only
its own writes), and the functions of :func:`diagram_functions` read its working calendar.

Also here: finding the error that started a failure under SpiffWorkflow's wrapping of it
(:func:`find_cause`, :func:`describe_failure`), for what a failed step reports and what an
incident records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task as SpiffTask
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn import to_plain
from .calendar import WorkCalendar
from .config import Settings
from .errors import GongwenError, StepFailed
from .expressions import ExpressionError
from .files import FileStore
from .messages import enqueue
from .models import Incident, ProcessInstance
from .registry import HANDLERS, NO_SAVEPOINT

if TYPE_CHECKING:
    from .runtime import Runtime


@dataclass
class Completion:
    """The task a person completed in this step, for its inbox row."""

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
    task_id: str = ""          # the service task being run: unique per firing of a repeating timer
    completion: Completion | None = None
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
        enqueue(self.session, topic, key, payload, source_instance_id=self.instance_id)


# Set by the runtime for the duration of a step; SpiffWorkflow's callbacks have no other way to it.
step_in_progress: ContextVar[StepContext | None] = ContextVar("gongwen_step", default=None)


def current_step() -> StepContext:
    """The step in progress; outside one, a :class:`RuntimeError`."""
    ctx = step_in_progress.get()
    if ctx is None:
        raise RuntimeError("no step in progress")
    return ctx


class ScriptEngine(PythonScriptEngine):
    """Routes service tasks to registered handlers, each inside a savepoint."""

    def call_service(self, task: SpiffTask, operation_name: str, operation_params: dict[str, dict]) -> str:
        ctx = current_step()
        handler = HANDLERS.get(operation_name)
        if handler is None:
            raise StepFailed(f"处理程序 {operation_name!r} 未注册")
        params = {name: p["value"] for name, p in operation_params.items()}
        ctx.task_name = task.task_spec.bpmn_name or task.task_spec.name
        ctx.task_id = str(task.id)
        if operation_name in NO_SAVEPOINT:
            result = handler(ctx, **params)
        else:
            with ctx.session.begin_nested():
                result = handler(ctx, **params)
        return json.dumps(to_plain(result), ensure_ascii=False)


def diagram_functions(runtime: Runtime) -> dict[str, Callable]:
    """What diagram expressions may call besides builtins: the clock and working-time arithmetic."""

    def calendar() -> WorkCalendar:
        ctx = step_in_progress.get()
        return ctx.calendar if ctx else WorkCalendar(None, runtime.gongwen.settings.office_hours, runtime.calendar_data)

    def working_days(days: int, start: Any = None) -> str:
        return calendar().add_working_days(as_datetime(start) or clock.now(), int(days)).isoformat()

    def working_hours(hours: float, start: Any = None) -> str:
        return calendar().add_working_hours(as_datetime(start) or clock.now(), float(hours)).isoformat()

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


def as_datetime(value: Any) -> datetime | None:
    """A time a diagram gave (ISO text, a date, a naive or aware datetime; naive is Shanghai time) in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), clock.SHANGHAI)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.SHANGHAI)
    return value.astimezone(clock.UTC)


def _chain(err: BaseException | None) -> list[BaseException]:
    chain, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def find_cause(err: BaseException, kind: type[Exception]) -> Exception | None:
    """The first ``kind`` among ``err`` and its causes: what a handler raised under SpiffWorkflow's wrapping."""
    return next((e for e in _chain(err) if isinstance(e, kind)), None)


def describe_failure(err: BaseException) -> str:
    """The message of the error that started it all, not SpiffWorkflow's wrapping of it."""
    chain = _chain(err)
    for link in chain:
        if isinstance(link, (GongwenError, ExpressionError)):
            return str(link)
    inner = next((e for e in reversed(chain) if not isinstance(e, WorkflowTaskException)), chain[0])
    return f"{type(inner).__name__}: {inner}"
