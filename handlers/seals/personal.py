"""Personal signing certificates (个人签名证书): application, issue, loss, suspension and revocation.

Whoever signs off (签发) or instructs (批示) holds a certificate of their own (Guangdong Art 25–30),
issued by the issuing CA of their unit's issuing office, like their unit's seals. A person applies;
the security officer (安全保密管理员) issues it, on application or directly, or declines. A
holder who loses it reports it at once (挂失): it is suspended and the CRL is published at once
with reason certificateHold. The security officer lifts a suspension or revokes. Freezing an
account, or moving a person to another unit, revokes their certificate (reason ``left``): the
engine calls :func:`_departs`, which has no settings to open the CA key with, so the CRL follows
through the outbox.

A person has at most one certificate in progress or in force (requested, active or suspended).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import JobContext, consumer
from engine.config import Settings
from engine.errors import Conflict, Refused
from engine.messages import enqueue
from engine.models import ADMIN_ROLES, Outbox, Person, PersonStatus, RoleGrant, Unit
from engine.registry import on_departure

from . import pki
from .models import CertificateAuthority, CertificateStatus, PersonalCertificate
from .register import _issued, _pem, ensure_ca, issuing_office_for, keybox, publish_crl

CERTIFICATE_YEARS = 3
IN_FORCE = (CertificateStatus.REQUESTED, CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED)
# What the security officer may revoke a personal certificate for (a pki.RevocationReason value each).
REVOKE_REASONS = {"lost": "证书遗失或私钥泄露", "left": "持有人离职、调离或账号冻结", "other": "其他原因"}
STATUS_LABELS = {CertificateStatus.REQUESTED: "已申请，待签发", CertificateStatus.DECLINED: "申请未获批准",
                 CertificateStatus.ACTIVE: "有效", CertificateStatus.SUSPENDED: "已挂失（暂停使用）",
                 CertificateStatus.REVOKED: "已吊销"}
_CRL_TOPIC = "seals.personal_crl"


def current(session: Session, person_id: int) -> PersonalCertificate | None:
    """The person's certificate in progress or in force (requested, active or suspended), if any."""
    return session.scalar(select(PersonalCertificate).where(
        PersonalCertificate.person_id == person_id, PersonalCertificate.status.in_(IN_FORCE)))


def _check_holder(session: Session, person: Person) -> Unit:
    """The unit ``person`` would hold a certificate for; refuses administrators and frozen accounts."""
    admin = session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person.id,
                                                      RoleGrant.role.in_(list(ADMIN_ROLES))).limit(1))
    if admin is not None or person.unit is None:
        raise Refused("三员分立：系统管理员、安全保密管理员和安全审计员不签发、不批示公文，不持有个人签名证书")
    if person.status != PersonStatus.ACTIVE:
        raise Refused(f"{person.name} 的账号已冻结，不能持有个人签名证书")
    return person.unit


def apply(session: Session, person: Person) -> PersonalCertificate:
    """``person`` applies for a certificate; the security officer issues it."""
    unit = _check_holder(session, person)
    if (held := current(session, person.id)) is not None:
        raise Conflict(f"您已有{STATUS_LABELS[held.status]}的个人签名证书，不能重复申请")
    certificate = PersonalCertificate(person_id=person.id, unit_id=unit.id, status=CertificateStatus.REQUESTED,
                                      requested_at=clock.now())
    session.add(certificate)
    _flush_one_in_force(session)
    audit.record(session, "personal_certificate.apply", actor_id=person.id, unit_id=unit.id, person_id=person.id)
    return certificate


def issue(session: Session, settings: Settings, person: Person, *, actor_id: int | None = None
          ) -> PersonalCertificate:
    """Issue ``person`` a certificate: on their application, or directly if they have none in force."""
    unit = _check_holder(session, person)
    certificate = current(session, person.id)
    if certificate is not None and certificate.status != CertificateStatus.REQUESTED:
        raise Conflict(f"{person.name} 已有{STATUS_LABELS[certificate.status]}的个人签名证书")
    box, now = keybox(settings), clock.now()
    ca = ensure_ca(session, box, issuing_office_for(session, unit))
    issuer = _issued(box, ca)
    not_after = min(now + timedelta(days=365 * CERTIFICATE_YEARS), issuer.certificate.not_valid_after_utc)
    try:
        issued = pki.issue_personal_certificate(issuer, person.name, unit.name, f"GW-P-{person.id:06d}", now,
                                                not_after)
    except ValueError as err:  # e.g. a unit name longer than a certificate holds
        raise Refused(str(err)) from None
    if certificate is None:
        certificate = PersonalCertificate(person_id=person.id)
        session.add(certificate)
    certificate.unit_id, certificate.ca_id, certificate.status = unit.id, ca.id, CertificateStatus.ACTIVE
    certificate.serial = format(issued.certificate.serial_number, "x")
    certificate.certificate_pem, certificate.key_blob = _pem(issued.certificate), box.seal(issued.private_key)
    certificate.issued_at, certificate.valid_to = now, not_after
    _flush_one_in_force(session)
    audit.record(session, "personal_certificate.issue", actor_id=actor_id, unit_id=unit.id, person_id=person.id,
                 serial=certificate.serial)
    return certificate


