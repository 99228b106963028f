"""Gongwen's own certificate authority for electronic seals (ECDSA P-256, SHA-256).

Hierarchy: a root CA (pathlen 1) → one issuing CA per provincial general office (pathlen 0) →
one end-entity certificate per seal. Everything here is a pure function of its arguments: the
caller stores certificates and CRLs as DER, private keys sealed by :class:`KeyBox`, and passes
``now`` explicitly so that issuance is reproducible in tests.

Revocation reasons (``build_crl``) are the seal lifecycle events of the seal register:

========== ========================== =====================================================
reason     CRLReason                  why
========== ========================== =====================================================
lost       keyCompromise              whoever has the lost key or token can seal documents
damaged    superseded                 the key is unusable, not exposed; a new seal replaces it
dissolved  cessationOfOperation       the unit no longer exists
renamed    affiliationChanged         the unit's name in the certificate subject is now wrong
other      (no reason code)           RFC 5280 §5.3.1: omit rather than encode "unspecified"
========== ========================== =====================================================

Personal signing certificates (``issue_personal_certificate``) add two: ``suspended``
(certificateHold: reported lost, 挂失, and may be lifted again) and ``left`` (cessationOfOperation:
the holder left, moved or was frozen). :data:`REVOCATION_REASONS` stays the seal reasons only.
"""

from __future__ import annotations

import enum
import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from asn1crypto import crl as asn1_crl_module
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "DOCUMENT_SIGNING",
    "REVOCATION_REASONS",
    "Issued",
    "KeyBox",
    "KeyBoxError",
    "Revocation",
    "RevocationReason",
    "asn1_certificate",
    "asn1_crl",
    "build_crl",
    "create_issuing_ca",
    "create_root_ca",
    "issue_personal_certificate",
    "issue_seal_certificate",
    "issue_tsa_certificate",
    "load_certificate",
    "load_crl",
    "seal_id_of",
    "unit_name_of",
]

class RevocationReason(enum.StrEnum):
    """Why a seal is revoked, with its label and the CRL reason code it is published under."""

    LOST = "lost"
    DAMAGED = "damaged"
    DISSOLVED = "dissolved"
    RENAMED = "renamed"
    OTHER = "other"
    # Personal certificates only; listed after the seal reasons so that of_flag() still names a
    # seal's reason first where two share a code.
    SUSPENDED = "suspended"
    LEFT = "left"

    @property
    def label(self) -> str:
        return {"lost": "印章遗失或私钥泄露", "damaged": "印章损坏，已更换", "dissolved": "单位已撤销",
                "renamed": "单位已更名", "other": "其他原因", "suspended": "证书已挂失，暂停使用",
                "left": "持有人离职、调离或账号冻结"}[self.value]

    @property
    def flag(self) -> x509.ReasonFlags | None:
        return _REASON_FLAGS[self]

    @classmethod
    def of_flag(cls, flag_name: str) -> RevocationReason | None:
        """The reason published under a CRL reason code (e.g. ``key_compromise``), if it is one of ours."""
        return next((r for r in cls if r.flag is not None and r.flag.name == flag_name), None)


_REASON_FLAGS = {
    RevocationReason.LOST: x509.ReasonFlags.key_compromise,
    RevocationReason.DAMAGED: x509.ReasonFlags.superseded,
    RevocationReason.DISSOLVED: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.RENAMED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.OTHER: None,
    RevocationReason.SUSPENDED: x509.ReasonFlags.certificate_hold,
    RevocationReason.LEFT: x509.ReasonFlags.cessation_of_operation,
}
_REASONS_BY_VALUE = {r.value: r for r in RevocationReason}
# The reasons a seal may be revoked for, by value, for callers that check a submitted string.
REVOCATION_REASONS = {r.value: r for r in RevocationReason
                      if r not in (RevocationReason.SUSPENDED, RevocationReason.LEFT)}

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336

_ROOT_LIFETIME = timedelta(days=20 * 365)
_ISSUING_LIFETIME = timedelta(days=10 * 365)
# serialNumber is a PrintableString (RFC 5280 appendix A); refuse what it cannot carry.
_SEAL_ID = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]{1,64}")
_SEAL_OU = "电子印章"
_PERSON_OU = "个人签名证书"
_NAME_LIMIT = 64  # characters in O (ub-organization-name, RFC 5280 appendix A)
_CN_BYTES = 64    # cryptography's cap on CN, in UTF-8 bytes


class KeyBoxError(ValueError):
    """A sealed private key cannot be opened: wrong secret, tampered or unknown format."""


