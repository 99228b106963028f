"""Pages for the security officer (安全保密管理员): lockouts, role grants, seals and their CRLs.

三员分立: the security officer grants roles but holds no business role, and nothing here shows a
document. Every change goes through the same functions as the command line, and is audited there.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from engine import clock
from engine.errors import GongwenError
from engine.models import ROLE_LABELS, Department, Person, Role, RoleGrant, Unit
from engine.organisation import find_person, grant_role, revoke_role, unlock
from handlers.seals.models import CertificateAuthority, Seal, SealStatus
from handlers.seals.pki import REVOCATION_REASONS
from handlers.seals.register import issue_seal, revoke_seal

from . import current_gongwen
from .admin import requires
from .errors import refused
from .params import as_id

bp = Blueprint("security", __name__, url_prefix="/admin/security")
officer = requires(Role.SECURITY_OFFICER)


@bp.route("/")
@officer
def overview():
    """Locked accounts, one person's grants (looked up by login), the seals and the CRLs."""
    login = request.args.get("login", "").strip()
    with current_gongwen().db.session() as db:
        locked = db.scalars(select(Person).where(Person.locked_until > clock.now()).order_by(Person.login)).all()
        person, grants = None, []
        if login:
            person = db.scalar(select(Person).where(Person.login == login))
            if person is None:
                flash(f"没有登录名为 {login} 的人员")
            else:
                grants = db.scalars(select(RoleGrant).where(RoleGrant.person_id == person.id)
                                    .order_by(RoleGrant.id)).all()
        units = db.scalars(select(Unit).order_by(Unit.id)).all()
        departments = db.scalars(select(Department).order_by(Department.unit_id, Department.id)).all()
        seals = db.scalars(select(Seal).order_by(Seal.unit_id, Seal.id)).all()
        authorities = db.scalars(select(CertificateAuthority).order_by(CertificateAuthority.id)).all()
        names = {u.id: u.name for u in units}
        return render_template("admin/security.html", locked=locked, person=person, grants=grants, units=units,
                               departments=departments, seals=seals, authorities=authorities, names=names,
                               roles=ROLE_LABELS, reasons={v: r.label for v, r in REVOCATION_REASONS.items()},
                               login=login, now=clock.now())


def _back(login: str = ""):
    return redirect(url_for("security.overview", login=login) if login else url_for("security.overview"))


@bp.post("/unlock/<int:person_id>")
@officer
def unlock_account(person_id):
    with current_gongwen().db.write() as db:
        person = db.get(Person, person_id) or abort(404)
        unlock(db, person, actor_id=g.person.id)
        flash(f"已解除 {person.name}（{person.login}）的锁定")
    return _back()


@bp.post("/grants")
@officer
def grant():
    form = request.form
    try:
        with current_gongwen().db.write() as db:
            person = find_person(db, form.get("login", ""))
            role = Role(form.get("role", ""))
            unit = db.get(Unit, unit_id) if (unit_id := as_id(form.get("unit_id"))) else None
            department = db.get(Department, department_id) \
                if (department_id := as_id(form.get("department_id"))) else None
            grant_role(db, person, role, unit=unit, department=department, actor_id=g.person.id)
            flash(f"已授予 {person.name} {role.label}" + (f"（{unit.name}）" if unit else ""))
    except ValueError:
        flash("请选择角色")
    except GongwenError as err:
        refused("role.grant_refused", login=form.get("login", "")[:64], role=form.get("role", "")[:32])
        flash(f"未授予：{err}")
    return _back(form.get("login", ""))


@bp.post("/grants/<int:grant_id>/revoke")
@officer
def revoke(grant_id):
    with current_gongwen().db.write() as db:
        grant = db.get(RoleGrant, grant_id) or abort(404)
        login = db.get(Person, grant.person_id).login
        revoke_role(db, grant, actor_id=g.person.id)
        flash(f"已撤销 {login} 的{grant.role.label}")
    return _back(login)


@bp.post("/seals")
@officer
def issue():
    gongwen = current_gongwen()
    with gongwen.db.write() as db:
        unit = db.get(Unit, as_id(request.form.get("unit_id")) or 0) or abort(404)
        current = db.scalar(select(Seal).where(Seal.unit_id == unit.id, Seal.status == SealStatus.ACTIVE))
        if current is not None:
            flash(f"未制发：{unit.name} 已有在用印章 {current.code}，如需更换请先吊销")
        else:
            seal = issue_seal(db, gongwen.settings, unit, actor_id=g.person.id)
            flash(f"已为 {unit.name} 制发印章 {seal.code}")
    return _back()


@bp.post("/seals/<int:seal_id>/revoke")
@officer
def revoke_a_seal(seal_id):
    gongwen = current_gongwen()
    reason = request.form.get("reason", "")
    if reason not in REVOCATION_REASONS:
        flash("请选择吊销原因")
        return _back()
    typed = request.form.get("invalid_since", "").strip()
    invalid_since = clock.parse_local(typed) if typed else None
    if typed and invalid_since is None:
        flash(f"未吊销：失效起始时间「{typed[:40]}」不是有效的日期时间")
        return _back()
    try:
        with gongwen.db.write() as db:
            seal = db.get(Seal, seal_id) or abort(404)
            revoke_seal(db, gongwen.settings, seal, reason, invalid_since=invalid_since, actor_id=g.person.id)
            flash(f"已吊销印章 {seal.code}，吊销列表已发布")
    except GongwenError as err:
        flash(f"未吊销：{err}")
    return _back()


@bp.route("/crl/<int:ca_id>.crl")
@officer
def crl(ca_id):
    with current_gongwen().db.session() as db:
        authority = db.get(CertificateAuthority, ca_id)
        if authority is None or authority.crl_der is None:
            abort(404)
        return Response(authority.crl_der, mimetype="application/pkix-crl",
                        headers={"Content-Disposition": f"attachment; filename=ca-{ca_id}.crl"})
