"""Seals on PDFs: Gongwen's CA, the seal picture, PAdES signing and verification (no database)."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfStreamError
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from handlers.documents.typesetting.fonts import load_fonts
from handlers.seals import library_fixes, pki
from handlers.seals.pades import sign_pdf
from handlers.seals.seal_image import draw_seal, seal_diameter_mm
from handlers.seals.validation import Verifier, verify_pdf
from tests.support import pdfsig, program

# pdfsig checks certificate validity at the real time, so the CA lives in the present.
NOW = datetime.now(UTC).replace(microsecond=0)
CITY = "XX市人民政府办公室"
BUREAU = "XX市财政局"
SEAL_BOX = (330.0, 480.0, 449.0, 599.0)
SUBJECT = "doc 107"  # in the /Info dictionary, uncompressed: a byte the signature covers
ROOT_NAME, ISSUING_NAME = "Gongwen电子印章根CA", "XX省人民政府办公厅电子印章CA"


@dataclass
class Authority:
    root: pki.Issued
    issuing: pki.Issued
    crls: list[x509.CertificateRevocationList]
    crl_url: str | None

    def seal(self, unit: str, seal_id: str) -> pki.Issued:
        return pki.issue_seal_certificate(self.issuing, unit, seal_id, NOW, NOW + timedelta(days=365), self.crl_url)

    def verifier(self, crls: list[x509.CertificateRevocationList] | None = None) -> Verifier:
        return Verifier([self.root.certificate], [self.issuing.certificate], self.crls if crls is None else crls)


def make_authority(root_name: str = ROOT_NAME, issuing_name: str = ISSUING_NAME, *,
                   distribution_points: bool = True) -> Authority:
    url = "http://gongwen.invalid/crl/{}.crl".format if distribution_points else lambda _: None
    root = pki.create_root_ca(root_name, NOW)
    issuing = pki.create_issuing_ca(root, issuing_name, NOW, url("root"))
    crls = [pki.build_crl(root, [], 1, NOW, NOW + timedelta(days=7)),
            pki.build_crl(issuing, [], 1, NOW, NOW + timedelta(days=7))]
    return Authority(root, issuing, crls, url("issuing"))


@pytest.fixture(scope="module")
def ca() -> Authority:
    return make_authority()


@pytest.fixture(scope="module")
def city_seal(ca: Authority) -> pki.Issued:
    return ca.seal(CITY, "GW-3702-0001")


@pytest.fixture(scope="module")
def document() -> bytes:
    return unsigned_document()


def unsigned_document() -> bytes:
    """A one-page notice with the issuer's name and date where the seal goes, not yet sealed."""
    font = load_fonts().song
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, initialFontName=font, pageCompression=0)
    c.setSubject(SUBJECT)
    c.setFont(font, 16)
    c.drawString(80, 700, "连政办发〔2026〕107号")
    c.drawString(80, 650, "关于做好年度工作的通知")
    c.drawString(340, 540, CITY)
    c.drawString(340, 515, "2026年3月15日")
    c.showPage()
    c.save()
    return out.getvalue()


def seal(pdf: bytes, who: pki.Issued, issuing: pki.Issued, field: str = "Seal-1",
         box: tuple[float, float, float, float] = SEAL_BOX) -> bytes:
    unit = pki.unit_name_of(who.certificate)
    return sign_pdf(pdf, key=who.private_key, certificate=who.certificate, chain=[issuing.certificate],
                    seal_pdf=draw_seal(unit, 42), page=0, box=box, field_name=field,
                    reason="公文用印", location="XX市")


@pytest.fixture(scope="module")
def sealed(document: bytes, ca: Authority, city_seal: pki.Issued) -> bytes:
    return seal(document, city_seal, ca.issuing)


def failing(report) -> list[str]:
    return [check.key for check in report.checks if not check.ok]


def detail(report, key: str) -> str:
    return next(check.detail for check in report.checks if check.key == key)


# -- a good seal -----------------------------------------------------------------------------------------


def test_a_sealed_document_passes_every_check(sealed: bytes, ca: Authority) -> None:
    report = verify_pdf(sealed, trust_roots=[ca.root.certificate], intermediates=[ca.issuing.certificate],
                        crls=ca.crls, expected_signers=[CITY])

    assert report.ok, report.reason
    assert [c.label for c in report.checks] == [
        "文件完整", "签名有效", "证书链可信", "未被吊销", "签章单位与发文机关一致"]
    [signer] = report.signers
    assert signer["unit"] == CITY and signer["seal_id"] == "GW-3702-0001" and signer["field"] == "Seal-1"
    assert datetime.fromisoformat(signer["signed_at"]) >= NOW