class KeyBox:
    """Encrypts private keys at rest with a key derived from a configuration secret.

    The secret must be high-entropy (e.g. ``secrets.token_urlsafe(32)``): it goes through HKDF,
    which does not slow down guessing. Blob layout: version byte ``0x01`` ‖ 12-byte random nonce ‖
    AES-256-GCM(PKCS#8 DER), with the version byte as associated data.
    """

    _VERSION = b"\x01"
    _NONCE = 12

    def __init__(self, secret: str) -> None:
        if not secret:
            raise KeyBoxError("私钥保护密钥未配置")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gongwen/keybox/v1").derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, private_key: ec.EllipticCurvePrivateKey) -> bytes:
        """Encrypt ``private_key``; the result is safe to store in the database."""
        der = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        nonce = os.urandom(self._NONCE)
        return self._VERSION + nonce + self._aead.encrypt(nonce, der, self._VERSION)

    def open(self, blob: bytes) -> ec.EllipticCurvePrivateKey:
        """Decrypt a blob made by :meth:`seal`; raises :class:`KeyBoxError` if that is impossible."""
        blob = bytes(blob)  # database drivers may hand back a memoryview
        if blob[:1] != self._VERSION or len(blob) <= 1 + self._NONCE:
            raise KeyBoxError("私钥数据格式无法识别")
        nonce, sealed = blob[1 : 1 + self._NONCE], blob[1 + self._NONCE :]
        try:
            der = self._aead.decrypt(nonce, sealed, self._VERSION)
        except InvalidTag:
            raise KeyBoxError("私钥无法解密：保护密钥与加密时不一致，或数据已被篡改") from None
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyBoxError("私钥类型不是 ECDSA")
        return key


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key (for CAs and seals alike)."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def create_root_ca(name: str, now: datetime) -> Issued:
    """Self-signed root CA ``name``, valid 20 years from ``now``, allowed one CA level below it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(name)
    cert = (
        _builder(subject, subject, key.public_key(), now, now + _ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def create_issuing_ca(root: Issued, name: str, now: datetime, crl_url: str | None) -> Issued:
    """Issuing CA ``name`` under ``root``, valid 10 years (never beyond the root); signs seals only.

    ``crl_url`` is where the root's CRL is published; it becomes the CRL distribution point of
    this certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(name), root.certificate.subject, key.public_key(), now,
                 min(now + _ISSUING_LIFETIME, root.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_aki(root), critical=False)
    )
    if crl_url:
        builder = builder.add_extension(_crl_dp(crl_url), critical=False)
    return Issued(builder.sign(root.private_key, hashes.SHA256()), key)


def issue_seal_certificate(
    issuer: Issued,
    unit_name: str,
    seal_id: str,
    now: datetime,
    not_after: datetime,
    crl_url: str | None = None,
) -> Issued:
    """The certificate of one seal of ``unit_name``, with a new key.

    Subject ``C=CN, O=<unit>, OU=电子印章, CN=<unit>, serialNumber=<seal_id>`` so a verifier can
    name both the unit and the seal; a unit name longer than a CN holds (21 Chinese characters)
    gets the seal id as CN instead. ``seal_id`` must be printable ASCII (letters, digits, ``-``
    ...). ``crl_url`` is where ``issuer`` publishes its CRL. ``not_after`` may not exceed the
    issuer's own validity.
    """
    if not _SEAL_ID.fullmatch(seal_id):
        raise ValueError(f"印章编号只能由字母、数字和 -./:() 等可打印字符组成（不超过 64 个）：{seal_id!r}")
    if not_after > issuer.certificate.not_valid_after_utc:
        raise ValueError("印章证书的有效期不能超过签发机构证书的有效期")
    if not_after <= now:
        raise ValueError("印章证书的截止时间必须晚于签发时间")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(unit_name, cn=_common_name(unit_name) or seal_id, ou=_SEAL_OU, serial=seal_id),
                 issuer.certificate.subject,
                 key.public_key(), now, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signer_key_usage(), critical=True)
        # The verifier accepts only certificates made for signing documents. NSS (poppler's pdfsig,
        # Firefox's PDF viewer) checks a PDF signer for the e-mail-signer usage, so that purpose is
        # listed too; without it pdfsig refuses to trust the seal even with Gongwen's root imported.
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    if crl_url:
        builder = builder.add_extension(_crl_dp(crl_url), critical=False)
    return Issued(builder.sign(issuer.private_key, hashes.SHA256()), key)


def issue_personal_certificate(issuer: Issued, person_name: str, unit_name: str, person_code: str,
                               now: datetime, not_after: datetime) -> Issued:
    """A person's signing certificate (个人签名证书), with a new key, for signing 签发 and 批示 opinions.

    Subject ``C=CN, O=<unit>, OU=个人签名证书, CN=<name>, serialNumber=<person_code>``: the name
    says who signed (cut to the 64 bytes a CN holds), the code (printable ASCII, e.g. ``GW-P-000012``)
    which account, since two people may share a name. Key usage digitalSignature + nonRepudiation
    and the documentSigning purpose, as for seals: an opinion is a statement its signer stands by.
    """
    if not _SEAL_ID.fullmatch(person_code):
        raise ValueError(f"人员编号只能由字母、数字和 -./:() 等可打印字符组成（不超过 64 个）：{person_code!r}")
    if not person_name:
        raise ValueError("证书中的姓名不能为空")
    if not now < not_after <= issuer.certificate.not_valid_after_utc:
        raise ValueError("个人证书的截止时间必须晚于签发时间，且不超过签发机构证书的有效期")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(unit_name, cn=_common_name(person_name, truncate=True), ou=_PERSON_OU, serial=person_code),
                 issuer.certificate.subject, key.public_key(), now, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signer_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    return Issued(builder.sign(issuer.private_key, hashes.SHA256()), key)


