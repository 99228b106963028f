"""Sealing a PDF: a visible PAdES signature with its timestamp and validation data, and archive timestamps.

``sign_pdf`` adds one seal as an incremental update: a PAdES signature (subfilter
``ETSI.CAdES.detached``, SHA-256, ECDSA) in a new signature field whose appearance is the seal
picture from :func:`handlers.seals.seal_image.draw_seal`. Calling it again on the result, with
another field name and box, adds a further seal (joint documents); earlier seals stay valid
because adding a signature field is an allowed change.

With a ``timestamper`` the signature carries an RFC 3161 signature timestamp (PAdES B-T): the
proven time the seal is judged at for decades. With :class:`LongTermMaterial` the certificates
and CRLs a verifier needs are written into the document security store (PAdES B-LT), so the
document can be validated without Gongwen. The DSS goes into the seal's own revision (the VRI
entry, which would need the signature first, is optional and left out): the seal then covers the
whole file, and a verifier need not analyse later revisions.

``archive_timestamp`` adds a document timestamp over everything (PAdES B-LTA), in a signature
field whose appearance is a picture (the 归档章): adding a signature field with its appearance
is an allowed change for the seals before it, so they keep verifying, in pyhanko and in pdfsig.

Verification is :mod:`handlers.seals.validation`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import content, generic, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import asn1_certificate, asn1_crl, unit_name_of
from .tsa import LocalTimeStamper

__all__ = ["LongTermMaterial", "archive_timestamp", "sign_pdf"]

# Reserving the /Contents hole up front spares pyhanko a dry-run signature to measure it, and a
# tight hole is faster to verify (pyhanko parses the hex digits one by one). The CMS blob is the
# certificates, the issuer's name twice (signer id, ESS signing-certificate attribute) and about
# 370 bytes of fixed structure with the ECDSA signature (measured: 2,516 bytes with 1,856 of
# certificates and a 146-byte issuer name); 512 leaves room to spare.
_CMS_OVERHEAD = 512
# A timestamp token from Gongwen's TSA: its certificates, its issuer's name twice, and about 660
# bytes of TSTInfo, signed attributes and signature (measured: 1,439 bytes with a 572-byte
# certificate and a 103-byte issuer name).
_TOKEN_OVERHEAD = 768

_STAMP_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID,
    y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins.uniform(0),
)

# pyhanko warns on every DSS update that it may not fetch; Gongwen never fetches by design.
logging.getLogger("pyhanko.sign.validation.dss").setLevel(logging.ERROR)


@dataclass(frozen=True)
class LongTermMaterial:
    """What a verifier needs years later, written into the document security store (DSS).

    ``certificates``: the whole chain of every seal and of the TSA, root included; ``crls``: the
    current CRL of every CA in those chains.
    """

    certificates: Sequence[x509.Certificate]
    crls: Sequence[x509.CertificateRevocationList | bytes]

    def supply(self, writer: IncrementalPdfFileWriter) -> None:
        """Write this material into the DSS of the revision ``writer`` is making."""
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=[asn1_certificate(c) for c in self.certificates],
            crls=[asn1_crl(c) for c in self.crls])


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
    timestamper: TimeStamper | None = None,
    long_term: LongTermMaterial | None = None,
) -> bytes:
    """``pdf`` with one more seal: a visible PAdES signature in a new field ``field_name``.

    ``key`` and ``certificate`` are the seal's; ``chain`` the certificates to embed so that a
    verifier can reach the root (at least the issuing CA). ``seal_pdf`` is drawn, scaled to fit,
    in ``box`` = (x1, y1, x2, y2) in PDF points on page ``page`` (0-based). ``timestamper`` adds
    a signature timestamp; ``long_term`` then writes the validation data into the DSS.
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
    pdf_signer = signers.PdfSigner(
        meta,
        signer=_KeySigner(key, certificate, chain),
        stamp_style=_picture_style(seal_pdf),
        new_field_spec=fields.SigFieldSpec(field_name, on_page=page, box=box),
        timestamper=timestamper,
    )
    # pyhanko counts the reservation in hex digits: two per byte.
    reserved = 2 * (_CMS_OVERHEAD + 2 * len(certificate.issuer.public_bytes())
                    + sum(len(_der(cert)) for cert in embedded))
    if timestamper is not None:
        token = _token_size(timestamper)
        reserved = None if token is None else reserved + 2 * token
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if long_term is not None:
        # In the seal's own revision (pyhanko's TOGETHER_WITH_SIGNATURE placement): the signature
        # covers the whole file, so verifying it needs no analysis of later revisions.
        long_term.supply(writer)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out, bytes_reserved=reserved)
    return out.getvalue()


