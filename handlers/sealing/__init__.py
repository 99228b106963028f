"""Electronic seals as pure functions: no database, no Flask; callers store the results.

- :mod:`.pki`: Gongwen's CA hierarchy (root → issuing CA → one certificate per seal), CRLs, and
  ``KeyBox`` for private keys at rest.
- :mod:`.seal_image`: the round red seal picture as a one-page vector PDF, and seal sizes.
- :mod:`.pades`: sealing a PDF with a visible PAdES signature, and verifying every seal on one.
"""
