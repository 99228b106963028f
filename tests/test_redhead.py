"""The GB/T 9704-2012 red-header PDF, checked the way a reader sees it: poppler's text, fonts and pixels."""

from __future__ import annotations

import datetime
import io
import itertools
import re
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from handlers.documents.typesetting.redhead import RedHeadDocument, RenderedPdf, render
from tests.support import program

MM = 72 / 25.4
PAGE_HEIGHT = 297 * MM
LEFT, RIGHT = 28 * MM, 184 * MM              # 版心 left and right edges
TOP, BOTTOM = PAGE_HEIGHT - 37 * MM, 35 * MM  # 版心 top and bottom, PDF coordinates
LINE = 225 * MM / 22
CHAR = 156 * MM / 28
DPI = 100
NOSTART = "，。、；：？！）》」』”’〕】"
NOEND = "（《「『“‘〔【"

BODY = ["为进一步加强全市政务服务工作，提升行政效能，经市政府同意，现就有关事项通知如下。"]
MORE = ["一、总体要求。坚持以人民为中心，全面推进“一网通办”，做到企业和群众办事“最多跑一次”。"]


def document(**changes) -> RedHeadDocument:
    fields = dict(
        issuer_marks=["连云港市人民政府办公室文件"], doc_number="连政办发〔2026〕107号",
        title="关于进一步加强政务服务工作的通知", main_to="各县、区人民政府，市各委、办、局", body=BODY,
        signing_organs=["连云港市人民政府办公室"], date=datetime.date(2026, 7, 18),
        cc="市委各部门，市人大常委会办公室", printed_by="连云港市人民政府办公室",
        printed_on=datetime.date(2026, 7, 18),
    )
    fields.update(changes)
    return RedHeadDocument(**fields)


def poppler(pdf: bytes, *command: str) -> bytes:
    """Run a poppler tool on ``pdf`` given as standard input ("-" in ``command``)."""
    return subprocess.run([program(command[0]), *command[1:]], input=pdf, capture_output=True, check=True).stdout


def text(pdf: bytes, *args: str) -> str:
    return poppler(pdf, "pdftotext", "-layout", *args, "-", "-").decode()


def words(pdf: bytes) -> list[list[tuple[float, float, float, float, str]]]:
    """Words per page as (x1, y1, x2, y2, text) in PDF points, origin bottom-left like the seal boxes."""
    pages = poppler(pdf, "pdftotext", "-bbox", "-", "-").decode().split("<page ")[1:]
    pattern = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    return [[(float(x1), PAGE_HEIGHT - float(y2), float(x2), PAGE_HEIGHT - float(y1), word)
             for x1, y1, x2, y2, word in pattern.findall(page)] for page in pages]


def word(page: list[tuple[float, float, float, float, str]], content: str) -> tuple[float, float, float, float]:
    """The topmost word that is ``content``: the signature's rather than the 版记's."""
    return max((w for w in page if w[4] == content), key=lambda w: w[3])[:4]


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def plain() -> RenderedPdf:
    return render(document())


def test_text_extracts_as_chinese_with_every_element(plain):
    extracted = text(plain.pdf)
    for expected in ("连云港市人民政府办公室文件", "连政办发〔2026〕107号", "关于进一步加强政务服务工作的通知",
                     "各县、区人民政府，市各委、办、局：", "现就有关事项通知如下。",
                     "2026年7月18日", "抄送：市委各部门，市人大常委会办公室。", "2026年7月18日印发", "— 1 —"):
        assert expected in extracted
    assert plain.pages == 2   # the 版记 goes on the back of the sheet, an even page


def test_every_font_is_embedded_and_there_is_no_helvetica(plain):
    rows = poppler(plain.pdf, "pdffonts", "-").decode().splitlines()[2:]
    assert rows
    assert all(row.split()[-5] == "yes" for row in rows), rows
    assert not any("Helvetica" in row for row in rows)


