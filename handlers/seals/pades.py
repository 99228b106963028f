"""Sealing a PDF (a visible PAdES signature) and verifying the seals on one.

``sign_pdf`` adds one seal as an incremental update: a PAdES signature (subfilter
``ETSI.CAdES.detached``, SHA-256, ECDSA) in a new signature field whose appearance is the seal
picture from :func:`handlers.seals.seal_image.draw_seal`. Calling it again on the result, with
another field name and box, adds a further seal (joint documents); earlier seals stay valid
because adding a signature field is an allowed change.

``Verifier`` (or the one-shot ``verify_pdf``) checks every seal in a PDF offline against
Gongwen's roots, issuing-CA certificates and CRLs, and never raises for a bad document: it
returns a :class:`VerificationReport`. Revocation checking uses pyhanko's ``"require"`` mode, the
strictest: every certificate below the root must be covered by a current CRL among ``crls``, so
a missing or expired CRL fails the document instead of silently passing it (``"hard-fail"``
only insists when a certificate names a CRL distribution point; ``"soft-fail"`` accepts revoked
seals when the CRL is missing).

Validation happens at ``now`` (default: the current time): the seal certificate must be valid
and unrevoked then. A seal revoked today therefore fails on every document it sealed before;
"valid when sealed" semantics need timestamps, which Gongwen does not add yet.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import content, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import CertificateValidator, ValidationContext, errors
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import DOCUMENT_SIGNING, RevocationReason, seal_id_of, unit_name_of

__all__ = ["Check", "VerificationReport", "Verifier", "sign_pdf", "verify_pdf"]

# Reserving the /Contents hole up front spares pyhanko a dry-run signature to measure it, and a
# tight hole is faster to verify (pyhanko parses the hex digits one by one). The CMS blob is the
# certificates, the issuer's name twice (signer id, ESS signing-certificate attribute) and about
# 370 bytes of fixed structure with the ECDSA signature; 1 KiB covers that with room to spare.
_CMS_OVERHEAD = 1024

# Seal certificates are made for signing documents (pki.issue_seal_certificate); refuse others.
_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"},
    match_all_key_usages=True,
    extd_key_usage={DOCUMENT_SIGNING.dotted_string},
)

_SEAL_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID,
    y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins.uniform(0),
)

_LABELS = {
    "format": "文件格式",
    "signed": "含电子签章",
    "integrity": "文件完整",
    "signature": "签名有效",
    "chain": "证书链可信",
    "revocation": "未被吊销",
    "signer": "签章单位与发文机关一致",
}

# Dates in messages are Beijing time, as users read them.
_BEIJING = timezone(timedelta(hours=8))



# -- signing ---------------------------------------------------------------------------------------------


def sign_pdf(
    pdf: bytes,
    *,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    seal_pdf: bytes,
    page: int,
    box: tuple[float, float, float, float],
    field_name: str,
    reason: str,
    location: str,
) -> bytes:
    """``pdf`` with one more seal: a visible PAdES signature in a new field ``field_name``.

    ``key`` and ``certificate`` are the seal's; ``chain`` the certificates to embed so that a
    verifier can reach the root (at least the issuing CA). ``seal_pdf`` is drawn, scaled to fit,
    in ``box`` = (x1, y1, x2, y2) in PDF points on page ``page`` (0-based).
    """
    if key.public_key() != certificate.public_key():
        raise ValueError("印章私钥与印章证书不匹配")
    embedded = [certificate, *chain]
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=unit_name_of(certificate),
    )
    style = StaticStampStyle(background=_SealPage(seal_pdf), border_width=0, background_opacity=1.0,
                             background_layout=_SEAL_LAYOUT)
    pdf_signer = signers.PdfSigner(
        meta,
        signer=_KeySigner(key, certificate, chain),
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(field_name, on_page=page, box=box),
    )
    out = io.BytesIO()
    # pyhanko counts the reservation in hex digits: two per byte.
    reserved = 2 * (_CMS_OVERHEAD + 2 * len(certificate.issuer.public_bytes())
                    + sum(len(_der(cert)) for cert in embedded))
    pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out, bytes_reserved=reserved)
    return out.getvalue()


class _KeySigner(signers.Signer):
    """Signs with the in-memory pyca key as given.

    pyhanko's SimpleSigner holds the key as asn1crypto and re-parses it on every signature;
    this skips both conversions.
    """

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate,
                 chain: Sequence[x509.Certificate]) -> None:
        super().__init__(
            signing_cert=_asn1_certificate(certificate),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(c) for c in chain]),
        )
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise ValueError(f"unsupported digest {digest_algorithm}")
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


class _SealPage(content.PdfContent):
    """The first page of a PDF held in memory, as a form XObject (pyhanko only imports files)."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self._pdf = pdf

    def render(self) -> bytes:
        xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=0)
        self.resources.xobject["/Seal"] = xobj
        # the layout rule scales by the box, which is the imported page's MediaBox
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return b"/Seal Do"


