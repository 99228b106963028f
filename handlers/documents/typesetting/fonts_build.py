"""Install the free Fandol faces as TrueType, once, for the red-header PDF.

Fandol (仿宋, 宋, 楷, 黑; full GB2312 coverage) ships in Debian's ``texlive-lang-chinese``, which
pulls all of TeX Live when installed. So the package is only downloaded and unpacked in a
temporary folder, and the five faces Gongwen uses are converted from CFF to glyf outlines
(reportlab embeds TrueType only) into :data:`~.fonts.FONT_DIR`. A face already there is kept:
running it again costs nothing. ``make`` runs it::

    python -m handlers.documents.typesetting.fonts_build [folder]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

from .fonts import FANDOL, FONT_DIR

PACKAGE = "texlive-lang-chinese"
_IN_PACKAGE = "usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
_MAX_ERROR = 1.0  # font units (of 1000 per em): where cubic curves become quadratic ones, invisible at 42 pt


def to_truetype(source: Path, target: Path) -> None:
    """Write the CFF-outlined OpenType font ``source`` as a glyf-outlined TrueType font ``target``."""
    font = TTFont(source, recalcTimestamp=False)  # the same fonts, so the same PDFs, on every machine
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, _MAX_ERROR, reverse_direction=True))  # TrueType winds the other way
        glyf.glyphs[name] = pen.glyph()
    for table in ("CFF ", "VORG"):  # VORG belongs to CFF outlines only
        if table in font:
            del font[table]
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 3.0, [], {}  # no glyph names: CID fonts have none worth keeping
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\0\1\0\0"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    font.save(partial)
    partial.replace(target)  # never a half-written font where fonts.py looks


def _unpack(work: Path) -> Path:
    """Download the Debian package into ``work`` and unpack it there; the folder of the Fandol faces."""
    download = ["apt-get", "download", PACKAGE]
    if subprocess.run(download, cwd=work, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # a fresh machine has no package lists yet
        subprocess.run(download, cwd=work, check=True, capture_output=True)
    (deb,) = work.glob(f"{PACKAGE}_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "root")], check=True)
    return work / "root" / _IN_PACKAGE


def build(folder: Path = FONT_DIR) -> list[Path]:
    """Make sure every Fandol face Gongwen uses is in ``folder`` as TrueType; the files written."""
    missing = [name for name in FANDOL.values() if not (folder / name).is_file()]
    if not missing:
        return []
    written = []
    with tempfile.TemporaryDirectory() as work:
        source = _unpack(Path(work))
        for name in missing:
            to_truetype(source / name.replace(".ttf", ".otf"), folder / name)
            written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else FONT_DIR):
        print(f"converted {path}")