def archive_timestamp(
    pdf: bytes,
    *,
    timestamper: TimeStamper,
    stamp_pdf: bytes,
    page: int,
    box: tuple[float, float, float, float],
    field_name: str,
    long_term: LongTermMaterial | None = None,
) -> bytes:
    """``pdf`` with a visible document timestamp (PAdES B-LTA) over all of it, ``long_term`` in the DSS first.

    ``stamp_pdf``'s first page is drawn, scaled to fit, in ``box`` on page ``page``. Nothing
    signed before changes: the seals see a new signature field with its appearance (allowed),
    the DSS update and the timestamp.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if long_term is not None:
        long_term.supply(writer)
    fields.append_signature_field(writer, fields.SigFieldSpec(field_name, on_page=page, box=box))
    size = layout.BoxConstraints(width=abs(box[2] - box[0]), height=abs(box[3] - box[1]))
    stamp = _picture_style(stamp_pdf).create_stamp(writer, size, {})
    _field(writer, field_name)["/AP"] = stamp.as_appearances().as_pdf_object()
    out = io.BytesIO()
    token = _token_size(timestamper)
    signers.PdfTimeStamper(timestamper, field_name=field_name).timestamp_pdf(
        writer, "sha256", output=out, bytes_reserved=None if token is None else 2 * token)
    return out.getvalue()


def _picture_style(picture_pdf: bytes) -> StaticStampStyle:
    """A stamp that is the first page of ``picture_pdf``, scaled to fit its box, centred, without a border."""
    return StaticStampStyle(background=_PageXObject(picture_pdf), border_width=0, background_opacity=1.0,
                            background_layout=_STAMP_LAYOUT)


def _field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject:
    for ref in writer.root["/AcroForm"]["/Fields"]:
        candidate = ref.get_object()
        if candidate.get("/T") == name:
            writer.mark_update(ref)
            return candidate
    raise KeyError(name)


def _token_size(timestamper: TimeStamper) -> int | None:
    """Bytes to reserve for a token of Gongwen's TSA (its certificates are known); None: let pyhanko measure."""
    if not isinstance(timestamper, LocalTimeStamper):
        return None
    certificates = timestamper.certificates
    return (_TOKEN_OVERHEAD + 2 * len(certificates[0].issuer.public_bytes())
            + sum(len(_der(cert)) for cert in certificates))


class _KeySigner(signers.Signer):
    """Signs with the in-memory pyca key as given.

    pyhanko's SimpleSigner holds the key as asn1crypto and re-parses it on every signature;
    this skips both conversions.
    """

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate,
                 chain: Sequence[x509.Certificate]) -> None:
        super().__init__(
            signing_cert=asn1_certificate(certificate),
            cert_registry=SimpleCertificateStore.from_certs([asn1_certificate(c) for c in chain]),
        )
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise ValueError(f"unsupported digest {digest_algorithm}")
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


class _PageXObject(content.PdfContent):
    """The first page of a PDF held in memory, as a form XObject (pyhanko only imports files)."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self._pdf = pdf

    def render(self) -> bytes:
        xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=0)
        self.resources.xobject["/Page"] = xobj
        # the layout rule scales by the box, which is the imported page's MediaBox
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return b"/Page Do"


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)