# -- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One line of a verification report: ``label`` is shown to users, ``detail`` says why."""

    key: str
    label: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of verifying a PDF: passed iff every check passed.

    ``signers`` has one JSON-able dict per seal, in document order: ``field``, ``unit``,
    ``seal_id`` (or None), ``serial`` (certificate serial, lowercase hex) and ``signed_at``
    (ISO 8601 time the signer's clock reported, or None).
    """

    checks: list[Check]
    signers: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def reason(self) -> str | None:
        """The first failure as one line (``label：detail``), or None if the document passed."""
        failed = next((check for check in self.checks if not check.ok), None)
        return None if failed is None else f"{failed.label}：{failed.detail}"


class Verifier:
    """Verifies sealed PDFs against fixed trust material, parsed once.

    Build one per set of roots, issuing-CA certificates and CRLs (certificates and CRLs as
    cryptography objects or DER bytes); build a new one when a CRL is published. ``verify``
    makes a fresh pyhanko ValidationContext per call, so a Verifier can be shared between threads.
    """

    def __init__(
        self,
        trust_roots: Sequence[x509.Certificate | bytes],
        intermediates: Sequence[x509.Certificate | bytes],
        crls: Sequence[x509.CertificateRevocationList | bytes],
    ) -> None:
        self._roots = [_asn1_certificate(c) for c in trust_roots]
        self._intermediates = [_asn1_certificate(c) for c in intermediates]
        self._crls = [asn1_crl.CertificateList.load(c if isinstance(c, bytes) else c.public_bytes(Encoding.DER))
                      for c in crls]

    def verify(self, pdf: bytes, expected_signers: list[str] | None = None,
               now: datetime | None = None) -> VerificationReport:
        """Check every seal in ``pdf`` at ``now`` (aware datetime; default: the current time).

        With ``expected_signers`` (unit names), also check that the seals are exactly those
        units' (each expected unit sealed, no other unit did). Never raises for a bad document.
        """
        if now is not None and now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        # Whatever the parser trips on, the answer is a one-line verdict, never an exception.
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        except Exception as err:
            return _failure("format", f"不是可读取的 PDF 文件（{_first_line(err)}）")
        try:
            signatures = reader.embedded_signatures
        except Exception as err:
            return _failure("signature", f"签名数据损坏或格式不受支持（{_first_line(err)}）")
        if not signatures:
            return _failure("signed", "文件中没有电子签章")
        moment = now or datetime.now(UTC)
        problems: dict[str, list[str]] = {key: [] for key in ("integrity", "signature", "chain", "revocation")}
        signer_rows = []
        for sig in signatures:
            row, found = self._check_one(sig, moment)
            if row is not None:
                signer_rows.append(row)
            who = f"「{row['unit']}」的签章（{sig.field_name}）" if row else f"签章 {sig.field_name}"
            for key, problem in found.items():
                problems[key].append(f"{who}：{problem}")

        count = len(signatures)
        passed = {
            "integrity": f"{count} 个签章所覆盖的内容均未被改动，签章后无不允许的修改",
            "signature": f"{count} 个签章的签名值均正确",
            "chain": "印章证书均由本系统根证书签发，且在有效期内",
            "revocation": "印章证书均未被吊销（已核对吊销列表）",
        }
        checks = [
            Check(key, _LABELS[key], not problems[key], "；".join(problems[key]) or passed[key]) for key in passed
        ]
        if expected_signers is not None:
            checks.append(_signer_check(expected_signers, signer_rows, signatures))
        return VerificationReport(checks, signer_rows)

    def _check_one(self, sig: EmbeddedPdfSignature, moment: datetime) -> tuple[dict | None, dict[str, str]]:
        """The signer row of one signature (None if unreadable) and its problems by check key."""
        try:
            status = validate_pdf_signature(sig, self._context(moment), key_usage_settings=_KEY_USAGE)
            certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
        except Exception as err:  # a malformed signature is a failed check, not a crash
            unchecked = "签名数据无法解析，未检查"
            return None, {"integrity": unchecked, "chain": unchecked, "revocation": unchecked,
                          "signature": f"签名数据损坏或格式不受支持（{type(err).__name__}）"}
        row = {
            "field": sig.field_name,
            "unit": unit_name_of(certificate),
            "seal_id": seal_id_of(certificate),
            "serial": format(certificate.serial_number, "x"),
            "signed_at": status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        }
        return row, self._judge(status, moment)

    def _context(self, moment: datetime) -> ValidationContext:
        return ValidationContext(
            trust_roots=self._roots,
            other_certs=self._intermediates,
            crls=self._crls,
            allow_fetching=False,
            revocation_mode="require",
            moment=moment,
        )

    def _judge(self, status: PdfSignatureStatus, moment: datetime) -> dict[str, str]:
        """The problems of one signature, by check key; empty if it is good."""
        found: dict[str, str] = {}
        if not status.intact:
            found["integrity"] = "签章后文件内容被改动（摘要不符）"
        elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE and not status.docmdp_ok:
            level = status.modification_level
            found["integrity"] = f"签章后文件有不允许的修改（{level.name if level else '无法分析'}）"
        if not status.valid:
            found["signature"] = "签名值与印章证书不符"
            found["chain"] = found["revocation"] = "签名无效，未检查"
        elif status.trust_problem_indic is not None:
            found.update(self._trust_problem(status, moment))
        if not found and not status.bottom_line:
            # Anything pyhanko rejects and the cases above miss (e.g. seed values) still fails.
            found["signature"] = f"签名未通过验证（{status.summary()}）"
        return found

    def _trust_problem(self, status: PdfSignatureStatus, moment: datetime) -> dict[str, str]:
        details = status.revocation_details
        if details is not None:
            known = RevocationReason.of_flag(details.revocation_reason.native)
            reason = known.label if known else "已吊销"
            whose = "签发机构证书" if details.ca_revoked else "印章证书"
            when = _beijing(details.revocation_date, "%Y-%m-%d %H:%M")
            return {"revocation": f"{whose}已于 {when} 被吊销（{reason}）"}
        indic = status.trust_problem_indic
        if indic == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
            return {"chain": "印章证书不是由本系统信任的根证书签发", "revocation": "证书链不可信，未检查"}
        if indic == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
            return {"chain": "证书不是电子印章证书（密钥用途不符）"}
        if indic in (AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.EXPIRED):
            return {"chain": f"印章证书在验证时间 {_beijing(moment)} 已过期"}
        if indic == AdESIndeterminate.TRY_LATER:
            return {"revocation": "吊销列表已过期，请发布新的吊销列表"}
        # pyhanko folds several path failures into one indication: ask the validator which.
        return self._diagnose(status, moment)

    def _diagnose(self, status: PdfSignatureStatus, moment: datetime) -> dict[str, str]:
        validator = CertificateValidator(status.signing_cert, validation_context=self._context(moment))
        try:
            asyncio.run(validator.async_validate_usage(set()))
        except errors.InsufficientRevinfoError:
            return {"revocation": "缺少有效的吊销列表，无法确认证书未被吊销"}
        except errors.NotYetValidError:
            return {"chain": f"印章证书在验证时间 {_beijing(moment)} 尚未生效"}
        except errors.ExpiredError:
            return {"chain": f"证书链中的证书在验证时间 {_beijing(moment)} 已过期"}
        except (errors.PathBuildingError, errors.PathValidationError) as err:
            return {"chain": f"证书链校验失败（{_first_line(err)}）"}
        except Exception as err:  # still a verdict on the document, never a crash
            return {"chain": f"证书链校验失败（{type(err).__name__}）"}
        return {"chain": f"证书链校验失败（{status.trust_problem_indic}）"}


def verify_pdf(
    pdf: bytes,
    *,
    trust_roots: Sequence[x509.Certificate | bytes],
    intermediates: Sequence[x509.Certificate | bytes],
    crls: Sequence[x509.CertificateRevocationList | bytes],
    expected_signers: list[str] | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """One-shot :meth:`Verifier.verify`; prefer a shared :class:`Verifier` for many documents."""
    return Verifier(trust_roots, intermediates, crls).verify(pdf, expected_signers, now)


def _signer_check(expected: list[str], rows: list[dict], signatures: Sequence[EmbeddedPdfSignature]) -> Check:
    units = {row["unit"] for row in rows}
    missing = [name for name in expected if name not in units]
    unexpected = sorted(units - set(expected))
    problems = []
    if missing:
        problems.append(f"缺少{'、'.join(missing)}的签章")
    if unexpected:
        problems.append(f"有非发文机关的签章：{'、'.join(unexpected)}")
    if len(rows) < len(signatures):
        problems.append("有签章无法读取签章单位")
    detail = "；".join(problems) or f"签章单位为{'、'.join(expected)}"
    return Check("signer", _LABELS["signer"], not problems, detail)


def _failure(key: str, detail: str) -> VerificationReport:
    return VerificationReport([Check(key, _LABELS[key], False, detail)])


def _beijing(when: datetime, fmt: str = "%Y-%m-%d") -> str:
    return when.astimezone(_BEIJING).strftime(fmt)


def _first_line(err: BaseException, limit: int = 80) -> str:
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


@functools.lru_cache(maxsize=256)
def _asn1_certificate(cert: x509.Certificate | bytes) -> asn1_x509.Certificate:
    # pyhanko works on asn1crypto objects; the same few CA and seal certificates come back on
    # every call, so convert each once.
    return asn1_x509.Certificate.load(cert if isinstance(cert, bytes) else _der(cert))