class Revocation(NamedTuple):
    """One CRL entry: which certificate, when it was revoked, why, and (key compromise) distrusted since when."""

    serial: int
    revoked_at: datetime
    reason: str
    invalid_since: datetime | None = None


def issue_tsa_certificate(root: Issued, name: str, now: datetime) -> Issued:
    """The certificate of Gongwen's time-stamping authority ``name``, with a new key, issued by ``root``.

    RFC 3161 §2.3: the extended key usage is timeStamping only, and critical. Valid 10 years
    (never beyond the root); a timestamp stays checkable after that as long as a later archive
    timestamp covers it.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(name), root.certificate.subject, key.public_key(), now,
                 min(now + _ISSUING_LIFETIME, root.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signer_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_aki(root), critical=False)
        .sign(root.private_key, hashes.SHA256())
    )
    return Issued(cert, key)


def build_crl(
    issuer: Issued,
    revoked: Sequence[Revocation | tuple],
    number: int,
    now: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """CRL number ``number`` of ``issuer`` listing its :class:`Revocation` entries (or plain tuples of them).

    ``reason`` is a :class:`RevocationReason` value; ``invalid_since`` becomes the entry's
    invalidityDate (RFC 5280 §5.3.2), which a verifier uses to refuse signatures timestamped after
    it. Verifiers reject the CRL after ``next_update``, so publish a new one (higher ``number``)
    before then, even if nothing changed.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    for serial, when, reason, invalid_since in (Revocation(*entry) for entry in revoked):
        if reason not in _REASONS_BY_VALUE:
            raise ValueError(f"未知的吊销原因：{reason}（可选：{'、'.join(_REASONS_BY_VALUE)}）")
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if (flag := RevocationReason(reason).flag) is not None:
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        if invalid_since is not None:
            naive_utc = invalid_since.astimezone(UTC).replace(tzinfo=None)  # what the extension takes
            entry = entry.add_extension(x509.InvalidityDate(naive_utc), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer.private_key, hashes.SHA256())


@functools.lru_cache(maxsize=256)
def asn1_certificate(cert: x509.Certificate | bytes) -> asn1_x509.Certificate:
    """``cert`` (a cryptography object or DER) as the asn1crypto object pyhanko works on.

    The same few CA, TSA and seal certificates come back on every signature and verification, so
    each is converted once.
    """
    der = cert if isinstance(cert, bytes) else cert.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def asn1_crl(crl: x509.CertificateRevocationList | bytes) -> asn1_crl_module.CertificateList:
    """``crl`` (a cryptography object or DER) as the asn1crypto object pyhanko works on."""
    return asn1_crl_module.CertificateList.load(
        crl if isinstance(crl, bytes) else crl.public_bytes(serialization.Encoding.DER))


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from DER (as stored) or PEM."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL from DER (as stored) or PEM."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def unit_name_of(certificate: x509.Certificate) -> str:
    """The unit a seal certificate belongs to: its O, else its CN."""
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        if attrs := certificate.subject.get_attributes_for_oid(oid):
            return str(attrs[0].value)
    return ""


def seal_id_of(certificate: x509.Certificate) -> str | None:
    """The seal id carried in the subject's serialNumber, if any."""
    attrs = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(attrs[0].value) if attrs else None


def _name(org: str, *, cn: str | None = None, ou: str | None = None, serial: str | None = None) -> x509.Name:
    """C=CN, O=org (in full), [OU], CN=cn or as much of org as fits, [serialNumber]."""
    if not 1 <= len(org) <= _NAME_LIMIT:
        raise ValueError(f"证书中的单位名称须为 1 至 {_NAME_LIMIT} 个字：{org!r}")
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn or _common_name(org, truncate=True)))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def _common_name(name: str, *, truncate: bool = False) -> str | None:
    """``name`` if it fits in a CN, else its longest prefix that does (``truncate``) or None.

    cryptography caps CN at 64 UTF-8 bytes, i.e. 21 Chinese characters; O has no such cap and
    always carries the full name, which is what Gongwen reads.
    """
    encoded = name.encode()
    if len(encoded) <= _CN_BYTES:
        return name
    return encoded[:_CN_BYTES].decode(errors="ignore") if truncate else None


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             not_before: datetime, not_after: datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _signer_key_usage() -> x509.KeyUsage:
    """digitalSignature + nonRepudiation (content_commitment): what pyhanko requires of a signer by default."""
    return x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def _aki(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )
