"""Seal applications (电子印章申请): who may apply, the process's two steps, and the unit's list.

A unit's seal keeper or clerk applies to make, renew, rename, reissue (lost or damaged) or return
its seal; the unit's head approves; the issuing office (``register.issuing_office_for``) decides
within 5 working days (the diagram's timers remind it). Renewal and renaming issue a new
certificate and mark the old seal superseded, not revoked, so what it sealed keeps verifying;
a reissue revokes the old seal (a lost one as key compromise, distrusted from the time the
issuing office gives), a return revokes it for the reason the unit gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Refused
from engine.models import Person, PersonStatus, ProcessInstance, Role, RoleGrant, Task, TaskState, Unit
from engine.registry import HandlerContext, handler
from engine.step import as_datetime
from handlers.notifications.models import Notification

from .models import Seal, SealStatus
from .register import issue_seal, issuing_office_for, revoke_seal

if TYPE_CHECKING:
    from engine.runtime import Runtime

PROCESS_ID = "seal"
APPLICANT_ROLES = (Role.SEAL_KEEPER, Role.CLERK)
# Who follows a unit's seals: those who apply, and the leaders who approve.
FOLLOWER_ROLES = (*APPLICANT_ROLES, Role.LEADER)
ACTIONS = {"apply": "申请制发新印章", "renew": "到期换发", "rename": "单位更名，换发新名称印章",
           "reissue": "遗失或损坏，补发印章（原印章吊销）", "return": "缴回注销（单位撤销、合并或更名）"}
REISSUE_REASONS = {"lost": "遗失（私钥可能泄露）", "damaged": "损坏"}
RETURN_REASONS = {"dissolved": "单位撤销或合并", "renamed": "单位更名", "other": "其他"}
ACTION_SUMMARIES = {"apply": "制发新印章", "renew": "换发印章", "rename": "更名换发印章",
                    "reissue": "补发印章", "return": "缴回注销印章"}
# The diagram tells the applicant, with this kind and text, what was done (workflows/seal.bpmn).
DONE, DONE_TEXT = "seal_done", "电子印章申请已办结："


def _units_with(session: Session, person_id: int, roles: tuple[Role, ...]) -> set[int]:
    return set(session.scalars(select(RoleGrant.unit_id).join(Person, Person.id == RoleGrant.person_id).where(
        RoleGrant.person_id == person_id, RoleGrant.role.in_(roles), RoleGrant.unit_id.is_not(None),
        Person.status == PersonStatus.ACTIVE)))


def may_apply(session: Session, person_id: int, unit_id: int | None) -> bool:
    """Whether the person may apply for ``unit_id``'s seals: its seal keeper or clerk."""
    return unit_id is not None and unit_id in _units_with(session, person_id, APPLICANT_ROLES)


def followed_units(session: Session, person_id: int) -> set[int]:
    """The units whose seals and applications the person follows (seal keeper, clerk or leader there)."""
    return _units_with(session, person_id, FOLLOWER_ROLES)


def start_application(runtime: Runtime, session: Session, person: Person) -> int:
    """Start an application for the person's unit; refused unless they are its seal keeper or clerk."""
    if not may_apply(session, person.id, person.unit_id):
        raise Refused("只有本单位的印章管理员或收发员可以申请电子印章")
    unit = session.get(Unit, person.unit_id)
    return runtime.start(PROCESS_ID, owning_unit_id=unit.id, initiator_id=person.id,
                         title=f"{unit.name}电子印章申请", session=session)


@dataclass(frozen=True)
class Application:
    """One application as the unit's list shows it."""

    instance_id: int
    unit: str
    applicant: str
    started_at: datetime
    finished: bool
    action: str                 # what it asks for, once filled in
    seal_code: str | None
    steps: list[tuple[str, datetime | None]]  # the steps waiting now, with their deadlines
    outcome: str                # what was done, once finished


def applications(session: Session, unit_ids: set[int], *, addressed_to: bool = False,
                 limit: int = 100) -> list[Application]:
    """The seal applications of ``unit_ids`` (or, ``addressed_to``, those sent to them to issue), newest first."""
    if not unit_ids:
        return []
    query = select(ProcessInstance).where(ProcessInstance.process_id == PROCESS_ID)
    if addressed_to:
        sent = select(Task.instance_id).where(Task.form_key == "seal_approval", Task.candidate_unit_id.in_(unit_ids))
        query = query.where(ProcessInstance.id.in_(sent))
    else:
        query = query.where(ProcessInstance.owning_unit_id.in_(unit_ids))
    instances = session.scalars(query.order_by(ProcessInstance.id.desc()).limit(limit)).all()
    if not instances:
        return []
    ids = [i.id for i in instances]
    tasks = session.scalars(select(Task).where(Task.instance_id.in_(ids)).order_by(Task.created_at)).all()
    names = dict(session.execute(select(Person.id, Person.name).where(
        Person.id.in_({i.initiator_id for i in instances if i.initiator_id}))).all())
    units = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({i.owning_unit_id for i in instances}))).all())
    rows = []
    for instance in instances:
        own = [t for t in tasks if t.instance_id == instance.id]
        asked = [t.form_data for t in own if t.form_key == "seal_request" and t.state == TaskState.COMPLETED]
        request = asked[-1] if asked else {}
        rows.append(Application(
            instance.id, units.get(instance.owning_unit_id, ""), names.get(instance.initiator_id, ""),
            instance.created_at, instance.completed_at is not None,
            ACTIONS.get(request.get("action"), "（尚未填写）"), request.get("seal_code"),
            [(t.name, t.due_at) for t in own if t.state == TaskState.READY],
            _outcome(session, instance.id) if instance.completed_at else ""))
    return rows


