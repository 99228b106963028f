"""The text of a document from outside: OCR of its scan, or the words of its editable file. A pure library.

A scan (PDF, or PNG/JPEG/TIFF images) is made searchable with OCRmyPDF and Tesseract's simplified-Chinese
data: the result is a PDF with the pages' pictures unchanged and an invisible text layer, plus the text.
An editable file's words are read with python-docx (.docx) or LibreOffice headless (.doc, .wps: WPS
writes the Word binary format; plain text is decoded as UTF-8 or GB 18030). Every outside program runs
in a temporary directory with a time limit; a failure raises :class:`TextFailed` with the reason in Chinese.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..documents.attachments import sniff

SCAN_TYPES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}
EDITABLE_KINDS = {"docx": "DOCX", "doc": "DOC", "wps": "WPS", "txt": "TXT"}
# Tesseract's time per page is about 20 s on a slow machine: a 10-page scan stays well inside this.
OCR_TIMEOUT_S = 900
CONVERT_TIMEOUT_S = 120
_DEFAULT_DPI = 300
# Tesseract separates Chinese characters with spaces now and then; between two of them a space means nothing.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]) +(?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])")


class TextFailed(Exception):
    """OCR or extraction did not give a text; the message says why, in Chinese."""


def scan_type(content: bytes) -> str | None:
    """The media type of a scan (PDF, PNG, JPEG, TIFF) by its bytes, else None."""
    media_type = sniff(content)
    return media_type if media_type in SCAN_TYPES else None


def editable_kind(content: bytes, filename: str) -> str | None:
    """``docx``, ``doc``, ``wps`` or ``txt`` when the bytes are that kind of file, else None.

    .doc and .wps are the same container (OLE2); the name's suffix tells which the sender called it.
    """
    media_type = sniff(content)
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        return "docx"
    if media_type == "application/vnd.ms-works":
        return suffix if suffix in ("doc", "wps") else "doc"
    if media_type == "text/plain" and content.strip():
        return "txt"
    return None


def tidy(text: str) -> str:
    """Text as people search it: no BOM, no spaces between Chinese characters, no runs of blank lines."""
    lines = [_CJK_GAP.sub("", line).rstrip() for line in text.replace("\ufeff", "").replace("\f", "\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def editable_text(content: bytes, kind: str) -> str:
    """The words of an editable file of ``kind`` (from :func:`editable_kind`)."""
    if kind == "txt":
        for encoding in ("utf-8", "gb18030"):
            try:
                return tidy(content.decode(encoding))
            except UnicodeDecodeError:
                continue
        raise TextFailed("文本文件的编码无法识别（应为 UTF-8 或 GB 18030）")
    if kind == "docx":
        return _docx_text(content)
    return _office_text(content, kind)


def _docx_text(content: bytes) -> str:
    from docx import Document as WordDocument
    try:
        document = WordDocument(io.BytesIO(content))
    except (KeyError, ValueError, zipfile.BadZipFile) as err:
        raise TextFailed(f"DOCX 文件无法读取：{type(err).__name__}") from None
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return tidy("\n".join([p.text for p in document.paragraphs] + cells))


def _office_text(content: bytes, kind: str) -> str:
    with tempfile.TemporaryDirectory(prefix="gongwen-office-") as work:
        source = Path(work) / f"source.{kind}"
        source.write_bytes(content)
        # A profile of its own: two conversions at once never share (and lock) one.
        _run(["soffice", f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to",
              "txt:Text (encoded):UTF8", "--outdir", f"{work}/out", str(source)],
             CONVERT_TIMEOUT_S, f"{kind.upper()} 文件转换")
        result = Path(work) / "out" / "source.txt"
        if not result.is_file():
            raise TextFailed(f"{kind.upper()} 文件无法读取（LibreOffice 未能转换）")
        return tidy(result.read_text(encoding="utf-8", errors="replace"))


def _run(command: list[str], timeout_s: int, what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise TextFailed(f"{what}失败：未安装 {command[0]}") from None
    except subprocess.TimeoutExpired:
        raise TextFailed(f"{what}超时（超过 {timeout_s} 秒）") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"退出码 {done.returncode}"]
        raise TextFailed(f"{what}失败：{detail[0][:200]}")


def as_pdf(content: bytes, media_type: str) -> bytes:
    """A scan as a PDF: images become its pages at their own resolution (300 dpi when they do not say)."""
    if media_type == "application/pdf":
        return content
    try:
        image = Image.open(io.BytesIO(content))
        dpi = image.info.get("dpi", (_DEFAULT_DPI,))[0] or _DEFAULT_DPI
        pages = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            pages.append(image.convert("RGB") if image.mode not in ("1", "L", "RGB") else image.copy())
    except (UnidentifiedImageError, OSError) as err:
        raise TextFailed(f"扫描图片无法读取：{err}") from None
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:])
    return out.getvalue()


def ocr(content: bytes, media_type: str) -> tuple[bytes, str]:
    """The scan made searchable (a PDF with a text layer) and the text recognised on its pages."""
    with tempfile.TemporaryDirectory(prefix="gongwen-ocr-") as work:
        source, result, sidecar = Path(work) / "scan.pdf", Path(work) / "searchable.pdf", Path(work) / "text.txt"
        source.write_bytes(as_pdf(content, media_type))
        # --skip-text: pages that already have text keep it; --optimize 0: the pictures stay as scanned.
        _run(["ocrmypdf", "-l", "chi_sim", "--skip-text", "--optimize", "0", "--output-type", "pdf",
              "--sidecar", str(sidecar), str(source), str(result)], OCR_TIMEOUT_S, "文字识别（OCR）")
        return result.read_bytes(), tidy(sidecar.read_text(encoding="utf-8", errors="replace"))
