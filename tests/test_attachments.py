"""Attachments are judged by their bytes, limited in size, and stored once under their SHA-256."""

import hashlib
import io
import zipfile

import pytest

from engine.errors import Refused
from handlers.documents.attachments import add_attachment, sniff
from handlers.documents.models import Document
from tests.outgoing_support import NOTICE, act, start, task_of

pytestmark = pytest.mark.usefixtures("deployed")


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize("content, media_type", [
    (b"%PDF-1.7\n...", "application/pdf"),
    (_zip(["OFD.xml", "Doc_0/Document.xml"]), "application/ofd"),
    (_zip(["[Content_Types].xml", "word/document.xml"]), "application/vnd.openxmlformats-officedocument."
                                                          "wordprocessingml.document"),
    (_zip(["[Content_Types].xml", "xl/workbook.xml"]), "application/vnd.openxmlformats-officedocument."
                                                       "spreadsheetml.sheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "application/vnd.ms-works"),
    ("各县区人民政府：请于月底前报送。".encode("gb18030"), "text/plain"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
])
def test_allowed_formats_are_recognised_by_content(content, media_type):
    assert sniff(content) == media_type


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00\x03" + b"\x00" * 60,          # a Windows program, whatever its name says
    _zip(["evil.exe"]),                        # a zip that is neither DOCX nor OFD
    b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
])
def test_other_files_are_refused(content):
    assert sniff(content) is None


def test_attachments_are_checked_stored_once_and_printed_in_the_attachment_note(gongwen, org):
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    pdf = b"%PDF-1.4\n%" + "排查表".encode() + b"\n%%EOF"
    with gongwen.db.write() as session:
        document = session.get(Document, doc.id)
        for name in ("安全生产排查表", "联系人名单"):
            add_attachment(session, gongwen.files, document, name=name, filename="list.pdf", content=pdf,
                           max_bytes=1024)
        with pytest.raises(Refused, match="不是允许的格式"):
            add_attachment(session, gongwen.files, document, name="程序", filename="报表.pdf",
                           content=b"MZ\x90\x00" * 10, max_bytes=1024)
        with pytest.raises(Refused, match="超过"):
            add_attachment(session, gongwen.files, document, name="大文件", filename="big.pdf",
                           content=b"%PDF-" + b"0" * 2048, max_bytes=1024)
    stored = list(gongwen.files.root.rglob("*"))
    assert [p.name for p in stored if p.is_file()] == [hashlib.sha256(pdf).hexdigest()]

    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    from handlers.documents.layout import layout

    with gongwen.db.session() as session:
        assert list(layout(session, session.get(Document, doc.id)).attachments) == ["安全生产排查表", "联系人名单"]


def test_the_configured_attachment_limit_governs_the_web_upload(gongwen, org, settings):
    """GONGWEN_ATTACHMENT_MAX_BYTES is the limit the page enforces: a file over it is refused in Chinese,
    a body far over it never reaches the page (413, the page says the configured size)."""
    import dataclasses

    from engine.core import Gongwen
    from tests.support import csrf_token, logged_in
    from web import create_app

    small = Gongwen(dataclasses.replace(settings, environ={"GONGWEN_ATTACHMENT_MAX_BYTES": "4096"}))
    app = create_app(small)
    drafter = logged_in(app, "lyg.drafter")
    doc = start(small, org.person("lyg.drafter"))
    draft_url = f"/tasks/{task_of(small, org.person('lyg.drafter'), '拟稿').id}"
    token = csrf_token(drafter, "/")
    big = (io.BytesIO(b"%PDF-1.4\n" + b"0" * 5000), "big.pdf")
    over = drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data",
                        data={"csrf_token": token, "attachment_file": big})
    assert "附件“big.pdf”有 4.9 KB，超过 4 KB 的上限" in over.get_data(as_text=True)
    huge = (io.BytesIO(b"0" * (2 * 1024 * 1024)), "huge.pdf")
    huge = drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data",
                        data={"csrf_token": token, "attachment_file": huge})
    assert huge.status_code == 413 and "允许的大小（4 KB）" in huge.get_data(as_text=True)
    with small.db.session() as db:
        assert db.get(Document, doc.id).attachments == []
    small.close()
