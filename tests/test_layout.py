"""GB/T 9704-2012 page layout measured on the rendered PDF: where the seal, the 主送, the 版记,
line breaks and bound attachments end up, as poppler reads the pages."""

from __future__ import annotations

import io
import itertools
import zipfile

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from handlers.documents.attachments import add_attachment
from handlers.documents.layout import layout
from handlers.documents.models import Document
from handlers.documents.typesetting import RENDERERS
from handlers.documents.typesetting.redhead import render
from tests.outgoing_support import NOTICE, act, start
from tests.test_redhead import BOTTOM, LEFT, LINE, TOP, document, overlaps, poppler, text, word, words

ORGANS = ["连云港市人民政府", "连云港市财政局", "连云港市教育局"]
RECIPIENTS = "，".join(f"{name}人民政府" for name in (
    "海州区", "连云区", "赣榆区", "东海县", "灌云县", "灌南县", "徐圩新区", "开发区", "高新区", "云台山景区",
    "市发展改革委", "市教育局", "市科技局", "市工业和信息化局", "市公安局", "市民政局", "市司法局", "市财政局",
    "市人力资源社会保障局", "市自然资源和规划局", "市生态环境局", "市住房城乡建设局", "市交通运输局", "市水利局",
    "市农业农村局", "市商务局", "市文化广电和旅游局", "市卫生健康委", "市应急管理局", "市审计局", "市市场监管局"))


def page_numbers(pdf: bytes) -> list[str]:
    """The "— N —" under each page's 版心, "" where a page has none."""
    found = []
    for page in words(pdf):
        marks = [w for w in page if w[3] < BOTTOM and w[4] not in "—"]
        found.append(marks[0][4] if marks else "")
    return found


def page_texts(pdf: bytes) -> list[str]:
    return [text(pdf, "-f", str(n), "-l", str(n)) for n in range(1, len(words(pdf)) + 1)]


@pytest.mark.parametrize(("body", "organs"), [
    ("为做好今年防汛抗旱工作，现将任务分解表印发给你们，请认真贯彻执行。", ["连云港市人民政府办公室"]),
    ("为做好今年防汛抗旱工作，现将任务分解表印发给你们。", ["连云港市人民政府", "连云港市财政局", "连云港市水利局"]),
])
def test_short_body_with_attachments_keeps_seal_and_date_on_page_one(body, organs):
    result = render(document(body=[body], issuer_marks=[f"{o}文件" for o in organs], signing_organs=organs,
                             attachments=["防汛抗旱工作要点", "任务分解表"]))
    assert [seal.page for seal in result.seal_boxes] == [0] * len(organs)
    page = words(result.pdf)[0]
    assert any(w[4] == "2.任务分解表" for w in page)
    date = word(page, "2026年7月18日")
    assert overlaps(result.seal_boxes[-1].box, date)
    for seal, organ in zip(result.seal_boxes, organs, strict=True):
        signed = min((w for w in page if w[4] == organ), key=lambda w: w[1])   # the 署名, not the mark
        assert overlaps(seal.box, signed)
        assert seal.box[1] >= BOTTOM - 0.01                  # the seal stays inside the 版心
        above = word(page, "2.任务分解表")
        assert 0 <= above[1] - seal.box[3] <= LINE           # seal top within a line of the 附件说明 (7.3.5.1)
        assert [w for w in page if overlaps(seal.box, w) and w[4] not in ("2026年7月18日", *organs)] == []
    # Lines closed up by at most 15 % to make room (7.3.5), not squeezed together.
    lines = sorted({round(w[1], 1) for w in page if w[1] > result.seal_boxes[0].box[3]}, reverse=True)
    assert min(a - b for a, b in itertools.pairwise(lines)) >= 0.85 * LINE - 0.5


@pytest.mark.parametrize("attachments", [["甲表"], ["甲表", "乙表", "丙表"]])
def test_no_page_carries_the_seal_without_body_text(attachments):
    for count in range(6, 30):
        result = render(document(body=[f"第{n}段正文。" for n in range(count)], attachments=attachments))
        seal = result.seal_boxes[0]
        assert any("段正文" in w[4] for w in words(result.pdf)[seal.page]), count


