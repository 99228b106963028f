"""Sealing a typeset document: the ``Signer`` interface, its first implementation, and the step.

A ``Signer`` turns a file and a seal into a sealed file. PAdES with ECDSA P-256 over SHA-256
is the first; an SM2/SM3 signer (GB/T 38540) or an OFD one stands beside it by registering
under its own name. The signer's algorithm and format are recorded with every sealed file
(``Document.seal_algorithm``, ``Document.sealed_format``), so a verifier years later knows
what it is looking at.
"""

from __future__ import annotations

from typing import Protocol

from engine.models import Unit
from engine.registry import HandlerContext, handler

from ..documents.models import DocStatus, Document
from .models import Seal
from .pades import sign_pdf
from .register import active_seal, long_term_material, seal_signing_material, timestamper

__all__ = ["SIGNERS", "PadesSigner", "Signer", "apply_seals", "signer_for"]


class Signer(Protocol):
    """Puts one visible seal and its digital signature on a file; never changes what is already signed."""

    algorithm: str  # e.g. "ECDSA-P256-SHA256"
    format: str     # e.g. "PAdES-B-LT": what a verifier must understand

    def sign(self, file: bytes, *, key, certificate, chain, seal_image: bytes, page: int,
             box: tuple[float, float, float, float], field_name: str, reason: str, location: str,
             timestamper, long_term=None) -> bytes:
        """``file`` with one more seal and its signature timestamp, added as an incremental update.

        With ``long_term`` (certificates and CRLs) the validation data is embedded too, so the
        file can be validated years later without Gongwen.
        """


class PadesSigner:
    """PAdES (ETSI EN 319 142) B-LT in a PDF, ECDSA P-256 keys, SHA-256 digests, Gongwen's RFC 3161 timestamps."""

    algorithm = "ECDSA-P256-SHA256"
    format = "PAdES-B-LT"

    def sign(self, file: bytes, *, key, certificate, chain, seal_image: bytes, page: int,
             box: tuple[float, float, float, float], field_name: str, reason: str, location: str,
             timestamper, long_term=None) -> bytes:
        return sign_pdf(file, key=key, certificate=certificate, chain=chain, seal_pdf=seal_image, page=page,
                        box=box, field_name=field_name, reason=reason, location=location,
                        timestamper=timestamper, long_term=long_term)


SIGNERS: dict[str, Signer] = {"pades-ecdsa-p256": PadesSigner()}


def signer_for(seal: Seal) -> Signer:
    """The signer for ``seal``'s key: every seal Gongwen issues today is an ECDSA P-256 key sealing PDFs."""
    return SIGNERS["pades-ecdsa-p256"]


@handler("apply_seals")
def apply_seals(ctx: HandlerContext, document_id: int) -> dict:
    """Sign the typeset file with each issuer's seal, lead first; the result is stored and never changes."""
    document = ctx.session.get(Document, document_id)
    sealed = ctx.files.get(document.pdf_sha256)
    signer, stamper = None, timestamper(ctx.session, ctx.settings)
    last = len(document.issuers) - 1
    for position, issuer in enumerate(document.issuers):
        unit = ctx.session.get(Unit, issuer.unit_id)
        seal = active_seal(ctx.session, unit)
        signer = signer_for(seal)
        key, certificate, chain = seal_signing_material(ctx.session, ctx.settings, seal)
        box = document.seal_boxes[position]
        # The validation data goes in once, after the last seal, covering all of them.
        sealed = signer.sign(sealed, key=key, certificate=certificate, chain=chain, seal_image=seal.image_pdf,
                             page=box["page"], box=tuple(box["box"]), field_name=f"Seal-{position + 1}",
                             reason="公文用印", location=unit.name, timestamper=stamper,
                             long_term=long_term_material(ctx.session) if position == last else None)
        issuer.seal_id = seal.id
    document.sealed_sha256 = ctx.files.put(ctx.session, sealed, "application/pdf")
    document.seal_algorithm, document.sealed_format = signer.algorithm, signer.format
    document.status = DocStatus.SEALED
    ctx.audit("document.seal", document_id=document.id, pdf=document.sealed_sha256, algorithm=signer.algorithm,
              seals=[ctx.session.get(Unit, i.unit_id).name for i in document.issuers])
    return {"sealed": document.sealed_sha256}
