"""The seal register: Gongwen's CA hierarchy and every unit's electronic seals.

A root CA, then one issuing CA per issuing office: the provincial general office
issues the seals of governments and their offices (as the seed notices require of
county seals), a city's office issues those of the city's departments and directly
managed bodies. Each seal has its own key and certificate and a drawn image.
Private keys are stored encrypted (``KeyBox`` with the installation's secret key)
and are only ever opened inside a step that signs. Revoking a seal publishes a new
CRL at once; CRLs are also renewed every day so that they never go stale.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import JobContext, periodic
from engine.config import Settings
from engine.errors import Conflict, NotFound, Refused
from engine.models import Unit, UnitKind

from . import pki
from .models import CertificateAuthority, CertificateStatus, PersonalCertificate, Seal, SealStatus, TimestampAuthority
from .pades import LongTermMaterial
from .seal_image import draw_seal, seal_diameter_mm
from .tsa import LocalTimeStamper, TimestampingKey
from .validation import VerificationReport, Verifier

ROOT_NAME = "公文系统电子印章根证书"
SEAL_YEARS = 5
CRL_LIFETIME = timedelta(days=7)
CRL_RENEW_AFTER = timedelta(days=1)
TSA_NAME = "公文系统时间戳服务"
TSA_RENEW_BEFORE = timedelta(days=365)


def keybox(settings: Settings) -> pki.KeyBox:
    return pki.KeyBox(settings.secret_key)


def _office_of(session: Session, government: Unit) -> Unit:
    office = session.scalar(select(Unit).where(Unit.parent_id == government.id, Unit.kind == UnitKind.OFFICE))
    return office or government


def issuing_office_for(session: Session, unit: Unit) -> Unit:
    """The office that issues ``unit``'s seals."""
    if unit.kind in (UnitKind.DEPARTMENT, UnitKind.DIRECT_BODY) and unit.parent is not None:
        return _office_of(session, unit.parent)
    top = unit
    while top.parent is not None and top.kind != UnitKind.PROVINCE:
        top = top.parent
    return _office_of(session, top)


def _issued(box: pki.KeyBox, ca: CertificateAuthority) -> pki.Issued:
    return pki.Issued(pki.load_certificate(ca.certificate_pem.encode()), box.open(ca.key_blob))


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(Encoding.PEM).decode()


def _root(session: Session, box: pki.KeyBox) -> CertificateAuthority:
    root = session.scalar(select(CertificateAuthority).where(CertificateAuthority.parent_id.is_(None)))
    if root is None:
        issued = pki.create_root_ca(ROOT_NAME, clock.now())
        root = CertificateAuthority(name=ROOT_NAME, certificate_pem=_pem(issued.certificate),
                                    key_blob=box.seal(issued.private_key), created_at=clock.now())
        session.add(root)
        session.flush()
        publish_crl(session, box, root)
        audit.record(session, "ca.create", name=ROOT_NAME)
    return root


def ensure_ca(session: Session, box: pki.KeyBox, office: Unit) -> CertificateAuthority:
    """The issuing CA of ``office``, created (with the root, if need be) the first time."""
    ca = session.scalar(select(CertificateAuthority).where(CertificateAuthority.unit_id == office.id))
    if ca is not None:
        return ca
    root = _root(session, box)
    name = f"{office.name}电子印章签发中心"
    issued = pki.create_issuing_ca(_issued(box, root), name, clock.now(), crl_url=None)
    ca = CertificateAuthority(name=name, unit_id=office.id, parent_id=root.id, certificate_pem=_pem(issued.certificate),
                              key_blob=box.seal(issued.private_key), created_at=clock.now())
    session.add(ca)
    session.flush()
    publish_crl(session, box, ca)
    audit.record(session, "ca.create", unit_id=office.id, name=name)
    return ca


