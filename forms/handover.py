"""The forms of the handover process (工作交接): the two sides confirm the record, the 分管领导 signs it off.

Nothing is typed: the page shows the record (counts, step and process names, never a document title) and
submitting it is the confirmation or the signature. The hooks write the record in the completing step, so the
record and the process never disagree.
"""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from engine.models import Unit
from engine.registry import form
from handlers.handover import service
from handlers.handover.models import Handover, ItemKind

from .fields import FormSchema


class HandoverStep(FormSchema):
    """No field: the decision is the submission itself."""


def _record(session, task, data: dict) -> dict:
    """The record beside the form, as its page shows it: who hands over to whom, the list, who confirmed."""
    # The items are loaded now: the page is drawn after the session closes.
    handover = session.get(Handover, data.get("handover_id"), options=[selectinload(Handover.items)])
    return {"handover": handover, "names": service.party_names(session, handover), "kinds": list(ItemKind),
            "unit": session.get(Unit, handover.unit_id).name}


def _confirm(ctx, task_row, person_id: int, values: dict) -> None:
    """The confirmation on the record; refused for anyone but the side whose step it is."""
    service.confirm(ctx.session, service.of_instance(ctx.session, ctx.instance_id), person_id, task_row.spec_name)


def _check_sign_off(ctx, task_row, person_id: int, values: dict) -> None:
    """Refused (nothing moves) unless the 分管领导 signs with both sides confirmed; the move is the next step's."""
    service.check_sign_off(ctx.session, service.of_instance(ctx.session, ctx.instance_id), person_id)


form("handover_confirm", HandoverStep, "forms/handover_step.html", "确认交接清单", context=_record,
     on_complete=_confirm)
form("handover_sign_off", HandoverStep, "forms/handover_step.html", "分管领导签字", context=_record,
     on_complete=_check_sign_off)