def test_the_verifier_accepts_stored_der_and_a_fixed_clock(sealed: bytes, ca: Authority) -> None:
    der = [crl.public_bytes(Encoding.DER) for crl in ca.crls]
    verifier = Verifier([ca.root.certificate.public_bytes(Encoding.DER)],
                        [ca.issuing.certificate.public_bytes(Encoding.DER)], der)

    assert verifier.verify(sealed, now=NOW + timedelta(days=1)).ok


def test_poppler_trusts_the_seal_once_gongwens_root_is_imported(sealed: bytes, ca: Authority, tmp_path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)

    unknown = pdfsig(path)
    trusted = pdfsig(path, ca.root.certificate.public_bytes(Encoding.PEM))

    for out in (unknown, trusted):
        assert "Signature Type: ETSI.CAdES.detached" in out
        assert "Total document signed" in out
        assert "Signature is Valid" in out
        assert f"Signer Certificate Common Name: {CITY}" in out
    # Without Gongwen's root poppler cannot place the issuer; with it, the whole chain is trusted
    # (NSS checks the seal certificate for the e-mail-signer usage: it carries that purpose too).
    assert "Certificate Validation: Certificate issuer is unknown." in unknown
    assert "Certificate Validation: Certificate is Trusted." in trusted


def test_a_joint_document_with_two_units_seals_verifies_both(
    sealed: bytes, ca: Authority
) -> None:
    bureau = ca.seal(BUREAU, "GW-3702-0107")
    joint = seal(sealed, bureau, ca.issuing, field="Seal-2", box=(120.0, 480.0, 239.0, 599.0))

    report = ca.verifier().verify(joint, expected_signers=[CITY, BUREAU])

    assert report.ok, report.reason
    assert [s["unit"] for s in report.signers] == [CITY, BUREAU]
    assert [s["field"] for s in report.signers] == ["Seal-1", "Seal-2"]


def test_the_longest_names_a_certificate_holds_fit_in_the_reserved_signature_space(document: bytes) -> None:
    ca = make_authority("根" * 64, "签" * 64)
    unit = "某" * 64
    long_seal = ca.seal(unit, "GW-9")

    report = ca.verifier().verify(seal(document, long_seal, ca.issuing), expected_signers=[unit])

    assert report.ok, report.reason
    # a CN holds 64 UTF-8 bytes: O keeps the full name, the CN falls back to the seal id
    assert long_seal.certificate.subject.rfc4514_string() == f"2.5.4.5=GW-9,CN=GW-9,OU=电子印章,O={unit},C=CN"
    with pytest.raises(ValueError, match="64"):
        ca.seal("某" * 65, "GW-10")


# -- tampering -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [
    (SUBJECT.encode(), b"doc 108"),             # /Info: the document's metadata
    (b"700 Tm", b"701 Tm"),                     # page content: where the 文号 line is drawn
])
def test_changing_one_signed_byte_fails_integrity_only(sealed: bytes, ca: Authority, before: bytes,
                                                       after: bytes) -> None:
    # the last occurrence: pyhanko rewrites /Info in the seal's revision, readers show that one
    head, found, tail = sealed.rpartition(before)
    assert found
    tampered = head + after + tail

    report = ca.verifier().verify(tampered, expected_signers=[CITY])

    assert failing(report) == ["integrity"]
    assert "摘要不符" in detail(report, "integrity")


def contents_hex(pdf: bytes) -> tuple[int, int]:
    """Where the hex digits of the last signature's /Contents (CMS + zero padding) are."""
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    return start, pdf.index(b">", start)


def test_a_forged_signature_value_fails_the_signature_check(sealed: bytes, ca: Authority) -> None:
    start, end = contents_hex(sealed)
    # the ECDSA value ends the CMS blob: its last non-zero digit is part of the signature
    last = start + len(sealed[start:end].rstrip(b"0")) - 1
    forged = sealed[:last] + (b"1" if sealed[last:last + 1] != b"1" else b"2") + sealed[last + 1:]

    report = ca.verifier().verify(forged, expected_signers=[CITY])

    assert failing(report) == ["signature", "chain", "revocation"]
    assert "签名值与印章证书不符" in detail(report, "signature")


