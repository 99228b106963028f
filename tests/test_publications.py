"""Issue 14's series with their own layouts and paper alongside: a publication's issues (第N期, 总第M期) under
their 刊头, a 明电 typeset as a 明传电报, and a document with 份数 whose paper copies carry 份号 and go to the
recipients marked 纸质 on a dispatch list, checked the way a reader sees them (poppler's text)."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from engine import clock
from engine.errors import FormInvalid, Refused
from engine.models import AuditEvent, Unit
from handlers.documents.models import PaperCopy
from handlers.documents.numbering import TOTAL, add_series, allocate, unit_series
from handlers.documents.typesetting.copies import copy_mark, print_copies
from handlers.exchange.models import Receipt
from tests.outgoing_support import NOTICE, act, document, send, start, task_of
from tests.support import csrf_token, logged_in


def _text(pdf: bytes) -> str:
    """What pdftotext reads, without the spaces it puts between spread-out characters."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return out.replace(" ", "")


def _publication(gongwen, org, total_from: int = 215) -> int:
    with gongwen.db.write() as session:
        unit = session.get(Unit, org.unit("city_office").id)
        return add_series(session, unit, "连政通报", "连政通报", publication=True, total_from=total_from).id


def _issue(gongwen, org, series_id: int):
    return send(gongwen, org, series_id=series_id, doc_type="circular", title="全市防汛工作进展情况")


def _receipts(gongwen, document_id: int) -> set[int]:
    with gongwen.db.session() as session:
        return set(session.scalars(select(Receipt.unit_id).where(Receipt.document_id == document_id)))


def test_a_publication_numbers_its_issues_per_year_and_in_total_under_its_masthead(gongwen, sealed, deployed,
                                                                                    fixed_clock):
    org = sealed
    series_id = _publication(gongwen, org)
    first = _issue(gongwen, org, series_id)
    assert (first.doc_number, first.issue_total) == ("连政通报2026年第1期", 215)
    text = _text(gongwen.files.get(first.sealed_sha256))
    assert "连政通报" in text and "第1期（总第215期）" in text and "连云港市人民政府办公室编" in text
    assert "文件" not in text and "全市防汛工作进展情况" in text
    assert _receipts(gongwen, first.id) == {org.unit("donghai_office").id}   # sent like any document

    second = _issue(gongwen, org, series_id)
    assert (second.doc_number, second.issue_total) == ("连政通报2026年第2期", 216)
    assert "第2期（总第216期）" in _text(gongwen.files.get(second.sealed_sha256))

    fixed_clock.set(datetime(2027, 1, 6, 9, 0, tzinfo=clock.SHANGHAI))   # a new year: 期号 restarts, 总期号 not
    third = _issue(gongwen, org, series_id)
    assert (third.doc_number, third.issue_total) == ("连政通报2027年第1期", 217)
    assert "第1期（总第217期）" in _text(gongwen.files.get(third.sealed_sha256))


def test_a_telegram_is_typeset_as_a_telegram_form(gongwen, sealed, deployed):
    org = sealed
    with gongwen.db.session() as session:
        telegram = next(s.id for s in unit_series(session, org.unit("city_office").id) if s.telegram)
    sent = send(gongwen, org, series_id=telegram, urgency="extra_urgent", title="关于立即做好强降雨防范工作的紧急通知")
    text = _text(gongwen.files.get(sent.sealed_sha256))
    assert "明传电报" in text and "连政办发明电〔2026〕1号" in text
    assert "明电编号" in text and "特急·明电" in text and "发电单位" in text
    assert f"签批盘号{org.person('lyg.signer').name}" in text   # the leader who signed it off
    assert "文件" not in text


def test_a_red_header_document_stays_a_red_header_document(gongwen, sealed, deployed):
    text = _text(gongwen.files.get(send(gongwen, sealed).sealed_sha256))
    assert "连云港市人民政府办公室文件" in text and "明传电报" not in text and "期（总第" not in text


def _with_paper(gongwen, org):
    """A notice to 东海 (connected) and 灌云 (marked 纸质), printed in 3 copies."""
    guanyun = org.unit("guanyun_office").id
    return send(gongwen, org, main_to=("donghai_office", "guanyun_office"), print_run=3, paper_to=[guanyun])


