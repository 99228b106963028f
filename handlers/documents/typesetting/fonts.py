"""The CJK fonts every Gongwen PDF embeds, found on the system at start-up.

GB/T 9704 asks for 小标宋 (the issuer mark and title), 仿宋 (the body), 楷体 (signers'
names) and 黑体 (headings, urgency). The official faces are commercial, so Gongwen
uses free TrueType faces from Debian packages (installed by ``make``) and lets an
installation point at licensed ones with ``GONGWEN_FONT_<STYLE>=path[#index]``.
No free 仿宋 with full GB2312 coverage ships as TrueType in Debian, so the body
defaults to the Song face. A missing font is an error at start-up, never a page of
boxes in a viewer.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# style -> (reportlab name, candidates as (path, subfont index), Debian package)
_STYLES: dict[str, tuple[str, list[tuple[str, int]], str]] = {
    "song": ("GongwenSong", [("/usr/share/fonts/truetype/arphic/uming.ttc", 0)], "fonts-arphic-uming"),
    "fangsong": ("GongwenFangSong", [("/usr/share/fonts/truetype/arphic/uming.ttc", 0)], "fonts-arphic-uming"),
    "kai": ("GongwenKai", [("/usr/share/fonts/truetype/arphic/ukai.ttc", 0)], "fonts-arphic-ukai"),
    "hei": ("GongwenHei", [("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0)], "fonts-wqy-zenhei"),
}


class FontMissing(RuntimeError):
    """A required CJK font is not installed; the message says which and how to get it."""


@dataclass(frozen=True)
class FontSet:
    """reportlab font names, registered and ready to draw with."""

    song: str
    fangsong: str
    kai: str
    hei: str


_lock = threading.Lock()
_fonts: FontSet | None = None


def _candidate(style: str) -> tuple[str, int] | None:
    override = os.environ.get(f"GONGWEN_FONT_{style.upper()}")
    if override:
        path, _, index = override.partition("#")
        if not Path(path).is_file():
            raise FontMissing(f"GONGWEN_FONT_{style.upper()} 指向的字体文件不存在：{path}")
        return path, int(index or 0)
    return next(((p, i) for p, i in _STYLES[style][1] if Path(p).is_file()), None)


def check_fonts() -> None:
    """Fail at start-up, with what to install, if any face is missing (registration waits for first use)."""
    for style, (_name, _candidates, package) in _STYLES.items():
        if _candidate(style) is None:
            raise FontMissing(
                f"缺少中文字体（{style}）：请安装 Debian 软件包 {package}（make 会自动安装），"
                f"或用 GONGWEN_FONT_{style.upper()}=字体路径 指定 TrueType 字体"
            )


def load_fonts() -> FontSet:
    """Register the four faces with reportlab once per process and return their names."""
    global _fonts
    with _lock:
        if _fonts is not None:
            return _fonts
        check_fonts()
        names = {}
        for style, (name, _candidates, _package) in _STYLES.items():
            path, index = _candidate(style)
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except Exception as err:
                raise FontMissing(f"字体 {path} 无法使用（需要 TrueType 轮廓的字体）：{err}") from err
            names[style] = name
        _fonts = FontSet(**names)
        return _fonts
