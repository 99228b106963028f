"""What the busiest steps send to the database (issue 16).

On PostgreSQL every statement is a round trip on the step's critical path, and a leave completion or
a sign-for (every recipient of a document signs) runs all day. These tests list the statements of
each and check that the ones found redundant stay gone: a row read twice, a read before a write that
can be one statement, a savepoint around a handler that needs none.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from engine.db import is_sqlite
from handlers.exchange.models import Receipt, ReceiptStatus
from tests.outgoing_support import send, task_of
from tests.support import ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def statements_of(gongwen, step: Callable[[], None]) -> list[str]:
    """The SQL of every statement ``step`` sends, one line each."""
    sent: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(gongwen.db.engine, "before_cursor_execute", capture)
    try:
        step()
    finally:
        event.remove(gongwen.db.engine, "before_cursor_execute", capture)
    return sent


def test_a_leave_completion_reads_its_task_and_locks_its_instance_in_one_statement(gongwen, org):
    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id}, title="请假")
    (task,) = ready_for(gongwen, applicant)

    sent = statements_of(gongwen, lambda: gongwen.runtime.complete(task.id, applicant.id, {
        "kind": "annual", "start_date": "2026-11-24", "end_date": "2026-11-25", "reason": "探亲"}))

    reads = [s for s in sent if s.startswith("SELECT") and "FROM process_instance" in s]
    assert len(reads) == 1 and "JOIN task" in reads[0]
    if not is_sqlite(gongwen.db.engine):
        assert "FOR UPDATE OF process_instance" in reads[0]
    assert not [s for s in sent if "SAVEPOINT" in s]  # counting leave days writes nothing
    (review,) = [t for t in ready_for(gongwen, org.person("lyg.head")) if t.name == "部门负责人审批"]
    assert review.instance_id == task.instance_id


def test_a_sign_for_reads_each_row_once_and_writes_without_reading_first(gongwen, sealed, fixed_clock):
    org = sealed
    sent_document = send(gongwen, org, main_to=("donghai_office", "guanyun_office", "guannan_office"))
    fixed_clock.advance(timedelta(minutes=5))
    first = org.person("gy.clerk")  # builds the verifier of the current trust material, as a server's first does
    gongwen.runtime.complete(task_of(gongwen, first, "签收").id, first.id, {"decision": "sign"})
    clerk = org.person("dh.clerk")
    task = task_of(gongwen, clerk, "签收")

    sent = statements_of(gongwen, lambda: gongwen.runtime.complete(task.id, clerk.id, {"decision": "sign"}))

    assert len([s for s in sent if "FROM document " in s]) == 1  # locked once, and kept in the session
    assert len([s for s in sent if "certificate_authority" in s or "timestamp_authority" in s]) == 1
    assert len([s for s in sent if "number_counter" in s]) == 1
    assert not [s for s in sent if s.startswith("SELECT") and "FROM receipt " in s and "count(" not in s]
    assert not [s for s in sent if "SAVEPOINT" in s]
    assert len(sent) <= 18  # 28 on PostgreSQL before issue 16
    with gongwen.db.session() as session:
        receipt = session.scalar(select(Receipt).where(Receipt.document_id == sent_document.id,
                                                       Receipt.unit_id == org.unit("donghai_office").id))
        assert receipt.status == ReceiptStatus.SIGNED and receipt.verification["ok"]
        assert receipt.signed_by_id == clerk.id


def _start_leaves(gongwen, org, count: int, transaction) -> list[int]:
    applicant = org.person("lyg.drafter")
    with transaction() as session, gongwen.runtime.batch(session, count):
        return [gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                                      data={"department_id": applicant.department_id}, title=f"请假{i}",
                                      session=session)
                for i in range(count)]


def test_a_batch_of_starts_writes_its_instances_in_one_statement_on_both_databases(gongwen, org):
    started: list[int] = []
    sent = statements_of(gongwen, lambda: started.extend(_start_leaves(gongwen, org, 5, gongwen.db.write)))

    assert len([s for s in sent if s.startswith("INSERT INTO process_instance")]) == 1
    applicant = org.person("lyg.drafter")
    mine = [t.instance_id for t in ready_for(gongwen, applicant) if t.name == "填写请假单"]
    assert sorted(mine) == sorted(started) and len(set(started)) == 5


def test_a_batch_outside_a_write_transaction_still_gives_each_instance_its_own_id(gongwen, org):
    first = _start_leaves(gongwen, org, 2, gongwen.db.write)
    later = _start_leaves(gongwen, org, 3, gongwen.db.session)

    assert len(set(first + later)) == 5
    applicant = org.person("lyg.drafter")
    assert len([t for t in ready_for(gongwen, applicant) if t.name == "填写请假单"]) == 5