def test_long_main_to_of_a_joint_document_moves_into_the_colophon():
    result = render(document(issuer_marks=[f"{o}文件" for o in ORGANS], signing_organs=ORGANS, main_to=RECIPIENTS))
    pages = page_texts(result.pdf)
    assert "现就有关事项通知如下" in pages[0]                  # page 1 shows 正文
    assert "海州区人民政府" not in pages[0]
    colophon = pages[-1].replace(" ", "")
    assert "主送：海州区人民政府" in colophon
    assert colophon.index("主送：") < colophon.index("抄送：") < colophon.index("印发")
    short = page_texts(render(document(issuer_marks=[f"{o}文件" for o in ORGANS], signing_organs=ORGANS)).pdf)
    assert "各县、区人民政府，市各委、办、局：" in short[0] and "主送：" not in "".join(short)


@pytest.mark.parametrize("paragraphs", [1, 14, 30, 46])
def test_colophon_is_on_the_last_even_page_with_blank_pages_unnumbered(paragraphs):
    body = [f"第{n}段正文，内容较长以便占满一行还多一些文字。" for n in range(paragraphs)]
    result = render(document(body=body))
    pages, numbers = page_texts(result.pdf), page_numbers(result.pdf)
    assert len(pages) == result.pages and result.pages % 2 == 0
    assert "印发" in pages[-1] and not any("印发" in p for p in pages[:-1])
    body_pages = [k for k, p in enumerate(pages) if "段正文" in p]
    for k in body_pages:
        assert numbers[k] == str(k + 1)
    blank = [k for k, p in enumerate(pages) if not p.strip()]
    assert blank in ([], [result.pages - 2])
    if blank:   # a blank page before the 版记 page: neither carries a number (7.5)
        assert numbers[-2:] == ["", ""]


def test_colophon_page_counts_for_one_three_and_five_pages_of_text():
    seen = {}
    for count in range(0, 110, 4):
        result = render(document(body=[f"第{n}段正文，内容较长以便占满一行还多一些文字。" for n in range(count)]))
        text_pages = 1 + max(box.page for box in result.seal_boxes)
        seen.setdefault(text_pages, result.pages)
    assert {k: seen[k] for k in (1, 3, 5)} == {1: 2, 3: 4, 5: 6}


@pytest.mark.parametrize(("title", "terms"), [
    ("关于做好全市2026年度防汛抗旱和城市内涝防治工作的通知",
     ("做好", "全市", "2026", "年度", "防汛", "抗旱", "城市", "内涝")),
    ("连云港市人民政府办公室关于做好防汛抗旱工作的通知", ("办公室", "关于", "做好", "防汛", "抗旱", "工作")),
    ("连云港市人民政府办公室关于进一步加强城镇燃气安全管理的通知", ("办公室", "关于进一步", "城镇", "燃气", "安全")),
])
def test_title_lines_break_between_words_not_inside_them(title, terms):
    page = text(render(document(title=title)).pdf, "-f", "1", "-l", "1")
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    first = next(k for k, line in enumerate(lines) if title.startswith(line))
    assert "".join(lines[first:first + 2]) == title
    joint = len(lines[first])
    for term in terms:
        start = title.index(term)
        assert not start < joint < start + len(term), (term, lines[first:first + 2])


def test_numbers_are_not_split_across_lines():
    # 25 characters after the indent leave "3,487" straddling the line end, "12.5%" the next one
    body = ["字" * 24 + "共3,487项，" + "字" * 22 + "完成率12.5%。"]
    lines = [line.strip() for line in text(render(document(body=body)).pdf).splitlines() if line.strip()]
    assert any("3,487项" in line for line in lines), lines
    assert any("12.5%" in line for line in lines)


def attachment_pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    for n in range(pages):
        c.setFont("Helvetica", 24)
        c.drawString(72, A4[1] - 72, f"Annex page {n + 1}")
        c.showPage()
    c.save()
    return buffer.getvalue()


def test_pdf_attachments_are_bound_after_the_body_with_their_mark_and_page_numbers():
    result = render(document(attachments=["任务分解表", "联系人名单"], attachment_files=[attachment_pdf(2), None]))
    pages, numbers = page_texts(result.pdf), page_numbers(result.pdf)
    assert result.pages == len(pages) == 4
    assert [box.page for box in result.seal_boxes] == [0]        # the seal stays with the date
    assert "Annex page 1" in pages[1] and "Annex page 2" in pages[2]
    mark = word(words(result.pdf)[1], "附件1")
    assert mark[0] == pytest.approx(LEFT, abs=1) and TOP - LINE <= mark[1] < mark[3] <= TOP
    assert not any(w[4].startswith("附件") for w in words(result.pdf)[2])
    assert numbers[:3] == ["1", "2", "3"]                      # numbering continues through the attachment
    assert "印发" in pages[3] and not any("印发" in p for p in pages[:3])
    # the attachment's page is scaled into the 版心 below the mark's line
    annex = word(words(result.pdf)[1], "Annex")
    assert annex[0] >= LEFT and annex[3] <= TOP - LINE + 0.5


def black_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 0).save(buffer, "PNG", dpi=(150, 150))
    return buffer.getvalue()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.usefixtures("deployed")
def test_typesetting_binds_pdf_image_and_text_attachments_and_leaves_word_files_separate(gongwen, org):
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    with gongwen.db.write() as session:
        document = session.get(Document, doc.id)
        for name, filename, content in (("任务分解表", "tasks.pdf", attachment_pdf(1)),
                                        ("现场照片", "scan.png", black_png(600, 300)),
                                        ("联系人名单", "names.txt", "一、海州区：张三\n二、连云区：李四".encode()),
                                        ("统计表", "table.docx", docx())):
            add_attachment(session, gongwen.files, document, name=name, filename=filename, content=content,
                           max_bytes=1 << 20)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    with gongwen.db.session() as session:
        pdf = RENDERERS["pdf"].render(layout(session, session.get(Document, doc.id), files=gongwen.files)).pdf
    pages = page_texts(pdf)
    annex = next(k for k, page in enumerate(pages) if "Annex page 1" in page)
    assert "附件1" in pages[annex] and "2026年" in pages[annex - 1]   # right after the signed body
    assert "附件2" in pages[annex + 1]
    # the text is typeset as the body is: "附件3", its name as title on the third line, its lines
    words3 = words(pdf)[annex + 2]
    assert word(words3, "附件3")[3] <= TOP and word(words3, "联系人名单")[3] <= TOP - 2 * LINE + 0.5
    assert "一、海州区：张三" in pages[annex + 2] and "二、连云区：李四" in pages[annex + 2]
    assert "附件4" not in "".join(pages)                                   # a Word file stays separate
    # the scan, 600 × 300 px at 150 dpi, is drawn at its size (101.6 × 50.8 mm) under the 附件2 line
    png = poppler(pdf, "pdftoppm", "-r", "50", "-png", "-f", str(annex + 2), "-l", str(annex + 2), "-")
    image = Image.open(io.BytesIO(png)).convert("L")
    dark = [[image.getpixel((x, y)) < 60 for x in range(image.width)] for y in range(image.height)]
    rows = [y for y, row in enumerate(dark) if sum(row) > 50]             # text lines are never this dark
    columns = [x for x in range(image.width) if sum(dark[y][x] for y in rows) > 20]
    mm = 25.4 / 50
    assert (columns[-1] + 1 - columns[0]) * mm == pytest.approx(101.6, abs=1.5)
    assert (rows[-1] + 1 - rows[0]) * mm == pytest.approx(50.8, abs=1.5)
    assert rows[0] * mm >= 37 + 225 / 22 - 1                              # below the 版心's first line
