"""Seals that stay valid: signature timestamps, validation data in the file, archive timestamps (no database).

A seal is judged at the time its timestamp proves, with today's CRLs: revoked, renewed or
expired later, it still verifies and the report says why; revoked as compromised from before
its timestamp, it fails.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from handlers.archive.archiving import stamp_picture
from handlers.seals import pki
from handlers.seals.pades import LongTermMaterial, archive_timestamp, sign_pdf
from handlers.seals.seal_image import draw_seal
from handlers.seals.tsa import LocalTimeStamper, TimestampingKey
from handlers.seals.validation import Verifier
from tests.support import pdfsig
from tests.test_pades import CITY, NOW, SEAL_BOX, Authority, detail, failing, make_authority, unsigned_document

SEALED_AT = NOW  # what the TSA's clock says when the seal is made (pdfsig judges at the real time)
LATER = NOW + timedelta(days=30)
ARCHIVE_BOX = (240.0, 770.0, 370.0, 820.0)


class Clock:
    """The TSA's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def ca() -> Authority:
    return make_authority()


@pytest.fixture(scope="module")
def document() -> bytes:
    return unsigned_document()


@pytest.fixture(scope="module")
def tsa(ca: Authority) -> pki.Issued:
    return pki.issue_tsa_certificate(ca.root, "公文系统时间戳服务", NOW - timedelta(days=1))


@pytest.fixture
def stamper(tsa: pki.Issued) -> LocalTimeStamper:
    return LocalTimeStamper(TimestampingKey(tsa.private_key, tsa.certificate), Clock(SEALED_AT))


def seal(pdf: bytes, ca: Authority, who: pki.Issued, stamper: LocalTimeStamper | None,
         long_term: LongTermMaterial | None = None) -> bytes:
    return sign_pdf(pdf, key=who.private_key, certificate=who.certificate, chain=[ca.issuing.certificate],
                    seal_pdf=draw_seal(CITY, 42), page=0, box=SEAL_BOX, field_name="Seal-1", reason="公文用印",
                    location="XX市", timestamper=stamper, long_term=long_term)


def verifier_at(ca: Authority, tsa: pki.Issued, when: datetime,
                revoked: list[pki.Revocation] = ()) -> Verifier:
    """A verifier with CRLs published at ``when`` (fresh then), the issuing CA's listing ``revoked``."""
    crls = [pki.build_crl(ca.root, [], 2, when, when + timedelta(days=7)),
            pki.build_crl(ca.issuing, list(revoked), 2, when, when + timedelta(days=7))]
    return Verifier([ca.root.certificate], [ca.issuing.certificate, tsa.certificate], crls)


def a_seal(ca: Authority, not_after: datetime = NOW + timedelta(days=365)) -> pki.Issued:
    return pki.issue_seal_certificate(ca.issuing, CITY, "GW-3702-0009", NOW - timedelta(days=1), not_after)


def test_a_timestamped_seal_names_the_time_its_timestamp_proves(document, ca, tsa, stamper) -> None:
    city = a_seal(ca)
    report = verifier_at(ca, tsa, NOW).verify(seal(document, ca, city, stamper), [CITY], now=NOW)

    assert report.ok, report.reason
    assert [c.label for c in report.checks] == [
        "文件完整", "签名有效", "证书链可信", "未被吊销", "盖章时间可信", "签章单位与发文机关一致"]
    assert datetime.fromisoformat(report.signers[0]["timestamp"]) == SEALED_AT
    assert "可信时间戳证明" in detail(report, "timestamp")


@pytest.mark.parametrize(("reason", "label"), [("damaged", "印章损坏，已更换"), ("renamed", "单位已更名"),
                                               ("dissolved", "单位已撤销"), ("lost", "印章遗失或私钥泄露")])
def test_a_seal_revoked_after_its_timestamp_still_verifies_and_says_so(document, ca, tsa, stamper,
                                                                       reason, label) -> None:
    city = a_seal(ca)
    sealed = seal(document, ca, city, stamper)
    revoked = [pki.Revocation(city.certificate.serial_number, NOW + timedelta(days=1), reason)]

    report = verifier_at(ca, tsa, LATER, revoked).verify(sealed, [CITY], now=LATER)

    assert report.ok, report.reason
    assert "早于吊销时间" in detail(report, "revocation") and label in detail(report, "revocation")


def test_without_a_timestamp_a_later_revocation_fails_the_seal(document, ca, tsa) -> None:
    city = a_seal(ca)
    revoked = [pki.Revocation(city.certificate.serial_number, NOW + timedelta(days=1), "damaged")]

    report = verifier_at(ca, tsa, LATER, revoked).verify(seal(document, ca, city, None), [CITY], now=LATER)

    assert failing(report) == ["revocation"]


def test_a_seal_distrusted_from_before_its_timestamp_fails(document, ca, tsa, stamper) -> None:
    city = a_seal(ca)
    sealed = seal(document, ca, city, stamper)
    lost = [pki.Revocation(city.certificate.serial_number, NOW + timedelta(days=1), "lost",
                           invalid_since=SEALED_AT - timedelta(hours=2))]

    report = verifier_at(ca, tsa, LATER, lost).verify(sealed, [CITY], now=LATER)

    assert failing(report) == ["revocation"]
    assert "起不再可信" in detail(report, "revocation")


