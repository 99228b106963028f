"""Two fixes to the libraries sealing rests on, installed once per process by :func:`install`.

**asn1crypto 1.5 re-encodes every value whose DER length happens to end in byte 0x80.**
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

**pyhanko 0.38 reads a hex string one character at a time**, through a generator and a
whitespace check per digit: the ~8,000 digits of a seal's ``/Contents`` were a third of the time a
verification takes. :func:`read_hex_string` finds the closing ``>`` in one search and decodes the
digits at once; a string with a comment in it (``%``, legal but never written by a signer) goes
to pyhanko's own reader.
"""

from __future__ import annotations

import binascii
import functools
import re

from asn1crypto import core
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

__all__ = ["install", "is_definite_long_form", "read_hex_string"]

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


_PYHANKO_HEX_READER = generic.read_hex_string_from_stream
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "


def read_hex_string(stream) -> generic.ByteStringObject | generic.TextStringObject:
    """pyhanko's ``read_hex_string_from_stream``, the same result and errors, reading ``<…>`` in one go."""
    start = stream.tell()
    stream.read(1)  # the "<"
    chunks = []
    while True:
        at = stream.tell()
        chunk = stream.read(16384)
        if not chunk:
            raise PdfStreamError("Stream ended prematurely")
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            stream.seek(at + end + 1)
            break
        chunks.append(chunk)
    digits = b"".join(chunks)
    if b"%" in digits:  # a comment inside the string: let pyhanko deal with it, as it always did
        stream.seek(start)
        return _PYHANKO_HEX_READER(stream)
    digits = digits.translate(None, _PDF_WHITESPACE)
    if (bad := _NOT_HEX.search(digits)) is not None:
        raise PdfStreamError(f"Unexpected token in hex string: {bytes(bad.group())!r}")
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install() -> None:
    """Install both fixes once per process (again is a no-op)."""
    for cls in _CLASSES:
        dump = cls.__dict__["dump"]
        if not getattr(dump, "__gongwen_fixed__", False):
            cls.dump = _keep_der(dump)
    generic.read_hex_string_from_stream = read_hex_string