def test_three_copies_get_their_numbers_and_the_paper_recipient_is_on_the_dispatch_list(gongwen, sealed,
                                                                                          deployed, app):
    org = sealed
    sent = _with_paper(gongwen, org)
    assert _receipts(gongwen, sent.id) == {org.unit("donghai_office").id}   # no envelope for the paper recipient
    assert "000001" not in _text(gongwen.files.get(sent.sealed_sha256))    # the sealed file stays one file

    clerk = logged_in(app, "lyg.clerk")
    page = clerk.get(f"/documents/{sent.id}").get_data(as_text=True)
    assert "打印纸质件（3 份" in page and "打印发文清单" in page
    answer = clerk.post(f"/documents/{sent.id}/print/copies",
                        data={"csrf_token": csrf_token(clerk, f"/documents/{sent.id}")})
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    printed = _text(answer.data)
    assert [printed.count(copy_mark(n)) for n in (1, 2, 3)] == [1, 1, 1]
    assert printed.count("连政办发〔2026〕1号") == 3 and "000004" not in printed

    listing = clerk.get(f"/documents/{sent.id}/print/dispatch-list").get_data(as_text=True)
    guanyun = org.unit("guanyun_office")
    assert f"<td>000001</td><td>{guanyun.name}</td>" in listing
    assert "<td>000002</td><td>（本机关留存）</td>" in listing and "签收人" in listing
    with gongwen.db.session() as session:
        copies = session.scalars(select(PaperCopy).where(PaperCopy.document_id == sent.id)
                                 .order_by(PaperCopy.copy_number)).all()
        printed_event = session.scalar(select(AuditEvent).where(AuditEvent.action == "document.print_copies"))
    assert [(c.copy_number, c.unit_id) for c in copies] == [(1, guanyun.id), (2, None), (3, None)]
    assert {c.printed_by_id for c in copies} == {org.person("lyg.clerk").id} and printed_event is not None


@pytest.mark.parametrize("login", ["dh.clerk", "lyg.drafter", "sysadmin", "secadmin", "auditor"])
def test_only_the_issuing_units_clerk_prints_copies_or_the_dispatch_list(gongwen, sealed, deployed, app, login):
    org = sealed
    sent = _with_paper(gongwen, org)
    client = logged_in(app, login)
    token = csrf_token(client, "/")
    if login == "lyg.drafter":   # the issuing unit's people read the document but are not offered its printing
        page = client.get(f"/documents/{sent.id}").get_data(as_text=True)
        assert "连政办发〔2026〕1号" in page and "打印纸质件" not in page and "打印发文清单" not in page
    assert client.post(f"/documents/{sent.id}/print/copies", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/documents/{sent.id}/print/dispatch-list").status_code == 404
    with gongwen.db.session() as session:
        assert session.scalars(select(PaperCopy.printed_at).where(PaperCopy.document_id == sent.id)).all() == [None] * 3


def test_anonymous_and_unsealed_or_paperless_documents_print_nothing(gongwen, sealed, deployed, app):
    org = sealed
    anonymous = app.test_client()
    assert anonymous.get("/documents/1/print/dispatch-list").status_code in (302, 401)
    plain = send(gongwen, org)
    clerk = logged_in(app, "lyg.clerk")
    token = csrf_token(clerk, f"/documents/{plain.id}")
    answer = clerk.post(f"/documents/{plain.id}/print/copies", data={"csrf_token": token}, follow_redirects=True)
    assert "本文没有印制纸质份数" in answer.get_data(as_text=True)
    with gongwen.db.session() as session:
        refusal = session.scalar(select(AuditEvent).where(AuditEvent.action == "document.print_copies_refused"))
    assert refusal is not None
    assert clerk.post("/documents/999999/print/copies", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"print_run": 1, "paper_to": ["donghai_office", "guanyun_office"]}, "份数（1）少于"),
    ({"print_run": 2, "paper_to": ["guannan_office"]}, "须是本文的主送或抄送机关"),
])
def test_paper_recipients_must_be_recipients_and_covered_by_the_print_run(gongwen, sealed, deployed, changes,
                                                                          refusal):
    org = sealed
    drafter = org.person("lyg.drafter")
    draft = start(gongwen, drafter)
    values = {**NOTICE, "main_to": [org.unit("donghai_office").id, org.unit("guanyun_office").id], **changes,
              "paper_to": [org.unit(u).id for u in changes["paper_to"]]}
    with pytest.raises(Refused, match=refusal):
        act(gongwen, drafter, "拟稿", values)
    assert document(gongwen, draft.id).print_run == 0


