"""A fix for asn1crypto 1.5 re-encoding every value whose DER length happens to end in byte 0x80.

asn1crypto takes a header whose last byte is 0x80 for an indefinite (BER) length and then
re-encodes the value and everything in it from scratch whenever it is dumped
(wbond/asn1crypto#249, open; 1.5.1 is the latest release). But a definite length of 128, 384,
640 … written in long form (``81 80``, ``82 01 80`` …) ends in 0x80 too. Signature values and
serial numbers vary in length, so about every other RFC 3161 token and now and then a seal's CMS
hits it: pyhanko then spent about 0.6 s re-encoding a timestamp token that it only embeds, and a
verifier as much again, on data that was DER all along.

:func:`install` wraps the ``dump`` of the five classes that carry the check: for a definite
long-form length it forgets the cached header, which ``dump`` then rebuilds from the unchanged
contents (the same bytes, at the cost of one header) instead of re-encoding the value. A true
indefinite length (a single length byte 0x80) is left to asn1crypto as before.
"""

from __future__ import annotations

import functools

from asn1crypto import core

__all__ = ["install", "is_definite_long_form"]

_CLASSES = (core.Asn1Value, core.Choice, core.Primitive, core.Sequence, core.SequenceOf)


def is_definite_long_form(header: bytes) -> bool:
    """Whether ``header`` (tag and length octets) ends in a long-form definite length of 1 to 4 bytes."""
    return any(len(header) > n + 1 and header[-(n + 1)] == 0x80 | n for n in range(1, 5))


def _keep_der(dump):
    @functools.wraps(dump)
    def wrapper(self, force=False):
        header = self._header
        if not force and header is not None and header[-1:] == b"\x80" and is_definite_long_form(header):
            self._header = None
        return dump(self, force)

    wrapper.__gongwen_fixed__ = True
    return wrapper


def install() -> None:
    """Wrap the ``dump`` methods once per process (again is a no-op)."""
    for cls in _CLASSES:
        dump = cls.__dict__["dump"]
        if not getattr(dump, "__gongwen_fixed__", False):
            cls.dump = _keep_der(dump)
