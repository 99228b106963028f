"""Personal signing certificates (个人签名证书): the holder's page and the security officer's register.

A person who works for a unit sees their certificate, applies for one and reports it lost (挂失:
suspended at once, the CRL published at once). The security officer (安全保密管理员) sees every
application and certificate (names, units, serials and states; never a document) and issues,
declines, lifts a suspension or revokes. Every change goes through ``handlers.seals.personal``,
which audits it; a refusal is audited here and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engine.errors import GongwenError
from engine.models import Person, Role, Unit
from engine.organisation import find_person
from handlers.seals import personal
from handlers.seals.models import CertificateStatus, PersonalCertificate

from . import current_gongwen
from .admin import requires
from .auth import login_required
from .errors import refused

bp = Blueprint("certificates", __name__)
officer = requires(Role.SECURITY_OFFICER)


@bp.route("/certificate")
@login_required
def mine() -> ResponseReturnValue:
    with current_gongwen().db.session() as db:
        rows = db.scalars(select(PersonalCertificate).where(PersonalCertificate.person_id == g.person.id)
                          .order_by(PersonalCertificate.id.desc())).all()
        current = next((r for r in rows if r.status in personal.IN_FORCE), None)
        return render_template("certificates/mine.html", current=current, history=[r for r in rows if r is not current],
                               labels=personal.STATUS_LABELS, Status=CertificateStatus)


@bp.post("/certificate/apply")
@login_required
def apply_for() -> ResponseReturnValue:
    try:
        with current_gongwen().db.write() as db:
            personal.apply(db, db.get(Person, g.person.id))
        flash("已提交申请，请等待安全保密管理员签发")
    except GongwenError as err:
        refused("personal_certificate.apply_refused")
        flash(f"未申请：{err}")
    return redirect(url_for("certificates.mine"))


@bp.post("/certificate/report-lost")
@login_required
def report_lost() -> ResponseReturnValue:
    """The holder reports their own certificate lost; nobody else's can be named here."""
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            certificate = personal.current(db, g.person.id)
            if certificate is None:
                raise GongwenError("您没有可挂失的个人签名证书")
            personal.report_lost(db, gongwen.settings, certificate, actor_id=g.person.id)
        flash("证书已挂失，即时停止使用，证书吊销列表已发布；找回后请联系安全保密管理员解除挂失")
    except GongwenError as err:
        refused("personal_certificate.report_lost_refused")
        flash(f"未挂失：{err}")
    return redirect(url_for("certificates.mine"))


@bp.route("/admin/security/certificates")
@officer
def register() -> ResponseReturnValue:
    """Applications waiting first, then every certificate, newest first."""
    with current_gongwen().db.session() as db:
        rows = db.execute(select(PersonalCertificate, Person.name, Person.login, Unit.name)
                          .join(Person, Person.id == PersonalCertificate.person_id)
                          .join(Unit, Unit.id == PersonalCertificate.unit_id)
                          .order_by((PersonalCertificate.status == CertificateStatus.REQUESTED).desc(),
                                    PersonalCertificate.id.desc())).all()
        return render_template("certificates/register.html", rows=rows, labels=personal.STATUS_LABELS,
                               reasons=personal.REVOKE_REASONS, Status=CertificateStatus)


@bp.post("/admin/security/certificates/issue")
@officer
def issue() -> ResponseReturnValue:
    """Issue to a person by login: on their application, or directly."""
    gongwen, login = current_gongwen(), request.form.get("login", "").strip()[:64]
    try:
        with gongwen.db.write() as db:
            person = find_person(db, login)
            certificate = personal.issue(db, gongwen.settings, person, actor_id=g.person.id)
            flash(f"已为 {person.name} 签发个人签名证书（序列号 {certificate.serial}）")
    except GongwenError as err:
        refused("personal_certificate.issue_refused", login=login)
        flash(f"未签发：{err}")
    return redirect(url_for("certificates.register"))


@bp.post("/admin/security/certificates/<int:certificate_id>/<any(decline, suspend, lift, revoke):action>")
@officer
def change(certificate_id: int, action: str) -> ResponseReturnValue:
    gongwen, reason = current_gongwen(), request.form.get("reason", "")
    try:
        with gongwen.db.write() as db:
            certificate = db.get(PersonalCertificate, certificate_id) or abort(404)
            if action == "decline":
                personal.decline(db, certificate, actor_id=g.person.id)
            elif action == "suspend":
                personal.report_lost(db, gongwen.settings, certificate, actor_id=g.person.id)
            elif action == "lift":
                personal.lift(db, gongwen.settings, certificate, actor_id=g.person.id)
            else:
                personal.revoke(db, gongwen.settings, certificate, reason, actor_id=g.person.id)
        flash({"decline": "已退回申请", "suspend": "已挂失，证书吊销列表已发布",
               "lift": "已解除挂失，证书吊销列表已发布", "revoke": "已吊销，证书吊销列表已发布"}[action])
    except GongwenError as err:
        refused(f"personal_certificate.{action}_refused", certificate_id=certificate_id, reason=reason[:20])
        flash(f"未办理：{err}")
    return redirect(url_for("certificates.register"))
