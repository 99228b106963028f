"""Reading a document in the browser: its attachments for everyone who may see it, the 处理退文 page that
says who returned it and why, and the document page reached from 已办 with its text and 档号."""

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from engine.errors import Refused
from engine.models import AuditEvent
from handlers.documents.attachments import add_attachment, remove_attachment, replace_attachment
from handlers.documents.models import Document
from tests.outgoing_support import NOTICE, act, document, send, start, task_of
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")
TABLE = "各县区排查情况汇总".encode()


def _docx(text: str) -> bytes:
    """The same bytes for the same text: the members carry a fixed time, not the clock's (two calls a
    second apart would differ)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in (("[Content_Types].xml", "<Types/>"), ("word/document.xml",
                                                                      f"<w:document>{text}</w:document>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 23, 9, 0, 0)), content)
    return buffer.getvalue()


def _attached(gongwen, org, *files: tuple[str, str, bytes]) -> Document:
    """A notice with ``files`` (name, file name, bytes) attached while drafting, sent to 东海 alone."""
    doc = start(gongwen, org.person("lyg.drafter"))
    with gongwen.db.write() as session:
        for name, filename, content in files:
            add_attachment(session, gongwen.files, session.get(Document, doc.id), name=name, filename=filename,
                           content=content, max_bytes=1 << 20)
    return send(gongwen, org, document_id=doc.id)


def test_the_drafter_removes_and_replaces_attachments_while_drafting_but_not_after_sign_off(gongwen, sealed):
    org = sealed
    doc = start(gongwen, org.person("lyg.drafter"))
    with gongwen.db.write() as session:
        draft = session.get(Document, doc.id)
        first, second, third = (add_attachment(session, gongwen.files, draft, name=name, max_bytes=1024,
                                               filename=f"{name}.txt", content=name.encode())
                                for name in ("甲表", "乙表", "丙表"))
        remove_attachment(session, draft, first.id)
        replace_attachment(session, gongwen.files, draft, third.id, filename="丙表（修订）.docx",
                           content=_docx("修订"), max_bytes=1024)
        with pytest.raises(Refused, match="不是允许的格式"):
            replace_attachment(session, gongwen.files, draft, second.id, filename="x.exe", content=b"MZ\x90\x00" * 9,
                               max_bytes=1024)
    kept = document(gongwen, doc.id).attachments
    assert [(a.position, a.name, a.filename) for a in kept] == [(1, "乙表", "乙表.txt"),
                                                                (2, "丙表", "丙表（修订）.docx")]

    sent = send(gongwen, org, document_id=doc.id)
    with gongwen.db.write() as session, pytest.raises(Refused, match="公文已签发，不能再更改附件"):
        remove_attachment(session, session.get(Document, sent.id), kept[0].id)
    assert len(document(gongwen, sent.id).attachments) == 2


def test_reviewer_signer_and_recipient_open_attachments_others_and_administrators_cannot(app, gongwen, sealed):
    org = sealed
    sent = _attached(gongwen, org, ("排查情况汇总表", "汇总表.docx", _docx("汇总")), ("联系人", "联系人.txt", TABLE))
    table, contacts = sent.attachments
    table_url = f"/documents/{sent.id}/attachments/{table.id}"
    for login in ("lyg.head", "lyg.signer", "dh.clerk"):  # the reviewer, the signing leader, the recipient
        answer = logged_in(app, login).get(table_url)
        assert answer.status_code == 200 and answer.data == _docx("汇总"), login
        assert answer.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    text = logged_in(app, "dh.clerk").get(f"/documents/{sent.id}/attachments/{contacts.id}")
    assert text.data == TABLE and text.mimetype == "text/plain"
    for login in ("gy.clerk", "cz.clerk", "sysadmin", "secadmin", "auditor"):
        assert logged_in(app, login).get(table_url).status_code == 404, login
    assert logged_in(app, "dh.clerk").get(f"/documents/{sent.id}/attachments/{table.id + 99}").status_code == 404
    with gongwen.db.session() as session:
        refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all()
    assert len(refusals) >= 6

    # The recipient's 签收 page and its document page list them, each opening as above.
    clerk = logged_in(app, "dh.clerk")
    task = task_of(gongwen, org.person("dh.clerk"), "签收")
    for page in (clerk.get(f"/tasks/{task.id}"), clerk.get(f"/documents/{sent.id}")):
        html = page.get_data(as_text=True)
        assert f'href="{table_url}"' in html and "附件1：排查情况汇总表" in html and "附件2：联系人" in html


def test_an_attachment_change_after_the_draft_step_is_refused_audited_and_changes_nothing(app, gongwen, sealed):
    org = sealed
    doc = start(gongwen, org.person("lyg.drafter"))
    drafter = logged_in(app, "lyg.drafter")
    draft_url = f"/tasks/{task_of(gongwen, org.person('lyg.drafter'), '拟稿').id}"
    token = csrf_token(drafter, draft_url)
    drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data",
                 data={"csrf_token": token, "attachment_file": (io.BytesIO(b"plan"), "plan.txt")})
    (attachment,) = document(gongwen, doc.id).attachments
    # Another unit's drafter does not reach the task; once 拟稿 is submitted, the drafter does not either.
    outsider = logged_in(app, "cz.drafter")
    assert outsider.post(f"{draft_url}/attachments/{attachment.id}/remove",
                         data={"csrf_token": csrf_token(outsider, "/")}).status_code == 404
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    assert drafter.post(f"{draft_url}/attachments/{attachment.id}/remove",
                        data={"csrf_token": token}).status_code == 404
    missing = drafter.post(f"{draft_url}/attachments", content_type="multipart/form-data", data={"csrf_token": token})
    assert missing.status_code == 404
    assert [a.filename for a in document(gongwen, doc.id).attachments] == ["plan.txt"]


def test_handling_a_return_says_who_returned_it_and_why_and_resends_without_retyping(app, gongwen, sealed):
    org = sealed
    sent = send(gongwen, org, main_to=("donghai_office", "guanyun_office"))
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "return", "opinion": "主送单位名称有误"})
    drafter = logged_in(app, "lyg.drafter")
    url = f"/tasks/{task_of(gongwen, org.person('lyg.drafter'), '处理退文').id}"
    page = drafter.get(url).get_data(as_text=True)
    clerk = org.person("gy.clerk").name
    assert re.search(rf"<strong>灌云县人民政府办公室</strong>（{clerk}）于 [-\d]+ [:\d]+ 退回了第 1 版", page)
    assert "退回理由：<strong>主送单位名称有误</strong>" in page
    assert f">{NOTICE['title']}</textarea>" in page
    assert "一、压实安全责任\n请各地于12月底前完成排查。</textarea>" in page

    fields = {"csrf_token": csrf_token(drafter, url), "decision": "redispatch", "opinion": "已核对主送单位",
              "title": NOTICE["title"], "body": NOTICE["body"]}  # as the page filled them in
    assert drafter.post(url, data=fields).status_code == 302
    act(gongwen, org.person("lyg.sealer"), "更正稿用印", {"confirm": True})
    assert task_of(gongwen, org.person("gy.clerk"), "签收")
    assert document(gongwen, sent.id).version == 2 and document(gongwen, sent.id).title == NOTICE["title"]


def test_done_rows_open_the_document_with_its_text_attachments_and_archive_code(app, gongwen, sealed):
    org = sealed
    sent = _attached(gongwen, org, ("排查情况汇总表", "汇总表.docx", _docx("汇总")))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "呈领导"})
    act(gongwen, org.person("dh.handler"), "承办人决定下一步", {"next": "handle"})
    act(gongwen, org.person("dh.handler"), "办理", {"result": "已排查"})
    act(gongwen, org.person("dh.handler"), "归档", {"retention": "D10"})

    handler = logged_in(app, "dh.handler")
    done = handler.get("/?view=done").get_data(as_text=True)
    link = re.search(r'<a href="(/instances/\d+)">' + re.escape(sent.title), done).group(1)
    opened = handler.get(link, follow_redirects=True).get_data(as_text=True)
    assert f"<h1>{sent.title}</h1>" in opened
    assert "<p>请各地于12月底前完成排查。</p>" in opened and "附件1：排查情况汇总表" in opened
    assert re.search(r"档号：<strong>Z\w+-WS·2026-D10-ZHG-0001</strong>", opened)
    sender = logged_in(app, "lyg.drafter").get(f"/documents/{sent.id}").get_data(as_text=True)
    assert "<p>请各地于12月底前完成排查。</p>" in sender and "档号" not in sender  # 东海's archive, not the city's
    for login in ("sysadmin", "auditor", "gy.clerk"):
        assert logged_in(app, login).get(f"/documents/{sent.id}").status_code == 404