def _flush_one_in_force(session: Session) -> None:
    """Flush; a second certificate in force for the same person (two requests racing) is a conflict."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("该人员已有申请中或有效的个人签名证书，请刷新后再试") from None


def decline(session: Session, certificate: PersonalCertificate, *, actor_id: int | None = None) -> None:
    if certificate.status != CertificateStatus.REQUESTED:
        raise Conflict("这份申请已经处理过了")
    certificate.status = CertificateStatus.DECLINED
    audit.record(session, "personal_certificate.decline", actor_id=actor_id, unit_id=certificate.unit_id,
                 person_id=certificate.person_id)


def report_lost(session: Session, settings: Settings, certificate: PersonalCertificate, *,
                actor_id: int | None = None) -> None:
    """挂失: suspend at once and publish the CRL at once (certificateHold); nothing signs with it from now."""
    if certificate.status != CertificateStatus.ACTIVE:
        raise Conflict(f"证书{STATUS_LABELS[certificate.status]}，无需挂失")
    certificate.status, certificate.suspended_at = CertificateStatus.SUSPENDED, clock.now()
    certificate.reason = pki.RevocationReason.SUSPENDED.value
    _publish(session, settings, certificate)
    audit.record(session, "personal_certificate.suspend", actor_id=actor_id, unit_id=certificate.unit_id,
                 person_id=certificate.person_id, serial=certificate.serial)


def lift(session: Session, settings: Settings, certificate: PersonalCertificate, *,
         actor_id: int | None = None) -> None:
    """Lift a suspension (the certificate was found): it leaves the CRL and signs again."""
    if certificate.status != CertificateStatus.SUSPENDED:
        raise Conflict(f"证书{STATUS_LABELS[certificate.status]}，不能解除挂失")
    certificate.status, certificate.suspended_at, certificate.reason = CertificateStatus.ACTIVE, None, None
    _publish(session, settings, certificate)
    audit.record(session, "personal_certificate.lift", actor_id=actor_id, unit_id=certificate.unit_id,
                 person_id=certificate.person_id, serial=certificate.serial)


def revoke(session: Session, settings: Settings, certificate: PersonalCertificate, reason: str, *,
           actor_id: int | None = None) -> None:
    """Revoke an active or suspended certificate for one of :data:`REVOKE_REASONS`; the CRL is published at once."""
    if reason not in REVOKE_REASONS:
        raise Refused(f"吊销原因应为：{'、'.join(REVOKE_REASONS.values())}")
    _end(session, certificate, reason, actor_id)
    _publish(session, settings, certificate)


def signing_certificate(session: Session, person_id: int) -> PersonalCertificate:
    """The certificate ``person_id`` signs with now; refused, saying what to do, if there is none."""
    certificate = current(session, person_id)
    if certificate is None:
        raise Refused("您还没有个人签名证书，不能签发或批示。请在“个人签名证书”页面申请，由安全保密管理员签发")
    if certificate.status == CertificateStatus.REQUESTED:
        raise Refused("您的个人签名证书申请尚待安全保密管理员签发，暂不能签发或批示")
    if certificate.status == CertificateStatus.SUSPENDED:
        raise Refused("您的个人签名证书已挂失，暂停使用；请联系安全保密管理员解除挂失或吊销后重新申请")
    if certificate.valid_to <= clock.now():
        raise Refused("您的个人签名证书已过期，请联系安全保密管理员吊销后重新申请")
    return certificate


def _end(session: Session, certificate: PersonalCertificate, reason: str, actor_id: int | None) -> None:
    if certificate.status not in (CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED):
        raise Conflict(f"证书{STATUS_LABELS[certificate.status]}，不能吊销")
    certificate.status, certificate.revoked_at, certificate.reason = CertificateStatus.REVOKED, clock.now(), reason
    session.flush()
    audit.record(session, "personal_certificate.revoke", actor_id=actor_id, unit_id=certificate.unit_id,
                 person_id=certificate.person_id, serial=certificate.serial, reason=reason)


def _publish(session: Session, settings: Settings, certificate: PersonalCertificate) -> None:
    session.flush()
    publish_crl(session, keybox(settings), session.get(CertificateAuthority, certificate.ca_id))


@on_departure
def _departs(session: Session, person: Person, actor_id: int | None) -> None:
    """A frozen or moved person's certificate is revoked, an open application declined; the CRL follows."""
    certificate = current(session, person.id)
    if certificate is None:
        return
    if certificate.status == CertificateStatus.REQUESTED:
        decline(session, certificate, actor_id=actor_id)
        return
    _end(session, certificate, pki.RevocationReason.LEFT.value, actor_id)
    enqueue(session, _CRL_TOPIC, f"personal-certificate-{certificate.id}-revoked", {"ca_id": certificate.ca_id})


@consumer(_CRL_TOPIC)
def _publish_later(job: JobContext, session: Session, item: Outbox) -> None:
    publish_crl(session, keybox(job.settings), session.get(CertificateAuthority, item.payload["ca_id"]))
