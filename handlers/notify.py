"""In-app notifications: reminders and escalations as rows a person sees in Gongwen."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Notification, Person, PersonStatus, Role, RoleGrant
from engine.registry import HandlerContext, handler


@handler("notify")
def notify(ctx: HandlerContext, text: str, *, person: int | None = None, role: str | None = None,
           unit: int | None = None, department: int | None = None, reason: str = "",
           kind: str = "reminder") -> dict:
    """Tell one person, or everyone holding ``role`` in ``unit`` (default: the owning unit).

    With ``department``, holders of the role in that department are told, or, if
    nobody holds it there, every holder in the unit.
    """
    if person is not None:
        recipients = [person]
    elif role is not None:
        query = (select(RoleGrant.person_id, RoleGrant.department_id).join(Person)
                 .where(RoleGrant.role == Role(role), RoleGrant.unit_id == (unit or ctx.owning_unit_id),
                        Person.status == PersonStatus.ACTIVE))
        holders = ctx.session.execute(query).all()
        in_department = [p for p, d in holders if department is not None and d == department]
        recipients = sorted(set(in_department or [p for p, _ in holders]))
    else:
        raise ValueError("notify needs a person or a role")
    now = ctx.now()
    ctx.session.add_all(
        Notification(person_id=p, kind=kind, text=text, reason=reason, instance_id=ctx.instance_id, created_at=now)
        for p in recipients
    )
    ctx.audit("notify", kind=kind, recipients=recipients, reason=reason)
    return {"notified": recipients, "at": now.isoformat()}