def publish_crl(session: Session, box: pki.KeyBox, ca: CertificateAuthority) -> None:
    """Sign and store ``ca``'s next CRL, listing every seal (or CA) it revoked and every personal certificate
    it revoked or holds suspended."""
    now = clock.now()
    if ca.parent_id is None:
        revoked: list[pki.Revocation] = []
    else:
        seals = session.scalars(select(Seal).where(Seal.ca_id == ca.id, Seal.status == SealStatus.REVOKED)).all()
        revoked = [pki.Revocation(int(s.serial, 16), s.revoked_at, s.revoke_reason, s.invalid_since) for s in seals]
        held = session.scalars(select(PersonalCertificate).where(
            PersonalCertificate.ca_id == ca.id,
            PersonalCertificate.status.in_((CertificateStatus.SUSPENDED, CertificateStatus.REVOKED)))).all()
        # A certificate revoked after being reported lost is distrusted from the report on.
        revoked += [pki.Revocation(int(c.serial, 16), c.suspended_at or c.revoked_at, c.reason) for c in held]
    ca.crl_number += 1
    crl = pki.build_crl(_issued(box, ca), revoked, ca.crl_number, now, now + CRL_LIFETIME)
    ca.crl_der, ca.crl_published_at = crl.public_bytes(Encoding.DER), now
    audit.record(session, "ca.crl", name=ca.name, crl_number=ca.crl_number, revoked=len(revoked))


def renew_stale_crls(session: Session, settings: Settings) -> int:
    box, stale = keybox(settings), clock.now() - CRL_RENEW_AFTER
    cas = session.scalars(select(CertificateAuthority).where(CertificateAuthority.crl_published_at < stale)).all()
    for ca in cas:
        publish_crl(session, box, ca)
    return len(cas)


def issue_seal(session: Session, settings: Settings, unit: Unit, *, name: str | None = None,
               replaces: Seal | None = None, actor_id: int | None = None) -> Seal:
    """A new seal for ``unit``: key, certificate from the issuing office's CA, and the drawn image."""
    box, now = keybox(settings), clock.now()
    ca = ensure_ca(session, box, issuing_office_for(session, unit))
    ca_cert = pki.load_certificate(ca.certificate_pem.encode())
    count = session.scalar(select(func.count()).select_from(Seal).where(Seal.unit_id == unit.id))
    code = f"GW-{unit.id:05d}-{count + 1:02d}"
    not_after = min(now + timedelta(days=365 * SEAL_YEARS), ca_cert.not_valid_after_utc)
    issued = pki.issue_seal_certificate(_issued(box, ca), unit.name, code, now, not_after)
    diameter = seal_diameter_mm(unit.kind.value, unit.parent.kind.value if unit.parent else None)
    seal = Seal(code=code, unit_id=unit.id, ca_id=ca.id, name=name or unit.name, diameter_mm=diameter,
                image_pdf=draw_seal(name or unit.name, diameter), certificate_pem=_pem(issued.certificate),
                serial=format(issued.certificate.serial_number, "x"), key_blob=box.seal(issued.private_key),
                valid_from=now, valid_to=not_after, status=SealStatus.ACTIVE, created_at=now,
                replaces_id=replaces.id if replaces else None)
    session.add(seal)
    session.flush()
    audit.record(session, "seal.issue", actor_id=actor_id, unit_id=unit.id, seal=code,
                 replaces=replaces.code if replaces else None)
    return seal


