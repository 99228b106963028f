"""Detached CMS signatures over a few bytes, and their verification as of the signing time.

A pure library, like :mod:`.pades`: :func:`sign` makes a CMS SignedData (RFC 5652; SHA-256,
ECDSA, signed attributes with the content type, message digest and signing time; the signer's
certificate and chain embedded; the content left out). :func:`check` verifies one against the
certificate the caller trusts it was made with, that certificate's chain up to Gongwen's root and
each CA's current CRL, as of ``at``, the time it was signed: a certificate suspended or revoked
after ``at`` leaves the signature valid, one revoked before it does not. A CRL past its next
update fails the check (hard-fail, as for seals), so does a chain or validity period that does not
hold at ``at``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime

from asn1crypto import cms, keys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.generic_cms import validate_sig_integrity, validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import asn1_certificate, asn1_crl

__all__ = ["check", "sign"]

# CRL reason codes as a reader of a personal certificate's status understands them.
_REASONS = {"certificate_hold": "挂失", "key_compromise": "吊销（遗失或私钥泄露）",
            "cessation_of_operation": "吊销（持有人离职、调离或账号冻结）"}


def sign(payload: bytes, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate,
         chain: Sequence[x509.Certificate], signed_at: datetime, timestamper: TimeStamper | None = None) -> bytes:
    """DER of a detached CMS SignedData over ``payload``, signed with ``key`` at ``signed_at``; with
    ``timestamper``, the signature carries an RFC 3161 timestamp proving when it was made."""
    der_key = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    signer = signers.SimpleSigner(
        signing_cert=asn1_certificate(certificate), signing_key=keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([asn1_certificate(c) for c in chain]))
    signed = asyncio.run(signer.async_sign_general_data(
        payload, "sha256", detached=True, timestamper=timestamper,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=signed_at)))
    return signed.dump()


def check(payload: bytes, signature: bytes, certificate: x509.Certificate, chain: Sequence[x509.Certificate],
          crls: Sequence[x509.CertificateRevocationList | None], at: datetime, now: datetime,
          tsa_certificates: Sequence[x509.Certificate] = ()) -> tuple[str | None, datetime | None]:
    """(None, proven time) if ``signature`` is ``certificate``'s valid signature of ``payload``; else (why not, …).

    The certificate is judged as of the time the signature's timestamp proves, when it carries one
    from a TSA among ``tsa_certificates`` (checked now, against the root and its CRL), else as of
    ``at``, the time recorded with it. ``chain`` runs from the issuing CA to the trusted root;
    ``crls[i]`` is the current CRL of ``chain[i]``. Never raises for bad data: whatever cannot be
    parsed is a failed check.
    """
    try:
        signer_info = cms.ContentInfo.load(bytes(signature))["content"]["signer_infos"][0]
        if signer_info["sid"].chosen["serial_number"].native != certificate.serial_number:
            return "签名所用的证书与登记的证书不符", None
        intact, valid = validate_sig_integrity(signer_info, asn1_certificate(certificate), "data",
                                               hashlib.sha256(payload).digest())
    except Exception:  # hostile or damaged bytes of any kind are a failed check, not an error
        return "签名数据已损坏，无法解析", None
    if not intact:
        return "签名内容与记录不符，记录可能被改动", None
    if not valid:
        return "签名值无效", None
    token = _timestamp_token(signer_info)
    proven = None
    if token is not None:
        proven = _proven_time(token, signer_info, chain, crls, tsa_certificates, now)
        if proven is None:
            return "签名时间戳无效或不是由本系统信任的时间戳服务签发", None
    return _chain_problem(certificate, chain, crls, proven or at, now), proven


def _timestamp_token(signer_info: cms.SignerInfo) -> cms.ContentInfo | None:
    for attribute in signer_info["unsigned_attrs"] or ():
        if attribute["type"].native == "signature_time_stamp_token":
            return attribute["values"][0]
    return None


def _proven_time(token: cms.ContentInfo, signer_info: cms.SignerInfo, chain: Sequence[x509.Certificate],
                 crls: Sequence[x509.CertificateRevocationList | None],
                 tsa_certificates: Sequence[x509.Certificate], now: datetime) -> datetime | None:
    """The time ``token`` proves for the signature value of ``signer_info``, if it is intact and trusted now."""
    signature_value = signer_info["signature"].native
    context = ValidationContext(
        trust_roots=[asn1_certificate(chain[-1])], other_certs=[asn1_certificate(c) for c in tsa_certificates],
        crls=[asn1_crl(c) for c in crls if c is not None],  # "if c" would drop an empty CRL: it is falsy
        allow_fetching=False, revocation_mode="require", moment=now)
    try:
        status = TimestampSignatureStatus(**asyncio.run(validate_tst_signed_data(
            token["content"], context, lambda algorithm: hashlib.new(algorithm, signature_value).digest())))
    except Exception:  # a damaged token is an untrusted time, not an error
        return None
    return status.timestamp if status.intact and status.valid and status.trusted else None


def _chain_problem(certificate: x509.Certificate, chain: Sequence[x509.Certificate],
                   crls: Sequence[x509.CertificateRevocationList | None], at: datetime, now: datetime) -> str | None:
    path = [certificate, *chain]
    for child, parent in zip(path, [*chain, chain[-1]], strict=True):  # the root is its own issuer
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            return "证书链验证未通过"
        if not child.not_valid_before_utc <= at <= child.not_valid_after_utc:
            return "签名时证书（或其签发机构证书）不在有效期内"
    for child, issuer, crl in zip(path[:-1], chain, crls, strict=True):  # the root itself is the trust anchor
        if crl is None or crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
            return "缺少有效的证书吊销列表，无法确认证书状态"
        if crl.next_update_utc is None or crl.next_update_utc < now:
            return "证书吊销列表已过期，无法确认证书状态"
        entry = crl.get_revoked_certificate_by_serial_number(child.serial_number)
        if entry is not None and entry.revocation_date_utc <= at:
            return f"签名时证书已{_reason(entry)}"
    return None


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return "吊销"
    return _REASONS.get(flag, "吊销")