@pytest.mark.parametrize("print_run", [-1, 1000, 10**12, "三份", "3; DROP TABLE document"])
def test_a_print_run_out_of_range_or_not_a_number_is_refused_on_the_page(gongwen, sealed, deployed, app, print_run):
    org = sealed
    drafter = org.person("lyg.drafter")
    draft = start(gongwen, drafter)
    client = logged_in(app, "lyg.drafter")
    task = task_of(gongwen, drafter, "拟稿")
    answer = client.post(f"/tasks/{task.id}", data={
        **NOTICE, "main_to": [org.unit("donghai_office").id], "print_run": print_run,
        "csrf_token": csrf_token(client, f"/tasks/{task.id}")})
    assert answer.status_code == 422 and "份数" in answer.get_data(as_text=True)
    assert document(gongwen, draft.id).print_run == 0


def test_a_paper_recipient_not_offered_is_refused(gongwen, sealed, deployed, app):
    org = sealed
    drafter = org.person("lyg.drafter")
    draft = start(gongwen, drafter)
    client = logged_in(app, "lyg.drafter")
    task = task_of(gongwen, drafter, "拟稿")
    answer = client.post(f"/tasks/{task.id}", data={
        **NOTICE, "main_to": [org.unit("donghai_office").id], "print_run": 1, "paper_to": [999999],
        "csrf_token": csrf_token(client, f"/tasks/{task.id}")})
    assert answer.status_code == 422 and "不是可选的值" in answer.get_data(as_text=True)
    assert document(gongwen, draft.id).paper_to == []


def test_a_foreign_publication_and_a_wrong_series_are_refused(gongwen, sealed, deployed):
    org = sealed
    series_id = _publication(gongwen, org)
    drafter = org.person("dh.drafter")
    start(gongwen, drafter)
    with pytest.raises(FormInvalid, match="series_id：不是可选的值"):   # another unit's publication is not offered
        act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("city_office").id], "series_id": series_id})
    with gongwen.db.write() as session:
        unit = session.get(Unit, org.unit("city_office").id)
        with pytest.raises(Refused, match="既是明传电报又是内部刊物"):
            add_series(session, unit, "要情", "连要情", telegram=True, publication=True)
        with pytest.raises(Refused, match="总期号应在"):
            add_series(session, unit, "要情通报", "连要情通报", publication=True, total_from=0)


def test_the_command_line_adds_a_publication_that_goes_on_counting(run, org, gongwen):
    added = run("numbers", "add-series", "市政府办公室", "要情通报", "连要情通报", "--publication",
                "--total-from", "88")
    assert added.exit_code == 0
    assert "连要情通报\t要情通报（内部刊物）" in run("numbers", "series", "市政府办公室").output
    with gongwen.db.write() as session:
        assert allocate(session, "连要情通报", TOTAL) == 88   # the next issue is 总第88期
    assert run("numbers", "add-series", "市政府办公室", "快报", "连快报", "--publication", "--telegram").exit_code == 1


def _one_page() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(100, 400, "one page")
    page.save()
    return buffer.getvalue()


def test_copies_of_an_odd_page_count_each_start_on_a_sheet_of_their_own():
    printed = print_copies(_one_page(), [1, 2])
    pages = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-", "-"], input=printed, capture_output=True,
                            check=True).stdout.decode().split() for n in (1, 2, 3, 4)]
    assert pages == [["000001", "one", "page"], [], ["000002", "one", "page"], []]
    for wrong in (0, 1_000_000):
        with pytest.raises(ValueError, match="份号应在"):
            copy_mark(wrong)


def test_the_drafter_previews_a_telegram_as_a_telegram_before_it_is_numbered(gongwen, sealed, deployed, app):
    org = sealed
    with gongwen.db.session() as session:
        telegram = next(s.id for s in unit_series(session, org.unit("city_office").id) if s.telegram)
    draft = start(gongwen, org.person("lyg.drafter"))
    client = logged_in(app, "lyg.drafter")
    task = task_of(gongwen, org.person("lyg.drafter"), "拟稿")
    answer = client.post(f"/documents/{draft.id}/preview", data={
        **NOTICE, "main_to": [org.unit("donghai_office").id], "series_id": telegram, "urgency": "urgent",
        "csrf_token": csrf_token(client, f"/tasks/{task.id}")})
    assert answer.status_code == 200
    text = _text(answer.data)
    assert "明传电报" in text and "加急·明电" in text and "文件" not in text