def test_metadata_names_the_document_and_the_issuer(plain):
    info = PdfReader(io.BytesIO(plain.pdf)).metadata
    assert info.title == "关于进一步加强政务服务工作的通知"
    assert (info.author, info.creator) == ("连云港市人民政府办公室", "Gongwen")


def test_same_document_renders_to_the_same_bytes(plain):
    assert render(document()).pdf == plain.pdf


def red_rows(pdf: bytes) -> list[bytes]:
    """Page 1 at 100 dpi as rows of a mask: 0xff where the pixel is the header red."""
    png = poppler(pdf, "pdftoppm", "-r", str(DPI), "-png", "-f", "1", "-l", "1", "-aaVector", "no", "-")
    image = Image.open(io.BytesIO(png))
    red, green, blue = image.convert("RGB").split()
    mask = Image.merge("RGB", (red.point(lambda v: 255 * (v > 180)), green.point(lambda v: 255 * (v < 90)),
                               blue.point(lambda v: 255 * (v < 90)))).convert("L").point(lambda v: 255 * (v > 250))
    data, width = mask.tobytes(), mask.width
    return [data[y * width:(y + 1) * width] for y in range(mask.height)]


def test_red_rule_sits_where_gb9704_puts_it(plain):
    mm_per_px = 25.4 / DPI
    rows = red_rows(plain.pdf)
    runs = [(y, m.start(), m.end()) for y, row in enumerate(rows) for m in re.finditer(rb"\xff+", row)
            if (m.end() - m.start()) * mm_per_px >= 150]
    assert runs, "no red rule 150 mm long"
    rule_y = sum(y for y, _, _ in runs) / len(runs) * mm_per_px
    left = min(start for _, start, _ in runs) * mm_per_px
    length = max(end for _, _, end in runs) * mm_per_px - left
    assert left == pytest.approx(28, abs=1)
    assert length == pytest.approx(156, abs=1)

    mark = [y for y, row in enumerate(rows) if b"\xff" in row and y * mm_per_px < rule_y - 1]
    mark_top, mark_bottom = mark[0] * mm_per_px, (mark[-1] + 1) * mm_per_px
    # The mark's em box starts 35 mm below the 版心 top; its ink lies inside that box, up to ~2 mm lower
    # (Song Bold's ideographs leave 0.13 em above them).
    assert 37 + 35 - 0.5 <= mark_top <= 37 + 35 + 2.5
    # Two empty lines, then the number's line, then 4 mm: the standard fixes the empty lines but not where
    # the 16 pt number sits in its own line, so the rule may be anywhere between the number touching the
    # top and the bottom of that line; 1.5 mm more for the mark's ink sitting above its em-box bottom.
    line, number = 225 / 22, 16 * 25.4 / 72
    assert mark_bottom + 2 * line + number + 4 - 0.5 <= rule_y <= mark_bottom + 3 * line + 4 + 1.5


def test_long_body_flows_on_with_even_page_numbers_on_the_left():
    result = render(document(body=(BODY + MORE) * 6))
    assert result.pages >= 2
    pages = words(result.pdf)
    assert "— 2 —" in text(result.pdf, "-f", "2", "-l", "2")
    first_dash = next(w for w in pages[1] if w[4] == "—")
    assert first_dash[0] == pytest.approx(LEFT + CHAR, abs=1)
    last_dash = [w for w in pages[0] if w[4] == "—"][-1]
    assert last_dash[2] == pytest.approx(RIGHT - CHAR, abs=1)
    # 4号 em boxes below the 版心 around the dash, whose stroke the standard puts 7 mm under the 版心
    assert all(w[1] < BOTTOM - 7 * MM < w[3] < BOTTOM for w in (first_dash, last_dash))


