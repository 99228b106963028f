"""A department's own exchange box (处室收文箱, Guangdong Art 11, 19, 35).

The model: a department with a :class:`DepartmentBox` may be picked as a recipient (主送处室). The document still
goes to the department's unit, one copy and one receipt per unit as ever; a :class:`BoxDelivery` row says that
this unit's copy belongs to the department. On arrival the receiving process offers 签收 and 分办 to the
department's clerks only (a clerk's grant naming the department; ``engine.inbox`` keeps a task naming a
department from the unit's other clerks), registers it in the department's 收文号 series, and sends 拟办 to the
department's head instead of the unit's office. A unit gets a document either in its own box or in one of its
departments' boxes, never both.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import record
from engine.errors import Refused
from engine.models import Department, Unit, UnitStatus
from engine.text import clean

from ..documents.drafting import recipients, unit_names
from ..documents.models import Document
from .models import BoxDelivery, DepartmentBox


def open_box(session: Session, department: Department, prefix: str | None = None,
             actor_id: int | None = None) -> DepartmentBox:
    """Give ``department`` its own exchange box, numbering in ``prefix`` (default: its name + 收文); refused twice."""
    if session.get(DepartmentBox, department.id) is not None:
        raise Refused(f"{department.name}已有收文箱")
    prefix = clean(prefix or f"{department.name}收文", field="收文号前缀", max_length=20)
    box = DepartmentBox(department_id=department.id, prefix=prefix, opened_at=clock.now())
    session.add(box)
    session.flush()
    record(session, "department_box.open", actor_id=actor_id, unit_id=department.unit_id,
           department_id=department.id)
    return box


def offered_boxes(session: Session) -> list[tuple[int, str]]:
    """The boxes a drafter may address (department id, "单位 · 处室"): active units' departments with a box."""
    rows = session.execute(select(Department.id, Unit.name, Department.name)
                           .join(DepartmentBox, DepartmentBox.department_id == Department.id)
                           .join(Unit, Unit.id == Department.unit_id)
                           .where(Unit.status == UnitStatus.ACTIVE).order_by(Unit.id, Department.id)).all()
    return [(d, f"{unit} · {name}") for d, unit, name in rows]


def take_box_picks(ctx, task, person_id: int, values: dict) -> None:
    """The drafting form's 主送处室（收文箱） (a ``CompletionHook``, run before ``save_draft``).

    Each box picked puts its unit among 主送 and is recorded as a :class:`BoxDelivery`; the 主送 line names the
    department. Refused when a unit is picked as well as one of its departments, or two of its departments.
    """
    picked = list(dict.fromkeys(values.pop("main_to_boxes", None) or []))
    document = ctx.session.scalar(select(Document).where(Document.instance_id == task.instance_id))
    ctx.session.execute(delete(BoxDelivery).where(BoxDelivery.document_id == document.id))  # a re-submitted draft
    if not picked:
        return
    departments = {d.id: d for d in ctx.session.scalars(select(Department).where(Department.id.in_(picked)))}
    boxed = set(ctx.session.scalars(select(DepartmentBox.department_id).where(
        DepartmentBox.department_id.in_(picked))))
    whole = recipients(ctx.session, values.get("main_to") or [], values.get("main_to_lists") or [],
                       document.issuing_unit_id)
    boxes: list[Department] = []
    for department_id in picked:
        department = departments.get(department_id)
        if department is None or department_id not in boxed:
            raise Refused(f"编号为 {department_id} 的处室没有收文箱")
        if department.unit_id in whole or department.unit_id in {b.unit_id for b in boxes}:
            raise Refused(f"{department.unit.name}已在主送之列，不能再主送其{department.name}：每个单位只收一份")
        boxes.append(department)
        ctx.session.add(BoxDelivery(document_id=document.id, unit_id=department.unit_id, department_id=department_id))
    values["main_to"], values["main_to_lists"] = whole + [b.unit_id for b in boxes], []
    # 主送 as printed: the units picked whole by their names, the boxes by unit and department.
    values["main_to_text"] = "，".join(
        [n for n in [unit_names(ctx.session, whole)] if n] + [f"{b.unit.name}{b.name}" for b in boxes])
    ctx.session.flush()


_BOXES = "gongwen.box_deliveries"  # session.info: document id -> {unit id: box}


def box_of(session: Session, document_id: int | None, unit_id: int) -> DepartmentBox | None:
    """The department box that receives ``unit_id``'s copy of the document, or None: the unit's own.

    A dispatch asks for every recipient in one transaction, so the document's boxes are read once per session:
    they are fixed when the draft is submitted (``take_box_picks``), long before any copy arrives.
    """
    if document_id is None:
        return None
    known = session.info.setdefault(_BOXES, {})
    if document_id not in known:
        known[document_id] = {unit: box for unit, box in session.execute(
            select(BoxDelivery.unit_id, DepartmentBox)
            .join(DepartmentBox, BoxDelivery.department_id == DepartmentBox.department_id)
            .where(BoxDelivery.document_id == document_id))}
    return known[document_id].get(unit_id)


def saved_picks(session: Session, document: Document) -> dict:
    """A returned draft's recipients as the drafting form shows them again: the units picked whole in 主送, the
    boxes in 主送处室 (empty when it went to no box), so that re-submitting it keeps them."""
    boxed = dict(session.execute(select(BoxDelivery.unit_id, BoxDelivery.department_id)
                                 .where(BoxDelivery.document_id == document.id)).all())
    if not boxed:
        return {}
    return {"main_to": [u for u in document.main_to if u not in boxed], "main_to_boxes": list(boxed.values())}
