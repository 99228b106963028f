"""Each seal's history for the register page (印章登记簿): issued, replacing, replaced by, revoked.

Only what a register shows is read: never a key, a certificate or the drawn image.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Unit

from .models import CertificateAuthority, Seal, SealStatus
from .pki import REVOCATION_REASONS

STATUS_LABELS = {SealStatus.ACTIVE: "在用", SealStatus.SUPERSEDED: "已换发（原证书仍可验证此前用印）",
                 SealStatus.REVOKED: "已吊销"}


@dataclass(frozen=True)
class SealEntry:
    """One seal and what happened to it."""

    id: int
    code: str
    name: str
    unit: str
    issuer: str                    # the issuing office's CA
    status: str
    valid_from: datetime
    valid_to: datetime
    replaces: str | None           # the seal it replaced (renewal, renaming, reissue)
    replaced_by: str | None        # the seal that replaced it
    revoked_at: datetime | None
    revoke_reason: str | None
    invalid_since: datetime | None


def seal_history(session: Session, *, units: set[int] | None = None) -> list[SealEntry]:
    """Every seal of ``units`` or issued by their offices (all seals when ``units`` is None), by unit."""
    columns = (Seal.id, Seal.code, Seal.name, Seal.unit_id, Seal.ca_id, Seal.status, Seal.valid_from, Seal.valid_to,
               Seal.replaces_id, Seal.revoked_at, Seal.revoke_reason, Seal.invalid_since)
    query = select(*columns).join(CertificateAuthority, CertificateAuthority.id == Seal.ca_id)
    if units is not None:
        if not units:
            return []
        query = query.where(or_(Seal.unit_id.in_(units), CertificateAuthority.unit_id.in_(units)))
    rows = session.execute(query.order_by(Seal.unit_id, Seal.id)).all()
    ids = {r.id for r in rows}
    codes = {r.id: r.code for r in rows}
    # A predecessor or successor outside the list is still named: it is the same unit's seal.
    related = {r.replaces_id for r in rows if r.replaces_id and r.replaces_id not in ids}
    codes |= dict(session.execute(select(Seal.id, Seal.code).where(Seal.id.in_(related))).all()) if related else {}
    successors = dict(session.execute(select(Seal.replaces_id, Seal.code).where(Seal.replaces_id.in_(ids))).all()) \
        if ids else {}
    units_named = dict(session.execute(select(Unit.id, Unit.name)).all())
    issuers = dict(session.execute(select(CertificateAuthority.id, CertificateAuthority.name)).all())
    return [SealEntry(r.id, r.code, r.name, units_named.get(r.unit_id, ""), issuers.get(r.ca_id, ""),
                      STATUS_LABELS[r.status], r.valid_from, r.valid_to, codes.get(r.replaces_id),
                      successors.get(r.id), r.revoked_at,
                      REVOCATION_REASONS[r.revoke_reason].label if r.revoke_reason in REVOCATION_REASONS
                      else r.revoke_reason, r.invalid_since)
            for r in rows]
