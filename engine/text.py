"""Text that people type, checked before it is stored: length, control characters, path-safe names.

Everything a person types is data, never markup or a path. Control characters (NUL, the
bidirectional overrides such as U+202E, zero-width characters) are refused in single-line values
because they hide or reorder what another person reads; line breaks are allowed only where a
value has several lines. Refusals say in Chinese which field and why.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import Refused

__all__ = ["clean", "mobile_number", "path_part"]

# Unicode categories refused: Cc (controls), Cf (format: bidi overrides, zero-width), Co (private use),
# Cs (surrogates), Cn (unassigned).
_REFUSED = {"Cc", "Cf", "Co", "Cs", "Cn"}
_LINE_BREAKS = {"\n", "\r", "\t"}


def clean(text: str | None, *, field: str, max_length: int, required: bool = True, lines: bool = False) -> str:
    """``text`` stripped, or a ``Refused`` naming ``field``: empty when required, too long, or with
    control characters (line breaks and tabs pass when ``lines``)."""
    text = (text or "").strip()
    if required and not text:
        raise Refused(f"请填写{field}")
    if len(text) > max_length:
        raise Refused(f"{field}不能超过 {max_length} 个字（现有 {len(text)} 个）")
    allowed = _LINE_BREAKS if lines else set()
    if bad := next((c for c in text if c not in allowed and unicodedata.category(c) in _REFUSED), None):
        raise Refused(f"{field}含有不可见的控制字符（U+{ord(bad):04X}），请删除后重试")
    return text


def path_part(text: str, *, max_length: int = 60) -> str:
    """A piece of a file name made of ``text``: letters, digits, CJK, 〔〕 (of document numbers), ``-`` and ``_``
    only, never a path."""
    part = re.sub(r"[^\w\u3400-\u9fff\u3014\u3015-]+", "_", text, flags=re.UNICODE).strip("._")
    return part[:max_length] or "_"


_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()（）]+")
MOBILE_HINT = "手机号码应为 11 位数字，以 13–19 开头"


def mobile_number(text: str | None) -> str:
    """A mainland mobile number as 11 ASCII digits, from what a person types (spaces, dashes, full-width
    digits, a +86 prefix); ``Refused`` if it is empty or not one."""
    raw = (text or "").strip()
    if not raw:
        raise Refused("请填写手机号码")
    if len(raw) > 30:
        raise Refused(MOBILE_HINT)
    # NFKC turns the full-width digits a Chinese input method types into ASCII ones.
    digits = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    digits = re.sub(r"^(\+86|0086|86)(?=1[0-9]{10}$)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise Refused(MOBILE_HINT)
    return digits