def revoke_seal(session: Session, settings: Settings, seal: Seal, reason: str, *,
                invalid_since: datetime | None = None, actor_id: int | None = None) -> None:
    """Revoke ``seal`` for ``reason`` (lost, damaged, dissolved, renamed) and publish the CRL at once.

    Documents sealed (by their timestamp) before the revocation keep verifying. For a lost seal
    (key compromise) ``invalid_since`` says from when the key is distrusted: documents sealed
    after that moment fail too. It may not lie in the future or before the seal was issued.
    """
    if reason not in pki.REVOCATION_REASONS:
        raise Refused(f"吊销原因应为：{'、'.join(pki.REVOCATION_REASONS)}")
    if seal.status == SealStatus.REVOKED:
        raise Conflict(f"印章 {seal.code} 已经吊销")
    now = clock.now()
    if invalid_since is not None:
        if reason != pki.RevocationReason.LOST:
            raise Refused("只有印章遗失或私钥泄露时才能指定失效起始时间")
        if invalid_since.utcoffset() is None or not seal.valid_from <= invalid_since <= now:
            raise Refused(f"失效起始时间应在印章制发（{clock.local(seal.valid_from):%Y-%m-%d %H:%M}）与现在之间")
    seal.status, seal.revoked_at, seal.revoke_reason = SealStatus.REVOKED, now, reason
    seal.invalid_since = invalid_since
    session.flush()
    publish_crl(session, keybox(settings), session.get(CertificateAuthority, seal.ca_id))
    audit.record(session, "seal.revoke", actor_id=actor_id, unit_id=seal.unit_id, seal=seal.code, reason=reason,
                 invalid_since=invalid_since.isoformat() if invalid_since else None)


def active_seal(session: Session, unit: Unit) -> Seal:
    """The seal ``unit`` signs with now; refused if it has none that is valid."""
    now = clock.now()
    seals = session.scalars(select(Seal).where(Seal.unit_id == unit.id).order_by(Seal.id.desc())).all()
    for seal in seals:
        if seal.status == SealStatus.ACTIVE and seal.valid_from <= now < seal.valid_to:
            return seal
    if seals and seals[0].status == SealStatus.REVOKED:
        raise Refused(f"{unit.name}的印章 {seals[0].code} 已吊销，不能用印；请先申请补发印章")
    if seals and seals[0].valid_to <= now:
        raise Refused(f"{unit.name}的印章 {seals[0].code} 已过期，不能用印；请先申请换发印章")
    raise Refused(f"{unit.name}没有可用的电子印章，不能用印")


def seal_signing_material(session: Session, settings: Settings, seal: Seal) -> tuple:
    """(private key, certificate, chain to embed) for signing with ``seal``.

    The chain is the issuing CA only: a verifier must hold the root already to trust it (the DSS
    carries it for long-term validation), and every byte in the signature is parsed again on
    every verification.
    """
    ca = session.get(CertificateAuthority, seal.ca_id)
    chain = [pki.load_certificate(ca.certificate_pem.encode())]
    return keybox(settings).open(seal.key_blob), pki.load_certificate(seal.certificate_pem.encode()), chain


def ensure_tsa(session: Session, box: pki.KeyBox) -> TimestampAuthority:
    """Gongwen's time-stamping authority, created under the root the first time, renewed before it expires.

    A new TSA certificate is issued a year before the current one expires, so that no timestamp
    is made by a certificate about to lapse; old ones stay in the table for verifiers.
    """
    tsa = session.scalar(select(TimestampAuthority).order_by(TimestampAuthority.id.desc()).limit(1))
    if tsa is not None and tsa.valid_to > clock.now() + TSA_RENEW_BEFORE:
        return tsa
    root = _root(session, box)
    issued = pki.issue_tsa_certificate(_issued(box, root), TSA_NAME, clock.now())
    tsa = TimestampAuthority(name=TSA_NAME, ca_id=root.id, certificate_pem=_pem(issued.certificate),
                             key_blob=box.seal(issued.private_key), valid_to=issued.certificate.not_valid_after_utc,
                             created_at=clock.now())
    session.add(tsa)
    session.flush()
    audit.record(session, "tsa.create", name=TSA_NAME, serial=format(issued.certificate.serial_number, "x"))
    return tsa


def timestamping_key(session: Session, settings: Settings) -> TimestampingKey:
    """The current TSA's key and certificate (the TSA made the first time it is needed)."""
    box = keybox(settings)
    tsa = ensure_tsa(session, box)
    return TimestampingKey(box.open(tsa.key_blob), pki.load_certificate(tsa.certificate_pem.encode()))


def timestamper(session: Session, settings: Settings) -> LocalTimeStamper:
    """Gongwen's TSA in this process, stamping at the time of Gongwen's clock."""
    return LocalTimeStamper(timestamping_key(session, settings), clock.now)


