"""Gongwen's own RFC 3161 time-stamping authority: a request in, a signed timestamp token out.

A timestamp token proves that a digest existed at a time, on the word of a TSA whose
certificate (issued by Gongwen's root, extended key usage timeStamping only, RFC 3161 §2.3)
a verifier trusts. With it a seal's signing time is no longer what the signer's clock said
but a proven time, so a seal revoked or expired later still verifies for what it sealed before.

:func:`respond` is the whole protocol: DER ``TimeStampReq`` in, DER ``TimeStampResp`` out, never
raising for a bad request (the response carries the failure). The HTTP endpoint (``POST /tsa``)
and the in-process :class:`LocalTimeStamper` both call it, so what pyhanko gets in process is
byte for byte what an outside client gets over HTTP.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper

from .pki import asn1_certificate

__all__ = ["MAX_REQUEST", "POLICY", "LocalTimeStamper", "TimestampingKey", "respond"]

# The TSA policy under which Gongwen's timestamps are issued (RFC 3161 §2.4.2 requires one): a
# UUID-derived OID (ITU-T X.667), which needs no registration and collides with no one's.
# Accuracy: Gongwen's clock is the machine's, kept by NTP to well within a second.
POLICY = "2.25.83342864997159047853148870965079212616"
_ACCURACY = tsp.Accuracy({"seconds": 1})
# Digests a request may carry; anything weaker is refused with badAlg.
_DIGESTS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
MAX_REQUEST = 4096  # bytes; a request is a digest and a few fields: a few hundred bytes


@dataclass(frozen=True)
class TimestampingKey:
    """The TSA's key, certificate and the chain to embed up to (not including) the root."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: Sequence[x509.Certificate] = ()

    # What every token repeats, converted once per key (asn1crypto encoding dominates a token's cost).
    @functools.cached_property
    def asn1_certificates(self) -> list[asn1_x509.Certificate]:
        return [asn1_certificate(c) for c in (self.certificate, *self.chain)]

    @functools.cached_property
    def signing_certificate(self) -> cms.CMSAttribute:
        return simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(self.asn1_certificates[0]))


def respond(request: bytes, signer: TimestampingKey, now: datetime) -> bytes:
    """The DER ``TimeStampResp`` to the DER ``TimeStampReq`` ``request``, stamped at ``now`` (aware)."""
    try:
        if len(request) > MAX_REQUEST:
            raise ValueError("request too large")
        req = tsp.TimeStampReq.load(request)
        imprint = req["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        req["nonce"].native  # noqa: B018 - parse the rest now, so a malformed field is badDataFormat
        req["cert_req"].native  # noqa: B018
    except Exception:  # anything that does not parse is badDataFormat, never a crash
        return _rejection("bad_data_format", "无法解析的时间戳请求")
    if req["version"].native != "v1" or req["extensions"].native:
        return _rejection("unaccepted_extensions" if req["extensions"].native else "bad_request", "不支持的请求")
    if req["req_policy"].native not in (None, POLICY):
        return _rejection("unaccepted_policy", f"本时间戳服务只按策略 {POLICY} 签发")
    if algorithm not in _DIGESTS or len(digest) != _DIGEST_SIZES[algorithm]:
        return _rejection("bad_alg", "只接受 SHA-256、SHA-384 或 SHA-512 摘要")
    token = _token(imprint, req, signer, now)
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def _token(imprint: tsp.MessageImprint, req: tsp.TimeStampReq, signer: TimestampingKey,
           now: datetime) -> cms.ContentInfo:
    certificate = signer.asn1_certificates[0]
    info = {
        "version": "v1",
        "policy": POLICY,
        "message_imprint": imprint,
        # 128 random bits: unique without a counter shared between processes.
        "serial_number": int.from_bytes(os.urandom(16), "big"),
        "gen_time": now,
        "accuracy": _ACCURACY,
        "tsa": asn1_x509.GeneralName(name="directory_name", value=certificate.subject),
    }
    if req["nonce"].native is not None:
        info["nonce"] = req["nonce"]
    tst_info = tsp.TSTInfo(info).dump()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(tst_info)
    signed_attrs = cms.CMSAttributes([
        simple_cms_attribute("content_type", "tst_info"),
        simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
        signer.signing_certificate,
        simple_cms_attribute("message_digest", digest.finalize()),
    ])
    signature = signer.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": certificate.issuer, "serial_number": certificate.serial_number})}),
        "digest_algorithm": sha256,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signed_attrs": signed_attrs,
        "signature": signature,
    })
    certificates = []
    if req["cert_req"].native:
        certificates = signer.asn1_certificates
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [sha256],
        "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)},
        "certificates": certificates or None,
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})


class _Rejection(core.Sequence):
    """A TimeStampResp without a token: RFC 3161 makes the token OPTIONAL, asn1crypto's class does not."""

    _fields: ClassVar = [("status", tsp.PKIStatusInfo)]


def _rejection(failure: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text],
                                "fail_info": tsp.PKIFailureInfo({failure})})
    return _Rejection({"status": status}).dump()


class LocalTimeStamper(TimeStamper):
    """pyhanko's view of Gongwen's TSA in this process: the same :func:`respond` as over HTTP."""

    def __init__(self, signer: TimestampingKey, clock) -> None:
        super().__init__(include_nonce=True)
        self._signer = signer
        self._clock = clock  # a callable giving the aware current time (Gongwen's clock)

    @property
    def certificates(self) -> list[x509.Certificate]:
        """The certificates each token embeds (the TSA's, then its chain)."""
        return [self._signer.certificate, *self._signer.chain]

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(respond(req.dump(), self._signer, self._clock()))