def _outcome(session: Session, instance_id: int) -> str:
    """What was done, as the applicant was told when it finished."""
    told = session.scalar(select(Notification.text).where(Notification.instance_id == instance_id,
                                                          Notification.kind == DONE).limit(1))
    return told.removeprefix(DONE_TEXT) if told else "已办结"


def _seal_of(session: Session, unit_id: int, code: str | None) -> Seal:
    seal = session.scalar(select(Seal).where(Seal.code == code, Seal.unit_id == unit_id))
    if seal is None:
        raise Refused(f"本单位没有编号为 {code} 的印章")
    if seal.status != SealStatus.ACTIVE:
        raise Refused(f"印章 {seal.code} 已不在使用（已吊销或已换发），请选择在用的印章")
    return seal


def _head_of(session: Session, unit: Unit) -> int | None:
    """The unit's principal, if they can act; otherwise None, and any leader of the unit may approve."""
    head = session.get(Person, unit.principal_id) if unit.principal_id else None
    return head.id if head is not None and head.status == PersonStatus.ACTIVE else None


def _still_possible(session: Session, unit: Unit, application: dict) -> Seal | None:
    """The seal the application is about (None for a new one), as the register stands now.

    Checked when it is filed and again when it is carried out: two applications may be in flight at
    once, and the first one done changes what the second may do.
    """
    if application["action"] != "apply":
        return _seal_of(session, unit.id, application["seal_code"])
    if session.scalar(select(Seal.id).where(Seal.unit_id == unit.id, Seal.status == SealStatus.ACTIVE)):
        raise Refused(f"{unit.name}已有在用的印章；需要新印章请申请换发或补发")
    return None


@handler("check_seal_request")
def check_seal_request(ctx: HandlerContext, unit_id: int, application: dict) -> dict:
    """Check the application against the register; name the unit's head and the office that issues."""
    unit = ctx.session.get(Unit, unit_id)
    _still_possible(ctx.session, unit, application)
    office = issuing_office_for(ctx.session, unit)
    return {"issuing_office_id": office.id, "issuing_office": office.name, "head_id": _head_of(ctx.session, unit),
            "unit_name": unit.name}


def _supersede(ctx: HandlerContext, seal: Seal, actor_id: int | None) -> None:
    """Mark ``seal`` replaced by a renewal: not revoked, so what it sealed keeps verifying."""
    seal.status = SealStatus.SUPERSEDED
    ctx.audit("seal.supersede", actor_id=actor_id, seal=seal.code)


@handler("execute_seal_request")
def execute_seal_request(ctx: HandlerContext, unit_id: int, application: dict, decision: dict) -> dict:
    """Carry out what the issuing office approved: issue, renew, rename, reissue, or take the seal back.

    ``decision['invalid_since']`` (a lost seal's reissue only) is when its key stopped being trusted.
    """
    unit, action = ctx.session.get(Unit, unit_id), application["action"]
    actor = decision.get("completed_by")
    invalid_since = as_datetime(decision.get("invalid_since"))
    if invalid_since is not None and (action, application.get("reason")) != ("reissue", "lost"):
        raise Refused("只有遗失补发时才能指定原印章不再可信的时间")
    old = _still_possible(ctx.session, unit, application)
    if action in ("reissue", "return"):
        revoke_seal(ctx.session, ctx.settings, old, application["reason"], invalid_since=invalid_since,
                    actor_id=actor)
    elif action in ("renew", "rename"):
        _supersede(ctx, old, actor)
    if action == "return":
        return {"revoked": old.code, "summary": f"{ACTION_SUMMARIES[action]} {old.code}"}
    name = (application.get("name") or "").strip() or (old.name if old else unit.name)
    seal = issue_seal(ctx.session, ctx.settings, unit, name=name, replaces=old, actor_id=actor)
    replaced = f"（替代 {old.code}）" if old else ""
    return {"issued": seal.code, "replaces": old.code if old else None,
            "summary": f"{ACTION_SUMMARIES[action]} {seal.code}{replaced}"}