def test_upward_document_prints_signers_right_and_the_number_left():
    result = render(document(signers=["张三", "李四"]))
    extracted = text(result.pdf)
    assert "签发人：" in extracted and "张三" in extracted and "李四" in extracted
    page = words(result.pdf)[0]
    number = word(page, "连政办发〔2026〕107号")
    signers = word(page, "李四")
    assert number[0] == pytest.approx(LEFT + CHAR, abs=1)
    assert signers[2] == pytest.approx(RIGHT - CHAR, abs=1)
    assert signers[1] == pytest.approx(number[1], abs=1)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_joint_document_gets_one_seal_per_organ_apart_and_inside_the_text_block(count):
    organs = ["连云港市人民政府", "连云港市财政局", "连云港市教育局", "连云港市民政局"][:count]
    result = render(document(issuer_marks=[f"{o}文件" for o in organs], signing_organs=organs))
    assert len(result.seal_boxes) == count
    for seal in result.seal_boxes:
        x1, y1, x2, y2 = seal.box
        assert x1 >= LEFT - 0.01 and x2 <= RIGHT + 0.01 and y1 >= BOTTOM and y2 <= TOP
        assert x2 - x1 == pytest.approx(42 * MM)
    for a, b in itertools.combinations(result.seal_boxes, 2):
        assert a.page != b.page or not overlaps(a.box, b.box)
    extracted = text(result.pdf)
    assert all(organ in extracted for organ in organs)


def test_seal_of_one_organ_presses_on_organ_and_date_below_the_text():
    result = render(document(body=BODY + MORE, attachments=["政务服务事项清单"]))
    (seal,) = result.seal_boxes
    assert (seal.page, result.pages) == (0, 2)
    page = words(result.pdf)[seal.page]
    date, organ = word(page, "2026年7月18日"), word(page, "连云港市人民政府办公室")
    assert overlaps(seal.box, date) and overlaps(seal.box, organ)
    centre = (seal.box[1] + seal.box[3]) / 2
    assert (date[1] + date[3]) / 2 < centre and (organ[1] + organ[3]) / 2 < centre
    above = word(page, "附件：政务服务事项清单")
    assert 0 <= above[1] - seal.box[3] <= LINE
    assert date[2] == pytest.approx(RIGHT - 4 * CHAR, abs=1)


def test_signature_never_stands_alone_on_a_page():
    carried = False
    for count in range(8, 32):
        result = render(document(body=[f"第{n}段正文。" for n in range(count)], attachments=[]))
        pages = words(result.pdf)
        seal_page = result.seal_boxes[0].page
        assert any("段正文" in w[4] for w in pages[seal_page]), count
        if seal_page:
            lowest = min(w[1] for w in pages[seal_page - 1] if "段正文" in w[4])
            carried |= lowest - BOTTOM > LINE
    assert carried, "no length moved a body line along with the signature"


def test_lines_break_by_chinese_rules():
    # the first line of a paragraph holds 26 characters after its 2-character indent
    body = ["字" * 26 + "。后文", "字" * 25 + "。”。后文", "字" * 25 + "（括号）后文", "字" * 24 + "共12345678份"]
    lines = [line.strip() for line in text(render(document(body=body)).pdf).splitlines() if line.strip()]
    assert not [line for line in lines if line[0] in NOSTART or line[-1] in NOEND]
    assert "字" * 26 + "。" in lines          # one closing mark hangs in the margin ...
    assert "字。”。后文" in lines             # ... three pull a character down with them
    assert "（括号）后文" in lines
    assert "12345678份" in lines               # numbers are not split


def test_unsealed_document_leaves_no_seal_room_and_shifts_the_date():
    result = render(document(sealed=False))
    assert result.seal_boxes == []
    page = words(result.pdf)[0]
    organ, date = word(page, "连云港市人民政府办公室"), word(page, "2026年7月18日")
    assert organ[2] <= RIGHT - 2 * CHAR + 1
    assert date[0] - organ[0] == pytest.approx(2 * CHAR, abs=1) or date[2] == pytest.approx(RIGHT - 2 * CHAR, abs=1)


def test_unknown_urgency_is_refused():
    with pytest.raises(ValueError):
        render(document(urgency="急件"))
