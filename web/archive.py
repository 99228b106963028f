"""档案 pages: a unit's archivists search their archive and open an item (its archived copy, an own outgoing
document's 发文稿纸); 档案鉴定 lists the items whose retention ran out, the archivists' proposals (keep longer or
destroy) that a leader approves, and the 销毁清册 that stays.

Who may do what is ``handlers.archive.appraisal``'s answer: only the unit's archivists reach its items, and
its leaders the appraisal page; everyone else, the three administrators included, gets a 404 (audited).
Every value from a request is checked against what the page offered; a refusal is said in Chinese,
audited, and changes nothing.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import clock
from engine.errors import GongwenError, NotFound, Refused
from engine.models import Person, Role
from engine.organisation import holders, names_by_id
from handlers.archive import appraisal
from handlers.archive.models import AppraisalAction, AppraisalState, Retention

from . import current_gongwen
from .auth import login_required
from .errors import or_404, refused
from .params import FIRST_YEAR, LAST_YEAR

bp = Blueprint("archive", __name__, url_prefix="/archive")
SEARCH_FIELDS = ("code", "words", "year", "retention")
RETENTIONS = {r.value: r.label for r in Retention}


def _criteria(args) -> tuple[dict, str | None]:
    """The search's criteria from the query string, or the reason one of them is not what the form offers."""
    values = {k: (args.get(k) or "").strip() for k in SEARCH_FIELDS}
    if any(len(v) > 100 for v in values.values()):
        return values, "查询条件过长（每项不超过 100 个字）"
    criteria: dict = {"code": values["code"], "words": values["words"]}
    if values["year"]:
        year = int(values["year"]) if values["year"].isdigit() and len(values["year"]) == 4 else None
        if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            return values, f"年度应为 {FIRST_YEAR} 到 {LAST_YEAR} 之间的四位数字"
        criteria["year"] = year
    if values["retention"]:
        if values["retention"] not in RETENTIONS:
            return values, "保管期限应为永久、30年或10年"
        criteria["retention"] = Retention(values["retention"])
    return {**values, "criteria": criteria}, None


@bp.get("")
@login_required
def search() -> ResponseReturnValue:
    """档案查询: the unit's items by 档号, title words, 年度 and 保管期限 (all of them when nothing is asked)."""
    with current_gongwen().db.session() as db:
        unit_id = or_404(appraisal.archive_unit, db, g.person.id, Role.ARCHIVIST)
        values, error = _criteria(request.args)
        rows = [] if error else appraisal.search(db, unit_id, **values.pop("criteria"))
    if error:
        refused("archive.search_refused", reason=error)
    return render_template("archive/search.html", rows=rows, values=values, error=error, retentions=RETENTIONS,
                           limit=appraisal.SEARCH_LIMIT), 422 if error else 200


@bp.get("/items/<int:item_id>")
@login_required
def item(item_id: int) -> ResponseReturnValue:
    """One item: its 档号, title, retention in force, who archived it, its files, and its appraisals."""
    with current_gongwen().db.session() as db:
        found = or_404(appraisal.readable_item, db, item_id, g.person.id)
        history = [a for a in appraisal.appraisals(db, found.unit_id, *AppraisalState) if a.item_id == found.id]
        names = names_by_id(db, Person, {found.archived_by_id, *(a.proposed_by_id for a in history),
                                         *(a.decided_by_id for a in history)})
        expired = appraisal.is_expired(found, clock.local_today()) and \
            not any(a.state is AppraisalState.PROPOSED for a in history)
        return render_template("archive/item.html", item=found, title=appraisal.title_of(db, found),
                               history=history, names=names, expired=expired, retentions=RETENTIONS,
                               actions={a.value: a.label for a in AppraisalAction})


