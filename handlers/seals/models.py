"""Gongwen's CA hierarchy and the units' electronic seals."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, str_enum
from engine.models import Unit


class CertificateAuthority(Base):
    """Gongwen's CA hierarchy: a root, and an issuing CA per issuing office."""

    __tablename__ = "certificate_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), unique=True)  # None: the root
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_authority.id"))
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)                # encrypted private key
    crl_number: Mapped[int] = mapped_column(Integer, default=0)
    crl_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    crl_published_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class TimestampAuthority(Base):
    """Gongwen's own RFC 3161 time-stamping authority: a certificate from the root with the timeStamping purpose."""

    __tablename__ = "timestamp_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ca_id: Mapped[int] = mapped_column(ForeignKey("certificate_authority.id"))
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)                # encrypted private key
    valid_to: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class SealStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"   # renewed: the old certificate stays valid for what it sealed


class Seal(Base):
    """A unit's electronic seal: its drawn image and its own signing certificate."""

    __tablename__ = "seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ca_id: Mapped[int] = mapped_column(ForeignKey("certificate_authority.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="official")  # 公章
    diameter_mm: Mapped[float] = mapped_column()
    image_pdf: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_pem: Mapped[str] = mapped_column(Text)
    serial: Mapped[str] = mapped_column(String(64))
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)
    valid_from: Mapped[datetime] = mapped_column()
    valid_to: Mapped[datetime] = mapped_column()
    status: Mapped[SealStatus] = mapped_column(str_enum(SealStatus, "seal_status"), default=SealStatus.ACTIVE)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoke_reason: Mapped[str | None] = mapped_column(String(20))
    # From when the key is distrusted (key compromise): seals made after it fail even with a
    # timestamp. None: only what is sealed after ``revoked_at`` is refused.
    invalid_since: Mapped[datetime | None] = mapped_column()
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("seal.id"))
    created_at: Mapped[datetime] = mapped_column()

    unit: Mapped[Unit] = relationship()


class CertificateStatus(enum.StrEnum):
    REQUESTED = "requested"     # applied for, waiting for the security officer
    DECLINED = "declined"       # the security officer turned the application down
    ACTIVE = "active"
    SUSPENDED = "suspended"     # reported lost (挂失): on the CRL as certificateHold until lifted or revoked
    REVOKED = "revoked"


_IN_FORCE = "status IN ('requested', 'active', 'suspended')"


class PersonalCertificate(Base):
    """A person's signing certificate (个人签名证书), from application to revocation.

    The certificate, serial and key exist from issue on; the key is encrypted like a seal's and
    only opened inside the step that signs the holder's opinion.
    """

    __tablename__ = "personal_certificate"
    # At most one requested, active or suspended per person, even when two requests race (a double click).
    __table_args__ = (Index("uq_personal_certificate_in_force", "person_id", unique=True,
                            postgresql_where=text(_IN_FORCE), sqlite_where=text(_IN_FORCE)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))    # the holder's unit, named in the subject
    ca_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_authority.id"))
    status: Mapped[CertificateStatus] = mapped_column(str_enum(CertificateStatus, "certificate_status"))
    serial: Mapped[str | None] = mapped_column(String(64))
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    key_blob: Mapped[bytes | None] = mapped_column(LargeBinary)     # encrypted private key
    requested_at: Mapped[datetime | None] = mapped_column()
    issued_at: Mapped[datetime | None] = mapped_column()
    valid_to: Mapped[datetime | None] = mapped_column()
    suspended_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(20))          # a pki.RevocationReason value


class OpinionSignature(Base):
    """The detached CMS signature of one completed 签发 or 批示: what was signed, with which certificate."""

    __tablename__ = "opinion_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("task.id"), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("personal_certificate.id"))
    payload: Mapped[bytes] = mapped_column(LargeBinary)             # the canonical JSON that was signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)           # CMS SignedData, DER, detached
    signed_at: Mapped[datetime] = mapped_column()
