"""Verifying the seals on a PDF: integrity, signature, chain, revocation, as of the proven signing time.

``Verifier`` (or the one-shot ``verify_pdf``) checks every seal in a PDF offline against
Gongwen's roots, issuing-CA certificates and CRLs, and never raises for a bad document: it
returns a :class:`VerificationReport`. Revocation checking uses pyhanko's ``"require"`` mode, the
strictest: every certificate below the root must be covered by a current CRL among ``crls``, so
a missing or expired CRL fails the document instead of silently passing it.

The time a seal is judged at is the time it was *proven* to exist: its signature timestamp
(RFC 3161, from Gongwen's TSA) when it carries a trusted one. A seal revoked, renewed or expired
after that time still verifies, and the report says why (盖章时间早于吊销时间 …). A seal revoked
for key compromise fails from the CRL entry's invalidity date (or its revocation date, without
one) even when its timestamp is older than the revocation: whoever held the lost key could
have sealed with it since. Without a timestamp (seals made before Gongwen had its TSA) the
seal is judged at ``now``, as before. Document timestamps (the archive's, PAdES B-LTA) are
checked too and reported on their own line.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext, errors

from .pki import DOCUMENT_SIGNING, RevocationReason, asn1_certificate, asn1_crl, seal_id_of, unit_name_of

__all__ = ["Check", "VerificationReport", "Verifier", "verify_pdf"]

# Seal certificates are made for signing documents (pki.issue_seal_certificate); refuse others.
_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"},
    match_all_key_usages=True,
    extd_key_usage={DOCUMENT_SIGNING.dotted_string},
)

_LABELS = {
    "format": "文件格式",
    "signed": "含电子签章",
    "integrity": "文件完整",
    "signature": "签名有效",
    "chain": "证书链可信",
    "revocation": "未被吊销",
    "timestamp": "盖章时间可信",
    "archive": "归档时间戳有效",
    "signer": "签章单位与发文机关一致",
}

# Dates in messages are Beijing time, as users read them.
_BEIJING = timezone(timedelta(hours=8))


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
    ``seal_id`` (or None), ``serial`` (certificate serial, lowercase hex), ``signed_at`` (ISO 8601
    time the signer's clock reported, or None) and ``timestamp`` (ISO 8601 time proven by a
    trusted timestamp, or None).
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


@dataclass
class _Findings:
    """What the checks of one seal found: problems by check key, and notes for passing checks."""

    problems: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


class Verifier:
    """Verifies sealed PDFs against fixed trust material, parsed once.

    Build one per set of roots, other CA (and TSA) certificates and CRLs (cryptography objects
    or DER bytes); build a new one when a CRL is published. ``verify`` makes fresh pyhanko
    ValidationContexts per call, so a Verifier can be shared between threads. ``valid_until`` is
    the earliest CRL next update or certificate expiry among them.
    """

    def __init__(
        self,
        trust_roots: Sequence[x509.Certificate | bytes],
        intermediates: Sequence[x509.Certificate | bytes],
        crls: Sequence[x509.CertificateRevocationList | bytes],
    ) -> None:
        self._roots = [asn1_certificate(c) for c in trust_roots]
        self._intermediates = [asn1_certificate(c) for c in intermediates]
        self._crls = [asn1_crl(c) for c in crls]
        # Until when a report made now stays true without new trust material: the first CRL to
        # need republishing, or the first known certificate to expire (the TSA's is judged now).
        self.valid_until = min([c["tbs_cert_list"]["next_update"].native for c in self._crls]
                               + [c["tbs_certificate"]["validity"]["not_after"].native
                                  for c in [*self._roots, *self._intermediates]])
        self._crl_entries = {
            (crl.issuer, entry.serial_number): entry
            for crl in (c if isinstance(c, x509.CertificateRevocationList) else x509.load_der_x509_crl(c)
                        for c in crls)
            for entry in crl
        }

    def verify(self, pdf: bytes, expected_signers: list[str] | None = None,
               now: datetime | None = None) -> VerificationReport:
        """Check every seal in ``pdf`` (aware ``now``; default: the current time).

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
            embedded = reader.embedded_signatures
            seals = [s for s in embedded if s.sig_object_type != "/DocTimeStamp"]
            archive_stamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
        except Exception as err:
            return _failure("signature", f"签名数据损坏或格式不受支持（{_first_line(err)}）")
        if not seals:
            return _failure("signed", "文件中没有电子签章")
        moment = now or datetime.now(UTC)
        keys = ("integrity", "signature", "chain", "revocation", "timestamp")
        problems: dict[str, list[str]] = {key: [] for key in keys}
        notes: dict[str, list[str]] = {key: [] for key in keys}
        signer_rows = []
        for sig in seals:
            row, found = self._check_one(sig, moment)
            if row is not None:
                signer_rows.append(row)
            who = f"「{row['unit']}」的签章（{sig.field_name}）" if row else f"签章 {sig.field_name}"
            for key, problem in found.problems.items():
                problems[key].append(f"{who}：{problem}")
            for key, note in found.notes.items():
                notes[key].append(f"{who}：{note}")

        count = len(seals)
        passed = {
            "integrity": f"{count} 个签章所覆盖的内容均未被改动，签章后无不允许的修改",
            "signature": f"{count} 个签章的签名值均正确",
            "chain": "印章证书均由本系统根证书签发，且在盖章时有效",
            "revocation": "印章证书均未被吊销（已核对吊销列表）",
            "timestamp": "",
        }
        checks = []
        for key in keys:
            if key == "timestamp" and not problems[key] and not notes[key]:
                continue  # seals made before Gongwen timestamped them: nothing to report
            detail = "；".join(problems[key]) or "；".join(notes[key]) or passed[key]
            checks.append(Check(key, _LABELS[key], not problems[key], detail))
        if archive_stamps:
            checks.append(self._archive_check(archive_stamps, moment))
        if expected_signers is not None:
            checks.append(_signer_check(expected_signers, signer_rows, seals))
        return VerificationReport(checks, signer_rows)

    # -- one seal --------------------------------------------------------------------------------------------

    def _check_one(self, sig: EmbeddedPdfSignature, now: datetime) -> tuple[dict | None, _Findings]:
        """The signer row of one seal (None if unreadable) and what its checks found."""
        try:
            status = self._validate(sig, now, now)
            certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
        except Exception as err:  # a malformed signature is a failed check, not a crash
            unchecked = "签名数据无法解析，未检查"
            return None, _Findings({"integrity": unchecked, "chain": unchecked, "revocation": unchecked,
                                    "signature": f"签名数据损坏或格式不受支持（{type(err).__name__}）"})
        proven = _proven_time(status)
        row = {
            "field": sig.field_name,
            "unit": unit_name_of(certificate),
            "seal_id": seal_id_of(certificate),
            "serial": format(certificate.serial_number, "x"),
            "signed_at": status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
            "timestamp": proven.isoformat() if proven else None,
        }
        findings = self._judge(status, now)
        if status.timestamp_validity is not None and proven is None:
            # pyhanko's bottom line also fails for this; say what it is, not "签名未通过验证".
            if findings.problems.get("signature", "").startswith("签名未通过验证"):
                del findings.problems["signature"]
            findings.problems["timestamp"] = "签名时间戳无效或不是由本系统信任的时间戳服务签发"
        elif proven is not None:
            findings.notes["timestamp"] = f"盖章时间 {_beijing(proven, '%Y-%m-%d %H:%M:%S')}（可信时间戳证明）"
            if findings.problems and set(findings.problems) <= {"chain", "revocation"} \
                    and _since_revoked_or_expired(status):
                # Not valid now, but it may have been when it was made: judge it then. Only for a
                # revocation or an expiry: a CRL that is missing or out of date must fail, since it
                # could hide a key compromise dated before the timestamp.
                findings = self._judge_in_the_past(sig, status, findings, proven, now)
            findings.problems.update(self._distrusted_key(certificate, proven))
        return row, findings

    def _validate(self, sig: EmbeddedPdfSignature, moment: datetime, now: datetime, *,
                  past: bool = False) -> PdfSignatureStatus:
        # The timestamp itself is always judged now: its TSA must be trusted today. When the seal is
        # judged now too, one context serves both, and the root's CRL is checked once.
        context = self._context(moment, past=past)
        stamp_context = context if moment == now and not past else self._context(now)
        return validate_pdf_signature(sig, context, ts_validation_context=stamp_context,
                                      key_usage_settings=_KEY_USAGE)

    def _judge_in_the_past(self, sig: EmbeddedPdfSignature, status_now: PdfSignatureStatus, found_now: _Findings,
                           proven: datetime, now: datetime) -> _Findings:
        """Re-judge a seal that fails now at its proven signing time, saying what happened since."""
        try:
            then = self._validate(sig, proven, now, past=True)
        except Exception:
            return found_now
        found = self._judge(then, proven)
        if found.problems:
            return found
        when = _beijing(proven, "%Y-%m-%d %H:%M")
        details = status_now.revocation_details
        if details is not None:
            known = RevocationReason.of_flag(details.revocation_reason.native)
            revoked = _beijing(details.revocation_date, "%Y-%m-%d %H:%M")
            found.notes["revocation"] = (f"印章证书已于 {revoked} 被吊销（{known.label if known else '已吊销'}），"
                                         f"盖章时间 {when} 早于吊销时间，签章仍然有效")
        if "chain" in found_now.problems:
            expiry = status_now.signing_cert["tbs_certificate"]["validity"]["not_after"].native
            found.notes["chain"] = (f"印章证书已于 {_beijing(expiry)} 过期或不再有效，盖章时间 {when} 在其有效期内，"
                                    f"签章仍然有效") if expiry < now else f"盖章时间 {when} 证书链有效"
        return found

    def _distrusted_key(self, certificate: x509.Certificate, proven: datetime) -> dict[str, str]:
        """A key compromise distrusts the key from its invalidity date: seals proven after that fail."""
        entry = self._crl_entries.get((certificate.issuer, certificate.serial_number))
        if entry is None:
            return {}
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            return {}
        if reason != x509.ReasonFlags.key_compromise:
            return {}
        try:
            since = entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc
        except x509.ExtensionNotFound:
            since = entry.revocation_date_utc
        if proven < since:
            return {}
        return {"revocation": f"印章私钥自 {_beijing(since, '%Y-%m-%d %H:%M')} 起不再可信（印章遗失或私钥泄露），"
                              f"盖章时间 {_beijing(proven, '%Y-%m-%d %H:%M')} 在此之后"}

    def _context(self, moment: datetime, *, past: bool = False) -> ValidationContext:
        return ValidationContext(
            trust_roots=self._roots,
            other_certs=self._intermediates,
            crls=self._crls,
            allow_fetching=False,
            revocation_mode="require",
            moment=moment,
            # Judging a past moment with today's CRL: it tells what was revoked, and since when.
            retroactive_revinfo=past,
        )

    def _judge(self, status: PdfSignatureStatus, moment: datetime) -> _Findings:
        """What the checks of one seal's status found at ``moment``."""
        found = _Findings()
        if not status.intact:
            found.problems["integrity"] = "签章后文件内容被改动（摘要不符）"
        elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE and not status.docmdp_ok:
            level = status.modification_level
            found.problems["integrity"] = f"签章后文件有不允许的修改（{level.name if level else '无法分析'}）"
        if not status.valid:
            found.problems["signature"] = "签名值与印章证书不符"
            found.problems["chain"] = found.problems["revocation"] = "签名无效，未检查"
        elif status.trust_problem_indic is not None:
            found.problems.update(self._trust_problem(status, moment))
        if not found.problems and not status.bottom_line:
            # Anything pyhanko rejects and the cases above miss (e.g. seed values) still fails.
            found.problems["signature"] = f"签名未通过验证（{status.summary()}）"
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

    # -- archive timestamps ----------------------------------------------------------------------------------

    def _archive_check(self, stamps: Sequence[EmbeddedPdfSignature], now: datetime) -> Check:
        problems, times = [], []
        for stamp in stamps:
            try:
                status = validate_pdf_timestamp(stamp, self._context(now))
            except Exception as err:  # a malformed timestamp is a failed check, not a crash
                problems.append(f"{stamp.field_name}：时间戳数据无法解析（{type(err).__name__}）")
                continue
            if not status.intact:
                problems.append(f"{stamp.field_name}：时间戳后文件内容被改动（摘要不符）")
            elif not (status.valid and status.trusted):
                problems.append(f"{stamp.field_name}：时间戳签名无效或时间戳服务不可信")
            elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE and not status.docmdp_ok:
                problems.append(f"{stamp.field_name}：时间戳后文件有不允许的修改")
            else:
                times.append(_beijing(status.timestamp, "%Y-%m-%d %H:%M:%S"))
        detail = "；".join(problems) or f"归档时间戳 {'、'.join(times)} 覆盖全部签章，均有效"
        return Check("archive", _LABELS["archive"], not problems, detail)


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


def _since_revoked_or_expired(status: PdfSignatureStatus) -> bool:
    """Whether the seal fails now only because it was revoked or its certificate expired."""
    return status.revocation_details is not None or status.trust_problem_indic in (
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.EXPIRED)


def _proven_time(status: PdfSignatureStatus) -> datetime | None:
    """The signing time proven by a trusted, intact signature timestamp, if the seal has one."""
    stamp = status.timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid and stamp.trusted):
        return None
    return stamp.timestamp


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
