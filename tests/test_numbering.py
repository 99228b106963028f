"""发文字号: concurrent allocation without gaps or duplicates; an administrator may skip ahead, never back;
a unit's series (函, 明电) number in their own counters."""

import threading

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Refused
from engine.models import Unit
from handlers.documents.models import DocType, NumberCounter
from handlers.documents.numbering import add_series, allocate, format_number, retire_series, set_next, unit_series
from tests.outgoing_support import NOTICE, act, document, start, task_of
from tests.support import csrf_token, logged_in


def test_the_number_has_the_standard_form():
    assert format_number("连政办发", 2026, 107, DocType.NOTICE) == "连政办发〔2026〕107号"
    assert format_number("连政发", 2026, 3, DocType.ORDER) == "第3号"


def test_eight_workers_take_two_thousand_numbers_without_gap_or_duplicate(gongwen):
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[Exception] = []

    def worker():
        try:
            for _ in range(250):
                with gongwen.db.write() as session:
                    seq = allocate(session, "连政办发", 2026)
                with lock:
                    taken.append(seq)
        except Exception as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 2001))


def test_a_rolled_back_allocation_leaves_no_gap(gongwen):
    with pytest.raises(RuntimeError), gongwen.db.write() as session:
        allocate(session, "东政办发", 2026)
        raise RuntimeError("the step failed after numbering")
    with gongwen.db.write() as session:
        assert allocate(session, "东政办发", 2026) == 1


def test_the_next_number_may_move_forward_but_never_back(gongwen):
    with gongwen.db.write() as session:
        for _ in range(5):
            allocate(session, "灌政办发", 2026)
    with gongwen.db.write() as session:
        set_next(session, "灌政办发", 2026, 100)
    with gongwen.db.write() as session:
        assert allocate(session, "灌政办发", 2026) == 100
    with pytest.raises(Conflict, match="已用到第 100 号"), gongwen.db.write() as session:
        set_next(session, "灌政办发", 2026, 50)
    with gongwen.db.session() as session:
        assert session.scalar(select(NumberCounter.next_seq).where(NumberCounter.code == "灌政办发")) == 101


def _signed_off(gongwen, org, drafter: str = "lyg.drafter", document_id: int | None = None, **changes) -> str:
    """A notice (or what ``changes`` make of it) drafted, reviewed and signed off: its 发文字号.

    ``document_id``: a document already started, waiting at 拟稿."""
    author = org.person(drafter)
    document_id = document_id or start(gongwen, author).id
    act(gongwen, author, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id], **changes})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    return document(gongwen, document_id).doc_number


def test_a_letter_and_a_telegram_are_numbered_in_their_own_series(gongwen, sealed, deployed):
    org = sealed
    with gongwen.db.session() as session:
        telegram = next(s.id for s in unit_series(session, org.unit("city_office").id) if s.telegram)
    assert _signed_off(gongwen, org) == "连政办发〔2026〕1号"
    letter = {"doc_type": "letter", "direction": "parallel", "title": "连云港市人民政府办公室关于商请提供数据的函"}
    assert _signed_off(gongwen, org, **letter) == "连政办函〔2026〕1号"  # the 函 series, not 连政办发
    draft = start(gongwen, org.person("lyg.drafter")).id
    with pytest.raises(Refused, match="明传电报须标注紧急程度"):  # a 明电 goes out as an urgent one
        act(gongwen, org.person("lyg.drafter"), "拟稿",
            {**NOTICE, "main_to": [org.unit("donghai_office").id], "series_id": telegram})
    telegram_number = _signed_off(gongwen, org, document_id=draft, series_id=telegram, urgency="urgent")
    assert telegram_number == "连政办发明电〔2026〕1号"
    assert _signed_off(gongwen, org) == "连政办发〔2026〕2号"  # the main series went on without a gap


def test_a_drafter_is_offered_only_the_series_of_their_own_unit(gongwen, sealed, deployed, app):
    org = sealed
    with gongwen.db.session() as session:
        city_letter = next(s.id for s in unit_series(session, org.unit("city_office").id) if s.name == "函")
    drafter = org.person("dh.drafter")
    document_id = start(gongwen, drafter).id
    task = task_of(gongwen, drafter, "拟稿")
    client = logged_in(app, "dh.drafter")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "发文字号系列" not in page  # 东海 keeps no series beside its main one: nothing to choose
    answer = client.post(f"/tasks/{task.id}", data={
        **NOTICE, "main_to": [org.unit("city_office").id], "series_id": city_letter,
        "csrf_token": csrf_token(client, f"/tasks/{task.id}")})
    assert answer.status_code == 422 and "不是可选的值" in answer.get_data(as_text=True)
    assert document(gongwen, document_id).series_id is None and task_of(gongwen, drafter, "拟稿").id == task.id

    city = logged_in(app, "lyg.drafter")
    start(gongwen, org.person("lyg.drafter"))
    page = city.get(f"/tasks/{task_of(gongwen, org.person('lyg.drafter'), '拟稿').id}").get_data(as_text=True)
    assert "函（连政办函）" in page and "明电（连政办发明电）" in page


def test_a_series_code_is_never_shared_and_a_retired_series_stops_numbering(gongwen, sealed, deployed):
    org = sealed
    with pytest.raises(Conflict, match="已由东海县人民政府办公室使用"), gongwen.db.write() as session:
        add_series(session, session.get(Unit, org.unit("city_office").id), "字", "东政办发")
    with pytest.raises(Conflict, match="函已归入"), gongwen.db.write() as session:
        add_series(session, session.get(Unit, org.unit("city_office").id), "便函", "连政办便函", ["letter"])
    with gongwen.db.write() as session:
        for series in unit_series(session, org.unit("city_office").id):
            retire_series(session, series)
    letter = {"doc_type": "letter", "direction": "parallel", "title": "连云港市人民政府办公室关于商请提供数据的函"}
    assert _signed_off(gongwen, org, **letter) == "连政办发〔2026〕1号"  # back in the main series
    with pytest.raises(Conflict, match="已由连云港市人民政府办公室使用"), gongwen.db.write() as session:
        add_series(session, session.get(Unit, org.unit("donghai_office").id), "函", "连政办函")
