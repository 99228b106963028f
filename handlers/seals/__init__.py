"""Seals (电子印章): the PKI, the seal register, signing, verification.

- :mod:`.pki`, :mod:`.seal_image`, :mod:`.pades`: pure libraries (no database): the CA hierarchy and
  key boxes, the drawn seal, PAdES signing and verifying.
- :mod:`.register`: CAs, seals and CRLs in the database.
- :mod:`.applications`: a unit's applications for its seals (the ``seal`` process's steps), and their list.
- :mod:`.history`: each seal's history, for the register page.
- :mod:`.signing`: the ``Signer`` interface and the sealing step.  :mod:`.verification`: a sealed document.
- :mod:`.library_fixes`: fixes to asn1crypto (DER lengths ending in 0x80) and pyhanko (slow hex
  strings), installed here.
- :mod:`.personal`: people's signing certificates; :mod:`.opinions`: the signed 签发 and 批示 opinions,
  with :mod:`.detached` (pure) making and checking their CMS signatures.
"""

from . import library_fixes

library_fixes.install()  # before anything signs or verifies

from . import applications, opinions, personal, register, signing  # noqa: E402, F401  (registrations)
