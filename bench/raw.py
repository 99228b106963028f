"""The raw SpiffWorkflow baseline every speed benchmark prints beside its figures (issue 16).

The machine's speed drifts by up to a third between runs, so each benchmark measures, in the same
run, SpiffWorkflow alone doing the first step of the real leave process in memory (deserialize,
fill in and run 填写请假单, run the engine with its service task, serialize) and states its
figures as ratios to it, or with it beside them.
"""

from __future__ import annotations

import json
import statistics
from datetime import date
from types import SimpleNamespace

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState as SpiffState

from bench.common import ROOT, ms, percentile, timed
from engine import clock
from engine.calendar import WorkCalendar
from handlers.leave.steps import count_leave_days

LEAVE_BPMN = ROOT / "workflows" / "leave.bpmn"
APPLY_FORM = {"kind": "annual", "start_date": "2026-11-24", "end_date": "2026-11-30", "reason": "x"}


class RawScriptEngine(PythonScriptEngine):
    """Plain Python evaluation; the one service task runs the leave handler's arithmetic."""

    def __init__(self) -> None:
        self.calendar = WorkCalendar(None)
        super().__init__(TaskDataEnvironment({"working_days": self.working_days}))

    def working_days(self, days: int) -> str:
        return self.calendar.add_working_days(clock.now(), int(days)).isoformat()

    def call_service(self, task, operation_name, operation_params):
        params = {name: p["value"] for name, p in operation_params.items()}
        return json.dumps(count_leave_days(SimpleNamespace(calendar=self.calendar), **params))


def raw_serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]),
                      typename="date")
    return BpmnWorkflowSerializer(registry)


def bench_raw(iterations: int) -> float:
    """Median ms of: deserialize, fill in and run "填写请假单", run the engine, serialize (printed too)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(LEAVE_BPMN))
    script_engine, serializer = RawScriptEngine(), raw_serializer()
    workflow = BpmnWorkflow(parser.get_spec("leave"), parser.get_subprocess_specs("leave"),
                            script_engine=script_engine)
    workflow.get_tasks(state=SpiffState.READY)[0].data.update(department_id=1, initiator_id=1)
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    form = {**APPLY_FORM, "start_date": date(2026, 11, 24), "end_date": date(2026, 11, 30)}  # as the form loads it

    def complete_apply() -> BpmnWorkflow:
        loaded = serializer.deserialize_json(state)
        loaded.script_engine = script_engine
        task = loaded.get_next_task(state=SpiffState.READY, spec_name="apply")
        task.task_spec.add_data_from_form(task, form)
        task.run()
        loaded.do_engine_steps()
        return loaded

    if complete_apply().get_next_task(state=SpiffState.READY, spec_name="dept_review") is None:
        raise RuntimeError("raw SpiffWorkflow did not reach the department review")
    durations = timed(lambda: serializer.serialize_json(complete_apply()), iterations)
    median = ms(statistics.median(durations))
    print(f"\nraw SpiffWorkflow in memory: median {median:.3f} ms, p95 {ms(percentile(durations, 95)):.3f} ms "
          f"over {len(durations)} iterations (state with spec: {len(state) // 1024} KiB of JSON)")
    return median
