"""The audit chain: whole after real work, and a changed or removed event is found."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.models import AuditEvent
from tests.support import audit_protection_lifted, ready_for


@pytest.fixture
def busy(gongwen, org, deployed):
    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id})
    (task,) = ready_for(gongwen, applicant)
    gongwen.runtime.complete(task.id, applicant.id, {"kind": "sick", "start_date": "2026-11-24",
                                                     "end_date": "2026-11-24", "reason": "发热"})
    with gongwen.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def _verify(gongwen):
    with gongwen.db.session() as s:
        return audit.verify(s)


def test_the_chain_is_whole_after_real_work(gongwen, busy):
    report = _verify(gongwen)
    assert report.whole and report.checked == busy > 50
    with gongwen.db.session() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"person.create", "role.grant", "definition.deploy", "instance.start", "task.complete"} <= actions


def test_the_database_refuses_to_change_or_delete_an_event(gongwen, busy):
    for statement in ("UPDATE audit_event SET action = 'x' WHERE id = 3", "DELETE FROM audit_event WHERE id = 3"):
        with pytest.raises(DBAPIError, match="append-only"), gongwen.db.write() as s:
            s.execute(text(statement))
    assert _verify(gongwen).whole


def test_an_edited_event_is_found(gongwen, busy):
    with gongwen.db.write() as s, audit_protection_lifted(s):
        s.execute(text("UPDATE audit_event SET action = 'login.ok' WHERE id = 20"))
    report = _verify(gongwen)
    assert (report.whole, report.broken_at, report.checked) == (False, 20, 19)
    assert "改动" in report.reason


def test_a_removed_event_is_found(gongwen, busy):
    with gongwen.db.write() as s, audit_protection_lifted(s):
        s.execute(text("DELETE FROM audit_event WHERE id = 30"))
    report = _verify(gongwen)
    assert (report.whole, report.broken_at) == (False, 31)