def test_garbage_in_place_of_the_signature_is_a_failed_check(sealed: bytes, ca: Authority) -> None:
    start, end = contents_hex(sealed)
    garbage = sealed[:start] + b"ab" * ((end - start) // 2) + sealed[end:]

    report = ca.verifier().verify(garbage)

    assert [check.key for check in report.checks] == ["signature"]
    assert report.reason.startswith("签名有效：签名数据损坏")


def test_drawing_on_the_page_after_sealing_fails_integrity(sealed: bytes, ca: Authority) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    stroke = writer.add_object(generic.StreamObject(stream_data=b"0 0 m 500 500 l S"))
    writer.add_stream_to_page(0, stroke)
    out = io.BytesIO()
    writer.write(out)

    report = ca.verifier().verify(out.getvalue())

    assert failing(report) == ["integrity"]
    assert "不允许的修改" in detail(report, "integrity")


# -- certificates ----------------------------------------------------------------------------------------


def test_a_revoked_seal_fails_the_revocation_check(sealed: bytes, ca: Authority, city_seal: pki.Issued) -> None:
    crl = pki.build_crl(ca.issuing, [(city_seal.certificate.serial_number, NOW, "lost")], 2, NOW,
                        NOW + timedelta(days=7))

    report = ca.verifier([ca.crls[0], crl]).verify(sealed, expected_signers=[CITY])

    assert failing(report) == ["revocation"]
    assert "印章遗失" in detail(report, "revocation")


@pytest.mark.parametrize("distribution_points", [True, False])
@pytest.mark.parametrize("dropped", ["root", "issuing"])
def test_a_missing_crl_fails_closed(document: bytes, distribution_points: bool, dropped: str) -> None:
    ca = make_authority(distribution_points=distribution_points)
    sealed = seal(document, ca.seal(CITY, "GW-3702-0001"), ca.issuing)
    root_crl, issuing_crl = ca.crls

    report = ca.verifier([issuing_crl] if dropped == "root" else [root_crl]).verify(sealed)

    assert failing(report) == ["revocation"]
    assert "缺少有效的吊销列表" in detail(report, "revocation")


def test_an_outdated_crl_fails_the_revocation_check(sealed: bytes, ca: Authority) -> None:
    report = ca.verifier().verify(sealed, now=NOW + timedelta(days=8))

    assert failing(report) == ["revocation"]


def test_an_expired_seal_fails_the_chain_check(sealed: bytes, ca: Authority) -> None:
    later = NOW + timedelta(days=400)
    crls = [pki.build_crl(ca.root, [], 5, later, later + timedelta(days=7)),
            pki.build_crl(ca.issuing, [], 5, later, later + timedelta(days=7))]

    report = ca.verifier(crls).verify(sealed, now=later + timedelta(hours=1))

    assert "chain" in failing(report)
    assert "过期" in detail(report, "chain")


@pytest.mark.parametrize("names", [
    ("境外根CA", "境外签发CA"),
    (ROOT_NAME, ISSUING_NAME),   # an impostor copying Gongwen's names
])
def test_a_seal_from_a_foreign_root_fails_the_chain_check(document: bytes, ca: Authority,
                                                          names: tuple[str, str]) -> None:
    foreign = make_authority(*names)
    forged = seal(document, foreign.seal(CITY, "GW-3702-0001"), foreign.issuing)

    report = ca.verifier().verify(forged, expected_signers=[CITY])

    assert "chain" in failing(report)
    assert set(failing(report)) <= {"chain", "revocation"}


# -- who sealed ------------------------------------------------------------------------------------------


def test_a_seal_of_another_unit_than_expected_fails_the_signer_check(sealed: bytes, ca: Authority) -> None:
    report = ca.verifier().verify(sealed, expected_signers=[BUREAU])

    assert failing(report) == ["signer"]
    assert BUREAU in detail(report, "signer") and CITY in detail(report, "signer")


def test_sealing_refuses_a_key_that_does_not_match_the_certificate(document: bytes, ca: Authority,
                                                                   city_seal: pki.Issued) -> None:
    other = ca.seal(BUREAU, "GW-3702-0107")
    with pytest.raises(ValueError, match="不匹配"):
        sign_pdf(document, key=other.private_key, certificate=city_seal.certificate, chain=[],
                 seal_pdf=draw_seal(CITY, 42), page=0, box=SEAL_BOX, field_name="Seal-1", reason="", location="")


# -- not a sealed PDF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "key"), [
    (b"PK\x03\x04 this is a zip, not a PDF", "format"),
    (b"", "format"),
    (b"%PDF-1.7\n%%EOF garbage", "format"),
])
def test_a_non_pdf_gets_one_failing_check(data: bytes, key: str, ca: Authority) -> None:
    report = ca.verifier().verify(data)

    assert not report.ok
    assert [check.key for check in report.checks] == [key]
    assert "\n" not in report.reason


def test_an_unsigned_pdf_gets_one_failing_check(document: bytes, ca: Authority) -> None:
    report = ca.verifier().verify(document, expected_signers=[CITY])

    assert [check.key for check in report.checks] == ["signed"]
    assert report.reason == "含电子签章：文件中没有电子签章"


# -- keys, CRLs and seal pictures ------------------------------------------------------------------------


