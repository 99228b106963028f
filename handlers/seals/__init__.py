"""Seals (电子印章): the PKI, the seal register, signing, verification.

- :mod:`.pki`, :mod:`.seal_image`, :mod:`.pades`: pure libraries (no database): the CA hierarchy and
  key boxes, the drawn seal, PAdES signing and verifying.
- :mod:`.register`: CAs, seals, CRLs and seal requests in the database.
- :mod:`.signing`: the ``Signer`` interface and the sealing step.  :mod:`.verification`: a sealed document.
"""

from . import register, signing  # noqa: F401  (registrations)
