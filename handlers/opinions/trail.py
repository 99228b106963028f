"""The opinion trail: every completed step of an instance, who did it with their 职务, what they decided
in words, what they wrote, and their handwritten signature if they drew one.

Reads the ``task`` projection and the form registry only; never a workflow.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Person, Task, TaskState
from engine.registry import FORMS

__all__ = ["HANDLING_ROWS", "SIGN_OFF_ROWS", "TrailEntry", "opinion_trail", "sheet_rows", "signature_of"]

# The fields that carry a step's decision (a pick) and its words, in the order they are looked for.
_DECISIONS = ("decision", "next")
_WORDS = ("opinion", "instruction", "proposal", "result")
_SHA256 = re.compile(r"[0-9a-f]{64}")

# The rows of the printed sheets: which steps' opinions each shows, by form key. The 发文稿纸 is printed
# from the page and, for the archive, drawn as a PDF: both read these rows.
SIGN_OFF_ROWS = (("签发", ("outgoing_sign_off",)), ("会签", ("outgoing_countersign",)),
                 ("审核、核稿", ("outgoing_review",)), ("校对", ("outgoing_proofread",)))
HANDLING_ROWS = (("拟办意见", ("incoming_propose",)), ("领导批示", ("incoming_instruct",)),
                 ("办理结果", ("incoming_handle",)), ("传阅", ("incoming_read",)))


class TrailEntry(NamedTuple):
    """One step of the trail; a tuple whose first item is the step, as the forms' templates index it."""

    step: Task
    name: str
    job_title: str | None
    decision: str | None    # the option's label, e.g. 同意 / 退回修改 / 同意签发
    said: str | None        # the opinion, instruction, proposal or result
    signature: str | None   # SHA-256 of the handwritten signature drawn with it

    @property
    def who(self) -> str:
        """姓名（职务）, or the name alone for someone without a 职务."""
        return f"{self.name}（{self.job_title}）" if self.job_title else self.name


def signature_of(task: Task) -> str | None:
    """The SHA-256 of the handwritten signature a completed step kept, if any."""
    value = (task.form_data or {}).get("signature")
    return value if isinstance(value, str) and _SHA256.fullmatch(value) else None


def _decision(task: Task) -> str | None:
    spec = FORMS.get(task.form_key or "")
    data = task.form_data or {}
    for name in _DECISIONS:
        field = spec.schema._declared_fields.get(name) if spec else None
        if field is not None and name in data:
            return (field.metadata.get("options") or {}).get(data[name], str(data[name]))
    return None


def opinion_trail(session: Session, instance_id: int) -> list[TrailEntry]:
    """Every completed step of ``instance_id`` in the order they were done."""
    rows = session.execute(
        select(Task, Person.name, Person.job_title).join(Person, Person.id == Task.completed_by_id)
        .where(Task.instance_id == instance_id, Task.state == TaskState.COMPLETED).order_by(Task.completed_at)).all()
    return [TrailEntry(task, name, job_title, _decision(task),
                       next((task.form_data[w] for w in _WORDS if (task.form_data or {}).get(w)), None),
                       signature_of(task)) for task, name, job_title in rows]


def sheet_rows(trail: list[TrailEntry], layout: tuple) -> list[tuple[str, list[TrailEntry]]]:
    """``(label, entries)`` for each row of a sheet's ``layout`` (``SIGN_OFF_ROWS`` or ``HANDLING_ROWS``)."""
    return [(label, [e for e in trail if e.step.form_key in keys]) for label, keys in layout]