def test_the_keybox_round_trips_and_refuses_a_wrong_secret_or_a_tampered_blob(city_seal: pki.Issued) -> None:
    blob = pki.KeyBox("correct horse battery staple").seal(city_seal.private_key)

    opened = pki.KeyBox("correct horse battery staple").open(blob)

    assert opened.private_numbers() == city_seal.private_key.private_numbers()
    with pytest.raises(pki.KeyBoxError, match="无法解密"):
        pki.KeyBox("another secret").open(blob)
    with pytest.raises(pki.KeyBoxError, match="无法解密"):
        pki.KeyBox("correct horse battery staple").open(blob[:-1] + bytes([blob[-1] ^ 1]))


def test_crl_reasons_follow_the_seal_register(ca: Authority) -> None:
    entries = [(n, NOW, reason) for n, reason in enumerate(["lost", "damaged", "dissolved", "renamed", "other"], 1)]
    crl = pki.build_crl(ca.issuing, entries, 3, NOW, NOW + timedelta(days=7))

    reasons = {}
    for entry in crl:
        try:
            reasons[entry.serial_number] = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reasons[entry.serial_number] = None
    assert reasons == {1: x509.ReasonFlags.key_compromise, 2: x509.ReasonFlags.superseded,
                       3: x509.ReasonFlags.cessation_of_operation, 4: x509.ReasonFlags.affiliation_changed, 5: None}
    with pytest.raises(ValueError, match="未知的吊销原因"):
        pki.build_crl(ca.issuing, [(6, NOW, "misplaced")], 4, NOW, NOW + timedelta(days=7))


def test_a_seal_certificate_names_the_unit_and_the_seal(city_seal: pki.Issued) -> None:
    cert = city_seal.certificate
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)

    assert cert.subject.rfc4514_string() == f"2.5.4.5=GW-3702-0001,CN={CITY},OU=电子印章,O={CITY},C=CN"
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [pki.DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION])


@pytest.mark.parametrize(("kind", "parent", "diameter"), [
    ("province", None, 50), ("city", "province", 45), ("county", "city", 45),
    ("office", "province", 45), ("department", "city", 42), ("direct_body", "county", 42), ("office", None, 42),
])
def test_seal_sizes_follow_the_unit_kind(kind: str, parent: str | None, diameter: float) -> None:
    assert seal_diameter_mm(kind, parent) == diameter


def test_the_seal_picture_is_a_diameter_square_page_with_embedded_fonts(tmp_path) -> None:
    picture = draw_seal(CITY, 42, "电子印章专用")
    path = tmp_path / "seal.pdf"
    path.write_bytes(picture)

    [page] = PdfReader(io.BytesIO(picture)).pages
    fonts = subprocess.run([program("pdffonts"), str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()

    assert float(page.mediabox.width) == pytest.approx(42 * mm) == float(page.mediabox.height)
    assert len(fonts) == 3  # header, rule, the one Song face
    assert all(line.split()[-5] == "yes" for line in fonts[2:])  # the "emb" column
    assert draw_seal(CITY, 42, "电子印章专用") == picture


class _Holder(core.Sequence):
    _fields: ClassVar = [("text", core.OctetString)]


def test_a_value_whose_length_ends_in_0x80_is_kept_as_it_was_signed() -> None:
    # 128 bytes of contents: the length is written 81 80, which asn1crypto 1.5 took for an
    # indefinite length and re-encoded (here: the inner length shrinks to DER), changing signed bytes.
    signed = b"\x30\x81\x80" + b"\x04\x81\x7d" + b"x" * 125
    indefinite = b"\x30\x80" + b"\x04\x03abc" + b"\x00\x00"

    assert _Holder.load(signed).dump() == signed
    assert _Holder.load(indefinite).dump() == b"\x30\x05\x04\x03abc"  # a true BER length still becomes DER
    assert library_fixes.is_definite_long_form(b"\x30\x82\x01\x80")
    assert not library_fixes.is_definite_long_form(b"\x30\x80")


@pytest.mark.parametrize("text", [
    b"<48656c6c6f> rest", b"<48 65\n6C\r6c\t6f> rest", b"<486> rest", b"<> rest", b"<4865 % a comment\n6c> rest",
    b"<" + b"ab" * 20000 + b"> rest",
])
def test_hex_strings_read_in_one_go_read_as_pyhanko_reads_them(text: bytes) -> None:
    ours, theirs = io.BytesIO(text), io.BytesIO(text)

    assert library_fixes.read_hex_string(ours) == library_fixes._PYHANKO_HEX_READER(theirs)
    assert ours.read() == theirs.read() == b" rest"  # both leave the stream after the ">"


@pytest.mark.parametrize("text", [b"<48zz65>", b"<4865"])
def test_a_broken_hex_string_is_refused_like_pyhanko_refuses_it(text: bytes) -> None:
    with pytest.raises(PdfStreamError):
        library_fixes.read_hex_string(io.BytesIO(text))
    with pytest.raises(PdfStreamError):
        library_fixes._PYHANKO_HEX_READER(io.BytesIO(text))