def long_term_material(session: Session) -> LongTermMaterial:
    """Every CA and TSA certificate and every current CRL: what a sealed PDF's DSS carries (PAdES B-LT)."""
    cas = session.scalars(select(CertificateAuthority)).all()
    tsas = session.scalars(select(TimestampAuthority)).all()
    return LongTermMaterial(certificates=[pki.load_certificate(c.certificate_pem.encode()) for c in [*cas, *tsas]],
                            crls=[c.crl_der for c in cas if c.crl_der])


def verifier(session: Session) -> Verifier:
    """A verifier trusting Gongwen's root, knowing every issuing CA, every TSA and every current CRL."""
    cas = session.scalars(select(CertificateAuthority)).all()
    if not cas:
        raise NotFound("本系统尚未建立电子印章证书体系，无法验证")
    roots = [c.certificate_pem.encode() for c in cas if c.parent_id is None]
    others = [c.certificate_pem.encode() for c in cas if c.parent_id]
    others += [t.certificate_pem.encode() for t in session.scalars(select(TimestampAuthority))]
    return Verifier(trust_roots=[pki.load_certificate(r) for r in roots],
                    intermediates=[pki.load_certificate(c) for c in others],
                    crls=[c.crl_der for c in cas if c.crl_der])


@periodic(every=timedelta(hours=1))
def _renew_crls(job: JobContext) -> None:
    with job.db.write() as session:
        renew_stale_crls(session, job.settings)


def verify(session: Session, pdf: bytes, expected_signers: list[str] | None = None) -> VerificationReport:
    """Verify ``pdf`` against the register, at the time of Gongwen's clock.

    Each of the 1,000 recipients of a document verifies the same sealed bytes. The report is the
    same for the same bytes under the same trust material while that material is current, as long
    as every seal is judged at its timestamp rather than now; such reports are kept, keyed by the
    file's hash, the expected signers and a digest of every CRL and TSA certificate. Publishing a
    CRL (a revocation, or the daily renewal) or a new TSA changes the digest; a report is never
    served past the Verifier's ``valid_until``.
    """
    now, version = clock.now(), _trust_version(session)
    key = (hashlib.sha256(pdf).digest(), version, tuple(expected_signers) if expected_signers is not None else None)
    with _cache_lock:
        cached, checker = _reports.get(key), _verifiers.get(version)
    if cached is not None and now < cached[1]:
        return cached[0]
    if checker is None:
        checker = verifier(session)
    report = checker.verify(pdf, expected_signers, now=now)
    with _cache_lock:
        _verifiers.clear()  # only the current trust material is worth keeping
        _verifiers[version] = checker
        if report.signers and all(s["timestamp"] for s in report.signers):
            _reports[key] = (report, checker.valid_until)
            while len(_reports) > _CACHED_REPORTS:
                _reports.pop(next(iter(_reports)))
    return report


_CACHED_REPORTS = 512
_cache_lock = threading.Lock()
_verifiers: dict[bytes, Verifier] = {}
_reports: dict[tuple, tuple[VerificationReport, datetime]] = {}


# The CAs' CRLs, then the TSAs' certificates, in one query built once: every sign-for asks.
_TRUST_MATERIAL = union_all(
    select(literal_column("0").label("kind"), CertificateAuthority.id.label("id"),
           CertificateAuthority.crl_der.label("crl"), null().label("pem")),
    select(literal_column("1"), TimestampAuthority.id, null(), TimestampAuthority.certificate_pem),
).order_by("kind", "id")


def _trust_version(session: Session) -> bytes:
    """A digest of every CRL and TSA certificate: it changes with every publication, and differs between
    installations (each CRL carries its own signature)."""
    digest = hashlib.sha256()
    for _kind, _id, crl, pem in session.execute(_TRUST_MATERIAL):
        digest.update(pem.encode() if pem is not None else crl or b"-")
    return digest.digest()

