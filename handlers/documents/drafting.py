"""Outgoing documents as business records: the draft's fields, the sending rules, the gates.

The workflow carries only a document's id and the routing decisions; the document
itself (title, body, recipients, issuers) lives in the ``document`` table, written
here when the drafter submits. Everything a person could get wrong is refused here
with a sentence saying what to fix, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Refused
from engine.models import Department, Person, Role, RoleGrant, Unit, UnitKind, UnitStatus
from engine.registry import HandlerContext, handler

from .models import (
    CLASSIFICATIONS,
    CLASSIFIED_LEVELS,
    Direction,
    DistributionList,
    DocStatus,
    DocType,
    Document,
    DocumentIssuer,
    NumberSeries,
    Urgency,
)
from .paper import check_paper
from .revisions import paragraphs, record_completed

CLASSIFIED_REFUSAL = "涉密公文（{level}）必须通过机要渠道传递，本系统只处理非密公文"
UPWARD_TYPES = {DocType.REQUEST, DocType.REPORT, DocType.MOTION}


def classification_problem(classification: str | None) -> str | None:
    """Why a 密级 cannot be carried here, or None for one of ``CLASSIFICATIONS``.

    A classified level is told to use the 机要 channel; anything else (a blank, a word such as "无"
    that is not a value offered) is not a level at all, and the answer says which ones are.
    """
    level = (classification or "").strip()
    if level in CLASSIFICATIONS:
        return None
    if level in CLASSIFIED_LEVELS:
        return CLASSIFIED_REFUSAL.format(level=level)
    offered = "、".join(f"“{label}”" for label in CLASSIFICATIONS.values())
    return f"密级应为{offered}之一" if level else f"请选择密级（{offered}）"


def ensure_unclassified(classification: str | None, *, gate: str) -> None:
    """Refuse anything but a non-classified level (``CLASSIFICATIONS``), at every gate (drafting, dispatch, receipt)."""
    if problem := classification_problem(classification):
        raise Refused(f"{gate}：{problem}")


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    chain, seen = [], {unit.id}
    while unit.parent_id is not None and unit.parent_id not in seen:
        unit = session.get(Unit, unit.parent_id)
        seen.add(unit.id)
        chain.append(unit)
    return chain


def is_superior(session: Session, superior: Unit, of: Unit) -> bool:
    """``superior`` leads ``of``: it is an ancestor of ``of``, or the office of one.

    A government's office (办公厅/室) speaks for that government, so the city office
    stands above the county offices just as the city government does.
    """
    above = {u.id for u in ancestors(session, of)}
    acting = superior.parent if superior.kind == UnitKind.OFFICE and superior.parent is not None else superior
    return superior.id in above or acting.id in above


def recipients(session: Session, unit_ids: Iterable[int], list_ids: Iterable[int], owner_unit_id: int) -> list[int]:
    """Units picked directly plus the members of the owner's distribution lists, in order, once each."""
    picked = list(unit_ids)
    for list_id in list_ids:
        saved = session.get(DistributionList, list_id)
        if saved is None or saved.owner_unit_id != owner_unit_id:
            raise Refused(f"没有编号为 {list_id} 的分发名单")
        picked += saved.unit_ids
    ordered = list(dict.fromkeys(picked))
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ordered)))}
    for unit_id in ordered:
        unit = units.get(unit_id)
        if unit is None:
            raise Refused(f"收文单位 {unit_id} 不存在")
        if unit.status != UnitStatus.ACTIVE:
            raise Refused(f"{unit.name}已{'合并' if unit.status == UnitStatus.MERGED else '撤销'}，不能再向其发文")
    return ordered


