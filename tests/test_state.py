"""Workflow state is stored compactly and comes back exactly."""

import json
from datetime import date
from decimal import Decimal

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import load_state
from engine.models import ProcessInstance
from tests.support import ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def test_state_is_compact_and_round_trips_dates_and_decimals(gongwen, org):
    applicant = org.person("lyg.drafter")
    instance = gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                                     data={"department_id": applicant.department_id, "allowance": Decimal("12.50")})
    (task,) = ready_for(gongwen, applicant)
    gongwen.runtime.complete(task.id, applicant.id, {"kind": "annual", "start_date": "2026-11-24",
                                                     "end_date": "2026-11-30", "reason": "回乡探望父母"})
    with gongwen.db.session() as s:
        row = s.get(ProcessInstance, instance)
        state = row.state
        parsed = gongwen.runtime._parsed(s, row.definition_id)
    assert "回乡探望父母" in state and "\\u" not in state
    assert ": " not in state and ", " not in state
    document = json.loads(state)
    assert "spec" not in document and "subprocess_specs" not in document
    assert len(state) < 12_000

    workflow = load_state(state, parsed, gongwen.runtime.script_engine)
    (review,) = workflow.get_tasks(spec_name="dept_review", state=TaskState.READY)
    assert review.data["start_date"] == date(2026, 11, 24)
    assert review.data["allowance"] == Decimal("12.50")
    assert review.data["leave"] == {"working_days": 5}