def test_a_seal_revoked_before_its_timestamp_fails(document, ca, tsa, stamper) -> None:
    city = a_seal(ca)
    sealed = seal(document, ca, city, stamper)
    revoked = [pki.Revocation(city.certificate.serial_number, SEALED_AT - timedelta(minutes=5), "damaged")]

    report = verifier_at(ca, tsa, LATER, revoked).verify(sealed, [CITY], now=LATER)

    assert failing(report) == ["revocation"]


def test_an_expired_seal_certificate_still_verifies_what_it_sealed(document, ca, tsa, stamper) -> None:
    city = a_seal(ca, not_after=NOW + timedelta(days=2))
    sealed = seal(document, ca, city, stamper)

    report = verifier_at(ca, tsa, LATER).verify(sealed, [CITY], now=LATER)

    assert report.ok, report.reason
    assert "过期" in detail(report, "chain") and "有效期内" in detail(report, "chain")
    without_timestamp = verifier_at(ca, tsa, LATER).verify(seal(document, ca, city, None), [CITY], now=LATER)
    assert failing(without_timestamp) == ["chain"]


def test_a_timestamp_from_a_tsa_gongwen_does_not_trust_fails(document, ca, tsa) -> None:
    foreign = make_authority("别处根CA", "别处签发CA")
    rogue = pki.issue_tsa_certificate(foreign.root, "别处时间戳", NOW - timedelta(days=1))
    city = a_seal(ca)
    sealed = seal(document, ca, city, LocalTimeStamper(TimestampingKey(rogue.private_key, rogue.certificate),
                                                       Clock(SEALED_AT)))

    report = verifier_at(ca, tsa, NOW).verify(sealed, [CITY], now=NOW)

    assert failing(report) == ["timestamp"]


def test_the_file_carries_the_certificates_and_crls_a_verifier_needs(document, ca, tsa, stamper) -> None:
    city = a_seal(ca)
    material = LongTermMaterial([ca.root.certificate, ca.issuing.certificate, tsa.certificate], ca.crls)

    sealed = seal(document, ca, city, stamper, material)

    dss = PdfFileReader(io.BytesIO(sealed)).root["/DSS"]
    assert len(dss["/CRLs"]) == 2
    assert len(dss["/Certs"]) >= 3
    assert verifier_at(ca, tsa, NOW).verify(sealed, [CITY], now=NOW).ok


def archived(document: bytes, ca: Authority, tsa: pki.Issued, stamper: LocalTimeStamper) -> bytes:
    material = LongTermMaterial([ca.root.certificate, ca.issuing.certificate, tsa.certificate], ca.crls)
    sealed = seal(document, ca, a_seal(ca), stamper, material)
    picture = stamp_picture([("全宗号", "Z001"), ("年度", "2026"), ("件号", "0001"), ("机构", "BGS"),
                             ("保管期限", "永久"), ("页数", "1")])
    return archive_timestamp(sealed, timestamper=stamper, stamp_pdf=picture, page=0, box=ARCHIVE_BOX,
                             field_name="Archive-1", long_term=material)


def test_an_archive_timestamp_keeps_the_seal_valid_in_gongwen_and_in_poppler(document, ca, tsa, stamper,
                                                                            tmp_path) -> None:
    copy = archived(document, ca, tsa, stamper)

    report = verifier_at(ca, tsa, NOW).verify(copy, [CITY], now=NOW)
    assert report.ok, report.reason
    assert "归档时间戳" in detail(report, "archive")
    path = tmp_path / "archived.pdf"
    path.write_bytes(copy)
    out = pdfsig(path, ca.root.certificate.public_bytes(Encoding.PEM))
    seal_part = out.split("Signature #2")[0]
    assert "Signature is Valid." in seal_part and "Certificate is Trusted." in seal_part
    assert "Signature Field Name: Archive-1" in out


def test_a_change_after_the_archive_timestamp_fails(document, ca, tsa, stamper) -> None:
    copy = archived(document, ca, tsa, stamper)
    writer = IncrementalPdfFileWriter(io.BytesIO(copy))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 10 10 200 200 re f")))
    out = io.BytesIO()
    writer.write(out)

    report = verifier_at(ca, tsa, NOW).verify(out.getvalue(), [CITY], now=NOW)

    assert "integrity" in failing(report) and "archive" in failing(report)


def test_an_out_of_date_crl_fails_a_timestamped_seal_too(document, ca, tsa, stamper) -> None:
    # The root's CRL is fresh (the timestamp is trusted), the issuing CA's is past its next update:
    # it could hide a key compromise dated before the timestamp, so the seal is not judged in the past.
    sealed = seal(document, ca, a_seal(ca), stamper)
    crls = [pki.build_crl(ca.root, [], 2, LATER, LATER + timedelta(days=7)),
            pki.build_crl(ca.issuing, [], 2, NOW, NOW + timedelta(days=7))]

    report = Verifier([ca.root.certificate], [ca.issuing.certificate, tsa.certificate], crls).verify(
        sealed, [CITY], now=LATER)

    assert failing(report) == ["revocation"] and "吊销列表" in detail(report, "revocation")
