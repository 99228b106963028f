"""收文登记簿 and 发文登记簿: a unit's registers as pages and as XLSX, matching the database, for those who
keep them and nobody else."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.models import AuditEvent
from handlers.documents.models import Document
from handlers.incoming.models import IncomingRecord
from tests.outgoing_support import act, send
from tests.support import logged_in

HANDLED = "连云港市人民政府办公室关于做好冬季安全生产工作的通知"
WAITING = "连云港市人民政府办公室关于开展消防安全检查的通知"


@pytest.fixture
def registers(gongwen, sealed, deployed):
    """Two notices from the city to 东海: the first handled and archived there, the second signed for only."""
    org = sealed
    send(gongwen, org, main_to=("donghai_office", "guanyun_office"))
    clerk, handler = org.person("dh.clerk"), org.person("dh.handler")
    act(gongwen, clerk, "签收", {"decision": "sign"})
    act(gongwen, clerk, "分办", {"lead_department": org.departments["donghai_general"].id, "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "由综合股办理"})
    act(gongwen, handler, "承办人决定下一步", {"next": "handle"})
    act(gongwen, handler, "办理", {"result": "已组织排查", "readers": []})
    act(gongwen, handler, "归档", {"retention": "Y"})
    send(gongwen, org, main_to=("donghai_office",), title=WAITING, urgency="urgent")
    act(gongwen, clerk, "签收", {"decision": "sign"})
    return org


def _sheet(answer) -> list[list]:
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(answer.data), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r and r[0] in ("收文号", "文号"))
    return [r for r in rows[header_at + 1:] if any(r)]


def test_the_incoming_register_lists_what_the_database_holds_and_exports_it(gongwen, registers, app):
    org, client = registers, logged_in(app, "dh.clerk")
    with gongwen.db.session() as session:
        records = session.scalars(select(IncomingRecord).where(
            IncomingRecord.unit_id == org.unit("donghai_office").id).order_by(IncomingRecord.seq.desc())).all()
        expected = [(r.incoming_number, session.get(Document, r.document_id).title) for r in records]
    assert len(expected) == 2
    page = client.get("/registers/incoming").get_data(as_text=True)
    assert "收文〔2026〕1号" in page and "收文〔2026〕2号" in page and HANDLED in page and WAITING in page
    rows = _sheet(client.get("/registers/incoming?format=xlsx"))
    assert [(r[0], r[4]) for r in rows] == expected
    assert [r[10] for r in rows] == ["办理中", "已归档"]  # the latest first: the second only signed for
    assert rows[1][2] == "连云港市人民政府办公室" and rows[1][6] == "综合股" and rows[0][5] == "加急"

    archived = _sheet(client.get("/registers/incoming?format=xlsx&state=archived"))
    assert [r[4] for r in archived] == [HANDLED]
    found = client.get("/registers/incoming?q=消防").get_data(as_text=True)
    assert WAITING in found and HANDLED not in found
    with gongwen.db.session() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "register.export")) is not None


def test_the_outgoing_register_counts_each_documents_signatures(gongwen, registers, app):
    rows = _sheet(logged_in(app, "lyg.clerk").get("/registers/outgoing?format=xlsx"))
    with gongwen.db.session() as session:
        numbers = session.scalars(select(Document.doc_number).order_by(Document.number_seq.desc())).all()
    assert [r[0] for r in rows] == numbers == ["连政办发〔2026〕2号", "连政办发〔2026〕1号"]
    # 东海 signed both; 灌云 has not answered the first yet
    assert [(r[9], r[10]) for r in rows] == [(1, 1), (2, 1)]
    assert {r[8] for r in rows} == {"已分发"} and rows[0][3] == "加急"


@pytest.mark.parametrize("login", ["dh.head", "lyg.drafter", "sysadmin", "secadmin", "auditor"])
def test_only_those_who_keep_the_register_may_open_it(registers, app, login):
    client = logged_in(app, login)
    for path in ("/registers/incoming", "/registers/outgoing?format=xlsx"):
        answer = client.get(path)
        assert answer.status_code == 404 and HANDLED not in answer.get_data(as_text=True)
    assert app.test_client().get("/registers/incoming").status_code == 302  # to the login page


def test_another_units_clerk_sees_only_their_own_register(registers, app):
    page = logged_in(app, "gy.clerk").get("/registers/incoming").get_data(as_text=True)
    assert "收文〔2026〕" not in page and "没有符合条件的收文" in page  # 灌云 never signed


@pytest.mark.parametrize("query", ["year=abc", "year=1999", "year=99999999999999999999", "state=lost",
                                   "q=" + "字" * 500, "q=%07bell", "year=2026&state=open&q=%25"])
def test_a_filter_the_page_did_not_offer_is_refused_in_words_and_the_register_still_shows(registers, app, query):
    answer = logged_in(app, "dh.clerk").get(f"/registers/incoming?{query}")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    if query.endswith("%25"):  # a percent sign is a word like any other, not a wildcard
        assert "没有符合条件的收文" in text
    else:
        assert "已按默认条件显示" in text and "收文〔2026〕1号" in text
