"""A handwritten signature as the signature pad sends it: a PNG data URL, checked before it is kept.

A pure library: :func:`signature_png` takes what the browser posted and returns clean PNG bytes or
raises ``Refused`` saying in Chinese what is wrong. It accepts only a real PNG (by its bytes, not its
label) of at most :data:`MAX_BYTES`, within :data:`MAX_WIDTH` × :data:`MAX_HEIGHT` (read from the
header before any pixel is decoded, so a decompression bomb is refused unopened), with something
drawn on it (an all-transparent or one-colour image is blank). The image is re-encoded, so what is
kept and served is pixels only, never chunks a forger smuggled in.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct

from PIL import Image, UnidentifiedImageError

from engine.errors import Refused

__all__ = ["MAX_BYTES", "MAX_HEIGHT", "MAX_WIDTH", "signature_png"]

MAX_BYTES = 200 * 1024
MAX_WIDTH, MAX_HEIGHT = 2400, 1200  # a phone's pad at three device pixels per CSS pixel fits well inside
_PREFIX = "data:image/png;base64,"
_PNG = b"\x89PNG\r\n\x1a\n"


def signature_png(data_url: str) -> bytes:
    """The PNG a ``data:image/png;base64,...`` URL carries, re-encoded; ``Refused`` unless it is a real,
    bounded, non-blank PNG."""
    if not isinstance(data_url, str) or not data_url.startswith(_PREFIX):
        raise Refused("手写签名应为签名板生成的 PNG 图片")
    if len(data_url) > len(_PREFIX) + (MAX_BYTES + 2) // 3 * 4:
        raise Refused(f"手写签名图片不能超过 {MAX_BYTES // 1024} KB")
    try:
        content = base64.b64decode(data_url[len(_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise Refused("手写签名图片的编码不正确") from None
    if not content.startswith(_PNG) or content[12:16] != b"IHDR" or len(content) < 33:
        raise Refused("手写签名应为 PNG 图片")
    width, height = struct.unpack(">II", content[16:24])
    if not (0 < width <= MAX_WIDTH and 0 < height <= MAX_HEIGHT):
        raise Refused(f"手写签名图片的尺寸应在 {MAX_WIDTH}×{MAX_HEIGHT} 像素以内")
    try:
        with Image.open(io.BytesIO(content), formats=["PNG"]) as image:
            image.load()
            pixels = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Refused("手写签名图片已损坏，无法读取") from None
    if pixels.getchannel("A").getbbox() is None or pixels.getcolors(1) is not None:
        raise Refused("手写签名是空白的，请在签名板上签名，或清除后不签名提交")
    out = io.BytesIO()
    pixels.save(out, "PNG", optimize=True)
    return out.getvalue()
