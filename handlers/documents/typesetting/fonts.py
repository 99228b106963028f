"""The CJK fonts every Gongwen PDF embeds, found at start-up.

GB/T 9704 asks for 小标宋 (the issuer mark and title), 仿宋 (the body), 楷体 (signers'
names), 黑体 (headings, urgency) and a Song face for the page numbers. The official faces are
commercial, so Gongwen uses the free Fandol faces (full GB2312 coverage), which ``make``
converts to TrueType into :data:`FONT_DIR` (see :mod:`.fonts_build`); where they are missing it
falls back to the TrueType faces of Debian packages, with a warning, since the fallback 仿宋 is
really a Ming face and its 小标宋 a Song drawn with a stroke. An installation points any style
at a licensed face with ``GONGWEN_FONT_<STYLE>=path[#index]`` (e.g. ``GONGWEN_FONT_XIAOBIAOSONG``
for 方正小标宋) without changing the others. A missing font is an error at start-up, never a
page of boxes in a viewer.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

FONT_DIR = Path(os.environ.get("GONGWEN_FONT_DIR") or Path(__file__).resolve().parents[3] / "var" / "fonts")
"""Where ``make`` puts the converted Fandol faces (``GONGWEN_FONT_DIR`` moves it)."""

FANDOL = {
    "xiaobiaosong": "FandolSong-Bold.ttf",
    "song": "FandolSong-Regular.ttf",
    "fangsong": "FandolFang-Regular.ttf",
    "kai": "FandolKai-Regular.ttf",
    "hei": "FandolHei-Regular.ttf",
}
"""Style -> the converted Fandol file in :data:`FONT_DIR`, the first choice of each style."""

_UMING = "/usr/share/fonts/truetype/arphic/uming.ttc"
# style -> (reportlab name, fallback (path, subfont index), its Debian package)
_STYLES: dict[str, tuple[str, tuple[str, int], str]] = {
    "xiaobiaosong": ("GongwenXiaoBiaoSong", (_UMING, 0), "fonts-arphic-uming"),
    "song": ("GongwenSong", (_UMING, 0), "fonts-arphic-uming"),
    "fangsong": ("GongwenFangSong", (_UMING, 0), "fonts-arphic-uming"),
    "kai": ("GongwenKai", ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0), "fonts-arphic-ukai"),
    "hei": ("GongwenHei", ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0), "fonts-wqy-zenhei"),
}


class FontMissing(RuntimeError):
    """A required CJK font is not installed; the message says which and how to get it."""


@dataclass(frozen=True)
class FontSet:
    """reportlab font names, registered and ready to draw with.

    ``faux_bold`` is true only when the 小标宋 is the regular Song fallback, which the renderer
    then thickens with a stroke; a Fandol Song Bold or a configured face is drawn as it is.
    """

    xiaobiaosong: str
    song: str
    fangsong: str
    kai: str
    hei: str
    faux_bold: bool = False


_lock = threading.Lock()
_fonts: FontSet | None = None


def _candidate(style: str) -> tuple[str, int, bool] | None:
    """(path, subfont index, whether it is the fallback) of ``style``, or None when nothing is installed."""
    override = os.environ.get(f"GONGWEN_FONT_{style.upper()}")
    if override:
        path, _, index = override.partition("#")
        if not Path(path).is_file():
            raise FontMissing(f"GONGWEN_FONT_{style.upper()} 指向的字体文件不存在：{path}")
        return path, int(index or 0), False
    fandol = FONT_DIR / FANDOL[style]
    if fandol.is_file():
        return str(fandol), 0, False
    path, index = _STYLES[style][1]
    return (path, index, True) if Path(path).is_file() else None


def check_fonts() -> None:
    """Fail at start-up, with what to install, if any face is missing (registration waits for first use)."""
    for style, (_name, _fallback, package) in _STYLES.items():
        if _candidate(style) is None:
            raise FontMissing(
                f"缺少中文字体（{style}）：请运行 make（转换 Fandol 字体到 {FONT_DIR}）或安装 Debian 软件包 "
                f"{package}，或用 GONGWEN_FONT_{style.upper()}=字体路径 指定 TrueType 字体"
            )


def load_fonts() -> FontSet:
    """Register the five faces with reportlab once per process and return their names."""
    global _fonts
    with _lock:
        if _fonts is not None:
            return _fonts
        check_fonts()
        names: dict[str, str] = {}
        fallbacks = []
        for style, (name, _fallback, _package) in _STYLES.items():
            path, index, fallback = _candidate(style)
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except Exception as err:
                raise FontMissing(f"字体 {path} 无法使用（需要 TrueType 轮廓的字体）：{err}") from err
            names[style] = name
            if fallback:
                fallbacks.append(style)
        if fallbacks:
            log.warning("Fandol fonts missing in %s (run make): substitutes for %s", FONT_DIR, ", ".join(fallbacks))
        _fonts = FontSet(**names, faux_bold="xiaobiaosong" in fallbacks)
        return _fonts


def face_file(style: str) -> str:
    """The file of the face :func:`load_fonts` draws ``style`` with, for drawing outside reportlab
    (supervision's charts); FontMissing, with what to install, when there is none."""
    found = _candidate(style)
    if found is None:
        check_fonts()
    return found[0]