def unit_names(session: Session, unit_ids: list[int]) -> str:
    units = {u.id: u.name for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    return "，".join(units[i] for i in unit_ids)


def check_rules(session: Session, document: Document) -> list[str]:
    """The 行文规则 a document breaks, each as a sentence; empty when it may go to sign-off."""
    problems = []
    issuer = session.get(Unit, document.issuing_unit_id)
    if document.doc_type in UPWARD_TYPES and document.direction != Direction.UPWARD:
        problems.append(f"{document.doc_type.label}是上行文，行文方向应为“上行”")
    if document.doc_type == DocType.REQUEST:
        if len(document.main_to) != 1:
            problems.append(f"请示只能主送一个上级机关，现在主送了 {len(document.main_to)} 个")
        elif not is_superior(session, session.get(Unit, document.main_to[0]), issuer):
            names = unit_names(session, document.main_to)
            problems.append(f"请示应当主送本机关的上级机关，{names}不是{issuer.name}的上级")
        if not document.one_matter:
            problems.append("请示应当一文一事：请拟稿人确认本请示只请示一件事项")
    if document.direction == Direction.UPWARD:
        below = [u for u in document.cc if is_superior(session, issuer, session.get(Unit, u))]
        if below:
            problems.append(f"上行文不得抄送下级机关：{unit_names(session, below)}")
    if not document.main_to:
        problems.append("请选择主送机关")
    if not document.title.strip():
        problems.append("请填写标题")
    if not any(p.strip() for p in document.body):
        problems.append("请填写正文")
    return problems


def _department_may_issue(session: Session, document: Document, in_department_name: bool) -> None:
    if not in_department_name:
        return
    department = session.get(Department, document.drafting_department_id) if document.drafting_department_id else None
    if department is None or not department.is_office:
        name = department.name if department else "内设机构"
        raise Refused(f"{name}是内设机构，不得对外正式行文；请以本机关名义发文")


def draft_values(document: Document) -> dict:
    """The saved draft as the drafting form's values: what ``apply_draft`` stored, given back."""
    return {"doc_type": document.doc_type.value, "series_id": document.series_id,
            "direction": document.direction.value,
            "urgency": document.urgency.value, "classification": document.classification,
            "title": document.title, "body": "\n".join(document.body), "note": document.note or "",
            "important": document.important, "one_matter": document.one_matter,
            "main_to": list(document.main_to), "cc": list(document.cc),
            "print_run": document.print_run, "paper_to": list(document.paper_to),
            "co_issuers": [i.unit_id for i in document.issuers[1:]]}


def apply_draft(session: Session, document: Document, values: dict) -> None:
    """Write the drafter's submitted fields onto the document; refuse what breaks a rule."""
    ensure_unclassified(values.get("classification"), gate="拟稿")
    main_to = recipients(session, values.get("main_to", []), values.get("main_to_lists", []), document.issuing_unit_id)
    cc = [u for u in recipients(session, values.get("cc", []), values.get("cc_lists", []), document.issuing_unit_id)
          if u not in main_to]
    co_issuers = [u for u in dict.fromkeys(values.get("co_issuers", [])) if u != document.issuing_unit_id]
    document.doc_type = DocType(values["doc_type"])
    document.series_id = values.get("series_id")
    series = session.get(NumberSeries, document.series_id) if document.series_id else None
    if series is not None and series.telegram and values.get("urgency", "normal") == Urgency.NORMAL:
        # 明传电报 are urgent by nature: they are texted to the duty staff after hours like any 急件.
        raise Refused("明传电报须标注紧急程度（加急或特急）")
    document.direction = Direction(values["direction"])
    document.urgency = Urgency(values.get("urgency", "normal"))
    document.classification = values["classification"]
    document.title = values["title"].strip()
    document.main_to, document.main_to_text = main_to, values.get("main_to_text") or unit_names(session, main_to)
    document.cc, document.cc_text = cc, values.get("cc_text") or unit_names(session, cc)
    paper_to = list(dict.fromkeys(values.get("paper_to", [])))
    check_paper(values.get("print_run") or 0, paper_to, main_to, cc)
    document.print_run, document.paper_to = values.get("print_run") or 0, paper_to
    document.body = paragraphs(values["body"])
    document.note = values.get("note") or None
    document.important = bool(values.get("important"))
    document.one_matter = bool(values.get("one_matter"))
    document.status = DocStatus.REVIEWING
    document.updated_at = clock.now()
    _department_may_issue(session, document, bool(values.get("in_department_name")))
    for unit_id in [document.issuing_unit_id, *co_issuers]:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.status != UnitStatus.ACTIVE:
            raise Refused(f"联合发文机关 {unit_id} 不存在或已撤销")
        if not unit.issuer_code:
            raise Refused(f"{unit.name}没有机关代字，不能作为发文机关")
    document.issuers = [DocumentIssuer(unit_id=u, position=i)
                        for i, u in enumerate([document.issuing_unit_id, *co_issuers])]
    problems = check_rules(session, document)
    if problems:
        raise Refused("不符合行文规则：" + "；".join(problems))


def issuer_routing(session: Session, document: Document) -> list[dict]:
    """Per issuing unit: who signs it off. Upward and important documents go to the principal."""
    principal_only = document.direction == Direction.UPWARD or document.important
    routing = []
    for issuer in document.issuers:
        unit = session.get(Unit, issuer.unit_id)
        if principal_only and unit.principal_id is None:
            raise Refused(f"{unit.name}没有登记主要负责人，上行文和重要公文须由主要负责人签发")
        routing.append({"unit_id": unit.id, "principal_id": unit.principal_id if principal_only else None})
    return routing


@handler("save_draft")
def save_draft(ctx: HandlerContext, document_id: int, values: dict) -> dict:
    """The drafter submitted: store the fields, check the rules, plan countersign and sign-off."""
    document = ctx.session.get(Document, document_id)
    apply_draft(ctx.session, document, values)
    record_completed(ctx, document)  # 留痕: the draft as submitted, when its wording changed
    ctx.instance.title, ctx.instance.priority = document.title, document.urgency.rank
    parties = [{"unit_id": ctx.owning_unit_id, "department_id": d} for d in values.get("countersign_departments", [])]
    parties += [{"unit_id": u, "department_id": None} for u in values.get("countersign_units", [])]
    ctx.audit("document.draft", document_id=document.id)
    return {"countersign": parties, "issuers": issuer_routing(ctx.session, document),
            "upward": document.direction == Direction.UPWARD}


@handler("check_rules")
def check_rules_before_sign_off(ctx: HandlerContext, document_id: int) -> dict:
    document = ctx.session.get(Document, document_id)
    problems = check_rules(ctx.session, document)
    if problems:
        raise Refused("不符合行文规则，不能送签发：" + "；".join(problems))
    document.status = DocStatus.AWAITING_SIGN_OFF
    return {"checked_at": ctx.now().isoformat()}


@handler("record_sign_off")
def record_sign_off(ctx: HandlerContext, document_id: int, sign_offs: list) -> dict:
    """Each issuer's leader signed off: their names (签发人) and the date (成文日期, the last one's)."""
    document = ctx.session.get(Document, document_id)
    by_unit = {s["completed_for_unit"]: s["completed_by"] for s in sign_offs}
    for issuer in document.issuers:
        issuer.signed_off_by_id = by_unit[issuer.unit_id]
        issuer.signed_off_at = clock.now()
    names = [ctx.session.get(Person, by_unit[i.unit_id]).name for i in document.issuers]
    document.signers = names if document.direction == Direction.UPWARD else []
    document.signing_date = clock.local_today()
    document.status = DocStatus.SIGNED_OFF
    ctx.audit("document.sign_off", document_id=document.id, signers=names)
    return {"signers": names, "date": date.isoformat(document.signing_date)}


def start_outgoing(runtime, session: Session, drafter: Person) -> Document:
    """A new document drafted by ``drafter`` for their unit, with its outgoing process started."""
    grant = session.scalar(select(RoleGrant).where(RoleGrant.person_id == drafter.id, RoleGrant.role == Role.DRAFTER,
                                                   RoleGrant.unit_id == drafter.unit_id))
    if grant is None:
        raise Refused(f"{drafter.name}不是本单位的拟稿人，不能起草公文")
    now = clock.now()
    document = Document(issuing_unit_id=drafter.unit_id, drafter_id=drafter.id,
                        drafting_department_id=drafter.department_id, doc_type=DocType.NOTICE,
                        direction=Direction.DOWNWARD, status=DocStatus.DRAFTING, created_at=now, updated_at=now)
    session.add(document)
    session.flush()
    document.instance_id = runtime.start(
        "outgoing", owning_unit_id=drafter.unit_id, initiator_id=drafter.id,
        data={"document_id": document.id, "drafting_department_id": drafter.department_id},
        correlation={"document_id": document.id}, title="（拟稿中）", session=session)
    return document
