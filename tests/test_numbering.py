"""发文字号: concurrent allocation without gaps or duplicates; an administrator may skip ahead, never back."""

import threading

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from handlers.documents.models import DocType, NumberCounter
from handlers.documents.numbering import allocate, format_number, set_next


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