@bp.get("/items/<int:item_id>/<any('copy', 'sheet'):kind>.pdf")
@login_required
def item_file(item_id: int, kind: str) -> ResponseReturnValue:
    """The archived copy (sealed, with its 归档章) or the 发文稿纸; a destroyed item's files are gone (404)."""
    with current_gongwen().db.session() as db:
        found = or_404(appraisal.readable_item, db, item_id, g.person.id)
    sha256 = found.copy_sha256 if kind == "copy" else found.record_sha256
    if found.destroyed_at is not None or not sha256:
        refused("archive.file_refused", item_id=item_id, kind=kind)
        return render_template("error.html", code=404, heading="文件不存在",
                               advice="这件档案已鉴定销毁，或没有这份文件。"), 404
    content = current_gongwen().files.get(sha256)
    name = found.archive_code.replace("·", "_") + ("" if kind == "copy" else "-发文稿纸")
    return content, 200, {"Content-Type": "application/pdf",
                          "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}.pdf"}


@bp.post("/items/<int:item_id>/appraise")
@login_required
def appraise(item_id: int) -> ResponseReturnValue:
    """An archivist's 鉴定意见 on an expired item; refused in words, audited, nothing written."""
    form = request.form
    try:
        with current_gongwen().db.write() as db:
            appraisal.propose(db, item_id, g.person.id, form.get("action", ""), form.get("new_retention") or None,
                              form.get("reason"))
    except NotFound:
        g.access_refused = True  # another unit's item, or not an archivist: no such item (audited by the 404 page)
        abort(404)
    except GongwenError as err:
        refused("archive.appraise_refused", reason=type(err).__name__, item_id=item_id)
        flash(f"未生效：{err}")
        return redirect(url_for("archive.item", item_id=item_id))
    flash("鉴定意见已提交，待本单位领导审批")
    return redirect(url_for("archive.item", item_id=item_id))


@bp.get("/appraisal")
@login_required
def appraisal_page() -> ResponseReturnValue:
    """档案鉴定: expired items (archivists), proposals awaiting a leader, decisions made, and the 销毁清册."""
    with current_gongwen().db.session() as db:
        unit_id = or_404(appraisal.archive_unit, db, g.person.id, Role.ARCHIVIST, Role.LEADER)
        archivist = g.person.id in holders(db, Role.ARCHIVIST, unit_id)
        leader = g.person.id in holders(db, Role.LEADER, unit_id)
        pending = appraisal.appraisals(db, unit_id, AppraisalState.PROPOSED)
        decided = appraisal.appraisals(db, unit_id, AppraisalState.APPROVED, AppraisalState.REJECTED)
        destroyed = appraisal.destruction_records(db, unit_id)
        names = names_by_id(db, Person, {i for a in [*pending, *decided] for i in (a.proposed_by_id, a.decided_by_id)})
        return render_template("archive/appraisal.html", expired=appraisal.expired(db, unit_id) if archivist else [],
                               pending=pending, decided=[a for a in decided if a not in destroyed],
                               destroyed=destroyed, names=names, archivist=archivist, leader=leader,
                               me=g.person.id)


@bp.post("/appraisals/<int:appraisal_id>/decide")
@login_required
def decide(appraisal_id: int) -> ResponseReturnValue:
    """A leader approves or rejects a proposal; anything but the two offered decisions is refused."""
    decision = request.form.get("decision", "")
    try:
        if decision not in ("approve", "reject"):
            raise Refused("请选择“批准”或“不批准”")
        with current_gongwen().db.write() as db:
            appraisal.decide(db, appraisal_id, g.person.id, decision == "approve", request.form.get("note"))
    except NotFound:
        g.access_refused = True
        abort(404)
    except GongwenError as err:
        refused("archive.decide_refused", reason=type(err).__name__, appraisal_id=appraisal_id)
        flash(f"未生效：{err}")
        return redirect(url_for("archive.appraisal_page"))
    flash("已批准" if decision == "approve" else "已不批准")
    return redirect(url_for("archive.appraisal_page"))

